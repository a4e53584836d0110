//! Bounds on Automerge input, checked before Automerge sees it.
//!
//! A sync message's changes arrive as storage chunks. Their bytes may be
//! deflated (a compressed change, or compressed columns of a whole-document
//! chunk) and their columns run-length encoded, so a few megabytes on the
//! wire could make Automerge allocate gigabytes or loop for minutes. This
//! module walks the chunk and column headers (the format of automerge
//! 0.12's storage), inflates with a budget, and counts column rows without
//! materialising them: the total bytes Automerge would hold and the number
//! of rows (operations and changes) it would decode. Anything over a limit
//! is refused with nothing applied.
//!
//! The walk is deliberately lenient where Automerge is strict (checksums,
//! column order, value types): it only has to bound the work; Automerge
//! still validates what passes.

use std::io::Read;

/// The limits for one sync message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputLimits {
    /// Bytes of all its chunks once inflated.
    pub max_expanded_bytes: usize,
    /// Rows (operations and changes) its columns decode to.
    pub max_rows: u64,
}

impl Default for InputLimits {
    fn default() -> Self {
        Self {
            max_expanded_bytes: 64 * 1024 * 1024,
            max_rows: 2_000_000,
        }
    }
}

/// What a sync message's changes amount to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expanded {
    /// Bytes once inflated.
    pub bytes: usize,
    /// Rows their columns decode to (an upper bound on operations).
    pub rows: u64,
}

/// Why input was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Inflated, the changes would exceed the byte limit.
    #[error("the changes expand to more than {limit} bytes (the relay's limit)")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The changes hold too many operations.
    #[error("the changes hold more than {limit} operations (the relay's limit)")]
    TooManyRows {
        /// The limit.
        limit: u64,
    },
    /// Not Automerge storage chunks.
    #[error("malformed changes: {0}")]
    Malformed(&'static str),
}

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const DEFLATE_BIT: u32 = 0b1000;

/// Checks the chunks of one sync message (each element may hold several
/// chunks back to back, as Automerge joins them before loading).
pub fn check<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
    limits: &InputLimits,
) -> Result<Expanded, InputError> {
    let mut budget = Budget {
        limits: *limits,
        used: Expanded::default(),
    };
    for element in chunks {
        let mut r = Reader::new(element);
        while !r.done() {
            chunk(&mut r, &mut budget)?;
        }
    }
    Ok(budget.used)
}

struct Budget {
    limits: InputLimits,
    used: Expanded,
}

impl Budget {
    fn bytes(&mut self, n: usize) -> Result<(), InputError> {
        self.used.bytes = self.used.bytes.saturating_add(n);
        if self.used.bytes > self.limits.max_expanded_bytes {
            return Err(InputError::TooLarge {
                limit: self.limits.max_expanded_bytes,
            });
        }
        Ok(())
    }

    fn rows(&mut self, n: u64) -> Result<(), InputError> {
        self.used.rows = self.used.rows.saturating_add(n);
        if self.used.rows > self.limits.max_rows {
            return Err(InputError::TooManyRows {
                limit: self.limits.max_rows,
            });
        }
        Ok(())
    }

    /// Bytes still allowed.
    fn left(&self) -> usize {
        self.limits
            .max_expanded_bytes
            .saturating_sub(self.used.bytes)
    }

    /// Inflates `data`, refusing once the output passes what is left.
    fn inflate(&mut self, data: &[u8]) -> Result<Vec<u8>, InputError> {
        let cap = self.left();
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(data)
            .take(cap as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|_| InputError::Malformed("bad deflate data"))?;
        self.bytes(out.len())?;
        Ok(out)
    }
}

fn chunk(r: &mut Reader<'_>, budget: &mut Budget) -> Result<(), InputError> {
    if r.take(4)? != MAGIC {
        return Err(InputError::Malformed("not an Automerge chunk"));
    }
    r.take(4)?; // checksum: Automerge verifies it
    let kind = r.byte()?;
    let len = r.len()?;
    let data = r.take(len)?;
    budget.bytes(data.len())?;
    match kind {
        0 => document(data, budget),
        1 => change(data, budget),
        2 => {
            let inflated = budget.inflate(data)?;
            change(&inflated, budget)
        }
        _ => Err(InputError::Malformed(
            "chunk type not accepted (only changes and documents)",
        )),
    }
}

