//! Text positions as the browser counts them (UTF-16 code units) versus as
//! the replica counts them (Unicode scalar values).

/// The char (scalar value) index at UTF-16 offset `units` of `text`.
/// `None` when the offset is past the end or splits a surrogate pair.
pub fn utf16_to_char_index(text: &str, units: usize) -> Option<usize> {
    let mut seen = 0usize;
    for (i, c) in text.chars().enumerate() {
        if seen == units {
            return Some(i);
        }
        seen += c.len_utf16();
        if seen > units {
            return None;
        }
    }
    (seen == units).then(|| text.chars().count())
}

/// Converts a UTF-16 splice (`index`, `delete_count`) on `text` into chars.
pub fn utf16_splice_to_chars(
    text: &str,
    index: usize,
    delete_count: usize,
) -> Option<(usize, usize)> {
    let start = utf16_to_char_index(text, index)?;
    let end = utf16_to_char_index(text, index.checked_add(delete_count)?)?;
    Some((start, end - start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_offsets_map_to_chars() {
        let t = "a😀b";
        // a=1 unit, 😀=2 units, b=1 unit.
        assert_eq!(utf16_to_char_index(t, 0), Some(0));
        assert_eq!(utf16_to_char_index(t, 1), Some(1));
        assert_eq!(utf16_to_char_index(t, 2), None, "inside the surrogate pair");
        assert_eq!(utf16_to_char_index(t, 3), Some(2));
        assert_eq!(utf16_to_char_index(t, 4), Some(3));
        assert_eq!(utf16_to_char_index(t, 5), None);
        assert_eq!(utf16_to_char_index("", 0), Some(0));
        assert_eq!(utf16_to_char_index("é", 1), Some(1));
    }

    #[test]
    fn splices_convert() {
        assert_eq!(utf16_splice_to_chars("a😀b", 1, 2), Some((1, 1)));
        assert_eq!(utf16_splice_to_chars("a😀b", 1, 1), None);
        assert_eq!(utf16_splice_to_chars("a😀b", 4, 0), Some((3, 0)));
        assert_eq!(utf16_splice_to_chars("ab", 1, usize::MAX), None);
    }
}
