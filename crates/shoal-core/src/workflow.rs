//! The small closed vocabularies of the support workflow.

use crate::{CoreError, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Declares a closed vocabulary: an enum stored and shown as lowercase
/// words, with `as_str`, `Display` and `FromStr` (refusing unknown words).
macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident, $field:literal { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and displayed name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = CoreError;
            fn from_str(s: &str) -> Result<Self, CoreError> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(CoreError::InvalidValue { field: $field, value: s.to_owned() }),
                }
            }
        }
    };
}

pub(crate) use vocabulary;

vocabulary!(
    /// Where a conversation stands.
    Status, "status" {
        /// Needs an answer from the team.
        Open => "open",
        /// Waiting for the customer.
        Pending => "pending",
        /// Hidden until a time, then back in the inbox.
        Snoozed => "snoozed",
        /// Done; a new customer message reopens it.
        Closed => "closed",
    }
);

vocabulary!(
    /// How urgent a conversation is; SLA targets are set per priority.
    Priority, "priority" {
        /// Whenever convenient.
        Low => "low",
        /// The default.
        Normal => "normal",
        /// Sooner than usual.
        High => "high",
        /// Drop everything.
        Urgent => "urgent",
    }
);

vocabulary!(
    /// How a conversation was closed, for reports (none: closed without
    /// saying).
    Resolution, "resolution" {
        /// The customer confirmed the problem is solved.
        Confirmed => "confirmed",
        /// The customer never answered the follow-up.
        NoReply => "no-reply",
    }
);

vocabulary!(
    /// How the customer reached the team.
    Channel, "channel" {
        /// E-mail, through the relay's mailbox.
        Email => "email",
        /// A phone call logged by an agent.
        Phone => "phone",
        /// A chat transcript.
        Chat => "chat",
        /// Anything else.
        Other => "other",
    }
);

vocabulary!(
    /// Delivery of an agent reply to the customer.
    DeliveryState, "delivery state" {
        /// Not yet sent by its author.
        Draft => "draft",
        /// Waiting for the outbox (or for a relay to exist).
        Queued => "queued",
        /// Accepted by the mail server.
        Sent => "sent",
        /// Held back (e.g. a collision) until its author decides.
        Held => "held",
        /// Delivery failed permanently; see the reason.
        Failed => "failed",
        /// Withdrawn by its author within the undo window.
        Cancelled => "cancelled",
    }
);

/// A requested status change: the new status, and the until-time for snoozes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusChange {
    /// The new status.
    pub status: Status,
    /// When a snooze ends; required for `snoozed`, refused otherwise.
    pub until: Option<Timestamp>,
}

impl StatusChange {
    /// Checks the rules: a snooze needs an until-time in the future, and no
    /// other status takes one.
    pub fn validate(&self, now: Timestamp) -> Result<(), CoreError> {
        match (self.status, self.until) {
            (Status::Snoozed, None) => Err(CoreError::SnoozeWithoutUntil),
            (Status::Snoozed, Some(until)) if until <= now => {
                Err(CoreError::SnoozeInPast { until, now })
            }
            (Status::Snoozed, Some(_)) => Ok(()),
            (other, Some(_)) => Err(CoreError::UntilWithoutSnooze(other)),
            (_, None) => Ok(()),
        }
    }
}

/// The status a conversation shows at `now`: a snooze that has ended counts
/// as open again, without anyone having to write a change.
pub fn effective_status(status: Status, snooze_until: Option<Timestamp>, now: Timestamp) -> Status {
    match (status, snooze_until) {
        (Status::Snoozed, Some(until)) if until <= now => Status::Open,
        (s, _) => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>().unwrap(), *s);
        }
        for d in DeliveryState::ALL {
            assert_eq!(d.as_str().parse::<DeliveryState>().unwrap(), *d);
        }
        assert!("reopened".parse::<Status>().is_err());
    }

    #[test]
    fn snooze_rules() {
        let now = Timestamp(1_000);
        let snooze = |until| StatusChange {
            status: Status::Snoozed,
            until,
        };
        assert!(matches!(
            snooze(None).validate(now),
            Err(CoreError::SnoozeWithoutUntil)
        ));
        assert!(matches!(
            snooze(Some(Timestamp(1_000))).validate(now),
            Err(CoreError::SnoozeInPast { .. })
        ));
        assert!(snooze(Some(Timestamp(1_001))).validate(now).is_ok());
        let closed_until = StatusChange {
            status: Status::Closed,
            until: Some(Timestamp(5_000)),
        };
        assert!(matches!(
            closed_until.validate(now),
            Err(CoreError::UntilWithoutSnooze(Status::Closed))
        ));
    }

    #[test]
    fn ended_snooze_reads_as_open() {
        let until = Some(Timestamp(10));
        assert_eq!(
            effective_status(Status::Snoozed, until, Timestamp(9)),
            Status::Snoozed
        );
        assert_eq!(
            effective_status(Status::Snoozed, until, Timestamp(10)),
            Status::Open
        );
        assert_eq!(
            effective_status(Status::Closed, None, Timestamp(10)),
            Status::Closed
        );
    }
}
