//! Typed reads of Automerge values, and the commit wrapper every operation
//! goes through.

use crate::{schema, CoreError, Ctx, Result};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, TextEncoding, Value};

/// The string at `obj[key]`, if it is one.
pub(crate) fn str_at(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<String> {
    match doc.get(obj, key).ok()?? {
        (Value::Scalar(s), _) => s.as_str().map(str::to_owned),
        (Value::Object(ObjType::Text), id) => doc.text(&id).ok(),
        _ => None,
    }
}

/// The integer at `obj[key]`, if it is one.
pub(crate) fn int_at(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<i64> {
    match doc.get(obj, key).ok()?? {
        (Value::Scalar(s), _) => s.as_i64(),
        _ => None,
    }
}

/// The object (map, list or text) at `obj[key]`, if there is one.
pub(crate) fn obj_at(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<ObjId> {
    match doc.get(obj, key).ok()?? {
        (Value::Object(_), id) => Some(id),
        _ => None,
    }
}

/// The map at `obj[key]`, created empty when the document has none yet
/// (fields added after a document was first written).
pub(crate) fn map_at_or_new(doc: &mut AutoCommit, obj: &ObjId, key: &str) -> Result<ObjId> {
    match obj_at(doc, obj, key) {
        Some(o) => Ok(o),
        None => Ok(doc.put_object(obj, key, ObjType::Map)?),
    }
}

/// A required string field.
pub(crate) fn required_str(doc: &AutoCommit, obj: &ObjId, key: &'static str) -> Result<String> {
    str_at(doc, obj, key).ok_or(CoreError::MissingField(key))
}

/// A required object field.
pub(crate) fn required_obj(doc: &AutoCommit, obj: &ObjId, key: &'static str) -> Result<ObjId> {
    obj_at(doc, obj, key).ok_or(CoreError::MissingField(key))
}

/// The strings of a list, skipping anything that is not a string.
pub(crate) fn str_list(doc: &AutoCommit, list: &ObjId) -> Vec<String> {
    (0..doc.length(list))
        .filter_map(|i| match doc.get(list, i).ok()?? {
            (Value::Scalar(s), _) => s.as_str().map(str::to_owned),
            _ => None,
        })
        .collect()
}

/// Every concurrently written string value of `obj[key]`, sorted; more than
/// one means people changed the field at the same time without seeing each
/// other's change.
pub(crate) fn conflicting_strs(doc: &AutoCommit, obj: &ObjId, key: &str) -> Vec<String> {
    let mut values: Vec<String> = doc
        .get_all(obj, key)
        .unwrap_or_default()
        .into_iter()
        .map(|(v, _)| match v {
            Value::Scalar(s) => s.as_str().map(str::to_owned).unwrap_or_default(),
            Value::Object(_) => String::new(),
        })
        .collect();
    values.sort();
    values
}

/// Converts a position counted in Unicode scalar values to the document's
/// text encoding, so callers never see Automerge's platform-specific units.
pub(crate) fn text_units(encoding: TextEncoding, text: &str, chars: usize) -> usize {
    let prefix: &str = match text.char_indices().nth(chars) {
        Some((byte, _)) => &text[..byte],
        None => text,
    };
    match encoding {
        TextEncoding::UnicodeCodePoint | TextEncoding::GraphemeCluster => prefix.chars().count(),
        TextEncoding::Utf8CodeUnit => prefix.len(),
        TextEncoding::Utf16CodeUnit => prefix.encode_utf16().count(),
    }
}

/// Runs `op` as one Automerge change by the acting agent: first brings the
/// document to the current schema, then commits on success or rolls back on
/// error so a refused operation leaves no trace.
pub(crate) fn change<T>(
    doc: &mut AutoCommit,
    ctx: &Ctx,
    message: &str,
    op: impl FnOnce(&mut AutoCommit) -> Result<T>,
) -> Result<T> {
    schema::migrate(doc, ctx)?;
    match op(doc) {
        Ok(value) => {
            commit(doc, ctx, message);
            Ok(value)
        }
        Err(e) => {
            doc.rollback();
            Err(e)
        }
    }
}

/// Commits the pending ops as one change by the acting agent at its time.
pub(crate) fn commit(doc: &mut AutoCommit, ctx: &Ctx, message: &str) {
    doc.commit_with(
        CommitOptions::default()
            .with_message(format!("{message} by {}", ctx.agent))
            .with_time(ctx.now.as_millis()),
    );
}

/// Trims and refuses empty bodies.
pub(crate) fn non_empty_body(body: &str) -> Result<&str> {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        Err(CoreError::EmptyBody)
    } else if trimmed.len() > MAX_BODY_BYTES {
        Err(CoreError::BodyTooLong {
            bytes: trimmed.len(),
            limit: MAX_BODY_BYTES,
        })
    } else {
        Ok(trimmed)
    }
}

/// The longest entry body, in bytes (UTF-8): a long e-mail is about 100 kB.
/// Longer mail is kept whole as an attachment by the relay, with the start
/// of it as the entry's text; the relay refuses longer bodies from clients.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A light plausibility check of an e-mail address (one `@`, a dotted domain,
/// no spaces); real validation happens when mail is sent.
pub(crate) fn valid_email(s: &str) -> Result<String> {
    let s = s.trim();
    let ok = match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if ok {
        Ok(s.to_owned())
    } else {
        Err(CoreError::InvalidEmail(s.to_owned()))
    }
}

/// Tags are 1–40 characters of `[a-z0-9_-]`; input is lowercased first.
pub(crate) fn valid_tag(tag: &str) -> Result<String> {
    let t = tag.trim().to_lowercase();
    let ok = !t.is_empty()
        && t.chars().count() <= 40
        && t.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(t)
    } else {
        Err(CoreError::InvalidTag(tag.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_units_per_encoding() {
        let s = "héllo wörld";
        assert_eq!(text_units(TextEncoding::UnicodeCodePoint, s, 3), 3);
        assert_eq!(text_units(TextEncoding::Utf8CodeUnit, s, 3), 4);
        assert_eq!(text_units(TextEncoding::Utf8CodeUnit, s, 100), s.len());
    }

    #[test]
    fn emails_and_tags() {
        assert!(valid_email("ana@example.com").is_ok());
        for bad in ["", "ana", "ana@", "@x.com", "a b@x.com", "a@b", "a@.com"] {
            assert!(valid_email(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(valid_tag(" Billing ").unwrap(), "billing");
        assert!(valid_tag("two words").is_err());
        assert!(valid_tag("").is_err());
    }
}
