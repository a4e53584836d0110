//! Every command on a real SQLite replica in a temporary home, with a
//! second replica handle on the same file standing in for another process
//! (the `shoal` CLI or the mail ingester) that brings customer messages.

use shoal_app::{AppEvent, ChannelSink, Engine, ErrorKind, Settings};
use shoal_core::{
    AgentId, Channel, ConversationDoc, ConversationId, Ctx, DocId, Document, EmailDetails,
    EmailHeaders, NewConversation, Priority, Timestamp,
};
use shoal_replica::Replica;
use std::path::Path;
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn engine(home: &Path) -> (Engine, Receiver<AppEvent>) {
    let (sink, rx) = ChannelSink::new();
    (Engine::open(home, Arc::new(sink)).unwrap(), rx)
}

fn local(home: &Path) -> (Engine, Receiver<AppEvent>) {
    let (e, rx) = engine(home);
    e.start_local("Northwind", "Ana Lopez", "ana@northwind.example")
        .unwrap();
    (e, rx)
}

/// Another process on the same replica file.
fn other(home: &Path) -> Replica {
    Replica::open(&home.join("replica.sqlite3")).unwrap()
}

/// A customer's e-mail opening a conversation, written as the relay's
/// ingest writes it (not typed in by the agent) and merged into the replica.
fn new_conversation(r: &mut Replica, email: &str, subject: &str, body: &str) -> String {
    let customer = r.find_or_create_customer(email, None).unwrap();
    let id = ConversationId::random();
    let relay = Ctx::new(AgentId::parse("relay").unwrap(), Timestamp(1_000));
    let (doc, _) = ConversationDoc::create_from_email(
        shoal_core::automerge::ActorId::random(),
        &relay,
        NewConversation {
            id: id.clone(),
            subject: subject.into(),
            channel: Channel::Email,
            customer,
            body: body.into(),
            received_at: relay.now,
            headers: EmailHeaders::default(),
            priority: Priority::Normal,
        },
        &EmailDetails::default(),
    )
    .unwrap();
    let changes: Vec<Vec<u8>> = doc
        .into_automerge()
        .get_changes(&[])
        .into_iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    r.apply_changes(&DocId::conversation(&id), &changes)
        .unwrap();
    id.to_string()
}

fn customer_writes(r: &mut Replica, conv: &str, body: &str) {
    let id = ConversationId::parse(conv).unwrap();
    r.add_customer_message(&id, body, None, &EmailHeaders::default())
        .unwrap();
}

/// Waits for an event matching `f`.
fn wait_for(rx: &Receiver<AppEvent>, what: &str, f: impl Fn(&AppEvent) -> bool) -> AppEvent {
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if let Ok(e) = rx.recv_timeout(left) {
            if f(&e) {
                return e;
            }
        }
    }
    panic!("no {what} event within 10 s");
}

fn drain(rx: &Receiver<AppEvent>) {
    std::thread::sleep(Duration::from_millis(150));
    while rx.try_recv().is_ok() {}
}

#[test]
fn before_onboarding_commands_say_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    let (e, rx) = engine(&dir.path().join("home"));
    let state = e.app_state();
    assert!(!state.ready);
    assert_eq!(e.inbox("all", 0, 10).unwrap_err().kind, ErrorKind::NotReady);
    // The first sync-status says "local": no relay.
    let s = wait_for(&rx, "sync-status", |e| matches!(e, AppEvent::SyncStatus(_)));
    let AppEvent::SyncStatus(s) = s else {
        unreachable!()
    };
    assert_eq!(s.state, "local");
    // Bad onboarding input is refused without creating anything.
    let err = e.start_local("Team", "Ana", "not-an-address").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(!dir.path().join("home/replica.sqlite3").exists());
    let json = serde_json::to_value(&err).unwrap();
    assert_eq!(json["kind"], "invalid");
    assert!(json.get("unseen").is_none());
}

