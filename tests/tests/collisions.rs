//! The interleaving matrix of collision safety, end to end: real dovecot and
//! OpenSMTPD on 127.0.0.1, a real relay with the support mailbox, and three
//! real `shoal` clients (Ana, Ben, Cleo). "Offline" is a client that does
//! not sync; "online" syncs right after acting.
//!
//! In every case the customer's mailbox receives exactly one e-mail per
//! intended reply, every held reply is visible to its author with its text
//! and reason, and all replicas agree at the end.

use serde_json::Value;
use shoal_e2e::mail::{connect_support_mailbox, customer_mail, MailServers, ALICE, SUPPORT};
use shoal_e2e::{eventually, Client, Relay};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// A two-second undo window: long enough for two agents' pushes to land
/// inside it ("the same second"), short enough for a quick test.
const SERVE: [&str; 4] = ["--undo-send-secs", "2", "--mail-retry-secs", "1"];

struct Team {
    mail: MailServers,
    relay: Relay,
    ana: Client,
    ben: Client,
    cleo: Client,
}

impl Team {
    fn start() -> Team {
        let mail = MailServers::start();
        let relay = Relay::start_with(&SERVE);
        let team = relay.team("Northwind");
        let tokens: Vec<String> = [("Ana", "ana"), ("Ben", "ben"), ("Cleo", "cleo")]
            .iter()
            .map(|(name, user)| relay.agent(&team, name, &format!("{user}@northwind.example")))
            .collect();
        connect_support_mailbox(&relay, &mail, "Northwind");
        let clients: Vec<Client> = tokens
            .iter()
            .map(|t| {
                let c = Client::new();
                c.login(&relay, t);
                c
            })
            .collect();
        let [ana, ben, cleo]: [Client; 3] = clients.try_into().ok().unwrap();
        Team {
            mail,
            relay,
            ana,
            ben,
            cleo,
        }
    }

    fn agents(&self) -> [&Client; 3] {
        [&self.ana, &self.ben, &self.cleo]
    }

    /// A customer mail opens a conversation; every agent syncs and reads it.
    fn conversation(&self, subject: &str) -> Conversation {
        let message_id = format!("{}@example.test", subject.replace(' ', "-").to_lowercase());
        self.mail
            .deliver(&customer_mail(&message_id, subject, "", "Hello?"), SUPPORT);
        let mut id = None;
        for agent in self.agents() {
            assert!(
                eventually(WAIT, || {
                    agent.sync();
                    id = agent
                        .inbox()
                        .iter()
                        .find(|r| r["subject"] == subject)
                        .map(|r| r["conversation_id"].as_str().unwrap().to_owned());
                    id.is_some()
                }),
                "{subject} never reached every agent"
            );
        }
        let id = id.unwrap();
        for agent in self.agents() {
            agent.ok(&["show", &id]);
        }
        Conversation {
            id,
            subject: subject.to_owned(),
            message_id,
        }
    }

    /// Everyone syncs until no reply of `conv` is waiting for the outbox;
    /// returns its entries (as Ana's replica has them).
    fn settle(&self, conv: &Conversation) -> Vec<Value> {
        let mut entries = Vec::new();
        let settled = eventually(WAIT, || {
            // Twice round: what the last agent pushes reaches the first.
            for a in self.agents().iter().chain(self.agents().iter()) {
                a.sync();
            }
            entries = entries_of(&self.ana, &conv.id);
            entries
                .iter()
                .all(|e| e["kind"] != "reply" || e["delivery"]["state"] != "queued")
        });
        assert!(settled, "replies still queued: {entries:#?}");
        entries
    }

    /// Replies that reached the customer for `conv`. Called once every
    /// reply is decided (sent back to the replicas, held or withdrawn), so a
    /// second, wrong one would have been handed to the mail server already;
    /// the pause covers its way into the maildir.
    fn mails(&self, conv: &Conversation) -> Vec<String> {
        std::thread::sleep(Duration::from_secs(1));
        let subject = format!("Subject: Re: {}", conv.subject);
        self.mail
            .messages(ALICE)
            .iter()
            .map(|m| String::from_utf8_lossy(m).into_owned())
            .filter(|m| m.lines().any(|l| l.trim_end() == subject))
            .collect()
    }

