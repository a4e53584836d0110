//! The replica benchmark: a synthetic team imported into a real replica file.

use crate::measure::{drop_page_cache, ms, peak_rss_mib, percentile, reset_peak_rss};
use anyhow::{Context, Result};
use serde::Serialize;
use shoal_core::DocKind;
use shoal_replica::{InboxQuery, InboxView, Replica, SystemClock};
use shoal_synth::{customer_text_bytes, raw_text_bytes, SynthConfig};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Timings one fresh process reports for opening the replica.
#[derive(Serialize, serde::Deserialize)]
struct OpenTimings {
    /// Replica::open.
    open_ms: f64,
    /// Open plus the first 50-row inbox page (by last activity).
    first_page_ms: f64,
    /// From process start to the first page, including process set-up.
    since_process_start_ms: f64,
    rows: usize,
}

#[derive(Serialize)]
struct Figures {
    benchmark: &'static str,
    build: &'static str,
    scale: f64,
    conversations: usize,
    messages: usize,
    customers: usize,
    generate_s: f64,
    import_s: f64,
    import_docs_per_s: f64,
    import_peak_rss_mib: Option<f64>,
    raw_text_mib: f64,
    file_mib: f64,
    file_to_raw_ratio: f64,
    page_cache_dropped: bool,
    cold_open_first_page_ms_median: f64,
    cold_open_process_ms_median: f64,
    cold_open_runs: Vec<f64>,
    search_queries: usize,
    search_cold_p50_ms: f64,
    search_cold_p95_ms: f64,
    search_p50_ms: f64,
    search_p95_ms: f64,
    search_max_ms: f64,
    search_mean_hits: f64,
    targets: Targets,
}

#[derive(Serialize)]
struct Targets {
    first_inbox_page_ms: f64,
    search_p95_ms: f64,
    file_to_raw_ratio: f64,
    import_peak_rss_mib: f64,
}

