//! The error every command rejects with: `{ kind, message, unseen? }`.

use crate::views::EntryView;
use serde::Serialize;
use shoal_core::CoreError;
use shoal_replica::ReplicaError;

/// What kind of failure, for the UI to react to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// No replica yet: onboarding comes first.
    NotReady,
    /// The replica already exists (onboarding twice).
    AlreadySetUp,
    /// Nothing matches the id.
    NotFound,
    /// The input is not acceptable (bad view, status, empty body, out of range…).
    Invalid,
    /// Newer entries exist that the agent has not seen; `unseen` lists them.
    SendGuard,
    /// The conversation is closed.
    Closed,
    /// The relay could not be reached or refused the token.
    Relay,
    /// The token is wrong for this replica, or missing.
    Auth,
    /// Storage failed.
    Storage,
}

/// A failed command.
#[derive(Clone, Debug, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// What happened, for people.
    pub message: String,
    /// With `send-guard`: the entries the agent has not seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unseen: Option<Vec<EntryView>>,
}

impl AppError {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            unseen: None,
        }
    }

    /// Bad input.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }
}

impl From<ReplicaError> for AppError {
    fn from(e: ReplicaError) -> Self {
        let kind = match &e {
            ReplicaError::NotFound { .. } => ErrorKind::NotFound,
            ReplicaError::Ambiguous { .. } => ErrorKind::Invalid,
            // Another customer's address: the person's input, not the disk.
            ReplicaError::EmailTaken { .. } => ErrorKind::Invalid,
            ReplicaError::Core(CoreError::ConversationClosed) => ErrorKind::Closed,
            ReplicaError::Core(_) => ErrorKind::Invalid,
            ReplicaError::AlreadyInitialized(_) => ErrorKind::AlreadySetUp,
            ReplicaError::NotInitialized(_) => ErrorKind::NotReady,
            _ => ErrorKind::Storage,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<CoreError> for AppError {
    fn from(e: CoreError) -> Self {
        ReplicaError::from(e).into()
    }
}

impl From<shoal_core::IdError> for AppError {
    fn from(e: shoal_core::IdError) -> Self {
        Self::invalid(e.to_string())
    }
}

impl From<crate::home::HomeError> for AppError {
    fn from(e: crate::home::HomeError) -> Self {
        Self::new(ErrorKind::Storage, e.to_string())
    }
}
