//! Parsing the times people type for `--until`.
//!
//! "Now" and the time zone come in as an argument so tests are deterministic;
//! the CLI passes `chrono::Local::now()`.

use chrono::{
    DateTime, Datelike, Days, MappedLocalTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta,
    TimeZone, Weekday,
};
use std::fmt;

/// Hour of day meant by a date without a time ("tomorrow", "monday", "2026-12-01").
const DEFAULT_HOUR: u32 = 9;

/// A time that matches none of the accepted formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UntilError {
    input: String,
}

impl fmt::Display for UntilError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot read `{}` as a time; use one of:\n{FORMATS}",
            self.input
        )
    }
}

impl std::error::Error for UntilError {}

/// The accepted formats, for error messages.
pub const FORMATS: &str = concat!(
    "  2026-12-01T09:00:00Z   RFC 3339, with a time zone\n",
    "  2026-12-01             that day at 09:00 local time\n",
    "  2026-12-01 14:30       that day and time, local\n",
    "  30m, 2h, 3d, 1w        from now (a leading + is fine)\n",
    "  tomorrow               tomorrow at 09:00 (or `tomorrow 14:30`)\n",
    "  monday … sunday        the next such day at 09:00 (or `friday 16:00`)",
);

/// Parses `input` as a moment relative to `now`, in `now`'s time zone.
///
/// Dates without a time mean 09:00; weekday names mean the next such day,
/// never today. A local time that does not exist (skipped by a DST change)
/// moves forward an hour; an ambiguous one takes the earlier instant.
pub fn parse_until<Tz: TimeZone>(
    input: &str,
    now: &DateTime<Tz>,
) -> Result<DateTime<Tz>, UntilError> {
    parse(input.trim(), now).ok_or_else(|| UntilError {
        input: input.to_owned(),
    })
}

fn parse<Tz: TimeZone>(s: &str, now: &DateTime<Tz>) -> Option<DateTime<Tz>> {
    let tz = now.timezone();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&tz));
    }
    if let Some(delta) = relative(s) {
        return now.clone().checked_add_signed(delta);
    }
    for format in ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, format) {
            return local(&tz, naive);
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return local(&tz, date.and_time(default_time()?));
    }
    day_and_time(s, now)
}

fn default_time() -> Option<NaiveTime> {
    NaiveTime::from_hms_opt(DEFAULT_HOUR, 0, 0)
}

/// `30m`, `+2h`, `3 days`, `1w`.
fn relative(s: &str) -> Option<TimeDelta> {
    let s = s.strip_prefix('+').unwrap_or(s);
    let digits = s.find(|c: char| !c.is_ascii_digit())?;
    if digits == 0 {
        return None;
    }
    let n: i64 = s[..digits].parse().ok()?;
    match s[digits..].trim().to_lowercase().as_str() {
        "m" | "min" | "mins" | "minute" | "minutes" => TimeDelta::try_minutes(n),
        "h" | "hr" | "hrs" | "hour" | "hours" => TimeDelta::try_hours(n),
        "d" | "day" | "days" => TimeDelta::try_days(n),
        "w" | "week" | "weeks" => TimeDelta::try_weeks(n),
        _ => None,
    }
}

