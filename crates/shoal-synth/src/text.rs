//! Template expansion and length-bounded text assembly.

use std::fmt::Write as _;

use rand::Rng;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::vocabulary as v;

/// Independent random streams derived from one seed. ChaCha's 64-bit stream
/// id lets every conversation get its own generator, so output never depends
/// on how far a consumer has iterated.
#[derive(Clone, Copy)]
pub(crate) enum Stream {
    Team,
    MessageCounts,
    Queries,
    Conversation(usize),
}

pub(crate) fn stream_rng(seed: u64, stream: Stream) -> ChaCha8Rng {
    let id = match stream {
        Stream::Team => 0,
        Stream::MessageCounts => 1,
        Stream::Queries => 2,
        Stream::Conversation(i) => 16 + i as u64,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(id);
    rng
}

/// A uniformly chosen element.
pub(crate) fn pick<T: Copy, R: Rng + ?Sized>(rng: &mut R, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// An integer in `lo..=hi` whose logarithm is roughly uniform: doubling bands
/// `[lo·2^k, lo·2^(k+1))` are equally likely (a final partial band in
/// proportion to its width), and values uniform within a band. Integer-only
/// so the result is identical on every platform (unlike `ln`/`exp`).
pub(crate) fn log_uniform<R: Rng + ?Sized>(rng: &mut R, lo: u64, hi: u64) -> u64 {
    const BAND: u64 = 1 << 10;
    debug_assert!(1 <= lo && lo <= hi);
    let mut full: u32 = 0;
    while full < 62 && lo <= hi.saturating_add(1) >> (full + 1) {
        full += 1;
    }
    let rest = lo << full;
    let partial = if rest <= hi {
        ((hi - rest + 1) * BAND / rest).max(1)
    } else {
        0
    };
    let band = rng.random_range(0..u64::from(full) * BAND + partial) / BAND;
    if band < u64::from(full) {
        let low = lo << band;
        rng.random_range(low..2 * low)
    } else {
        rng.random_range(rest..=hi)
    }
}

/// Values a template's placeholders are filled from, besides random picks.
pub(crate) struct Ctx<'a> {
    pub brand: &'a str,
    /// Customer first name (`{first}`) and full name (`{full}`).
    pub first: &'a str,
    pub full: &'a str,
    pub company: Option<&'a str>,
    /// First name of the agent writing or being addressed (`{agent}`).
    pub agent: &'a str,
    /// Handle of a colleague to `@mention` (`{mention}`).
    pub mention: Option<&'a str>,
}

impl Ctx<'_> {
    /// Whether `template` reads naturally with this context: a template about
    /// the customer's company needs a company, one with a mention a colleague.
    fn supports(&self, template: &str) -> bool {
        (self.company.is_some() || !template.contains("{company}"))
            && (self.mention.is_some() || !template.contains("{mention}"))
    }
}

/// Appends `template` to `out` with every `{placeholder}` filled.
pub(crate) fn expand<R: Rng + ?Sized>(out: &mut String, template: &str, ctx: &Ctx, rng: &mut R) {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').expect("unterminated placeholder");
        fill(out, &after[..close], ctx, rng);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
}

fn fill<R: Rng + ?Sized>(out: &mut String, key: &str, ctx: &Ctx, rng: &mut R) {
    let word = match key {
        "brand" => ctx.brand,
        "first" => ctx.first,
        "full" => ctx.full,
        "agent" => ctx.agent,
        "company" => ctx.company.unwrap_or("our company"),
        "mention" => {
            out.push('@');
            ctx.mention.unwrap_or(ctx.agent)
        }
        "feature" => pick(rng, v::FEATURES),
        "plan" => pick(rng, v::PLANS),
        "integration" => pick(rng, v::INTEGRATIONS),
        "browser" => pick(rng, v::BROWSERS),
        "device" => pick(rng, v::DEVICES),
        "os" => pick(rng, v::SYSTEMS),
        "error" => pick(rng, v::ERRORS),
        "file" => pick(rng, v::FILES),
        "idp" => pick(rng, v::IDENTITY_PROVIDERS),
        "carrier" => pick(rng, v::CARRIERS),
        "city" => pick(rng, v::CITIES),
        "endpoint" => pick(rng, v::ENDPOINTS),
        "limit" => pick(rng, v::RATE_LIMITS),
        "day" => pick(rng, v::WEEKDAYS),
        "month" => pick(rng, v::MONTHS),
        "year" => pick(rng, v::YEARS),
        _ => return fill_number(out, key, rng),
    };
    out.push_str(word);
}

