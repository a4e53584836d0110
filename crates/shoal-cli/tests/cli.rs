//! End-to-end tests of the `shoal` binary: each test runs the real executable
//! against replicas in temporary home directories.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use tempfile::TempDir;

const SEND_GUARD_EXIT: i32 = 3;

/// A temporary directory holding one or more homes.
struct Sandbox {
    dir: TempDir,
}

/// One client home inside a sandbox.
struct Home {
    path: PathBuf,
}

/// A finished run.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn shoal(args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shoal"));
    cmd.args(args)
        .env_remove("SHOAL_HOME")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = cmd.spawn().expect("run shoal");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("wait for shoal");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8(stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(stderr).expect("utf-8 stderr"),
    }
}

impl Sandbox {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn home(&self, name: &str) -> Home {
        Home {
            path: self.dir.path().join(name),
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Ben (added by [`Home::add_ben`]) joins `ana`'s team without a
    /// relay: a home made from her export.
    fn ben_joins(&self, ana: &Home) -> Home {
        let team_file = self.file("team.jsonl");
        ana.ok(&["export", "--out", team_file.to_str().unwrap()]);
        let ben = self.home("ben");
        ben.ok(&[
            "init",
            "--from",
            team_file.to_str().unwrap(),
            "--agent",
            "ben@acme.example",
        ]);
        ben
    }

    /// A home with a team whose first agent is Ana.
    fn team(&self) -> Home {
        let home = self.home("ana");
        home.ok(&[
            "init",
            "--team",
            "Acme Support",
            "--name",
            "Ana Lima",
            "--email",
            "ana@acme.example",
        ]);
        home
    }
}

impl Home {
    /// Adds Ben Kim as a second agent of the team.
    fn add_ben(&self) {
        self.ok(&[
            "agent",
            "add",
            "--name",
            "Ben Kim",
            "--email",
            "ben@acme.example",
        ]);
    }

    fn args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = vec!["--home", self.path.to_str().expect("utf-8 path")];
        all.extend_from_slice(args);
        all
    }

    fn run(&self, args: &[&str]) -> Run {
        shoal(&self.args(args), None)
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        shoal(&self.args(args), Some(stdin))
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(
            run.code, 0,
            "shoal {args:?} failed:\nstdout: {}\nstderr: {}",
            run.stdout, run.stderr
        );
        run.stdout
    }

    /// Runs a command with `--json` that must succeed; returns the parsed output.
    fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        let out = self.ok(&args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}\n{out}"))
    }

    /// Runs a command that must fail with `code`; returns the run.
    fn fails(&self, args: &[&str], code: i32) -> Run {
        let run = self.run(args);
        assert_eq!(
            run.code, code,
            "shoal {args:?}:\nstdout: {}\nstderr: {}",
            run.stdout, run.stderr
        );
        assert!(run.stderr.starts_with("error:"), "stderr: {}", run.stderr);
        run
    }

    /// Opens a phone conversation (seen by me, since I logged it); returns its id.
    fn conversation(&self, customer: &str, subject: &str, body: &str) -> String {
        let v = self.json(&[
            "new",
            "--customer",
            customer,
            "--subject",
            subject,
            "--body",
            body,
        ]);
        v["conversation_id"]
            .as_str()
            .expect("conversation_id")
            .to_owned()
    }

