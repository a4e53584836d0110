//! Outgoing replies.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lettre::message::{Mailbox, Message, MultiPart, SinglePart};

use crate::address::Address;
use crate::error::MailError;
use crate::message_id::{hex_digest, is_writable_message_id, normalize_message_id};
use crate::text_to_html::text_to_html;

/// The latest `Date` the message builder can write (9999-12-31T23:59:59Z);
/// it panics on later ones, and on dates before 1970.
const MAX_DATE_MS: i64 = 253_402_300_799_000;

/// An agent's reply, ready to be written as mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingReply {
    /// The team mailbox, usually named after the agent, e.g. "Ana at
    /// Northwind Support" `<support@northwind.example>`.
    pub from: Address,
    /// The customer.
    pub to: Address,
    /// Copied recipients.
    pub cc: Vec<Address>,
    /// The subject, usually [`crate::reply_subject`] of the customer's.
    pub subject: String,
    /// The reply's text; also rendered as the HTML alternative.
    pub body_text: String,
    /// This reply's Message-ID, with or without brackets; see
    /// [`crate::reply_message_id`].
    pub message_id: String,
    /// The Message-ID of the mail replied to.
    pub in_reply_to: Option<String>,
    /// The thread's Message-IDs, oldest first, usually
    /// [`crate::IncomingMail::reply_references`] of the mail replied to.
    pub references: Vec<String>,
    /// When the reply was written, Unix milliseconds.
    pub date_ms: i64,
}

/// Writes the reply as RFC 5322 bytes: `multipart/alternative` with a
/// UTF-8 text/plain part and an HTML part made from the same text, and
/// `Message-ID`, `In-Reply-To`, `References`, `Date` and `MIME-Version`
/// headers. `Auto-Submitted` is not set: a reply written by an agent must
/// get the customer's auto-replies like any personal mail.
///
/// The output depends only on `reply`: the MIME boundary is derived from
/// the Message-ID, so a retried send writes the same bytes.
///
/// Fails when an address cannot be written or the reply's own Message-ID is
/// not `left@right`. Thread ids that cannot be written as a msg-id (spaces,
/// non-ASCII, no `@`: some mailers make such ids) are left out instead, as
/// a reply must not be blocked by the customer's mailer.
pub fn build_reply(reply: &OutgoingReply) -> Result<Vec<u8>, MailError> {
    let message_id = normalize_message_id(&reply.message_id)
        .filter(|id| is_writable_message_id(id))
        .ok_or_else(|| MailError::InvalidMessageId(reply.message_id.clone()))?;
    let mut builder = Message::builder()
        .from(mailbox(&reply.from)?)
        .to(mailbox(&reply.to)?)
        .subject(one_line(&reply.subject))
        .message_id(Some(format!("<{message_id}>")))
        .date(system_time(reply.date_ms));
    for cc in &reply.cc {
        builder = builder.cc(mailbox(cc)?);
    }
    if let Some(id) = reply.in_reply_to.as_deref().and_then(writable_id) {
        builder = builder.in_reply_to(format!("<{id}>"));
    }
    let mut references: Vec<String> = Vec::new();
    for id in reply.references.iter().filter_map(|r| writable_id(r)) {
        if !references.contains(&id) {
            references.push(id);
        }
    }
    if !references.is_empty() {
        let value: Vec<String> = references.iter().map(|id| format!("<{id}>")).collect();
        builder = builder.references(value.join(" "));
    }
    let text = reply.body_text.replace("\r\n", "\n").replace('\r', "\n");
    let html = text_to_html(&text);
    let body = MultiPart::alternative()
        .boundary(boundary(&message_id, &text, &html))
        .singlepart(SinglePart::plain(text))
        .singlepart(SinglePart::html(html));
    Ok(builder.multipart(body)?.formatted())
}

fn mailbox(address: &Address) -> Result<Mailbox, MailError> {
    let email = address.email.trim();
    let parsed = email
        .parse::<lettre::Address>()
        .map_err(|e| MailError::InvalidAddress {
            email: address.email.clone(),
            reason: e.to_string(),
        })?;
    let name = address
        .name
        .as_deref()
        .map(one_line)
        .filter(|n| !n.is_empty());
    Ok(Mailbox::new(name, parsed))
}

fn writable_id(id: &str) -> Option<String> {
    normalize_message_id(id).filter(|id| is_writable_message_id(id))
}

