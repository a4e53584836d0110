//! Recognising machine-made mail.
//!
//! Bounces, out-of-office replies and bulk mail must not reopen a
//! conversation nor get an acknowledgement (which could start a mail loop).
//! The first matching rule decides:
//!
//! 1. [`AutoKind::Bounce`]:
//!    - the message is `multipart/report; report-type=delivery-status` (a DSN);
//!    - or `From` is `MAILER-DAEMON@…` or `postmaster@…` (any case);
//!    - or `Return-Path: <>` (the null sender) and some part is
//!      `message/delivery-status`.
//! 2. [`AutoKind::AutoReply`]:
//!    - `Auto-Submitted: auto-replied` (RFC 3834);
//!    - `Precedence: auto_reply`;
//!    - an `X-Autoreply` or `X-Autorespond` header (any value but `no`);
//!    - `X-Auto-Response-Suppress` listing `All` or `OOF`, as Exchange sets
//!      on out-of-office replies;
//!    - a read receipt: `multipart/report; report-type=disposition-notification`.
//! 3. [`AutoKind::Bulk`]:
//!    - `Auto-Submitted` with any other value than `no` (`auto-generated`,
//!      `auto-notified`, …);
//!    - `Precedence: bulk`, `junk` or `list`;
//!    - a `List-Id` or `List-Unsubscribe` header (mailing lists, newsletters).
//!
//! Header values are compared case-insensitively, ignoring `;` parameters
//! and comments.

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use crate::headers::{has_header, raw_header};

/// Kinds of machine-made mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AutoKind {
    /// An automatic answer to a message: out-of-office, vacation notice,
    /// "we received your request", read receipt.
    AutoReply,
    /// A delivery failure report.
    Bounce,
    /// Mail sent to many or by a program: newsletters, mailing lists,
    /// notifications.
    Bulk,
}

/// Classifies raw mail by the rules in the [module documentation](self);
/// `None` for mail written by a person (or that does not parse at all).
///
/// [`crate::parse`] does the same and stores the result in
/// [`crate::IncomingMail::auto`]; this is for callers that only need the
/// class, as it copies no attachment.
pub fn is_auto_submitted(raw: &[u8]) -> Option<AutoKind> {
    // Same reason as in `parse`: a parser bug must not take the relay down.
    std::panic::catch_unwind(|| {
        let message = MessageParser::new().parse(raw)?;
        classify(&message)
    })
    .ok()
    .flatten()
}

/// Classifies a parsed message; see the [module documentation](self).
pub(crate) fn classify(message: &Message<'_>) -> Option<AutoKind> {
    if is_bounce(message) {
        return Some(AutoKind::Bounce);
    }
    let auto_submitted = header_token(message, "Auto-Submitted");
    let precedence = header_token(message, "Precedence");
    if is_auto_reply(message, auto_submitted.as_deref(), precedence.as_deref()) {
        return Some(AutoKind::AutoReply);
    }
    let bulk = auto_submitted.is_some_and(|v| v != "no")
        || precedence.is_some_and(|v| matches!(v.as_str(), "bulk" | "junk" | "list"))
        || has_header(message, "List-Id")
        || has_header(message, "List-Unsubscribe");
    bulk.then_some(AutoKind::Bulk)
}

fn is_bounce(message: &Message<'_>) -> bool {
    if report_type(message).as_deref() == Some("delivery-status") {
        return true;
    }
    let from_daemon = message
        .from()
        .and_then(|from| from.first())
        .and_then(|addr| addr.address())
        .is_some_and(|email| {
            let local = email.trim().split('@').next().unwrap_or_default();
            local.eq_ignore_ascii_case("mailer-daemon") || local.eq_ignore_ascii_case("postmaster")
        });
    if from_daemon {
        return true;
    }
    let null_sender = raw_header(message, "Return-Path")
        .is_some_and(|v| v.chars().filter(|c| !c.is_whitespace()).eq("<>".chars()));
    null_sender && has_delivery_status_part(message)
}

fn is_auto_reply(
    message: &Message<'_>,
    auto_submitted: Option<&str>,
    precedence: Option<&str>,
) -> bool {
    let flagged = |name: &str| header_token(message, name).is_some_and(|v| v != "no");
    auto_submitted == Some("auto-replied")
        || precedence == Some("auto_reply")
        || flagged("X-Autoreply")
        || flagged("X-Autorespond")
        || raw_header(message, "X-Auto-Response-Suppress").is_some_and(|v| {
            v.split([',', ' ', ';'])
                .any(|t| t.eq_ignore_ascii_case("all") || t.eq_ignore_ascii_case("oof"))
        })
        || report_type(message).as_deref() == Some("disposition-notification")
}

/// The `report-type` of a top-level `multipart/report`, lowercased.
fn report_type(message: &Message<'_>) -> Option<String> {
    let content_type = message.content_type()?;
    let is_report = content_type.ctype().eq_ignore_ascii_case("multipart")
        && content_type
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"));
    is_report
        .then(|| content_type.attribute("report-type"))
        .flatten()
        .map(|t| t.trim().to_ascii_lowercase())
}

fn has_delivery_status_part(message: &Message<'_>) -> bool {
    message.parts.iter().any(|part| {
        !matches!(part.body, PartType::Multipart(_))
            && part.content_type().is_some_and(|ct| {
                ct.ctype().eq_ignore_ascii_case("message")
                    && ct.subtype().is_some_and(|s| {
                        s.eq_ignore_ascii_case("delivery-status")
                            || s.eq_ignore_ascii_case("global-delivery-status")
                    })
            })
    })
}

