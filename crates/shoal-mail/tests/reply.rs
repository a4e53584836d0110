//! Outgoing replies: what we write, our own parser reads back.

use mail_parser::{MessageParser, MimeHeaders, PartType};
use shoal_mail::{
    build_reply, normalize_message_id, parse, reply_message_id, reply_subject, Address, Limits,
    OutgoingReply,
};

/// RFC 5322 `dot-atom-text`.
fn is_dot_atom(s: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";
    !s.is_empty()
        && s.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || SPECIALS.contains(c))
        })
}

fn reply() -> OutgoingReply {
    OutgoingReply {
        from: Address::with_name("Ana at Northwind Support", "support@northwind.example"),
        to: Address::with_name("Jörg Müller", "joerg@example.de"),
        cc: vec![
            Address::new("bob@example.com"),
            Address::with_name("Élodie, Durand", "elodie@example.fr"),
        ],
        subject: reply_subject("Drucker kaputt — schon wieder ü"),
        body_text: "Hallo Jörg,\n\nbitte die Reset-Taste <10 s> drücken & warten.\n日本語のテキスト ✓ 🙂\n\n-- \nAna · Northwind"
            .to_string(),
        message_id: reply_message_id("entry-0190f2c4", "northwind.example"),
        in_reply_to: Some("<CAF1234.5678@mail.example.com>".to_string()),
        references: vec![
            "first@example.com".to_string(),
            "<CAF1234.5678@mail.example.com>".to_string(),
        ],
        date_ms: 1_709_546_400_000,
    }
}

#[test]
fn round_trip() {
    let out = reply();
    let raw = build_reply(&out).unwrap();
    let mail = parse(&raw, &Limits::default());

    assert_eq!(
        mail.message_id.as_deref(),
        normalize_message_id(&out.message_id).as_deref()
    );
    assert_eq!(
        mail.in_reply_to.as_deref(),
        Some("CAF1234.5678@mail.example.com")
    );
    assert_eq!(
        mail.references,
        ["first@example.com", "CAF1234.5678@mail.example.com"]
    );
    assert_eq!(mail.subject, "Re: Drucker kaputt — schon wieder ü");
    assert_eq!(mail.from, Some(out.from.clone()));
    assert_eq!(mail.to, std::slice::from_ref(&out.to));
    assert_eq!(mail.cc, out.cc);
    assert_eq!(mail.date_ms, Some(out.date_ms));
    assert_eq!(mail.full_body, out.body_text);
    assert!(mail.had_html);
    assert_eq!(mail.auto, None);
    assert!(mail.attachments.is_empty());
    assert!(mail.warnings.is_empty(), "{:?}", mail.warnings);
}

#[test]
fn has_text_and_html_alternatives() {
    let raw = build_reply(&reply()).unwrap();
    let message = MessageParser::new().parse(&raw).unwrap();
    let ct = message.content_type().unwrap();
    assert_eq!(
        (ct.ctype(), ct.subtype()),
        ("multipart", Some("alternative"))
    );

    let text = message.text_part(0).unwrap();
    let text_ct = text.content_type().unwrap();
    assert_eq!(
        (text_ct.ctype(), text_ct.subtype()),
        ("text", Some("plain"))
    );
    assert_eq!(
        text_ct
            .attribute("charset")
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("utf-8")
    );

    let html = message.html_part(0).unwrap();
    let PartType::Html(html) = &html.body else {
        panic!("no HTML part: {:?}", html.body);
    };
    assert!(html.contains("<p>Hallo Jörg,</p>"), "{html}");
    assert!(
        html.contains("Reset-Taste &lt;10 s&gt; drücken &amp; warten.<br>"),
        "{html}"
    );
    assert!(html.contains("日本語のテキスト ✓ 🙂"), "{html}");
}

#[test]
fn threading_headers_have_brackets() {
    let raw = String::from_utf8(build_reply(&reply()).unwrap()).unwrap();
    let id = reply_message_id("entry-0190f2c4", "northwind.example");
    assert!(
        raw.contains(&format!("\r\nMessage-ID: <{id}>\r\n")),
        "{raw}"
    );
    assert!(
        raw.contains("\r\nIn-Reply-To: <CAF1234.5678@mail.example.com>\r\n"),
        "{raw}"
    );
    assert!(
        raw.contains("\r\nReferences: <first@example.com> <CAF1234.5678@mail.example.com>\r\n"),
        "{raw}"
    );
    assert!(
        raw.contains("\r\nDate: Mon, 04 Mar 2024 10:00:00 +0000\r\n"),
        "{raw}"
    );
    assert!(raw.contains("\r\nMIME-Version: 1.0\r\n"), "{raw}");
    assert!(
        !raw.to_ascii_lowercase().contains("auto-submitted"),
        "{raw}"
    );
    // Only ASCII goes over the wire: the rest is RFC 2047 or transfer-encoded.
    assert!(raw.is_ascii());
    assert!(raw.lines().all(|l| l.len() <= 998));
}

#[test]
fn long_reference_chains_round_trip() {
    let mut out = reply();
    out.references = (0..60)
        .map(|i| format!("message-number-{i}.with-a-long-id@mail.example.com"))
        .collect();
    let raw = build_reply(&out).unwrap();
    assert!(String::from_utf8_lossy(&raw)
        .lines()
        .all(|l| l.len() <= 998));
    let mail = parse(&raw, &Limits::default());
    assert_eq!(mail.references, out.references);
}

#[test]
fn reply_message_ids() {
    let id = reply_message_id("entry-0190f2c4", "northwind.example");
    assert_eq!(id, reply_message_id("entry-0190f2c4", "northwind.example"));
    assert_ne!(id, reply_message_id("entry-0190f2c5", "northwind.example"));
    assert_ne!(id, reply_message_id("entry-0190f2c4", "other.example"));
    let (left, right) = id.split_once('@').unwrap();
    assert!(is_dot_atom(left) && is_dot_atom(right), "{id}");
    assert_eq!(right, "northwind.example");
    for (key, domain) in [
        ("", ""),
        ("ü ñ \r\n <>", "exa mple.com"),
        ("k", "@Support.Example."),
        ("k", "[192.0.2.1]"),
    ] {
        let id = reply_message_id(key, domain);
        let (left, right) = id.split_once('@').unwrap();
        assert!(
            is_dot_atom(left) && is_dot_atom(right),
            "{key:?} {domain:?} -> {id}"
        );
    }
}

#[test]
fn our_replies_are_recognised_when_quoted_back() {
    // The customer answers our reply from Gmail: the quote is trimmed.
    let ours = reply();
    let raw = format!(
        "From: joerg@example.de\r\nSubject: {}\r\nIn-Reply-To: <{}>\r\n\r\nDanke!\r\n\r\nAm Mo., 4. März 2024 um 11:00 Uhr schrieb Ana at Northwind Support <support@northwind.example>:\r\n> Hallo Jörg,\r\n",
        ours.subject, ours.message_id
    );
    let mail = parse(raw.as_bytes(), &Limits::default());
    assert_eq!(mail.body, "Danke!");
    assert_eq!(mail.in_reply_to.as_deref(), Some(ours.message_id.as_str()));
}
