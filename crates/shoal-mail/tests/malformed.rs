//! Broken mail still gives text and says what is wrong.

mod common;

use common::parse_fixture;
use shoal_mail::{parse, IncomingMail, Limits};

fn parse_bytes(raw: &[u8]) -> IncomingMail {
    parse(raw, &Limits::default())
}

fn has_warning(mail: &IncomingMail, needle: &str) -> bool {
    mail.warnings.iter().any(|w| w.contains(needle))
}

#[test]
fn broken_boundary() {
    let mail = parse_fixture("broken_boundary.eml");
    assert!(
        mail.full_body.contains("please read me"),
        "{}",
        mail.full_body
    );
    assert!(
        has_warning(&mail, "declared-boundary"),
        "{:?}",
        mail.warnings
    );
    assert!(mail.attachments.is_empty(), "{:?}", mail.attachments);
    assert_eq!(mail.subject, "Broken boundary");
}

#[test]
fn multipart_without_boundary() {
    let mail = parse_bytes(b"From: a@example.com\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\n\r\nhello\r\n--x--\r\n");
    assert!(mail.full_body.contains("hello"));
    assert!(
        has_warning(&mail, "without a boundary"),
        "{:?}",
        mail.warnings
    );
}

#[test]
fn missing_headers() {
    let mail = parse_fixture("missing_headers.eml");
    assert_eq!(mail.full_body, "Somebody wrote this without headers.");
    assert_eq!(mail.from, None);
    assert!(has_warning(&mail, "missing From"), "{:?}", mail.warnings);
    assert!(
        has_warning(&mail, "missing Message-ID"),
        "{:?}",
        mail.warnings
    );
    assert!(has_warning(&mail, "missing Date"), "{:?}", mail.warnings);
}

#[test]
fn unreadable_from_and_date() {
    let mail = parse_bytes(
        b"From: ,,,\r\nDate: the day after tomorrow\r\nMessage-ID: <x@y>\r\n\r\nhi\r\n",
    );
    assert!(
        has_warning(&mail, "no readable address"),
        "{:?}",
        mail.warnings
    );
    assert!(
        has_warning(&mail, "unparseable Date"),
        "{:?}",
        mail.warnings
    );
    assert_eq!(mail.date_ms, None);
    assert_eq!(mail.full_body, "hi");
}

#[test]
fn no_headers_at_all() {
    let mail = parse_bytes(b"just a line of text\nand another\n");
    assert_eq!(mail.full_body, "just a line of text\nand another");
    assert_eq!(mail.body, mail.full_body);
    assert!(!mail.warnings.is_empty());
}

#[test]
fn binary_garbage() {
    let mut raw = vec![
        0u8, 1, 2, 0xff, 0xfe, 0x89, b'P', b'N', b'G', 0x1b, b'[', b'2', b'J',
    ];
    raw.extend_from_slice(b"readable part ");
    raw.extend((0..=255u8).rev());
    let mail = parse_bytes(&raw);
    assert!(!mail.warnings.is_empty());
    assert!(
        mail.full_body.contains("readable part"),
        "{:?}",
        mail.full_body
    );
    assert!(!mail
        .full_body
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t'));
}

#[test]
fn truncated_message() {
    let mail = parse_fixture("truncated.eml");
    assert_eq!(mail.full_body, "Here is the error report, see attachment.");
    assert!(has_warning(&mail, "never closed"), "{:?}", mail.warnings);
    assert_eq!(mail.attachments.len(), 1);
    let pdf = &mail.attachments[0];
    assert_eq!(pdf.filename.as_deref(), Some("report.pdf"));
    assert_eq!(pdf.data, None);
    assert!(pdf.rejected.as_deref().unwrap().contains("damaged"));
}

#[test]
fn truncated_inside_the_headers() {
    let mail = parse_bytes(b"From: Jane <jane@exa");
    assert!(!mail.warnings.is_empty());
    let mail = parse_bytes(
        b"Subject: cut here\r\nFrom: jane@example.com\r\nContent-Type: multipart/mixed; bound",
    );
    assert!(!mail.warnings.is_empty());
}

#[test]
fn unknown_charset_is_decoded_lossily() {
    let mail = parse_fixture("unknown_charset.eml");
    assert!(has_warning(&mail, "x-unknown-42"), "{:?}", mail.warnings);
    assert!(
        mail.full_body.starts_with("Caf\u{fffd} au lait"),
        "{}",
        mail.full_body
    );
    assert!(mail.full_body.ends_with("The rest is ASCII."));
}

#[test]
fn control_characters_are_removed() {
    let mail = parse_bytes(b"From: a@example.com\r\n\r\nred\x1b[31m alert\x00\x07 done\r\n");
    assert_eq!(mail.full_body, "red[31m alert done");
}

#[test]
fn deeply_nested_multiparts() {
    let depth = 500;
    let mut raw = String::from("From: a@example.com\r\n");
    for i in 0..depth {
        raw.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
        ));
    }
    raw.push_str("Content-Type: text/plain\r\n\r\ndeep text\r\n");
    for i in (0..depth).rev() {
        raw.push_str(&format!("--b{i}--\r\n"));
    }
    let mail = parse_bytes(raw.as_bytes());
    assert!(mail.full_body.contains("deep text"));
}
