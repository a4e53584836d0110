//! Message types. Field names are part of the protocol: changing one is a new
//! protocol version. Unknown fields are ignored, so a version may add
//! optional fields without breaking older peers.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u16 = 1;

/// The oldest protocol version a relay of this build still serves.
pub const MIN_PROTOCOL_VERSION: u16 = 1;

/// What this build understands beyond version 1 as first released, by name.
/// Each side announces its list (`hello`, `welcome`) and uses a capability
/// only when the other side announced it too, so neighbouring releases keep
/// working with what both understand (docs/protocol.md, "Versioning").
///
/// - `unsupported-message`: a message of a type the relay does not know is
///   answered with the non-fatal error `unsupported-message`, not by closing
///   the connection, so a newer client can try what an older relay lacks.
pub const CAPABILITIES: &[&str] = &["unsupported-message"];

/// What an agent is doing in a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PresenceState {
    /// Has the conversation open.
    Viewing,
    /// Is writing a reply.
    Composing,
    /// Is writing an internal note.
    ComposingNote,
    /// Left the conversation (clears the presence at once).
    Idle,
}

/// Messages from a client to the relay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ClientMessage {
    /// First message of every connection.
    Hello {
        /// Protocol version the client speaks.
        protocol: u16,
        /// The agent's token (`<token id>.<secret>`).
        token: String,
        /// Client name and version, for logs.
        client: String,
        /// What the client understands beyond version 1 (see
        /// [`CAPABILITIES`]); absent from clients of the first release.
        #[serde(default)]
        capabilities: Vec<String>,
    },
    /// Asks which documents changed after feed position `cursor`
    /// (0 = everything); answered by one or more [`RelayMessage::Changed`].
    ChangedSince {
        /// The last feed sequence the client has fully merged.
        cursor: u64,
    },
    /// An Automerge sync message for one document.
    Sync {
        /// Document id (`conv/…`, `cust/…`, `team/…`, `agent/…`).
        doc: String,
        /// The encoded Automerge sync message.
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
        /// The client starts a new exchange for this document (its sync
        /// state is fresh): the relay drops its own state for this
        /// connection and document too, so it answers whatever it believed
        /// the client already had.
        #[serde(default)]
        restart: bool,
    },
    /// One part of a sync message too large for a frame (see `parts`):
    /// once all have arrived, in order, they are one `sync` message (with
    /// `restart` as given in every part).
    SyncPart {
        /// Document id.
        doc: String,
        /// This part's index, from 0.
        part: u32,
        /// How many parts the message has.
        parts: u32,
        /// Its bytes of the encoded sync message.
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
        /// As in `sync`.
        #[serde(default)]
        restart: bool,
    },
    /// The client's presence in a conversation; repeated every few seconds
    /// while it lasts, since the relay forgets it after a short time.
    Presence {
        /// Conversation id.
        conversation: String,
        /// What the agent is doing there.
        state: PresenceState,
    },
}

/// Messages from the relay to a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum RelayMessage {
    /// The connection is authenticated.
    Welcome {
        /// Protocol version the relay speaks on this connection.
        protocol: u16,
        /// What the relay understands beyond version 1 (see
        /// [`CAPABILITIES`]); absent from relays of the first release.
        #[serde(default)]
        capabilities: Vec<String>,
        /// The agent's team.
        team_id: String,
        /// The agent the token belongs to.
        agent_id: String,
        /// The team's newest feed sequence.
        head: u64,
        /// The largest frame this relay accepts, when it is not
        /// [`crate::MAX_FRAME_BYTES`]: sync messages are split to fit it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_frame: Option<u32>,
    },
    /// Documents changed after a cursor: the answer to `ChangedSince` (with
    /// `more` set while pages follow) and, unasked, the notice that a
    /// document changed while the client was connected.
    Changed {
        /// Document ids.
        docs: Vec<String>,
        /// Feed sequence these changes reach.
        head: u64,
        /// More pages of this answer follow.
        more: bool,
    },
    /// An Automerge sync message for one document.
    Sync {
        /// Document id.
        doc: String,
        /// The encoded Automerge sync message.
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    },
    /// One part of a sync message too large for a frame (see `parts`).
    SyncPart {
        /// Document id.
        doc: String,
        /// This part's index, from 0.
        part: u32,
        /// How many parts the message has.
        parts: u32,
        /// Its bytes of the encoded sync message.
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    },
    /// Changes the client sent for `doc` are stored, up to feed sequence `seq`.
    Ack {
        /// Document id.
        doc: String,
        /// Feed sequence of the newest stored change.
        seq: u64,
    },
    /// Another agent's presence.
    Presence {
        /// The agent.
        agent_id: String,
        /// Conversation id.
        conversation: String,
        /// What they are doing.
        state: PresenceState,
        /// How long this holds unless refreshed, in milliseconds.
        ttl_ms: u32,
    },
    /// Something went wrong; fatal codes are followed by the relay closing
    /// the connection.
    Error {
        /// Machine-readable code.
        code: ErrorCode,
        /// Human-readable explanation.
        message: String,
    },
}

/// Error codes of [`RelayMessage::Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// No valid Hello first, or a wrong or unknown token. Fatal.
    Unauthenticated,
    /// The agent's token was revoked. Fatal.
    Revoked,
    /// The client's protocol version is not supported. Fatal.
    UnsupportedVersion,
    /// A frame could not be decoded. Fatal.
    Malformed,
    /// A frame exceeded the size limit. Fatal.
    FrameTooLarge,
    /// The document belongs to another team or another agent. The
    /// connection stays open.
    Forbidden,
    /// A sync message or change could not be applied; nothing of it was
    /// stored. The connection stays open.
    BadChange,
    /// The relay is shutting down. Fatal; reconnect later.
    ShuttingDown,
    /// Too many connections are waiting to log in. Fatal; reconnect later.
    Busy,
    /// The client stopped taking data (its queue overflowed, or a write did
    /// not complete in time) or went silent. Fatal; reconnect.
    Timeout,
    /// The input is within the frame limit but over a named limit of the
    /// relay (a change's expanded size, a team's quota…); nothing of it was
    /// stored. The connection stays open.
    LimitExceeded,
    /// A message of a type this relay does not know (sent by a newer
    /// client); it was ignored. The connection stays open.
    UnsupportedMessage,
    /// An unexpected relay failure.
    Internal,
}

impl ErrorCode {
    /// Whether the relay closes the connection after this error.
    pub fn is_fatal(self) -> bool {
        !matches!(
            self,
            ErrorCode::Forbidden
                | ErrorCode::BadChange
                | ErrorCode::LimitExceeded
                | ErrorCode::UnsupportedMessage
        )
    }

    /// The code as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Revoked => "revoked",
            ErrorCode::UnsupportedVersion => "unsupported-version",
            ErrorCode::UnsupportedMessage => "unsupported-message",
            ErrorCode::Malformed => "malformed",
            ErrorCode::FrameTooLarge => "frame-too-large",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::BadChange => "bad-change",
            ErrorCode::ShuttingDown => "shutting-down",
            ErrorCode::Busy => "busy",
            ErrorCode::Timeout => "timeout",
            ErrorCode::LimitExceeded => "limit-exceeded",
            ErrorCode::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
