//! Any bytes as a frame from a client or from the relay: decoding answers
//! (never panics, never allocates past the frame), and what decodes encodes
//! back to a frame that decodes to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shoal_protocol::{decode, encode, ClientMessage, RelayMessage, MAX_FRAME_BYTES};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = decode::<ClientMessage>(data, MAX_FRAME_BYTES) {
        let again = encode(&m);
        assert_eq!(
            decode::<ClientMessage>(&again, MAX_FRAME_BYTES).ok(),
            Some(m)
        );
    }
    if let Ok(m) = decode::<RelayMessage>(data, MAX_FRAME_BYTES) {
        let again = encode(&m);
        assert_eq!(
            decode::<RelayMessage>(&again, MAX_FRAME_BYTES).ok(),
            Some(m)
        );
    }
});