#[test]
fn start_local_then_inbox_pages_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (e, _rx) = local(home);
    let state = e.app_state();
    assert!(state.ready);
    assert_eq!(state.team_name.as_deref(), Some("Northwind"));
    assert_eq!(state.agent_name.as_deref(), Some("Ana Lopez"));
    assert_eq!(state.sync.state, "local");
    assert_eq!(
        e.start_local("Again", "Ana", "a@b.example")
            .unwrap_err()
            .kind,
        ErrorKind::AlreadySetUp
    );

    let mut r = other(home);
    for i in 0..7 {
        new_conversation(
            &mut r,
            &format!("c{i}@acme.example"),
            &format!("Q{i}"),
            "Hello",
        );
    }
    let page = e.inbox("all", 0, 3).unwrap();
    assert_eq!((page.rows.len(), page.total), (3, 7));
    let last = e.inbox("open", 6, 3).unwrap();
    assert_eq!((last.rows.len(), last.total), (1, 7));
    // Pages do not overlap and cover everything, newest first.
    let all: Vec<String> = (0..3)
        .flat_map(|p| e.inbox("unassigned", p * 3, 3).unwrap().rows)
        .map(|r| r.conversation_id)
        .collect();
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 7);
    assert_eq!(e.inbox_counts().unwrap()["mine"], 0);
    assert_eq!(e.inbox_counts().unwrap()["open"], 7);
    assert_eq!(
        e.inbox("everything", 0, 3).unwrap_err().kind,
        ErrorKind::Invalid
    );
    // The JSON shape the UI reads.
    let v = serde_json::to_value(&page).unwrap();
    assert!(v["rows"][0]["conversation_id"].is_string());
    assert_eq!(v["total"], 7);
}

#[test]
fn open_reply_send_guard_note_and_unsend() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (e, _rx) = local(home);
    let mut r = other(home);
    let c = new_conversation(
        &mut r,
        "maria@acme.example",
        "Charged twice",
        "I see two charges.",
    );

    // Never opened: the guard lists the customer's message.
    let err = e.reply(&c, "Refunded.", false).unwrap_err();
    assert_eq!(err.kind, ErrorKind::SendGuard);
    let unseen = err.unseen.as_ref().unwrap();
    assert_eq!(unseen.len(), 1);
    assert_eq!(unseen[0].kind, "customer");
    assert_eq!(unseen[0].body, "I see two charges.");
    let json = serde_json::to_value(&err).unwrap();
    assert_eq!(json["kind"], "send-guard");
    assert_eq!(json["unseen"][0]["body"], "I see two charges.");

    // Opening marks it seen: the row is read and the reply goes out.
    assert!(e.inbox("all", 0, 1).unwrap().rows[0].unread);
    let view = e.open_conversation(&c).unwrap();
    assert_eq!(view.subject, "Charged twice");
    assert_eq!(view.customer_name.as_deref(), Some("maria"));
    assert!(!view.entries[0].unseen);
    assert!(!e.inbox("all", 0, 1).unwrap().rows[0].unread);
    let sent = e.reply(&c, "Refunded.", false).unwrap();

    // A new customer message arrives from elsewhere: guarded again.
    std::thread::sleep(Duration::from_millis(5));
    customer_writes(&mut r, &c, "Also, the invoice is wrong.");
    let err = e.reply(&c, "Done.", false).unwrap_err();
    assert_eq!(err.kind, ErrorKind::SendGuard);
    assert_eq!(err.unseen.unwrap()[0].body, "Also, the invoice is wrong.");
    e.reply(&c, "Done.", true).unwrap();

    let view = e.conversation(&c).unwrap();
    let kinds: Vec<&str> = view.entries.iter().map(|x| x.kind.as_str()).collect();
    assert_eq!(kinds, ["customer", "reply", "customer", "reply"]);
    let mine = view.entries.iter().find(|x| x.id == sent.entry_id).unwrap();
    assert_eq!(mine.delivery_state.as_deref(), Some("queued"));
    assert!(mine.unsend_until.is_some());
    assert_eq!(mine.author_name, "Ana Lopez");

    // Unsend within the window.
    e.unsend(&c, &sent.entry_id).unwrap();
    let view = e.conversation(&c).unwrap();
    let withdrawn = view.entries.iter().find(|x| x.id == sent.entry_id).unwrap();
    assert_eq!(withdrawn.delivery_state.as_deref(), Some("cancelled"));
    assert!(e.unsend(&c, &sent.entry_id).is_err(), "only once");

    // Notes never trip the guard and are not replies.
    let n = e.note(&c, "Checked with @ana").unwrap();
    let view = e.conversation(&c).unwrap();
    let note = view.entries.iter().find(|x| x.id == n.entry_id).unwrap();
    assert_eq!(note.kind, "note");
    assert_eq!(e.note(&c, "  ").unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(e.reply(&c, "", true).unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(
        e.conversation("no such id!").unwrap_err().kind,
        ErrorKind::Invalid
    );
    let missing = ConversationId::random().to_string();
    assert_eq!(
        e.conversation(&missing).unwrap_err().kind,
        ErrorKind::NotFound
    );
}

#[test]
fn drafts_survive_a_restart_and_go_with_the_send() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let c = {
        let (e, _rx) = local(home);
        let mut r = other(home);
        let c = new_conversation(&mut r, "maria@acme.example", "Refund", "Where is it?");
        e.open_conversation(&c).unwrap();
        e.save_draft(&c, "reply", "Dear Maria, the refund").unwrap();
        assert_eq!(
            e.save_draft(&c, "memo", "x").unwrap_err().kind,
            ErrorKind::Invalid
        );
        c
    };
    // The app closed; a new one finds the half-written reply.
    let (e, _rx) = engine(home);
    let draft = e.conversation(&c).unwrap().draft.unwrap();
    assert_eq!(
        (draft.mode.as_str(), draft.body.as_str()),
        ("reply", "Dear Maria, the refund")
    );
    e.save_draft(&c, "note", "Ask @ana first").unwrap();
    assert_eq!(e.conversation(&c).unwrap().draft.unwrap().mode, "note");
    // Sending forgets it; a blank draft is no draft.
    e.note(&c, "Ask @ana first").unwrap();
    assert_eq!(e.conversation(&c).unwrap().draft, None);
    e.save_draft(&c, "reply", "Dear Maria").unwrap();
    e.save_draft(&c, "reply", "   ").unwrap();
    assert_eq!(e.conversation(&c).unwrap().draft, None);
    e.save_draft(&c, "reply", "Dear Maria, done.").unwrap();
    e.reply(&c, "Dear Maria, done.", false).unwrap();
    assert_eq!(e.conversation(&c).unwrap().draft, None);
}

