//! Sync messages larger than a frame travel in parts (`sync-part`), so no
//! document size can make a document, or a team, unreachable. The sender
//! cuts the encoded sync message into pieces of a quarter of the frame
//! limit (the relay's, as its `welcome` says; a part and its envelope then
//! always fit); the receiver puts them back together, in order, and handles
//! the whole as an ordinary `sync` message. One message is reassembled at a
//! time per connection and direction: a sender sends a message's parts back
//! to back.

/// Largest sync message the relay puts together from a client's parts.
/// (Clients take any size from their relay.)
pub const MAX_SYNC_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// The part size for a frame limit.
pub fn part_bytes(max_frame: usize) -> usize {
    (max_frame / 4).max(1024)
}

/// The parts of `data`, at most `part_bytes` each: (index, count, bytes).
pub fn split(data: &[u8], part_bytes: usize) -> impl Iterator<Item = (u32, u32, &[u8])> {
    let parts = data.len().div_ceil(part_bytes).max(1) as u32;
    data.chunks(part_bytes)
        .enumerate()
        .map(move |(i, chunk)| (i as u32, parts, chunk))
}

/// A part that does not continue the message being put together.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PartError {
    /// Out of order, for another document, or an impossible count.
    #[error("sync part {part} of {parts} for {doc} does not continue the message in progress")]
    OutOfOrder {
        /// Its document.
        doc: String,
        /// Its index.
        part: u32,
        /// Its count.
        parts: u32,
    },
    /// The message would be larger than the receiver takes.
    #[error("a sync message in parts may not exceed {limit} bytes")]
    TooLarge {
        /// The receiver's limit.
        limit: usize,
    },
}

/// Puts one split sync message back together.
#[derive(Debug)]
pub struct Reassembly {
    limit: usize,
    doc: String,
    parts: u32,
    next: u32,
    data: Vec<u8>,
}

impl Reassembly {
    /// Takes messages of at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            doc: String::new(),
            parts: 0,
            next: 0,
            data: Vec::new(),
        }
    }

    /// Takes the next part; the document and the whole message once the
    /// last part is in. After an error, the message in progress is dropped.
    pub fn push(
        &mut self,
        doc: String,
        part: u32,
        parts: u32,
        data: Vec<u8>,
    ) -> Result<Option<(String, Vec<u8>)>, PartError> {
        let continues = if part == 0 {
            self.next == 0 && parts > 0
        } else {
            self.next == part && self.parts == parts && self.doc == doc
        };
        if !continues || part >= parts {
            self.reset();
            return Err(PartError::OutOfOrder { doc, part, parts });
        }
        // Each part but the last carries at least a kilobyte.
        let at_least = (parts as usize - 1).saturating_mul(1024);
        if at_least > self.limit || self.data.len() + data.len() > self.limit {
            self.reset();
            return Err(PartError::TooLarge { limit: self.limit });
        }
        if part == 0 {
            self.doc = doc;
            self.parts = parts;
        }
        self.data.extend_from_slice(&data);
        self.next += 1;
        if self.next < self.parts {
            return Ok(None);
        }
        let done = (
            std::mem::take(&mut self.doc),
            std::mem::take(&mut self.data),
        );
        self.reset();
        Ok(Some(done))
    }

    fn reset(&mut self) {
        *self = Self::new(self.limit);
    }

    /// Whether a message is half put together.
    pub fn in_progress(&self) -> bool {
        self.next > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PART: usize = 64 * 1024;

    #[test]
    fn a_message_split_and_put_together_is_the_same() {
        let data: Vec<u8> = (0..(2 * PART + 17)).map(|i| (i % 251) as u8).collect();
        let mut r = Reassembly::new(MAX_SYNC_MESSAGE_BYTES);
        let mut out = None;
        for (part, parts, chunk) in split(&data, PART) {
            assert_eq!(parts, 3);
            assert!(out.is_none());
            out = r
                .push("conv/x".into(), part, parts, chunk.to_vec())
                .unwrap();
        }
        assert_eq!(out, Some(("conv/x".into(), data)));
        assert!(!r.in_progress());
    }

    #[test]
    fn parts_out_of_order_or_too_many_are_refused() {
        let mut r = Reassembly::new(4 * PART);
        assert!(r.push("a".into(), 1, 3, vec![1]).is_err());
        r.push("a".into(), 0, 3, vec![1]).unwrap();
        assert!(
            r.push("b".into(), 1, 3, vec![2]).is_err(),
            "another document"
        );
        assert!(!r.in_progress(), "dropped after an error");
        assert_eq!(
            r.push("a".into(), 0, 10_000, vec![1]),
            Err(PartError::TooLarge { limit: 4 * PART })
        );
        r.push("a".into(), 0, 2, vec![0; 3 * PART]).unwrap();
        assert!(
            r.push("a".into(), 1, 2, vec![0; 2 * PART]).is_err(),
            "over the limit"
        );
        assert!(r.push("a".into(), 0, 0, vec![]).is_err());
    }
}
