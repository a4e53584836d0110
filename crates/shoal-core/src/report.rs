//! Team reports, computed offline from what the replica holds: how fast
//! the team answers (first and next responses, in business time), how long
//! cases take to resolve, how much comes in and through which channel, tag
//! and tier, how the backlog moves, and how often the response targets
//! were met. Week by week, with medians and 90th percentiles.
//!
//! Team level only, on purpose: nothing here is broken down by agent, and
//! no agent is ranked (support practice measures the team).
//!
//! The inputs are [`Timeline`]s: instants taken from each conversation when
//! it is written, so the team's current hours and targets apply when the
//! report is made.

use crate::business_time::Calendar;
use crate::sla::ReplyClock;
use crate::{
    Channel, Conversation, CustomerId, EntryKind, Priority, Resolution, Status, Timestamp,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The tag that marks a conversation as a feature request; a
/// `feature-NAME` tag beside it names the feature, for counts and trends.
pub const FEATURE_REQUEST: &str = "feature-request";

/// One wait of the customer and the answer that ended it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// The customer's first message of the wait.
    pub waited_from: Timestamp,
    /// The reply that ended it.
    pub answered_at: Timestamp,
    /// Whether it was the team's first answer in the conversation.
    pub first: bool,
}

/// What a report needs of one conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    /// When it was opened.
    pub created_at: Timestamp,
    /// Its customer (for the tier).
    pub customer_id: CustomerId,
    /// How the customer reached the team.
    pub channel: Channel,
    /// Its priority now (targets follow it).
    pub priority: Priority,
    /// Its tags now.
    pub tags: Vec<String>,
    /// Every answered wait, in order.
    pub responses: Vec<Response>,
    /// When it was closed, if it is.
    pub closed_at: Option<Timestamp>,
    /// How it was closed, when it says.
    pub resolution: Option<Resolution>,
}

/// The timeline of `conv`.
pub fn timeline(conv: &Conversation) -> Timeline {
    let mut responses = Vec::new();
    let mut replied = false;
    let mut waiting: Option<Timestamp> = None;
    for e in &conv.entries {
        if crate::sla::answers_the_customer(e) {
            if let Some(from) = waiting.take() {
                responses.push(Response {
                    waited_from: from,
                    answered_at: e.created_at.max(from),
                    first: !replied,
                });
            }
            replied = true;
        } else if e.kind == EntryKind::CustomerMessage && waiting.is_none() {
            waiting = Some(e.created_at);
        }
    }
    let closed = conv.status == Status::Closed;
    Timeline {
        created_at: conv.created_at,
        customer_id: conv.customer_id.clone(),
        channel: conv.channel,
        priority: conv.priority,
        tags: conv.tags.clone(),
        responses,
        // Conversations closed before Shoal recorded when: their last entry.
        closed_at: closed.then(|| conv.status_at.unwrap_or_else(|| conv.last_activity())),
        resolution: if closed { conv.resolution } else { None },
    }
}

/// Median and 90th percentile (nearest rank) of some durations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Spread {
    /// How many durations.
    pub count: u32,
    /// Their median (ms), when there are any.
    pub median_ms: Option<i64>,
    /// Their 90th percentile (ms), when there are any.
    pub p90_ms: Option<i64>,
}

impl Spread {
    /// The spread of `samples`.
    pub fn of(mut samples: Vec<i64>) -> Spread {
        samples.sort_unstable();
        let rank = |p: f64| -> Option<i64> {
            if samples.is_empty() {
                return None;
            }
            let i = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1;
            Some(samples[i])
        };
        Spread {
            count: samples.len() as u32,
            median_ms: rank(0.5),
            p90_ms: rank(0.9),
        }
    }
}

