//! Full-text search: turns what a person types into a safe FTS5 query and
//! shapes the hits.

use serde::Serialize;
use shoal_core::{DocKind, Timestamp};

/// One search result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SearchHit {
    /// `conversation` or `customer`.
    pub kind: DocKind,
    /// Conversation or customer id.
    pub id: String,
    /// Subject, or customer name.
    pub title: String,
    /// Text around the first match.
    pub snippet: String,
    /// Newest activity (conversations).
    pub last_activity: Option<Timestamp>,
    /// Status (conversations).
    pub status: Option<String>,
    /// Customer name (conversations).
    pub customer_name: Option<String>,
}

/// One term of a parsed query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Term {
    /// A word; `prefix` matches words starting with it.
    Word { text: String, prefix: bool },
    /// Consecutive words.
    Phrase(Vec<String>),
}

/// Parses free text: words (letters and digits), `"quoted phrases"`, and a
/// trailing `*` for a prefix. With `as_you_type`, the last word is a prefix
/// too, so results appear while the person is still typing it.
pub(crate) fn parse(input: &str, as_you_type: bool) -> Vec<Term> {
    let mut terms = Vec::new();
    let mut parts = input.split('"');
    let mut in_quotes = false;
    for part in parts.by_ref() {
        if in_quotes {
            let words = words(part);
            if !words.is_empty() {
                terms.push(Term::Phrase(words));
            }
        } else {
            for raw in part.split_whitespace() {
                let prefix = raw.ends_with('*');
                for w in words(raw) {
                    terms.push(Term::Word { text: w, prefix });
                }
            }
        }
        in_quotes = !in_quotes;
    }
    if as_you_type && !input.ends_with(char::is_whitespace) && !input.ends_with('"') {
        if let Some(Term::Word { prefix, .. }) = terms.last_mut() {
            *prefix = true;
        }
    }
    terms
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The FTS5 MATCH expression for `terms` (all must match), or `None` when
/// there is nothing to search for.
pub(crate) fn fts_expression(terms: &[Term]) -> Option<String> {
    let parts: Vec<String> = terms
        .iter()
        .map(|t| match t {
            // Quoting every token keeps FTS5 operators (AND, NOT, NEAR, ':')
            // typed by people from being interpreted.
            Term::Word { text, prefix: true } => format!("\"{text}\"*"),
            Term::Word {
                text,
                prefix: false,
            } => format!("\"{text}\""),
            Term::Phrase(words) => format!("\"{}\"", words.join(" ")),
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The lowercase words a snippet should centre on.
pub(crate) fn needles(terms: &[Term]) -> Vec<String> {
    terms
        .iter()
        .map(|t| match t {
            Term::Word { text, .. } => text.clone(),
            Term::Phrase(words) => words.join(" "),
        })
        .collect()
}

/// About `width` characters of `text` around the first needle found (case
/// insensitive), with ellipses where text was cut.
pub(crate) fn snippet(text: &str, needles: &[String], width: usize) -> Option<String> {
    let lower = text.to_lowercase();
    // Lowercasing can change byte lengths; only trust positions when it did not.
    let pos = if lower.len() == text.len() {
        needles
            .iter()
            .filter_map(|n| lower.find(n.as_str()))
            .min()?
    } else {
        0
    };
    let chars_before = text[..pos].chars().count();
    let start_char = chars_before.saturating_sub(width / 3);
    let flat: String = text.chars().skip(start_char).take(width).collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::new();
    if start_char > 0 {
        out.push('…');
    }
    out.push_str(&flat);
    if text.chars().count() > start_char + width {
        out.push('…');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_words_phrases_and_prefixes() {
        let t = parse(r#"can't log-in "reset my password" refun*"#, false);
        assert_eq!(
            fts_expression(&t).unwrap(),
            r#""can" "t" "log" "in" "reset my password" "refun"*"#
        );
        assert_eq!(
            fts_expression(&parse("invoi", true)).unwrap(),
            r#""invoi"*"#
        );
        assert_eq!(
            fts_expression(&parse("invoice ", true)).unwrap(),
            r#""invoice""#
        );
        assert_eq!(fts_expression(&parse(" ;:() ", true)), None);
        assert_eq!(
            fts_expression(&parse("NOT AND NEAR", false)).unwrap(),
            r#""not" "and" "near""#
        );
    }

    #[test]
    fn snippets_centre_on_a_match() {
        let text = "Hello there. I was charged twice for my order and would like a refund please.";
        let s = snippet(text, &["refund".into()], 30).unwrap();
        assert!(s.contains("refund"), "{s}");
        assert!(s.starts_with('…'));
        assert_eq!(snippet(text, &["zzz".into()], 30), None);
    }
}
