//! Parsing incoming mail.

use mail_parser::{Message, MessageParser};

use crate::address::Address;
use crate::attachments::{self, Attachment};
use crate::auto::{self, AutoKind};
use crate::body::{self, clean_text};
use crate::headers::{has_header, raw_header};
use crate::limits::Limits;
use crate::message_id::{normalize_message_id, parse_message_id_list};
use crate::quote::strip_quoted_reply;
use crate::subject::is_forward_subject;

/// Incoming mail, decoded for display and threading.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct IncomingMail {
    /// `Message-ID`, normalized (see [`crate::normalize_message_id`]).
    pub message_id: Option<String>,
    /// The first id of `In-Reply-To`, normalized.
    pub in_reply_to: Option<String>,
    /// The ids of `References`, oldest first, normalized.
    pub references: Vec<String>,
    /// The first `From` mailbox.
    pub from: Option<Address>,
    /// The first `Reply-To` mailbox: where the customer wants answers.
    pub reply_to: Option<Address>,
    /// `To` mailboxes, groups flattened.
    pub to: Vec<Address>,
    /// `Cc` mailboxes, groups flattened.
    pub cc: Vec<Address>,
    /// The subject, RFC 2047-decoded, on one line; `""` when missing.
    pub subject: String,
    /// `Date`, Unix milliseconds; `None` when missing or unparseable.
    pub date_ms: Option<i64>,
    /// The text to show: [`Self::full_body`] with the quoted earlier
    /// conversation trimmed (see [`crate::strip_quoted_reply`]). Forwards
    /// (subject `Fwd:` …) are not trimmed.
    pub body: String,
    /// The whole text: the text/plain parts, or the HTML converted to text
    /// when there is no text part. Lines end in `\n`.
    pub full_body: String,
    /// The body had an HTML part.
    pub had_html: bool,
    /// Attachments, in message order, including rejected ones.
    pub attachments: Vec<Attachment>,
    /// Set for machine-made mail; see [`crate::auto`].
    pub auto: Option<AutoKind>,
    /// What was wrong with the message, for people: malformed structure,
    /// unknown charsets, missing headers.
    pub warnings: Vec<String>,
}

impl IncomingMail {
    /// The `References` for a reply to this mail: its references followed by
    /// its Message-ID.
    pub fn reply_references(&self) -> Vec<String> {
        let mut references = self.references.clone();
        if let Some(id) = &self.message_id {
            references.retain(|r| r != id);
            references.push(id.clone());
        }
        references
    }

    /// Mail whose bytes did not parse: the bytes as text, with `warning`.
    fn unparsed(raw: &[u8], warning: &str) -> IncomingMail {
        let text = clean_text(&String::from_utf8_lossy(raw));
        IncomingMail {
            body: text.clone(),
            full_body: text,
            warnings: vec![warning.to_string()],
            ..IncomingMail::default()
        }
    }
}

/// Parses raw RFC 5322 mail. Never fails and never panics: what cannot be
/// decoded is reported in [`IncomingMail::warnings`], and bytes that do not
/// parse at all are shown as text.
pub fn parse(raw: &[u8], limits: &Limits) -> IncomingMail {
    // Mail is hostile input and mail-parser a large dependency: a panic in it
    // would stop the relay's ingest for everyone, so keep the bytes as text.
    std::panic::catch_unwind(|| parse_message(raw, limits)).unwrap_or_else(|_| {
        IncomingMail::unparsed(
            raw,
            "the message could not be parsed; showing its raw bytes",
        )
    })
}

fn parse_message(raw: &[u8], limits: &Limits) -> IncomingMail {
    const NO_HEADERS: &str = "no message headers found; showing the raw bytes";
    let Some(message) = MessageParser::new().parse(raw) else {
        return IncomingMail::unparsed(raw, NO_HEADERS);
    };
    let mut warnings = Vec::new();
    let text = body::extract(&message, &mut warnings);
    // Binary data can pass for one long header of an unknown name, leaving
    // nothing to show: the bytes themselves are the better guess.
    if text.full.is_empty() && !has_known_header(&message) {
        return IncomingMail::unparsed(raw, NO_HEADERS);
    }

    let from = message
        .from()
        .and_then(|a| a.iter().find_map(Address::from_parsed));
    if from.is_none() {
        warnings.push(if has_header(&message, "From") {
            "the From header has no readable address".to_string()
        } else {
            "missing From header".to_string()
        });
    }
    let message_id = raw_header(&message, "Message-ID").and_then(|v| normalize_message_id(&v));
    if message_id.is_none() {
        warnings.push("missing Message-ID".to_string());
    }
    let date_ms = date_ms(&message);
    if date_ms.is_none() {
        warnings.push(if has_header(&message, "Date") {
            "unparseable Date header".to_string()
        } else {
            "missing Date header".to_string()
        });
    }
    let subject = message.subject().map(one_line).unwrap_or_default();

    body::decoding_warnings(&message, raw, &mut warnings);
    let body = if is_forward_subject(&subject) {
        text.full.clone()
    } else {
        strip_quoted_reply(&text.full)
    };
    dedup(&mut warnings);

    IncomingMail {
        message_id,
        in_reply_to: raw_header(&message, "In-Reply-To")
            .and_then(|v| parse_message_id_list(&v).into_iter().next()),
        references: raw_header(&message, "References")
            .map(|v| parse_message_id_list(&v))
            .unwrap_or_default(),
        from,
        reply_to: message
            .reply_to()
            .and_then(|a| a.iter().find_map(Address::from_parsed)),
        to: message
            .all_to()
            .flat_map(|a| a.iter())
            .filter_map(Address::from_parsed)
            .collect(),
        cc: message
            .all_cc()
            .flat_map(|a| a.iter())
            .filter_map(Address::from_parsed)
            .collect(),
        subject,
        date_ms,
        body,
        full_body: text.full,
        had_html: text.had_html,
        attachments: attachments::extract(&message, limits),
        auto: auto::classify(&message),
        warnings,
    }
}

/// Collapses whitespace and drops control characters, which have no place
/// in a subject shown on one line.
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn has_known_header(message: &Message<'_>) -> bool {
    message
        .parts
        .first()
        .is_some_and(|root| root.headers.iter().any(|h| !h.name.is_other()))
}

fn date_ms(message: &Message<'_>) -> Option<i64> {
    let date = message.date().filter(|d| d.is_valid())?;
    date.to_timestamp().checked_mul(1000)
}

/// Keeps the first of each warning: a message with many broken parts
/// would otherwise repeat itself.
fn dedup(warnings: &mut Vec<String>) {
    let mut seen = Vec::new();
    warnings.retain(|w| {
        let new = !seen.contains(w);
        if new {
            seen.push(w.clone());
        }
        new
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_references_append_the_message_id() {
        let mail = IncomingMail {
            message_id: Some("c@x".into()),
            references: vec!["a@x".into(), "c@x".into(), "b@x".into()],
            ..IncomingMail::default()
        };
        assert_eq!(mail.reply_references(), ["a@x", "b@x", "c@x"]);
        let first = IncomingMail {
            message_id: Some("a@x".into()),
            ..IncomingMail::default()
        };
        assert_eq!(first.reply_references(), ["a@x"]);
    }

    #[test]
    fn warnings_are_deduplicated() {
        let mut w = vec!["a".to_string(), "b".to_string(), "a".to_string()];
        dedup(&mut w);
        assert_eq!(w, ["a", "b"]);
    }

    #[test]
    fn empty_input() {
        let mail = parse(b"", &Limits::default());
        assert_eq!(mail.full_body, "");
        assert!(!mail.warnings.is_empty());
    }
}
