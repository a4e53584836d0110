//! Automerge chunks as the relay receives them inside a sync message: the
//! input limits answer without panicking and stay within their budget, and
//! what they let through is loaded by Automerge, which may refuse it, must
//! not run away, and whose panics the relay contains (as here).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shoal_protocol::input_limits::{self, InputLimits};

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
    if let Ok(expanded) = input_limits::check([data], &LIMITS) {
        assert!(expanded.bytes <= LIMITS.max_expanded_bytes);
        assert!(expanded.rows <= LIMITS.max_rows);
        // Automerge's own panics on malformed changes are contained, as the
        // relay contains them (sync-server/src/guarded.rs, which keeps the
        // crash this target found as a regression test).
        contain_panics();
        let _ = std::panic::catch_unwind(|| {
            let mut doc = automerge::AutoCommit::new();
            let _ = doc.load_incremental(data);
        });
    }
});
