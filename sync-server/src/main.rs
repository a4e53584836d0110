//! `shoal-relay`: run and administer a Shoal relay.

use anyhow::Result;
use clap::{Parser, Subcommand};
use serde::Serialize;
use shoal_relay::admin;
use shoal_relay::server::{serve, ServeOptions};
use shoal_relay_store::RelayStore;
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
    }
    Ok(())
}