#[test]
fn a_snooze_ending_on_my_conversation_notifies() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (e, rx) = local(home);
    let mut r = other(home);
    let c = new_conversation(&mut r, "maria@acme.example", "Call me back", "Tomorrow?");
    e.take(&c).unwrap();
    let wake = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        + 1_500;
    e.set_status(&c, "snoozed", Some(wake)).unwrap();
    let n = wait_for(
        &rx,
        "a snooze-ended notification",
        |ev| matches!(ev, AppEvent::Notify(n) if n.summary == "Snooze ended: Call me back"),
    );
    let AppEvent::Notify(n) = n else {
        unreachable!()
    };
    assert_eq!(n.conversation_id.as_deref(), Some(c.as_str()));
    assert_eq!(e.conversation(&c).unwrap().status, "open");
}

#[test]
fn a_conflicting_assignment_is_settled_from_the_banner() {
    use shoal_core::automerge::{ActorId, AutoCommit};
    use shoal_core::{AgentRole, ConversationDoc, Ctx, DocId, Document, Timestamp};
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (e, _rx) = local(home);
    let mut r = other(home);
    let ben = r
        .add_agent("Ben Okafor", "ben@northwind.example", AgentRole::Agent)
        .unwrap();
    let c = new_conversation(&mut r, "maria@acme.example", "Refund", "Where is it?");
    let doc_id = DocId::conversation(&ConversationId::parse(&c).unwrap());
    // Ben's replica: the same document, his own actor, offline.
    let mut doc = AutoCommit::new();
    for change in r.changes_since(&doc_id, &[]).unwrap() {
        doc.load_incremental(&change).unwrap();
    }
    let mut bens = ConversationDoc::from_automerge(doc.with_actor(ActorId::random())).unwrap();
    let before = bens.automerge_mut().get_heads();
    bens.assign(&Ctx::new(ben.clone(), Timestamp(1)), Some(&ben))
        .unwrap();
    let his: Vec<Vec<u8>> = bens
        .automerge_mut()
        .get_changes(&before)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    // Meanwhile Ana takes it; then Ben's change arrives.
    e.take(&c).unwrap();
    r.apply_changes(&doc_id, &his).unwrap();
    let view = e.conversation(&c).unwrap();
    assert_eq!(view.conflicts.len(), 1, "{:?}", view.conflicts);
    assert_eq!(view.conflicts[0].field, "assignee");
    // "Give it to Ben": the conflict is gone, Ben has it.
    e.resolve_conflict(&c, "assignee", ben.as_str()).unwrap();
    let view = e.conversation(&c).unwrap();
    assert!(view.conflicts.is_empty());
    assert_eq!(view.assignee.as_deref(), Some(ben.as_str()));
    assert_eq!(
        e.resolve_conflict(&c, "subject", "x").unwrap_err().kind,
        ErrorKind::Invalid
    );
}

