use std::collections::HashSet;

use proptest::prelude::*;

use crate::conversation::entry_counts;
use crate::message::{CUSTOMER_LEN, NOTE_LEN, PROFILE_LEN, REPLY_LEN};
use crate::queries::tokens;
use crate::text::{expand, stream_rng, Ctx, Stream};
use crate::vocabulary as v;
use crate::*;

fn small() -> SynthConfig {
    SynthConfig::benchmark().scaled(0.002)
}

fn generate(cfg: &SynthConfig) -> (SynthTeam, Vec<SynthConversation>) {
    (team(cfg), conversations(cfg).collect())
}

#[test]
fn scaled_keeps_seed_and_minimums() {
    let cfg = small();
    assert_eq!(
        (
            cfg.seed,
            cfg.conversations,
            cfg.messages,
            cfg.customers,
            cfg.agents
        ),
        (42, 100, 1_000, 20, 8)
    );
    let tiny = SynthConfig::benchmark().scaled(0.0);
    assert_eq!(
        (tiny.conversations, tiny.messages, tiny.customers),
        (1, 1, 1)
    );
    let odd = SynthConfig {
        messages: 3,
        ..SynthConfig::benchmark()
    }
    .scaled(0.5);
    assert_eq!(odd.messages, odd.conversations);
}

#[test]
fn same_seed_same_output_different_seed_different_output() {
    let cfg = small();
    assert_eq!(generate(&cfg), generate(&cfg));
    assert_eq!(search_queries(&cfg, 30), search_queries(&cfg, 30));
    let other = SynthConfig { seed: 43, ..cfg };
    let (a, b) = (generate(&cfg), generate(&other));
    assert_ne!(a.0, b.0);
    assert_ne!(a.1, b.1);
}

#[test]
fn skipping_ahead_yields_the_same_conversations() {
    let cfg = small();
    let all: Vec<_> = conversations(&cfg).collect();
    let mut stream = conversations(&cfg);
    assert_eq!(stream.len(), cfg.conversations);
    assert_eq!(stream.nth(37).as_ref(), Some(&all[37]));
    assert_eq!(stream.next().as_ref(), Some(&all[38]));
    assert_eq!(stream.nth(cfg.conversations), None);
}

#[test]
fn exact_counts() {
    let configs = [
        small(),
        SynthConfig::demo(1_780_000_000_000),
        SynthConfig {
            conversations: 7,
            messages: 7,
            ..small()
        },
        SynthConfig {
            conversations: 3,
            messages: 250,
            ..small()
        },
        SynthConfig {
            agents: 0,
            ..small().scaled(0.2)
        },
    ];
    for cfg in configs {
        let (team, convs) = generate(&cfg);
        assert_eq!(convs.len(), cfg.conversations);
        let total: usize = convs.iter().map(|c| c.entries.len()).sum();
        assert_eq!(total, cfg.messages, "{cfg:?}");
        assert_eq!(team.customers.len(), cfg.customers);
        assert_eq!(team.agents.len(), cfg.agents);
    }
}

proptest! {
    #[test]
    fn entry_counts_sum_exactly(seed: u64, n in 1usize..400, extra in 0usize..8_000) {
        let counts = entry_counts(seed, n, n + extra);
        prop_assert_eq!(counts.len(), n);
        prop_assert_eq!(counts.iter().sum::<usize>(), n + extra);
        prop_assert!(counts.iter().all(|&c| c >= 1));
    }
}

#[test]
fn entry_counts_vary_and_stay_bounded() {
    let counts = entry_counts(42, 5_000, 50_000);
    assert_eq!(counts.iter().min(), Some(&1));
    assert!(*counts.iter().max().unwrap() <= 40);
    assert!(counts.iter().filter(|&&c| c <= 3).count() > 500);
    assert!(counts.iter().filter(|&&c| c >= 25).count() > 50);
}

