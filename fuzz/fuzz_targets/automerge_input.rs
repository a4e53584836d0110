//! Automerge chunks as the relay receives them inside a sync message: the
//! input limits answer without panicking and stay within their budget, and
//! what they let through is loaded by Automerge (which may refuse it, but
//! must not panic or run away).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shoal_protocol::input_limits::{self, InputLimits};

const LIMITS: InputLimits = InputLimits {
    max_expanded_bytes: 1 << 20,
    max_rows: 20_000,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(expanded) = input_limits::check([data], &LIMITS) {
        assert!(expanded.bytes <= LIMITS.max_expanded_bytes);
        assert!(expanded.rows <= LIMITS.max_rows);
        let mut doc = automerge::AutoCommit::new();
        let _ = doc.load_incremental(data);
    }
});
