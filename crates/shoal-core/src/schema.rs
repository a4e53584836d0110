//! Schema versions. Every document carries `schema` (an integer) and `kind`
//! at its root. Readers accept any version up to [`SCHEMA_VERSION`]; writers
//! first upgrade a document through [`MIGRATIONS`], so old documents are
//! migrated by the first agent who changes them, and a newer build's
//! documents are refused instead of being misread.

use crate::doc_fields::{int_at, str_at};
use crate::{CoreError, Ctx, DocKind};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ROOT};

/// The schema version this build writes.
pub const SCHEMA_VERSION: u64 = 1;

/// A document this build cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// No `kind`/`schema` fields: not a Shoal document.
    #[error("not a Shoal document (no kind or schema field)")]
    NotShoal,
    /// Written by a newer Shoal.
    #[error(
        "document schema {found} is newer than this build supports ({supported}); update Shoal"
    )]
    TooNew {
        /// Version in the document.
        found: u64,
        /// Newest version this build knows.
        supported: u64,
    },
}

/// A migration upgrades a document from version `n` to `n + 1` within the
/// current change; `MIGRATIONS[0]` upgrades from 1 to 2, and so on.
type Migration = fn(&mut AutoCommit) -> Result<(), CoreError>;

/// No migration exists yet: version 1 is the first schema.
const MIGRATIONS: &[Migration] = &[];

/// Reads the `kind` and `schema` of a document.
pub(crate) fn kind_and_version(doc: &AutoCommit) -> Result<(String, u64), SchemaError> {
    let kind = str_at(doc, &ROOT, "kind").ok_or(SchemaError::NotShoal)?;
    let version = int_at(doc, &ROOT, "schema").ok_or(SchemaError::NotShoal)?;
    Ok((kind, version.max(0) as u64))
}

/// Checks that `doc` is a readable document of `expected` kind.
pub(crate) fn check(doc: &AutoCommit, expected: DocKind) -> Result<(), CoreError> {
    let (kind, version) = kind_and_version(doc)?;
    if kind != expected.as_str() {
        return Err(CoreError::WrongKind {
            expected,
            found: kind,
        });
    }
    if version > SCHEMA_VERSION {
        return Err(SchemaError::TooNew {
            found: version,
            supported: SCHEMA_VERSION,
        }
        .into());
    }
    Ok(())
}

/// Writes `kind` and the current `schema` into a new document.
pub(crate) fn stamp(doc: &mut AutoCommit, kind: DocKind) -> Result<(), CoreError> {
    doc.put(ROOT, "schema", SCHEMA_VERSION as i64)?;
    doc.put(ROOT, "kind", kind.as_str())?;
    Ok(())
}

/// Upgrades `doc` to [`SCHEMA_VERSION`] in one change of its own.
pub(crate) fn migrate(doc: &mut AutoCommit, ctx: &Ctx) -> Result<(), CoreError> {
    let (_, version) = kind_and_version(doc)?;
    if version >= SCHEMA_VERSION {
        return Ok(());
    }
    for step in &MIGRATIONS[(version.saturating_sub(1)) as usize..] {
        step(doc)?;
    }
    doc.put(ROOT, "schema", SCHEMA_VERSION as i64)?;
    doc.commit_with(
        CommitOptions::default()
            .with_message(format!("migrate schema {version} -> {SCHEMA_VERSION}"))
            .with_time(ctx.now.as_millis()),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_schema_is_refused() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "kind", "customer").unwrap();
        doc.put(ROOT, "schema", (SCHEMA_VERSION + 1) as i64)
            .unwrap();
        assert!(matches!(
            check(&doc, DocKind::Customer),
            Err(CoreError::Schema(SchemaError::TooNew { .. }))
        ));
    }

    #[test]
    fn foreign_documents_are_refused() {
        let doc = AutoCommit::new();
        assert!(matches!(
            check(&doc, DocKind::Team),
            Err(CoreError::Schema(SchemaError::NotShoal))
        ));
        let mut other = AutoCommit::new();
        stamp(&mut other, DocKind::Team).unwrap();
        assert!(matches!(
            check(&other, DocKind::Customer),
            Err(CoreError::WrongKind { .. })
        ));
    }
}