#[test]
fn conversation_structure() {
    let cfg = small();
    let (team, convs) = generate(&cfg);
    let end_ms = cfg.start_ms + i64::from(cfg.span_days) * DAY_MS;
    for c in &convs {
        assert_eq!(c.entries[0].kind, SynthEntryKind::Customer);
        assert!(c.entries.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
        assert!(c
            .entries
            .iter()
            .all(|e| (cfg.start_ms..=end_ms).contains(&e.at_ms)));
        assert!(c.customer < team.customers.len());
        assert!(c.assignee.is_none_or(|a| a < team.agents.len()));
        for e in &c.entries {
            match e.kind {
                SynthEntryKind::Customer => assert_eq!(e.agent, None),
                _ => assert!(e.agent.is_some_and(|a| a < team.agents.len())),
            }
        }
        assert!(["email", "chat", "phone"].contains(&c.channel));
        assert!(["open", "pending", "snoozed", "closed"].contains(&c.status));
        assert!(["low", "normal", "high", "urgent"].contains(&c.priority));
        let last = c.entries.last().unwrap().at_ms;
        assert_eq!(c.snooze_until_ms.is_some(), c.status == "snoozed");
        assert!(c.snooze_until_ms.is_none_or(|t| t > last));
        assert!(c.tags.len() <= 3);
        assert_eq!(c.tags.iter().collect::<HashSet<_>>().len(), c.tags.len());
        assert!(c.tags.iter().all(|t| v::TAGS.contains(&t.as_str())));
        assert!(!c.subject.is_empty());
    }
}

#[test]
fn realistic_mix() {
    let cfg = small().scaled(3.0);
    let (team, convs) = generate(&cfg);
    let entries: Vec<&SynthEntry> = convs.iter().flat_map(|c| &c.entries).collect();
    let share = |n: usize, of: usize| n as f64 / of as f64;
    let notes = entries
        .iter()
        .filter(|e| e.kind == SynthEntryKind::Note)
        .count();
    assert!(
        (0.06..0.14).contains(&share(notes, entries.len())),
        "{notes}"
    );
    let handles: Vec<String> = team
        .agents
        .iter()
        .map(|a| format!("@{}", a.handle()))
        .collect();
    assert!(entries
        .iter()
        .any(|e| e.kind == SynthEntryKind::Note && handles.iter().any(|h| e.body.contains(h))));
    let assigned = convs.iter().filter(|c| c.assignee.is_some()).count();
    assert!((0.6..0.8).contains(&share(assigned, convs.len())));
    let email = convs.iter().filter(|c| c.channel == "email").count();
    assert!(share(email, convs.len()) > 0.6);
    // Older threads are mostly closed.
    let half = convs.len() / 2;
    let closed = convs[..half]
        .iter()
        .filter(|c| c.status == "closed")
        .count();
    assert!(share(closed, half) > 0.85);
    assert!(convs
        .iter()
        .any(|c| c.status == "snoozed" || c.status == "open"));
    assert!(entries.iter().any(|e| e.body.contains(" wrote:\n> ")));
    let sizes: HashSet<usize> = convs.iter().map(|c| c.entries.len()).collect();
    assert!(sizes.len() > 10);
}

#[test]
fn replies_answer_within_a_day() {
    let (_, convs) = generate(&small());
    for c in &convs {
        for w in c.entries.windows(2) {
            if w[0].kind == SynthEntryKind::Customer && w[1].kind == SynthEntryKind::Reply {
                let delay = w[1].at_ms - w[0].at_ms;
                assert!((60_000..=DAY_MS).contains(&delay), "{delay}");
            }
        }
    }
}

#[test]
fn text_lengths() {
    let (team, convs) = generate(&small());
    for c in &convs {
        let first = team.customers[c.customer].first_name();
        for e in &c.entries {
            let (min, max) = match e.kind {
                SynthEntryKind::Customer => CUSTOMER_LEN,
                SynthEntryKind::Reply => REPLY_LEN,
                SynthEntryKind::Note => NOTE_LEN,
            };
            assert!(
                (min..=max).contains(&e.body.len()),
                "{:?} of {} bytes:\n{}",
                e.kind,
                e.body.len(),
                e.body
            );
            assert!(e.body.is_ascii());
            if e.kind == SynthEntryKind::Reply {
                let agent = team.agents[e.agent.unwrap()].first_name();
                assert!(e.body.contains(&format!(" {first},\n")), "{}", e.body);
                assert!(e.body.contains(&format!("\n{agent}")), "{}", e.body);
            }
        }
    }
    for customer in &team.customers {
        let (min, max) = PROFILE_LEN;
        assert!(
            (min..=max).contains(&customer.notes.len()),
            "{}",
            customer.notes
        );
    }
}

#[test]
fn team_shape() {
    let cfg = SynthConfig::benchmark().scaled(0.1);
    let team = team(&cfg);
    assert!(team.name.ends_with(" Support"));
    let domain = format!("@{}.example", team.brand().to_ascii_lowercase());
    for agent in &team.agents {
        let expected = format!("{}{domain}", agent.first_name().to_ascii_lowercase());
        assert_eq!(agent.email, expected);
    }
    let emails: Vec<&String> = team.customers.iter().flat_map(|c| &c.emails).collect();
    let unique: HashSet<_> = emails.iter().collect();
    assert_eq!(unique.len(), emails.len());
    assert!(emails.iter().all(|e| e.ends_with(".example")));
    let names: HashSet<&str> = team.customers.iter().map(|c| c.name.as_str()).collect();
    assert!(names.len() > 800);
    let n = team.customers.len() as f64;
    let with_company = team
        .customers
        .iter()
        .filter(|c| c.company.is_some())
        .count();
    assert!((0.55..0.65).contains(&(with_company as f64 / n)));
    let two = team
        .customers
        .iter()
        .filter(|c| c.emails.len() == 2)
        .count();
    assert!((0.11..0.19).contains(&(two as f64 / n)));
    assert!(team
        .customers
        .iter()
        .filter_map(|c| c.tier.as_deref())
        .all(|t| ["free", "pro", "enterprise"].contains(&t)));
}

#[test]
fn demo_looks_current() {
    let now = 1_780_000_000_000;
    let cfg = SynthConfig::demo(now);
    let (_, convs) = generate(&cfg);
    assert!(convs
        .iter()
        .flat_map(|c| &c.entries)
        .all(|e| (now - 10 * DAY_MS..=now).contains(&e.at_ms)));
    assert!(convs.iter().any(|c| c.status != "closed"));
    assert!(convs.iter().any(|c| c.status == "closed"));
}

#[test]
fn every_template_expands() {
    let ctx = Ctx {
        brand: "Northwind",
        first: "Ana",
        full: "Ana Silva",
        company: Some("Acme Widgets"),
        agent: "Dana",
        mention: Some("ben"),
    };
    let mut rng = stream_rng(1, Stream::Team);
    let mut pools: Vec<&[&str]> = vec![
        v::CUSTOMER_GREETINGS,
        v::CUSTOMER_FOLLOWUP_GREETINGS,
        v::CHAT_GREETINGS,
        v::VOICEMAIL_INTROS,
        v::CUSTOMER_OPENERS,
        v::CUSTOMER_FOLLOWUPS,
        v::CUSTOMER_CONTEXT,
        v::CUSTOMER_CLOSERS,
        v::REPLY_GREETINGS,
        v::REPLY_OPENERS,
        v::REPLY_FOLLOW_OPENERS,
        v::REPLY_GENERIC,
        v::REPLY_CLOSERS,
        v::GENERIC_NOTES,
        v::MENTION_NOTES,
        v::PROFILE,
        v::PROFILE_ENTERPRISE,
        v::PROFILE_PRO,
    ];
    for topic in v::TOPICS {
        pools.extend([topic.subjects, topic.asks, topic.answers, topic.notes]);
    }
    for template in pools.into_iter().flatten() {
        let mut out = String::new();
        expand(&mut out, template, &ctx, &mut rng);
        assert!(!out.contains(['{', '}']), "{template}");
        assert!(out.len() < 260, "{out}");
    }
}

/// Whether `q` uses only bare words (optionally with a trailing `*`) or a
/// double-quoted phrase of words.
fn valid_fts(q: &str) -> bool {
    let word = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric());
    if let Some(inner) = q.strip_prefix('"') {
        return inner
            .strip_suffix('"')
            .is_some_and(|p| p.split(' ').all(word));
    }
    !q.is_empty() && q.split(' ').all(|w| word(w.strip_suffix('*').unwrap_or(w)))
}

