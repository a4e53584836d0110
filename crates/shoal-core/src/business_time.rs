//! Business time: the minutes during which the team works, in its time zone,
//! on its working days, except holidays. Response targets count only these
//! minutes, so a mail on Friday evening is due on Monday, not on Saturday.
//!
//! Each working day's window is the instants between its opening and closing
//! wall-clock times in the team's zone, so a day on which the clocks change
//! inside the window is an hour shorter or longer, as it is for the people
//! working it. The tz database is compiled in (see the workspace manifest), so
//! every replica and the relay compute the same instants.

use crate::{BusinessHours, CoreError, Result, Timestamp};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use std::collections::BTreeSet;

/// How far ahead the clock looks for working time before it gives up (a
/// calendar with no working day at all has no due times).
const HORIZON_DAYS: u32 = 5 * 366;

const MINUTE_MS: i64 = 60_000;

/// A team's working time, ready for arithmetic.
#[derive(Clone, Debug)]
pub struct Calendar {
    tz: TimeZone,
    /// Working weekdays, Monday = 1.
    days: [bool; 8],
    start_minute: u16,
    end_minute: u16,
    holidays: BTreeSet<Date>,
}

impl Calendar {
    /// The calendar of `hours`; an unknown time zone or impossible hours are
    /// refused with the reason.
    pub fn new(hours: &BusinessHours) -> Result<Calendar> {
        hours.validate()?;
        let tz = TimeZone::get(&hours.time_zone).map_err(|_| CoreError::InvalidValue {
            field: "time zone",
            value: hours.time_zone.clone(),
        })?;
        let mut days = [false; 8];
        for d in &hours.days {
            days[*d as usize] = true;
        }
        let holidays = hours
            .holidays
            .keys()
            .filter_map(|d| d.parse::<Date>().ok())
            .collect();
        Ok(Calendar {
            tz,
            days,
            start_minute: hours.start_minute,
            end_minute: hours.end_minute,
            holidays,
        })
    }

    /// The calendar of the team's hours, or of the defaults (Monday to Friday,
    /// 9:00–17:00 UTC) when they are unusable.
    pub fn or_default(hours: &BusinessHours) -> Calendar {
        Calendar::new(hours).unwrap_or_else(|_| {
            Calendar::new(&BusinessHours::default()).expect("the default hours are valid")
        })
    }

    /// The local date of `at` in the team's zone.
    fn date_of(&self, at: Timestamp) -> Date {
        jiff::Timestamp::from_millisecond(at.as_millis())
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned_datetime(self.tz.clone())
            .date()
    }

    /// The instant of wall-clock `minute` (0–1440) on `date` in the team's
    /// zone. Times that do not exist (skipped by a change of the clocks) map
    /// forward, as a clock on the wall shows them.
    fn instant(&self, date: Date, minute: u16) -> i64 {
        let (date, minute) = if minute >= 1440 {
            (date.tomorrow().unwrap_or(date), 0)
        } else {
            (date, minute)
        };
        let dt = date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
        self.tz
            .to_timestamp(dt)
            .map(|t| t.as_millisecond())
            .unwrap_or(i64::MAX)
    }

    /// Whether `date` is a working day (a working weekday, not a holiday).
    pub fn is_working_day(&self, date: Date) -> bool {
        self.days[date.weekday().to_monday_one_offset() as usize] && !self.holidays.contains(&date)
    }

    /// The working window of `date` as instants (ms), if it is a working day.
    fn window(&self, date: Date) -> Option<(i64, i64)> {
        self.is_working_day(date).then(|| {
            (
                self.instant(date, self.start_minute),
                self.instant(date, self.end_minute),
            )
        })
    }

    /// The dates from `at`'s local date on, up to the horizon.
    fn dates_from(&self, at: Timestamp) -> impl Iterator<Item = Date> {
        let first = self.date_of(at);
        std::iter::successors(Some(first), |d| d.tomorrow().ok()).take(HORIZON_DAYS as usize)
    }

    /// `at` as a customer reads it, in the team's zone: "Monday 7 December,
    /// 10:00 (Europe/Berlin)".
    pub fn describe(&self, at: Timestamp) -> String {
        let zoned = jiff::Timestamp::from_millisecond(at.as_millis())
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned_datetime(self.tz.clone());
        let zone = self.tz.iana_name().unwrap_or("UTC");
        format!("{} ({zone})", zoned.strftime("%A %-d %B, %H:%M"))
    }

