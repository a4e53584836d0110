//! Subject lines: the threading key and reply subjects.

/// Prefixes that mark a reply: English, German (AW), Scandinavian (SV) and
/// Dutch (Antw).
const REPLY_PREFIXES: &[&str] = &["re", "aw", "sv", "antw"];

/// Prefixes that mark a forward: English, German (WG), Scandinavian (VS).
const FORWARD_PREFIXES: &[&str] = &["fwd", "fw", "wg", "vs"];

/// Mailing-list tags longer than this are taken as ordinary text.
const MAX_LIST_TAG_CHARS: usize = 64;

/// A key for matching a subject to an earlier conversation of the same
/// customer, when threading headers are missing.
///
/// Reply and forward prefixes are stripped however often they repeat, with or
/// without counters (`Re[2]:`, `AW:`, `Fwd: Re:`); a mailing-list tag such as
/// `[support]` is kept, while prefixes after it are stripped too. Whitespace
/// is collapsed and the result lowercased.
pub fn normalize_subject(s: &str) -> String {
    let all: Vec<&str> = REPLY_PREFIXES
        .iter()
        .chain(FORWARD_PREFIXES)
        .copied()
        .collect();
    let mut rest = strip_prefixes(s, &all);
    let mut key = String::new();
    if let Some((tag, after)) = split_list_tag(rest) {
        key.push_str(tag);
        key.push(' ');
        rest = strip_prefixes(after, &all);
        // Lists that tag every reply again leave `[tag] Re: [tag] …`.
        while let Some((again, after)) = split_list_tag(rest) {
            if !again.eq_ignore_ascii_case(tag) {
                break;
            }
            rest = strip_prefixes(after, &all);
        }
    }
    key.push_str(rest);
    key.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The subject for a reply: `Re: <subject>`, or the subject unchanged when it
/// already starts with a reply prefix (`Re:`, `RE:`, `AW:`, `SV:`, `Antw:`).
///
/// Line breaks (never valid in a subject) become spaces.
pub fn reply_subject(subject: &str) -> String {
    let subject = subject
        .split(['\r', '\n'])
        .filter(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    if strip_one_prefix(&subject, REPLY_PREFIXES).is_some() {
        subject
    } else if subject.is_empty() {
        "Re:".to_string()
    } else {
        format!("Re: {subject}")
    }
}

/// Whether the subject starts with a forward prefix (`Fwd:`, `Fw:`, `WG:`,
/// `VS:`), possibly after a list tag.
///
/// A forwarded message's quoted part is what the customer wants read, so the
/// parser does not trim it. A reply to a forward (`Re: Fwd:`) quotes the
/// conversation like any reply.
pub fn is_forward_subject(subject: &str) -> bool {
    let subject = subject.trim_start();
    let rest = split_list_tag(subject).map_or(subject, |(_, after)| after);
    strip_one_prefix(rest, FORWARD_PREFIXES).is_some()
}

/// Strips any number of `prefixes` from the start of `s`.
fn strip_prefixes<'a>(s: &'a str, prefixes: &[&str]) -> &'a str {
    let mut rest = s.trim_start();
    while let Some(after) = strip_one_prefix(rest, prefixes) {
        rest = after.trim_start();
    }
    rest
}

/// Strips one prefix such as `Re:`, `RE :`, `Re[2]:` or `Re：` (the CJK
/// full-width colon) and returns what follows.
fn strip_one_prefix<'a>(s: &'a str, prefixes: &[&str]) -> Option<&'a str> {
    let s = s.trim_start();
    let word_end = s
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(s.len());
    let word = &s[..word_end];
    if !prefixes.iter().any(|p| p.eq_ignore_ascii_case(word)) {
        return None;
    }
    let mut rest = s[word_end..].trim_start();
    if let Some(counter) = rest.strip_prefix('[') {
        let close = counter.find(']')?;
        let digits = counter[..close].trim();
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        rest = counter[close + 1..].trim_start();
    }
    rest.strip_prefix(':').or_else(|| rest.strip_prefix('：'))
}

