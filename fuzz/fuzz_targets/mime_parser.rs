//! Any bytes as an incoming mail: the parser always answers (a broken mail
//! is kept with warnings, never refused or a panic), and never keeps an
//! attachment over its limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shoal_mail::{parse, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_attachment_bytes: 4096,
        max_attachments: 4,
    };
    let mail = parse(data, &limits);
    let kept = mail.attachments.iter().filter(|a| a.data.is_some()).count();
    assert!(kept <= limits.max_attachments);
    for a in &mail.attachments {
        if let Some(d) = &a.data {
            assert!(d.len() <= limits.max_attachment_bytes);
        }
    }
});