/// One week of the team's work (weeks start on Monday, 00:00, in the
/// team's time zone).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Week {
    /// Its Monday, `YYYY-MM-DD`.
    pub week: String,
    /// Conversations opened.
    pub opened: u32,
    /// Opened, by channel.
    pub by_channel: BTreeMap<String, u32>,
    /// Opened, by tag (a conversation counts once per tag).
    pub by_tag: BTreeMap<String, u32>,
    /// Opened, by the customer's tier ("none" without one).
    pub by_tier: BTreeMap<String, u32>,
    /// Opened and tagged [`FEATURE_REQUEST`]: one count per request.
    pub feature_requests: u32,
    /// Feature requests by the feature asked for: the `feature-NAME` tags
    /// of conversations tagged [`FEATURE_REQUEST`].
    pub features: BTreeMap<String, u32>,
    /// First responses given this week: business time waited.
    pub first_response: Spread,
    /// Later responses given this week: business time waited.
    pub next_response: Spread,
    /// Conversations closed this week: time from opening to closing.
    pub resolution: Spread,
    /// Closed this week, confirmed by the customer.
    pub closed_confirmed: u32,
    /// Closed this week after the customer stopped answering.
    pub closed_no_reply: u32,
    /// Closed this week without saying how.
    pub closed_other: u32,
    /// Responses given this week within their target.
    pub within_target: u32,
    /// Responses given this week.
    pub responses: u32,
    /// Share of this week's responses within target (0–1), when there were any.
    pub target_rate: Option<f64>,
    /// Conversations not closed at the week's end.
    pub backlog_at_end: u32,
}

/// A report over whole weeks.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The team's time zone, in which weeks are cut.
    pub time_zone: String,
    /// The weeks, oldest first.
    pub weeks: Vec<Week>,
}

