//! The relay process: HTTP routes, background upkeep, and shutdown.

use crate::auth::Authenticator;
use crate::committer::Committer;
use crate::doc_cache::DocCache;
use crate::hub::Hub;
use crate::metrics::{Gauges, Metrics};
use crate::{connection, database_path, team_docs};
use anyhow::{Context, Result};
use axum::extract::{State, WebSocketUpgrade};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use shoal_protocol::{ErrorCode, MAX_FRAME_BYTES};
use shoal_relay_sqlite::SqliteStore;
use shoal_relay_store::MailStore;
use shoal_relay_store::RelayStore;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How the relay runs.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Documents unused this long are evicted from memory.
    pub evict_after: Duration,
    /// Largest accepted frame.
    pub max_frame: usize,
    /// A client that takes no data for this long is disconnected.
    pub write_timeout: Duration,
    /// Bounds on the Automerge changes of one sync message.
    pub input_limits: shoal_protocol::input_limits::InputLimits,
    /// Connections allowed to wait for their hello at once.
    pub max_pending_logins: usize,
    /// Test hook: a pause before every storage commit.
    pub fault_store_pause: Duration,
    /// What each team's clients may make the relay store.
    pub quota: crate::quota::Quota,
    /// A client must send its request headers within this.
    pub header_timeout: Duration,
    /// Timing of the email channel.
    pub mail: crate::mail::MailSettings,
    /// How often pending conversations are checked for the team's
    /// auto-close.
    pub follow_through_every: Duration,
    /// Test hook: follow-through sees the clock this far ahead.
    pub fault_clock_ahead: Duration,
}

impl ServeOptions {
    /// Defaults for `addr`.
    pub fn new(listen: SocketAddr) -> Self {
        Self {
            listen,
            evict_after: Duration::from_secs(60),
            max_frame: MAX_FRAME_BYTES,
            write_timeout: Duration::from_secs(20),
            input_limits: Default::default(),
            max_pending_logins: 64,
            fault_store_pause: Duration::ZERO,
            quota: Default::default(),
            header_timeout: Duration::from_secs(10),
            mail: Default::default(),
            follow_through_every: Duration::from_secs(60),
            fault_clock_ahead: Duration::ZERO,
        }
    }
}

/// Shared state of the running relay.
pub struct Relay {
    pub(crate) store: Arc<dyn RelayStore>,
    pub(crate) auth: Arc<Authenticator>,
    pub(crate) hub: Hub,
    pub(crate) cache: DocCache,
    pub(crate) committer: Committer,
    /// The email channel's storage (the same database).
    pub(crate) mail: Arc<dyn MailStore>,
    pub(crate) mail_settings: crate::mail::MailSettings,
    pub(crate) metrics: Metrics,
    pub(crate) shutdown: watch::Sender<bool>,
    pub(crate) max_frame: usize,
    pub(crate) write_timeout: Duration,
    pub(crate) input_limits: shoal_protocol::input_limits::InputLimits,
    pub(crate) quota: crate::quota::Quota,
    /// What each team stores, as far as known.
    pub(crate) usage: crate::quota::Usage,
    /// Permits for connections that have not logged in yet.
    pub(crate) pending_logins: Arc<tokio::sync::Semaphore>,
    /// The relay's own Automerge actor (for team documents it maintains);
    /// fresh per process so two runs never reuse sequence numbers.
    pub(crate) actor: automerge::ActorId,
    /// Per team, the agent list last written into its team document.
    pub(crate) team_signatures: std::sync::Mutex<std::collections::HashMap<String, String>>,
    /// How often follow-through runs.
    pub(crate) follow_through_every: Duration,
    /// Test hook: how far ahead follow-through sees the clock (ms).
    pub(crate) fault_clock_ahead_ms: i64,
}

impl Relay {
    fn new(store: Arc<dyn RelayStore>, mail: Arc<dyn MailStore>, opts: &ServeOptions) -> Self {
        let max_frame = opts.max_frame;
        Self {
            mail,
            mail_settings: opts.mail.clone(),
            auth: Arc::new(Authenticator::new(store.clone())),
            cache: DocCache::new(store.clone()),
            committer: Committer::start(store.clone(), opts.fault_store_pause),
            store,
            hub: Hub::default(),
            metrics: Metrics::default(),
            shutdown: watch::channel(false).0,
            max_frame,
            write_timeout: opts.write_timeout,
            input_limits: opts.input_limits,
            quota: opts.quota,
            usage: Default::default(),
            pending_logins: Arc::new(tokio::sync::Semaphore::new(opts.max_pending_logins)),
            actor: automerge::ActorId::random(),
            team_signatures: Default::default(),
            follow_through_every: opts.follow_through_every,
            fault_clock_ahead_ms: opts.fault_clock_ahead.as_millis() as i64,
        }
    }
}

async fn healthz(State(relay): State<Arc<Relay>>) -> impl IntoResponse {
    let store = relay.store.clone();
    match tokio::task::spawn_blocking(move || store.stats()).await {
        Ok(Ok(_)) => (axum::http::StatusCode::OK, "ok\n"),
        _ => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "storage unavailable\n",
        ),
    }
}

