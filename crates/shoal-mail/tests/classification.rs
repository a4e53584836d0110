//! Machine-made mail is recognised.

mod common;

use common::{fixture, parse_fixture, FIXTURES};
use shoal_mail::{is_auto_submitted, AutoKind};

#[test]
fn dsn_bounce() {
    let mail = parse_fixture("dsn_bounce.eml");
    assert_eq!(mail.auto, Some(AutoKind::Bounce));
    assert!(
        mail.full_body.contains("could not\nbe delivered"),
        "{}",
        mail.full_body
    );
}

#[test]
fn out_of_office_auto_replied() {
    assert_eq!(
        parse_fixture("ooo_auto_replied.eml").auto,
        Some(AutoKind::AutoReply)
    );
}

#[test]
fn exchange_oof() {
    let mail = parse_fixture("exchange_oof.eml");
    assert_eq!(mail.auto, Some(AutoKind::AutoReply));
    assert_eq!(
        mail.body,
        "I am out of the office until March 11.\n\nFor urgent matters contact Bob."
    );
}

#[test]
fn mailing_list() {
    let mail = parse_fixture("mailing_list.eml");
    assert_eq!(mail.auto, Some(AutoKind::Bulk));
    assert_eq!(
        shoal_mail::normalize_subject(&mail.subject),
        "[users] firmware 2.1 released"
    );
}

#[test]
fn person_written_fixtures_are_not_auto() {
    for name in [
        "plain.eml",
        "alternative.eml",
        "gmail_reply.eml",
        "outlook_html_reply.eml",
        "apple_mail_reply.eml",
        "german_reply.eml",
        "french_reply.eml",
        "inline_reply.eml",
    ] {
        assert_eq!(parse_fixture(name).auto, None, "{name}");
    }
}

#[test]
fn is_auto_submitted_agrees_with_parse() {
    for name in FIXTURES {
        assert_eq!(
            is_auto_submitted(&fixture(name)),
            parse_fixture(name).auto,
            "{name}"
        );
    }
}