/// Generates the team, imports it, measures, prints and writes the figures.
pub fn run(scale: f64, out: &Path, dir: Option<&Path>, open_runs: usize) -> Result<()> {
    let cfg = SynthConfig::benchmark().scaled(scale);
    let tmp = tempfile_dir(dir)?;
    let path = tmp.join("bench-replica.sqlite3");
    let _ = std::fs::remove_file(&path);
    eprintln!(
        "replica benchmark: {} conversations, {} messages, {} customers → {}",
        cfg.conversations,
        cfg.messages,
        cfg.customers,
        path.display()
    );

    // Generate every document first so the import is measured on its own.
    let started = Instant::now();
    let team = shoal_synth::team(&cfg);
    let raw_bytes: usize = shoal_synth::conversations(&cfg)
        .map(|c| raw_text_bytes(&team, &c))
        .sum::<usize>()
        + team
            .customers
            .iter()
            .map(customer_text_bytes)
            .sum::<usize>();
    let (ids, docs) = shoal_synth::documents(&cfg);
    let spool = spool_documents(&tmp, docs)?;
    let generate = started.elapsed();
    eprintln!(
        "generated {} documents in {:.1} s",
        spool.count,
        generate.as_secs_f64()
    );

    let rss_reset = reset_peak_rss();
    let started = Instant::now();
    let mut replica =
        Replica::create_empty(&path, &ids.team, &ids.agents[0], Arc::new(SystemClock))?;
    let total = spool.count;
    replica.merge_documents(spool.read()?, 1_000, &mut |done| {
        if done % 10_000 == 0 || done == total {
            eprintln!("  imported {done}/{total}");
        }
    })?;
    replica.checkpoint()?;
    let import = started.elapsed();
    let import_rss = if rss_reset { peak_rss_mib() } else { None };
    let file_bytes = replica.stats()?.file_bytes;
    let conversations = replica.doc_ids(Some(DocKind::Conversation))?.len();
    drop(replica);
    std::fs::remove_file(&spool.path).ok();

    let mut dropped = true;
    let mut runs: Vec<OpenTimings> = Vec::new();
    for _ in 0..open_runs.max(1) {
        dropped &= drop_page_cache();
        let output = Command::new(std::env::current_exe()?)
            .args(["open-inbox", "--path"])
            .arg(&path)
            .output()
            .context("running the cold-open probe")?;
        anyhow::ensure!(
            output.status.success(),
            "open probe failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        runs.push(serde_json::from_slice(&output.stdout)?);
    }
    let first_page: Vec<Duration> = runs
        .iter()
        .map(|r| Duration::from_secs_f64(r.first_page_ms / 1000.0))
        .collect();
    let process: Vec<Duration> = runs
        .iter()
        .map(|r| Duration::from_secs_f64(r.since_process_start_ms / 1000.0))
        .collect();

    // First pass right after a cold open (pages come from disk), then the
    // measured pass as an agent searching all day sees it (warm cache).
    let replica = Replica::open(&path)?;
    let queries = shoal_synth::search_queries(&cfg, 100);
    let mut cold = Vec::with_capacity(queries.len());
    for q in &queries {
        let t = Instant::now();
        replica.search(q, false, 20)?;
        cold.push(t.elapsed());
    }
    let mut latencies = Vec::with_capacity(queries.len());
    let mut hits = 0usize;
    for q in &queries {
        let t = Instant::now();
        hits += replica.search(q, false, 20)?.len();
        latencies.push(t.elapsed());
    }

    let figures = Figures {
        benchmark: "replica",
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        scale,
        conversations,
        messages: cfg.messages,
        customers: cfg.customers,
        generate_s: generate.as_secs_f64(),
        import_s: import.as_secs_f64(),
        import_docs_per_s: total as f64 / import.as_secs_f64(),
        import_peak_rss_mib: import_rss,
        raw_text_mib: raw_bytes as f64 / 1_048_576.0,
        file_mib: file_bytes as f64 / 1_048_576.0,
        file_to_raw_ratio: file_bytes as f64 / raw_bytes as f64,
        page_cache_dropped: dropped,
        cold_open_first_page_ms_median: ms(percentile(&first_page, 50.0)),
        cold_open_process_ms_median: ms(percentile(&process, 50.0)),
        cold_open_runs: runs.iter().map(|r| r.first_page_ms).collect(),
        search_queries: queries.len(),
        search_cold_p50_ms: ms(percentile(&cold, 50.0)),
        search_cold_p95_ms: ms(percentile(&cold, 95.0)),
        search_p50_ms: ms(percentile(&latencies, 50.0)),
        search_p95_ms: ms(percentile(&latencies, 95.0)),
        search_max_ms: ms(percentile(&latencies, 100.0)),
        search_mean_hits: hits as f64 / queries.len().max(1) as f64,
        targets: Targets {
            first_inbox_page_ms: 1000.0,
            search_p95_ms: 30.0,
            file_to_raw_ratio: 2.0,
            import_peak_rss_mib: 300.0,
        },
    };
    print_table(&figures);
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(out, serde_json::to_string_pretty(&figures)? + "\n")?;
    eprintln!("figures written to {}", out.display());
    if dir.is_none() {
        std::fs::remove_dir_all(&tmp).ok();
    }
    Ok(())
}

fn print_table(f: &Figures) {
    let check = |ok: bool| if ok { "ok" } else { "MISSED" };
    println!("\nreplica benchmark ({} build, scale {})", f.build, f.scale);
    println!("{:<38} {:>14}  {:>10}", "measure", "value", "target");
    let row = |name: &str, value: String, target: String, ok: Option<bool>| {
        println!(
            "{name:<38} {value:>14}  {target:>10}  {}",
            ok.map(check).unwrap_or("")
        );
    };
    row(
        "conversations / messages",
        format!("{} / {}", f.conversations, f.messages),
        String::new(),
        None,
    );
    row(
        "generate documents",
        format!("{:.1} s", f.generate_s),
        String::new(),
        None,
    );
    row(
        "import",
        format!("{:.1} s", f.import_s),
        String::new(),
        None,
    );
    row(
        "import rate",
        format!("{:.0} docs/s", f.import_docs_per_s),
        String::new(),
        None,
    );
    match f.import_peak_rss_mib {
        Some(rss) => row(
            "peak RSS during import",
            format!("{rss:.0} MiB"),
            "< 300 MiB".into(),
            Some(rss < 300.0),
        ),
        None => row(
            "peak RSS during import",
            "n/a".into(),
            "< 300 MiB".into(),
            None,
        ),
    }
    row(
        "raw text",
        format!("{:.0} MiB", f.raw_text_mib),
        String::new(),
        None,
    );
    row(
        "replica file",
        format!("{:.0} MiB", f.file_mib),
        String::new(),
        None,
    );
    row(
        "file / raw text",
        format!("{:.2}×", f.file_to_raw_ratio),
        "< 2×".into(),
        Some(f.file_to_raw_ratio < 2.0),
    );
    let cold = if f.page_cache_dropped {
        "cold"
    } else {
        "warm cache"
    };
    row(
        &format!("open → first inbox page ({cold}, median)"),
        format!("{:.1} ms", f.cold_open_first_page_ms_median),
        "< 1000 ms".into(),
        Some(f.cold_open_first_page_ms_median < 1000.0),
    );
    row(
        "  same, from process start",
        format!("{:.1} ms", f.cold_open_process_ms_median),
        String::new(),
        None,
    );
    row(
        "search p50 / p95, first pass (cold cache)",
        format!(
            "{:.1} / {:.1} ms",
            f.search_cold_p50_ms, f.search_cold_p95_ms
        ),
        String::new(),
        None,
    );
    row(
        "search p50 (warm)",
        format!("{:.2} ms", f.search_p50_ms),
        String::new(),
        None,
    );
    row(
        "search p95 (warm)",
        format!("{:.2} ms", f.search_p95_ms),
        "< 30 ms".into(),
        Some(f.search_p95_ms < 30.0),
    );
    row(
        "search max",
        format!("{:.2} ms", f.search_max_ms),
        String::new(),
        None,
    );
    row(
        "hits per query (limit 20)",
        format!("{:.1}", f.search_mean_hits),
        String::new(),
        None,
    );
}

/// Runs in a fresh process: open the replica and read the first inbox page.
pub fn open_inbox(path: &Path, process_start: Instant) -> Result<()> {
    let t = Instant::now();
    let replica = Replica::open(path)?;
    let opened = t.elapsed();
    let rows = replica.inbox(&InboxQuery::view(InboxView::All))?.len();
    let first_page = t.elapsed();
    let timings = OpenTimings {
        open_ms: ms(opened),
        first_page_ms: ms(first_page),
        since_process_start_ms: ms(process_start.elapsed()),
        rows,
    };
    println!("{}", serde_json::to_string(&timings)?);
    Ok(())
}

fn tempfile_dir(dir: Option<&Path>) -> Result<std::path::PathBuf> {
    let d = match dir {
        Some(d) => d.to_owned(),
        None => std::env::temp_dir().join(format!("shoal-bench-{}", std::process::id())),
    };
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

/// Generated documents on disk (length-prefixed), so generation and import
/// are measured apart without holding the whole team in memory.
struct Spool {
    path: std::path::PathBuf,
    count: usize,
}

fn spool_documents(
    dir: &Path,
    docs: impl Iterator<Item = (shoal_core::DocId, Vec<u8>)>,
) -> Result<Spool> {
    use std::io::Write;
    let path = dir.join("documents.spool");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let mut count = 0;
    for (id, bytes) in docs {
        let id = id.to_string();
        w.write_all(&(id.len() as u32).to_le_bytes())?;
        w.write_all(id.as_bytes())?;
        w.write_all(&(bytes.len() as u32).to_le_bytes())?;
        w.write_all(&bytes)?;
        count += 1;
    }
    w.flush()?;
    Ok(Spool { path, count })
}

impl Spool {
    fn read(&self) -> Result<impl Iterator<Item = (shoal_core::DocId, Vec<u8>)>> {
        use std::io::Read;
        let mut r = std::io::BufReader::new(std::fs::File::open(&self.path)?);
        let next = move || -> Option<(shoal_core::DocId, Vec<u8>)> {
            let mut len = [0u8; 4];
            r.read_exact(&mut len).ok()?;
            let mut id = vec![0u8; u32::from_le_bytes(len) as usize];
            r.read_exact(&mut id).ok()?;
            r.read_exact(&mut len).ok()?;
            let mut bytes = vec![0u8; u32::from_le_bytes(len) as usize];
            r.read_exact(&mut bytes).ok()?;
            Some((
                shoal_core::DocId::parse(std::str::from_utf8(&id).ok()?).ok()?,
                bytes,
            ))
        };
        Ok(std::iter::from_fn(next))
    }
}
