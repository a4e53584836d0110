//! Full-text search queries that are known to match the generated text.
//!
//! Queries are drawn from a sample of the actual output (the first
//! conversations of the same configuration), so every word in them occurs in
//! the data whatever the configuration's size.

use std::collections::{HashMap, HashSet};

use rand::seq::SliceRandom;
use rand::Rng;

use crate::text::{pick, stream_rng, Stream};
use crate::vocabulary as v;
use crate::{conversations, SynthConfig};

/// How many leading conversations the queries are drawn from: enough for
/// variety, cheap to generate at any size.
const SAMPLE_CONVERSATIONS: usize = 150;

#[derive(Clone, Copy)]
enum Kind {
    Common,
    Rare,
    Surname,
    Product,
    And,
    Prefix,
    Phrase,
}

/// The order query kinds take turns in, so any prefix of the result is varied.
const KINDS: [Kind; 7] = [
    Kind::Common,
    Kind::Rare,
    Kind::Surname,
    Kind::Product,
    Kind::And,
    Kind::Prefix,
    Kind::Phrase,
];

/// `n` varied SQLite FTS5 `MATCH` queries over the generated conversation
/// text: common words (`password`), rare words, customer surnames (which
/// appear in sign-offs), product terms (`webhook`), two-word AND queries
/// (`refund stripe`, both words in one message), prefix queries (`refun*`)
/// and quoted phrases (`"reset my password"`).
///
/// Queries only contain ASCII letters and digits, spaces, a trailing `*` and
/// double-quoted phrases, and never FTS5 operators. Every word occurs in the
/// conversations of `cfg`. Once the distinct candidates run out, queries
/// repeat.
pub fn search_queries(cfg: &SynthConfig, n: usize) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    let sample = Sample::new(cfg);
    let mut rng = stream_rng(cfg.seed, Stream::Queries);
    let mut pools = Pools::new(&sample, &mut rng);
    let mut queries = Vec::with_capacity(n);
    let mut seen = HashSet::new();
    let mut misses = 0;
    for kind in KINDS.iter().cycle() {
        if queries.len() == n {
            break;
        }
        match pools.draw(*kind, &sample, &mut rng) {
            // After many duplicates in a row, accept repeats.
            Some(q) if misses > 50 || seen.insert(q.clone()) => {
                queries.push(q);
                misses = 0;
            }
            _ => misses += 1,
        }
    }
    queries
}

/// Token statistics of the sampled text, tokenised like FTS5's default
/// `unicode61` tokenizer does for ASCII: lowercase runs of letters and digits.
struct Sample {
    ids: HashMap<String, u32>,
    words: Vec<String>,
    counts: Vec<u32>,
    /// Token ids of each subject and entry body.
    docs: Vec<Vec<u32>>,
}

impl Sample {
    fn new(cfg: &SynthConfig) -> Self {
        let mut sample = Sample {
            ids: HashMap::new(),
            words: Vec::new(),
            counts: Vec::new(),
            docs: Vec::new(),
        };
        for conv in conversations(cfg).take(SAMPLE_CONVERSATIONS) {
            sample.add(&conv.subject);
            for entry in &conv.entries {
                sample.add(&entry.body);
            }
        }
        sample
    }

    fn add(&mut self, text: &str) {
        let mut doc = Vec::new();
        for token in tokens(text) {
            let id = match self.ids.get(&token) {
                Some(&id) => id,
                None => {
                    let id = self.words.len() as u32;
                    self.ids.insert(token.clone(), id);
                    self.words.push(token);
                    self.counts.push(0);
                    id
                }
            };
            self.counts[id as usize] += 1;
            doc.push(id);
        }
        self.docs.push(doc);
    }

    fn count(&self, word: &str) -> u32 {
        self.ids.get(word).map_or(0, |&id| self.counts[id as usize])
    }

    /// Whether the words of `phrase` occur consecutively in some document.
    fn has_phrase(&self, phrase: &str) -> bool {
        let ids: Option<Vec<u32>> = phrase
            .split(' ')
            .map(|w| self.ids.get(w).copied())
            .collect();
        ids.is_some_and(|ids| {
            self.docs
                .iter()
                .any(|d| d.windows(ids.len()).any(|w| w == ids))
        })
    }

    /// A word worth searching for on its own: alphabetic, not filler.
    fn is_content(&self, id: u32, min_len: usize) -> bool {
        let word = &self.words[id as usize];
        word.len() >= min_len
            && word.bytes().all(|b| b.is_ascii_lowercase())
            && !v::STOP_WORDS.contains(&word.as_str())
    }
}

/// Lowercased alphanumeric runs of `text`.
pub(crate) fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_lowercase)
}

/// Candidate queries of each kind, with a cursor each.
struct Pools {
    common: Vec<String>,
    rare: Vec<String>,
    surnames: Vec<String>,
    products: Vec<String>,
    prefixes: Vec<String>,
    phrases: Vec<String>,
    cursors: [usize; KINDS.len()],
}

