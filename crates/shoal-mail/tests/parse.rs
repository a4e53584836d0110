//! Headers and bodies of well-formed mail.

mod common;

use common::{fixture_crlf, parse_fixture, FIXTURES};
use shoal_mail::{parse, Address, Limits};

#[test]
fn plain_text_mail() {
    let mail = parse_fixture("plain.eml");
    assert_eq!(
        mail.message_id.as_deref(),
        Some("CAF1234.5678@mail.example.com")
    );
    assert_eq!(
        mail.in_reply_to.as_deref(),
        Some("shoal.aaaa@northwind.example")
    );
    assert_eq!(
        mail.references,
        ["first@example.com", "shoal.aaaa@northwind.example"]
    );
    assert_eq!(
        mail.from,
        Some(Address::with_name("Doe, Jane", "Jane.Doe@Example.com"))
    );
    assert_eq!(
        mail.from.as_ref().unwrap().email_lowercase(),
        "jane.doe@example.com"
    );
    assert_eq!(
        mail.reply_to,
        Some(Address::with_name("Jane Doe", "jane+support@example.com"))
    );
    assert_eq!(
        mail.to,
        [
            Address::with_name("Northwind Support", "support@northwind.example"),
            Address::new("sales@northwind.example"),
        ]
    );
    assert_eq!(
        mail.cc,
        [Address::with_name("Bob Smith", "bob@example.com")]
    );
    assert_eq!(mail.subject, "Printer on fire");
    assert_eq!(mail.date_ms, Some(1_709_546_400_000));
    assert_eq!(
        mail.full_body,
        "Hello,\n\nmy printer is on fire. Can you help?\n\nJane\n-- \nJane Doe · ACME Corp."
    );
    assert_eq!(mail.body, mail.full_body);
    assert!(!mail.had_html);
    assert!(mail.attachments.is_empty());
    assert_eq!(mail.auto, None);
    assert!(mail.warnings.is_empty(), "{:?}", mail.warnings);
    assert_eq!(
        mail.reply_references(),
        [
            "first@example.com",
            "shoal.aaaa@northwind.example",
            "CAF1234.5678@mail.example.com"
        ]
    );
}

#[test]
fn multipart_alternative_prefers_text() {
    let mail = parse_fixture("alternative.eml");
    assert_eq!(
        mail.full_body,
        "Hi,\n\nthe invoice shows 120 € but we agreed on 100 €.\n\nThanks, Jane"
    );
    assert!(!mail.full_body.contains("HTML VERSION"));
    assert!(mail.had_html);
    assert!(mail.warnings.is_empty(), "{:?}", mail.warnings);
}

#[test]
fn html_only_becomes_safe_text() {
    let mail = parse_fixture("html_only.eml");
    assert!(mail.had_html);
    let text = &mail.full_body;
    assert_eq!(
        text,
        "Hello support,\n\n\
         The login page shows <error 500> & nothing else.\n\
         Tried in Firefox & Chrome — same \"result\".\n\n\
         - Step one\n\
         - Step two\n\n\
         See the status page (https://status.example.com/incidents?id=1&v=2).\n\n\
         Café owner"
    );
    for forbidden in [
        "stolen",
        "alert",
        "injected",
        "font-family",
        "Ignore this title",
        "tracking",
        "<p",
        "<b>",
        "&amp;",
        "&nbsp;",
    ] {
        assert!(!text.contains(forbidden), "{forbidden:?} in {text:?}");
    }
}

#[test]
fn rfc2047_iso_8859_1_subject_and_from() {
    let mail = parse_fixture("german_reply.eml");
    assert_eq!(mail.subject, "AW: Drucker funktioniert überhaupt nicht");
    assert_eq!(
        mail.from,
        Some(Address::with_name("Jörg Müller", "joerg@example.de"))
    );
    assert!(
        mail.full_body.contains("Schöne Grüße\nJörg"),
        "{}",
        mail.full_body
    );
    assert!(mail.warnings.is_empty(), "{:?}", mail.warnings);
}

#[test]
fn rfc2047_utf8_subject_and_from() {
    let mail = parse_fixture("french_reply.eml");
    assert_eq!(mail.subject, "Re: Imprimante cassée");
    assert_eq!(
        mail.from,
        Some(Address::with_name("Élodie Durand", "elodie@example.fr"))
    );
    assert!(mail.full_body.starts_with("Merci, c'est réparé !"));
    assert!(mail.warnings.is_empty(), "{:?}", mail.warnings);
}

#[test]
fn message_ids_are_normalized() {
    let raw = b"From: a@example.com\r\nDate: Mon, 4 Mar 2024 11:00:00 +0100\r\n\
        Message-ID:\r\n  <  folded@example.com >\r\n\
        In-Reply-To: <parent@example.com> <other@example.com>\r\n\
        References: <root@example.com>\r\n <parent@example.com><parent@example.com>\r\n\
        \r\nbody\r\n";
    let mail = parse(raw, &Limits::default());
    assert_eq!(mail.message_id.as_deref(), Some("folded@example.com"));
    assert_eq!(mail.in_reply_to.as_deref(), Some("parent@example.com"));
    assert_eq!(mail.references, ["root@example.com", "parent@example.com"]);
}

#[test]
fn unbracketed_ids_are_accepted() {
    let raw = b"From: a@example.com\r\nMessage-ID: bare@example.com\r\n\
        References: one@example.com, two@example.com\r\n\r\nbody\r\n";
    let mail = parse(raw, &Limits::default());
    assert_eq!(mail.message_id.as_deref(), Some("bare@example.com"));
    assert_eq!(mail.references, ["one@example.com", "two@example.com"]);
}

#[test]
fn groups_and_undisclosed_recipients() {
    let raw = b"From: a@example.com\r\nTo: undisclosed-recipients:;\r\n\
        Cc: Team: x@example.com, Y <y@example.com>;, z@example.com\r\n\r\nbody\r\n";
    let mail = parse(raw, &Limits::default());
    assert!(mail.to.is_empty());
    let cc: Vec<&str> = mail.cc.iter().map(|a| a.email.as_str()).collect();
    assert_eq!(cc, ["x@example.com", "y@example.com", "z@example.com"]);
}

#[test]
fn crlf_and_lf_give_the_same_result() {
    for name in FIXTURES {
        let lf = parse_fixture(name);
        let crlf = parse(&fixture_crlf(name), &Limits::default());
        assert_eq!(lf.full_body, crlf.full_body, "{name}");
        assert_eq!(lf.body, crlf.body, "{name}");
        assert_eq!(lf.subject, crlf.subject, "{name}");
        assert_eq!(lf.message_id, crlf.message_id, "{name}");
        assert_eq!(lf.auto, crlf.auto, "{name}");
        assert_eq!(lf.attachments.len(), crlf.attachments.len(), "{name}");
    }
}

#[test]
fn body_is_never_empty_when_full_body_is_not() {
    for name in FIXTURES {
        let mail = parse_fixture(name);
        if !mail.full_body.trim().is_empty() {
            assert!(!mail.body.trim().is_empty(), "{name}");
        }
    }
}
