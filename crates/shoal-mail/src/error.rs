/// Errors building outgoing mail. Parsing never fails: see [`crate::parse`].
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// An address cannot be written into a header.
    #[error("invalid e-mail address {email:?}: {reason}")]
    InvalidAddress {
        /// The address as given.
        email: String,
        /// Why it was refused.
        reason: String,
    },
    /// The reply's own Message-ID is not a valid `id-left@id-right`.
    #[error("invalid Message-ID {0:?}")]
    InvalidMessageId(String),
    /// The message builder refused the message.
    #[error("cannot build the message: {0}")]
    Build(#[from] lettre::error::Error),
}
