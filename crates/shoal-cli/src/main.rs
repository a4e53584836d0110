//! `shoal`: the headless Shoal client, a thin layer over `shoal-replica`.
//!
//! Exit codes: 0 success, 1 error, 2 usage error (from clap), 3 reply
//! refused by the send guard.

mod args;
mod commands;
mod credentials;
mod home;
mod render;
mod time_input;

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let mut out = render::TerminalSafe(std::io::stdout().lock());
    let result = commands::run(cli, &mut out).and_then(|()| Ok(out.flush()?));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report(&err),
    }
}

/// Prints `error: …` and the causes that add something, and picks the exit code.
fn report(err: &anyhow::Error) -> ExitCode {
    // Whoever read our output went away (`shoal export | head`): nothing to say.
    if err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    }) {
        return ExitCode::SUCCESS;
    }
    let mut stderr = render::TerminalSafe(std::io::stderr().lock());
    let mut previous = err.to_string();
    let _ = writeln!(stderr, "error: {previous}");
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        // Wrappers like "storage error: {0}" already include their source.
        if !previous.contains(&text) {
            let _ = writeln!(stderr, "  caused by: {text}");
        }
        previous = text;
    }
    let code = err
        .downcast_ref::<commands::Refusal>()
        .map_or(1, |refusal| refusal.code);
    ExitCode::from(code)
}
