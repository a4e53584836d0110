//! Bodies of customer messages, agent replies, internal notes and customer
//! profile notes, each kept within realistic length bounds.

use std::fmt::Write as _;

use rand::Rng;

use crate::text::{log_uniform, pick, write_mail_date, write_quote, Body, Ctx, Scratch};
use crate::vocabulary::{self as v, Topic};

/// Byte bounds (inclusive) of each kind of text; all text is ASCII, so these
/// are character counts too.
pub(crate) const CUSTOMER_LEN: (usize, usize) = (150, 1_500);
pub(crate) const REPLY_LEN: (usize, usize) = (250, 1_200);
pub(crate) const NOTE_LEN: (usize, usize) = (40, 300);
pub(crate) const PROFILE_LEN: (usize, usize) = (100, 800);

/// A previous reply the customer's mail client quotes below the new message.
pub(crate) struct Quote<'a> {
    pub body: &'a str,
    pub author: &'a str,
    pub email: &'a str,
    pub at_ms: i64,
}

/// What a customer message is about and how it is sent.
pub(crate) struct CustomerMessage<'a> {
    pub topic: &'static Topic,
    /// A second topic the opening message also touches on.
    pub aside: Option<&'static Topic>,
    /// Whether this opens the conversation.
    pub opening: bool,
    pub channel: &'static str,
    pub quote: Option<Quote<'a>>,
}

pub(crate) fn customer_message<R: Rng + ?Sized>(
    rng: &mut R,
    scratch: &mut Scratch,
    ctx: &Ctx,
    m: &CustomerMessage,
) -> String {
    let (min, max) = CUSTOMER_LEN;
    scratch.start_message();
    let target = if m.opening {
        log_uniform(rng, 200, 1_150)
    } else {
        log_uniform(rng, 150, 700)
    } as usize;
    let voicemail = m.opening && m.channel == "phone";
    let chat = m.channel == "chat";

    // The sign-off is decided first so the body knows how much room is left.
    let mut signoff = String::new();
    if voicemail {
        let _ = write!(
            signoff,
            "\n\nYou can call me back on 555-01{:02}. Thanks!",
            rng.random_range(0..100)
        );
    } else if !chat {
        let _ = write!(signoff, "\n\n{},\n", pick(rng, v::CUSTOMER_SIGNOFFS));
        let style = rng.random_range(0..20);
        signoff.push_str(if style < 10 { ctx.first } else { ctx.full });
        if let (true, Some(company)) = (style >= 17, ctx.company) {
            let _ = write!(signoff, "\n{}, {company}", pick(rng, v::CUSTOMER_ROLES));
        }
    }
    let body_max = max - signoff.len();

    let mut body = Body::with_capacity(target + signoff.len() + 64);
    if voicemail {
        body.line("Voicemail transcript:");
        scratch.add(&mut body, v::VOICEMAIL_INTROS, ctx, rng, body_max);
    } else if chat {
        if rng.random_bool(0.4) {
            scratch.add_line(&mut body, v::CHAT_GREETINGS, ctx, rng);
        }
    } else if m.opening {
        scratch.add_line(&mut body, v::CUSTOMER_GREETINGS, ctx, rng);
    } else {
        scratch.add_line(&mut body, v::CUSTOMER_FOLLOWUP_GREETINGS, ctx, rng);
    }

    if m.opening {
        if rng.random_bool(0.4) {
            scratch.add(&mut body, v::CUSTOMER_OPENERS, ctx, rng, body_max);
        }
        for _ in 0..rng.random_range(1..=2) {
            scratch.add(&mut body, m.topic.asks, ctx, rng, body_max);
        }
        if let Some(aside) = m.aside {
            body.paragraph();
            scratch.add(&mut body, aside.asks, ctx, rng, body_max);
        }
    } else {
        scratch.add(&mut body, v::CUSTOMER_FOLLOWUPS, ctx, rng, body_max);
        if rng.random_bool(0.5) {
            scratch.add(&mut body, m.topic.asks, ctx, rng, body_max);
        }
    }
    for _ in 0..16 {
        if body.len() + signoff.len() >= target {
            break;
        }
        let pool = if rng.random_bool(0.35) {
            m.topic.asks
        } else {
            v::CUSTOMER_CONTEXT
        };
        scratch.add(&mut body, pool, ctx, rng, body_max);
    }
    if !chat && !voicemail && rng.random_bool(0.7) {
        body.paragraph();
        scratch.add(&mut body, v::CUSTOMER_CLOSERS, ctx, rng, body_max);
    }
    while body.len() + signoff.len() < min {
        scratch.pad(&mut body, v::CUSTOMER_SHORT, ctx, rng, body_max);
    }
    let mut text = body.text;
    text.push_str(&signoff);

    if let Some(q) = &m.quote {
        let mut header = String::from("\n\nOn ");
        write_mail_date(&mut header, q.at_ms);
        let _ = writeln!(header, ", {} <{}> wrote:", q.author, q.email);
        if let Some(budget) = max.checked_sub(text.len() + header.len()) {
            let mark = text.len();
            text.push_str(&header);
            if write_quote(&mut text, q.body, budget) == 0 {
                text.truncate(mark);
            }
        }
    }
    text
}