    /// All replicas hold the same documents.
    fn agree(&self) {
        for a in self.agents() {
            a.sync();
        }
        let views = self.ana.shared_views();
        assert_eq!(views, self.ben.shared_views(), "Ana and Ben differ");
        assert_eq!(views, self.cleo.shared_views(), "Ana and Cleo differ");
    }
}

struct Conversation {
    id: String,
    subject: String,
    message_id: String,
}

fn entries_of(agent: &Client, conv: &str) -> Vec<Value> {
    agent.json(&["show", conv, "--no-mark-seen"])["conversation"]["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn reply(agent: &Client, conv: &Conversation, body: &str) -> String {
    agent.json(&["reply", &conv.id, "--body", body])["entry_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn state_of<'a>(entries: &'a [Value], entry: &str) -> &'a Value {
    &entries
        .iter()
        .find(|e| e["id"] == entry)
        .unwrap_or_else(|| panic!("no entry {entry}: {entries:#?}"))["delivery"]
}

/// `shoal held --json` of `agent` lists `entry` with its text; returns the reason.
fn held_for(agent: &Client, entry: &str, body: &str) -> String {
    let held = agent.json(&["held"]);
    let row = held
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["entry_id"] == entry)
        .unwrap_or_else(|| panic!("{entry} is not in `shoal held`: {held:#?}"))
        .clone();
    assert_eq!(row["body"], body, "the held reply keeps its text");
    row["reason"].as_str().unwrap().to_owned()
}

fn contains_body(mails: &[String], body: &str) -> bool {
    mails.iter().any(|m| m.contains(body))
}

#[test]
fn the_interleaving_matrix_sends_one_email_per_intended_reply() {
    let mut t = Team::start();

    // 1. Online/online, both within the undo window: the first goes out, the
    //    second is held and names the first's author.
    let c = t.conversation("Same second");
    let a = reply(&t.ana, &c, "Ana: refunded.");
    t.ana.sync();
    let b = reply(&t.ben, &c, "Ben: refund on its way.");
    t.ben.sync();
    let entries = t.settle(&c);
    let (sent, held, holder, other) =
        one_sent_one_held(&entries, (&a, &t.ana, "Ana"), (&b, &t.ben, "Ben"));
    let reason = held_for(holder, held.0, held.1);
    assert!(reason.starts_with(&format!("{other} replied")), "{reason}");
    let mails = t.mails(&c);
    assert_eq!(mails.len(), 1, "one e-mail");
    assert!(contains_body(&mails, sent.1));
    // The held one is discarded: nothing more goes out, the text stays.
    holder.ok(&["discard", &held.0[..8]]);
    let entries = t.settle(&c);
    assert_eq!(state_of(&entries, held.0)["state"], "cancelled");
    assert_eq!(t.mails(&c).len(), 1);

    // 2. Offline/online: Ana writes offline; Ben answers online and it goes
    //    out; Ana's arrives later and is held. She sends it anyway, edited.
    let c = t.conversation("Offline online");
    let a = reply(&t.ana, &c, "Ana from the train.");
    let b = reply(&t.ben, &c, "Ben at the office.");
    t.ben.sync();
    assert!(eventually(WAIT, || {
        t.ben.sync();
        state_of(&entries_of(&t.ben, &c.id), &b)["state"] == "sent"
    }));
    t.ana.sync();
    let entries = t.settle(&c);
    assert_eq!(state_of(&entries, &a)["state"], "held");
    assert!(held_for(&t.ana, &a, "Ana from the train.").starts_with("Ben replied"));
    t.ana.ok(&[
        "release",
        &a[..8],
        "--body",
        "Ana: adding to Ben's answer, the refund takes 3 days.",
    ]);
    let entries = t.settle(&c);
    assert_eq!(state_of(&entries, &a)["state"], "sent");
    let mails = t.mails(&c);
    assert_eq!(mails.len(), 2, "Ben's, and Ana's by her choice");
    assert!(contains_body(&mails, "the refund takes 3 days"));

    // 3. Offline/offline: both write offline; the one that reaches the
    //    relay first goes out. The other is released as it is.
    let c = t.conversation("Offline offline");
    let a = reply(&t.ana, &c, "Ana offline.");
    let b = reply(&t.ben, &c, "Ben offline.");
    t.ben.sync();
    t.ana.sync();
    let entries = t.settle(&c);
    let (_, held, holder, _) =
        one_sent_one_held(&entries, (&a, &t.ana, "Ana"), (&b, &t.ben, "Ben"));
    assert_eq!(t.mails(&c).len(), 1);
    holder.ok(&["release", &held.0[..8]]);
    t.settle(&c);
    assert_eq!(t.mails(&c).len(), 2);

    // 4. The customer writes again in between: the reply written before it
    //    is held, even though the mail's Date header is older.
    let c = t.conversation("Wrote again");
    let a = reply(&t.ana, &c, "Ana answers the first mail.");
    t.mail.deliver(
        &customer_mail(
            "wrote-again-2@example.test",
            "Re: Wrote again",
            &format!("In-Reply-To: <{}>\r\n", c.message_id),
            "Never mind, it was my bank.",
        ),
        SUPPORT,
    );
    assert!(eventually(WAIT, || {
        t.cleo.sync();
        entries_of(&t.cleo, &c.id).len() == 2
    }));
    t.ana.sync();
    let entries = t.settle(&c);
    assert_eq!(state_of(&entries, &a)["state"], "held");
    assert!(held_for(&t.ana, &a, "Ana answers the first mail.").contains("customer wrote again"));
    assert_eq!(t.mails(&c).len(), 0);
    // Ana reads it and answers the new message instead: the guard lets her.
    t.ana.ok(&["show", &c.id]);
    t.ana.ok(&["discard", &a[..8]]);
    let c2 = reply(&t.ana, &c, "Glad it is sorted!");
    let entries = t.settle(&c);
    assert_eq!(state_of(&entries, &c2)["state"], "sent");
    assert_eq!(t.mails(&c).len(), 1);

    // 5. The relay restarts between the two pushes.
    let c = t.conversation("Relay restart");
    let a = reply(&t.ana, &c, "Ana before the restart.");
    let b = reply(&t.ben, &c, "Ben after the restart.");
    t.ana.sync();
    t.relay.kill();
    t.relay.restart();
    t.ben.sync();
    let entries = t.settle(&c);
    one_sent_one_held(&entries, (&a, &t.ana, "Ana"), (&b, &t.ben, "Ben"));
    assert_eq!(t.mails(&c).len(), 1);

    // 6. A third agent syncs in between: Cleo sees Ana's reply and adds to
    //    it (intended, sent); Ben, who had not, is held.
    let c = t.conversation("Third agent");
    let b = reply(&t.ben, &c, "Ben answers too.");
    let a = reply(&t.ana, &c, "Ana answers.");
    t.ana.sync();
    t.cleo.sync();
    t.cleo.ok(&["show", &c.id]);
    let cl = reply(&t.cleo, &c, "Cleo adds the tracking number.");
    t.cleo.sync();
    assert!(eventually(WAIT, || {
        t.cleo.sync();
        state_of(&entries_of(&t.cleo, &c.id), &cl)["state"] == "sent"
    }));
    t.ben.sync();
    let entries = t.settle(&c);
    assert_eq!(state_of(&entries, &a)["state"], "sent");
    assert_eq!(state_of(&entries, &cl)["state"], "sent");
    assert_eq!(state_of(&entries, &b)["state"], "held");
    let mails = t.mails(&c);
    assert_eq!(mails.len(), 2, "Ana's and Cleo's");
    assert!(contains_body(&mails, "tracking number"));

    // 7. One after the other (the second agent had seen the first reply):
    //    no collision, both go out.
    let c = t.conversation("In turn");
    reply(&t.ana, &c, "Ana first.");
    t.ana.sync();
    t.settle(&c);
    t.ben.ok(&["show", &c.id]);
    reply(&t.ben, &c, "Ben follows up.");
    t.ben.sync();
    t.settle(&c);
    assert_eq!(t.mails(&c).len(), 2);

    t.agree();
}

/// Of two concurrent replies (id, author's client, author's name), exactly
/// one went out and the other is held; returns (sent, held, the held one's
/// author, the sent one's author name), each reply as (id, text).
fn one_sent_one_held<'a>(
    entries: &'a [Value],
    a: (&'a str, &'a Client, &'a str),
    b: (&'a str, &'a Client, &'a str),
) -> ((&'a str, &'a str), (&'a str, &'a str), &'a Client, &'a str) {
    let body = |id: &str| -> &'a str {
        entries.iter().find(|e| e["id"] == id).unwrap()["body"]
            .as_str()
            .unwrap()
    };
    let (sa, sb) = (
        &state_of(entries, a.0)["state"],
        &state_of(entries, b.0)["state"],
    );
    match (sa.as_str(), sb.as_str()) {
        (Some("sent"), Some("held")) => ((a.0, body(a.0)), (b.0, body(b.0)), b.1, a.2),
        (Some("held"), Some("sent")) => ((b.0, body(b.0)), (a.0, body(a.0)), a.1, b.2),
        other => panic!("expected one sent and one held, got {other:?}: {entries:#?}"),
    }
}

/// The send guard on the command line: an entry synced after the agent
/// looked is unseen however old its date, notes count, and `--force` sends.
#[test]
fn the_send_guard_counts_what_was_shown_not_dates() {
    let t = Team::start();
    let c = t.conversation("Guarded");
    // Ben's note, written before Ana looked by any clock, synced after.
    t.ben.ok(&[
        "note",
        &c.id,
        "--body",
        "Careful: she was refunded already.",
    ]);
    t.ben.sync();
    t.ana.sync();
    let refused = t.ana.run(&["reply", &c.id, "--body", "Refunding now."]);
    assert_eq!(refused.status.code(), Some(3), "the send guard's exit code");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("note by Ben"), "{said}");
    t.ana.ok(&["show", &c.id]);
    t.ana
        .ok(&["reply", &c.id, "--body", "Your refund went out yesterday."]);
    t.ana.sync();
    let entries = t.settle(&c);
    assert!(entries
        .iter()
        .any(|e| e["kind"] == "reply" && e["delivery"]["state"] == "sent"));
    assert_eq!(t.mails(&c).len(), 1);
}

