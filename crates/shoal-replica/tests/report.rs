//! The team report from a replica: a seeded team counted by hand, read
//! through the derived timelines (no document is loaded).

mod common;

use common::{clock, founder, phone_call};
use shoal_core::{Resolution, SendGuard};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

#[test]
fn a_week_of_a_seeded_team_matches_a_hand_count() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut r = founder(dir.path(), &clock);
    // Monday 9:00 UTC: a call, answered at 10:30 (90 business minutes,
    // within the normal target of 4 h), closed as confirmed on Tuesday 9:00.
    let (first, _) = phone_call(&mut r, "a@example.test", "Kettle", "It broke");
    clock.advance(HOUR + HOUR / 2);
    r.reply(&first, "A new one is on its way", None, SendGuard::Force)
        .unwrap();
    clock.advance(DAY - HOUR - HOUR / 2);
    r.close_as(&first, Resolution::Confirmed).unwrap();
    // Tuesday 9:00: a second call, not answered yet.
    phone_call(&mut r, "b@example.test", "Toaster", "Smoke");
    r.tag(&first, &["hardware".into()]).unwrap();
    clock.advance(3 * HOUR);

    let report = r.report(1).unwrap();
    assert_eq!(report.time_zone, "UTC");
    let week = &report.weeks[0];
    assert_eq!(week.week, "2026-03-02");
    assert_eq!(week.opened, 2);
    assert_eq!(week.by_channel["phone"], 2);
    assert_eq!(week.by_tag["hardware"], 1);
    assert_eq!(week.by_tier["none"], 2);
    assert_eq!(week.first_response.count, 1);
    assert_eq!(week.first_response.median_ms, Some(90 * 60_000));
    assert_eq!((week.within_target, week.responses), (1, 1));
    assert_eq!(week.closed_confirmed, 1);
    assert_eq!(week.resolution.median_ms, Some(DAY));
    assert_eq!(week.backlog_at_end, 1, "the toaster");
}
