//! A client's stream of frames as the relay handles it, short of storage:
//! each frame decoded, sync parts put together within the relay's limit,
//! every sync message decoded and checked against the input limits before
//! Automerge applies it to a document. Whatever the frames, no panic (but
//! Automerge's own, contained as the relay contains them), and nothing
//! over a limit reaches Automerge.
#![no_main]

use automerge::sync::SyncDoc;
use libfuzzer_sys::fuzz_target;
use shoal_protocol::input_limits::{self, InputLimits};
use shoal_protocol::parts::Reassembly;
use shoal_protocol::{decode, ClientMessage, MAX_FRAME_BYTES};

const LIMITS: InputLimits = InputLimits {
    max_expanded_bytes: 1 << 20,
    max_rows: 20_000,
};

/// Replaces libFuzzer's abort-on-panic hook with one that only prints, so
/// `catch_unwind` can contain Automerge's panics; a panic anywhere else
/// still ends the run (libfuzzer-sys aborts when the target unwinds).
fn contain_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|info| eprintln!("{info}"))));
}

fuzz_target!(|data: &[u8]| {
    let mut parts = Reassembly::new(1 << 20);
    let mut doc = automerge::AutoCommit::new();
    let mut state = automerge::sync::State::new();
    // Frames: a two-byte length, then that many bytes.
    let mut rest = data;
    while rest.len() >= 2 {
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let (frame, tail) = rest[2..].split_at(len);
        rest = tail;
        let sync = match decode::<ClientMessage>(frame, MAX_FRAME_BYTES) {
            Ok(ClientMessage::Sync { data, .. }) => Some(data),
            Ok(ClientMessage::SyncPart {
                doc,
                part,
                parts: n,
                data,
                ..
            }) => match parts.push(doc, part, n, data) {
                Ok(whole) => whole.map(|(_, data)| data),
                Err(_) => return,
            },
            Ok(_) => None,
            Err(_) => return,
        };
        let Some(bytes) = sync else { continue };
        let Ok(message) = automerge::sync::Message::decode(&bytes) else {
            continue;
        };
        if let Ok(expanded) = input_limits::check(message.changes.iter(), &LIMITS) {
            assert!(expanded.bytes <= LIMITS.max_expanded_bytes);
            // Automerge's own panics on malformed changes are contained,
            // as the relay contains them (sync-server/src/guarded.rs).
            contain_panics();
            let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                doc.sync().receive_sync_message(&mut state, message)
            }));
            if applied.is_err() {
                // The relay restores the document from storage; here, start over.
                doc = automerge::AutoCommit::new();
                state = automerge::sync::State::new();
            }
        }
    }
});
