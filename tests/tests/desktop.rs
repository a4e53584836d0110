//! The real desktop app (`shoal-desktop`) in a real window under Xvfb,
//! driven through tauri-driver + WebKitWebDriver, against a real relay and a
//! second agent using the real `shoal` CLI. Elements are found only by the
//! `data-testid`s and data attributes of docs/desktop.md.
//!
//! The desktops run one at a time (a file lock, see `shoal_e2e::desktop`).

use serde_json::Value;
use shoal_e2e::desktop::{
    add_agent, conversation, files_containing, row, tid, App, Desktop, RelayAgent, SYNC, UI,
};
use shoal_e2e::webdriver::{keys, Session, WdResult};
use shoal_e2e::{eventually, Client, Relay};
use std::path::Path;
use std::time::Duration;

/// A relay with a team of two: Ana uses the window, Ben the CLI.
struct Team {
    relay: Relay,
    /// The team's id on the relay.
    id: String,
    ana: RelayAgent,
    ben: RelayAgent,
    cli: Client,
}

fn team() -> Team {
    let relay = Relay::start();
    let team = relay.team("Northwind Support");
    let ana = add_agent(&relay, &team, "Ana Lima", "ana@northwind.example");
    let ben = add_agent(&relay, &team, "Ben Okafor", "ben@northwind.example");
    let cli = Client::new();
    cli.login(&relay, &ben.token);
    cli.sync();
    Team {
        relay,
        id: team,
        ana,
        ben,
        cli,
    }
}

/// Launches the app on an empty home, joins as Ana and shows every
/// conversation (the "all" view, where rows stay whatever their status).
fn joined<'d>(desktop: &'d Desktop, t: &Team, home: &Path) -> App<'d> {
    let app = desktop.launch(home);
    app.join(&t.relay, &t.ana.token);
    app.click(&tid("view-all"), UI);
    app
}

/// Ben opens a conversation through the CLI and pushes it to the relay.
fn cli_conversation(t: &Team, customer: &str, subject: &str, body: &str) -> String {
    let id = t.cli.new_conversation(customer, subject, body);
    t.cli.sync();
    id
}

/// The conversation as Ben's replica has it after a sync.
fn cli_show(t: &Team, id: &str) -> Value {
    t.cli.sync();
    t.cli.json(&["show", id, "--no-mark-seen"])["conversation"].clone()
}

/// Waits until Ben's replica, synced, satisfies `check`; panics with the
/// last state otherwise.
#[track_caller]
fn cli_eventually(t: &Team, id: &str, what: &str, check: impl Fn(&Value) -> bool) {
    let mut last = Value::Null;
    let ok = eventually(SYNC, || {
        last = cli_show(t, id);
        check(&last)
    });
    assert!(ok, "the CLI agent never saw {what}; last state: {last:#}");
}

