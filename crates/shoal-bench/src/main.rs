//! `shoal-bench`: Shoal's benchmarks. Each prints a table and writes its
//! figures as JSON; docs/benchmarks.md keeps the latest full-size run.

mod desktop_bench;
mod measure;
mod reconnect_bench;
mod relay_bench;
mod replica_bench;
mod typing_bench;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "shoal-bench",
    version,
    about = "Benchmarks for Shoal (run release builds for real figures)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Local replica at team scale: import, file size, cold open to the first
    /// inbox page, search latency, peak memory.
    Replica {
        /// Fraction of the default team (50,000 conversations, 500,000
        /// messages, 10,000 customers); e.g. 0.01 for a smoke run.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Where to write the JSON figures.
        #[arg(long, default_value = "bench-results/replica.json")]
        out: PathBuf,
        /// Directory for the replica file (default: a temporary directory).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Cold-open runs to take the median of.
        #[arg(long, default_value_t = 5)]
        open_runs: usize,
    },
    /// Relay against many clients on 127.0.0.1: propagation latency from one
    /// client to all others, and relay memory with many idle connections.
    /// Needs `shoal-relay` built next to this binary.
    Relay {
        /// Connected clients during the propagation measurement.
        #[arg(long, default_value_t = 50)]
        clients: usize,
        /// Changes sent by the writing client.
        #[arg(long, default_value_t = 200)]
        changes: usize,
        /// Conversations both agents share in the convergence measurement.
        #[arg(long, default_value_t = 200)]
        conversations: usize,
        /// Offline edits each agent makes before reconnecting.
        #[arg(long, default_value_t = 1000)]
        edits: usize,
        /// Agent counts of the typing-load ladder, tried in order until one
        /// does not hold (0: skip).
        #[arg(long, value_delimiter = ',', default_value = "100,200,250,300,400")]
        typing: Vec<usize>,
        /// Seconds each typing step lasts.
        #[arg(long, default_value_t = 10)]
        typing_seconds: u64,
        /// Conversations of the team in the reconnect measurement (0: skip).
        #[arg(long, default_value_t = 50_000)]
        team_conversations: usize,
        /// Conversations another agent changes before each reconnect.
        #[arg(long, default_value_t = 20)]
        changed: usize,
        /// Reconnects measured (the median is reported).
        #[arg(long, default_value_t = 5)]
        reconnects: usize,
        /// Idle connections for the memory measurement.
        #[arg(long, default_value_t = 1000)]
        idle_clients: usize,
        /// Where to write the JSON figures.
        #[arg(long, default_value = "bench-results/relay.json")]
        out: PathBuf,
    },
    /// The desktop app (`shoal-desktop`) under Xvfb on a team-sized replica:
    /// cold start to an interactive inbox, opening conversations, search per
    /// keystroke, and the memory of all its processes (WebKit's included).
    /// Needs xvfb-run and dbus-run-session.
    Desktop {
        /// Fraction of the default team (50,000 conversations, 500,000
        /// messages); e.g. 0.01 for a smoke run.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// App launches to measure.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// The desktop binary (default: shoal-desktop next to this binary).
        #[arg(long)]
        binary: Option<PathBuf>,
        /// Seconds the app idles after its report before its memory is read.
        #[arg(long, default_value_t = 5)]
        idle_secs: u64,
        /// Longest wait for one launch to report, in seconds.
        #[arg(long, default_value_t = 300)]
        timeout_secs: u64,
        /// Keep the page cache between launches (a warm start).
        #[arg(long)]
        warm: bool,
        /// Where the generated replica is kept for later runs (default:
        /// bench-cache/ in the target directory of this binary).
        #[arg(long)]
        cache: Option<PathBuf>,
        /// Where to write the JSON figures.
        #[arg(long, default_value = "bench-results/desktop.json")]
        out: PathBuf,
    },
    /// (Internal) open a replica and read the first inbox page, printing the
    /// timings as JSON; run as a fresh process by `replica` to measure a cold open.
    #[command(hide = true)]
    OpenInbox {
        /// The replica file.
        #[arg(long)]
        path: PathBuf,
    },
}

fn main() -> Result<()> {
    let started = std::time::Instant::now();
    match Cli::parse().command {
        Command::Replica {
            scale,
            out,
            dir,
            open_runs,
        } => replica_bench::run(scale, &out, dir.as_deref(), open_runs),
        Command::Relay {
            clients,
            changes,
            conversations,
            edits,
            typing,
            typing_seconds,
            team_conversations,
            changed,
            reconnects,
            idle_clients,
            out,
        } => relay_bench::run(
            &relay_bench::RelayOptions {
                clients,
                changes,
                conversations,
                edits,
                typing: typing.into_iter().filter(|n| *n > 0).collect(),
                typing_seconds,
                team_conversations,
                changed,
                reconnects,
                idle_clients,
            },
            &out,
        ),
        Command::Desktop {
            scale,
            runs,
            binary,
            idle_secs,
            timeout_secs,
            warm,
            cache,
            out,
        } => {
            let exe = std::env::current_exe()?;
            let dir = exe
                .parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default();
            let cache = match cache {
                Some(c) => c,
                // target/<profile>/shoal-bench → target/bench-cache
                None => dir.parent().unwrap_or(&dir).join("bench-cache"),
            };
            desktop_bench::run(
                &desktop_bench::DesktopOptions {
                    scale,
                    runs,
                    binary: binary.unwrap_or_else(|| dir.join("shoal-desktop")),
                    idle_secs,
                    timeout_secs,
                    warm,
                    cache,
                },
                &out,
            )
        }
        Command::OpenInbox { path } => replica_bench::open_inbox(&path, started),
    }
}
