//! Identifiers. Every id is 1–64 characters of `[a-z0-9_-]`; new ones are
//! random UUIDv4s in simple (32 hex digit) form so that replicas can create
//! them offline without coordination.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A malformed identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Not 1–64 characters of `[a-z0-9_-]`.
    #[error("invalid id `{0}`: expected 1-64 characters of a-z, 0-9, '-' or '_'")]
    Malformed(String),
    /// A document id without a known kind prefix.
    #[error("invalid document id `{0}`: expected team/…, conv/…, cust/… or agent/…")]
    BadDocId(String),
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// A fresh random identifier.
            pub fn random() -> Self {
                Self(uuid::Uuid::new_v4().simple().to_string())
            }

            /// Validates `s` as an identifier.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                if valid_id(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(IdError::Malformed(s.to_owned()))
                }
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

id_type!(
    /// A team: one shared inbox.
    TeamId
);
id_type!(
    /// An agent (a person on the team).
    AgentId
);
id_type!(
    /// A conversation (one customer thread).
    ConversationId
);
id_type!(
    /// A customer.
    CustomerId
);
id_type!(
    /// An entry of a conversation (message, reply or note).
    EntryId
);

/// The kinds of Shoal document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DocKind {
    /// [`crate::TeamDoc`].
    Team,
    /// [`crate::ConversationDoc`].
    Conversation,
    /// [`crate::CustomerDoc`].
    Customer,
    /// [`crate::AgentPrivateDoc`].
    AgentPrivate,
}

impl DocKind {
    /// Every kind, in a fixed order.
    pub const ALL: [DocKind; 4] = [
        DocKind::Team,
        DocKind::Conversation,
        DocKind::Customer,
        DocKind::AgentPrivate,
    ];

    /// The value of the document's `kind` field.
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Team => "team",
            DocKind::Conversation => "conversation",
            DocKind::Customer => "customer",
            DocKind::AgentPrivate => "agent-private",
        }
    }

    /// Parses the `kind` field.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn prefix(self) -> &'static str {
        match self {
            DocKind::Team => "team",
            DocKind::Conversation => "conv",
            DocKind::Customer => "cust",
            DocKind::AgentPrivate => "agent",
        }
    }
}

impl fmt::Display for DocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The storage and sync identity of a document: its kind and its id, written
/// `conv/<id>`, `cust/<id>`, `team/<id>` or `agent/<agent id>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocId {
    kind: DocKind,
    key: String,
}

impl DocId {
    /// The team document of `team`.
    pub fn team(team: &TeamId) -> Self {
        Self::of(DocKind::Team, team.as_str())
    }
    /// The document of conversation `id`.
    pub fn conversation(id: &ConversationId) -> Self {
        Self::of(DocKind::Conversation, id.as_str())
    }
    /// The document of customer `id`.
    pub fn customer(id: &CustomerId) -> Self {
        Self::of(DocKind::Customer, id.as_str())
    }
    /// The private document of agent `id`.
    pub fn agent_private(id: &AgentId) -> Self {
        Self::of(DocKind::AgentPrivate, id.as_str())
    }

    fn of(kind: DocKind, key: &str) -> Self {
        Self {
            kind,
            key: key.to_owned(),
        }
    }

    /// Which kind of document this names.
    pub fn kind(&self) -> DocKind {
        self.kind
    }

    /// The id within its kind (a conversation id for `conv/…`, and so on).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Parses `conv/<id>` and the like.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let bad = || IdError::BadDocId(s.to_owned());
        let (prefix, key) = s.split_once('/').ok_or_else(bad)?;
        let kind = DocKind::ALL
            .into_iter()
            .find(|k| k.prefix() == prefix)
            .ok_or_else(bad)?;
        if !valid_id(key) {
            return Err(bad());
        }
        Ok(Self::of(kind, key))
    }
}

impl fmt::Display for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind.prefix(), self.key)
    }
}

impl FromStr for DocId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::parse(s)
    }
}

impl TryFrom<String> for DocId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<DocId> for String {
    fn from(id: DocId) -> String {
        id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_valid_and_distinct() {
        let a = ConversationId::random();
        let b = ConversationId::random();
        assert_ne!(a, b);
        assert_eq!(ConversationId::parse(a.as_str()).unwrap(), a);
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in ["", "UPPER", "has space", "semi;colon", &"x".repeat(65)] {
            assert!(AgentId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn doc_ids_round_trip() {
        let c = CustomerId::random();
        let d = DocId::customer(&c);
        assert_eq!(DocId::parse(&d.to_string()).unwrap(), d);
        assert_eq!(d.kind(), DocKind::Customer);
        assert!(DocId::parse("nope/abc").is_err());
        assert!(DocId::parse("conv/").is_err());
        assert!(DocId::parse("conv").is_err());
    }
}
