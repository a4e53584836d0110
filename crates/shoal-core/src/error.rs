use crate::{DeliveryState, DocKind, EntryId, IdError, SchemaError, Status, Timestamp};

/// Everything a domain operation or a document read can refuse.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Automerge rejected an operation or could not decode bytes.
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    /// The document's schema version is not one this build can read.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// An identifier was malformed.
    #[error(transparent)]
    Id(#[from] IdError),
    /// The bytes hold a Shoal document of another kind.
    #[error("expected a {expected} document, found a {found} document")]
    WrongKind {
        /// Kind the caller asked for.
        expected: DocKind,
        /// Kind stored in the document.
        found: String,
    },
    /// A field every document of this kind has is missing or has the wrong type.
    #[error("document field `{0}` is missing or malformed")]
    MissingField(&'static str),
    /// An operation referred to an entry that is not in the conversation.
    #[error("no entry {0} in this conversation")]
    UnknownEntry(EntryId),
    /// The entry exists but is not an agent reply (only replies have a delivery state).
    #[error("entry {0} is not an agent reply")]
    NotAReply(EntryId),
    /// Only a reply still waiting for the outbox can be withdrawn.
    #[error("the reply is {0}, too late to withdraw it")]
    NotWithdrawable(String),
    /// Only its author (or, for a held reply, an admin) can withdraw it,
    /// release it or discard it.
    #[error("only the reply's author can do that")]
    NotTheAuthor,
    /// The send guard: the author has not seen these entries (customer
    /// messages, colleagues' replies or notes).
    #[error("not sending: {} entr{} you have not seen", .0.len(), if .0.len() == 1 { "y" } else { "ies" })]
    Unseen(Vec<EntryId>),
    /// The reply is not in the delivery state the operation needs.
    #[error("the reply is {found}, not {wanted}")]
    WrongDeliveryState {
        /// The state the operation applies to.
        wanted: DeliveryState,
        /// The reply's state.
        found: DeliveryState,
    },
    /// Replies to a closed conversation must reopen it first.
    #[error("the conversation is closed; reopen it before replying")]
    ConversationClosed,
    /// Snoozing needs a time at which the conversation comes back.
    #[error("snoozing needs an until-time")]
    SnoozeWithoutUntil,
    /// A snooze must end in the future.
    #[error("snooze until {until} is not after now ({now})")]
    SnoozeInPast {
        /// Requested end of the snooze.
        until: Timestamp,
        /// The operation's time.
        now: Timestamp,
    },
    /// An until-time was given for a status that is not `snoozed`.
    #[error("an until-time only applies to `snoozed`, not `{0}`")]
    UntilWithoutSnooze(Status),
    /// Messages, replies and notes must say something.
    #[error("the body is empty")]
    EmptyBody,
    /// Tags are short lowercase words.
    #[error("invalid tag `{0}`: use 1-40 characters of a-z, 0-9, '-' or '_'")]
    InvalidTag(String),
    /// Not an e-mail address.
    #[error("invalid e-mail address `{0}`")]
    InvalidEmail(String),
    /// An entry's text is over [`crate::MAX_BODY_BYTES`].
    #[error("the text is {bytes} bytes; at most {limit} fit in one message")]
    BodyTooLong {
        /// Its length.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// A required text field was empty.
    #[error("`{0}` must not be empty")]
    EmptyField(&'static str),
    /// A value outside the allowed set.
    #[error("invalid {field} `{value}`")]
    InvalidValue {
        /// Which field.
        field: &'static str,
        /// The rejected value.
        value: String,
    },
    /// A support tier the team does not define.
    #[error("the team has no tier `{tier}`; its tiers: {known} (`shoal team tier set` adds one)")]
    UnknownTier {
        /// The tier asked for.
        tier: String,
        /// The team's tiers, comma-separated.
        known: String,
    },
    /// A team setting only admins may change.
    #[error("only an admin can change {0} (the relay refuses it from others)")]
    AdminOnly(&'static str),
    /// A text splice outside the current text.
    #[error("splice at {pos} deleting {delete} is outside the text of length {len}")]
    SpliceOutOfRange {
        /// Start position in characters.
        pos: usize,
        /// Characters to delete.
        delete: usize,
        /// Current length in characters.
        len: usize,
    },
}