/// The report of the `weeks` whole weeks up to and including the one
/// holding `now`. `tier_of` gives a customer's tier.
pub fn weekly(
    timelines: &[Timeline],
    clock: &ReplyClock,
    time_zone: &str,
    tier_of: impl Fn(&CustomerId) -> Option<String>,
    now: Timestamp,
    weeks: u32,
) -> Report {
    let cal: &Calendar = clock.calendar();
    let bounds = cal.week_starts(now, weeks.max(1));
    let mut out: Vec<Week> = bounds
        .iter()
        .map(|(date, _)| Week {
            week: date.clone(),
            ..Week::default()
        })
        .collect();
    // The week an instant falls in, if in range.
    let week_of = |t: Timestamp| -> Option<usize> {
        let i = bounds.partition_point(|(_, start)| *start <= t);
        let end = if i < bounds.len() {
            bounds[i].1
        } else {
            cal.week_starts_after(bounds[bounds.len() - 1].1)
        };
        (i > 0 && t < end).then(|| i - 1)
    };
    let mut first: Vec<Vec<i64>> = vec![Vec::new(); out.len()];
    let mut next: Vec<Vec<i64>> = vec![Vec::new(); out.len()];
    let mut resolution: Vec<Vec<i64>> = vec![Vec::new(); out.len()];
    for t in timelines {
        if let Some(w) = week_of(t.created_at) {
            let week = &mut out[w];
            week.opened += 1;
            *week.by_channel.entry(t.channel.to_string()).or_default() += 1;
            for tag in &t.tags {
                *week.by_tag.entry(tag.clone()).or_default() += 1;
            }
            let tier = tier_of(&t.customer_id).unwrap_or_else(|| "none".to_owned());
            *week.by_tier.entry(tier).or_default() += 1;
            if t.tags.iter().any(|g| g == FEATURE_REQUEST) {
                week.feature_requests += 1;
                for feature in t
                    .tags
                    .iter()
                    .filter(|g| *g != FEATURE_REQUEST)
                    .filter_map(|g| g.strip_prefix("feature-"))
                {
                    *week.features.entry(feature.to_owned()).or_default() += 1;
                }
            }
        }
        for r in &t.responses {
            let Some(w) = week_of(r.answered_at) else {
                continue;
            };
            let waited = cal.business_ms_between(r.waited_from, r.answered_at);
            if r.first {
                first[w].push(waited);
            } else {
                next[w].push(waited);
            }
            let target = i64::from(clock.target_minutes(t.priority, r.first)) * 60_000;
            out[w].responses += 1;
            if waited <= target {
                out[w].within_target += 1;
            }
        }
        if let Some(closed) = t.closed_at {
            if let Some(w) = week_of(closed) {
                resolution[w].push((closed.as_millis() - t.created_at.as_millis()).max(0));
                match t.resolution {
                    Some(Resolution::Confirmed) => out[w].closed_confirmed += 1,
                    Some(Resolution::NoReply) => out[w].closed_no_reply += 1,
                    None => out[w].closed_other += 1,
                }
            }
        }
        for (i, week) in out.iter_mut().enumerate() {
            let end = bounds
                .get(i + 1)
                .map(|b| b.1)
                .unwrap_or_else(|| cal.week_starts_after(bounds[i].1));
            if t.created_at < end && t.closed_at.is_none_or(|c| c >= end) {
                week.backlog_at_end += 1;
            }
        }
    }
    for (i, week) in out.iter_mut().enumerate() {
        week.first_response = Spread::of(std::mem::take(&mut first[i]));
        week.next_response = Spread::of(std::mem::take(&mut next[i]));
        week.resolution = Spread::of(std::mem::take(&mut resolution[i]));
        week.target_rate =
            (week.responses > 0).then(|| f64::from(week.within_target) / f64::from(week.responses));
    }
    Report {
        time_zone: time_zone.to_owned(),
        weeks: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AgentId, Ctx, Team, TeamDoc, TeamId};
    use automerge::ActorId;

    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;
    /// Monday 7 December 2026, 00:00 UTC.
    const MON: i64 = 1_796_601_600_000;

    fn team() -> Team {
        TeamDoc::create(
            ActorId::random(),
            &Ctx::new(AgentId::parse("ana").unwrap(), Timestamp(0)),
            &TeamId::parse("t1").unwrap(),
            "Northwind",
            "Ana",
            "ana@northwind.example",
        )
        .unwrap()
        .view()
        .unwrap()
    }

    fn t(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    fn conv(
        created: i64,
        customer: &str,
        channel: Channel,
        priority: Priority,
        tags: &[&str],
        responses: &[(i64, i64, bool)],
        closed: Option<(i64, Option<Resolution>)>,
    ) -> Timeline {
        Timeline {
            created_at: t(created),
            customer_id: CustomerId::parse(customer).unwrap(),
            channel,
            priority,
            tags: tags.iter().map(|s| s.to_string()).collect(),
            responses: responses
                .iter()
                .map(|&(from, at, first)| Response {
                    waited_from: t(from),
                    answered_at: t(at),
                    first,
                })
                .collect(),
            closed_at: closed.map(|(c, _)| t(c)),
            resolution: closed.and_then(|(_, r)| r),
        }
    }

    /// Four conversations counted by hand (hours Monday–Friday 9–17 UTC,
    /// default targets); see the comments for each number.
    #[test]
    fn a_hand_counted_team() {
        let team = team();
        let clock = ReplyClock::of(&team);
        let timelines = vec![
            // A: Mon 7 Dec 10:00, answered 11:30 (90 min, normal: within 4 h),
            // closed Tue 10:00 confirmed. Premium customer.
            conv(
                MON + 10 * HOUR,
                "ca",
                Channel::Email,
                Priority::Normal,
                &["billing"],
                &[(MON + 10 * HOUR, MON + 11 * HOUR + HOUR / 2, true)],
                Some((MON + DAY + 10 * HOUR, Some(Resolution::Confirmed))),
            ),
            // B: Fri 4 Dec 16:00, urgent; first answer Mon 10:00 (1 h Friday
            // + 1 h Monday = 2 h: over the 1 h target); next wait Mon 11:00
            // to 11:30 (within 2 h). Open.
            conv(
                MON - 3 * DAY + 16 * HOUR,
                "cb",
                Channel::Phone,
                Priority::Urgent,
                &["billing", "bug"],
                &[
                    (MON - 3 * DAY + 16 * HOUR, MON + 10 * HOUR, true),
                    (MON + 11 * HOUR, MON + 11 * HOUR + HOUR / 2, false),
                ],
                None,
            ),
            // C: Tue 1 Dec 9:00, closed Wed 9:00 without saying.
            conv(
                MON - 6 * DAY + 9 * HOUR,
                "cc",
                Channel::Email,
                Priority::Normal,
                &[],
                &[],
                Some((MON - 5 * DAY + 9 * HOUR, None)),
            ),
            // D: Thu 26 Nov 9:00 (before the range), closed Tue 8 Dec 9:00
            // after no reply: 12 days.
            conv(
                MON - 11 * DAY + 9 * HOUR,
                "cd",
                Channel::Email,
                Priority::Normal,
                &[],
                &[],
                Some((MON + DAY + 9 * HOUR, Some(Resolution::NoReply))),
            ),
        ];
        let mut timelines = timelines;
        // E and F: feature requests opened on Wednesday, one naming dark mode
        // twice over (one count per request) and one naming nothing.
        timelines.push(conv(
            MON + 2 * DAY + 9 * HOUR,
            "ce",
            Channel::Email,
            Priority::Low,
            &["feature-request", "feature-dark-mode"],
            &[],
            None,
        ));
        timelines.push(conv(
            MON + 2 * DAY + 10 * HOUR,
            "cf",
            Channel::Chat,
            Priority::Low,
            &["feature-request"],
            &[],
            None,
        ));
        let tier = |c: &CustomerId| (c.as_str() == "ca").then(|| "premium".to_owned());
        let now = t(MON + 2 * DAY + 12 * HOUR);
        let r = weekly(&timelines, &clock, "UTC", tier, now, 2);
        assert_eq!(r.weeks.len(), 2);
        let (w1, w2) = (&r.weeks[0], &r.weeks[1]);

        assert_eq!(w1.week, "2026-11-30");
        assert_eq!(w1.opened, 2, "B and C");
        assert_eq!(w1.by_channel["phone"], 1);
        assert_eq!(w1.by_channel["email"], 1);
        assert_eq!(w1.by_tag["billing"], 1);
        assert_eq!(w1.by_tag["bug"], 1);
        assert_eq!(w1.by_tier["none"], 2);
        assert_eq!(w1.responses, 0, "B's first answer came on Monday");
        assert_eq!(w1.target_rate, None);
        assert_eq!(w1.closed_other, 1);
        assert_eq!(w1.resolution.median_ms, Some(DAY));
        assert_eq!(w1.backlog_at_end, 2, "B open, D closed later");

        assert_eq!(w2.week, "2026-12-07");
        assert_eq!(w2.opened, 3, "A, E and F");
        assert_eq!(w2.feature_requests, 2);
        assert_eq!(w2.features.len(), 1);
        assert_eq!(w2.features["dark-mode"], 1);
        assert_eq!(w1.feature_requests, 0);
        assert_eq!(w2.by_tier["premium"], 1);
        assert_eq!(w2.first_response.count, 2);
        assert_eq!(w2.first_response.median_ms, Some(90 * 60_000));
        assert_eq!(w2.first_response.p90_ms, Some(120 * 60_000));
        assert_eq!(w2.next_response.count, 1);
        assert_eq!(w2.next_response.median_ms, Some(30 * 60_000));
        assert_eq!((w2.within_target, w2.responses), (2, 3));
        assert_eq!(w2.target_rate, Some(2.0 / 3.0));
        assert_eq!(
            (w2.closed_confirmed, w2.closed_no_reply, w2.closed_other),
            (1, 1, 0)
        );
        assert_eq!(w2.resolution.count, 2);
        assert_eq!(w2.resolution.median_ms, Some(DAY));
        assert_eq!(w2.resolution.p90_ms, Some(12 * DAY));
        assert_eq!(w2.backlog_at_end, 3, "B, E and F");
    }

    #[test]
    fn spreads_by_nearest_rank() {
        assert_eq!(Spread::of(vec![]), Spread::default());
        let s = Spread::of((1..=10).collect());
        assert_eq!((s.count, s.median_ms, s.p90_ms), (10, Some(5), Some(9)));
        let s = Spread::of(vec![7]);
        assert_eq!((s.median_ms, s.p90_ms), (Some(7), Some(7)));
    }
}