impl Pools {
    fn new<R: Rng>(sample: &Sample, rng: &mut R) -> Self {
        let present = |words: &[&str]| -> Vec<String> {
            words
                .iter()
                .filter(|w| sample.count(&w.to_ascii_lowercase()) > 0)
                .map(|w| w.to_string())
                .collect()
        };

        let mut common = present(v::COMMON_TERMS);
        common.sort_by_key(|w| std::cmp::Reverse(sample.count(w)));
        if common.is_empty() {
            // Only for very unusual samples: fall back to the most frequent words.
            let mut ids: Vec<u32> = (0..sample.words.len() as u32)
                .filter(|&id| sample.is_content(id, 4))
                .collect();
            ids.sort_by_key(|&id| std::cmp::Reverse(sample.counts[id as usize]));
            common = ids
                .iter()
                .take(20)
                .map(|&id| sample.words[id as usize].clone())
                .collect();
        }

        let mut rare: Vec<String> = (0..sample.words.len() as u32)
            .filter(|&id| sample.counts[id as usize] <= 2 && sample.is_content(id, 6))
            .map(|id| sample.words[id as usize].clone())
            .collect();
        rare.sort();
        rare.shuffle(rng);

        let mut surnames = present(
            &v::LAST_NAMES
                .iter()
                .copied()
                .filter(|n| n.bytes().all(|b| b.is_ascii_alphabetic()))
                .collect::<Vec<_>>(),
        );
        surnames.shuffle(rng);

        let mut products = present(v::PRODUCT_TERMS);
        products.shuffle(rng);

        let mut prefixes: Vec<String> = Vec::new();
        for word in common.iter().chain(&products) {
            if word.len() >= 6 {
                let prefix = format!("{}*", &word[..5]);
                if !prefixes.contains(&prefix) {
                    prefixes.push(prefix);
                }
            }
        }

        let phrases = v::PHRASES
            .iter()
            .filter(|p| sample.has_phrase(p))
            .map(|p| format!("\"{p}\""))
            .collect();

        Pools {
            common,
            rare,
            surnames,
            products,
            prefixes,
            phrases,
            cursors: [0; KINDS.len()],
        }
    }

    fn draw<R: Rng>(&mut self, kind: Kind, sample: &Sample, rng: &mut R) -> Option<String> {
        let turn = self.cursors[kind as usize];
        self.cursors[kind as usize] += 1;
        let cycle = |pool: &[String]| (!pool.is_empty()).then(|| pool[turn % pool.len()].clone());
        match kind {
            Kind::Common => cycle(&self.common),
            Kind::Rare => cycle(&self.rare),
            Kind::Surname => cycle(&self.surnames),
            Kind::Product => cycle(&self.products),
            Kind::Prefix => cycle(&self.prefixes),
            Kind::Phrase if turn < self.phrases.len() => Some(self.phrases[turn].clone()),
            Kind::Phrase => random_phrase(sample, rng),
            Kind::And => random_pair(sample, rng),
        }
    }
}

/// Two distinct content words (one of them longer) from one document, so the
/// AND query matches it.
fn random_pair<R: Rng>(sample: &Sample, rng: &mut R) -> Option<String> {
    for _ in 0..10 {
        let doc = pick_doc(sample, rng)?;
        let mut words: Vec<u32> = doc
            .iter()
            .copied()
            .filter(|&id| sample.is_content(id, 5))
            .collect();
        words.sort_unstable();
        words.dedup();
        let long: Vec<u32> = words
            .iter()
            .copied()
            .filter(|&id| sample.words[id as usize].len() >= 6)
            .collect();
        if words.len() >= 2 && !long.is_empty() {
            let a = pick(rng, &long);
            let b = pick(rng, &words);
            if a != b {
                let (a, b) = (&sample.words[a as usize], &sample.words[b as usize]);
                return Some(format!("{a} {b}"));
            }
        }
    }
    None
}

/// Two or three consecutive words of one document, at least one of them a
/// content word, quoted.
fn random_phrase<R: Rng>(sample: &Sample, rng: &mut R) -> Option<String> {
    for _ in 0..10 {
        let doc = pick_doc(sample, rng)?;
        let len = rng.random_range(2..=3);
        if doc.len() < len {
            continue;
        }
        let run = &doc[rng.random_range(0..=doc.len() - len)..][..len];
        let alphabetic = |&id: &u32| {
            sample.words[id as usize]
                .bytes()
                .all(|b| b.is_ascii_lowercase())
        };
        if run.iter().all(alphabetic) && run.iter().any(|&id| sample.is_content(id, 4)) {
            let words: Vec<&str> = run
                .iter()
                .map(|&id| sample.words[id as usize].as_str())
                .collect();
            return Some(format!("\"{}\"", words.join(" ")));
        }
    }
    None
}

fn pick_doc<'s, R: Rng>(sample: &'s Sample, rng: &mut R) -> Option<&'s [u32]> {
    (!sample.docs.is_empty())
        .then(|| sample.docs[rng.random_range(0..sample.docs.len())].as_slice())
}