#[test]
fn assign_take_status_and_tags() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (e, _rx) = local(home);
    let mut r = other(home);
    let c = new_conversation(&mut r, "maria@acme.example", "Login", "Cannot log in.");
    let me = e.app_state().agent_id.unwrap();

    e.take(&c).unwrap();
    let v = e.conversation(&c).unwrap();
    assert_eq!(v.assignee.as_deref(), Some(me.as_str()));
    assert_eq!(v.assignee_name.as_deref(), Some("Ana Lopez"));
    assert_eq!(e.inbox("mine", 0, 10).unwrap().total, 1);
    e.assign(&c, None).unwrap();
    assert_eq!(e.conversation(&c).unwrap().assignee, None);
    e.assign(&c, Some(&me)).unwrap();
    let stranger = "a".repeat(26);
    assert!(e.assign(&c, Some(&stranger)).is_err());

    // Snooze needs a time in the future.
    assert_eq!(
        e.set_status(&c, "snoozed", None).unwrap_err().kind,
        ErrorKind::Invalid
    );
    assert_eq!(
        e.set_status(&c, "snoozed", Some(1_000)).unwrap_err().kind,
        ErrorKind::Invalid
    );
    let until = chrono::Utc::now().timestamp_millis() + 3_600_000;
    e.set_status(&c, "snoozed", Some(until)).unwrap();
    let v = e.conversation(&c).unwrap();
    assert_eq!(
        (v.status.as_str(), v.snooze_until),
        ("snoozed", Some(until))
    );
    assert_eq!(e.inbox("snoozed", 0, 10).unwrap().total, 1);
    e.set_status(&c, "pending", None).unwrap();
    assert_eq!(e.conversation(&c).unwrap().status, "pending");
    assert_eq!(
        e.set_status(&c, "done", None).unwrap_err().kind,
        ErrorKind::Invalid
    );
    e.set_status(&c, "closed", None).unwrap();
    assert_eq!(e.reply(&c, "Hi", true).unwrap_err().kind, ErrorKind::Closed);
    e.set_status(&c, "open", None).unwrap();

    e.tag(&c, "billing").unwrap();
    e.tag(&c, "urgent").unwrap();
    assert_eq!(e.conversation(&c).unwrap().tags, ["billing", "urgent"]);
    e.untag(&c, "billing").unwrap();
    assert_eq!(e.conversation(&c).unwrap().tags, ["urgent"]);
    assert_eq!(e.tag(&c, " ").unwrap_err().kind, ErrorKind::Invalid);

    assert_eq!(e.tags().unwrap(), ["urgent"], "tags in use");
    // The list filtered by a tag, with the filtered total.
    let other_conv = new_conversation(&mut r, "tom@acme.example", "Invoice", "Where?");
    assert_eq!(
        e.inbox_page("all", "activity", None, 0, 10).unwrap().total,
        2
    );
    let tagged = e
        .inbox_page("all", "activity", Some(" Urgent "), 0, 10)
        .unwrap();
    assert_eq!(tagged.total, 1);
    assert_eq!(tagged.rows[0].conversation_id, c);
    assert!(tagged
        .rows
        .iter()
        .all(|row| row.conversation_id != other_conv));

    e.set_priority(&c, "urgent").unwrap();
    assert_eq!(e.conversation(&c).unwrap().priority, "urgent");
    assert_eq!(
        e.set_priority(&c, "asap").unwrap_err().kind,
        ErrorKind::Invalid
    );

    // A note that @mentions me puts the conversation in Mentions me.
    assert_eq!(e.inbox("mentions", 0, 10).unwrap().total, 0);
    e.note(&other_conv, "@ana is this ours?").unwrap();
    let mentions = e.inbox("mentions", 0, 10).unwrap();
    assert_eq!(mentions.total, 1);
    assert_eq!(mentions.rows[0].conversation_id, other_conv);
    assert_eq!(e.inbox_counts().unwrap()["mentions"], 1);
}