/// A change chunk's data: its header, then its (never deflated) columns.
fn change(data: &[u8], budget: &mut Budget) -> Result<(), InputError> {
    let mut r = Reader::new(data);
    let deps = r.len()?;
    r.take(deps.checked_mul(32).ok_or(InputError::Malformed("deps"))?)?;
    r.bytes()?; // actor
    r.uleb()?; // seq
    r.uleb()?; // start op
    r.uleb()?; // time (signed; same width)
    r.bytes()?; // message
    for _ in 0..r.len()? {
        r.bytes()?; // other actors
    }
    let columns = column_specs(&mut r)?;
    let mut rows = 0;
    for (spec, len) in columns {
        if spec & DEFLATE_BIT != 0 {
            return Err(InputError::Malformed("compressed columns in a change"));
        }
        rows = rows.max(column_rows(spec, r.take(len)?, budget.limits.max_rows)?);
    }
    budget.rows(rows.max(1))
}

/// A document chunk: actors, heads, then change and op columns (each may
/// be deflated).
fn document(data: &[u8], budget: &mut Budget) -> Result<(), InputError> {
    let mut r = Reader::new(data);
    for _ in 0..r.len()? {
        r.bytes()?; // actors
    }
    let heads = r.len()?;
    r.take(
        heads
            .checked_mul(32)
            .ok_or(InputError::Malformed("heads"))?,
    )?;
    let change_columns = column_specs(&mut r)?;
    let op_columns = column_specs(&mut r)?;
    for columns in [change_columns, op_columns] {
        let mut rows = 0;
        for (spec, len) in columns {
            let raw = r.take(len)?;
            let count = if spec & DEFLATE_BIT != 0 {
                let inflated = budget.inflate(raw)?;
                column_rows(spec, &inflated, budget.limits.max_rows)?
            } else {
                column_rows(spec, raw, budget.limits.max_rows)?
            };
            rows = rows.max(count);
        }
        budget.rows(rows)?;
    }
    Ok(())
}

fn column_specs(r: &mut Reader<'_>) -> Result<Vec<(u32, usize)>, InputError> {
    let n = r.len()?;
    let mut out = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        let spec = u32::try_from(r.uleb()?).map_err(|_| InputError::Malformed("column spec"))?;
        out.push((spec, r.len()?));
    }
    Ok(out)
}

