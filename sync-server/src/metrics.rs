//! Counters and a latency histogram, rendered in the Prometheus text format
//! at `GET /metrics`.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the propagation histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 5.0,
];

/// The relay's counters.
#[derive(Default)]
pub struct Metrics {
    connections_total: AtomicU64,
    auth_failures: AtomicU64,
    messages_in: AtomicU64,
    messages_out: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    changes_stored: AtomicU64,
    slow_peers_cut: AtomicU64,
    mail_imported: AtomicU64,
    refused_over_limit: AtomicU64,
    propagation_buckets: [AtomicU64; BUCKETS.len()],
    propagation_count: AtomicU64,
    propagation_sum_us: AtomicU64,
}

/// Gauges read at render time.
pub struct Gauges {
    /// Open connections.
    pub connections: usize,
    /// Documents in memory.
    pub documents_loaded: usize,
    /// What each team stores, as far as the relay knows (teams it served).
    pub teams: Vec<(String, shoal_relay_store::TeamUsage)>,
    /// The per-team quota.
    pub quota: crate::quota::Quota,
}

impl Metrics {
    /// A connection was accepted.
    pub fn connection_opened(&self) {
        self.connections_total.fetch_add(1, Relaxed);
    }
    /// A Hello was refused.
    pub fn auth_failed(&self) {
        self.auth_failures.fetch_add(1, Relaxed);
    }
    /// A frame arrived.
    pub fn received(&self, bytes: usize) {
        self.messages_in.fetch_add(1, Relaxed);
        self.bytes_in.fetch_add(bytes as u64, Relaxed);
    }
    /// A frame was sent.
    pub fn sent(&self, bytes: usize) {
        self.messages_out.fetch_add(1, Relaxed);
        self.bytes_out.fetch_add(bytes as u64, Relaxed);
    }
    /// Changes were stored.
    pub fn changes_stored(&self, n: usize) {
        self.changes_stored.fetch_add(n as u64, Relaxed);
    }
    /// A connection was closed because its client stopped taking data.
    pub fn slow_peer_cut(&self) {
        self.slow_peers_cut.fetch_add(1, Relaxed);
    }
    /// A mail was imported (documents changed, the import marked done).
    pub fn mail_imported(&self) {
        self.mail_imported.fetch_add(1, Relaxed);
    }
    /// An input was refused for exceeding a named limit.
    pub fn refused_over_limit(&self) {
        self.refused_over_limit.fetch_add(1, Relaxed);
    }
    /// Time from receiving new changes to handing them to the other clients.
    pub fn observe_propagation(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.propagation_buckets[i].fetch_add(1, Relaxed);
            }
        }
        self.propagation_count.fetch_add(1, Relaxed);
        self.propagation_sum_us
            .fetch_add(d.as_micros() as u64, Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self, g: &Gauges) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: String| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        metric(
            "shoal_relay_connections",
            "gauge",
            "Open client connections.",
            g.connections.to_string(),
        );
        metric(
            "shoal_relay_connections_total",
            "counter",
            "Connections accepted since start.",
            self.connections_total.load(Relaxed).to_string(),
        );
        metric(
            "shoal_relay_auth_failures_total",
            "counter",
            "Refused hellos (bad token, revoked, wrong version).",
            self.auth_failures.load(Relaxed).to_string(),
        );
        metric(
            "shoal_relay_documents_loaded",
            "gauge",
            "Documents held in memory.",
            g.documents_loaded.to_string(),
        );
        metric(
            "shoal_relay_messages_in_total",
            "counter",
            "Frames received.",
            self.messages_in.load(Relaxed).to_string(),
        );
        metric(
            "shoal_relay_messages_out_total",
            "counter",
            "Frames sent.",
            self.messages_out.load(Relaxed).to_string(),
        );
        metric(
            "shoal_relay_bytes_in_total",
            "counter",
            "Bytes received in frames.",
            self.bytes_in.load(Relaxed).to_string(),
        );
        metric(
            "shoal_relay_bytes_out_total",
            "counter",
            "Bytes sent in frames.",
            self.bytes_out.load(Relaxed).to_string(),
        );
        metric(
            "shoal_relay_changes_stored_total",
            "counter",
            "Automerge changes stored.",
            self.changes_stored.load(Relaxed).to_string(),
        );
        metric(
            "shoal_relay_slow_clients_cut_total",
            "counter",
            "Connections closed because the client stopped taking data.",
            self.slow_peers_cut.load(Relaxed).to_string(),
        );
        metric(
            "shoal_relay_mail_imported_total",
            "counter",
            "Incoming mails imported into conversations.",
            self.mail_imported.load(Relaxed).to_string(),
        );
        metric(
            "shoal_relay_refused_over_limit_total",
            "counter",
            "Inputs refused for exceeding a limit (change size, quotas).",
            self.refused_over_limit.load(Relaxed).to_string(),
        );
        metric(
            "shoal_relay_team_max_documents",
            "gauge",
            "Documents a team's clients may make the relay store.",
            g.quota.max_documents.to_string(),
        );
        metric(
            "shoal_relay_team_max_bytes",
            "gauge",
            "Bytes a team's clients may make the relay store.",
            g.quota.max_bytes.to_string(),
        );
        for (name, help, value) in [
            (
                "shoal_relay_team_documents",
                "Documents a team stores.",
                (|u: &shoal_relay_store::TeamUsage| u.documents) as fn(&_) -> u64,
            ),
            (
                "shoal_relay_team_bytes",
                "Bytes a team stores (snapshots and changes).",
                |u| u.bytes,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for (team, usage) in &g.teams {
                let _ = writeln!(out, "{name}{{team=\"{team}\"}} {}", value(usage));
            }
        }
        let name = "shoal_relay_propagation_seconds";
        let _ = writeln!(out, "# HELP {name} Time from receiving new changes to handing them to the other connected clients.\n# TYPE {name} histogram");
        for (i, bound) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                self.propagation_buckets[i].load(Relaxed)
            );
        }
        let count = self.propagation_count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            self.propagation_sum_us.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count {count}");
        out
    }
}
