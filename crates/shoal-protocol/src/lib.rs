//! Shoal's wire protocol: the messages a client and the relay exchange over
//! one WebSocket, and the codec that turns them into frames.
//!
//! Every WebSocket binary message carries exactly one CBOR-encoded message.
//! The first client message must be [`ClientMessage::Hello`]; the relay
//! answers [`RelayMessage::Welcome`] or an [`RelayMessage::Error`] and closes.
//! See `docs/protocol.md` for the conversation flow, limits and error codes.

mod codec;
pub mod input_limits;
mod messages;
pub mod parts;

pub use codec::{decode, encode, message_type, DecodeError, MAX_FRAME_BYTES};
pub use messages::{
    ClientMessage, ErrorCode, PresenceState, RelayMessage, CAPABILITIES, MIN_PROTOCOL_VERSION,
    PROTOCOL_VERSION,
};
