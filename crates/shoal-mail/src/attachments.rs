//! Attachments of incoming mail, within [`Limits`].

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

use crate::limits::Limits;
use crate::message_id::normalize_message_id;

/// A file attached to incoming mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// The file name the sender gave, without directory parts or control
    /// characters.
    pub filename: Option<String>,
    /// `type/subtype`, lowercased, without parameters.
    pub content_type: String,
    /// Decoded size in bytes.
    pub size: usize,
    /// The decoded content (text parts as UTF-8; a forwarded message as its
    /// raw bytes); `None` when rejected.
    pub data: Option<Vec<u8>>,
    /// Why the content was not kept: over a limit, or damaged.
    pub rejected: Option<String>,
    /// The `Content-ID` (without brackets) by which HTML shows the part
    /// inline, if any.
    pub content_id: Option<String>,
}

/// Lists the message's attachments: parts with `Content-Disposition:
/// attachment`, non-text parts (except unnamed images with a `Content-ID`,
/// which decorate the HTML), forwarded messages, and text parts that are not
/// body text (named, or of another type than plain/HTML, such as calendar
/// invitations).
pub(crate) fn extract(message: &Message<'_>, limits: &Limits) -> Vec<Attachment> {
    let mut attachments = Vec::new();
    let mut kept = 0;
    for &id in &message.attachments {
        let Some(part) = message.parts.get(id as usize) else {
            continue;
        };
        // A broken top-level multipart ends up as one text part, already
        // shown as the body.
        if id == 0 && matches!(part.body, PartType::Text(_) | PartType::Html(_)) {
            continue;
        }
        if !is_attachment(part) {
            continue;
        }
        let bytes: &[u8] = match &part.body {
            PartType::Text(text) | PartType::Html(text) => text.as_bytes(),
            PartType::Binary(bytes) | PartType::InlineBinary(bytes) => bytes,
            PartType::Message(nested) => nested.raw_message(),
            PartType::Multipart(_) => continue,
        };
        let size = bytes.len();
        let rejected = if part.is_encoding_problem {
            Some("damaged: its encoding is broken or the message is truncated".to_string())
        } else if size > limits.max_attachment_bytes {
            Some(format!(
                "too large: {} ({size} bytes), over the limit of {} ({} bytes)",
                human_size(size),
                human_size(limits.max_attachment_bytes),
                limits.max_attachment_bytes
            ))
        } else if kept >= limits.max_attachments {
            Some(format!(
                "too many attachments: only the first {} are kept",
                limits.max_attachments
            ))
        } else {
            kept += 1;
            None
        };
        attachments.push(Attachment {
            filename: part.attachment_name().and_then(clean_filename),
            content_type: content_type(part),
            size,
            data: rejected.is_none().then(|| bytes.to_vec()),
            rejected,
            content_id: part.content_id().and_then(normalize_message_id),
        });
    }
    attachments
}

fn is_attachment(part: &MessagePart<'_>) -> bool {
    let disposition_attachment = part
        .content_disposition()
        .is_some_and(|cd| cd.is_attachment());
    let named = part.attachment_name().is_some();
    // An unnamed image with a Content-ID is embedded in the HTML (a logo,
    // a signature), not something the customer attached.
    let embedded_image = !named
        && part.content_id().is_some()
        && part
            .content_type()
            .is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("image"));
    disposition_attachment
        || match &part.body {
            PartType::Binary(_) | PartType::InlineBinary(_) => !embedded_image,
            PartType::Message(_) => true,
            PartType::Text(_) | PartType::Html(_) => {
                named
                    || part.content_type().is_some_and(|ct| {
                        let subtype = ct.subtype().unwrap_or_default();
                        !subtype.eq_ignore_ascii_case("plain")
                            && !subtype.eq_ignore_ascii_case("html")
                    })
            }
            PartType::Multipart(_) => false,
        }
}

fn content_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(subtype) => format!("{}/{}", ct.ctype(), subtype),
            None => ct.ctype().to_string(),
        }
        .trim()
        .to_ascii_lowercase(),
        None => match part.body {
            PartType::Text(_) => "text/plain".to_string(),
            PartType::Html(_) => "text/html".to_string(),
            PartType::Message(_) => "message/rfc822".to_string(),
            _ => "application/octet-stream".to_string(),
        },
    }
}

/// Keeps the last path component and drops control characters, so a name
/// like `../../etc/passwd` cannot steer where the file is stored.
fn clean_filename(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim();
    (!cleaned.is_empty() && cleaned != "." && cleaned != "..").then(|| cleaned.to_string())
}

fn human_size(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_lose_paths_and_controls() {
        assert_eq!(clean_filename("report.pdf").as_deref(), Some("report.pdf"));
        assert_eq!(
            clean_filename("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(
            clean_filename("C:\\Users\\jane\\x.doc").as_deref(),
            Some("x.doc")
        );
        assert_eq!(clean_filename("a\r\nb.txt").as_deref(), Some("ab.txt"));
        assert_eq!(clean_filename("dir/"), None);
        assert_eq!(clean_filename(".."), None);
        assert_eq!(clean_filename("  "), None);
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(25 * 1024 * 1024), "25.0 MiB");
        assert_eq!(human_size(30 * 1024 * 1024), "30.0 MiB");
    }
}
