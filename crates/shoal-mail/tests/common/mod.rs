//! Fixture access shared by the integration tests.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::Path;

use shoal_mail::{parse, IncomingMail, Limits};

/// Every fixture under tests/fixtures.
pub const FIXTURES: &[&str] = &[
    "alternative.eml",
    "apple_mail_reply.eml",
    "attachments.eml",
    "broken_boundary.eml",
    "dsn_bounce.eml",
    "exchange_oof.eml",
    "french_reply.eml",
    "german_reply.eml",
    "gmail_reply.eml",
    "html_only.eml",
    "inline_reply.eml",
    "mailing_list.eml",
    "missing_headers.eml",
    "ooo_auto_replied.eml",
    "outlook_html_reply.eml",
    "outlook_plain_reply.eml",
    "plain.eml",
    "truncated.eml",
    "unknown_charset.eml",
];

/// The raw bytes of a fixture (written with `\n` line ends).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fixture with `\r\n` line ends, as mail arrives over IMAP.
pub fn fixture_crlf(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in &fixture(name) {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// A fixture parsed with the default limits.
pub fn parse_fixture(name: &str) -> IncomingMail {
    parse(&fixture(name), &Limits::default())
}
