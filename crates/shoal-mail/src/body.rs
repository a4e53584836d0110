//! The text of a message: which parts make the body, fallbacks for broken
//! mail, and warnings about what could not be decoded.

use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

use crate::html_to_text::html_to_text;

/// A message's displayable text.
pub(crate) struct BodyText {
    /// The whole text, line ends normalized to `\n`.
    pub full: String,
    /// Some body part was HTML.
    pub had_html: bool,
}

/// Labels mail-parser decodes as UTF-8 without a decoder of its own.
const UTF8_LABELS: &[&str] = &[
    "utf-8",
    "utf8",
    "unicode-1-1-utf-8",
    "unicode11utf8",
    "unicode20utf8",
    "x-unicode20utf8",
];

/// Picks the body text: the text/plain parts when they have any text,
/// otherwise the HTML parts converted to text, otherwise whatever text a
/// broken message still holds.
pub(crate) fn extract(message: &Message<'_>, warnings: &mut Vec<String>) -> BodyText {
    let had_html = message
        .html_body
        .iter()
        .any(|&id| matches!(body_part(message, id), Some(PartType::Html(_))));
    let mut full = join_parts(message, &message.text_body);
    if full.trim().is_empty() && had_html {
        // An empty text alternative next to a real HTML one.
        full = join_parts(message, &message.html_body);
    }
    if full.trim().is_empty() {
        if let Some(salvaged) = salvage(message) {
            warnings.push("no readable text part; showing the body as received".to_string());
            full = salvaged;
        }
    }
    BodyText {
        full: clean_text(&full),
        had_html,
    }
}

fn body_part<'m>(message: &'m Message<'_>, id: u32) -> Option<&'m PartType<'m>> {
    message.parts.get(id as usize).map(|p| &p.body)
}

/// Text of the given body parts; images shown inline between them are
/// skipped (they are listed as attachments).
fn join_parts(message: &Message<'_>, ids: &[u32]) -> String {
    let texts: Vec<String> = ids
        .iter()
        .filter_map(|&id| match body_part(message, id)? {
            PartType::Text(text) => Some(text.to_string()),
            PartType::Html(html) => Some(html_to_text(html)),
            _ => None,
        })
        .filter(|t| !t.trim().is_empty())
        .collect();
    texts.join("\n\n")
}

/// Text from parts mail-parser could not place in the body: a multipart
/// whose boundary never appears ends up as one undecoded part.
fn salvage(message: &Message<'_>) -> Option<String> {
    message.parts.iter().find_map(|part| {
        let usable_type = part.content_type().is_none_or(|ct| {
            let subtype = ct.subtype().unwrap_or_default();
            ct.ctype().eq_ignore_ascii_case("multipart")
                || (ct.ctype().eq_ignore_ascii_case("text")
                    && (subtype.eq_ignore_ascii_case("plain")
                        || subtype.eq_ignore_ascii_case("html")))
        });
        if !usable_type || part.attachment_name().is_some() {
            return None;
        }
        let text = match &part.body {
            PartType::Text(text) => text.to_string(),
            PartType::Html(html) => html_to_text(html),
            PartType::Binary(bytes) | PartType::InlineBinary(bytes) => {
                String::from_utf8_lossy(bytes).into_owned()
            }
            PartType::Message(_) | PartType::Multipart(_) => return None,
        };
        (!text.trim().is_empty()).then_some(text)
    })
}

/// Normalizes line ends to `\n` and drops control characters (other than
/// tabs) and byte-order marks, which would otherwise reach agents' screens.
pub(crate) fn clean_text(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let cleaned: String = text
        .chars()
        .filter(|&c| c == '\n' || c == '\t' || !(c.is_control() || c == '\u{feff}'))
        .collect();
    cleaned.trim_start_matches('\n').trim_end().to_string()
}

/// Warnings about text parts in a charset mail-parser cannot decode (their
/// text is UTF-8 decoded lossily) and about broken MIME structure.
pub(crate) fn decoding_warnings(message: &Message<'_>, raw: &[u8], warnings: &mut Vec<String>) {
    for part in &message.parts {
        if let Some(charset) = unknown_charset(part) {
            warnings.push(format!(
                "unknown charset \"{charset}\"; the text was decoded as UTF-8 and may show replacement characters"
            ));
        }
        if part.is_encoding_problem {
            warnings.push(
                "a MIME part could not be decoded (broken encoding or truncated message); it is shown as received"
                    .to_string(),
            );
        }
        let Some(ct) = part.content_type() else {
            continue;
        };
        if !ct.ctype().eq_ignore_ascii_case("multipart") {
            continue;
        }
        match (ct.attribute("boundary"), &part.body) {
            (None, _) => warnings.push("multipart message without a boundary".to_string()),
            (Some(boundary), PartType::Multipart(_)) => {
                if !contains_closing_delimiter(raw, boundary) {
                    warnings.push(format!(
                        "multipart boundary \"{boundary}\" is never closed; the message may be truncated"
                    ));
                }
            }
            (Some(boundary), _) => warnings.push(format!(
                "multipart boundary \"{boundary}\" not found in the body"
            )),
        }
    }
}

fn unknown_charset(part: &MessagePart<'_>) -> Option<String> {
    if !matches!(part.body, PartType::Text(_) | PartType::Html(_)) {
        return None;
    }
    let charset = part.content_type()?.attribute("charset")?.trim();
    let known = charset.is_empty()
        || UTF8_LABELS.iter().any(|l| l.eq_ignore_ascii_case(charset))
        || charset_decoder(charset.as_bytes()).is_some();
    (!known).then(|| charset.to_string())
}

fn contains_closing_delimiter(raw: &[u8], boundary: &str) -> bool {
    let delimiter = format!("--{boundary}--");
    raw.windows(delimiter.len())
        .rev()
        .any(|w| w == delimiter.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    fn body(raw: &str) -> (String, bool, Vec<String>) {
        let message = MessageParser::new().parse(raw.as_bytes()).unwrap();
        let mut warnings = Vec::new();
        let body = extract(&message, &mut warnings);
        decoding_warnings(&message, raw.as_bytes(), &mut warnings);
        (body.full, body.had_html, warnings)
    }

    #[test]
    fn empty_text_alternative_falls_back_to_html() {
        let (text, had_html, warnings) = body(
            "Content-Type: multipart/alternative; boundary=b\r\n\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\n \r\n\
             --b\r\nContent-Type: text/html\r\n\r\n<p>Hi <b>there</b></p>\r\n--b--\r\n",
        );
        assert_eq!(text, "Hi there");
        assert!(had_html);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn inline_images_between_texts_are_skipped() {
        let (text, _, _) = body(
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\nbefore\r\n\
             --b\r\nContent-Type: image/png\r\n\r\nPNG\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\nafter\r\n--b--\r\n",
        );
        assert_eq!(text, "before\n\nafter");
    }

    #[test]
    fn missing_boundary_salvages_text() {
        let (text, _, warnings) = body(
            "Content-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n--x--\r\n",
        );
        assert!(text.contains("hello"));
        assert!(
            warnings.iter().any(|w| w.contains("without a boundary")),
            "{warnings:?}"
        );
        assert!(
            warnings.iter().any(|w| w.contains("no readable text part")),
            "{warnings:?}"
        );
    }

    #[test]
    fn cleans_text() {
        assert_eq!(
            clean_text("\u{feff}\r\n\r\na\r\nb\rc\u{1b}[31m\0\td  \n\n"),
            "a\nb\nc[31m\td"
        );
    }
}