/// Joins lines, drops control characters and collapses whitespace: a header
/// value must stay on its line, or it could add headers of its own, and the
/// builder's RFC 2047 encoding loses a run of spaces between two encoded
/// words.
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn system_time(date_ms: i64) -> SystemTime {
    let ms = date_ms.clamp(0, MAX_DATE_MS);
    UNIX_EPOCH + Duration::from_millis(ms.unsigned_abs())
}

/// A boundary derived from the Message-ID that appears in neither body.
fn boundary(message_id: &str, text: &str, html: &str) -> String {
    let mut attempt = 0u32;
    loop {
        let seed = format!("{message_id}\0{attempt}");
        let candidate = format!("shoal-{}", hex_digest(seed.as_bytes(), 16));
        if !text.contains(&candidate) && !html.contains(&candidate) {
            return candidate;
        }
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply() -> OutgoingReply {
        OutgoingReply {
            from: Address::with_name("Ana at Northwind Support", "support@northwind.example"),
            to: Address::with_name("Jane Doe", "jane@example.com"),
            cc: vec![],
            subject: "Re: Printer".to_string(),
            body_text: "Hi Jane".to_string(),
            message_id: "shoal.1@northwind.example".to_string(),
            in_reply_to: None,
            references: vec![],
            date_ms: 1_709_546_400_000,
        }
    }

    fn text(reply: &OutgoingReply) -> String {
        String::from_utf8(build_reply(reply).unwrap()).unwrap()
    }

    #[test]
    fn same_reply_same_bytes() {
        assert_eq!(
            build_reply(&reply()).unwrap(),
            build_reply(&reply()).unwrap()
        );
    }

    #[test]
    fn headers() {
        let out = text(&reply());
        assert!(
            out.contains("Message-ID: <shoal.1@northwind.example>\r\n"),
            "{out}"
        );
        assert!(
            out.contains("Date: Mon, 04 Mar 2024 10:00:00 +0000\r\n"),
            "{out}"
        );
        assert!(out.contains("MIME-Version: 1.0\r\n"), "{out}");
        assert!(
            !out.to_ascii_lowercase().contains("auto-submitted"),
            "{out}"
        );
        assert!(!out.contains("In-Reply-To"), "{out}");
        assert!(!out.contains("References"), "{out}");
    }

    #[test]
    fn bad_addresses_and_ids_fail() {
        let mut r = reply();
        r.to = Address::new("not an address");
        assert!(matches!(
            build_reply(&r),
            Err(MailError::InvalidAddress { .. })
        ));
        let mut r = reply();
        r.message_id = "no-at-sign".to_string();
        assert!(matches!(
            build_reply(&r),
            Err(MailError::InvalidMessageId(_))
        ));
        r.message_id = "<>".to_string();
        assert!(matches!(
            build_reply(&r),
            Err(MailError::InvalidMessageId(_))
        ));
    }

    #[test]
    fn unwritable_thread_ids_are_left_out() {
        let mut r = reply();
        r.in_reply_to = Some("<no at sign>".to_string());
        r.references = vec!["<ok@x.example>".into(), "bad".into(), "ok@x.example".into()];
        let out = text(&r);
        assert!(!out.contains("In-Reply-To"), "{out}");
        assert!(out.contains("References: <ok@x.example>\r\n"), "{out}");
    }

    #[test]
    fn header_injection_is_defused() {
        let mut r = reply();
        r.subject = "Hi\r\nBcc: evil@example.com".to_string();
        r.from.name = Some("Ana\r\nX-Evil: 1".to_string());
        let out = text(&r);
        assert!(!out.contains("\r\nBcc:"), "{out}");
        assert!(!out.contains("\r\nX-Evil"), "{out}");
    }

    #[test]
    fn whitespace_between_encoded_words_survives() {
        let mut r = reply();
        r.subject = "日  é\tü".to_string();
        let mail = crate::parse(&build_reply(&r).unwrap(), &crate::Limits::default());
        assert_eq!(mail.subject, "日 é ü");
    }

    #[test]
    fn dates_out_of_range_are_clamped() {
        let mut r = reply();
        r.date_ms = -5;
        assert!(text(&r).contains("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
        r.date_ms = i64::MAX;
        assert!(text(&r).contains("Date: Fri, 31 Dec 9999 23:59:59 +0000\r\n"));
    }

    #[test]
    fn boundary_avoids_the_body() {
        let first = boundary("a@b", "", "");
        let second = boundary("a@b", &first, "");
        assert_ne!(first, second);
        assert!(!second.is_empty());
    }
}
