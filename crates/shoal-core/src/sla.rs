//! The reply clock: since when a customer has been waiting for the team, and
//! by when the team's response target says they get an answer.
//!
//! The clock starts at the customer's first message that no reply has
//! followed (the customer has waited since then, however many messages they
//! add) and stops at the next reply that is sent or on its way (queued, or
//! without a delivery, as a logged answer). A held, failed or withdrawn reply
//! did not reach the customer and does not stop it, nor does the relay's
//! automatic acknowledgement (a promise of an answer, not one). The target is the
//! conversation's priority's first-response target while the team has never
//! replied, the next-response target after that. Pending and closed
//! conversations wait for the customer, so their clock is off.
//!
//! Due times are computed, never stored in documents: they change when the
//! team changes its hours, holidays or targets.

use crate::business_time::Calendar;
use crate::{
    BusinessHours, Conversation, DeliveryState, EntryKind, Priority, SlaTarget, Status, Team,
    Timestamp,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A customer waiting for an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    /// The customer's first message since the team's last reply.
    pub since: Timestamp,
    /// Whether the team has not replied in this conversation yet.
    pub first_response: bool,
}

/// Whether a reply entry reached (or is on its way to) the customer.
pub(crate) fn answers_the_customer(e: &crate::Entry) -> bool {
    e.kind == EntryKind::Reply
        && !e.automatic
        && !matches!(
            e.delivery_state(),
            Some(
                DeliveryState::Draft
                    | DeliveryState::Held
                    | DeliveryState::Failed
                    | DeliveryState::Cancelled
            )
        )
}

/// Since when the customer of `conv` has been waiting, if they are.
pub fn waiting(conv: &Conversation) -> Option<Waiting> {
    if matches!(conv.status, Status::Pending | Status::Closed) {
        return None;
    }
    let mut replied = false;
    let mut since = None;
    for e in &conv.entries {
        if answers_the_customer(e) {
            replied = true;
            since = None;
        } else if e.kind == EntryKind::CustomerMessage && since.is_none() {
            since = Some(Waiting {
                since: e.created_at,
                first_response: !replied,
            });
        }
    }
    since
}

/// A pending conversation's silence: what the team's auto-close counts
/// from. Stored by the relay per conversation, so the close time can be
/// computed again when the team's calendar changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    /// When it went pending or the team last wrote to the customer,
    /// whichever is later.
    pub since: Timestamp,
    /// The agent's follow-up date, if they set one.
    pub follow_up_at: Option<Timestamp>,
}

impl Silence {
    /// The silence of `conv`, if it is pending (waiting for the customer).
    pub fn of(conv: &Conversation) -> Option<Silence> {
        if conv.status != Status::Pending {
            return None;
        }
        let last_reply = conv
            .entries
            .iter()
            .filter(|e| answers_the_customer(e))
            .map(|e| e.created_at)
            .max();
        Some(Silence {
            since: conv.status_at.into_iter().chain(last_reply).max()?,
            follow_up_at: conv.follow_up_at,
        })
    }

    /// When the conversation closes by itself after `days` business days of
    /// silence: the closing time of the `days`th working day after the
    /// silence began, and never before the follow-up date. `None` when the
    /// calendar has no working days.
    pub fn closes_at(&self, calendar: &Calendar, days: u32) -> Option<Timestamp> {
        let due = calendar.close_of_working_days_after(self.since, days)?;
        Some(self.follow_up_at.map_or(due, |f| due.max(f)))
    }
}

/// When pending `conv` closes by itself (see [`Silence::closes_at`]).
pub fn auto_close_at(conv: &Conversation, calendar: &Calendar, days: u32) -> Option<Timestamp> {
    Silence::of(conv)?.closes_at(calendar, days)
}

/// What due times are computed from: the team's calendar and targets.
#[derive(Clone, Debug)]
pub struct ReplyClock {
    calendar: Calendar,
    targets: BTreeMap<Priority, SlaTarget>,
}

/// The part of the team document due times depend on; when it changes,
/// every due time is computed again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockSettings {
    /// Working hours and holidays.
    pub hours: BusinessHours,
    /// Targets per priority.
    pub targets: BTreeMap<Priority, SlaTarget>,
}

impl ClockSettings {
    /// The settings of `team`.
    pub fn of(team: &Team) -> ClockSettings {
        ClockSettings {
            hours: team.business_hours.clone(),
            targets: team.sla.clone(),
        }
    }
}

impl ReplyClock {
    /// The clock of these settings (unusable hours fall back to the
    /// defaults, as [`Calendar::or_default`] says).
    pub fn new(settings: &ClockSettings) -> ReplyClock {
        ReplyClock {
            calendar: Calendar::or_default(&settings.hours),
            targets: settings.targets.clone(),
        }
    }

    /// The clock of `team`.
    pub fn of(team: &Team) -> ReplyClock {
        ReplyClock::new(&ClockSettings::of(team))
    }

