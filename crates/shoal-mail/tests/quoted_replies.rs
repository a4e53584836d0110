//! Trimming the quoted conversation from real-world reply layouts.

mod common;

use common::parse_fixture;
use shoal_mail::{parse, Limits};

#[test]
fn gmail() {
    let mail = parse_fixture("gmail_reply.eml");
    assert_eq!(mail.body, "Thanks, the reset worked!");
    assert!(mail.full_body.contains("> please hold the reset button"));
}

#[test]
fn gmail_html_only() {
    // The same reply without its text part: the blockquote becomes `>` lines.
    let raw = b"From: jane@example.com\r\nSubject: Re: x\r\nContent-Type: text/html\r\n\r\n\
        <div dir=\"ltr\">Thanks, the reset worked!</div><br><div class=\"gmail_quote\">\
        <div dir=\"ltr\" class=\"gmail_attr\">On Mon, Mar 4, 2024 at 11:00 AM Ana &lt;support@northwind.example&gt; wrote:<br></div>\
        <blockquote class=\"gmail_quote\">Hi Jane,<br><br>please hold the reset button.</blockquote></div>";
    let mail = parse(raw, &Limits::default());
    assert_eq!(mail.body, "Thanks, the reset worked!");
}

#[test]
fn outlook_html() {
    let mail = parse_fixture("outlook_html_reply.eml");
    assert_eq!(mail.body, "That worked, thank you!\n\nJane");
    assert!(mail
        .full_body
        .contains("Hi Jane, please hold the reset button."));
    assert!(!mail.full_body.contains("shapedefaults"));
    assert!(!mail.full_body.contains("MsoNormal"));
}

#[test]
fn outlook_plain_with_separator() {
    let mail = parse_fixture("outlook_plain_reply.eml");
    assert_eq!(mail.body, "Works now, thanks.\n\nJane");
}

#[test]
fn apple_mail() {
    let mail = parse_fixture("apple_mail_reply.eml");
    assert_eq!(
        mail.body,
        "Sounds good, see you Tuesday.\n\nSent from my iPhone"
    );
}

#[test]
fn german_attribution() {
    let mail = parse_fixture("german_reply.eml");
    assert_eq!(
        mail.body,
        "Vielen Dank, jetzt geht es wieder.\n\nSchöne Grüße\nJörg"
    );
}

#[test]
fn french_attribution() {
    let mail = parse_fixture("french_reply.eml");
    assert_eq!(mail.body, "Merci, c'est réparé !\n\nÉlodie");
}

#[test]
fn trailing_quote_block() {
    let raw = b"From: jane@example.com\r\nSubject: Re: x\r\n\r\nYes, go ahead.\r\n\r\n> Shall we replace the toner?\r\n> Ana\r\n";
    let mail = parse(raw, &Limits::default());
    assert_eq!(mail.body, "Yes, go ahead.");
}

#[test]
fn inline_reply_is_kept() {
    let mail = parse_fixture("inline_reply.eml");
    assert_eq!(mail.body, mail.full_body);
    assert!(mail.body.contains("The X100."));
    assert!(mail.body.contains("Since yesterday's firmware update."));
}

#[test]
fn forwards_are_not_trimmed() {
    let raw = b"From: jane@example.com\r\nSubject: Fwd: Broken again\r\n\r\nSee below.\r\n\r\n\
        From: Bob <bob@example.com>\r\nSent: Monday, March 4, 2024\r\nTo: Jane\r\nSubject: Broken again\r\n\r\nIt broke.\r\n";
    let mail = parse(raw, &Limits::default());
    assert_eq!(mail.body, mail.full_body);
    assert!(mail.body.contains("It broke."));
}

#[test]
fn only_a_quote_keeps_everything() {
    let raw = b"From: jane@example.com\r\nSubject: Re: x\r\n\r\n> just the quote\r\n";
    let mail = parse(raw, &Limits::default());
    assert_eq!(mail.body, "> just the quote");
}
