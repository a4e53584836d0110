//! Automerge applied to what a client sent, with its panics contained.
//!
//! Automerge 0.12 panics on some malformed changes instead of refusing
//! them (the fuzz target `automerge_input` found one: a change whose actor
//! table does not cover its operations panics in `import_ops`). The relay
//! must not lose a connection task, let alone leave a document half
//! changed, over one odd message: the panic becomes a refusal, and the
//! caller restores the document from storage as for any refused batch.

use automerge::sync::{self, SyncDoc};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Why Automerge could not take a message, in words for the client.
pub(crate) const PANICKED: &str =
    "Automerge could not apply this change (malformed input it does not refuse cleanly)";

/// `receive_sync_message` that refuses instead of panicking. After an
/// `Err` the document may hold part of the message: restore it.
pub(crate) fn receive_sync_message(
    doc: &mut automerge::AutoCommit,
    state: &mut sync::State,
    message: sync::Message,
) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(|| {
        doc.sync().receive_sync_message(state, message)
    })) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(PANICKED.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The input the fuzzer found (fuzz/artifacts/automerge_input).
    const CRASH: [u8; 24] = [
        133, 111, 74, 131, 251, 99, 4, 20, 1, 14, 0, 0, 10, 74, 121, 0, 0, 0, 0, 0, 0, 0, 24, 10,
    ];

    #[test]
    fn a_change_automerge_panics_on_is_refused() {
        let mut doc = automerge::AutoCommit::new();
        let mut state = sync::State::new();
        let message = sync::Message {
            heads: Vec::new(),
            need: Vec::new(),
            have: Vec::new(),
            changes: vec![CRASH.to_vec()].into(),
            flags: None,
            version: sync::MessageVersion::V1,
        };
        // Before: the panic unwound through the connection task.
        let err = receive_sync_message(&mut doc, &mut state, message).unwrap_err();
        assert_eq!(err, PANICKED);
    }
}