    /// The team's calendar.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// The response target in business minutes for `priority`.
    pub fn target_minutes(&self, priority: Priority, first_response: bool) -> u32 {
        let target = self.targets.get(&priority).copied().unwrap_or(SlaTarget {
            first_response_minutes: 240,
            next_response_minutes: 480,
        });
        if first_response {
            target.first_response_minutes
        } else {
            target.next_response_minutes
        }
    }

    /// When the waiting customer is due an answer.
    pub fn due(&self, waiting: Waiting, priority: Priority) -> Option<Timestamp> {
        self.calendar.add_minutes(
            waiting.since,
            self.target_minutes(priority, waiting.first_response),
        )
    }
}

/// The acknowledgement `template` filled in for a customer: the customer
/// placeholders (see [`crate::expand_template`]), `{team.name}`,
/// `{team.hours}` and `{due}` (when the answer is due, in the team's zone;
/// "as soon as we can" when the calendar has no working time).
pub fn acknowledgement_text(
    template: &str,
    team: &Team,
    customer: Option<&crate::Customer>,
    due: Option<Timestamp>,
) -> String {
    let clock = ReplyClock::of(team);
    let due = due.map_or_else(
        || "as soon as we can".to_owned(),
        |t| clock.calendar().describe(t),
    );
    crate::expand_template(template, customer, None, Some(team)).replace("{due}", &due)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        AgentId, BusinessHours, Channel, ConversationDoc, ConversationId, Ctx, CustomerId,
        EmailHeaders, NewConversation, SendGuard, StatusChange, TeamDoc, TeamId,
    };
    use automerge::ActorId;

    fn ctx(at: i64) -> Ctx {
        Ctx::new(AgentId::parse("ana").unwrap(), Timestamp(at))
    }

    fn team() -> Team {
        TeamDoc::create(
            ActorId::random(),
            &ctx(0),
            &TeamId::parse("t1").unwrap(),
            "Northwind",
            "Ana",
            "ana@northwind.example",
        )
        .unwrap()
        .view()
        .unwrap()
    }

    /// Monday 7 December 2026, `h`:00 UTC.
    fn monday(h: i64) -> i64 {
        1_796_601_600_000 + h * 3_600_000
    }

    fn conversation() -> ConversationDoc {
        let new = NewConversation {
            id: ConversationId::random(),
            subject: "Kettle".into(),
            channel: Channel::Email,
            customer: CustomerId::parse("c1").unwrap(),
            body: "It broke".into(),
            received_at: Timestamp(monday(10)),
            headers: EmailHeaders::default(),
            priority: Priority::Normal,
        };
        ConversationDoc::create(ActorId::random(), &ctx(monday(10)), new)
            .unwrap()
            .0
    }

    fn message(c: &mut ConversationDoc, h: i64, body: &str) {
        c.add_customer_message(
            &ctx(monday(h)),
            body,
            Timestamp(monday(h)),
            &EmailHeaders::default(),
        )
        .unwrap();
    }

    #[test]
    fn the_clock_runs_from_the_first_unanswered_message_to_a_reply() {
        let team = team();
        let clock = ReplyClock::of(&team);
        let mut c = conversation();
        let w = waiting(&c.view().unwrap()).unwrap();
        assert_eq!(w.since, Timestamp(monday(10)));
        assert!(w.first_response);
        // Normal priority: 4 business hours, so 14:00 the same Monday.
        assert_eq!(clock.due(w, Priority::Normal), Some(Timestamp(monday(14))));
        // A second message does not restart the clock.
        message(&mut c, 11, "Hello?");
        assert_eq!(
            waiting(&c.view().unwrap()).unwrap().since,
            Timestamp(monday(10))
        );
        // A reply stops it; the next message starts the next-response clock.
        c.add_reply(&ctx(monday(12)), "On it", None, SendGuard::Force)
            .unwrap();
        assert_eq!(waiting(&c.view().unwrap()), None);
        message(&mut c, 13, "Thanks, and?");
        let w = waiting(&c.view().unwrap()).unwrap();
        assert_eq!(w.since, Timestamp(monday(13)));
        assert!(!w.first_response);
        // Next response, normal: 480 business minutes, so 13:00–17:00 on
        // Monday and 9:00–13:00 on Tuesday.
        assert_eq!(
            clock.due(w, Priority::Normal),
            Some(Timestamp(monday(24 + 13)))
        );
    }

    #[test]
    fn pending_and_closed_stop_the_clock() {
        let mut c = conversation();
        let to = |status| StatusChange {
            status,
            until: None,
        };
        c.set_status(&ctx(monday(11)), to(Status::Pending)).unwrap();
        assert_eq!(waiting(&c.view().unwrap()), None);
        c.set_status(&ctx(monday(11)), to(Status::Closed)).unwrap();
        assert_eq!(waiting(&c.view().unwrap()), None);
        c.set_status(&ctx(monday(11)), to(Status::Open)).unwrap();
        assert!(waiting(&c.view().unwrap()).is_some());
    }

    #[test]
    fn a_withdrawn_reply_did_not_answer() {
        let mut c = conversation();
        let reply = c
            .add_reply(&ctx(monday(11)), "Oops", None, SendGuard::Force)
            .unwrap();
        c.unsend(&ctx(monday(11)), &reply).unwrap();
        let w = waiting(&c.view().unwrap()).unwrap();
        assert_eq!(w.since, Timestamp(monday(10)));
        assert!(w.first_response);
    }

    #[test]
    fn targets_follow_priority_and_hours() {
        let mut team = team();
        team.business_hours = BusinessHours {
            time_zone: "Europe/Berlin".into(),
            ..BusinessHours::default()
        };
        let clock = ReplyClock::of(&team);
        let w = Waiting {
            since: Timestamp(monday(16)), // 17:00 in Berlin: closing time
            first_response: true,
        };
        // Urgent, 60 business minutes: Tuesday 10:00 in Berlin.
        assert_eq!(
            clock.due(w, Priority::Urgent),
            Some(Timestamp(monday(24 + 9)))
        );
        // Low, 480: Tuesday's whole working day, due at its close.
        assert_eq!(
            clock.due(w, Priority::Low),
            Some(Timestamp(monday(24 + 16)))
        );
    }

    #[test]
    fn an_acknowledgement_says_when_to_expect_the_answer() {
        let mut team = team();
        team.business_hours.time_zone = "Europe/Berlin".into();
        let text = acknowledgement_text(
            crate::DEFAULT_ACKNOWLEDGEMENT,
            &team,
            None,
            Some(Timestamp(monday(9))),
        );
        assert!(text.starts_with("Hello there,"), "{text}");
        assert!(
            text.contains("Thank you for writing to Northwind."),
            "{text}"
        );
        assert!(
            text.contains("by Monday 7 December, 10:00 (Europe/Berlin)"),
            "{text}"
        );
        assert!(
            text.contains("Monday to Friday, 09:00–17:00 (Europe/Berlin)"),
            "{text}"
        );
    }

    #[test]
    fn an_acknowledgement_stops_no_clock() {
        let mut c = conversation();
        let first = c.view().unwrap().entries[0].id.clone();
        c.add_acknowledgement(&ctx(monday(10)), "We have it", &first)
            .unwrap();
        let view = c.view().unwrap();
        assert!(view.entries[1].automatic);
        assert_eq!(waiting(&view).unwrap().since, Timestamp(monday(10)));
        // Nor does it stand in an agent's way: nothing unseen to show.
        assert!(view
            .unseen_by(&AgentId::parse("ben").unwrap())
            .iter()
            .all(|e| !e.automatic));
    }

    #[test]
    fn a_pending_conversation_closes_after_business_days_of_silence() {
        let calendar = Calendar::or_default(&BusinessHours::default());
        let mut c = conversation();
        assert_eq!(
            auto_close_at(&c.view().unwrap(), &calendar, 3),
            None,
            "open"
        );
        // Pending on Monday 12:00: three working days after Monday is Thursday,
        // closing at 17:00.
        c.add_reply(&ctx(monday(11)), "Try this", None, SendGuard::Force)
            .unwrap();
        c.set_status(
            &ctx(monday(12)),
            StatusChange {
                status: Status::Pending,
                until: None,
            },
        )
        .unwrap();
        let thursday_close = Timestamp(monday(3 * 24 + 17));
        assert_eq!(
            auto_close_at(&c.view().unwrap(), &calendar, 3),
            Some(thursday_close)
        );
        // A weekend does not count: five days from Monday is next Monday.
        assert_eq!(
            auto_close_at(&c.view().unwrap(), &calendar, 5),
            Some(Timestamp(monday(7 * 24 + 17)))
        );
        // A nudge on Tuesday restarts the silence.
        c.add_reply(&ctx(monday(24 + 9)), "Did it work?", None, SendGuard::Force)
            .unwrap();
        assert_eq!(
            auto_close_at(&c.view().unwrap(), &calendar, 3),
            Some(Timestamp(monday(4 * 24 + 17)))
        );
        // Never before the agent's own follow-up date.
        let later = Timestamp(monday(9 * 24));
        c.await_confirmation(&ctx(monday(24 + 10)), later).unwrap();
        assert_eq!(auto_close_at(&c.view().unwrap(), &calendar, 1), Some(later));
        // The customer's answer reopens it: nothing to close.
        message(&mut c, 24 + 11, "Works now");
        c.set_status(
            &ctx(monday(24 + 11)),
            StatusChange {
                status: Status::Open,
                until: None,
            },
        )
        .unwrap();
        assert_eq!(auto_close_at(&c.view().unwrap(), &calendar, 1), None);
    }
}