/// Splits a leading `[list-tag]` from the rest. Numeric brackets are reply
/// counters, not tags.
fn split_list_tag(s: &str) -> Option<(&str, &str)> {
    let inner = s.strip_prefix('[')?;
    let close = inner.find(']')?;
    let name = &inner[..close];
    let is_tag = !name.trim().is_empty()
        && name.chars().count() <= MAX_LIST_TAG_CHARS
        && !name.contains('[')
        && !name.trim().chars().all(|c| c.is_ascii_digit());
    is_tag.then(|| (&s[..close + 2], &inner[close + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_reply_and_forward_prefixes() {
        let n = normalize_subject;
        assert_eq!(n("Printer on fire"), "printer on fire");
        assert_eq!(n("Re: Printer on fire"), "printer on fire");
        assert_eq!(n("RE: RE: re: Printer on fire"), "printer on fire");
        assert_eq!(n("Re[2]: Printer on fire"), "printer on fire");
        assert_eq!(n("Re [3] : Printer on fire"), "printer on fire");
        assert_eq!(n("Fwd: Re: Printer on fire"), "printer on fire");
        assert_eq!(n("FW: Printer on fire"), "printer on fire");
        assert_eq!(n("AW: WG: Drucker brennt"), "drucker brennt");
        assert_eq!(n("SV: VS: Skrivaren brinner"), "skrivaren brinner");
        assert_eq!(n("Antw: Printer"), "printer");
        assert_eq!(n("Re : Imprimante"), "imprimante");
        assert_eq!(n("Re：打印机"), "打印机");
        assert_eq!(n("Re:Printer"), "printer");
    }

    #[test]
    fn keeps_words_that_only_look_like_prefixes() {
        let n = normalize_subject;
        assert_eq!(n("Revised invoice"), "revised invoice");
        assert_eq!(n("Re-sent: invoice"), "re-sent: invoice");
        assert_eq!(n("Reply needed"), "reply needed");
        assert_eq!(n("Re[x]: invoice"), "re[x]: invoice");
        assert_eq!(n("Question: Re: invoice"), "question: re: invoice");
    }

    #[test]
    fn keeps_list_tags() {
        let n = normalize_subject;
        assert_eq!(n("[support] Printer"), "[support] printer");
        assert_eq!(n("Re: [support] Printer"), "[support] printer");
        assert_eq!(n("[support] Re: Printer"), "[support] printer");
        assert_eq!(
            n("Re: [support] Re: [Support] Printer"),
            "[support] printer"
        );
        assert_eq!(n("[2] Printer"), "[2] printer");
    }

    #[test]
    fn collapses_whitespace_and_lowercases() {
        assert_eq!(
            normalize_subject("  Re:   Printer \t ON\r\n fire  "),
            "printer on fire"
        );
        assert_eq!(normalize_subject("ÉCRAN Cassé"), "écran cassé");
        assert_eq!(normalize_subject(""), "");
        assert_eq!(normalize_subject("Re:"), "");
    }

    #[test]
    fn reply_subjects() {
        assert_eq!(reply_subject("Printer"), "Re: Printer");
        assert_eq!(reply_subject("Re: Printer"), "Re: Printer");
        assert_eq!(reply_subject("RE: Printer"), "RE: Printer");
        assert_eq!(reply_subject("AW: Drucker"), "AW: Drucker");
        assert_eq!(reply_subject("Re[2]: Printer"), "Re[2]: Printer");
        assert_eq!(reply_subject("Fwd: Printer"), "Re: Fwd: Printer");
        assert_eq!(reply_subject("Revised plan"), "Re: Revised plan");
        assert_eq!(
            reply_subject("  Printer\r\n  on fire "),
            "Re: Printer on fire"
        );
        assert_eq!(reply_subject(""), "Re:");
    }

    #[test]
    fn forward_subjects() {
        assert!(is_forward_subject("Fwd: Printer"));
        assert!(is_forward_subject("FW[2]: Printer"));
        assert!(!is_forward_subject("Re: FW: Printer"));
        assert!(is_forward_subject("[support] WG: Drucker"));
        assert!(!is_forward_subject("Re: Printer"));
        assert!(!is_forward_subject("Fwding rules"));
    }
}