#[test]
fn customer_notes_splice_in_utf16_units() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (e, _rx) = local(home);
    let mut r = other(home);
    let c = new_conversation(&mut r, "maria@acme.example", "Hello", "Hi");
    let cust = e.conversation(&c).unwrap().customer_id;

    e.splice_customer_notes(&cust, 0, 0, "VIP 😀 call").unwrap();
    // In UTF-16 the emoji is 2 units: "call" starts at 7, not 6.
    e.splice_customer_notes(&cust, 7, 4, "mail").unwrap();
    assert_eq!(e.customer(&cust).unwrap().notes, "VIP 😀 mail");
    // Deleting the emoji takes 2 units.
    e.splice_customer_notes(&cust, 4, 2, "🎉").unwrap();
    assert_eq!(e.customer(&cust).unwrap().notes, "VIP 🎉 mail");
    // Inside a surrogate pair or past the end: refused, nothing changes.
    let err = e.splice_customer_notes(&cust, 5, 0, "x").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(e.splice_customer_notes(&cust, 99, 0, "x").is_err());
    let v = e.customer(&cust).unwrap();
    assert_eq!(v.notes, "VIP 🎉 mail");
    assert_eq!(v.emails, ["maria@acme.example"]);
    assert_eq!(v.conversations.len(), 1);
    assert_eq!(v.conversations[0].conversation_id, c);
}

#[test]
fn templates_expand_and_search() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (e, _rx) = local(home);
    let mut r = other(home);
    let c = new_conversation(
        &mut r,
        "maria@acme.example",
        "Refund request",
        "Please refund order 4471",
    );

    assert!(e.templates().unwrap().is_empty());
    e.set_template(
        "thanks",
        "Hi {customer.first_name}, thanks! {agent.first_name}",
    )
    .unwrap();
    e.set_template("bye", "Bye, we answer {team.hours}.")
        .unwrap();
    assert_eq!(
        e.expand_template(&c, "bye").unwrap(),
        "Bye, we answer Monday to Friday, 09:00–17:00 (UTC)."
    );
    let names: Vec<String> = e.templates().unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["bye", "thanks"]);
    assert_eq!(
        e.expand_template(&c, "thanks").unwrap(),
        "Hi maria, thanks! Ana"
    );
    assert_eq!(
        e.expand_template(&c, "nope").unwrap_err().kind,
        ErrorKind::NotFound
    );
    e.remove_template("bye").unwrap();
    assert_eq!(
        e.remove_template("bye").unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert_eq!(e.templates().unwrap().len(), 1);

    // As you type: "ref" finds "Refund".
    let hits = e.search("ref").unwrap();
    assert!(hits.iter().any(|h| h.id == c), "{hits:?}");
    assert!(e.search("4471").unwrap().iter().any(|h| h.id == c));
    assert!(e.search("zebra").unwrap().is_empty());
    assert!(e.search("  ").unwrap().is_empty());

    let team = e.team().unwrap();
    assert_eq!(team.name, "Northwind");
    assert_eq!(team.agents.len(), 1);
    assert!(team.agents[0].me);
}

#[test]
fn settings_persist_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    {
        let (e, _rx) = local(home);
        assert_eq!(e.settings(), Settings::default());
        e.set_settings(Settings {
            notifications: false,
        })
        .unwrap();
    }
    let (e, _rx) = engine(home);
    assert!(!e.settings().notifications);
    assert!(e.app_state().ready, "the replica is found again");
}

