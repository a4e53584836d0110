//! `shoal-relay`: run and administer a Shoal relay.

use anyhow::Result;
use clap::{Parser, Subcommand};
use serde::Serialize;
use shoal_relay::admin;
use shoal_relay::server::{serve, ServeOptions};
use shoal_relay_store::{MailStore, RelayStore, ServerConfig, TlsMode};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "shoal-relay",
    version,
    about = "The Shoal team relay: sync between agents' replicas",
    after_help = "Example:\n  shoal-relay init --data /var/lib/shoal\n  shoal-relay team create \"Northwind Support\" --data /var/lib/shoal\n  shoal-relay agent add --team \"Northwind Support\" --name \"Ana Lima\" --email ana@northwind.example --data /var/lib/shoal\n  shoal-relay serve --data /var/lib/shoal --listen 0.0.0.0:7300"
)]
struct Cli {
    /// The relay's data directory (or SHOAL_RELAY_DATA).
    #[arg(
        long,
        global = true,
        env = "SHOAL_RELAY_DATA",
        default_value = "./relay-data"
    )]
    data: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the data directory and its database.
    Init,
    /// Run the relay until SIGTERM or Ctrl-C.
    Serve {
        /// Address to listen on (port 0 picks a free port; the chosen
        /// address is printed as `listening on ADDR`).
        #[arg(long, default_value = "127.0.0.1:7300")]
        listen: SocketAddr,
        /// Seconds after which an unused document leaves memory.
        #[arg(long, default_value_t = 60)]
        evict_after_secs: u64,
        /// Seconds a client may take to accept data the relay sends it
        /// before its connection is closed (it stopped reading: asleep or
        /// stuck). Nobody else waits for it meanwhile.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
        write_timeout_secs: u64,
        /// The largest frame accepted, in bytes (at most the protocol's 16 MiB;
        /// larger sync messages travel in parts either way).
        #[arg(long, default_value_t = shoal_protocol::MAX_FRAME_BYTES as u64,
              value_parser = clap::value_parser!(u64).range(65_536..=shoal_protocol::MAX_FRAME_BYTES as u64))]
        max_frame_bytes: u64,
        /// Documents one team's clients may make the relay store; past it,
        /// new documents are refused with `limit-exceeded` (the relay's own
        /// writes, such as incoming mail, never are).
        #[arg(long, default_value_t = 1_000_000)]
        team_max_documents: u64,
        /// Bytes one team's clients may make the relay store (as above).
        #[arg(long, default_value_t = 16 * 1024 * 1024 * 1024)]
        team_max_bytes: u64,
        /// Seconds a client has to send its HTTP request headers; slower
        /// connections are closed before they cost anything more.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
        header_timeout_secs: u64,
        /// Connections that may wait for their login at once; more are
        /// refused with `busy` (clients retry).
        #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
        max_pending_logins: u64,
        /// Seconds a reply waits before it is sent, so its author can
        /// withdraw it (`shoal unsend`).
        #[arg(long, default_value_t = 10)]
        undo_send_secs: u64,
        /// Seconds before the first retry of a failed send (doubling after).
        #[arg(long, default_value_t = 60)]
        mail_retry_secs: u64,
        /// Seconds between checks for new mail on servers without IMAP IDLE.
        #[arg(long, default_value_t = 30)]
        mail_poll_secs: u64,
        /// Replies one agent may send per hour; more wait (and say why).
        #[arg(long, default_value_t = 200)]
        mail_rate_agent_per_hour: u32,
        /// Replies one team may send per hour; more wait (and say why).
        #[arg(long, default_value_t = 2000)]
        mail_rate_team_per_hour: u32,
        /// Poll for new mail even when the server offers IMAP IDLE.
        #[arg(long)]
        mail_no_idle: bool,
        /// Seconds a mail server may stay silent mid-command before the
        /// connection is dropped and retried; an SMTP send may take this
        /// plus one second per 32 KiB of the message.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
        mail_timeout_secs: u64,
        /// Seconds between checks of pending conversations for the team's
        /// auto-close (`shoal team auto-close`).
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
        follow_through_secs: u64,
        /// Testing only: refuse to import mail whose subject contains this
        /// text (it goes to the quarantine).
        #[arg(long, hide = true, value_name = "TEXT")]
        fault_ingest_subject: Option<String>,
        /// Testing only: pause this long inside each import (after its
        /// intent is recorded, before the documents change).
        #[arg(long, hide = true, default_value_t = 0)]
        fault_ingest_pause_ms: u64,
        /// Testing only: pause this long before every storage commit.
        #[arg(long, hide = true, default_value_t = 0)]
        fault_store_pause_ms: u64,
        /// Testing only: fail this many times to record that a reply was sent.
        #[arg(long, hide = true, default_value_t = 0)]
        fault_record_sent: u32,
        /// Testing only: the outbox's scan of this team (id) always fails.
        #[arg(long, hide = true, value_name = "TEAM")]
        fault_scan_team: Option<String>,
        /// Testing only: follow-through sees the clock this many hours ahead.
        #[arg(long, hide = true, default_value_t = 0)]
        fault_clock_ahead_hours: u64,
    },
    /// Manage teams.
    Team {
        #[command(subcommand)]
        command: TeamCommand,
    },
    /// Manage agents and their tokens.
    Agent {
        #[command(subcommand)]
        command: AgentCommand,
    },
    /// Connect mailboxes (IMAP in, SMTP out) to teams. See docs/email.md.
    Mailbox {
        #[command(subcommand)]
        command: Box<MailboxCommand>,
    },
    /// Incoming mail that could not be imported.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
}