/// The lines a `shoal notifications --watch --json` process printed; the
/// process is killed when this is dropped (also when a test fails).
struct Stream {
    child: std::process::Child,
    rx: std::sync::mpsc::Receiver<Value>,
    lines: Vec<Value>,
}

impl Stream {
    fn start(agent: &Client) -> Stream {
        use std::io::{BufRead, BufReader};
        use std::process::Stdio;
        let mut child = agent
            .cmd(&["notifications", "--watch", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        Stream {
            child,
            rx,
            lines: Vec::new(),
        }
    }

    /// The first notification whose summary contains `what`.
    fn wait_for(&mut self, what: &str) -> Value {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let found = self
                .lines
                .iter()
                .find(|v| v["summary"].as_str().unwrap_or("").contains(what));
            if let Some(v) = found {
                return v.clone();
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(v) => self.lines.push(v),
                Err(_) => panic!("no notification {what:?}; saw {:#?}", self.lines),
            }
        }
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `shoal notifications --watch --json` streams the desktop's rules: Ben
/// hears that his reply will be held, then that it was, and that Ana
/// mentioned him.
#[test]
fn the_cli_streams_held_replies_and_mentions() {
    let t = Team::start();
    let c = t.conversation("Streamed");
    let other = t.conversation("Streamed mention");
    let mut stream = Stream::start(&t.ben);
    // Ben answers (his watcher pushes it at once); the customer writes
    // again inside its undo window.
    let b = reply(&t.ben, &c, "Ben answers.");
    t.mail.deliver(
        &customer_mail(
            "streamed-2@example.test",
            "Re: Streamed",
            &format!("In-Reply-To: <{}>\r\n", c.message_id),
            "One more thing!",
        ),
        SUPPORT,
    );
    let held = stream.wait_for("Your reply was held");
    assert_eq!(held["conversation_id"], c.id.as_str());
    assert!(
        held["body"]
            .as_str()
            .unwrap()
            .contains("customer wrote again"),
        "{held}"
    );
    assert!(
        stream
            .lines
            .iter()
            .any(|v| v["summary"] == "Your reply will be held: Streamed"),
        "the re-check on sync warned first: {:#?}",
        stream.lines
    );
    assert_eq!(state_of(&t.settle(&c), &b)["state"], "held");
    // A mention, in another conversation.
    t.ana.ok(&[
        "note",
        &other.id,
        "--body",
        "@ben can you look at this one?",
    ]);
    t.ana.sync();
    let mention = stream.wait_for("mentioned you");
    assert_eq!(mention["summary"], "Ana mentioned you: Streamed mention");
}