#[test]
fn the_team_settings_change_one_at_a_time_and_refuse_nonsense() {
    use shoal_app::team_settings::HoursView;
    use shoal_app::TeamSettingsChange as C;
    let dir = tempfile::tempdir().unwrap();
    let (e, _rx) = local(dir.path());
    let before = e.team_settings().unwrap();
    assert!(before.can_edit, "the founder is an admin");
    assert_eq!(before.hours.from, "09:00");
    assert_eq!(before.targets.len(), 4);
    assert_eq!(before.targets[0].priority, "urgent");
    assert_eq!(before.auto_close_days, None);
    assert!(before.my_working_hours.is_none());

    let berlin = HoursView {
        time_zone: "Europe/Berlin".into(),
        days: vec![1, 2, 3, 4],
        from: "08:00".into(),
        to: "16:30".into(),
        description: String::new(),
    };
    let v = e
        .change_team_settings(C::Hours {
            hours: berlin.clone(),
        })
        .unwrap();
    assert_eq!(
        v.hours.description,
        "Monday to Thursday, 08:00–16:30 (Europe/Berlin)"
    );
    let v = e
        .change_team_settings(C::AddHoliday {
            date: "2026-12-24".into(),
            label: "Christmas Eve".into(),
        })
        .unwrap();
    assert_eq!(v.holidays[0].label, "Christmas Eve");
    assert_eq!(v.hours.time_zone, "Europe/Berlin", "hours keep");
    let v = e
        .change_team_settings(C::Hours {
            hours: HoursView {
                from: "07:00".into(),
                ..berlin.clone()
            },
        })
        .unwrap();
    assert_eq!(v.holidays.len(), 1, "changing the hours keeps the holidays");
    let v = e
        .change_team_settings(C::Target {
            priority: "high".into(),
            first_minutes: 90,
            next_minutes: 180,
        })
        .unwrap();
    assert_eq!(v.targets[1].first_minutes, 90);
    let v = e
        .change_team_settings(C::SetTier {
            tier: "premium".into(),
            priority: "high".into(),
        })
        .unwrap();
    assert_eq!(v.tiers[0].tier, "premium");
    let v = e
        .change_team_settings(C::Acknowledgement {
            mailbox: "support@northwind.example".into(),
            text: Some("Thanks! By {due}.".into()),
            every_hours: 12,
        })
        .unwrap();
    assert_eq!(v.acknowledgements[0].every_hours, 12);
    let v = e
        .change_team_settings(C::AutoClose { days: Some(4) })
        .unwrap();
    assert_eq!(v.auto_close_days, Some(4));
    let v = e
        .change_team_settings(C::MyWorkingHours {
            hours: Some(berlin.clone()),
        })
        .unwrap();
    assert_eq!(v.my_working_hours.unwrap().to, "16:30");

    // Refused, with the reason, and nothing changes.
    for (change, says) in [
        (
            C::Hours {
                hours: HoursView {
                    to: "07:00".into(),
                    ..berlin.clone()
                },
            },
            "working hours",
        ),
        (
            C::RemoveHoliday {
                date: "2027-01-01".into(),
            },
            "not a day off",
        ),
        (
            C::Target {
                priority: "high".into(),
                first_minutes: 0,
                next_minutes: 60,
            },
            "at least one minute",
        ),
        (
            C::SetTier {
                tier: "premium".into(),
                priority: "asap".into(),
            },
            "asap",
        ),
        (
            C::RemoveTier {
                tier: "gold".into(),
            },
            "no tier",
        ),
        (C::AutoClose { days: Some(0) }, "auto-close"),
    ] {
        let err = e.change_team_settings(change).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Invalid, "{err:?}");
        assert!(err.message.contains(says), "{says}: {}", err.message);
    }
    let after = e.team_settings().unwrap();
    assert_eq!(after.hours.from, "07:00");
    assert_eq!(after.auto_close_days, Some(4));

    // Turned off again.
    let v = e
        .change_team_settings(C::Acknowledgement {
            mailbox: "support@northwind.example".into(),
            text: None,
            every_hours: 24,
        })
        .unwrap();
    assert!(v.acknowledgements.is_empty());
    let v = e
        .change_team_settings(C::MyWorkingHours { hours: None })
        .unwrap();
    assert!(v.my_working_hours.is_none());
    let v = e
        .change_team_settings(C::RemoveTier {
            tier: "premium".into(),
        })
        .unwrap();
    assert!(v.tiers.is_empty());
}

