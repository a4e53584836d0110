//! The reply clock in the replica's inbox: due times derived from each
//! conversation and the team's hours and targets, recomputed when those
//! change, the due-soon and overdue views, the due and waiting orders, and
//! files of the previous format rebuilt on opening.

mod common;

use common::{clock, founder, phone_call, sync_one_way, team_of_three, T0};
use rusqlite::Connection;
use shoal_core::{BusinessHours, Priority, SendGuard, SlaTarget, Timestamp};
use shoal_replica::{InboxQuery, InboxSort, InboxView, Replica};

const HOUR: i64 = 3_600_000;

fn due_of(r: &Replica, subject: &str) -> Option<i64> {
    r.inbox(&InboxQuery::view(InboxView::All))
        .unwrap()
        .into_iter()
        .find(|row| row.subject == subject)
        .unwrap()
        .reply_due
        .map(|t| t.as_millis())
}

fn subjects(r: &Replica, q: InboxQuery) -> Vec<String> {
    r.inbox(&q)
        .unwrap()
        .into_iter()
        .map(|r| r.subject)
        .collect()
}

#[test]
fn due_times_follow_the_conversation_and_the_team_settings() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut r = founder(dir.path(), &clock);
    // Monday 9:00 UTC: normal priority, 4 business hours, UTC 9–17.
    let (kettle, _) = phone_call(&mut r, "maria@example.test", "Kettle", "It broke");
    assert_eq!(due_of(&r, "Kettle"), Some(T0 + 4 * HOUR));
    let row = &r.inbox(&InboxQuery::view(InboxView::All)).unwrap()[0];
    assert_eq!(row.waiting_since, Some(Timestamp(T0)));
    assert!(row.first_response);

    // Priority urgent: one hour.
    r.set_priority(&kettle, Priority::Urgent).unwrap();
    assert_eq!(due_of(&r, "Kettle"), Some(T0 + HOUR));

    // The team moves to New York hours: 9:00 there is 14:00 UTC in March
    // before the clocks change (8 March 2026), so an hour is due at 15:00.
    let mut hours = BusinessHours {
        time_zone: "America/New_York".into(),
        ..BusinessHours::default()
    };
    r.set_business_hours(&hours).unwrap();
    assert_eq!(due_of(&r, "Kettle"), Some(T0 + 6 * HOUR));
    // Monday a holiday: due Tuesday at 10:00 in New York.
    hours.holidays.insert("2026-03-02".into(), "Closed".into());
    r.set_business_hours(&hours).unwrap();
    assert_eq!(due_of(&r, "Kettle"), Some(T0 + 24 * HOUR + 6 * HOUR));
    r.remove_holiday("2026-03-02").unwrap();
    // A target of 30 minutes for urgent.
    r.set_sla(
        Priority::Urgent,
        SlaTarget {
            first_response_minutes: 30,
            next_response_minutes: 60,
        },
    )
    .unwrap();
    assert_eq!(due_of(&r, "Kettle"), Some(T0 + 5 * HOUR + HOUR / 2));

    // An answer stops the clock.
    r.reply(&kettle, "On its way", None, SendGuard::Force)
        .unwrap();
    assert_eq!(due_of(&r, "Kettle"), None);
}

#[test]
fn views_and_orders_by_the_clock() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut r = founder(dir.path(), &clock);
    let (_, _) = phone_call(&mut r, "a@example.test", "Normal, early", "1");
    clock.advance(HOUR);
    let (urgent, _) = phone_call(&mut r, "b@example.test", "Urgent, later", "2");
    r.set_priority(&urgent, Priority::Urgent).unwrap();
    clock.advance(HOUR);
    let (answered, _) = phone_call(&mut r, "c@example.test", "Answered", "3");
    r.reply(&answered, "Done", None, SendGuard::Force).unwrap();

    // Now 11:00: urgent due 11:00 (overdue at the boundary), normal due 13:00.
    let by = |sort| InboxQuery {
        sort,
        ..InboxQuery::view(InboxView::All)
    };
    assert_eq!(
        subjects(&r, by(InboxSort::Due)),
        ["Urgent, later", "Normal, early", "Answered"]
    );
    assert_eq!(
        subjects(&r, by(InboxSort::Waiting)),
        ["Normal, early", "Urgent, later", "Answered"]
    );
    assert_eq!(
        subjects(&r, InboxQuery::view(InboxView::Overdue)),
        ["Urgent, later"]
    );
    assert!(subjects(&r, InboxQuery::view(InboxView::DueSoon)).is_empty());
    clock.advance(HOUR + HOUR / 2);
    // 12:30: normal due at 13:00 is due soon.
    assert_eq!(
        subjects(&r, InboxQuery::view(InboxView::DueSoon)),
        ["Normal, early"]
    );
    assert_eq!(r.inbox_count(InboxView::Overdue).unwrap(), 1);
}

#[test]
fn replicas_agree_on_due_times_whatever_arrives_first() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut team = team_of_three(dir.path(), &clock);
    let (ana, rest) = team.split_first_mut().unwrap();
    phone_call(ana, "a@example.test", "Kettle", "It broke");
    ana.set_business_hours(&BusinessHours {
        time_zone: "Asia/Kolkata".into(),
        ..BusinessHours::default()
    })
    .unwrap();
    sync_one_way(ana, &mut rest[0]);
    assert_eq!(due_of(ana, "Kettle"), due_of(&rest[0], "Kettle"));
    assert!(due_of(ana, "Kettle").is_some());
    assert_eq!(
        ana.derived_dump().unwrap().inbox,
        rest[0].derived_dump().unwrap().inbox
    );
    // Only admins change the settings.
    let err = rest[0]
        .set_business_hours(&BusinessHours::default())
        .unwrap_err();
    assert!(err.to_string().contains("only an admin"), "{err}");
}

#[test]
fn a_file_of_the_previous_format_gets_its_clock_on_opening() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let path = {
        let mut r = founder(dir.path(), &clock);
        let (kettle, _) = phone_call(&mut r, "a@example.test", "Kettle", "It broke");
        let me = r.team().unwrap().agents[0].first_name().to_lowercase();
        r.note(&kettle, &format!("@{me} look")).unwrap();
        r.path().to_owned()
    };
    // Turn the file back into version 2: without what versions 3 to 6 add.
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch(
            "DROP TABLE inbox_mentions;
             DROP TABLE report_timelines;
             DROP INDEX inbox_follow_up;
             ALTER TABLE inbox DROP COLUMN follow_up_at;
             ALTER TABLE inbox DROP COLUMN resolution;
             DROP INDEX inbox_due; DROP TABLE team_clock;
             ALTER TABLE inbox DROP COLUMN waiting_since;
             ALTER TABLE inbox DROP COLUMN first_response;
             ALTER TABLE inbox DROP COLUMN reply_due;
             PRAGMA user_version = 2;",
        )
        .unwrap();
    }
    let r = Replica::open_with_clock(&path, std::sync::Arc::new(clock.clone())).unwrap();
    assert_eq!(due_of(&r, "Kettle"), Some(T0 + 4 * HOUR));
    assert_eq!(
        r.inbox_count(InboxView::Mentions).unwrap(),
        1,
        "the mentions are indexed on opening"
    );
}
