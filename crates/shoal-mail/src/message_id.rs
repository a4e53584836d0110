//! Message-ID handling: normalization for threading, and deterministic ids
//! for our own replies.

use sha2::{Digest, Sha256};

/// Normalizes a Message-ID (or one id of In-Reply-To/References) for
/// comparison: trimmed, without angle brackets.
///
/// Text around a bracketed id (comments, a second id) is ignored; whitespace
/// inside the brackets, left by header folding, is removed, and so are stray
/// brackets and control characters. Without brackets the first word is
/// taken. Returns `None` when nothing is left.
pub fn normalize_message_id(s: &str) -> Option<String> {
    let s = s.trim();
    let inner = match s.find('<') {
        Some(start) => {
            let rest = &s[start + 1..];
            rest.find('>').map_or(rest, |end| &rest[..end])
        }
        None => s.split_whitespace().next().unwrap_or_default(),
    };
    let id: String = inner
        .chars()
        .filter(|&c| !(c.is_whitespace() || c.is_control() || c == '<' || c == '>'))
        .collect();
    (!id.is_empty()).then_some(id)
}

/// Parses an In-Reply-To or References value into normalized ids, in order,
/// without duplicates.
///
/// Bracketed ids are taken wherever they are, even unspaced (`<a@x><b@x>`);
/// a value without brackets is split on whitespace and commas, as some
/// mailers write it.
pub fn parse_message_id_list(s: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let mut push = |id: Option<String>| {
        if let Some(id) = id {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    };
    if s.contains('<') {
        let mut rest = s;
        while let Some(start) = rest.find('<') {
            let after = &rest[start..];
            let end = after.find('>').map_or(after.len(), |e| e + 1);
            push(normalize_message_id(&after[..end]));
            rest = &after[end..];
        }
    } else {
        for word in s.split(|c: char| c.is_whitespace() || c == ',') {
            push(normalize_message_id(word));
        }
    }
    ids
}

/// A deterministic Message-ID (without brackets) for the reply with
/// idempotency key `key` (the entry id), sent from a mailbox at `domain`.
///
/// The same key always gives the same id, so a send retried after a crash
/// is recognised as a duplicate by receivers and by our own IMAP ingest. The
/// key is hashed rather than embedded so that internal ids are not shown to
/// customers. `domain` keeps only the characters a dot-atom allows; an
/// unusable domain becomes `shoal.invalid`.
pub fn reply_message_id(key: &str, domain: &str) -> String {
    format!(
        "shoal.{}@{}",
        hex_digest(key.as_bytes(), 16),
        clean_domain(domain)
    )
}

/// The first `len` bytes of the SHA-256 of `input`, in lowercase hex: a
/// hash that stays the same across builds, unlike `std`'s hashers.
pub(crate) fn hex_digest(input: &[u8], len: usize) -> String {
    let digest = Sha256::digest(input);
    digest
        .iter()
        .take(len)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn clean_domain(domain: &str) -> String {
    let kept: String = domain
        .trim()
        .trim_start_matches('@')
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .collect::<String>()
        .to_ascii_lowercase();
    let labels: Vec<&str> = kept.split('.').filter(|l| !l.is_empty()).collect();
    if labels.is_empty() {
        "shoal.invalid".to_string()
    } else {
        labels.join(".")
    }
}

/// Whether `id` can be written between angle brackets as an RFC 5322
/// msg-id: `left@right`, printable ASCII, no spaces, brackets or quotes.
pub(crate) fn is_writable_message_id(id: &str) -> bool {
    let Some((left, right)) = id.split_once('@') else {
        return false;
    };
    !left.is_empty()
        && !right.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_ids() {
        let n = normalize_message_id;
        assert_eq!(n("<abc@example.com>").as_deref(), Some("abc@example.com"));
        assert_eq!(
            n("  <abc@example.com>  ").as_deref(),
            Some("abc@example.com")
        );
        assert_eq!(n("abc@example.com").as_deref(), Some("abc@example.com"));
        assert_eq!(
            n("<abc@exa\r\n mple.com>").as_deref(),
            Some("abc@example.com")
        );
        assert_eq!(n("<a@x> (comment)").as_deref(), Some("a@x"));
        assert_eq!(n("<a@x").as_deref(), Some("a@x"));
        assert_eq!(n("<a<b@x>").as_deref(), Some("ab@x"));
        assert_eq!(n("a>b@x").as_deref(), Some("ab@x"));
        assert_eq!(n("a@x b@y").as_deref(), Some("a@x"));
        assert_eq!(n("<>"), None);
        assert_eq!(n("   "), None);
        assert_eq!(n(""), None);
        // Ids are case-sensitive: keep them as written.
        assert_eq!(n("<AbC@X>").as_deref(), Some("AbC@X"));
    }

    #[test]
    fn parses_id_lists() {
        let p = parse_message_id_list;
        assert_eq!(p("<a@x> <b@x>\r\n <c@x>"), ["a@x", "b@x", "c@x"]);
        assert_eq!(p("<a@x><b@x>"), ["a@x", "b@x"]);
        assert_eq!(p("<a@x> <a@x> <b@x>"), ["a@x", "b@x"]);
        assert_eq!(p("a@x, b@x c@x"), ["a@x", "b@x", "c@x"]);
        assert_eq!(p("<a@x> (Jane's message of Monday)"), ["a@x"]);
        assert_eq!(p("<a@x> <b@"), ["a@x", "b@"]);
        assert!(p("").is_empty());
        assert!(p("<> < >").is_empty());
    }

    #[test]
    fn reply_ids_are_deterministic_and_valid() {
        let a = reply_message_id("entry-1", "northwind.example");
        assert_eq!(a, reply_message_id("entry-1", "northwind.example"));
        assert_ne!(a, reply_message_id("entry-2", "northwind.example"));
        assert!(a.starts_with("shoal."));
        assert!(a.ends_with("@northwind.example"));
        assert_eq!(a.len(), "shoal.".len() + 32 + "@northwind.example".len());
        assert!(is_writable_message_id(&a));
        assert_eq!(normalize_message_id(&format!("<{a}>")), Some(a));
    }

    #[test]
    fn reply_id_domains_are_cleaned() {
        assert!(reply_message_id("k", " @Support.Example.COM ").ends_with("@support.example.com"));
        assert!(reply_message_id("k", "a..b.").ends_with("@a.b"));
        assert!(reply_message_id("k", "").ends_with("@shoal.invalid"));
        assert!(reply_message_id("k", "<>").ends_with("@shoal.invalid"));
        assert!(is_writable_message_id(&reply_message_id(
            "k",
            "exa mple\r\n.com"
        )));
    }

    #[test]
    fn writable_ids() {
        assert!(is_writable_message_id("a.b-c@d.e"));
        assert!(!is_writable_message_id("no-at"));
        assert!(!is_writable_message_id("@x"));
        assert!(!is_writable_message_id("a@"));
        assert!(!is_writable_message_id("a b@x"));
        assert!(!is_writable_message_id("ä@x"));
    }
}