fn entry_bodies(conv: &Value) -> Vec<String> {
    conv["entries"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["body"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// "Ben" of "Ben Okafor": how presence names an agent.
fn first_name(a: &RelayAgent) -> &str {
    a.name.split(' ').next().unwrap_or(&a.name)
}

/// Puts the keyboard focus on the row of `id` (by clicking it, which also
/// opens it), out of any text field, so that shortcuts apply to it.
fn focus_row(app: &App, id: &str) {
    app.open(id);
}

/// Waits for an entry of `kind` whose text contains `text`.
#[track_caller]
fn wait_entry(app: &App, kind: &str, text: &str) {
    let css = format!("[data-testid=\"entry\"][data-kind=\"{kind}\"]");
    app.wait_until(
        &format!("a {kind} entry containing {text:?}"),
        UI,
        |s: &Session| {
            for e in s.find_all(&css)? {
                if e.content()?.contains(text) {
                    return Ok(Some(()));
                }
            }
            Ok(None)
        },
    );
}

/// Writes `body` in the composer (opened with `key`: r reply, n note) and
/// sends it with Ctrl+Enter.
#[track_caller]
fn compose_and_send(app: &App, key: &str, mode: &str, body: &str) {
    app.press(key).expect("press composer key");
    app.wait_attr(&tid("composer"), "data-mode", mode, UI);
    app.type_into(&tid("composer-input"), body, UI);
    app.press(&format!("{}{}", keys::CONTROL, keys::ENTER))
        .expect("press Ctrl+Enter");
}

/// The number of waiting changes the sync indicator's text states, if any
/// ("3 changes waiting", "1 waiting", …).
fn waiting_count(text: &str) -> Option<u64> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    words.iter().enumerate().find_map(|(i, w)| {
        let n: u64 = w.parse().ok()?;
        let follows = words[i + 1..]
            .iter()
            .take(3)
            .any(|x| x.starts_with("change") || x.starts_with("wait") || x.starts_with("unsent"));
        follows.then_some(n)
    })
}

/// Reads `data-conversation-id` of the row with `aria-selected="true"`.
fn selected_row(s: &Session) -> Option<String> {
    s.find("[data-testid=\"inbox-row\"][aria-selected=\"true\"]")
        .ok()
        .flatten()
        .and_then(|e| e.attr("data-conversation-id").ok().flatten())
}

#[test]
fn waiting_count_reads_the_indicator_text() {
    assert_eq!(
        waiting_count("Offline 3 changes waiting · retrying in 8 s"),
        Some(3)
    );
    assert_eq!(
        waiting_count("Offline 1 change waiting · os error 111"),
        Some(1)
    );
    assert_eq!(waiting_count("Online Up to date"), None);
    assert_eq!(
        waiting_count("cannot reach (os error 111) · retrying in 8 s"),
        None
    );
}

// 1. Onboarding into a relay; the token lives only in the keyring; a
//    restart comes back online without asking.
#[test]
fn onboarding_keeps_the_token_in_the_keyring_and_restarts_online() {
    let desktop = Desktop::start();
    let t = team();
    let home = tempfile::tempdir().unwrap();
    let app = desktop.launch(home.path());
    app.wait_for(&tid("onboarding"), UI);
    // The webview runs under a Content-Security-Policy: no eval, no inline
    // script, nothing fetched from elsewhere (before: none at all).
    let eval = app
        .execute(
            "try { return String(eval('1 + 1')); } catch (e) { return 'blocked: ' + e.name; }",
            vec![],
        )
        .unwrap();
    assert_eq!(eval, "blocked: EvalError", "eval under the webview's CSP");
    app.join(&t.relay, &t.ana.token);

    let stored =
        desktop.secret_lookup(&[("service", "shoal-relay-token"), ("username", &t.ana.id)]);
    assert_eq!(
        stored.as_deref().map(str::trim),
        Some(t.ana.token.as_str()),
        "the Secret Service holds Ana's token under service shoal-relay-token, user {}",
        t.ana.id
    );
    let leaks = files_containing(home.path(), &t.ana.token);
    assert!(
        leaks.is_empty(),
        "the token is in the app's home: {leaks:?}"
    );
    // WebKit's storage, settings and caches live under the private HOME.
    let leaks = files_containing(&desktop.home(), &t.ana.token);
    assert!(leaks.is_empty(), "the token is in a file: {leaks:?}");
    assert!(
        !app.log().contains(&t.ana.token),
        "the app logged the token"
    );
    assert!(
        home.path().join("replica.sqlite3").exists(),
        "the replica lives in SHOAL_HOME"
    );
    app.quit();

    // Same home, new process: straight to the inbox, online.
    let app = desktop.launch(home.path());
    app.wait_for(&tid("inbox-list"), SYNC);
    app.wait_attr(&tid("sync-indicator"), "data-state", "online", SYNC);
    assert!(
        app.find(&tid("onboarding")).unwrap().is_none(),
        "the restarted app asked to join again"
    );
    let leaks = files_containing(home.path(), &t.ana.token);
    assert!(
        leaks.is_empty(),
        "the token is in the app's home: {leaks:?}"
    );
}

// 2 + 3. A conversation from the CLI agent shows up live; a reply written in
//        the window reaches the CLI agent.
#[test]
fn cli_conversation_appears_live_and_a_window_reply_reaches_the_cli() {
    let desktop = Desktop::start();
    let t = team();
    let home = tempfile::tempdir().unwrap();
    let app = joined(&desktop, &t, home.path());

    let id = cli_conversation(
        &t,
        "maria@acme.example",
        "Charged twice for order 1042",
        "I see two charges on my card.",
    );
    app.wait_for(&row(&id), SYNC);
    let text = app.text_of(&row(&id)).unwrap().unwrap_or_default();
    assert!(
        text.contains("Charged twice for order 1042"),
        "the row shows the subject: {text:?}"
    );

    focus_row(&app, &id);
    wait_entry(&app, "customer", "I see two charges on my card.");
    let reply = "Refunded the duplicate charge, sorry about that!";
    compose_and_send(&app, "r", "reply", reply);
    wait_entry(&app, "reply", reply);

    cli_eventually(&t, &id, "the window's reply", |c| {
        entry_bodies(c).iter().any(|b| b == reply)
    });
    let conv = cli_show(&t, &id);
    let entry = conv["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["body"] == reply)
        .unwrap();
    assert_eq!(entry["kind"], "reply");
    assert_eq!(entry["author"], t.ana.id.as_str(), "written by Ana");
}

// 4. Presence: the CLI agent composing shows in the conversation and goes
//    away when the CLI stops.
#[test]
fn presence_banner_shows_the_cli_agent_replying() {
    let desktop = Desktop::start();
    let t = team();
    let home = tempfile::tempdir().unwrap();
    let app = joined(&desktop, &t, home.path());
    let id = cli_conversation(
        &t,
        "olga@acme.example",
        "Cannot log in",
        "Password reset fails.",
    );
    focus_row(&app, &id);
    assert!(
        app.text_of(&tid("presence-banner"))
            .unwrap()
            .map(|b| !b.contains(first_name(&t.ben)))
            .unwrap_or(true),
        "no banner about Ben before he starts"
    );

    let mut presence = t.cli.spawn_quiet(&[
        "presence",
        "--conversation",
        &id,
        "--state",
        "composing",
        "--hold",
        "15",
    ]);
    let banner = app.wait_until("the presence banner naming Ben", SYNC, |s| {
        Ok(s.text_of(&tid("presence-banner"))?
            .filter(|b| b.contains(first_name(&t.ben))))
    });
    let lower = banner.to_lowercase();
    assert!(
        lower.contains("replying") || lower.contains("composing"),
        "the banner says Ben is replying: {banner:?}"
    );
    let in_row = format!("{} [data-testid=\"row-presence\"]", row(&id));
    app.wait_until("Ben's presence in the row", UI, |s| {
        Ok(s.text_of(&in_row)?
            .filter(|p| p.contains(first_name(&t.ben))))
    });

    let _ = presence.kill();
    let _ = presence.wait();
    // Announcements expire about 10 s after the last refresh.
    app.wait_until("the banner about Ben to go away", SYNC, |s| {
        let banner = s.text_of(&tid("presence-banner"))?;
        Ok(banner
            .map(|b| !b.contains(first_name(&t.ben)))
            .unwrap_or(true)
            .then_some(()))
    });
}

// 5. Offline: everything keeps working in the window, the waiting count
//    shows, and the changes reach the CLI agent once the relay is back.
#[test]
fn offline_work_reaches_the_team_after_the_relay_returns() {
    let desktop = Desktop::start();
    let mut t = team();
    let home = tempfile::tempdir().unwrap();
    let app = joined(&desktop, &t, home.path());
    let id = cli_conversation(
        &t,
        "li@acme.example",
        "Invoice address",
        "Please change it.",
    );
    focus_row(&app, &id);

    t.relay.terminate();
    app.wait_attr(&tid("sync-indicator"), "data-state", "offline", SYNC);

    let reply = "Changed the invoice address while offline.";
    compose_and_send(&app, "r", "reply", reply);
    wait_entry(&app, "reply", reply);
    focus_row(&app, &id);
    let note = "Customer also asked about VAT.";
    compose_and_send(&app, "n", "note", note);
    wait_entry(&app, "note", note);
    focus_row(&app, &id);
    app.press("a").unwrap();
    app.wait_attr(&conversation(&id), "data-assignee", &t.ana.id, UI);
    // Closing asks whether the customer confirmed; c closes anyway.
    app.press("e").unwrap();
    app.wait_for(&tid("close-dialog"), UI);
    app.press("c").unwrap();
    app.wait_attr(&conversation(&id), "data-status", "closed", UI);

    let text = app.wait_until("the indicator to count waiting changes", UI, |s| {
        Ok(s.text_of(&tid("sync-indicator"))?
            .filter(|t| waiting_count(t).is_some_and(|n| n >= 1)))
    });
    assert_eq!(
        app.get_el(&tid("sync-indicator"))
            .attr("data-state")
            .unwrap()
            .as_deref(),
        Some("offline"),
        "still offline with {text:?}"
    );
    // Nothing reached Ben meanwhile (his replica, not synced: the relay is
    // down for him too).
    let before = t.cli.json(&["show", &id, "--no-mark-seen"])["conversation"].clone();
    assert!(!entry_bodies(&before).iter().any(|b| b == reply));

    t.relay.restart();
    // The client's reconnect backoff may be several seconds by now.
    app.wait_attr(
        &tid("sync-indicator"),
        "data-state",
        "online",
        Duration::from_secs(90),
    );
    cli_eventually(&t, &id, "the offline reply, note, take and close", |c| {
        let bodies = entry_bodies(c);
        bodies.iter().any(|b| b == reply)
            && bodies.iter().any(|b| b == note)
            && c["assignee"] == t.ana.id.as_str()
            && c["status"] == "closed"
    });
    app.wait_until("the indicator to show nothing waiting", SYNC, |s| {
        Ok(s.text_of(&tid("sync-indicator"))?
            .filter(|t| waiting_count(t).unwrap_or(0) == 0))
    });
}

// 6. Keyboard-only triage: take one, close one, snooze one.
#[test]
fn keyboard_only_triage_of_four_conversations() {
    let desktop = Desktop::start();
    let t = team();
    let home = tempfile::tempdir().unwrap();
    let ids: Vec<String> = [
        "Refund request",
        "Shipping delay",
        "Feature idea",
        "Login help",
    ]
    .iter()
    .enumerate()
    .map(|(i, s)| {
        t.cli
            .new_conversation(&format!("k{i}@acme.example"), s, "Hello")
    })
    .collect();
    t.cli.sync();
    let app = joined(&desktop, &t, home.path());
    for id in &ids {
        app.wait_for(&row(id), SYNC);
    }

    // j (then k, from the bottom) until a row we have not handled yet is
    // selected, then Enter.
    let mut handled: Vec<String> = Vec::new();
    let next = |app: &App, handled: &[String]| -> String {
        for key in ["j", "j", "j", "j", "k", "k", "k", "k", "k"] {
            let before = selected_row(app);
            app.press(key).unwrap();
            // At the end of the list the selection stays where it is.
            let mut sel = before.clone();
            eventually(Duration::from_secs(2), || {
                sel = selected_row(app);
                sel.is_some() && sel != before
            });
            let Some(sel) = sel else { continue };
            if !handled.contains(&sel) && ids.contains(&sel) {
                app.press(keys::ENTER).unwrap();
                app.wait_for(&conversation(&sel), UI);
                return sel;
            }
        }
        app.fail("j and k never selected an unhandled conversation");
    };

    let taken = next(&app, &handled);
    app.press("a").unwrap();
    app.wait_attr(&conversation(&taken), "data-assignee", &t.ana.id, UI);
    app.press(keys::ESCAPE).unwrap();
    handled.push(taken.clone());

    let closed = next(&app, &handled);
    // k goes back to the previous row and j returns.
    app.press(keys::ESCAPE).unwrap();
    app.press("k").unwrap();
    app.wait_until("k to select the previous row", UI, |s| {
        Ok(selected_row(s).filter(|sel| sel != &closed))
    });
    app.press("j").unwrap();
    app.wait_until("j to select the row again", UI, |s| {
        Ok(selected_row(s).filter(|sel| sel == &closed))
    });
    app.press(keys::ENTER).unwrap();
    app.wait_for(&conversation(&closed), UI);
    // Closing asks whether the customer confirmed: y, they did.
    app.press("e").unwrap();
    app.wait_for(&tid("close-dialog"), UI);
    app.press("y").unwrap();
    app.wait_attr(&conversation(&closed), "data-status", "closed", UI);
    app.press(keys::ESCAPE).unwrap();
    handled.push(closed.clone());

    // Not yet: f waits for the customer, with a follow-up in three days.
    let awaiting = next(&app, &handled);
    app.press("e").unwrap();
    app.wait_for(&tid("close-dialog"), UI);
    app.press("f").unwrap();
    app.wait_attr(&conversation(&awaiting), "data-status", "pending", UI);
    app.wait_for(&tid("follow-up"), UI);
    app.press(keys::ESCAPE).unwrap();
    handled.push(awaiting.clone());

    let snoozed = next(&app, &handled);
    app.press("s").unwrap();
    app.press(keys::ENTER).unwrap();
    app.wait_attr(&conversation(&snoozed), "data-status", "snoozed", UI);
    app.press(keys::ESCAPE).unwrap();

    cli_eventually(&t, &taken, "taken by Ana", |c| {
        c["assignee"] == t.ana.id.as_str() && c["status"] == "open"
    });
    cli_eventually(&t, &closed, "closed as confirmed", |c| {
        c["status"] == "closed" && c["assignee"].is_null() && c["resolution"] == "confirmed"
    });
    cli_eventually(&t, &awaiting, "waiting for confirmation", |c| {
        c["status"] == "pending" && c["follow_up_at"].is_number()
    });
    cli_eventually(&t, &snoozed, "snoozed", |c| {
        c["status"] == "snoozed" && c["snooze_until"].is_number()
    });
}

// 7. A notification for a new unassigned conversation; clicking it opens
//    the conversation.
#[test]
fn notification_click_opens_the_conversation() {
    let desktop = Desktop::start();
    let t = team();
    let home = tempfile::tempdir().unwrap();
    let app = joined(&desktop, &t, home.path());
    // Something else open, so the click has to change the view.
    let other = cli_conversation(&t, "first@acme.example", "Older question", "Hi");
    focus_row(&app, &other);

    let subject = "Printer on fire in room 7";
    let id = t.cli.json(&[
        "new",
        "--customer",
        "sam@acme.example",
        "--subject",
        subject,
        "--body",
        "Smoke everywhere, please help.",
        "--channel",
        "email",
    ])["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    t.cli.sync();

    let mut seen = Vec::new();
    let ok = eventually(SYNC, || {
        seen = desktop.notifications();
        seen.iter()
            .any(|n| (n.summary.contains(subject) || n.body.contains(subject)) && n.id.is_some())
    });
    assert!(
        ok,
        "no notification about {subject:?} reached the notification daemon; saw {seen:#?}\napp log:\n{}",
        app.log()
    );
    let n = seen
        .iter()
        .find(|n| n.summary.contains(subject) || n.body.contains(subject))
        .unwrap();
    assert!(
        app.find(&conversation(&id)).unwrap().is_none(),
        "the conversation is not open before the click"
    );
    desktop.click_notification(n.id.unwrap());
    app.wait_for(&conversation(&id), UI);
    // Ben's own earlier conversation did not notify twice, and the
    // unrelated one did not steal the focus.
    assert_eq!(
        desktop
            .notifications()
            .iter()
            .filter(|n| n.summary.contains(subject) || n.body.contains(subject))
            .count(),
        1,
        "one notification per new message"
    );
}

// 9. Collaborative customer notes: the window and the CLI agent edit the
//    same notes concurrently; both edits survive in both places, the
//    remote one appears in the window while its editor has the focus, and
//    the caret moves with the text, so the person keeps typing where they
//    were.
#[test]
fn customer_notes_merge_while_two_agents_type() {
    let desktop = Desktop::start();
    let t = team();
    let home = tempfile::tempdir().unwrap();
    let app = joined(&desktop, &t, home.path());
    let customer = "lena@acme.example";
    let id = cli_conversation(&t, customer, "Invoice address", "Please change it.");
    let first = "VIP since 2021. Ship to Berlin.";
    t.cli.ok(&["customer", "note", customer, "--set", first]);
    t.cli.sync();

    let notes = tid("customer-notes");
    let value = |s: &Session| -> WdResult<String> {
        let v = s.execute(
            "return document.querySelector(arguments[0])?.value ?? null",
            vec![Value::from(notes.clone())],
        )?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    };
    focus_row(&app, &id);
    app.press("c").expect("press c");
    app.wait_until("the notes from the CLI in the panel", SYNC, |s| {
        Ok((value(s)? == first).then_some(()))
    });

    // Ana puts the caret after "2021." and types there; Ben, who has not
    // synced her edit, inserts at the start of his copy: two concurrent
    // edits of one text.
    app.click(&notes, UI);
    app.execute(
        "const a = document.querySelector(arguments[0]); a.focus(); a.setSelectionRange(15, 15);",
        vec![Value::from(notes.clone())],
    )
    .expect("place the caret");
    app.press(" Prefers e-mail.").expect("type in the notes");
    app.wait_until("Ana's words in the editor", UI, |s| {
        Ok((value(s)? == "VIP since 2021. Prefers e-mail. Ship to Berlin.").then_some(()))
    });
    t.cli.ok(&[
        "customer",
        "note",
        customer,
        "--insert",
        "0",
        "Account ACME-7. ",
    ]);
    t.cli.sync();
    let merged = "Account ACME-7. VIP since 2021. Prefers e-mail. Ship to Berlin.";
    app.wait_until("Ben's insertion merged into the open editor", SYNC, |s| {
        Ok((value(s)? == merged).then_some(()))
    });
    let focused = app
        .execute(
            "return document.activeElement === document.querySelector(arguments[0])",
            vec![Value::from(notes.clone())],
        )
        .expect("read the focus");
    assert_eq!(focused, Value::Bool(true), "the editor kept the focus");

    // The caret moved with the text: Ana's next words follow her own, not
    // the end of the notes and not the old offset.
    app.press(" Call after 5pm.").expect("type on");
    let last = "Account ACME-7. VIP since 2021. Prefers e-mail. Call after 5pm. Ship to Berlin.";
    app.wait_until("Ana's next words after her own", UI, |s| {
        Ok((value(s)? == last).then_some(()))
    });
    let mut cli_notes = String::new();
    let ok = eventually(SYNC, || {
        t.cli.sync();
        cli_notes = t.cli.json(&["customer", "show", customer])["customer"]["notes"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        cli_notes == last
    });
    assert!(ok, "the CLI agent has both edits: {cli_notes:?}");
}

// 8. Screenshots of the main screens, for the README and for review.
#[test]
fn screenshots_of_the_main_screens() {
    let desktop = Desktop::start();
    let t = team();
    let home = tempfile::tempdir().unwrap();
    let mut convs = Vec::new();
    for (name, customer, subject, body) in [
        (
            "Maria Garcia",
            "maria.garcia@acme.example",
            "Charged twice for order 1042",
            "Hi, I see two charges of $49 on my card for the same order. Can you help?",
        ),
        (
            "Tom Baker",
            "tom@stonebridge.example",
            "Export to CSV is missing columns",
            "The CSV export drops the 'region' column since yesterday's update.",
        ),
        (
            "Li Wei",
            "li.wei@harbor.example",
            "How do I add a teammate?",
            "We just hired someone; how do I invite them to our workspace?",
        ),
    ] {
        let v = t.cli.json(&[
            "new",
            "--customer",
            customer,
            "--customer-name",
            name,
            "--subject",
            subject,
            "--body",
            body,
            "--channel",
            "email",
        ]);
        convs.push(v["conversation_id"].as_str().unwrap().to_owned());
    }
    t.cli.ok(&[
        "note",
        &convs[1],
        "--body",
        "@ana can you check the export job?",
    ]);
    t.cli.sync();

    let app = desktop.launch(home.path());
    app.wait_for(&tid("onboarding"), UI);
    app.screenshot("onboarding");
    app.join(&t.relay, &t.ana.token);
    app.click(&tid("view-all"), UI);
    for id in &convs {
        app.wait_for(&row(id), SYNC);
    }
    focus_row(&app, &convs[0]);
    wait_entry(&app, "customer", "two charges");
    app.screenshot("inbox-conversation");

    let mut presence = t.cli.spawn_quiet(&[
        "presence",
        "--conversation",
        &convs[0],
        "--state",
        "composing",
        "--hold",
        "20",
    ]);
    app.press("r").unwrap();
    app.type_into(
        &tid("composer-input"),
        "Hi Maria, I can see the duplicate charge and have refunded it.",
        UI,
    );
    app.wait_until("Ben's presence banner", SYNC, |s| {
        Ok(s.text_of(&tid("presence-banner"))?
            .filter(|b| b.contains(first_name(&t.ben))))
    });
    app.screenshot("composer-presence");
    let _ = presence.kill();
    let _ = presence.wait();

    app.press(keys::ESCAPE).unwrap();
    focus_row(&app, &convs[0]);
    app.press("c").unwrap();
    app.wait_for(&tid("customer-panel"), UI);
    app.screenshot("customer-panel");

    focus_row(&app, &convs[1]);
    app.press("/").unwrap();
    app.wait_for(&tid("search-input"), UI);
    app.type_into(&tid("search-input"), "expo", UI);
    app.wait_for(&tid("search-result"), UI);
    app.screenshot("search");
    app.press(keys::ESCAPE).unwrap();

    focus_row(&app, &convs[1]);
    app.press("?").unwrap();
    app.wait_for(&tid("shortcuts-help"), UI);
    app.screenshot("shortcuts-help");
    app.quit();

    // Dark theme: WebKitGTK reports prefers-color-scheme: dark when the GTK
    // theme variant is dark.
    let app = desktop.launch_with_env(home.path(), &[("GTK_THEME", "Adwaita:dark")]);
    app.wait_attr(&tid("sync-indicator"), "data-state", "online", SYNC);
    let dark = app
        .execute(
            "return window.matchMedia('(prefers-color-scheme: dark)').matches",
            vec![],
        )
        .unwrap();
    assert_eq!(
        dark,
        Value::Bool(true),
        "GTK_THEME=Adwaita:dark makes the page dark"
    );
    app.click(&tid("view-all"), UI);
    focus_row(&app, &convs[1]);
    app.screenshot("inbox-dark");
}

// 10. Collision safety in the window: Ana's reply is held because the
//     customer wrote again inside its undo window; a real notification
//     says so, the conversation shows it held with the reason, and "Send
//     anyway" delivers it to the customer's real mailbox. Then Ben's note
//     @mentioning Ana notifies her.
#[test]
fn a_held_reply_and_a_mention_notify_and_send_anyway_delivers() {
    use shoal_e2e::mail::{connect_support_mailbox, customer_mail, MailServers, ALICE, SUPPORT};
    let desktop = Desktop::start();
    let mail = MailServers::start();
    // Five seconds of undo: the customer's second mail lands inside it.
    let relay = Relay::start_with(&["--undo-send-secs", "5", "--mail-retry-secs", "1"]);
    let team_id = relay.team("Northwind Support");
    let ana = add_agent(&relay, &team_id, "Ana Lima", "ana@northwind.example");
    let ben = add_agent(&relay, &team_id, "Ben Okafor", "ben@northwind.example");
    connect_support_mailbox(&relay, &mail, "Northwind Support");
    let cli = Client::new();
    cli.login(&relay, &ben.token);
    let t = Team {
        relay,
        id: team_id,
        ana,
        ben,
        cli,
    };
    let home = tempfile::tempdir().unwrap();
    let app = joined(&desktop, &t, home.path());

    let subject = "Kettle lid cracked";
    mail.deliver(
        &customer_mail("lid-1@example.test", subject, "", "The lid is cracked."),
        SUPPORT,
    );
    let mut id = None;
    assert!(eventually(SYNC, || {
        t.cli.sync();
        id = t
            .cli
            .inbox()
            .iter()
            .find(|r| r["subject"] == subject)
            .map(|r| r["conversation_id"].as_str().unwrap().to_owned());
        id.is_some()
    }));
    let id = id.unwrap();
    app.wait_for(&row(&id), SYNC);
    focus_row(&app, &id);
    compose_and_send(&app, "r", "reply", "A new lid is on its way.");
    wait_entry(&app, "reply", "A new lid is on its way.");
    mail.deliver(
        &customer_mail(
            "lid-2@example.test",
            subject,
            "In-Reply-To: <lid-1@example.test>\r\n",
            "Actually the handle is broken too.",
        ),
        SUPPORT,
    );

    let mut seen = Vec::new();
    let held = eventually(SYNC, || {
        seen = desktop.notifications();
        seen.iter()
            .any(|n| n.summary.contains("Your reply was held") && n.summary.contains(subject))
    });
    assert!(
        held,
        "no held-reply notification; saw {seen:#?}\napp log:\n{}",
        app.log()
    );
    app.wait_for(&tid("held-reply"), SYNC);
    let banner = app
        .find(&tid("held-reply"))
        .unwrap()
        .unwrap()
        .content()
        .unwrap();
    assert!(banner.contains("customer wrote again"), "{banner}");
    assert!(
        mail.messages(ALICE).is_empty(),
        "nothing went out while held"
    );
    app.click(&tid("held-send-anyway"), UI);
    let received = mail.wait_for_messages(ALICE, 1, SYNC);
    assert!(String::from_utf8_lossy(&received[0]).contains("A new lid is on its way."));

    t.cli.sync();
    t.cli.ok(&["show", &id]);
    t.cli.ok(&[
        "note",
        &id,
        "--body",
        "@ana the handle too, <b>see photo</b>",
    ]);
    t.cli.sync();
    let mentioned = eventually(SYNC, || {
        seen = desktop.notifications();
        seen.iter()
            .any(|n| n.summary.contains("Ben Okafor mentioned you"))
    });
    assert!(mentioned, "no mention notification; saw {seen:#?}");
    let n = seen
        .iter()
        .find(|n| n.summary.contains("mentioned you"))
        .unwrap();
    assert!(
        n.body.contains("&lt;b&gt;see photo&lt;/b&gt;"),
        "markup in a note is escaped: {:?}",
        n.body
    );
}

/// An instant `hours` hours ago, as RFC 3339 (UTC).
fn hours_ago(hours: u32) -> String {
    let out = std::process::Command::new("date")
        .args([
            "-u",
            "-d",
            &format!("{hours} hours ago"),
            "+%Y-%m-%dT%H:%M:%SZ",
        ])
        .output()
        .expect("date");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The reply clock in the window: with round-the-clock hours, an urgent
/// call logged three hours late (answer due an hour after it) is two hours
/// late in its row, counted in Overdue and said in the conversation; a new
/// urgent one is due within the hour; the order "reply due first" puts the
/// late one on top.
#[test]
fn the_reply_clock_shows_late_and_due_conversations() {
    let desktop = Desktop::start();
    let t = team();
    let admin = t
        .relay
        .agent_as(&t.id, "Cleo Admin", "cleo@northwind.example", "admin");
    let cleo = Client::new();
    cleo.login(&t.relay, &admin);
    cleo.ok(&[
        "team", "hours", "--days", "mon-sun", "--from", "00:00", "--to", "24:00",
    ]);
    cleo.sync();
    t.cli.sync();
    let new = |customer: &str, subject: &str, at: Option<String>| -> String {
        let name = if customer.starts_with("maria") {
            "Maria Garcia"
        } else {
            "Tom Baker"
        };
        let mut args = vec![
            "new",
            "--customer",
            customer,
            "--customer-name",
            name,
            "--subject",
            subject,
            "--body",
            "Our whole team is locked out since this morning.",
            "--priority",
            "urgent",
        ];
        let at = at.unwrap_or_default();
        if !at.is_empty() {
            args.extend(["--at", at.as_str()]);
        }
        t.cli.json(&args)["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let late = new(
        "maria@acme.example",
        "Server down since this morning",
        Some(hours_ago(3)),
    );
    let fresh = new("tom@stonebridge.example", "Login fails", None);
    t.cli.sync();

    let home = tempfile::tempdir().unwrap();
    let app = joined(&desktop, &t, home.path());
    app.wait_for(&row(&late), SYNC);
    app.wait_for(&row(&fresh), SYNC);
    let due_text = |id: &str| {
        app.text_of(&format!("{} [data-testid=\"row-due\"]", row(id)))
            .unwrap()
            .unwrap_or_default()
    };
    // Due an hour after the call, three hours ago (a slow run adds minutes).
    let text = due_text(&late);
    assert!(text.starts_with("2 h") && text.ends_with("late"), "{text}");
    assert!(
        due_text(&fresh).starts_with("due in"),
        "{}",
        due_text(&fresh)
    );
    app.wait_until("the Overdue count", UI, |s: &Session| {
        let text = s.get_el(&tid("view-overdue")).text()?;
        Ok(text.ends_with('1').then_some(()))
    });

    app.click(&tid("view-overdue"), UI);
    app.wait_gone(&row(&fresh), UI);
    app.wait_for(&row(&late), UI);
    app.click(&tid("view-open"), UI);
    // The order menu, set as a person choosing "Reply due first" would.
    app.execute(
        "const s = document.querySelector(arguments[0]); s.value = arguments[1]; \
         s.dispatchEvent(new Event('change', { bubbles: true }));",
        vec![Value::from(tid("inbox-sort")), Value::from("due")],
    )
    .expect("choose the order");
    app.wait_until("the late one first", UI, |s: &Session| {
        let first = s.find(&tid("inbox-row"))?;
        let id = first.and_then(|e| e.attr("data-conversation-id").ok().flatten());
        Ok((id.as_deref() == Some(late.as_str())).then_some(()))
    });
    focus_row(&app, &late);
    let header = app.text_of(&tid("reply-due")).unwrap().unwrap_or_default();
    assert!(header.starts_with("Reply overdue by 2 h"), "{header}");
    wait_entry(&app, "customer", "locked out");
    app.screenshot("reply-clock");

    // Ana steps away from the sidebar menu; Ben's CLI sees it.
    app.execute(
        "const s = document.querySelector(arguments[0]); s.value = arguments[1]; \
         s.dispatchEvent(new Event('change', { bubbles: true }));",
        vec![Value::from(tid("availability")), Value::from("away")],
    )
    .expect("choose away");
    let mut agents = Value::Null;
    let seen = eventually(SYNC, || {
        t.cli.sync();
        agents = t.cli.json(&["agent", "list"])["agents"].clone();
        agents.as_array().is_some_and(|a| {
            a.iter()
                .any(|x| x["id"] == t.ana.id.as_str() && x["availability"] == "away")
        })
    });
    assert!(seen, "Ben never saw Ana away: {agents:#}");
}

/// The Reports view: reached with g r, it shows this week's numbers from
/// the replica (two conversations opened, one answered, one closed as
/// confirmed) and the four charts; Escape goes back to the inbox.
#[test]
fn the_reports_view_shows_the_teams_week() {
    let desktop = Desktop::start();
    let t = team();
    let first = cli_conversation(&t, "maria@acme.example", "Charged twice", "Two charges.");
    cli_conversation(
        &t,
        "tom@stonebridge.example",
        "Login fails",
        "Cannot log in.",
    );
    t.cli.ok(&["show", &first]);
    t.cli.ok(&["reply", &first, "--body", "Refunded."]);
    t.cli.ok(&["status", &first, "closed", "--confirmed"]);
    t.cli.sync();

    let home = tempfile::tempdir().unwrap();
    let app = joined(&desktop, &t, home.path());
    app.wait_for(&row(&first), SYNC);
    app.press("g").unwrap();
    app.press("r").unwrap();
    app.wait_for(&tid("reports"), UI);
    let cells = app.wait_until("this week's row", UI, |s: &Session| {
        let rows = s.find_all(&tid("report-week"))?;
        let Some(r) = rows.last() else {
            return Ok(None);
        };
        let cells = r
            .find_all("td")?
            .iter()
            .map(|c| c.text())
            .collect::<WdResult<Vec<String>>>()?;
        Ok(Some(cells))
    });
    // Week of, opened 2, …, closed 1 of which 1 confirmed, backlog 1.
    assert_eq!(cells[1], "2", "{cells:?}");
    assert_eq!(cells[6], "1 (1)", "{cells:?}");
    assert_eq!(cells[7], "1", "{cells:?}");
    let charts = app.find_all(&tid("report-chart")).unwrap().len();
    assert_eq!(charts, 9);
    app.screenshot("reports");
    app.press(keys::ESCAPE).unwrap();
    app.wait_gone(&tid("reports"), UI);
    app.wait_for(&row(&first), UI);
}

/// Replaces the text of the input `id`.
fn replace_text(app: &App, id: &str, text: &str) {
    app.wait_for(&tid(id), UI);
    let input = app.get_el(&tid(id));
    input.clear().unwrap();
    input.send_keys(text).unwrap();
}

/// The settings view's confirmation, once it says `what`.
fn wait_saved(app: &App, what: &str) {
    app.wait_until(what, UI, |s: &Session| {
        Ok(s.text_of(&tid("team-settings-saved"))?
            .filter(|t| t.contains(what))
            .map(|_| ()))
    });
}

#[test]
fn an_admin_sets_the_teams_promises_in_the_app() {
    let desktop = Desktop::start();
    let t = team();
    let cleo = t
        .relay
        .agent_as(&t.id, "Cleo Diaz", "cleo@northwind.example", "admin");
    let home = tempfile::tempdir().unwrap();
    let app = desktop.launch(home.path());
    app.join(&t.relay, &cleo);
    app.press("g").unwrap();
    app.press("t").unwrap();
    app.wait_for(&tid("team-settings"), UI);
    let described = |s: &Session, what: &str| -> WdResult<Option<()>> {
        Ok(s.text_of(&tid("hours-description"))?
            .filter(|t| t == what)
            .map(|_| ()))
    };
    app.wait_until("the team's hours", SYNC, |s: &Session| {
        described(s, "Monday to Friday, 09:00–17:00 (UTC)")
    });
    assert!(
        app.find(&tid("team-settings-read-only")).unwrap().is_none(),
        "an admin may change them"
    );

    replace_text(&app, "hours-zone", "America/New_York");
    app.click(&tid("hours-day-5"), UI);
    app.click(&tid("hours-save"), UI);
    app.wait_until("the new hours", UI, |s: &Session| {
        described(s, "Monday to Thursday, 09:00–17:00 (America/New_York)")
    });
    replace_text(&app, "target-first-urgent", "30m");
    app.click(&tid("targets-save"), UI);
    wait_saved(&app, "Response targets saved.");
    app.type_into(&tid("tier-name"), "premium", UI);
    app.click(&tid("tier-add"), UI);
    app.wait_for("[data-testid=tier][data-tier=premium]", UI);
    app.click(&tid("auto-close-on"), UI);
    replace_text(&app, "auto-close-days", "3");
    app.click(&tid("auto-close-save"), UI);
    wait_saved(&app, "after 3 business days");
    app.execute(
        "document.querySelector('[data-testid=team-settings-body]').scrollTop = 0",
        vec![],
    )
    .unwrap();
    app.screenshot("team-settings");
    // A refused change says why and keeps the settings.
    replace_text(&app, "hours-to", "08:00");
    app.click(&tid("hours-save"), UI);
    app.wait_until("the refusal", UI, |s: &Session| {
        Ok(s.text_of(&tid("team-settings-error"))?
            .filter(|t| t.contains("working hours"))
            .map(|_| ()))
    });
    app.press(keys::ESCAPE).unwrap();
    app.wait_gone(&tid("team-settings"), UI);

    // Ben's replica gets them from the relay, which took them from an admin.
    let arrived = eventually(SYNC, || {
        t.cli.sync();
        let team = t.cli.json(&["team", "show"]);
        team["business_hours"]["time_zone"] == "America/New_York"
            && team["business_hours"]["days"] == serde_json::json!([1, 2, 3, 4])
            && team["sla"]["urgent"]["first_response_minutes"] == 30
            && team["tiers"]["premium"] == "high"
            && team["auto_close_days"] == 3
    });
    assert!(arrived, "{}", t.cli.ok(&["team", "show"]));
}

/// `date` seconds from now, RFC 3339 in UTC.
fn seconds_ahead(seconds: u32) -> String {
    let out = std::process::Command::new("date")
        .args([
            "-u",
            "-d",
            &format!("{seconds} seconds"),
            "+%Y-%m-%dT%H:%M:%SZ",
        ])
        .output()
        .expect("date");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Following up until the customer confirms, in the window: Ben waits for
/// the customer on a conversation of Ana's with a follow-up a quarter minute
/// ahead; when it comes, the conversation is counted under Follow up, Ana's
/// desktop reminds her ("Follow up: …"), and the reminder opens it.
#[test]
fn a_follow_up_coming_due_reminds_the_assignee_in_the_window() {
    let desktop = Desktop::start();
    let t = team();
    let subject = "Replacement kettle";
    let id = cli_conversation(&t, "vera@acme.example", subject, "Did it arrive?");
    t.cli.ok(&["assign", &id, "ana@northwind.example"]);
    t.cli.ok(&["reply", &id, "--body", "It ships today."]);
    t.cli
        .ok(&["status", &id, "pending", "--follow-up", &seconds_ahead(15)]);
    t.cli.sync();
    // Ana starts her day after all that: nothing of it notifies her.
    let home = tempfile::tempdir().unwrap();
    let app = joined(&desktop, &t, home.path());
    app.wait_for(&row(&id), SYNC);
    let follow_up_count = |s: &Session| -> WdResult<Option<String>> {
        s.text_of(&format!("{} .count", tid("view-follow-up")))
    };
    assert_eq!(
        follow_up_count(&app).unwrap().as_deref(),
        Some("0"),
        "not due yet"
    );

    app.wait_until(
        "the Follow up count",
        Duration::from_secs(60),
        |s: &Session| Ok(follow_up_count(s)?.filter(|c| c == "1").map(|_| ())),
    );
    let reminder = format!("Follow up: {subject}");
    let mut seen = Vec::new();
    let reminded = eventually(SYNC, || {
        seen = desktop.notifications();
        seen.iter()
            .any(|n| n.summary.contains(&reminder) && n.id.is_some())
    });
    assert!(
        reminded,
        "no {reminder:?} reached the notification daemon; saw {seen:#?}\napp log:\n{}",
        app.log()
    );
    let n = seen.iter().find(|n| n.summary.contains(&reminder)).unwrap();
    desktop.click_notification(n.id.unwrap());
    app.wait_for(&conversation(&id), UI);
    app.wait_for(&tid("follow-up"), UI);
}

/// Waits until the open conversation's `attr` is `value`.
#[track_caller]
fn wait_conversation_attr(app: &App, attr: &str, value: &str) {
    app.wait_until(&format!("{attr} = {value:?}"), UI, |s: &Session| {
        let el = s.find(&tid("conversation"))?;
        Ok(match el {
            Some(e) if e.attr(attr)?.as_deref() == Some(value) => Some(()),
            _ => None,
        })
    });
}

/// Opens the command palette with Ctrl+K and runs the first action
/// matching `words`, all from the keyboard.
#[track_caller]
fn palette(app: &App, words: &str) {
    app.press(&format!("{}k", keys::CONTROL)).unwrap();
    app.wait_for(&tid("palette"), UI);
    app.press(words).unwrap();
    app.press(keys::ENTER).unwrap();
    app.wait_gone(&tid("palette"), UI);
}

/// In a picker open as `testid`, types `words` and takes the first match.
#[track_caller]
fn pick(app: &App, testid: &str, words: &str) {
    app.wait_for(&tid(testid), UI);
    app.press(words).unwrap();
    app.press(keys::ENTER).unwrap();
    app.wait_gone(&tid(testid), UI);
}

/// Triage from the keyboard alone: the command palette (Ctrl+K) assigns to
/// a colleague, Shift+A unassigns, t adds a new tag, p sets the priority,
/// the palette filters the list by that tag and clears the filter again,
/// and a colleague's @mention shows under Mentions me. Ben's CLI sees the
/// result through the relay.
#[test]
fn the_keyboard_assigns_tags_prioritises_and_filters() {
    let desktop = Desktop::start();
    let t = team();
    let home = tempfile::tempdir().unwrap();
    let app = joined(&desktop, &t, home.path());
    let refund = cli_conversation(&t, "maria@acme.example", "Charged twice", "Two charges.");
    let login = cli_conversation(&t, "tom@acme.example", "Login fails", "Cannot log in.");
    app.wait_for(&row(&login), SYNC);
    focus_row(&app, &refund);

    // The palette lists every action with its shortcut; typing narrows it.
    app.press(&format!("{}k", keys::CONTROL)).unwrap();
    app.wait_for(&tid("palette"), UI);
    app.press("a").unwrap();
    app.screenshot("command-palette");
    app.press("ssign").unwrap();
    app.press(keys::ENTER).unwrap();
    app.wait_gone(&tid("palette"), UI);
    pick(&app, "assign-picker", "ben");
    wait_conversation_attr(&app, "data-assignee", &t.ben.id);
    app.press("t").unwrap();
    pick(&app, "tag-picker", "refund");
    wait_conversation_attr(&app, "data-tags", "refund");
    app.press("p").unwrap();
    pick(&app, "priority-picker", "urg");
    wait_conversation_attr(&app, "data-priority", "urgent");
    app.press("A").unwrap();
    pick(&app, "assign-picker", "nobody");
    wait_conversation_attr(&app, "data-assignee", "");

    palette(&app, "filter tag");
    pick(&app, "filter-tag-picker", "refund");
    app.wait_for("[data-testid=tag-filter][data-tag=refund]", UI);
    app.wait_gone(&row(&login), UI);
    app.wait_for(&row(&refund), UI);
    palette(&app, "clear tag");
    app.wait_gone(&tid("tag-filter"), UI);
    app.wait_for(&row(&login), UI);

    t.cli
        .ok(&["note", &login, "--body", "@ana can you take this one?"]);
    t.cli.sync();
    palette(&app, "go mentions");
    app.wait_until("the mention", SYNC, |s: &Session| {
        let rows = s.find_all("[data-testid=inbox-row]")?;
        Ok((rows.len() == 1 && s.find(&row(&login))?.is_some()).then_some(()))
    });

    cli_eventually(&t, &refund, "the keyboard's changes", |c| {
        c["assignee"].is_null()
            && c["tags"] == serde_json::json!(["refund"])
            && c["priority"] == "urgent"
    });
}

/// A customer as Ben's replica has it after a sync (`None` while unknown).
fn cli_customer(t: &Team, query: &str) -> Option<Value> {
    t.cli.sync();
    let out = t.cli.run(&["customer", "show", query, "--json"]);
    (out.status.success())
        .then(|| serde_json::from_slice::<Value>(&out.stdout).ok())
        .flatten()
}

/// The rest of an agent's day from the keyboard: a call logged as a new
/// conversation (its caller added as a customer), the caller's details
/// edited, a conversation filed under the wrong customer moved, and a new
/// customer added; Ben's CLI sees each through the relay.
#[test]
fn calls_customers_and_moves_from_the_keyboard() {
    let desktop = Desktop::start();
    let t = team();
    let home = tempfile::tempdir().unwrap();
    let app = joined(&desktop, &t, home.path());
    let misfiled = cli_conversation(&t, "tom@acme.example", "Lid", "The lid is loose.");
    app.wait_for(&row(&misfiled), SYNC);

    palette(&app, "log call");
    app.wait_for(&tid("log-call"), UI);
    app.press("vera@acme.example").unwrap();
    app.press(&format!("{}Vera Holm", keys::TAB)).unwrap();
    app.press(&format!("{}Kettle leaks", keys::TAB)).unwrap();
    app.press(&format!("{}It leaks at the base.", keys::TAB))
        .unwrap();
    app.press(&format!("{}{}", keys::CONTROL, keys::ENTER))
        .unwrap();
    app.wait_gone(&tid("log-call"), UI);
    app.wait_until("the logged call", UI, |s: &Session| {
        Ok(s.text_of(&tid("conversation"))?
            .filter(|t| t.contains("Kettle leaks") && t.contains("It leaks at the base."))
            .map(|_| ()))
    });

    palette(&app, "edit the customer");
    app.wait_for(&tid("edit-customer"), UI);
    replace_text(
        &app,
        "edit-customer-emails",
        "vera@acme.example, vera@holm.example",
    );
    replace_text(&app, "edit-customer-company", "Holm & Co");
    app.press(keys::ENTER).unwrap();
    app.wait_gone(&tid("edit-customer"), UI);
    let edited = eventually(SYNC, || {
        cli_customer(&t, "vera@holm.example").is_some_and(|c| {
            c["customer"]["name"] == "Vera Holm"
                && c["customer"]["company"] == "Holm & Co"
                && c["conversations"][0]["subject"] == "Kettle leaks"
        })
    });
    assert!(edited, "{:?}", cli_customer(&t, "vera@acme.example"));

    // Tom's conversation was Vera's all along.
    app.open(&misfiled);
    palette(&app, "move");
    app.wait_for(&tid("move"), UI);
    app.press("vera@holm.example").unwrap();
    app.press(keys::ENTER).unwrap();
    app.wait_gone(&tid("move"), UI);
    let vera_id = cli_customer(&t, "vera@acme.example").unwrap()["customer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    cli_eventually(&t, &misfiled, "the move", |c| {
        c["customer_id"] == vera_id.as_str()
    });

    palette(&app, "new customer");
    app.wait_for(&tid("new-customer"), UI);
    app.press("Lea Park").unwrap();
    app.press(&format!("{}lea@park.example", keys::TAB))
        .unwrap();
    app.press(keys::ENTER).unwrap();
    app.wait_gone(&tid("new-customer"), UI);
    app.wait_until("her panel", UI, |s: &Session| {
        Ok(s.text_of(&tid("customer-panel"))?
            .filter(|t| t.contains("Lea Park"))
            .map(|_| ()))
    });
    assert!(
        eventually(SYNC, || cli_customer(&t, "lea@park.example").is_some()),
        "Ben never saw Lea"
    );

    // Writing first: the e-mail is the new conversation's queued reply.
    app.press(keys::ESCAPE).unwrap();
    palette(&app, "write to");
    app.wait_for(&tid("write"), UI);
    app.press("Lea Park").unwrap();
    app.press(&format!("{}{}Checking in", keys::TAB, keys::TAB))
        .unwrap();
    app.press(&format!("{}How is the new kettle?", keys::TAB))
        .unwrap();
    app.press(&format!("{}{}", keys::CONTROL, keys::ENTER))
        .unwrap();
    app.wait_gone(&tid("write"), UI);
    wait_entry(&app, "reply", "How is the new kettle?");
    let seen = eventually(SYNC, || {
        t.cli.sync();
        t.cli.inbox().iter().any(|r| {
            r["subject"] == "Checking in"
                && r["preview"]
                    .as_str()
                    .is_some_and(|p| p.contains("new kettle"))
        })
    });
    assert!(
        seen,
        "Ben never saw the e-mail Ana wrote: {:#?}",
        t.cli.inbox()
    );
}

/// The CLI keeps its token where the desktop app does: in the session's
/// Secret Service keyring (here GNOME Keyring on the desktop's D-Bus), so
/// it survives reboots; no file is written, and syncing finds it there.
#[test]
fn the_cli_keeps_its_token_in_the_secret_service_when_the_session_offers_one() {
    let desktop = Desktop::start();
    let t = team();
    let home = tempfile::tempdir().unwrap();
    let shoal = |args: &[&str]| {
        let mut c = desktop.command(shoal_e2e::bin("shoal"));
        c.arg("--home")
            .arg(home.path())
            .args(args)
            .env_remove("SHOAL_KEYRING");
        c
    };
    let out = shoal_e2e::ok(shoal(&[
        "login",
        "--relay",
        &t.relay.url,
        "--token",
        &t.ana.token,
        "--json",
    ]));
    let login: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(login["token_store"]["kind"], "secret-service", "{login}");
    let stored =
        desktop.secret_lookup(&[("service", "shoal-relay-token"), ("username", &t.ana.id)]);
    assert_eq!(stored.as_deref().map(str::trim), Some(t.ana.token.as_str()));
    assert!(!home.path().join("relay-token").exists(), "no token file");
    let synced: Value = serde_json::from_str(&shoal_e2e::ok(shoal(&["sync", "--json"]))).unwrap();
    assert_eq!(synced["restarts"], 0, "{synced}");
}