/// Rows a column decodes to, counted without decoding values (at most
/// `max` + one run: the caller compares).
fn column_rows(spec: u32, data: &[u8], max: u64) -> Result<u64, InputError> {
    let mut r = Reader::new(data);
    let mut rows: u64 = 0;
    match spec & 0b111 {
        // Boolean: alternating run lengths.
        4 => {
            while !r.done() && rows <= max {
                rows = rows.saturating_add(r.uleb()?);
            }
        }
        // Raw values: their lengths are in the metadata column.
        7 => {}
        kind => {
            let skip = |r: &mut Reader<'_>| -> Result<(), InputError> {
                if kind == 5 {
                    r.bytes().map(|_| ())
                } else {
                    r.uleb().map(|_| ())
                }
            };
            while !r.done() && rows <= max {
                let count = r.sleb()?;
                if count > 0 {
                    rows = rows.saturating_add(count as u64);
                    skip(&mut r)?;
                } else if count < 0 {
                    let n = count.unsigned_abs();
                    // Each literal takes at least one byte.
                    if n > r.remaining() as u64 {
                        return Err(InputError::Malformed("literal run past the column"));
                    }
                    for _ in 0..n {
                        skip(&mut r)?;
                    }
                    rows = rows.saturating_add(n);
                } else {
                    rows = rows.saturating_add(r.uleb()?);
                }
            }
        }
    }
    Ok(rows)
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn byte(&mut self) -> Result<u8, InputError> {
        Ok(self.take(1)?[0])
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], InputError> {
        if n > self.remaining() {
            return Err(InputError::Malformed("truncated"));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// LEB128, unsigned: at most 10 bytes.
    fn uleb(&mut self) -> Result<u64, InputError> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(InputError::Malformed("LEB128 number too long"))
    }

    /// LEB128, signed.
    fn sleb(&mut self) -> Result<i64, InputError> {
        let mut value: i64 = 0;
        let mut shift = 0;
        for _ in 0..10 {
            let b = self.byte()?;
            value |= i64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    value |= -1 << shift;
                }
                return Ok(value);
            }
        }
        Err(InputError::Malformed("LEB128 number too long"))
    }

    /// A length that must fit what is left of the input.
    fn len(&mut self) -> Result<usize, InputError> {
        let n = self.uleb()?;
        // Counts of items (each at least a byte) and lengths of data that
        // follows: either way, no more than what is left.
        usize::try_from(n)
            .ok()
            .filter(|n| *n <= self.remaining())
            .ok_or(InputError::Malformed("length past the end"))
    }

    /// Length-prefixed bytes.
    fn bytes(&mut self) -> Result<&'a [u8], InputError> {
        let n = self.len()?;
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::sync::SyncDoc;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ObjType, ReadDoc, ROOT};
    use proptest::prelude::*;

    /// The chunks Automerge sends a peer that has nothing.
    fn first_sync_chunks(doc: &mut AutoCommit, v2: bool) -> Vec<Vec<u8>> {
        let mut peer = AutoCommit::new();
        let (mut ours, mut theirs) = (automerge::sync::State::new(), automerge::sync::State::new());
        let mut out = Vec::new();
        for _ in 0..4 {
            let ask = peer.sync().generate_sync_message(&mut theirs);
            if let Some(mut ask) = ask {
                if !v2 {
                    ask.flags = None;
                }
                doc.sync().receive_sync_message(&mut ours, ask).unwrap();
            }
            if let Some(m) = doc.sync().generate_sync_message(&mut ours) {
                out.extend(m.changes.iter().map(<[u8]>::to_vec));
                peer.sync().receive_sync_message(&mut theirs, m).unwrap();
            }
        }
        assert_eq!(peer.get_heads(), doc.get_heads(), "the peer caught up");
        out
    }

    fn edited(edits: &[(u8, String)]) -> AutoCommit {
        let mut doc = AutoCommit::new();
        let notes = doc.put_object(ROOT, "notes", ObjType::Text).unwrap();
        let list = doc.put_object(ROOT, "entries", ObjType::List).unwrap();
        doc.commit();
        for (i, (kind, text)) in edits.iter().enumerate() {
            match kind % 3 {
                0 => {
                    let len = doc.length(&notes);
                    doc.splice_text(&notes, len, 0, text).unwrap();
                }
                1 => {
                    let m = doc.insert_object(&list, 0, ObjType::Map).unwrap();
                    doc.put(&m, "body", text.as_str()).unwrap();
                    doc.put(&m, "n", i as i64).unwrap();
                }
                _ => {
                    doc.put(ROOT, format!("k{}", i % 7), text.as_str()).unwrap();
                }
            }
            doc.commit();
        }
        doc
    }

    #[test]
    fn large_compressed_text_is_counted_in_full() {
        let mut doc = AutoCommit::new();
        let notes = doc.put_object(ROOT, "notes", ObjType::Text).unwrap();
        doc.splice_text(&notes, 0, 0, &"a".repeat(300_000)).unwrap();
        doc.commit();
        // As a whole document (type 0, deflated columns) and as one change
        // (type 1, run-length encoded).
        for (v2, kind) in [(true, 0u8), (false, 1u8)] {
            let chunks = first_sync_chunks(&mut doc, v2);
            assert_eq!(chunks.len(), 1);
            assert_eq!(chunks[0][8], kind, "chunk type");
            let wire = chunks[0].len();
            let got = check(chunks.iter().map(Vec::as_slice), &InputLimits::default()).unwrap();
            assert!(got.rows >= 300_000, "{got:?}");
            if kind == 0 {
                assert!(got.bytes > 10 * wire, "inflated: {got:?} from {wire} bytes");
            }
            let tight = InputLimits {
                max_rows: 100_000,
                ..Default::default()
            };
            assert_eq!(
                check(chunks.iter().map(Vec::as_slice), &tight),
                Err(InputError::TooManyRows { limit: 100_000 })
            );
        }
    }

    #[test]
    fn a_deflate_bomb_is_refused_before_it_is_inflated_in_full() {
        // A change chunk whose data inflates to 64 MiB of zeros.
        use std::io::Write;
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(&vec![0u8; 64 * 1024 * 1024]).unwrap();
        let bomb = e.finish().unwrap();
        let mut chunk = MAGIC.to_vec();
        chunk.extend([0, 0, 0, 0, 2]);
        let mut n = bomb.len();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            chunk.push(if n == 0 { b } else { b | 0x80 });
            if n == 0 {
                break;
            }
        }
        chunk.extend(&bomb);
        assert!(chunk.len() < 100_000);
        let limits = InputLimits {
            max_expanded_bytes: 1024 * 1024,
            ..Default::default()
        };
        assert_eq!(
            check([chunk.as_slice()], &limits),
            Err(InputError::TooLarge { limit: 1024 * 1024 })
        );
    }

    #[test]
    fn a_run_of_a_billion_rows_is_refused_without_decoding_it() {
        // One change whose action column claims 2^40 rows in three bytes.
        let mut data = vec![0u8]; // no deps
        data.extend([1, 0xaa]); // actor
        data.extend([1, 1, 0, 0]); // seq, start op, time, message
        data.push(0); // other actors
        let column = [0x80u8, 0x80, 0x80, 0x80, 0x80, 0x20, 0x04]; // run 2^40 of 4
        data.extend([1, (4 << 4) | 2, column.len() as u8]);
        data.extend(column);
        let mut chunk = MAGIC.to_vec();
        chunk.extend([0, 0, 0, 0, 1, data.len() as u8]);
        chunk.extend(&data);
        assert_eq!(
            check([chunk.as_slice()], &InputLimits::default()),
            Err(InputError::TooManyRows { limit: 2_000_000 })
        );
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for input in [&[][..], &[0x85, 0x6f], &[1, 2, 3, 4, 5, 6, 7, 8, 9]] {
            if !input.is_empty() {
                assert!(matches!(
                    check([input], &InputLimits::default()),
                    Err(InputError::Malformed(_))
                ));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48)
        ))]

        /// Whatever Automerge itself sends (change by change, or the whole
        /// document) passes the default limits, and the count of rows is
        /// at least the document's operations.
        #[test]
        fn what_automerge_sends_passes_and_is_counted(
            edits in proptest::collection::vec((any::<u8>(), "[a-zé]{0,400}"), 1..30),
            v2 in any::<bool>(),
        ) {
            let mut doc = edited(&edits);
            let chunks = first_sync_chunks(&mut doc, v2);
            let got = check(chunks.iter().map(Vec::as_slice), &InputLimits::default());
            prop_assert!(got.is_ok(), "{got:?}");
            let text_len = doc.length(&doc.get(ROOT, "notes").unwrap().unwrap().1) as u64;
            prop_assert!(got.unwrap().rows >= text_len);
        }

        /// Any bytes: an answer, never a panic, never past the limits.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut chunk = MAGIC.to_vec();
            chunk.extend(&bytes);
            let limits = InputLimits { max_expanded_bytes: 4096, max_rows: 1000 };
            if let Ok(e) = check([chunk.as_slice()], &limits) {
                prop_assert!(e.bytes <= 4096 && e.rows <= 1000);
            }
            let _ = check([bytes.as_slice()], &limits);
        }
    }
}
