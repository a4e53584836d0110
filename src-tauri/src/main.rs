//! `shoal-desktop`: the Tauri 2 shell around the shoal-app engine. Thin on
//! purpose: every command delegates to [`shoal_app::Engine`], every engine
//! event is forwarded to the window, and notifications go through
//! notify-rust.

mod bench;
mod commands;
mod notifications;

use anyhow::{Context, Result};
use clap::Parser;
use shoal_app::{AppEvent, Engine, EventSink};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use tauri::{Emitter, Manager};

/// Shoal: the shared inbox for small support teams.
#[derive(Parser, Debug)]
#[command(name = "shoal-desktop", version, about)]
struct Args {
    /// Where the replica lives (default: $XDG_DATA_HOME/shoal or ~/.local/share/shoal).
    #[arg(long, env = "SHOAL_HOME", value_name = "DIR")]
    home: Option<PathBuf>,
}

/// Forwards engine events to the window once the app handle exists.
struct TauriSink {
    app: OnceLock<tauri::AppHandle>,
    /// Events emitted before the window existed (startup status).
    early: std::sync::Mutex<Vec<AppEvent>>,
}

impl TauriSink {
    fn deliver(app: &tauri::AppHandle, event: AppEvent) {
        match event {
            AppEvent::Notify(n) => notifications::show(app.clone(), n),
            other => {
                if let Err(e) = app.emit(other.name(), &other) {
                    tracing::warn!("cannot emit {}: {e}", other.name());
                }
            }
        }
    }

    fn attach(&self, app: tauri::AppHandle) {
        let early: Vec<AppEvent> = std::mem::take(&mut *self.early.lock().unwrap());
        for e in early {
            Self::deliver(&app, e);
        }
        let _ = self.app.set(app);
    }
}

impl EventSink for TauriSink {
    fn emit(&self, event: AppEvent) {
        match self.app.get() {
            Some(app) => Self::deliver(app, event),
            None => self.early.lock().unwrap().push(event),
        }
    }
}

fn main() -> Result<()> {
    bench::process_started();
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SHOAL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    // WebKit's compositing costs ~60 MB and buys nothing for a list and a thread.
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    let home = shoal_app::home::resolve(args.home).context("cannot choose a home directory")?;
    let sink = Arc::new(TauriSink {
        app: OnceLock::new(),
        early: std::sync::Mutex::new(Vec::new()),
    });
    let engine = Arc::new(
        Engine::open(&home, sink.clone())
            .with_context(|| format!("cannot open the workspace in {}", home.display()))?,
    );
    tracing::info!(home = %home.display(), "starting");

    let app = tauri::Builder::default()
        .manage(engine.clone())
        .invoke_handler(commands::handler())
        .setup(move |app| {
            sink.attach(app.handle().clone());
            let engine = engine.clone();
            // Joining talks to the relay: never on the main thread.
            tauri::async_runtime::spawn_blocking(move || {
                if let Some(result) = engine.join_from_env() {
                    match result {
                        Ok(_) => tracing::info!("joined the team from SHOAL_JOIN_RELAY"),
                        Err(e) => tracing::error!("cannot join from SHOAL_JOIN_RELAY: {e}"),
                    }
                }
            });
            Ok(())
        })
        .build(tauri::generate_context!())
        .context("cannot start the window")?;
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event {
            if let Some(engine) = handle.try_state::<Arc<Engine>>() {
                engine.shutdown();
            }
        }
    });
    Ok(())
}
