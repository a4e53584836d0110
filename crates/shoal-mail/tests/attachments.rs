//! Attachments and their limits.

mod common;

use base64::Engine;
use common::parse_fixture;
use shoal_mail::{parse, Limits};

#[test]
fn attachment_kinds() {
    let mail = parse_fixture("attachments.eml");
    assert_eq!(mail.body, "See the files.");
    let names: Vec<(Option<&str>, &str)> = mail
        .attachments
        .iter()
        .map(|a| (a.filename.as_deref(), a.content_type.as_str()))
        .collect();
    // The unnamed image referenced by the HTML is decoration, not listed.
    assert_eq!(
        names,
        [
            (Some("invoice.pdf"), "application/pdf"),
            (Some("screenshot.png"), "image/png"),
            (None, "text/calendar"),
            (Some("notes été.txt"), "text/plain"),
        ]
    );
    let pdf = &mail.attachments[0];
    assert_eq!(pdf.data.as_deref(), Some(&b"%PDF-1.4\n%small pdf\n"[..]));
    assert_eq!(pdf.size, 20);
    assert_eq!(pdf.rejected, None);
    assert_eq!(
        mail.attachments[1].content_id.as_deref(),
        Some("shot@example.com")
    );
    assert_eq!(mail.attachments[3].data.as_deref(), Some(&b"notes"[..]));
}

#[test]
fn over_the_size_limit_is_rejected_without_data() {
    let size = 30 * 1024 * 1024;
    let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&data);
    let mut raw = String::with_capacity(encoded.len() * 78 / 76 + 1024);
    raw.push_str(
        "From: jane@example.com\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nHere is the video.\r\n\
         --b\r\nContent-Type: video/mp4\r\nContent-Disposition: attachment; filename=\"big.mp4\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n",
    );
    for line in encoded.as_bytes().chunks(76) {
        raw.push_str(std::str::from_utf8(line).unwrap());
        raw.push_str("\r\n");
    }
    raw.push_str("--b--\r\n");

    let mail = parse(raw.as_bytes(), &Limits::default());
    assert_eq!(mail.body, "Here is the video.");
    assert_eq!(mail.attachments.len(), 1);
    let video = &mail.attachments[0];
    assert_eq!(video.filename.as_deref(), Some("big.mp4"));
    assert_eq!(video.size, size);
    assert_eq!(video.data, None);
    let reason = video.rejected.as_deref().unwrap();
    assert!(
        reason.contains("30.0 MiB") && reason.contains("25.0 MiB"),
        "{reason}"
    );

    // Under a larger limit the same file is kept whole.
    let roomy = Limits {
        max_attachment_bytes: 31 * 1024 * 1024,
        ..Limits::default()
    };
    let mail = parse(raw.as_bytes(), &roomy);
    assert_eq!(mail.attachments[0].data.as_deref(), Some(&data[..]));
}

#[test]
fn over_the_count_limit_the_rest_is_rejected() {
    let mut raw = String::from("From: jane@example.com\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nMany files.\r\n");
    for i in 0..5 {
        raw.push_str(&format!(
            "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"f{i}.bin\"\r\n\r\ndata{i}\r\n"
        ));
    }
    raw.push_str("--b--\r\n");
    let limits = Limits {
        max_attachments: 3,
        ..Limits::default()
    };
    let mail = parse(raw.as_bytes(), &limits);
    assert_eq!(mail.attachments.len(), 5);
    for (i, a) in mail.attachments.iter().enumerate() {
        assert_eq!(a.filename.as_deref(), Some(format!("f{i}.bin").as_str()));
        if i < 3 {
            assert_eq!(a.data.as_deref(), Some(format!("data{i}").as_bytes()));
            assert_eq!(a.rejected, None);
        } else {
            assert_eq!(a.data, None);
            assert!(a.rejected.as_deref().unwrap().contains("first 3"));
        }
    }
}

#[test]
fn forwarded_message_is_an_attachment() {
    let raw = b"From: jane@example.com\r\nSubject: Fwd: x\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
        --b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n\
        --b\r\nContent-Type: message/rfc822\r\n\r\nFrom: bob@example.com\r\nSubject: inner\r\n\r\ninner body\r\n\
        --b--\r\n";
    let mail = parse(raw, &Limits::default());
    assert_eq!(mail.full_body, "See attached.");
    assert_eq!(mail.attachments.len(), 1);
    assert_eq!(mail.attachments[0].content_type, "message/rfc822");
    let data = String::from_utf8(mail.attachments[0].data.clone().unwrap()).unwrap();
    assert!(data.contains("inner body"), "{data}");
}
