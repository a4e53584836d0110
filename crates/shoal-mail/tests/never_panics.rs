//! Properties over arbitrary and mutated input: parsing never panics and
//! its results keep their promises.

mod common;

use common::{fixture, FIXTURES};
use proptest::prelude::*;
use shoal_mail::{
    build_reply, html_to_text, normalize_subject, parse, reply_message_id, strip_quoted_reply,
    Address, IncomingMail, Limits, OutgoingReply,
};

/// Promises every parse result keeps, whatever the input.
fn check_invariants(mail: &IncomingMail) {
    if !mail.full_body.trim().is_empty() {
        assert!(
            !mail.body.trim().is_empty(),
            "empty body for {:?}",
            mail.full_body
        );
    }
    for text in [&mail.body, &mail.full_body, &mail.subject] {
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t'),
            "control character in {text:?}"
        );
    }
    assert!(!mail.subject.contains('\n'));
    for a in &mail.attachments {
        assert_eq!(a.data.is_some(), a.rejected.is_none());
        if let Some(data) = &a.data {
            assert_eq!(data.len(), a.size);
        }
    }
    if let Some(id) = &mail.message_id {
        assert!(!id.is_empty() && !id.contains(['<', '>']) && !id.contains(char::is_whitespace));
    }
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p, b)),
        (any::<usize>(), 0usize..64).prop_map(|(p, n)| Mutation::Delete(p, n)),
        (
            any::<usize>(),
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..16),
                prop::sample::select(vec![
                    b"\r\n".to_vec(),
                    b"\r\n\r\n".to_vec(),
                    b"--".to_vec(),
                    b"=?utf-8?B?".to_vec(),
                    b"=?".to_vec(),
                    b"<".to_vec(),
                    b">".to_vec(),
                    b"&#x".to_vec(),
                    b"<script>".to_vec(),
                    b"Content-Type: multipart/mixed; boundary=x\r\n".to_vec(),
                    b"Content-Transfer-Encoding: base64\r\n".to_vec(),
                    b"charset=\"x-nope\"".to_vec(),
                ]),
            ]
        )
            .prop_map(|(p, bytes)| Mutation::Insert(p, bytes)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 0usize..256).prop_map(|(p, n)| Mutation::Duplicate(p, n)),
    ]
}

fn apply(mut raw: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = raw.len();
        let at = |p: usize| if len == 0 { 0 } else { p % (len + 1) };
        match m {
            Mutation::Flip(p, b) if len > 0 => raw[p % len] = *b,
            Mutation::Flip(..) => {}
            Mutation::Delete(p, n) => {
                let start = at(*p);
                let end = (start + n).min(len);
                raw.drain(start..end);
            }
            Mutation::Insert(p, bytes) => {
                let start = at(*p);
                raw.splice(start..start, bytes.iter().copied());
            }
            Mutation::Truncate(p) => raw.truncate(at(*p)),
            Mutation::Duplicate(p, n) => {
                let start = at(*p);
                let end = (start + n).min(len);
                let copy = raw[start..end].to_vec();
                raw.splice(end..end, copy);
            }
        }
    }
    raw
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes(raw in proptest::collection::vec(any::<u8>(), 0..4096)) {
        check_invariants(&parse(&raw, &Limits::default()));
    }

    #[test]
    fn arbitrary_headers_and_text(raw in "([A-Za-z-]{1,12}: [ -~]{0,40}\r?\n){0,8}(\r?\n[ -~\t\r\n]{0,400})?") {
        check_invariants(&parse(raw.as_bytes(), &Limits::default()));
    }

    #[test]
    fn mutated_fixtures(
        name in prop::sample::select(FIXTURES.to_vec()),
        mutations in proptest::collection::vec(mutation(), 1..8),
    ) {
        let raw = apply(fixture(name), &mutations);
        let limits = Limits { max_attachment_bytes: 100, max_attachments: 2 };
        check_invariants(&parse(&raw, &limits));
    }

    #[test]
    fn html_to_text_leaves_no_tags(html in "([ -~\u{e9}\u{a0}\n]|<[a-zA-Z/!][ -~]{0,20}>?|<(script|style)>){0,60}") {
        let text = html_to_text(&html);
        if !html.contains('&') {
            let bytes = text.as_bytes();
            for (i, &b) in bytes.iter().enumerate() {
                if b == b'<' {
                    let next = bytes.get(i + 1).copied().unwrap_or(b' ');
                    prop_assert!(!(next.is_ascii_alphabetic() || next == b'/' || next == b'!'), "tag left in {:?} from {:?}", text, html);
                }
            }
        }
    }

    #[test]
    fn trimming_keeps_a_non_empty_prefix(lines in proptest::collection::vec(
        prop_oneof![
            Just(String::new()),
            "> [a-z ]{0,20}",
            "[A-Za-z ,.]{1,30}",
            Just("On Mon, Mar 4, 2024 at 10:00 AM Ana <a@x.example> wrote:".to_string()),
            Just("From: Ana <a@x.example>".to_string()),
            Just("Sent: Monday".to_string()),
            Just("To: Jane".to_string()),
            Just("-----Original Message-----".to_string()),
            Just("________________________________".to_string()),
        ],
        0..20,
    )) {
        let text = lines.join("\n");
        let trimmed = strip_quoted_reply(&text);
        prop_assert!(text.starts_with(&trimmed));
        if !text.trim().is_empty() {
            prop_assert!(!trimmed.trim().is_empty());
        }
    }

    #[test]
    fn subject_keys_are_stable(subject in "((Re|RE|Fwd|AW|SV|Antw|\\[list\\]|\\[2\\])(\\[[0-9]\\])? ?: ?|[ -~\u{e9}\u{a0}]{0,12}){0,6}") {
        let key = normalize_subject(&subject);
        prop_assert_eq!(normalize_subject(&key), key.clone());
        prop_assert_eq!(key.trim(), key.as_str());
    }

    #[test]
    fn replies_round_trip(
        body in "[ -~\u{e9}\u{fc}\u{65e5}\u{1f642}\t\n]{0,300}",
        subject in "[ -~\u{e9}\u{fc}\u{65e5}]{0,80}",
        name in "[ -~\u{e9}]{0,30}",
        key in ".{0,20}",
    ) {
        let reply = OutgoingReply {
            from: Address { name: Some(name.clone()), email: "support@northwind.example".to_string() },
            to: Address::new("jane@example.com"),
            cc: vec![],
            subject: subject.clone(),
            body_text: body.clone(),
            message_id: reply_message_id(&key, "northwind.example"),
            in_reply_to: Some("parent@example.com".to_string()),
            references: vec!["root@example.com".to_string(), "parent@example.com".to_string()],
            date_ms: 1_709_546_400_000,
        };
        let raw = build_reply(&reply).unwrap();
        let mail = parse(&raw, &Limits::default());
        check_invariants(&mail);
        let expected_body = body.trim_start_matches('\n').trim_end();
        prop_assert_eq!(mail.full_body.as_str(), expected_body);
        prop_assert_eq!(mail.subject, subject.split_whitespace().collect::<Vec<_>>().join(" "));
        prop_assert_eq!(mail.message_id.as_deref(), Some(reply.message_id.as_str()));
        prop_assert_eq!(mail.in_reply_to.as_deref(), Some("parent@example.com"));
        prop_assert_eq!(mail.references, reply.references);
        let expected_name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        prop_assert_eq!(mail.from.and_then(|a| a.name), (!expected_name.is_empty()).then_some(expected_name));
    }
}