/// `tomorrow` or a weekday name, optionally followed by `HH:MM`.
fn day_and_time<Tz: TimeZone>(s: &str, now: &DateTime<Tz>) -> Option<DateTime<Tz>> {
    let mut words = s.split_whitespace();
    let day = words.next()?.to_lowercase();
    let time = match words.next() {
        Some(t) => NaiveTime::parse_from_str(t, "%H:%M").ok()?,
        None => default_time()?,
    };
    if words.next().is_some() {
        return None;
    }
    let today = now.date_naive();
    let date = if day == "tomorrow" {
        today.succ_opt()?
    } else {
        let target: Weekday = day.parse().ok()?;
        let ahead =
            (7 + target.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
        // "monday" on a Monday means next week's: today is better said with a time.
        let ahead = if ahead == 0 { 7 } else { ahead };
        today.checked_add_days(Days::new(u64::from(ahead)))?
    };
    local(&now.timezone(), date.and_time(time))
}

fn local<Tz: TimeZone>(tz: &Tz, naive: NaiveDateTime) -> Option<DateTime<Tz>> {
    match tz.from_local_datetime(&naive) {
        MappedLocalTime::Single(t) => Some(t),
        MappedLocalTime::Ambiguous(earlier, _) => Some(earlier),
        MappedLocalTime::None => tz
            .from_local_datetime(&(naive + TimeDelta::hours(1)))
            .earliest(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, Utc};

    /// Wednesday 2026-05-06 15:30 at UTC+2.
    fn now() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-05-06T15:30:00+02:00").unwrap()
    }

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn until(s: &str) -> DateTime<FixedOffset> {
        parse_until(s, &now()).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn rfc3339_keeps_the_instant() {
        assert_eq!(
            until("2026-12-01T09:00:00Z"),
            at("2026-12-01T11:00:00+02:00")
        );
        assert_eq!(
            until(" 2026-12-01T09:00:00+01:00 "),
            at("2026-12-01T10:00:00+02:00")
        );
    }

    #[test]
    fn dates_and_local_times() {
        assert_eq!(until("2026-12-01"), at("2026-12-01T09:00:00+02:00"));
        assert_eq!(until("2026-12-01 14:30"), at("2026-12-01T14:30:00+02:00"));
        assert_eq!(until("2026-12-01T14:30"), at("2026-12-01T14:30:00+02:00"));
    }

    #[test]
    fn relative_durations() {
        assert_eq!(until("30m"), at("2026-05-06T16:00:00+02:00"));
        assert_eq!(until("+2h"), at("2026-05-06T17:30:00+02:00"));
        assert_eq!(until("3d"), at("2026-05-09T15:30:00+02:00"));
        assert_eq!(until("1w"), at("2026-05-13T15:30:00+02:00"));
        assert_eq!(until("2 hours"), at("2026-05-06T17:30:00+02:00"));
        assert_eq!(until("2H"), at("2026-05-06T17:30:00+02:00"));
    }

    #[test]
    fn tomorrow_and_weekdays() {
        assert_eq!(until("tomorrow"), at("2026-05-07T09:00:00+02:00"));
        assert_eq!(until("Tomorrow 14:00"), at("2026-05-07T14:00:00+02:00"));
        assert_eq!(until("thursday"), at("2026-05-07T09:00:00+02:00"));
        assert_eq!(until("monday"), at("2026-05-11T09:00:00+02:00"));
        assert_eq!(until("fri 16:00"), at("2026-05-08T16:00:00+02:00"));
        // Today's weekday means next week.
        assert_eq!(until("wednesday"), at("2026-05-13T09:00:00+02:00"));
        assert_eq!(until("SUNDAY"), at("2026-05-10T09:00:00+02:00"));
    }

    #[test]
    fn works_in_any_time_zone() {
        let now_utc = Utc.with_ymd_and_hms(2026, 5, 6, 23, 0, 0).unwrap();
        let t = parse_until("tomorrow", &now_utc).unwrap();
        assert_eq!(t, Utc.with_ymd_and_hms(2026, 5, 7, 9, 0, 0).unwrap());
    }

    #[test]
    fn nonsense_lists_the_formats() {
        for bad in [
            "",
            "soon",
            "2h30",
            "h",
            "-2h",
            "2026-13-01",
            "tomorrow 25:00",
            "monday at 9",
            "99999999999999999999m",
            "9999999999w",
        ] {
            let err = parse_until(bad, &now()).expect_err(bad);
            let msg = err.to_string();
            assert!(msg.contains(&format!("`{bad}`")), "{msg}");
            assert!(
                msg.contains("RFC 3339") && msg.contains("tomorrow"),
                "{msg}"
            );
        }
    }
}
