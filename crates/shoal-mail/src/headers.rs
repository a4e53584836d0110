//! Raw header access on parsed messages.
//!
//! mail-parser types the headers it knows and may reject a malformed value;
//! threading and classification want the text as sent, so they read it here.

use mail_parser::Message;

/// The first header called `name` (in any case) of the top-level message,
/// unfolded and trimmed. Non-UTF-8 bytes are replaced.
pub(crate) fn raw_header(message: &Message<'_>, name: &str) -> Option<String> {
    let root = message.parts.first()?;
    let header = root
        .headers
        .iter()
        .find(|h| h.name().eq_ignore_ascii_case(name))?;
    let bytes = message
        .raw_message()
        .get(header.offset_start as usize..header.offset_end as usize)
        .unwrap_or_default();
    Some(unfold(&String::from_utf8_lossy(bytes)))
}

/// Whether the top-level message has a header called `name` (in any case).
pub(crate) fn has_header(message: &Message<'_>, name: &str) -> bool {
    message.parts.first().is_some_and(|root| {
        root.headers
            .iter()
            .any(|h| h.name().eq_ignore_ascii_case(name))
    })
}

/// Joins folded lines and turns other control characters into spaces.
fn unfold(value: &str) -> String {
    value
        .chars()
        .filter(|c| *c != '\r' && *c != '\n')
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    #[test]
    fn reads_unfolded_values_in_any_case() {
        let raw = b"X-Thing: a\r\n b\r\nSubject: s\r\n\r\nbody";
        let message = MessageParser::new().parse(&raw[..]).unwrap();
        assert_eq!(raw_header(&message, "x-thing").as_deref(), Some("a b"));
        assert!(has_header(&message, "SUBJECT"));
        assert!(!has_header(&message, "List-Id"));
        assert_eq!(raw_header(&message, "List-Id"), None);
    }
}