#[test]
fn local_writes_emit_coalesced_replica_changed() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (e, rx) = local(home);
    let mut r = other(home);
    let c = new_conversation(&mut r, "maria@acme.example", "Hello", "Hi");
    drain(&rx);

    e.tag(&c, "one").unwrap();
    let ev = wait_for(&rx, "replica-changed", |e| {
        matches!(e, AppEvent::ReplicaChanged(_))
    });
    let AppEvent::ReplicaChanged(ch) = ev else {
        unreachable!()
    };
    assert_eq!(ch.conversations, std::slice::from_ref(&c));
    assert!(ch.local);
    assert!(!ch.team);
    let payload = serde_json::to_value(AppEvent::ReplicaChanged(ch)).unwrap();
    assert_eq!(payload["conversations"][0], c.as_str());

    // A burst of writes: far fewer events than writes, at least 50 ms apart.
    drain(&rx);
    for i in 0..30 {
        e.tag(&c, &format!("t{i}")).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut times = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if matches!(ev, AppEvent::ReplicaChanged(_)) {
            times.push(Instant::now());
        }
    }
    assert!(!times.is_empty());
    assert!(times.len() < 30, "{} events for 30 writes", times.len());

    // Timing through a channel: measure emission spacing with a timestamping sink.
    struct Stamps(std::sync::Mutex<Vec<Instant>>);
    impl shoal_app::EventSink for Stamps {
        fn emit(&self, e: AppEvent) {
            if matches!(e, AppEvent::ReplicaChanged(_)) {
                self.0.lock().unwrap().push(Instant::now());
            }
        }
    }
    drop(e);
    let stamps = Arc::new(Stamps(std::sync::Mutex::new(Vec::new())));
    let e = Engine::open(home, stamps.clone()).unwrap();
    let deadline = Instant::now() + Duration::from_millis(400);
    let mut writes = 0;
    while Instant::now() < deadline {
        e.tag(&c, &format!("u{writes}")).unwrap();
        writes += 1;
    }
    std::thread::sleep(Duration::from_millis(200));
    let stamps = stamps.0.lock().unwrap().clone();
    assert!(stamps.len() >= 2, "{} events", stamps.len());
    assert!(
        stamps.len() < writes,
        "{} events for {writes} writes",
        stamps.len()
    );
    for w in stamps.windows(2) {
        assert!(
            w[1] - w[0] >= Duration::from_millis(45),
            "events {:?} apart",
            w[1] - w[0]
        );
    }
}

/// Closing when the customer confirms: the conversation waits, pending,
/// and when the follow-up time comes without an answer the assignee is
/// reminded and it shows under "follow up".
#[test]
fn a_follow_up_without_an_answer_reminds_the_assignee() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (e, rx) = local(home);
    let mut r = other(home);
    let c = new_conversation(&mut r, "maria@acme.example", "Refund", "Where is it?");
    e.take(&c).unwrap();
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        + 1_500;
    assert!(
        e.await_confirmation(&c, at - 10_000).is_err(),
        "in the past"
    );
    e.await_confirmation(&c, at).unwrap();
    let view = e.conversation(&c).unwrap();
    assert_eq!(
        (view.status.as_str(), view.follow_up_at),
        ("pending", Some(at))
    );
    assert_eq!(e.inbox("follow-up", 0, 10).unwrap().total, 0);
    let n = wait_for(
        &rx,
        "a follow-up reminder",
        |ev| matches!(ev, AppEvent::Notify(n) if n.summary == "Follow up: Refund"),
    );
    let AppEvent::Notify(n) = n else {
        unreachable!()
    };
    assert_eq!(n.conversation_id.as_deref(), Some(c.as_str()));
    assert_eq!(e.inbox("follow-up", 0, 10).unwrap().total, 1);
    // The window is told, so its views and counts move without any
    // document changing.
    wait_for(
        &rx,
        "the follow-up view to change",
        |ev| matches!(ev, AppEvent::ReplicaChanged(p) if p.conversations.contains(&c)),
    );
    // The customer confirms; closing records it.
    e.close_confirmed(&c).unwrap();
    let view = e.conversation(&c).unwrap();
    assert_eq!(view.status, "closed");
    assert_eq!(view.resolution.as_deref(), Some("confirmed"));
}