fn fill_number<R: Rng + ?Sized>(out: &mut String, key: &str, rng: &mut R) {
    // Writing into a String cannot fail.
    let _ = match key {
        "amount" => {
            let cents = pick(rng, &[0, 0, 0, 99, 50, 49]);
            write!(out, "${}.{cents:02}", log_uniform(rng, 9, 2400))
        }
        "invoice" => write!(out, "INV-{}", rng.random_range(10_000..100_000)),
        "order" => write!(out, "#{}", rng.random_range(100_000..1_000_000)),
        "ticket" => write!(out, "ENG-{}", rng.random_range(1_000..10_000)),
        "n" => write!(out, "{}", rng.random_range(2..40)),
        "seats" => write!(out, "{}", log_uniform(rng, 3, 250)),
        "percent" => write!(out, "{}", pick(rng, &[10, 15, 20, 25, 30, 50])),
        "version" => write!(
            out,
            "{}.{}.{}",
            rng.random_range(3..7),
            rng.random_range(0..20),
            rng.random_range(0..10)
        ),
        "phone" => write!(out, "555-01{:02}", rng.random_range(0..100)),
        _ => unreachable!("unknown placeholder {{{key}}}"),
    };
}

/// Reusable buffers for composing one message after another without
/// reallocating, plus which templates the current message and conversation
/// already used, so sentences do not repeat.
#[derive(Default)]
pub(crate) struct Scratch {
    sentence: String,
    /// Per pool (keyed by its address): bitmasks of templates used in the
    /// current message and in the current conversation.
    uses: Vec<PoolUse>,
}

struct PoolUse {
    pool: usize,
    message: u64,
    conversation: u64,
}

impl Scratch {
    /// Forgets the templates of the previous conversation.
    pub fn start_conversation(&mut self) {
        self.uses.clear();
    }

    /// Forgets the templates of the previous message.
    pub fn start_message(&mut self) {
        for u in &mut self.uses {
            u.message = 0;
        }
    }

    /// A template from `pool` that suits `ctx`: preferably one not yet used
    /// in this conversation, else one not used in this message, else (only
    /// with `repeat`) any.
    fn choose<R: Rng + ?Sized>(
        &mut self,
        pool: &[&'static str],
        ctx: &Ctx,
        rng: &mut R,
        repeat: bool,
    ) -> Option<&'static str> {
        debug_assert!(pool.len() <= 64, "pool too large for the usage bitmask");
        let key = pool.as_ptr() as usize;
        let slot = match self.uses.iter().position(|u| u.pool == key) {
            Some(i) => i,
            None => {
                self.uses.push(PoolUse {
                    pool: key,
                    message: 0,
                    conversation: 0,
                });
                self.uses.len() - 1
            }
        };
        let use_ = &mut self.uses[slot];
        let start = rng.random_range(0..pool.len());
        let order = (0..pool.len()).map(|k| (start + k) % pool.len());
        let free = |i: usize, mask: u64| ctx.supports(pool[i]) && mask & (1 << i) == 0;
        let chosen = order
            .clone()
            .find(|&i| free(i, use_.message | use_.conversation))
            .or_else(|| order.clone().find(|&i| free(i, use_.message)))
            .or_else(|| order.clone().find(|&i| repeat && free(i, 0)))?;
        use_.message |= 1 << chosen;
        use_.conversation |= 1 << chosen;
        Some(pool[chosen])
    }

