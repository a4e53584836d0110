//! What every typed Shoal document has in common, so storage can load,
//! change and save any of them the same way.

use crate::{DocKind, Result};
use automerge::AutoCommit;

/// A typed wrapper over one Automerge document of a known kind.
pub trait Document: Sized {
    /// The kind stored in the document's `kind` field.
    const KIND: DocKind;
    /// The read view of this kind of document.
    type View;

    /// Wraps a loaded Automerge document after checking kind and schema.
    fn from_automerge(doc: AutoCommit) -> Result<Self>;
    /// The underlying Automerge document, mutably (for merging and saving).
    fn automerge_mut(&mut self) -> &mut AutoCommit;
    /// Unwraps the Automerge document.
    fn into_automerge(self) -> AutoCommit;
    /// Reads a raw Automerge document of this kind (checking kind and schema).
    fn view_of(doc: &AutoCommit) -> Result<Self::View>;
}

macro_rules! impl_document {
    ($doc:ident, $view:ident, $kind:expr) => {
        impl $crate::Document for $doc {
            const KIND: $crate::DocKind = $kind;
            type View = $view;

            fn from_automerge(doc: automerge::AutoCommit) -> $crate::Result<Self> {
                $crate::schema::check(&doc, $kind)?;
                Ok(Self { doc })
            }
            fn automerge_mut(&mut self) -> &mut automerge::AutoCommit {
                &mut self.doc
            }
            fn into_automerge(self) -> automerge::AutoCommit {
                self.doc
            }
            fn view_of(doc: &automerge::AutoCommit) -> $crate::Result<$view> {
                $crate::schema::check(doc, $kind)?;
                read(doc)
            }
        }

        impl $doc {
            /// Reads the whole document.
            pub fn view(&self) -> $crate::Result<$view> {
                read(&self.doc)
            }

            /// The underlying Automerge document.
            pub fn automerge(&self) -> &automerge::AutoCommit {
                &self.doc
            }
        }
    };
}
pub(crate) use impl_document;