#[derive(Subcommand)]
enum MailCommand {
    /// Messages set aside because they could not be imported (the mail
    /// after them flows): list them, retry one, or drop one.
    #[command(
        subcommand,
        after_help = "Examples:\n  shoal-relay mail quarantine list\n  shoal-relay mail quarantine retry 3   # picked up within --mail-poll-secs\n  shoal-relay mail quarantine drop 3    # forget it; it stays in the mailbox"
    )]
    Quarantine(QuarantineCommand),
    /// Who sent what to whom: the replies the SMTP server accepted, newest
    /// first (what the rate limits count).
    #[command(
        after_help = "Example:\n  shoal-relay mail audit --team \"Northwind Support\" --limit 20"
    )]
    Audit {
        /// Only this team (id or name).
        #[arg(long)]
        team: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum QuarantineCommand {
    /// List them, oldest first, with why each could not be imported.
    List {
        /// Only this mailbox (id or address).
        #[arg(long)]
        mailbox: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Ask the running relay to import one again.
    Retry {
        /// Its number (from `list`).
        id: i64,
    },
    /// Forget one: it is not imported (it stays in the mailbox).
    Drop {
        /// Its number (from `list`).
        id: i64,
    },
}

// Parsed once per run: the size of the `add` variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum MailboxCommand {
    /// Connect a mailbox, from a settings file (--config) or from flags.
    /// Passwords are read from an environment variable, a file or standard
    /// input, stored sealed, and never printed.
    #[command(
        after_help = "Examples:\n  shoal-relay mailbox add --config mailbox.toml\n  IMAP_PASSWORD=... shoal-relay mailbox add --team Support --address support@northwind.example \\\n      --imap-host imap.example.com --smtp-host smtp.example.com --password-env IMAP_PASSWORD"
    )]
    Add {
        /// A TOML settings file (see docs/email.md); the other flags are then not used.
        #[arg(long, conflicts_with_all = ["team", "address"])]
        config: Option<PathBuf>,
        /// Team id or name.
        #[arg(long, required_unless_present = "config")]
        team: Option<String>,
        /// The address customers write to.
        #[arg(long, required_unless_present = "config")]
        address: Option<String>,
        /// Name shown on replies after the agent's (default: the team's name).
        #[arg(long)]
        display_name: Option<String>,
        /// IMAP host.
        #[arg(long, required_unless_present = "config")]
        imap_host: Option<String>,
        /// IMAP port (default 993, or 143 without TLS).
        #[arg(long)]
        imap_port: Option<u16>,
        /// IMAP security: tls, starttls or none.
        #[arg(long, default_value = "tls")]
        imap_tls: TlsMode,
        /// IMAP login (default: the address).
        #[arg(long)]
        imap_user: Option<String>,
        /// PEM file of extra certificate authorities to trust for IMAP.
        #[arg(long)]
        imap_ca_file: Option<PathBuf>,
        /// SMTP host.
        #[arg(long, required_unless_present = "config")]
        smtp_host: Option<String>,
        /// SMTP port (default 465, 587 with starttls, 25 without TLS).
        #[arg(long)]
        smtp_port: Option<u16>,
        /// SMTP security: tls, starttls or none.
        #[arg(long, default_value = "tls")]
        smtp_tls: TlsMode,
        /// SMTP login (default: the IMAP login).
        #[arg(long)]
        smtp_user: Option<String>,
        /// PEM file of extra certificate authorities to trust for SMTP.
        #[arg(long)]
        smtp_ca_file: Option<PathBuf>,
        /// Environment variable holding the password.
        #[arg(long, group = "password")]
        password_env: Option<String>,
        /// File holding the password.
        #[arg(long, group = "password")]
        password_file: Option<PathBuf>,
        /// Read the password from standard input.
        #[arg(long, group = "password")]
        password_stdin: bool,
        /// Environment variable holding a different SMTP password.
        #[arg(long)]
        smtp_password_env: Option<String>,
        /// Allow --imap-tls none to send the password in plain text (only
        /// for a server on a network you trust; refused otherwise).
        #[arg(long)]
        insecure_plaintext: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List connected mailboxes (passwords are never shown).
    List {
        /// Only this team (id or name).
        #[arg(long)]
        team: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Disconnect a mailbox (by id or address). Its conversations stay.
    Remove {
        /// Mailbox id or address.
        mailbox: String,
    },
}

#[derive(Subcommand)]
enum TeamCommand {
    /// Create a team; prints its id.
    Create {
        /// Team name.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List teams.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AgentCommand {
    /// Add an agent to a team and print its token (shown only this once).
    Add {
        /// Team id or name.
        #[arg(long)]
        team: String,
        /// The agent's name.
        #[arg(long)]
        name: String,
        /// The agent's e-mail address.
        #[arg(long)]
        email: String,
        /// admin or agent.
        #[arg(long, default_value = "agent")]
        role: String,
        /// Print JSON (includes the token).
        #[arg(long)]
        json: bool,
    },
    /// List agents (tokens are never shown again).
    List {
        /// Only this team (id or name).
        #[arg(long)]
        team: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke an agent's token; its open connections are closed.
    Revoke {
        /// Agent id or e-mail.
        agent: String,
        /// The team, when the e-mail is on several teams.
        #[arg(long)]
        team: Option<String>,
    },
}

fn print_json(value: &impl Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        for cause in e.chain().skip(1) {
            eprintln!("  caused by: {cause}");
        }
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Init => {
            admin::init(&cli.data)?;
            println!("Relay data created in {}", cli.data.display());
            println!(
                "Next: shoal-relay team create NAME --data {}",
                cli.data.display()
            );
        }
        Command::Serve {
            listen,
            evict_after_secs,
            write_timeout_secs,
            max_frame_bytes,
            team_max_documents,
            team_max_bytes,
            header_timeout_secs,
            max_pending_logins,
            undo_send_secs,
            mail_retry_secs,
            mail_poll_secs,
            mail_no_idle,
            mail_timeout_secs,
            follow_through_secs,
            mail_rate_agent_per_hour,
            mail_rate_team_per_hour,
            fault_ingest_subject,
            fault_ingest_pause_ms,
            fault_store_pause_ms,
            fault_record_sent,
            fault_scan_team,
            fault_clock_ahead_hours,
        } => {
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_env("SHOAL_LOG")
                        .unwrap_or_else(|_| "info".into()),
                )
                .with_writer(std::io::stderr)
                .init();
            let mut opts = ServeOptions::new(listen);
            opts.evict_after = std::time::Duration::from_secs(evict_after_secs);
            opts.write_timeout = std::time::Duration::from_secs(write_timeout_secs);
            opts.max_pending_logins = max_pending_logins as usize;
            opts.max_frame = max_frame_bytes as usize;
            opts.header_timeout = std::time::Duration::from_secs(header_timeout_secs);
            opts.quota = shoal_relay::quota::Quota {
                max_documents: team_max_documents,
                max_bytes: team_max_bytes,
            };
            opts.fault_store_pause = std::time::Duration::from_millis(fault_store_pause_ms);
            opts.follow_through_every = std::time::Duration::from_secs(follow_through_secs);
            opts.fault_clock_ahead = std::time::Duration::from_secs(fault_clock_ahead_hours * 3600);
            opts.mail = shoal_relay::mail::MailSettings {
                undo_window: std::time::Duration::from_secs(undo_send_secs),
                retry_base: std::time::Duration::from_secs(mail_retry_secs),
                poll_every: std::time::Duration::from_secs(mail_poll_secs),
                no_idle: mail_no_idle,
                timeout: std::time::Duration::from_secs(mail_timeout_secs),
                rate_agent_per_hour: mail_rate_agent_per_hour,
                rate_team_per_hour: mail_rate_team_per_hour,
                fault_ingest_subject,
                fault_ingest_pause: std::time::Duration::from_millis(fault_ingest_pause_ms),
                fault_record_sent,
                fault_scan_team,
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(serve(&cli.data, opts))?;
        }
        Command::Team { command } => {
            let store = admin::open(&cli.data)?;
            match command {
                TeamCommand::Create { name, json } => {
                    let team = admin::create_team(&store, &name)?;
                    if json {
                        print_json(&team)?;
                    } else {
                        println!("Created team {} ({})", team.name, team.id);
                    }
                }
                TeamCommand::List { json } => {
                    let teams = store.teams()?;
                    if json {
                        print_json(&teams)?;
                    } else {
                        for t in teams {
                            println!("{}  {}", t.id, t.name);
                        }
                    }
                }
            }
        }
        Command::Agent { command } => {
            let store = admin::open(&cli.data)?;
            match command {
                AgentCommand::Add {
                    team,
                    name,
                    email,
                    role,
                    json,
                } => {
                    let (agent, token) = admin::add_agent(&store, &team, &name, &email, &role)?;
                    if json {
                        #[derive(Serialize)]
                        struct Added<'a> {
                            agent: &'a shoal_relay_store::AgentRecord,
                            token: &'a str,
                        }
                        print_json(&Added {
                            agent: &agent,
                            token: &token,
                        })?;
                    } else {
                        println!("Added {} <{}> ({})", agent.name, agent.email, agent.id);
                        println!("Token (shown only now; give it to {}):", agent.name);
                        println!("{token}");
                    }
                }
                AgentCommand::List { team, json } => {
                    let team_id = match team {
                        Some(t) => Some(admin::find_team(&store, &t)?.id),
                        None => None,
                    };
                    let agents = store.agents(team_id.as_deref())?;
                    if json {
                        print_json(&agents)?;
                    } else {
                        for a in agents {
                            let state = if a.revoked_at.is_some() {
                                "revoked"
                            } else {
                                "active"
                            };
                            println!(
                                "{}  {:<24} {:<32} {:<6} {}",
                                a.id, a.name, a.email, a.role, state
                            );
                        }
                    }
                }
                AgentCommand::Revoke { agent, team } => {
                    let found = admin::find_agent(&store, &agent, team.as_deref())?;
                    let revoked = store.revoke_agent(&found.id, shoal_relay::now_ms())?;
                    println!(
                        "Revoked {} <{}>; a running relay closes its connections within a second.",
                        revoked.name, revoked.email
                    );
                }
            }
        }
        Command::Mailbox { command } => mailbox_command(&cli.data, *command)?,
        Command::Mail {
            command: MailCommand::Quarantine(command),
        } => quarantine_command(&cli.data, command)?,
        Command::Mail {
            command: MailCommand::Audit { team, limit, json },
        } => {
            let store = admin::open(&cli.data)?;
            let team_id = match team {
                Some(t) => Some(admin::find_team(&store, &t)?.id),
                None => None,
            };
            let sent = store.sent_mail(team_id.as_deref(), limit)?;
            if json {
                print_json(&sent)?;
            } else if sent.is_empty() {
                println!("No reply has been sent yet.");
            } else {
                let names: std::collections::HashMap<String, String> = store
                    .agents(team_id.as_deref())?
                    .into_iter()
                    .map(|a| (a.id, a.email))
                    .collect();
                for m in sent {
                    println!(
                        "{}  {} → {}  conversation {}  {}",
                        shoal_core::Timestamp(m.sent_at),
                        names.get(&m.author).unwrap_or(&m.author),
                        m.recipient,
                        m.conversation_id,
                        m.message_id
                    );
                }
            }
        }
    }
    Ok(())
}

fn quarantine_command(data: &std::path::Path, command: QuarantineCommand) -> Result<()> {
    let store = admin::open(data)?;
    match command {
        QuarantineCommand::List { mailbox, json } => {
            let mailbox_id = match mailbox {
                Some(m) => Some(
                    store
                        .mailboxes(None)?
                        .into_iter()
                        .find(|b| b.id == m || b.address.eq_ignore_ascii_case(&m))
                        .ok_or_else(|| {
                            anyhow::anyhow!("no mailbox `{m}` (see `shoal-relay mailbox list`)")
                        })?
                        .id,
                ),
                None => None,
            };
            let list = store.quarantined_mail(mailbox_id.as_deref())?;
            if json {
                print_json(&list)?;
            } else if list.is_empty() {
                println!("No mail is set aside: every message was imported.");
            } else {
                for q in list {
                    println!(
                        "{}  mailbox {}  UID {}  from {}  \"{}\"  {} attempt(s){}\n    {}",
                        q.id,
                        q.mailbox_id,
                        q.uid,
                        if q.from.is_empty() {
                            "(no sender)"
                        } else {
                            &q.from
                        },
                        q.subject,
                        q.attempts,
                        if q.retry { ", retry requested" } else { "" },
                        q.reason
                    );
                }
            }
        }
        QuarantineCommand::Retry { id } => {
            if !store.retry_quarantined(id)? {
                anyhow::bail!(
                    "no quarantined message {id} (see `shoal-relay mail quarantine list`)"
                );
            }
            println!("Message {id} will be imported again by the running relay (within --mail-poll-secs).");
        }
        QuarantineCommand::Drop { id } => {
            if !store.drop_quarantined(id)? {
                anyhow::bail!(
                    "no quarantined message {id} (see `shoal-relay mail quarantine list`)"
                );
            }
            println!("Message {id} dropped: it will not be imported; it stays in the mailbox.");
        }
    }
    Ok(())
}

fn mailbox_command(data: &std::path::Path, command: MailboxCommand) -> Result<()> {
    use shoal_relay::mail::config::{default_port, MailboxFile, PasswordSource, Protocol};
    let store = admin::open(data)?;
    match command {
        MailboxCommand::Add {
            config: Some(path),
            json,
            ..
        } => {
            let file = MailboxFile::read(&path)?;
            let input = admin::MailboxInput {
                team: file.team.clone(),
                address: file.address.clone(),
                display_name: file.display_name.clone(),
                imap: file.imap.server(Protocol::Imap, &file.address, &path),
                smtp: file.smtp.server(Protocol::Smtp, &file.address, &path),
                imap_password: file.imap.password("imap", &path)?.read()?,
                smtp_password: file.smtp.password("smtp", &path)?.read()?,
                insecure_plaintext: file.insecure_plaintext,
            };
            report_mailbox(&admin::add_mailbox(&store, data, input)?, json)?;
        }
        MailboxCommand::Add {
            team,
            address,
            display_name,
            imap_host,
            imap_port,
            imap_tls,
            imap_user,
            imap_ca_file,
            smtp_host,
            smtp_port,
            smtp_tls,
            smtp_user,
            smtp_ca_file,
            password_env,
            password_file,
            password_stdin,
            smtp_password_env,
            insecure_plaintext,
            json,
            ..
        } => {
            let address = address.unwrap_or_default();
            let source = match (password_env, password_file, password_stdin) {
                (Some(v), _, _) => PasswordSource::Env(v),
                (_, Some(f), _) => PasswordSource::File(f),
                (_, _, true) => PasswordSource::Stdin,
                _ => anyhow::bail!(
                    "give the password with --password-env, --password-file or --password-stdin"
                ),
            };
            let imap_password = source.read()?;
            let smtp_password = match smtp_password_env {
                Some(v) => PasswordSource::Env(v).read()?,
                None => imap_password.clone(),
            };
            let imap_user = imap_user.unwrap_or_else(|| address.clone());
            let input = admin::MailboxInput {
                team: team.unwrap_or_default(),
                address: address.clone(),
                display_name,
                imap: ServerConfig {
                    host: imap_host.unwrap_or_default(),
                    port: imap_port.unwrap_or(default_port(Protocol::Imap, imap_tls)),
                    tls: imap_tls,
                    user: imap_user.clone(),
                    ca_file: absolute(imap_ca_file)?,
                },
                smtp: ServerConfig {
                    host: smtp_host.unwrap_or_default(),
                    port: smtp_port.unwrap_or(default_port(Protocol::Smtp, smtp_tls)),
                    tls: smtp_tls,
                    user: smtp_user.unwrap_or(imap_user),
                    ca_file: absolute(smtp_ca_file)?,
                },
                imap_password,
                smtp_password,
                insecure_plaintext,
            };
            report_mailbox(&admin::add_mailbox(&store, data, input)?, json)?;
        }
        MailboxCommand::List { team, json } => {
            let team_id = match team {
                Some(t) => Some(admin::find_team(&store, &t)?.id),
                None => None,
            };
            let list = store.mailboxes(team_id.as_deref())?;
            if json {
                print_json(&list)?;
            } else if list.is_empty() {
                println!("No mailboxes; connect one with `shoal-relay mailbox add`.");
            } else {
                for m in list {
                    println!(
                        "{}  {:<32} team {}  IMAP {}:{} ({})  SMTP {}:{} ({})",
                        m.id,
                        m.address,
                        m.team_id,
                        m.imap.host,
                        m.imap.port,
                        m.imap.tls,
                        m.smtp.host,
                        m.smtp.port,
                        m.smtp.tls
                    );
                }
            }
        }
        MailboxCommand::Remove { mailbox } => {
            let removed = store.remove_mailbox(&mailbox)?;
            println!(
                "Disconnected {}; its conversations stay. A running relay stops reading it within seconds.",
                removed.address
            );
        }
    }
    Ok(())
}

/// A CA file as the relay will find it later, whatever its working directory.
fn absolute(file: Option<PathBuf>) -> Result<Option<String>> {
    match file {
        Some(f) => Ok(Some(
            std::fs::canonicalize(&f)
                .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?
                .display()
                .to_string(),
        )),
        None => Ok(None),
    }
}

fn report_mailbox(m: &shoal_relay_store::MailboxRecord, json: bool) -> Result<()> {
    if json {
        return print_json(m);
    }
    println!("Connected {} to team {} ({})", m.address, m.team_id, m.id);
    println!(
        "  IMAP {}@{}:{} ({}), SMTP {}@{}:{} ({}); passwords stored sealed",
        m.imap.user,
        m.imap.host,
        m.imap.port,
        m.imap.tls,
        m.smtp.user,
        m.smtp.host,
        m.smtp.port,
        m.smtp.tls
    );
    Ok(())
}
