//! Benchmark hooks for `shoal-bench desktop` (docs/benchmarks.md, "Desktop app").
//!
//! Inert unless the environment variable [`ENV`] is set: `bench_enabled` then
//! returns true, and the UI (ui/src/lib/bench.ts) reports what it measured
//! through `bench_mark` and `bench_report`, which print one line each on
//! stdout for the driver to read:
//!
//! ```text
//! SHOAL-BENCH mark interactive 812.4
//! SHOAL-BENCH report {"open_ms":[...],"search_ms":[...]}
//! ```
//!
//! Marks are milliseconds since [`process_started`], which `main` calls first.

use std::io::Write;
use std::sync::OnceLock;
use std::time::Instant;

/// Set (to anything non-empty) to turn the hooks on.
pub const ENV: &str = "SHOAL_DESKTOP_BENCH";

/// Prefix of every line the hooks print.
pub const PREFIX: &str = "SHOAL-BENCH";

static STARTED: OnceLock<Instant> = OnceLock::new();

/// Records the process start; call it as the first line of `main` so marks
/// include Tauri's and WebKit's start-up.
pub fn process_started() {
    STARTED.get_or_init(Instant::now);
}

/// Whether the benchmark hooks are on.
pub fn enabled() -> bool {
    std::env::var_os(ENV).is_some_and(|v| !v.is_empty())
}

fn since_start_ms() -> f64 {
    // Without process_started() the clock starts at the first mark: the
    // figure is then meaningless, which the driver sees as a near-zero mark.
    STARTED.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

/// The `mark` line, or why the name is refused (the driver splits on spaces).
fn mark_line(name: &str, ms: f64) -> Result<String, String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if !ok {
        return Err(format!(
            "bench mark name `{name}` must be 1–64 characters of [A-Za-z0-9._-]"
        ));
    }
    Ok(format!("{PREFIX} mark {name} {ms:.1}"))
}

/// The `report` line: compact JSON, so always one line.
fn report_line(report: &serde_json::Value) -> String {
    format!("{PREFIX} report {report}")
}

fn print_line(line: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|_| out.flush())
        .map_err(|e| format!("cannot write the benchmark line: {e}"))
}

fn off() -> String {
    format!("benchmark hooks are off (set {ENV})")
}

/// Whether the UI should run its benchmark (docs/benchmarks.md).
#[tauri::command]
pub fn bench_enabled() -> bool {
    enabled()
}

/// Prints `SHOAL-BENCH mark <name> <ms since process start>`.
#[tauri::command]
pub fn bench_mark(name: String) -> Result<(), String> {
    if !enabled() {
        return Err(off());
    }
    print_line(&mark_line(&name, since_start_ms())?)
}

/// Prints `SHOAL-BENCH report <json>` on one line.
#[tauri::command]
pub fn bench_report(report: serde_json::Value) -> Result<(), String> {
    if !enabled() {
        return Err(off());
    }
    print_line(&report_line(&report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mark_lines_are_one_token_per_field() {
        assert_eq!(
            mark_line("interactive", 812.44).unwrap(),
            "SHOAL-BENCH mark interactive 812.4"
        );
        assert!(mark_line("", 1.0).is_err());
        assert!(mark_line("two words", 1.0).is_err());
        assert!(mark_line("line\nbreak", 1.0).is_err());
        assert!(mark_line(&"x".repeat(65), 1.0).is_err());
    }

    #[test]
    fn reports_stay_on_one_line() {
        let v = serde_json::json!({"open_ms": [1.5, 2.0], "note": "a\nb"});
        let line = report_line(&v);
        assert!(!line.contains('\n'));
        let json = line.strip_prefix("SHOAL-BENCH report ").unwrap();
        assert_eq!(serde_json::from_str::<serde_json::Value>(json).unwrap(), v);
    }

    #[test]
    fn the_clock_runs_from_process_start() {
        process_started();
        let a = since_start_ms();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(since_start_ms() >= a + 4.0);
    }
}