    /// Expands a template from `pool` and adds it to `body` as a sentence if
    /// the result stays within `max` bytes. Returns whether it was added.
    pub fn add<R: Rng + ?Sized>(
        &mut self,
        body: &mut Body,
        pool: &[&'static str],
        ctx: &Ctx,
        rng: &mut R,
        max: usize,
    ) -> bool {
        self.add_from(body, pool, ctx, rng, max, false)
    }

    /// Like [`Scratch::add`], repeating a template if the pool is used up;
    /// for the short fillers that pad a text to its minimum length.
    pub fn pad<R: Rng + ?Sized>(
        &mut self,
        body: &mut Body,
        pool: &[&'static str],
        ctx: &Ctx,
        rng: &mut R,
        max: usize,
    ) -> bool {
        self.add_from(body, pool, ctx, rng, max, true)
    }

    fn add_from<R: Rng + ?Sized>(
        &mut self,
        body: &mut Body,
        pool: &[&'static str],
        ctx: &Ctx,
        rng: &mut R,
        max: usize,
        repeat: bool,
    ) -> bool {
        let Some(template) = self.choose(pool, ctx, rng, repeat) else {
            return false;
        };
        self.sentence.clear();
        expand(&mut self.sentence, template, ctx, rng);
        body.sentence(&self.sentence, max, rng)
    }

    /// Adds a template from `pool` as a line of its own, for greetings.
    pub fn add_line<R: Rng + ?Sized>(
        &mut self,
        body: &mut Body,
        pool: &[&'static str],
        ctx: &Ctx,
        rng: &mut R,
    ) {
        if let Some(template) = self.choose(pool, ctx, rng, true) {
            self.sentence.clear();
            expand(&mut self.sentence, template, ctx, rng);
            body.line(&self.sentence);
        }
    }
}

/// Text being assembled from sentences, grouped into short paragraphs.
pub(crate) struct Body {
    pub text: String,
    in_para: u32,
    para_len: u32,
}

impl Body {
    pub fn with_capacity(capacity: usize) -> Self {
        Body {
            text: String::with_capacity(capacity),
            in_para: 0,
            para_len: 2,
        }
    }

    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Appends `s` as a line of its own followed by a blank line.
    pub fn line(&mut self, s: &str) {
        self.text.push_str(s);
        self.text.push_str("\n\n");
        self.in_para = 0;
    }

    /// Makes the next sentence start a new paragraph.
    pub fn paragraph(&mut self) {
        self.in_para = self.para_len;
    }

    /// Appends a sentence unless that would exceed `max` bytes.
    pub fn sentence<R: Rng + ?Sized>(&mut self, s: &str, max: usize, rng: &mut R) -> bool {
        let sep = if self.text.is_empty() || self.text.ends_with('\n') {
            ""
        } else if self.in_para >= self.para_len {
            "\n\n"
        } else {
            " "
        };
        if self.text.len() + sep.len() + s.len() > max {
            return false;
        }
        if sep != " " {
            self.in_para = 0;
            self.para_len = rng.random_range(1..=3);
        }
        self.text.push_str(sep);
        self.text.push_str(s);
        self.in_para += 1;
        true
    }
}

/// Appends a date like `Tue, 3 Mar 2026 at 14:05` (UTC), as mail clients
/// write it in a quote header.
pub(crate) fn write_mail_date(out: &mut String, ms: i64) {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = ms.div_euclid(86_400_000);
    let minutes = ms.rem_euclid(86_400_000) / 60_000;
    let (year, month, day) = civil_from_days(days);
    let _ = write!(
        out,
        "{}, {day} {} {year} at {:02}:{:02}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        minutes / 60,
        minutes % 60
    );
}

/// Gregorian (year, month, day) of a day count since 1970-01-01
/// (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Appends `text` as an email quote: every line prefixed with `> ` and wrapped
/// at 72 columns, stopping before the quote would exceed `budget` bytes.
/// Returns the number of lines written.
pub(crate) fn write_quote(out: &mut String, text: &str, budget: usize) -> usize {
    const WIDTH: usize = 72;
    let start = out.len();
    let mut lines = 0;
    for para in text.split('\n') {
        let mut rest = para;
        loop {
            let (line, next) = if rest.len() <= WIDTH {
                (rest, "")
            } else {
                let cut = rest[..=WIDTH].rfind(' ').unwrap_or(WIDTH);
                (&rest[..cut], rest[cut..].trim_start())
            };
            let prefix = if line.is_empty() { ">" } else { "> " };
            let newline = usize::from(lines > 0);
            if out.len() - start + newline + prefix.len() + line.len() > budget {
                return lines;
            }
            if lines > 0 {
                out.push('\n');
            }
            out.push_str(prefix);
            out.push_str(line);
            lines += 1;
            if next.is_empty() {
                break;
            }
            rest = next;
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_dates() {
        let mut s = String::new();
        write_mail_date(&mut s, 1_767_225_600_000);
        assert_eq!(s, "Thu, 1 Jan 2026 at 00:00");
        s.clear();
        write_mail_date(&mut s, 1_709_474_700_000);
        assert_eq!(s, "Sun, 3 Mar 2024 at 14:05");
    }

    #[test]
    fn log_uniform_stays_in_range() {
        let mut rng = stream_rng(1, Stream::Team);
        for (lo, hi) in [(1, 1), (1, 40), (3, 250), (180_000, 79_200_000)] {
            for _ in 0..500 {
                let x = log_uniform(&mut rng, lo, hi);
                assert!((lo..=hi).contains(&x), "{x} not in {lo}..={hi}");
            }
        }
    }

    #[test]
    fn quotes_wrap_and_respect_budget() {
        let text = format!(
            "Hi Ana,\n\n{}\n\nBest,\nDana",
            "word ".repeat(40).trim_end()
        );
        let mut out = String::new();
        let lines = write_quote(&mut out, text.as_str(), 1_000);
        assert!(lines > 4);
        assert!(out.lines().all(|l| l.starts_with('>') && l.len() <= 74));
        let mut short = String::new();
        write_quote(&mut short, text.as_str(), 30);
        assert!(short.len() <= 30);
    }
}
