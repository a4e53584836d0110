//! `@mentions` in internal notes.

/// The handles mentioned in `body`, lowercased, first occurrence first, each
/// once. A mention is `@` at the start or after a character that is not a
/// letter or digit (so `ana@example.com` is not one), followed by letters,
/// digits, `.`, `_` or `-`; a trailing `.` belongs to the sentence.
pub fn mention_handles(body: &str) -> Vec<String> {
    let mut handles: Vec<String> = Vec::new();
    let mut prev: Option<char> = None;
    for (i, c) in body.char_indices() {
        let starts = c == '@' && !prev.is_some_and(char::is_alphanumeric);
        prev = Some(c);
        if !starts {
            continue;
        }
        let rest = &body[i + 1..];
        let len = rest
            .char_indices()
            .find(|&(_, c)| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-')))
            .map_or(rest.len(), |(j, _)| j);
        let handle = rest[..len].trim_end_matches('.').to_lowercase();
        if !handle.is_empty() && !handles.contains(&handle) {
            handles.push(handle);
        }
    }
    handles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_mentions_not_emails() {
        assert_eq!(
            mention_handles("@Ana can you check? cc @ben.k. Mail is bob@example.com, @ana again"),
            vec!["ana", "ben.k"]
        );
        assert!(mention_handles("no mentions @ here").is_empty());
        assert_eq!(mention_handles("(@zoë)"), vec!["zoë"]);
    }
}