/// A header's value without parameters or comments, trimmed and lowercased.
fn header_token(message: &Message<'_>, name: &str) -> Option<String> {
    let value = raw_header(message, name)?;
    let token = value.split([';', '(']).next().unwrap_or_default();
    Some(token.trim().to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(headers: &str) -> Option<AutoKind> {
        let raw = format!("{headers}Subject: s\r\n\r\nbody\r\n");
        is_auto_submitted(raw.as_bytes())
    }

    #[test]
    fn person_written_mail_is_not_auto() {
        assert_eq!(class("From: Jane <jane@example.com>\r\n"), None);
        assert_eq!(
            class("From: jane@example.com\r\nAuto-Submitted: no\r\n"),
            None
        );
        assert_eq!(class("From: jane@example.com\r\nX-Autoreply: no\r\n"), None);
        assert_eq!(
            class("From: jane@example.com\r\nPrecedence: first-class\r\n"),
            None
        );
        assert_eq!(
            class("From: jane@example.com\r\nX-Auto-Response-Suppress: DR, RN, NRN\r\n"),
            None
        );
    }

    #[test]
    fn auto_submitted() {
        let f = "From: jane@example.com\r\n";
        assert_eq!(
            class(&format!("{f}Auto-Submitted: auto-replied\r\n")),
            Some(AutoKind::AutoReply)
        );
        assert_eq!(
            class(&format!("{f}Auto-Submitted: Auto-Replied (vacation)\r\n")),
            Some(AutoKind::AutoReply)
        );
        assert_eq!(
            class(&format!("{f}Auto-Submitted: auto-generated\r\n")),
            Some(AutoKind::Bulk)
        );
        assert_eq!(
            class(&format!("{f}Auto-Submitted: auto-notified\r\n")),
            Some(AutoKind::Bulk)
        );
    }

    #[test]
    fn precedence() {
        let f = "From: jane@example.com\r\n";
        for value in ["bulk", "junk", "list", "Bulk"] {
            assert_eq!(
                class(&format!("{f}Precedence: {value}\r\n")),
                Some(AutoKind::Bulk),
                "{value}"
            );
        }
        assert_eq!(
            class(&format!("{f}Precedence: auto_reply\r\n")),
            Some(AutoKind::AutoReply)
        );
    }

    #[test]
    fn vendor_auto_reply_headers() {
        let f = "From: jane@example.com\r\n";
        assert_eq!(
            class(&format!("{f}X-Autoreply: yes\r\n")),
            Some(AutoKind::AutoReply)
        );
        assert_eq!(
            class(&format!("{f}X-Autorespond: vacation\r\n")),
            Some(AutoKind::AutoReply)
        );
        assert_eq!(
            class(&format!("{f}X-Auto-Response-Suppress: All\r\n")),
            Some(AutoKind::AutoReply)
        );
        assert_eq!(
            class(&format!(
                "{f}X-Auto-Response-Suppress: DR, OOF, AutoReply\r\n"
            )),
            Some(AutoKind::AutoReply)
        );
    }

    #[test]
    fn auto_reply_wins_over_list_headers() {
        let h = "From: jane@example.com\r\nList-Id: <support.example.com>\r\nAuto-Submitted: auto-replied\r\n";
        assert_eq!(class(h), Some(AutoKind::AutoReply));
    }

    #[test]
    fn lists() {
        let f = "From: news@example.com\r\n";
        assert_eq!(
            class(&format!("{f}List-Id: News <news.example.com>\r\n")),
            Some(AutoKind::Bulk)
        );
        assert_eq!(
            class(&format!(
                "{f}List-Unsubscribe: <mailto:unsub@example.com>\r\n"
            )),
            Some(AutoKind::Bulk)
        );
    }

    #[test]
    fn daemons_bounce() {
        assert_eq!(
            class("From: MAILER-DAEMON@mx.example.com\r\n"),
            Some(AutoKind::Bounce)
        );
        assert_eq!(
            class("From: Mail Delivery System <Mailer-Daemon@mx.example.com>\r\n"),
            Some(AutoKind::Bounce)
        );
        assert_eq!(
            class("From: postmaster@example.com\r\n"),
            Some(AutoKind::Bounce)
        );
        assert_eq!(class("From: postmaster-fan@example.com\r\n"), None);
    }

    #[test]
    fn null_sender_needs_a_delivery_status() {
        let plain = "Return-Path: <>\r\nFrom: jane@example.com\r\n";
        assert_eq!(class(plain), None);
        let dsn = "Return-Path: < >\r\nFrom: bounces@example.com\r\n\
            Content-Type: multipart/mixed; boundary=b\r\n\r\n\
            --b\r\nContent-Type: text/plain\r\n\r\nUndeliverable\r\n\
            --b\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--b--\r\n";
        assert_eq!(is_auto_submitted(dsn.as_bytes()), Some(AutoKind::Bounce));
    }

    #[test]
    fn reports() {
        let report = |kind: &str| {
            format!(
                "From: jane@example.com\r\nContent-Type: multipart/report; report-type={kind}; boundary=b\r\n\r\n\
                 --b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n"
            )
        };
        assert_eq!(
            is_auto_submitted(report("delivery-status").as_bytes()),
            Some(AutoKind::Bounce)
        );
        assert_eq!(
            is_auto_submitted(report("\"Delivery-Status\"").as_bytes()),
            Some(AutoKind::Bounce)
        );
        assert_eq!(
            is_auto_submitted(report("disposition-notification").as_bytes()),
            Some(AutoKind::AutoReply)
        );
    }

    #[test]
    fn unparseable_mail_is_not_auto() {
        assert_eq!(is_auto_submitted(b""), None);
        assert_eq!(is_auto_submitted(b"\x00\xff garbage"), None);
    }
}
