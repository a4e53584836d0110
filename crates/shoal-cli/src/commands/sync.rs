//! `shoal login`, `shoal sync` and `shoal presence`: the relay side of the
//! client.

use super::{open, print_json, resolve_conversation};
use crate::args::{LoginArgs, PresenceArgs, SyncArgs};
use crate::credentials::{self, TokenStore};
use crate::home;
use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use shoal_core::{AgentId, TeamId};
use shoal_replica::{Replica, SystemClock};
use shoal_sync::{RelayConfig, SyncEvent, SyncReport};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// The relay and token of this replica.
pub fn relay_config(home: &Path, replica: &Replica) -> Result<(RelayConfig, TokenStore)> {
    let url = replica.relay_url()?.ok_or_else(|| {
        anyhow!("this replica has no relay; run `shoal login --relay URL --token TOKEN`")
    })?;
    let (token, store) = credentials::load(home, replica.identity().agent_id.as_str())?;
    Ok((RelayConfig { url, token }, store))
}

/// What `login --json` prints.
#[derive(Serialize)]
struct LoggedIn {
    relay: String,
    team_id: String,
    agent_id: String,
    joined: bool,
    token_store: TokenStore,
    sync: SyncReport,
}

/// Runs `shoal login`: checks the token with the relay, keeps it in the
/// keyring, and syncs. A home without a replica joins the token's team.
pub fn login(home_dir: &Path, args: LoginArgs, out: &mut dyn Write) -> Result<()> {
    let token = match (&args.token, args.token_stdin) {
        (Some(t), _) => t.trim().to_owned(),
        (None, true) => {
            let mut t = String::new();
            std::io::stdin().read_line(&mut t)?;
            t.trim().to_owned()
        }
        (None, false) => bail!("pass --token TOKEN or --token-stdin"),
    };
    let cfg = RelayConfig {
        url: args.relay.clone(),
        token: token.clone(),
    };
    let rt = runtime()?;
    let (conn, welcome) = rt
        .block_on(shoal_sync::connect(&cfg))
        .with_context(|| format!("cannot log in to {}", args.relay))?;
    rt.block_on(conn.close());
    let path = home::replica_path(home_dir);
    let joined = !path.exists();
    let mut replica = if joined {
        home::create(home_dir)?;
        let team = TeamId::parse(&welcome.team_id)?;
        let agent = AgentId::parse(&welcome.agent_id)?;
        Replica::create_empty(&path, &team, &agent, Arc::new(SystemClock))
            .context("cannot create the replica")?
    } else {
        open(home_dir)?
    };
    let me = replica.identity();
    if me.team_id.as_str() != welcome.team_id || me.agent_id.as_str() != welcome.agent_id {
        bail!(
            "this token belongs to agent {} of team {}, but the replica in {} belongs to agent {} of team {}; \
             use another --home to join that team",
            welcome.agent_id,
            welcome.team_id,
            home_dir.display(),
            me.agent_id,
            me.team_id
        );
    }
    let token_store = credentials::save(home_dir, &welcome.agent_id, &token)?;
    replica.set_relay_url(&args.relay)?;
    if matches!(token_store, TokenStore::File { .. }) {
        eprintln!("note: the token is stored in {token_store}");
    }
    let report = rt
        .block_on(shoal_sync::sync_once(
            &mut replica,
            &cfg,
            Duration::from_secs(args.timeout),
        ))
        .context("logged in, but the first sync failed; run `shoal sync` to retry")?;
    let result = LoggedIn {
        relay: args.relay,
        team_id: welcome.team_id,
        agent_id: welcome.agent_id,
        joined,
        token_store,
        sync: report,
    };
    if args.json {
        return print_json(out, &result);
    }
    let team = replica
        .team()
        .map(|t| t.name)
        .unwrap_or_else(|_| result.team_id.clone());
    let verb = if joined { "Joined" } else { "Connected" };
    writeln!(out, "{verb} {team} on {}", result.relay)?;
    writeln!(out, "  token kept in {}", result.token_store)?;
    describe(out, &result.sync)?;
    Ok(())
}

