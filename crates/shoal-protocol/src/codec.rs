//! Frames: one CBOR-encoded message per WebSocket binary message, never more
//! than [`MAX_FRAME_BYTES`].

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The largest frame either side accepts (16 MiB): larger than any sync
/// message of a real conversation, small enough to bound memory per frame.
pub const MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;

/// Why a frame could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Over the size limit; not even looked at.
    #[error("frame of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the frame.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not a message of this protocol.
    #[error("malformed frame: {0}")]
    Malformed(String),
}

/// Encodes a message as one frame.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing CBOR into a Vec cannot fail for these plain data types.
    ciborium::into_writer(message, &mut out).expect("messages always encode");
    out
}

/// Decodes one frame, refusing frames over `limit` bytes before parsing.
pub fn decode<T: DeserializeOwned>(frame: &[u8], limit: usize) -> Result<T, DecodeError> {
    if frame.len() > limit {
        return Err(DecodeError::TooLarge {
            size: frame.len(),
            limit,
        });
    }
    ciborium::from_reader(frame).map_err(|e| DecodeError::Malformed(e.to_string()))
}

/// The `type` of a frame that is a message map, whatever else it holds:
/// what a relay reports when a newer client sends a message it does not know.
pub fn message_type(frame: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "type")]
        kind: String,
    }
    ciborium::from_reader::<Probe, _>(frame)
        .ok()
        .map(|p| p.kind)
}
