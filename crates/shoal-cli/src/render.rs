//! Human-readable output: tables, times, sizes.

use chrono::{Local, TimeZone};
use shoal_core::Timestamp;
use std::io::{self, Write};

/// Length of the ids shown to people; any unique prefix of 4+ characters
/// is accepted back.
pub const SHORT_ID: usize = 8;

/// A size as people read it: `1234` → `1.2 KB`.
pub fn bytes(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.1} KB", n as f64 / 1e3),
        _ => format!("{:.1} MB", n as f64 / 1e6),
    }
}

/// The first [`SHORT_ID`] characters of an id.
pub fn short_id(id: &str) -> &str {
    id.get(..SHORT_ID).unwrap_or(id)
}

/// `t` as local `YYYY-MM-DD HH:MM`.
pub fn datetime(t: Timestamp) -> String {
    match Local.timestamp_millis_opt(t.as_millis()).single() {
        Some(local) => local.format("%Y-%m-%d %H:%M").to_string(),
        None => format!("{} ms", t.as_millis()),
    }
}

/// `t` relative to `now` in compact form: `now`, `3m`, `2h`, `5d`, `4mo`,
/// `2y`; future times read `in 2h`.
pub fn age(t: Timestamp, now: Timestamp) -> String {
    let ms = now.as_millis().saturating_sub(t.as_millis());
    // Past spans round down ("2h" ago means at least two hours); future ones
    // round up to the second, so a snooze typed as `2h` reads "in 2h".
    let secs = if ms < 0 {
        ms.unsigned_abs().div_ceil(1000)
    } else {
        ms.unsigned_abs() / 1000
    };
    let span = compact_span(secs);
    match span {
        None => "now".to_owned(),
        Some(s) if ms < 0 => format!("in {s}"),
        Some(s) => s,
    }
}

/// Like [`age`], but reads as a phrase: `3m ago`, `in 2h`, `just now`.
pub fn ago(t: Timestamp, now: Timestamp) -> String {
    match age(t, now).as_str() {
        "now" => "just now".to_owned(),
        s if s.starts_with("in ") => s.to_owned(),
        s => format!("{s} ago"),
    }
}

/// A reply due time as the inbox shows it: `in 2h`, or `3h over` once past.
pub fn due(t: Timestamp, now: Timestamp) -> String {
    match age(t, now).as_str() {
        "now" => "due now".to_owned(),
        s if s.starts_with("in ") => s.to_owned(),
        s => format!("{s} over"),
    }
}

/// `datetime (ago)`.
pub fn when(t: Timestamp, now: Timestamp) -> String {
    format!("{} ({})", datetime(t), ago(t, now))
}

fn compact_span(secs: u64) -> Option<String> {
    const MIN: u64 = 60;
    const HOUR: u64 = 60 * MIN;
    const DAY: u64 = 24 * HOUR;
    Some(match secs {
        s if s < MIN => return None,
        s if s < HOUR => format!("{}m", s / MIN),
        s if s < DAY => format!("{}h", s / HOUR),
        s if s < 60 * DAY => format!("{}d", s / DAY),
        s if s < 365 * DAY => format!("{}mo", s / (30 * DAY)),
        s => format!("{}y", s / (365 * DAY)),
    })
}

/// `bytes` with a binary-ish unit people read easily (`1.2 MB`).
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Text on one line: runs of whitespace (newlines included) become one space
/// and other control characters go, so a cell or a header cannot break the
/// layout.
pub fn one_line(s: &str) -> String {
    s.split_whitespace()
        .map(|w| w.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A writer that replaces ASCII control bytes other than newline and tab
/// with `?`. Customer text reaches the terminal, and an e-mail must not be
/// able to send escape sequences to it. JSON output is unaffected: serde_json
/// escapes control characters, and UTF-8 multi-byte sequences never contain
/// ASCII bytes.
pub struct TerminalSafe<W: Write>(pub W);

fn unsafe_byte(b: u8) -> bool {
    (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f
}

impl<W: Write> Write for TerminalSafe<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !buf.iter().copied().any(unsafe_byte) {
            return self.0.write(buf);
        }
        let cleaned: Vec<u8> = buf
            .iter()
            .map(|&b| if unsafe_byte(b) { b'?' } else { b })
            .collect();
        self.0.write_all(&cleaned)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// At most `max` characters of `s` on one line, with `…` where it was cut.
pub fn truncate(s: &str, max: usize) -> String {
    let flat = one_line(s);
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The first non-empty line of `s`, cut to `max` characters.
pub fn first_line(s: &str, max: usize) -> String {
    let line = s.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
    let more = s.trim().lines().count() > 1;
    let mut text = truncate(line, max);
    if more && !text.ends_with('…') {
        text.push('…');
    }
    text
}

/// A plain text table: columns padded to their widest cell, two spaces
/// apart, no trailing spaces.
#[derive(Debug, Default)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with a header row.
    pub fn new(header: &[&str]) -> Self {
        Self {
            rows: vec![header.iter().map(|h| (*h).to_owned()).collect()],
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Writes the table.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|cell| cell.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &self.rows {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                if c > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                let pad = widths[c].saturating_sub(cell.chars().count());
                line.extend(std::iter::repeat_n(' ', pad));
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn ages_are_compact() {
        let now = Timestamp(1_000 * 24 * 60 * MIN);
        let before = |ms: i64| Timestamp(now.as_millis() - ms);
        assert_eq!(age(before(10_000), now), "now");
        assert_eq!(age(before(3 * MIN), now), "3m");
        assert_eq!(age(before(125 * MIN), now), "2h");
        assert_eq!(age(before(5 * 24 * 60 * MIN), now), "5d");
        assert_eq!(age(before(90 * 24 * 60 * MIN), now), "3mo");
        assert_eq!(age(before(800 * 24 * 60 * MIN), now), "2y");
        assert_eq!(age(before(-2 * 60 * MIN), now), "in 2h");
        assert_eq!(ago(before(3 * MIN), now), "3m ago");
        assert_eq!(ago(now, now), "just now");
    }

    #[test]
    fn text_helpers() {
        assert_eq!(short_id("0123456789abcdef"), "01234567");
        assert_eq!(short_id("abc"), "abc");
        assert_eq!(truncate("hello\nworld", 20), "hello world");
        assert_eq!(truncate("hello world", 6), "hello…");
        assert_eq!(first_line("\n  first\nsecond", 20), "first…");
        assert_eq!(size(999), "999 B");
        assert_eq!(size(1_234_567), "1.2 MB");
    }

    #[test]
    fn control_characters_do_not_reach_the_terminal() {
        assert_eq!(one_line("a\x1b[31mred\r\nb"), "a[31mred b");
        let mut out = TerminalSafe(Vec::new());
        write!(out, "ok\tZoë\n\x1b[2Jgone\x07").unwrap();
        assert_eq!(String::from_utf8(out.0).unwrap(), "ok\tZoë\n?[2Jgone?");
    }

    #[test]
    fn tables_align() {
        let mut t = Table::new(&["ID", "NAME", "X"]);
        t.row(vec!["1".into(), "Zoë".into(), "".into()]);
        t.row(vec!["22".into(), "Bo".into(), "y".into()]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ID  NAME  X\n1   Zoë\n22  Bo    y\n"
        );
    }
}