fn describe(out: &mut dyn Write, r: &SyncReport) -> Result<()> {
    writeln!(
        out,
        "  synced {} document(s): {} new, {} updated; feed position {}; {} sent, {} received",
        r.documents,
        r.created,
        r.updated,
        r.cursor,
        crate::render::bytes(r.bytes_sent),
        crate::render::bytes(r.bytes_received)
    )?;
    Ok(())
}

/// Runs `shoal sync` (once, or continuously with `--watch`).
pub fn sync(home: &Path, args: SyncArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let (cfg, _) = relay_config(home, &replica)?;
    let rt = runtime()?;
    if !args.watch {
        let report = rt
            .block_on(shoal_sync::sync_once(
                &mut replica,
                &cfg,
                Duration::from_secs(args.timeout),
            ))
            .context("sync failed; your changes are kept and will be sent next time")?;
        for warning in &report.warnings {
            eprintln!("warning: the relay refused {warning}");
        }
        if args.json {
            return print_json(out, &report);
        }
        writeln!(out, "Synced with {}", cfg.url)?;
        return describe(out, &report);
    }
    let json = args.json;
    let mut on_event = move |event: SyncEvent| {
        let line = if json {
            serde_json::to_string(&event).unwrap_or_default()
        } else {
            match &event {
                SyncEvent::Status { status } => format!(
                    "status: {}",
                    serde_json::to_string(status).unwrap_or_default()
                ),
                SyncEvent::Received { doc } => format!("received {doc}"),
                SyncEvent::Presence { presence } => {
                    format!(
                        "presence: {} {:?} {}",
                        presence.agent_id, presence.state, presence.conversation
                    )
                }
                SyncEvent::Warning { message } => format!("warning: {message}"),
            }
        };
        // Lines go out as they happen, for people and for scripts.
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
    };
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    rt.block_on(shoal_sync::watch(
        &mut replica,
        &cfg,
        &mut on_event,
        None,
        stop,
    ))
    .context("sync stopped")?;
    Ok(())
}

/// Runs `shoal presence`: who is viewing or replying where; optionally
/// announces this agent in a conversation for `--hold` seconds.
pub fn presence(home: &Path, args: PresenceArgs, out: &mut dyn Write) -> Result<()> {
    let replica = open(home)?;
    let (cfg, _) = relay_config(home, &replica)?;
    let announce = match (&args.conversation, args.state) {
        (Some(c), Some(state)) => Some((resolve_conversation(&replica, c)?.to_string(), state)),
        (Some(_), None) | (None, Some(_)) => {
            bail!("pass both --conversation and --state to announce presence")
        }
        (None, None) => None,
    };
    let hold = Duration::from_secs_f64(args.hold.max(0.3));
    let rt = runtime()?;
    let list = rt.block_on(shoal_sync::presence(&cfg, announce, hold))?;
    if args.json {
        #[derive(Serialize)]
        struct Presence<'a> {
            presence: &'a [shoal_sync::PresenceInfo],
        }
        return print_json(out, &Presence { presence: &list });
    }
    if list.is_empty() {
        writeln!(out, "Nobody else is viewing or replying anywhere.")?;
    }
    let team = replica.team().ok();
    for p in &list {
        let who = team
            .as_ref()
            .map(|t| super::agent_name(t, &p.agent_id))
            .unwrap_or_else(|| p.agent_id.clone());
        let what = match p.state {
            shoal_protocol::PresenceState::Composing => "is replying in",
            shoal_protocol::PresenceState::ComposingNote => "is writing a note in",
            _ => "is viewing",
        };
        writeln!(
            out,
            "{who} {what} {}",
            crate::render::short_id(&p.conversation)
        )?;
    }
    Ok(())
}