#[test]
fn customers_are_added_and_edited_calls_logged_and_conversations_moved() {
    use shoal_app::{CallInput, CustomerInput};
    let dir = tempfile::tempdir().unwrap();
    let (e, _rx) = local(dir.path());
    let input = |name: &str, emails: &[&str], company: Option<&str>| CustomerInput {
        name: name.into(),
        emails: emails.iter().map(|s| (*s).to_owned()).collect(),
        company: company.map(str::to_owned),
        tier: None,
    };
    let maria = e
        .new_customer(input(" Maria Garcia ", &["maria@acme.example", " "], None))
        .unwrap();
    let c = e.customer(&maria).unwrap();
    assert_eq!((c.name.as_str(), c.emails.len()), ("Maria Garcia", 1));
    assert_eq!(
        e.new_customer(input("Other", &["MARIA@acme.example"], None))
            .unwrap_err()
            .kind,
        ErrorKind::Invalid,
        "an address belongs to one customer"
    );
    assert_eq!(
        e.new_customer(input("  ", &[], None)).unwrap_err().kind,
        ErrorKind::Invalid
    );

    // An edit is the form's whole state: a second address, a company, a new
    // spelling; the primary address stays first.
    e.edit_customer(
        &maria,
        input(
            "María García",
            &["maria@acme.example", "m.garcia@home.example"],
            Some("Acme"),
        ),
    )
    .unwrap();
    let c = e.customer(&maria).unwrap();
    assert_eq!(c.name, "María García");
    assert_eq!(c.emails, ["maria@acme.example", "m.garcia@home.example"]);
    assert_eq!(c.company.as_deref(), Some("Acme"));
    e.edit_customer(
        &maria,
        input("María García", &["m.garcia@home.example"], None),
    )
    .unwrap();
    let c = e.customer(&maria).unwrap();
    assert_eq!(c.emails, ["m.garcia@home.example"]);
    assert_eq!(c.company, None);

    // A call from a known customer (by address or name) and from a new one.
    let call = |customer: &str, name: Option<&str>| CallInput {
        customer: customer.into(),
        name: name.map(str::to_owned),
        subject: "Phone: kettle".into(),
        body: "Says the kettle leaks.".into(),
    };
    let first = e.log_call(call("María García", None)).unwrap();
    let v = e.conversation(&first).unwrap();
    assert_eq!(
        (v.channel.as_str(), v.customer_id.as_str()),
        ("phone", maria.as_str())
    );
    let second = e
        .log_call(call("tom@stonebridge.example", Some("Tom Reed")))
        .unwrap();
    let tom = e.conversation(&second).unwrap().customer_id;
    assert_eq!(e.customer(&tom).unwrap().name, "Tom Reed");
    let err = e.log_call(call("Nobody Known", None)).unwrap_err();
    assert!(err.message.contains("e-mail address"), "{}", err.message);
    let mut empty = call("tom@stonebridge.example", None);
    empty.body = " ".into();
    assert_eq!(e.log_call(empty).unwrap_err().kind, ErrorKind::Invalid);

    // The team writes first: a new conversation whose first entry is our
    // e-mail, queued, assigned to me.
    let mut letter = call("lea@park.example", Some("Lea Park"));
    letter.subject = "Your order".into();
    letter.body = "Hello Lea, it ships today.".into();
    let written = e.write_to_customer(letter).unwrap();
    let v = e.conversation(&written).unwrap();
    assert_eq!(v.channel, "email");
    assert_eq!(v.entries.len(), 1);
    assert_eq!(v.entries[0].kind, "reply");
    assert_eq!(v.entries[0].delivery_state.as_deref(), Some("queued"));
    assert_eq!(v.assignee, e.app_state().agent_id);
    assert_eq!(e.customer(&v.customer_id).unwrap().name, "Lea Park");
    let nameless = e.new_customer(input("No Mail", &[], None)).unwrap();
    let mut to_nobody = call(&nameless, None);
    to_nobody.subject = "Hi".into();
    let err = e.write_to_customer(to_nobody).unwrap_err();
    assert!(err.message.contains("no e-mail address"), "{}", err.message);

    // Filed under the wrong customer: moved.
    e.move_conversation(&second, "m.garcia@home.example")
        .unwrap();
    assert_eq!(e.conversation(&second).unwrap().customer_id, maria);
    assert_eq!(e.customer(&maria).unwrap().conversations.len(), 2);
    assert!(e
        .move_conversation(&second, "ghost@nowhere.example")
        .is_err());
}
