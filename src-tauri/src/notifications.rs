//! Desktop notifications through notify-rust (the freedesktop D-Bus API).

use shoal_app::{Engine, Notification};
use std::sync::Arc;
use tauri::Manager;

/// Shows `n`; a click on it shows and focuses the main window and asks the
/// UI to open the conversation. Each notification is logged (one stderr
/// line with the server's id) so tests can correlate clicks.
pub fn show(app: tauri::AppHandle, n: Notification) {
    // Waiting for the action blocks: one short-lived thread per notification.
    std::thread::spawn(move || {
        let handle = match notify_rust::Notification::new()
            .appname("Shoal")
            .summary(&n.summary)
            .body(&shoal_app::escape_markup(&n.body))
            .action("default", "Open")
            .show()
        {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!("cannot show a notification: {e}");
                return;
            }
        };
        eprintln!(
            "shoal-desktop: notification id={} conversation={} summary={:?}",
            handle.id(),
            n.conversation_id.as_deref().unwrap_or("-"),
            n.summary
        );
        handle.wait_for_action(|action| {
            if action != "default" {
                return;
            }
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.unminimize();
                let _ = w.show();
                let _ = w.set_focus();
            }
            let Some(engine) = app.try_state::<Arc<Engine>>() else {
                return;
            };
            match n.conversation_id.as_deref() {
                Some(id) => engine.focus_conversation(id),
                // A summary of several conversations: list them.
                None if !n.items.is_empty() => engine.show_notifications(n.items.clone()),
                None => {}
            }
        });
    });
}