    /// The starts (Monday 00:00 in the team's zone) of the `n` weeks up to
    /// and including the one holding `at`, oldest first, each with its
    /// Monday as `YYYY-MM-DD`.
    pub fn week_starts(&self, at: Timestamp, n: u32) -> Vec<(String, Timestamp)> {
        let date = self.date_of(at);
        let back = i64::from(date.weekday().to_monday_zero_offset());
        let monday = date
            .checked_sub(jiff::Span::new().days(back))
            .unwrap_or(date);
        (0..i64::from(n))
            .rev()
            .filter_map(|k| monday.checked_sub(jiff::Span::new().days(7 * k)).ok())
            .map(|d| (d.to_string(), Timestamp(self.instant(d, 0))))
            .collect()
    }

    /// The start of the week after the one starting at `start`.
    pub fn week_starts_after(&self, start: Timestamp) -> Timestamp {
        let date = self.date_of(start);
        let next = date.checked_add(jiff::Span::new().days(7)).unwrap_or(date);
        Timestamp(self.instant(next, 0))
    }

    /// Whether the team works at `at`.
    pub fn is_open(&self, at: Timestamp) -> bool {
        self.window(self.date_of(at))
            .is_some_and(|(open, close)| open <= at.as_millis() && at.as_millis() < close)
    }

    /// The instant `minutes` business minutes after `start`: `start` itself
    /// counts from the next opening when it falls outside working hours.
    /// `None` when the calendar has too little working time within five
    /// years (no working day at all).
    pub fn add_minutes(&self, start: Timestamp, minutes: u32) -> Option<Timestamp> {
        let mut left = i64::from(minutes) * MINUTE_MS;
        for date in self.dates_from(start) {
            let Some((open, close)) = self.window(date) else {
                continue;
            };
            let from = open.max(start.as_millis());
            if from >= close {
                continue;
            }
            if left <= close - from {
                return Some(Timestamp(from + left));
            }
            left -= close - from;
        }
        None
    }

    /// The closing instant of the `n`th working day after the day of `start`
    /// (that day itself not counted): "after three business days" from a
    /// Friday is Wednesday's closing time. `None` when the calendar has no
    /// such day within five years.
    pub fn close_of_working_days_after(&self, start: Timestamp, n: u32) -> Option<Timestamp> {
        self.dates_from(start)
            .skip(1)
            .filter(|d| self.is_working_day(*d))
            .nth(n.checked_sub(1)? as usize)
            .and_then(|d| self.window(d))
            .map(|(_, close)| Timestamp(close))
    }

