//! Full-text search: turns what a person types into a safe FTS5 query and
//! shapes the hits.

use crate::{derived, Result};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use shoal_core::{effective_status, DocId, DocKind, Status, Timestamp};

/// Characters of text around a match.
const SNIPPET_CHARS: usize = 160;

/// How many of the most recent matching documents are ranked by relevance.
pub const RANKED_MATCHES: i64 = 2_000;

/// Runs a search: the FTS5 index finds and ranks the documents, the derived
/// tables give titles and status, and snippets come from the stored
/// compressed text — no document is loaded.
pub(crate) fn run(
    conn: &Connection,
    input: &str,
    as_you_type: bool,
    limit: usize,
    now: Timestamp,
) -> Result<Vec<SearchHit>> {
    let terms = parse(input, as_you_type);
    let Some(expr) = fts_expression(&terms) else {
        return Ok(Vec::new());
    };
    let needles = needles(&terms);
    let ids = conn
        .prepare_cached(
            // Ranking costs per matching document, and a common word matches
            // most of a large inbox: rank the most recently indexed matches
            // (new conversations get higher rowids), which is exact whenever
            // fewer documents match.
            "SELECT d.doc_id, d.rowid FROM (
                 SELECT rowid, bm25(search_index, 4.0, 1.0) AS score FROM search_index
                 WHERE search_index MATCH ?1 ORDER BY rowid DESC LIMIT ?3
             ) AS m JOIN search_docs d ON d.rowid = m.rowid
             ORDER BY m.score LIMIT ?2",
        )?
        .query_map(params![expr, limit as i64, RANKED_MATCHES], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut hits = Vec::with_capacity(ids.len());
    for (raw, rowid) in ids {
        let Ok(doc_id) = DocId::parse(&raw) else {
            continue;
        };
        let body = derived::search_body(conn, rowid)?.unwrap_or_default();
        let cut = |fallback: String| snippet(&body, &needles, SNIPPET_CHARS).unwrap_or(fallback);
        match doc_id.kind() {
            DocKind::Conversation => {
                let row = conn
                    .prepare_cached(
                        "SELECT i.subject, i.status, i.snooze_until, i.last_activity, c.name
                         FROM inbox i LEFT JOIN customers c ON c.customer_id = i.customer_id WHERE i.conv_id = ?1",
                    )?
                    .query_row([doc_id.key()], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<i64>>(2)?, r.get::<_, i64>(3)?, r.get::<_, Option<String>>(4)?))
                    })
                    .optional()?;
                let Some((subject, status, until, last, customer_name)) = row else {
                    continue;
                };
                let status = effective_status(
                    status.parse().unwrap_or(Status::Open),
                    until.map(Timestamp),
                    now,
                );
                hits.push(SearchHit {
                    kind: DocKind::Conversation,
                    id: doc_id.key().to_owned(),
                    title: subject,
                    snippet: cut(snippet(&body, &[], SNIPPET_CHARS).unwrap_or_default()),
                    last_activity: Some(Timestamp(last)),
                    status: Some(status.to_string()),
                    customer_name,
                });
            }
            DocKind::Customer => {
                let row = conn
                    .prepare_cached(
                        "SELECT name, primary_email FROM customers WHERE customer_id = ?1",
                    )?
                    .query_row([doc_id.key()], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
                    })
                    .optional()?;
                let Some((name, email)) = row else { continue };
                hits.push(SearchHit {
                    kind: DocKind::Customer,
                    id: doc_id.key().to_owned(),
                    title: name,
                    snippet: cut(email.unwrap_or_default()),
                    last_activity: None,
                    status: None,
                    customer_name: None,
                });
            }
            DocKind::Team | DocKind::AgentPrivate => {}
        }
    }
    Ok(hits)
}

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

/// Shortest last word that searching as you type treats as a prefix. At
/// 50,000 conversations a one-letter prefix matches most of the text (0.7 s)
/// and a two-letter one still takes 0.15–0.3 s, while telling the person
/// little; shorter words are searched as whole words.
const MIN_TYPED_PREFIX: usize = 3;

/// Parses free text: words (letters and digits), `"quoted phrases"`, and a
/// trailing `*` for a prefix. With `as_you_type`, the last word is a prefix
/// too (from two characters), so results appear while the person is still
/// typing it.
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
        if let Some(Term::Word { text, prefix }) = terms.last_mut() {
            *prefix |= text.chars().count() >= MIN_TYPED_PREFIX;
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
        // One or two typed letters are a word, not a prefix; an explicit
        // `*` still is.
        assert_eq!(
            fts_expression(&parse("refund i", true)).unwrap(),
            r#""refund" "i""#
        );
        assert_eq!(fts_expression(&parse("in", true)).unwrap(), r#""in""#);
        assert_eq!(fts_expression(&parse("inv", true)).unwrap(), r#""inv"*"#);
        assert_eq!(fts_expression(&parse("i*", true)).unwrap(), r#""i"*"#);
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