    fn show(&self, conv: &str) -> Value {
        self.json(&["show", conv, "--no-mark-seen"])
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {v}"))
}

/// The subcommand names listed under "Commands:" in a help text.
fn listed_commands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        // Names are indented by two spaces; wrapped descriptions by more.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_command_has_help() {
    let top = shoal(&["--help"], None);
    assert_eq!(top.code, 0);
    assert!(top.stdout.contains("Usage: shoal"));
    let commands = listed_commands(&top.stdout);
    for expected in [
        "init", "new", "inbox", "show", "reply", "note", "assign", "unassign", "status",
        "priority", "tag", "untag", "customer", "search", "export", "import", "reindex", "compact",
        "check", "agent", "template",
    ] {
        assert!(
            commands.iter().any(|c| c == expected),
            "{expected} missing from {commands:?}"
        );
    }
    let mut checked = 0;
    for command in &commands {
        let run = shoal(&[command, "--help"], None);
        assert_eq!(run.code, 0, "{command} --help: {}", run.stderr);
        assert!(
            run.stdout.contains(&format!("Usage: shoal {command}")),
            "{command}: {}",
            run.stdout
        );
        checked += 1;
        for sub in listed_commands(&run.stdout) {
            let run = shoal(&[command, &sub, "--help"], None);
            assert_eq!(run.code, 0, "{command} {sub} --help: {}", run.stderr);
            assert!(
                run.stdout
                    .contains(&format!("Usage: shoal {command} {sub}")),
                "{command} {sub}: {}",
                run.stdout
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} help texts checked");
    let init = shoal(&["init", "--help"], None);
    assert!(init
        .stdout
        .to_lowercase()
        .contains("creates a workspace with a sample team and conversations"));
}

#[test]
fn usage_errors_exit_2() {
    let run = shoal(&["inbox", "--view", "bogus"], None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("possible values"), "{}", run.stderr);
    assert_eq!(shoal(&["frobnicate"], None).code, 2);
    assert_eq!(
        shoal(&["status", "abcd"], None).code,
        2,
        "status needs both"
    );
    assert_eq!(
        shoal(&["reply", "abcd"], None).code,
        2,
        "reply needs a body"
    );
}

#[test]
fn init_new_and_inbox_json() {
    let sandbox = Sandbox::new();
    let home = sandbox.home("ana");
    let init = home.json(&[
        "init",
        "--team",
        "Acme Support",
        "--name",
        "Ana Lima",
        "--email",
        "ana@acme.example",
    ]);
    assert_eq!(str_of(&init, "team_name"), "Acme Support");
    assert_eq!(str_of(&init, "agent_email"), "ana@acme.example");
    assert_eq!(str_of(&init, "team_id").len(), 32);
    assert!(home.path.join("replica.sqlite3").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&home.path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    let again = home.fails(
        &[
            "init",
            "--team",
            "T",
            "--name",
            "N",
            "--email",
            "n@x.example",
        ],
        1,
    );
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);

    let created = home.json(&[
        "new",
        "--customer",
        "maria@example.com",
        "--customer-name",
        "Maria Garcia",
        "--subject",
        "Charged twice",
        "--body",
        "Two charges for order 1042.",
        "--priority",
        "high",
    ]);
    let conv = str_of(&created, "conversation_id").to_owned();
    assert_eq!(conv.len(), 32);
    assert!(created["entry_id"].is_string() && created["customer_id"].is_string());
    // An e-mail typed in from stdin: logged by Ana, so read for her.
    let run = home.run_with_stdin(
        &[
            "new",
            "--customer",
            "bob@example.com",
            "--subject",
            "Login broken",
            "--channel",
            "email",
            "--body",
            "-",
            "--json",
        ],
        "I cannot log in since yesterday.\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let email_conv = serde_json::from_str::<Value>(&run.stdout).unwrap()["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let inbox = home.json(&["inbox"]);
    assert_eq!(str_of(&inbox, "view"), "open");
    assert_eq!(inbox["counts"]["open"], 2);
    assert_eq!(inbox["counts"]["all"], 2);
    assert_eq!(inbox["counts"]["mine"], 0);
    assert_eq!(inbox["counts"]["unassigned"], 2);
    let rows = inbox["conversations"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let row = rows
        .iter()
        .find(|r| r["conversation_id"] == conv.as_str())
        .unwrap();
    assert_eq!(str_of(row, "subject"), "Charged twice");
    assert_eq!(str_of(row, "status"), "open");
    assert_eq!(str_of(row, "priority"), "high");
    assert_eq!(str_of(row, "channel"), "phone");
    assert_eq!(str_of(row, "customer_name"), "Maria Garcia");
    assert_eq!(row["unread"], false, "I logged the call myself");
    let email_row = rows
        .iter()
        .find(|r| r["conversation_id"] == email_conv.as_str())
        .unwrap();
    assert_eq!(email_row["unread"], false, "I typed it in myself");
    assert_eq!(
        str_of(email_row, "preview"),
        "I cannot log in since yesterday."
    );

    // The human table: short ids, unread marker, priority only when not normal.
    let table = home.ok(&["inbox"]);
    assert!(
        table.contains(&conv[..8]) && !table.contains(&conv),
        "{table}"
    );
    assert!(
        table.contains("high") && table.contains("Maria Garcia"),
        "{table}"
    );
    assert!(!table.contains("●"), "nothing unread: {table}");
    let limited = home.json(&["inbox", "--limit", "1"]);
    assert_eq!(limited["conversations"].as_array().unwrap().len(), 1);
    let closed = home.json(&["inbox", "--status", "closed"]);
    assert_eq!(str_of(&closed, "view"), "closed");
    assert!(closed["conversations"].as_array().unwrap().is_empty());
    let by_customer = home.json(&["inbox", "--customer", "maria@example.com"]);
    assert_eq!(by_customer["conversations"].as_array().unwrap().len(), 1);
}

#[test]
fn show_json_and_marking_seen() {
    let sandbox = Sandbox::new();
    let home = sandbox.team();
    home.add_ben();
    // Ben types in a customer's e-mail and hands it over (an export): for
    // Ana it is unread until shown.
    let ben = sandbox.ben_joins(&home);
    let conv = ben.json(&[
        "new",
        "--customer",
        "bob@example.com",
        "--customer-name",
        "Bob Stone",
        "--subject",
        "Login broken",
        "--channel",
        "email",
        "--body",
        "I cannot log in.",
    ])["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let back = sandbox.file("back.jsonl");
    ben.ok(&["export", "--out", back.to_str().unwrap()]);
    home.ok(&["import", back.to_str().unwrap()]);
    let unread = |home: &Home| home.json(&["inbox"])["conversations"][0]["unread"].clone();
    assert_eq!(unread(&home), true);
    let table = home.ok(&["inbox"]);
    assert!(table.contains("●"), "the unread marker: {table}");

    let shown = home.json(&["show", &conv[..6], "--no-mark-seen"]);
    assert_eq!(unread(&home), true, "--no-mark-seen leaves it unread");
    let c = &shown["conversation"];
    assert_eq!(str_of(c, "id"), conv);
    assert_eq!(str_of(c, "subject"), "Login broken");
    assert_eq!(str_of(c, "status"), "open");
    assert_eq!(str_of(c, "channel"), "email");
    let entries = c["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(str_of(&entries[0], "kind"), "customer-message");
    assert_eq!(str_of(&entries[0], "body"), "I cannot log in.");
    assert_eq!(str_of(&shown["customer"], "name"), "Bob Stone");
    assert_eq!(shown["customer"]["emails"][0], "bob@example.com");
    assert_eq!(str_of(&shown, "effective_status"), "open");
    let mut agents: Vec<&str> = shown["agents"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_str().unwrap())
        .collect();
    agents.sort();
    assert_eq!(agents, ["Ana Lima", "Ben Kim"]);

    let text = home.ok(&["show", &conv]);
    assert!(text.starts_with("Login broken\n"), "{text}");
    for part in [
        "Bob Stone <bob@example.com>",
        "customer message · Bob Stone (logged by Ben Kim)",
        "I cannot log in.",
    ] {
        assert!(text.contains(part), "{part} missing:\n{text}");
    }
    assert_eq!(unread(&home), false, "showing marks it seen");
}

#[test]
fn reply_is_queued_without_a_relay() {
    let sandbox = Sandbox::new();
    let home = sandbox.team();
    let conv = home.conversation("maria@example.com", "Charged twice", "Two charges.");
    let out = home.ok(&["reply", &conv[..8], "--body", "Refunded the second charge."]);
    assert!(out.contains("queued (no relay configured)"), "{out}");
    let v = home.json(&["reply", &conv, "--body", "And a coupon."]);
    assert_eq!(str_of(&v, "delivery"), "queued");
    assert_eq!(v["relay"], Value::Null);
    assert_eq!(str_of(&v, "conversation_id"), conv);
    let entries = home.show(&conv)["conversation"]["entries"].clone();
    let reply = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == v["entry_id"])
        .expect("reply stored");
    assert_eq!(str_of(reply, "kind"), "reply");
    assert_eq!(reply["delivery"]["state"], "queued");
    let text = home.ok(&["show", &conv]);
    assert!(text.contains("reply · Ana Lima"), "{text}");
}

#[test]
fn send_guard_refuses_replies_over_unseen_entries() {
    let sandbox = Sandbox::new();
    let ana = sandbox.team();
    ana.add_ben();
    let conv = ana.conversation("maria@example.com", "Charged twice", "Two charges.");
    ana.ok(&["show", &conv]);

    // Ben joins from an export, reads the thread, and answers.
    let ben = sandbox.ben_joins(&ana);
    // Ben has never opened it: his guard holds too.
    let refused = ben.fails(&["reply", &conv, "--body", "Hi!"], SEND_GUARD_EXIT);
    assert!(refused.stdout.is_empty());
    ben.ok(&["show", &conv]);
    ben.ok(&["reply", &conv, "--body", "Refunded, sorry about that."]);

    // Ana receives Ben's reply: her reply is refused until she has seen it.
    let back = sandbox.file("back.jsonl");
    ben.ok(&["export", "--out", back.to_str().unwrap()]);
    let report = ana.json(&["import", back.to_str().unwrap()]);
    assert_eq!(report["updated"], 1, "{report}");
    assert_eq!(report["skipped"], 1, "Ben's private document stays his");

    let refused = ana.fails(
        &["reply", &conv, "--body", "Refund on its way!"],
        SEND_GUARD_EXIT,
    );
    assert!(refused.stdout.is_empty(), "{}", refused.stdout);
    for part in [
        "Ben Kim",
        "Refunded, sorry about that.",
        "shoal show",
        "--force",
    ] {
        assert!(
            refused.stderr.contains(part),
            "{part} missing: {}",
            refused.stderr
        );
    }
    let entries = |home: &Home| {
        home.show(&conv)["conversation"]["entries"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(entries(&ana), 2, "nothing was added");

    let out = ana.ok(&["reply", &conv, "--body", "Refund on its way!", "--force"]);
    assert!(out.contains("queued"), "{out}");
    assert_eq!(entries(&ana), 3);

    // Seeing the thread lifts the guard.
    ben.ok(&[
        "import",
        sandbox_export(&sandbox, &ana, "again.jsonl")
            .to_str()
            .unwrap(),
    ]);
    ben.fails(&["reply", &conv, "--body", "Also…"], SEND_GUARD_EXIT);
    ben.ok(&["show", &conv]);
    ben.ok(&["reply", &conv, "--body", "Also, here is a coupon."]);
}

fn sandbox_export(sandbox: &Sandbox, home: &Home, name: &str) -> PathBuf {
    let file = sandbox.file(name);
    home.ok(&["export", "--out", file.to_str().unwrap()]);
    file
}

#[test]
fn notes_record_mentions() {
    let sandbox = Sandbox::new();
    let home = sandbox.team();
    let ben = home.json(&[
        "agent",
        "add",
        "--name",
        "Ben Kim",
        "--email",
        "ben@acme.example",
    ]);
    let ben_id = str_of(&ben, "agent_id").to_owned();
    let conv = home.conversation("maria@example.com", "Charged twice", "Two charges.");
    let note = home.json(&[
        "note",
        &conv,
        "--body",
        "@ben can you check the refund? cc @nobody",
    ]);
    assert_eq!(note["mentions"], serde_json::json!([ben_id]));
    let run = home.run(&["note", &conv, "--body", "@Ben thanks"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("mentions Ben Kim"), "{}", run.stdout);
    let warned = home.run(&["note", &conv, "--body", "ping @nobody"]);
    assert!(warned.stderr.contains("@nobody"), "{}", warned.stderr);
    let entries = home.show(&conv)["conversation"]["entries"].clone();
    assert_eq!(entries[1]["kind"], "note");
    assert_eq!(entries[1]["mentions"], serde_json::json!([ben_id]));
    let text = home.ok(&["show", &conv]);
    assert!(
        text.contains("note · Ana Lima") && text.contains("mentions Ben Kim"),
        "{text}"
    );

    let agents = home.json(&["agent", "list"]);
    let agents = agents["agents"].as_array().unwrap();
    assert_eq!(agents.len(), 2);
    assert!(agents
        .iter()
        .any(|a| a["name"] == "Ana Lima" && a["you"] == true));
    assert!(agents
        .iter()
        .any(|a| a["name"] == "Ben Kim" && a["you"] == false));
    assert!(home.ok(&["agent", "list"]).contains("Ana Lima (you)"));

    // Writing first: a conversation whose first entry is Ana's queued e-mail.
    let written = home.json(&[
        "write",
        "--to",
        "lea@park.example",
        "--subject",
        "Your order",
        "--body",
        "It ships today.",
    ]);
    let started = home.show(written["conversation_id"].as_str().unwrap());
    let first = &started["conversation"]["entries"][0];
    assert_eq!(first["kind"], "reply");
    assert_eq!(first["delivery"]["state"], "queued");
    home.fails(
        &[
            "write",
            "--to",
            "not-an-address",
            "--subject",
            "S",
            "--body",
            "B",
        ],
        1,
    );

    // Ana was mentioned nowhere; a note to her puts it in her Mentions me.
    let mine = home.json(&["inbox", "--view", "mentions"]);
    assert_eq!(mine["counts"]["mentions"], 0);
    home.ok(&["note", &conv, "--body", "@ana over to you"]);
    let mine = home.json(&["inbox", "--view", "mentions"]);
    assert_eq!(mine["counts"]["mentions"], 1);
    assert_eq!(mine["conversations"][0]["conversation_id"], conv.as_str());
}

#[test]
fn assign_to_me_someone_and_nobody() {
    let sandbox = Sandbox::new();
    let home = sandbox.team();
    home.add_ben();
    let conv = home.conversation("maria@example.com", "Charged twice", "Two charges.");
    let me = home.json(&["status"])["identity"]["agent_id"].clone();

    let v = home.json(&["assign", &conv, "me"]);
    assert_eq!(v["assignee"], me);
    assert!(home
        .ok(&["assign", &conv, "me"])
        .contains("to Ana Lima (you)"));
    let mine = home.json(&["inbox", "--view", "mine"]);
    assert_eq!(mine["counts"]["mine"], 1);
    assert_eq!(mine["conversations"][0]["assignee"], me);
    let by_me = home.json(&["inbox", "--assignee", "me"]);
    assert_eq!(by_me["conversations"].as_array().unwrap().len(), 1);

    assert!(home
        .ok(&["assign", &conv, "Ben Kim"])
        .contains("to Ben Kim"));
    assert_eq!(home.json(&["inbox", "--view", "mine"])["counts"]["mine"], 0);

    let v = home.json(&["assign", &conv, "none"]);
    assert_eq!(v["assignee"], Value::Null);
    assert_eq!(
        home.json(&["inbox", "--view", "unassigned"])["counts"]["unassigned"],
        1
    );
    home.ok(&["assign", &conv, "me"]);
    assert!(home.ok(&["unassign", &conv]).contains("Unassigned"));
    assert_eq!(home.show(&conv)["conversation"]["assignee"], Value::Null);

    let run = home.fails(&["assign", &conv, "zed@nowhere.example"], 1);
    assert!(run.stderr.contains("no agent matches"), "{}", run.stderr);
}

#[test]
fn snooze_until_and_statuses() {
    let sandbox = Sandbox::new();
    let home = sandbox.team();
    let conv = home.conversation("maria@example.com", "Charged twice", "Two charges.");
    let v = home.json(&["status", &conv, "snoozed", "--until", "2h"]);
    assert_eq!(str_of(&v, "status"), "snoozed");
    let until = v["snooze_until"].as_i64().expect("snooze_until");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(
        (until - now_ms - 2 * 3_600_000).abs() < 60_000,
        "{until} vs {now_ms}"
    );

    let snoozed = home.json(&["inbox", "--view", "snoozed"]);
    assert_eq!(snoozed["counts"]["snoozed"], 1);
    assert_eq!(
        snoozed["conversations"][0]["conversation_id"],
        conv.as_str()
    );
    assert_eq!(home.json(&["inbox"])["counts"]["open"], 0);
    assert!(home
        .ok(&["status", &conv, "snoozed", "--until", "tomorrow"])
        .contains("until"));

    let past = home.fails(&["status", &conv, "snoozed", "--until", "2020-01-01"], 1);
    assert!(past.stdout.is_empty());
    assert!(
        past.stderr.contains("not after now"),
        "library message: {}",
        past.stderr
    );
    assert!(past.stderr.contains("not in the future"), "{}", past.stderr);
    let missing = home.fails(&["status", &conv, "snoozed"], 1);
    assert!(missing.stderr.contains("--until"), "{}", missing.stderr);
    let stray = home.fails(&["status", &conv, "pending", "--until", "2h"], 1);
    assert!(
        stray.stderr.contains("only applies to `snoozed`"),
        "{}",
        stray.stderr
    );

    assert_eq!(
        str_of(&home.json(&["status", &conv, "pending"]), "status"),
        "pending"
    );
    assert_eq!(
        home.json(&["inbox", "--status", "pending"])["counts"]["pending"],
        1
    );
    let v = home.json(&["priority", &conv, "urgent"]);
    assert_eq!(str_of(&v, "priority"), "urgent");
    assert_eq!(home.show(&conv)["conversation"]["priority"], "urgent");
}

#[test]
fn status_without_arguments() {
    let sandbox = Sandbox::new();
    let home = sandbox.team();
    home.conversation("maria@example.com", "Charged twice", "Two charges.");
    let v = home.json(&["status"]);
    let id = &v["identity"];
    assert_eq!(str_of(id, "team_name"), "Acme Support");
    assert_eq!(str_of(id, "agent_name"), "Ana Lima");
    assert_eq!(str_of(id, "agent_email"), "ana@acme.example");
    assert_eq!(str_of(id, "team_id").len(), 32);
    assert_eq!(str_of(id, "agent_id").len(), 32);
    assert_eq!(Path::new(str_of(&v, "home")), home.path);
    assert_eq!(v["sync"]["state"], "local-only");
    assert_eq!(v["sync"]["relay"], serde_json::Value::Null);
    assert_eq!(
        v["sync"]["pending_documents"], 4,
        "team, private, customer and conversation documents were never sent"
    );
    assert_eq!(v["counts"]["open"], 1);
    assert_eq!(v["counts"]["all"], 1);
    assert_eq!(v["documents"]["conversation"], 1);
    assert_eq!(v["documents"]["customer"], 1);
    assert!(v["pending_changes"].is_i64());
    assert!(v["file_bytes"].as_u64().unwrap() > 0);
    let text = home.ok(&["status"]);
    assert!(
        text.contains("Acme Support") && text.contains("local only"),
        "{text}"
    );
}

#[test]
fn tag_and_untag() {
    let sandbox = Sandbox::new();
    let home = sandbox.team();
    let conv = home.conversation("maria@example.com", "Charged twice", "Two charges.");
    let v = home.json(&["tag", &conv, "Billing", "refund", "vip"]);
    assert_eq!(v["tags"], serde_json::json!(["billing", "refund", "vip"]));
    let v = home.json(&["untag", &conv, "vip"]);
    assert_eq!(v["tags"], serde_json::json!(["billing", "refund"]));
    assert_eq!(
        home.json(&["inbox", "--tag", "refund"])["conversations"][0]["tags"],
        v["tags"]
    );
    assert!(home.json(&["inbox", "--tag", "vip"])["conversations"]
        .as_array()
        .unwrap()
        .is_empty());
    let bad = home.fails(&["tag", &conv, "no spaces allowed"], 1);
    assert!(bad.stderr.contains("invalid tag"), "{}", bad.stderr);
}

#[test]
fn customer_show_edit_and_notes() {
    let sandbox = Sandbox::new();
    let home = sandbox.team();
    home.conversation("maria@example.com", "Charged twice", "Two charges.");
    home.conversation("maria@example.com", "Invoice address", "Please change it.");

    let edited = home.json(&[
        "customer",
        "edit",
        "maria@example.com",
        "--name",
        "Maria Garcia",
        "--company",
        "Acme",
        "--tier",
        "pro",
        "--add-email",
        "m.garcia@home.example",
    ]);
    let customer_id = str_of(&edited, "customer_id").to_owned();
    assert_eq!(str_of(&edited["customer"], "name"), "Maria Garcia");
    let empty = home.fails(&["customer", "edit", "maria@example.com"], 1);
    assert!(
        empty.stderr.contains("nothing to change"),
        "{}",
        empty.stderr
    );

    home.ok(&[
        "customer",
        "note",
        "Maria Garcia",
        "--append",
        "Prefers email.",
    ]);
    let v = home.json(&[
        "customer",
        "note",
        &customer_id[..6],
        "--append",
        "Renewal in March.",
    ]);
    assert_eq!(str_of(&v, "notes"), "Prefers email.\nRenewal in March.");
    let v = home.json(&[
        "customer",
        "note",
        "maria@example.com",
        "--insert",
        "0",
        "VIP. ",
    ]);
    assert_eq!(
        str_of(&v, "notes"),
        "VIP. Prefers email.\nRenewal in March."
    );
    let out_of_range = home.fails(
        &[
            "customer",
            "note",
            "maria@example.com",
            "--insert",
            "999",
            "x",
        ],
        1,
    );
    assert!(
        out_of_range.stderr.contains("outside the text"),
        "{}",
        out_of_range.stderr
    );

    let profile = home.json(&["customer", "show", "m.garcia@home.example"]);
    let c = &profile["customer"];
    assert_eq!(str_of(c, "id"), customer_id);
    assert_eq!(str_of(c, "company"), "Acme");
    assert_eq!(str_of(c, "tier"), "pro");
    assert_eq!(
        c["emails"],
        serde_json::json!(["maria@example.com", "m.garcia@home.example"])
    );
    assert_eq!(str_of(c, "notes"), "VIP. Prefers email.\nRenewal in March.");
    assert_eq!(profile["conversations"].as_array().unwrap().len(), 2);
    let text = home.ok(&["customer", "show", "maria@example.com"]);
    for part in [
        "Maria Garcia",
        "Renewal in March.",
        "Invoice address",
        "Charged twice",
    ] {
        assert!(text.contains(part), "{part} missing:\n{text}");
    }

    let cleared = home.json(&["customer", "edit", "maria@example.com", "--clear-company"]);
    assert_eq!(cleared["customer"]["company"], Value::Null);
    let v = home.json(&[
        "customer",
        "note",
        "maria@example.com",
        "--set",
        "Fresh start.",
    ]);
    assert_eq!(str_of(&v, "notes"), "Fresh start.");

    let created = home.json(&[
        "customer",
        "new",
        "--name",
        "Bob Stone",
        "--email",
        "bob@example.com",
    ]);
    assert_eq!(str_of(&created["customer"], "name"), "Bob Stone");
    let dup = home.fails(
        &[
            "customer",
            "new",
            "--name",
            "Bob 2",
            "--email",
            "bob@example.com",
        ],
        1,
    );
    assert!(dup.stderr.contains("already belongs"), "{}", dup.stderr);
    let list = home.json(&["customer", "list"]);
    assert_eq!(list["total"], 2);
    assert_eq!(list["customers"][0]["name"], "Bob Stone");
    assert_eq!(list["customers"][1]["name"], "Maria Garcia");
    let missing = home.fails(&["customer", "show", "nobody@example.com"], 1);
    assert!(
        missing.stderr.contains("no customer matches"),
        "{}",
        missing.stderr
    );
}

#[test]
fn search_finds_reply_words() {
    let sandbox = Sandbox::new();
    let home = sandbox.team();
    let conv = home.conversation("maria@example.com", "Charged twice", "Two charges.");
    home.ok(&[
        "reply",
        &conv,
        "--body",
        "I issued a chargeback reversal today.",
    ]);
    let v = home.json(&["search", "reversal"]);
    assert_eq!(str_of(&v, "query"), "reversal");
    let hits = v["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(str_of(&hits[0], "kind"), "conversation");
    assert_eq!(str_of(&hits[0], "id"), conv);
    assert_eq!(str_of(&hits[0], "title"), "Charged twice");
    assert!(str_of(&hits[0], "snippet").contains("reversal"));
    let text = home.ok(&["search", "chargeback", "reversal"]);
    assert!(
        text.contains(&conv[..8]) && text.contains("Charged twice"),
        "{text}"
    );
    assert!(home.json(&["search", "zebra"])["hits"]
        .as_array()
        .unwrap()
        .is_empty());
}

/// The conversation and customer lines of a views-only export, which must
/// not depend on which replica wrote them.
fn shared_lines(export: &str) -> Vec<String> {
    let mut lines: Vec<String> = export
        .lines()
        .skip(1)
        .filter(|l| {
            let v: Value = serde_json::from_str(l).expect("json line");
            matches!(
                v["kind"].as_str(),
                Some("conversation" | "customer" | "team")
            )
        })
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

#[test]
fn export_then_restore_gives_the_same_documents() {
    let sandbox = Sandbox::new();
    let home = sandbox.team();
    let conv = home.conversation("maria@example.com", "Charged twice", "Two charges.");
    home.ok(&["reply", &conv, "--body", "Refunded."]);
    home.ok(&["tag", &conv, "billing"]);
    home.ok(&["customer", "note", "maria@example.com", "--append", "VIP"]);
    home.ok(&["template", "set", "thanks", "--body", "Thanks!"]);

    let backup = sandbox.file("backup.jsonl");
    let run = home.run(&["export", "--out", backup.to_str().unwrap()]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("exported 4 documents"),
        "{}",
        run.stderr
    );
    assert!(!sandbox.file("backup.jsonl.tmp").exists());

    let restored = sandbox.home("restored");
    let v = restored.json(&[
        "init",
        "--from",
        backup.to_str().unwrap(),
        "--agent",
        "Ana Lima",
    ]);
    assert_eq!(v["import"]["documents"], 4);
    let original = home.ok(&["export", "--views-only"]);
    let copy = restored.ok(&["export", "--views-only"]);
    assert!(!original.contains("\"automerge\""));
    assert_eq!(shared_lines(&original).len(), 3);
    assert_eq!(shared_lines(&original), shared_lines(&copy));
    // Restoring as the same agent brings the personal templates back.
    assert_eq!(
        restored.json(&["template", "list"])["templates"]["thanks"],
        "Thanks!"
    );

    // Importing again changes nothing; a views-only export cannot be imported.
    let report = restored.json(&["import", backup.to_str().unwrap()]);
    assert_eq!(report["created"], 0);
    assert_eq!(report["updated"], 0);
    let views = sandbox.file("views.jsonl");
    std::fs::write(&views, &original).unwrap();
    let run = restored.fails(&["import", views.to_str().unwrap()], 1);
    assert!(run.stderr.contains("views-only"), "{}", run.stderr);

    // A failed export leaves nothing behind.
    let bad = sandbox.file("missing-dir").join("x.jsonl");
    home.fails(&["export", "--out", bad.to_str().unwrap()], 1);
    assert!(!bad.exists());
}

#[test]
fn templates_expand_in_replies() {
    let sandbox = Sandbox::new();
    let home = sandbox.team();
    let conv = home.json(&[
        "new",
        "--customer",
        "maria@example.com",
        "--customer-name",
        "Maria Garcia",
        "--subject",
        "Hello",
        "--body",
        "Hi there",
    ])["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    home.ok(&[
        "template",
        "set",
        "thanks",
        "--body",
        "Hi {customer.first_name}, thanks! {agent.first_name}",
    ]);
    assert!(home.ok(&["template", "list"]).contains("thanks"));
    let v = home.json(&["reply", &conv, "--template", "thanks"]);
    let entries = home.show(&conv)["conversation"]["entries"].clone();
    let reply = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == v["entry_id"])
        .unwrap()
        .clone();
    assert_eq!(str_of(&reply, "body"), "Hi Maria, thanks! Ana");
    let missing = home.fails(&["reply", &conv, "--template", "nope"], 1);
    assert!(missing.stderr.contains("thanks"), "{}", missing.stderr);
    home.ok(&["template", "remove", "thanks"]);
    home.fails(&["template", "remove", "thanks"], 1);
    assert_eq!(
        home.json(&["template", "list"])["templates"],
        serde_json::json!({})
    );
}

#[test]
fn maintenance_commands() {
    let sandbox = Sandbox::new();
    let home = sandbox.team();
    home.conversation("maria@example.com", "Charged twice", "Two charges.");
    assert_eq!(
        home.json(&["check"]),
        serde_json::json!({"ok": true, "problems": []})
    );
    assert_eq!(home.json(&["reindex"])["documents"], 4);
    assert!(home.json(&["compact"])["documents"].is_u64());
    assert_eq!(
        home.json(&["inbox"])["counts"]["open"],
        1,
        "still there after reindex"
    );
}

#[test]
fn errors_go_to_stderr() {
    let sandbox = Sandbox::new();

    // No replica yet.
    let missing = sandbox.home("nowhere");
    let run = missing.fails(&["inbox"], 1);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("run `shoal init`"), "{}", run.stderr);
    assert!(
        !missing.path.exists(),
        "read commands do not create the home"
    );

    // A failed init leaves no half replica behind.
    let typo = sandbox.home("typo");
    let run = typo.fails(
        &[
            "init",
            "--team",
            "T",
            "--name",
            "N",
            "--email",
            "not-an-address",
        ],
        1,
    );
    assert!(run.stderr.contains("invalid e-mail"), "{}", run.stderr);
    typo.ok(&[
        "init",
        "--team",
        "T",
        "--name",
        "N",
        "--email",
        "n@x.example",
    ]);
    let run = sandbox
        .home("joiner")
        .fails(&["init", "--from", "/nonexistent.jsonl", "--agent", "x"], 1);
    assert!(run.stderr.contains("/nonexistent.jsonl"), "{}", run.stderr);

    let home = sandbox.team();
    let conv = home.conversation("maria@example.com", "Charged twice", "Two charges.");

    for args in [
        vec!["show", "ffffffffffff"],
        vec!["reply", "ffffffffffff", "--body", "hi"],
        vec!["status", "ffff", "closed"],
        vec!["show", "ab"],
    ] {
        let run = home.fails(&args, 1);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert!(
            run.stderr.contains("no conversation matches"),
            "{args:?}: {}",
            run.stderr
        );
    }

    let run = home.fails(&["status", &conv, "snoozed", "--until", "whenever"], 1);
    for format in [
        "2026-12-01T09:00:00Z",
        "2026-12-01 14:30",
        "30m",
        "tomorrow",
        "monday",
    ] {
        assert!(
            run.stderr.contains(format),
            "{format} missing: {}",
            run.stderr
        );
    }

    let run = home.fails(&["note", &conv, "--body", "   "], 1);
    assert!(run.stderr.contains("empty"), "{}", run.stderr);
    let run = home.fails(&["reply", &conv, "--body", ""], 1);
    assert!(run.stderr.contains("empty"), "{}", run.stderr);
    let run = home.fails(
        &[
            "new",
            "--customer",
            "a@b.example",
            "--subject",
            "S",
            "--body",
            "\n",
        ],
        1,
    );
    assert!(run.stderr.contains("empty"), "{}", run.stderr);

    home.ok(&["status", &conv, "closed"]);
    let run = home.fails(&["reply", &conv, "--body", "One more thing"], 1);
    assert!(
        run.stderr
            .contains(&format!("shoal status {} open", &conv[..8])),
        "{}",
        run.stderr
    );
    home.ok(&["status", &conv, "open"]);
    home.ok(&["reply", &conv, "--body", "One more thing"]);
}

/// Follow-through: close when the customer confirms, snooze until they
/// reply, and the team settings behind the reply clock (admins only).
#[test]
fn follow_through_and_team_settings() {
    let sandbox = Sandbox::new();
    let ana = sandbox.team();
    let conv = ana.conversation("maria@acme.example", "Refund", "Where is it?");

    let waiting = ana.json(&["status", &conv, "pending", "--follow-up", "3d"]);
    assert_eq!(waiting["status"], "pending");
    assert!(waiting["follow_up_at"].is_i64(), "{waiting}");
    let shown = ana.ok(&["show", &conv, "--no-mark-seen"]);
    assert!(
        shown.contains("waiting for the customer to confirm"),
        "{shown}"
    );
    ana.fails(&["status", &conv, "open", "--follow-up", "3d"], 1);
    ana.fails(
        &["status", &conv, "pending", "--follow-up", "2020-01-01"],
        1,
    );

    let closed = ana.json(&["status", &conv, "closed", "--confirmed"]);
    assert_eq!(closed["resolution"], "confirmed");
    assert_eq!(ana.show(&conv)["conversation"]["resolution"], "confirmed");

    ana.ok(&["status", &conv, "open"]);
    let until_reply = ana.json(&["status", &conv, "snoozed", "--until", "reply"]);
    assert_eq!(until_reply["status"], "pending");

    // The settings: shown, changed, refused when wrong.
    ana.ok(&[
        "team",
        "hours",
        "--time-zone",
        "Europe/Berlin",
        "--days",
        "mon-fri",
        "--from",
        "08:30",
        "--to",
        "17:00",
    ]);
    ana.ok(&[
        "team",
        "holiday",
        "add",
        "2026-12-24",
        "--label",
        "Christmas Eve",
    ]);
    ana.ok(&["team", "sla", "high", "--first", "1h30m", "--next", "3h"]);
    ana.ok(&["team", "tier", "set", "premium", "--priority", "high"]);
    ana.ok(&[
        "team",
        "ack",
        "support@acme.example",
        "--text",
        "Hi {customer.first_name}, by {due}.",
    ]);
    let team = ana.json(&["team", "show"]);
    assert_eq!(team["business_hours"]["time_zone"], "Europe/Berlin");
    assert_eq!(team["business_hours"]["start_minute"], 510);
    assert_eq!(
        team["business_hours"]["holidays"]["2026-12-24"],
        "Christmas Eve"
    );
    assert_eq!(team["sla"]["high"]["first_response_minutes"], 90);
    assert_eq!(team["tiers"]["premium"], "high");
    assert_eq!(
        team["acknowledgements"]["support@acme.example"]["every_hours"],
        24
    );
    let text = ana.ok(&["team", "show"]);
    assert!(
        text.contains("Monday") || text.contains("mon,tue"),
        "{text}"
    );
    ana.ok(&["team", "auto-close", "5"]);
    assert_eq!(ana.json(&["team", "show"])["auto_close_days"], 5);
    assert!(ana
        .ok(&["team", "show"])
        .contains("after 5 business days of silence"));
    ana.fails(&["team", "auto-close", "0"], 1);
    ana.fails(&["team", "auto-close", "soon"], 1);
    ana.ok(&["team", "auto-close", "off"]);
    assert!(ana.json(&["team", "show"])["auto_close_days"].is_null());
    // Own working hours: every day but never (a one-minute day that has
    // passed or not begun is unlikely); outside them the list says off.
    ana.ok(&[
        "agent",
        "hours",
        "--days",
        "mon-sun",
        "--from",
        "00:00",
        "--to",
        "24:00",
        "--time-zone",
        "UTC",
    ]);
    let listed = ana.json(&["agent", "list"]);
    assert_eq!(listed["agents"][0]["available_now"], "available");
    assert_eq!(listed["agents"][0]["working_hours"]["end_minute"], 1440);
    ana.fails(&["agent", "hours", "--days", "mon"], 2);
    ana.fails(
        &[
            "agent", "hours", "--days", "mon", "--from", "09:00", "--to", "08:00",
        ],
        1,
    );
    ana.ok(&["agent", "hours", "--off"]);
    assert!(ana.json(&["agent", "list"])["agents"][0]["working_hours"].is_null());
    ana.fails(&["team", "hours", "--time-zone", "Mars/Olympus"], 1);
    ana.fails(&["team", "hours", "--from", "18:00", "--to", "09:00"], 1);
    ana.fails(&["team", "sla", "high", "--first", "soon"], 1);
    ana.fails(&["team", "holiday", "remove", "2030-01-01"], 1);

    // A tier must be one of the team's; a premium customer's conversation
    // starts at high.
    ana.fails(
        &[
            "customer",
            "new",
            "--name",
            "Bo",
            "--email",
            "bo@x.example",
            "--tier",
            "gold",
        ],
        1,
    );
    ana.ok(&[
        "customer",
        "new",
        "--name",
        "Vera",
        "--email",
        "vera@x.example",
        "--tier",
        "premium",
    ]);
    let vip = ana.conversation("vera@x.example", "Down", "Everything is down");
    assert_eq!(ana.show(&vip)["conversation"]["priority"], "high");
    let inbox = ana.json(&["inbox", "--sort", "due"]);
    assert_eq!(inbox["sort"], "due");

    // Ben is no admin: his replica refuses before the relay would.
    ana.add_ben();
    let ben = sandbox.ben_joins(&ana);
    let refused = ben.fails(&["team", "tier", "set", "vip", "--priority", "urgent"], 1);
    assert!(
        refused.stderr.contains("only an admin"),
        "{}",
        refused.stderr
    );
    ben.ok(&["agent", "availability", "away"]);
    ben.ok(&[
        "agent", "hours", "--days", "mon-fri", "--from", "09:00", "--to", "13:00",
    ]);
    let refused = ben.fails(&["team", "auto-close", "3"], 1);
    assert!(
        refused.stderr.contains("only an admin"),
        "{}",
        refused.stderr
    );
}