#[test]
fn search_queries_match_generated_text() {
    let cfg = small();
    let (_, convs) = generate(&cfg);
    let docs: Vec<Vec<String>> = convs
        .iter()
        .flat_map(|c| std::iter::once(&c.subject).chain(c.entries.iter().map(|e| &e.body)))
        .map(|t| tokens(t).collect())
        .collect();
    let queries = search_queries(&cfg, 60);
    assert_eq!(queries.len(), 60);
    assert!(queries.iter().all(|q| valid_fts(q)), "{queries:?}");
    assert!(queries.iter().any(|q| q.ends_with('*')));
    assert!(queries.iter().any(|q| q.starts_with('"')));
    assert!(queries
        .iter()
        .any(|q| q.contains(' ') && !q.starts_with('"')));
    assert!(queries.contains(&"\"reset my password\"".to_string()));
    assert!(queries.iter().collect::<HashSet<_>>().len() > 50);
    for q in &queries[..20] {
        let words: Vec<String> = tokens(q).collect();
        let found = if let Some(prefix) = q.strip_suffix('*') {
            docs.iter().flatten().any(|t| t.starts_with(prefix))
        } else if q.starts_with('"') {
            docs.iter()
                .any(|d| d.windows(words.len()).any(|w| w == words))
        } else {
            docs.iter().any(|d| words.iter().all(|w| d.contains(w)))
        };
        assert!(found, "query {q} matches nothing");
    }
    assert!(search_queries(&cfg, 0).is_empty());
}

#[test]
fn byte_counts() {
    let (team, convs) = generate(&small());
    let c = &convs[0];
    let expected = c.subject.len() + c.entries.iter().map(|e| e.body.len()).sum::<usize>();
    assert_eq!(raw_text_bytes(&team, c), expected);
    let customer = &team.customers[0];
    assert!(customer_text_bytes(customer) > customer.notes.len() + customer.name.len());
}

/// Times the benchmark size; run with
/// `cargo test -p shoal-synth --release -- --ignored --nocapture`.
#[test]
#[ignore]
fn benchmark_generation_speed() {
    let cfg = SynthConfig::benchmark();
    let started = std::time::Instant::now();
    let team = team(&cfg);
    let (mut convs, mut entries, mut bytes) = (0, 0, 0);
    for c in conversations(&cfg) {
        convs += 1;
        entries += c.entries.len();
        bytes += raw_text_bytes(&team, &c);
    }
    let queries = search_queries(&cfg, 100);
    println!(
        "{convs} conversations, {entries} entries, {bytes} bytes, {} queries in {:?}",
        queries.len(),
        started.elapsed()
    );
    assert_eq!((convs, entries), (cfg.conversations, cfg.messages));
}
