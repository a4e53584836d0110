use shoal_protocol::ErrorCode;
use shoal_replica::ReplicaError;

/// Why syncing stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The relay could not be reached.
    #[error("cannot reach the relay at {url}: {reason}")]
    Unreachable {
        /// The URL tried.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The relay refused the connection (bad or revoked token, wrong version…).
    #[error("the relay refused the connection ({code}): {message}")]
    Refused {
        /// The relay's error code.
        code: ErrorCode,
        /// Its explanation.
        message: String,
    },
    /// The token belongs to another team or agent than this replica's.
    #[error("this token is for agent {token_agent} of team {token_team}, but this replica belongs to agent {replica_agent} of team {replica_team}")]
    WrongIdentity {
        /// The token's team.
        token_team: String,
        /// The token's agent.
        token_agent: String,
        /// The replica's team.
        replica_team: String,
        /// The replica's agent.
        replica_agent: String,
    },
    /// The connection dropped or the relay broke the protocol.
    #[error("connection lost: {0}")]
    Lost(String),
    /// Syncing did not finish in time.
    #[error("sync did not finish within {seconds} s; still waiting for {} document(s): {}", .pending.len(), .pending.join(", "))]
    Timeout {
        /// The limit.
        seconds: u64,
        /// Documents not yet in sync.
        pending: Vec<String>,
    },
    /// The local replica failed.
    #[error(transparent)]
    Replica(#[from] ReplicaError),
}

impl SyncError {
    /// Errors that retrying cannot fix (the token, the version, the identity).
    pub fn is_permanent(&self) -> bool {
        match self {
            SyncError::Refused { code, .. } => matches!(
                code,
                ErrorCode::Unauthenticated | ErrorCode::Revoked | ErrorCode::UnsupportedVersion
            ),
            SyncError::WrongIdentity { .. } => true,
            _ => false,
        }
    }
}