/// An agent's reply; `first_reply` picks an opener suited to the first answer
/// in a conversation.
pub(crate) fn reply_message<R: Rng + ?Sized>(
    rng: &mut R,
    scratch: &mut Scratch,
    ctx: &Ctx,
    topic: &Topic,
    first_reply: bool,
    team_name: &str,
) -> String {
    let (min, max) = REPLY_LEN;
    scratch.start_message();
    let target = log_uniform(rng, 300, 1_100) as usize;
    let mut signoff = format!("\n\n{},\n{}", pick(rng, v::REPLY_SIGNOFFS), ctx.agent);
    if rng.random_bool(0.5) {
        signoff.push('\n');
        signoff.push_str(team_name);
    }
    let body_max = max - signoff.len();

    let mut body = Body::with_capacity(target + signoff.len() + 64);
    scratch.add_line(&mut body, v::REPLY_GREETINGS, ctx, rng);
    let openers = if first_reply {
        v::REPLY_OPENERS
    } else {
        v::REPLY_FOLLOW_OPENERS
    };
    scratch.add(&mut body, openers, ctx, rng, body_max);
    body.paragraph();
    for _ in 0..rng.random_range(1..=3) {
        scratch.add(&mut body, topic.answers, ctx, rng, body_max);
    }
    for _ in 0..16 {
        if body.len() + signoff.len() >= target {
            break;
        }
        let pool = if rng.random_bool(0.55) {
            topic.answers
        } else {
            v::REPLY_GENERIC
        };
        scratch.add(&mut body, pool, ctx, rng, body_max);
    }
    body.paragraph();
    scratch.add(&mut body, v::REPLY_CLOSERS, ctx, rng, body_max);
    while body.len() + signoff.len() < min {
        scratch.pad(&mut body, v::REPLY_SHORT, ctx, rng, body_max);
    }
    let mut text = body.text;
    text.push_str(&signoff);
    text
}

/// An internal note; when `ctx.mention` is set it opens by `@mentioning` that
/// colleague.
pub(crate) fn note_message<R: Rng + ?Sized>(
    rng: &mut R,
    scratch: &mut Scratch,
    ctx: &Ctx,
    topic: &Topic,
) -> String {
    let (min, max) = NOTE_LEN;
    scratch.start_message();
    let mut body = Body::with_capacity(160);
    if ctx.mention.is_some() {
        scratch.add(&mut body, v::MENTION_NOTES, ctx, rng, max);
    }
    let pool = if rng.random_bool(0.7) {
        topic.notes
    } else {
        v::GENERIC_NOTES
    };
    scratch.add(&mut body, pool, ctx, rng, max);
    if body.len() < 120 && rng.random_bool(0.3) {
        scratch.add(&mut body, v::GENERIC_NOTES, ctx, rng, max);
    }
    while body.len() < min {
        scratch.pad(&mut body, v::NOTE_SHORT, ctx, rng, max);
    }
    body.text
}

/// The free-form notes a team keeps on a customer's profile.
pub(crate) fn profile_notes<R: Rng + ?Sized>(
    rng: &mut R,
    scratch: &mut Scratch,
    ctx: &Ctx,
    tier: Option<&str>,
) -> String {
    let (min, max) = PROFILE_LEN;
    scratch.start_message();
    let target = log_uniform(rng, 110, 700) as usize;
    let mut body = Body::with_capacity(target + 64);
    let opening = match tier {
        Some("enterprise") => v::PROFILE_ENTERPRISE,
        Some("pro") => v::PROFILE_PRO,
        Some(_) => v::PROFILE_FREE,
        None => v::PROFILE_NO_TIER,
    };
    scratch.add(&mut body, opening, ctx, rng, max);
    for _ in 0..16 {
        if body.len() >= target {
            break;
        }
        scratch.add(&mut body, v::PROFILE, ctx, rng, max);
    }
    while body.len() < min {
        scratch.pad(&mut body, v::PROFILE_SHORT, ctx, rng, max);
    }
    body.text
}