async fn metrics(State(relay): State<Arc<Relay>>) -> impl IntoResponse {
    let gauges = Gauges {
        connections: relay.hub.connections(),
        documents_loaded: relay.cache.len(),
        teams: relay.usage.known(),
        quota: relay.quota,
    };
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        relay.metrics.render(&gauges),
    )
}

/// How far past the protocol's frame limit the WebSocket layer reads.
const WS_SLACK: usize = 64 * 1024;

async fn sync_socket(State(relay): State<Arc<Relay>>, ws: WebSocketUpgrade) -> impl IntoResponse {
    // The WebSocket layer allows a little more than the protocol limit, so
    // frames just over it reach the codec and get a proper `frame-too-large`
    // error; larger ones are dropped as they arrive, before any login.
    let limit = relay.max_frame.saturating_add(WS_SLACK);
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| connection::run(relay, socket))
}

/// Background upkeep: close revoked agents' connections, keep team documents
/// in step with the agent list, evict idle documents, forget old presence.
async fn upkeep(relay: Arc<Relay>, evict_after: Duration) {
    // Revocations before the start have no connections to close.
    let store = relay.store.clone();
    let mut seen = match tokio::task::spawn_blocking(move || store.revoked_after(0)).await {
        Ok(Ok(all)) => all.last().map_or(0, |(seq, _)| *seq),
        _ => 0,
    };
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut rounds: u64 = 0;
    loop {
        tick.tick().await;
        rounds += 1;
        let store = relay.store.clone();
        if let Ok(Ok(revoked)) =
            tokio::task::spawn_blocking(move || store.revoked_after(seen)).await
        {
            for (seq, agent) in revoked {
                seen = seen.max(seq);
                relay.auth.forget(&agent.id);
                let closed = relay.hub.close_agent(
                    &agent.id,
                    ErrorCode::Revoked,
                    "this agent's token was revoked",
                );
                if closed > 0 {
                    tracing::info!(agent = %agent.email, closed, "closed revoked agent's connections");
                }
            }
        }
        if rounds.is_multiple_of(4) {
            if let Err(e) = team_docs::reconcile(&relay).await {
                tracing::warn!("keeping team documents up to date failed: {e}");
            }
            relay.hub.sweep_presence();
        }
        if rounds.is_multiple_of(2) {
            relay.cache.evict_idle(evict_after).await;
        }
    }
}

/// Runs the relay on the data directory until SIGTERM or Ctrl-C. Prints
/// `listening on ADDR` once it accepts connections.
pub async fn serve(data: &Path, opts: ServeOptions) -> Result<()> {
    let db = database_path(data);
    anyhow::ensure!(
        db.exists(),
        "no relay data in {}; run `shoal-relay init --data {}` first",
        data.display(),
        data.display()
    );
    let sqlite =
        Arc::new(SqliteStore::open(&db).with_context(|| format!("opening {}", db.display()))?);
    let store: Arc<dyn RelayStore> = sqlite.clone();
    let relay = Arc::new(Relay::new(store, sqlite, &opts));
    team_docs::reconcile(&relay)
        .await
        .context("preparing team documents")?;
    let upkeep = tokio::spawn(upkeep(relay.clone(), opts.evict_after));
    let mail = {
        let (relay, data) = (relay.clone(), data.to_owned());
        tokio::spawn(async move { crate::mail::supervise(relay, &data).await })
    };
    let outbox = tokio::spawn(crate::mail::outbox::run(relay.clone(), data.to_owned()));
    let follow_through = tokio::spawn(crate::follow_through::run(relay.clone()));
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/v1/sync", get(sync_socket))
        .with_state(relay.clone());
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .with_context(|| format!("cannot listen on {}", opts.listen))?;
    println!("listening on {}", listener.local_addr()?);
    accept(listener, app, opts.header_timeout).await;
    tracing::info!("shutting down");
    let _ = relay.shutdown.send(true);
    // Upgraded connections outlive the HTTP server: give them a moment to
    // say goodbye. Every acknowledged change is already on disk.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while relay.hub.connections() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    upkeep.abort();
    mail.abort();
    outbox.abort();
    follow_through.abort();
    Ok(())
}

/// Serves HTTP/1 connections (the WebSocket upgrades among them) until
/// SIGTERM or Ctrl-C. Written out rather than `axum::serve`, which sets no
/// timer: without one, a client could take for ever to send its request
/// headers and hold a connection open before any login.
async fn accept(listener: tokio::net::TcpListener, app: Router, header_timeout: Duration) {
    let signal = shutdown_signal();
    tokio::pin!(signal);
    loop {
        let (tcp, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait a moment, go on.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut signal => return,
        };
        // Small messages both ways, latency matters: no Nagle delay.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let served = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                .with_upgrades()
                .await;
            if let Err(e) = served {
                tracing::debug!("HTTP connection ended: {e}");
            }
        });
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