    /// Business milliseconds between `from` and `to` (zero when `to` is not
    /// after `from`).
    pub fn business_ms_between(&self, from: Timestamp, to: Timestamp) -> i64 {
        if to <= from {
            return 0;
        }
        let mut total = 0;
        for date in self.dates_from(from) {
            let Some((open, close)) = self.window(date) else {
                if self.instant(date, 0) >= to.as_millis() {
                    break;
                }
                continue;
            };
            if open >= to.as_millis() {
                break;
            }
            let a = open.max(from.as_millis());
            let b = close.min(to.as_millis());
            total += (b - a).max(0);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn hours(tz: &str) -> BusinessHours {
        BusinessHours {
            time_zone: tz.into(),
            ..BusinessHours::default()
        }
    }

    /// The instant of a wall-clock time in `tz`.
    fn at(tz: &str, y: i16, mo: i8, d: i8, h: i8, mi: i8) -> Timestamp {
        let t = jiff::civil::date(y, mo, d)
            .at(h, mi, 0, 0)
            .to_zoned_datetime(TimeZone::get(tz).unwrap())
            .unwrap();
        Timestamp(t.timestamp().as_millisecond())
    }

    #[test]
    fn within_the_day() {
        let cal = Calendar::new(&hours("Europe/Berlin")).unwrap();
        // Tuesday 1 December 2026, 10:00 + 2 h = 12:00.
        let start = at("Europe/Berlin", 2026, 12, 1, 10, 0);
        assert_eq!(
            cal.add_minutes(start, 120),
            Some(at("Europe/Berlin", 2026, 12, 1, 12, 0))
        );
    }

    #[test]
    fn friday_evening_is_due_on_monday() {
        let cal = Calendar::new(&hours("America/New_York")).unwrap();
        // Friday 4 December 2026 16:00 + 2 h: one hour Friday, one Monday.
        let start = at("America/New_York", 2026, 12, 4, 16, 0);
        assert_eq!(
            cal.add_minutes(start, 120),
            Some(at("America/New_York", 2026, 12, 7, 10, 0))
        );
        // Mail on Saturday counts from Monday's opening.
        let saturday = at("America/New_York", 2026, 12, 5, 11, 0);
        assert_eq!(
            cal.add_minutes(saturday, 60),
            Some(at("America/New_York", 2026, 12, 7, 10, 0))
        );
        assert!(!cal.is_open(saturday));
    }

    #[test]
    fn holidays_are_skipped() {
        let mut h = hours("Europe/Berlin");
        h.holidays = BTreeMap::from([
            ("2026-12-24".to_owned(), "Christmas Eve".to_owned()),
            ("2026-12-25".to_owned(), "Christmas".to_owned()),
        ]);
        let cal = Calendar::new(&h).unwrap();
        // Wednesday 23 December 16:00 + 4 h: 1 h on the 23rd, then Monday the 28th.
        let start = at("Europe/Berlin", 2026, 12, 23, 16, 0);
        assert_eq!(
            cal.add_minutes(start, 240),
            Some(at("Europe/Berlin", 2026, 12, 28, 12, 0))
        );
    }

    #[test]
    fn a_night_change_of_the_clocks_keeps_wall_clock_hours() {
        let cal = Calendar::new(&hours("Europe/Berlin")).unwrap();
        // Clocks go forward on Sunday 29 March 2026. Friday 16:00 + 2 h is
        // Monday 10:00 local, though only 65 real hours passed, not 66.
        let start = at("Europe/Berlin", 2026, 3, 27, 16, 0);
        let due = cal.add_minutes(start, 120).unwrap();
        assert_eq!(due, at("Europe/Berlin", 2026, 3, 30, 10, 0));
        assert_eq!(due.as_millis() - start.as_millis(), 65 * 3_600_000);
    }

    #[test]
    fn a_change_of_the_clocks_inside_the_window_changes_its_length() {
        // A team working 0:00–6:00 on every day: on 29 March 2026 in Berlin
        // 2:00 becomes 3:00, so that day holds five hours, not six.
        let h = BusinessHours {
            time_zone: "Europe/Berlin".into(),
            days: vec![1, 2, 3, 4, 5, 6, 7],
            start_minute: 0,
            end_minute: 360,
            holidays: BTreeMap::new(),
        };
        let cal = Calendar::new(&h).unwrap();
        let day = at("Europe/Berlin", 2026, 3, 29, 0, 0);
        let next = at("Europe/Berlin", 2026, 3, 30, 0, 0);
        assert_eq!(cal.business_ms_between(day, next), 5 * 3_600_000);
        assert_eq!(
            cal.add_minutes(day, 300),
            Some(at("Europe/Berlin", 2026, 3, 29, 6, 0))
        );
    }

    #[test]
    fn round_the_clock_teams_count_every_minute() {
        let h = BusinessHours {
            time_zone: "UTC".into(),
            days: vec![1, 2, 3, 4, 5, 6, 7],
            start_minute: 0,
            end_minute: 1440,
            holidays: BTreeMap::new(),
        };
        let cal = Calendar::new(&h).unwrap();
        let start = Timestamp(1_790_000_000_000);
        assert_eq!(
            cal.add_minutes(start, 3 * 24 * 60),
            Some(Timestamp(start.as_millis() + 3 * 86_400_000))
        );
    }

    #[test]
    fn instants_read_in_the_teams_zone() {
        let cal = Calendar::new(&hours("Europe/Berlin")).unwrap();
        let at = at("Europe/Berlin", 2026, 12, 7, 10, 0);
        assert_eq!(cal.describe(at), "Monday 7 December, 10:00 (Europe/Berlin)");
    }

    #[test]
    fn no_working_day_means_no_due_time() {
        let mut h = hours("UTC");
        h.days.clear();
        // Refused as hours, and without working time nothing is ever due.
        assert!(Calendar::new(&h).is_err());
    }

    #[test]
    fn bad_zones_and_hours_are_refused() {
        assert!(Calendar::new(&hours("Mars/Olympus")).is_err());
        let mut h = hours("UTC");
        h.start_minute = 17 * 60;
        h.end_minute = 9 * 60;
        assert!(Calendar::new(&h).is_err());
        let mut h = hours("UTC");
        h.holidays.insert("2026-02-30".into(), String::new());
        assert!(Calendar::new(&h).is_err());
    }

    const ZONES: [&str; 6] = [
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Kolkata",
        "America/St_Johns",
    ];

    fn any_hours() -> impl Strategy<Value = BusinessHours> {
        (
            0..ZONES.len(),
            prop::collection::btree_set(1u8..=7, 1..=7),
            0u16..1380,
            30u16..1440,
            prop::collection::btree_set(0u32..800, 0..20),
        )
            .prop_map(|(z, days, start, len, holidays)| {
                let start_minute = start.min(1410);
                let end_minute = (start_minute + len).min(1440);
                BusinessHours {
                    time_zone: ZONES[z].into(),
                    days: days.into_iter().collect(),
                    start_minute,
                    end_minute: end_minute.max(start_minute + 1),
                    holidays: holidays
                        .into_iter()
                        .map(|n| {
                            let d = jiff::civil::date(2026, 1, 1)
                                .checked_add(jiff::Span::new().days(n as i64))
                                .unwrap();
                            (d.to_string(), String::new())
                        })
                        .collect(),
                }
            })
    }

    proptest! {
        /// Adding n business minutes lands exactly n business minutes later,
        /// inside working time (or at a window's end), and never before the start.
        #[test]
        fn adding_and_measuring_agree(
            h in any_hours(),
            start in 1_767_225_600_000i64..1_830_297_600_000,
            minutes in 0u32..20_000,
        ) {
            let cal = Calendar::new(&h).unwrap();
            let start = Timestamp(start);
            if let Some(due) = cal.add_minutes(start, minutes) {
                prop_assert!(due >= start);
                prop_assert_eq!(
                    cal.business_ms_between(start, due),
                    i64::from(minutes) * MINUTE_MS
                );
                if minutes > 0 {
                    // The last business minute before `due` is working time.
                    prop_assert!(cal.is_open(Timestamp(due.as_millis() - 1)));
                }
            }
        }

        /// "After n working days" is the close of a working day, later than
        /// the start, with exactly n working days from the day after the
        /// start's to it, both ends counted.
        #[test]
        fn working_days_after_counts_working_days(
            h in any_hours(),
            start in 1_767_225_600_000i64..1_830_297_600_000,
            n in 1u32..15,
        ) {
            let cal = Calendar::new(&h).unwrap();
            let start = Timestamp(start);
            let close = cal.close_of_working_days_after(start, n).unwrap();
            prop_assert!(close > start);
            prop_assert!(cal.is_open(Timestamp(close.as_millis() - 1)));
            let last = cal.date_of(Timestamp(close.as_millis() - 1));
            let counted = std::iter::successors(cal.date_of(start).tomorrow().ok(), |d| {
                d.tomorrow().ok()
            })
            .take_while(|d| *d <= last)
            .filter(|d| cal.is_working_day(*d))
            .count();
            prop_assert_eq!(counted, n as usize);
        }

        /// More minutes never come due earlier.
        #[test]
        fn adding_is_monotonic(
            h in any_hours(),
            start in 1_767_225_600_000i64..1_830_297_600_000,
            a in 0u32..10_000,
            b in 0u32..10_000,
        ) {
            let cal = Calendar::new(&h).unwrap();
            let (lo, hi) = (a.min(b), a.max(b));
            let start = Timestamp(start);
            if let (Some(x), Some(y)) = (cal.add_minutes(start, lo), cal.add_minutes(start, hi)) {
                prop_assert!(x <= y);
            }
        }

        /// Business time between two instants is additive and never more than
        /// the real time between them.
        #[test]
        fn measuring_is_additive(
            h in any_hours(),
            a in 1_767_225_600_000i64..1_830_297_600_000,
            d1 in 0i64..(40 * 86_400_000),
            d2 in 0i64..(40 * 86_400_000),
        ) {
            let cal = Calendar::new(&h).unwrap();
            let (a, b, c) = (Timestamp(a), Timestamp(a + d1), Timestamp(a + d1 + d2));
            let ab = cal.business_ms_between(a, b);
            let bc = cal.business_ms_between(b, c);
            prop_assert_eq!(ab + bc, cal.business_ms_between(a, c));
            prop_assert!(ab <= d1);
        }
    }
}
