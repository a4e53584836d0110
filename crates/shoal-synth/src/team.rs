//! The support team: its name, agents and customers.

use std::collections::HashSet;
use std::fmt::Write as _;

use rand::seq::SliceRandom;
use rand::Rng;

use crate::message::profile_notes;
use crate::text::{pick, stream_rng, Ctx, Scratch, Stream};
use crate::vocabulary as v;
use crate::{SynthAgent, SynthConfig, SynthCustomer, SynthTeam};

/// The team described by `cfg`: a name, `cfg.agents` agents and
/// `cfg.customers` customers (at least one, since every conversation needs a
/// customer). Emails are unique across agents and customers.
pub fn team(cfg: &SynthConfig) -> SynthTeam {
    let mut rng = stream_rng(cfg.seed, Stream::Team);
    let brand = pick(&mut rng, v::BRANDS);
    let domain = format!("{}.example", brand.to_ascii_lowercase());
    let mut taken = HashSet::new();
    let agents = agents(&mut rng, cfg.agents, &domain, &mut taken);
    let customer_count = cfg.customers.max(1);
    let companies = companies(&mut rng, company_count(customer_count));
    let mut scratch = Scratch::default();
    let customers = (0..customer_count)
        .map(|_| customer(&mut rng, brand, &companies, &mut taken, &mut scratch))
        .collect();
    SynthTeam {
        name: format!("{brand} Support"),
        agents,
        customers,
    }
}

fn agents<R: Rng>(
    rng: &mut R,
    count: usize,
    domain: &str,
    taken: &mut HashSet<String>,
) -> Vec<SynthAgent> {
    // Distinct first names, so `@firstname` and `firstname@` are unambiguous.
    let mut order: Vec<&str> = v::FIRST_NAMES.to_vec();
    order.shuffle(rng);
    (0..count)
        .map(|i| {
            let first = order[i % order.len()];
            let last = pick(rng, v::LAST_NAMES);
            let mut handle = first.to_ascii_lowercase();
            if i >= order.len() {
                let _ = write!(handle, "{}", i / order.len() + 1);
            }
            SynthAgent {
                name: format!("{first} {last}"),
                email: unique_email(taken, &handle, domain),
            }
        })
        .collect()
}

/// Customers cluster in companies (about four per company), but even a tiny
/// team gets a handful of different companies.
fn company_count(customers: usize) -> usize {
    (customers * 3 / 20).max(customers.min(6)).max(1)
}

struct Company {
    name: String,
    domain: String,
}

fn companies<R: Rng>(rng: &mut R, count: usize) -> Vec<Company> {
    let suffixes = v::COMPANY_SUFFIXES.len();
    let mut combos: Vec<usize> = (0..v::COMPANY_PREFIXES.len() * suffixes).collect();
    combos.shuffle(rng);
    (0..count)
        .map(|j| {
            let c = combos[j % combos.len()];
            let mut name = format!(
                "{} {}",
                v::COMPANY_PREFIXES[c / suffixes],
                v::COMPANY_SUFFIXES[c % suffixes]
            );
            // Only huge teams run out of combinations; number the repeats.
            let round = j / combos.len();
            if round > 0 {
                let _ = write!(name, " {}", round + 1);
            }
            let domain = format!("{}.example", slug(&name, '-'));
            Company { name, domain }
        })
        .collect()
}

fn customer<R: Rng>(
    rng: &mut R,
    brand: &str,
    companies: &[Company],
    taken: &mut HashSet<String>,
    scratch: &mut Scratch,
) -> SynthCustomer {
    let first = pick(rng, v::FIRST_NAMES);
    let last = pick(rng, v::LAST_NAMES);
    let name = format!("{first} {last}");
    let company = rng
        .random_bool(0.6)
        .then(|| &companies[rng.random_range(0..companies.len())]);
    let (f, l) = (slug(first, '.'), slug(last, '.'));
    let initial = &l[..1];

    let mut emails = Vec::with_capacity(2);
    match company {
        Some(c) => {
            let local = match rng.random_range(0..4) {
                0 | 1 => format!("{f}.{l}"),
                2 => f.clone(),
                _ => format!("{}{l}", &f[..1]),
            };
            emails.push(unique_email(taken, &local, &c.domain));
        }
        None => {
            let local = match rng.random_range(0..3) {
                0 => format!("{f}.{l}"),
                1 => format!("{f}{l}{}", rng.random_range(1..100)),
                _ => format!("{f}.{initial}"),
            };
            emails.push(unique_email(taken, &local, pick(rng, v::PERSONAL_DOMAINS)));
        }
    }
    if rng.random_bool(0.15) {
        // A personal address next to the work one, or a second mailbox.
        let local = format!("{f}{l}");
        emails.push(unique_email(taken, &local, pick(rng, v::PERSONAL_DOMAINS)));
    }

    let roll = rng.random_range(0..100);
    let tier = match (company.is_some(), roll) {
        (true, 0..38) | (false, 0..45) => Some("free"),
        (true, 38..83) | (false, 45..70) => Some("pro"),
        (true, 83..98) => Some("enterprise"),
        _ => None,
    };
    let company = company.map(|c| c.name.clone());
    let ctx = Ctx {
        brand,
        first,
        full: &name,
        company: company.as_deref(),
        agent: "",
        mention: None,
    };
    scratch.start_conversation();
    let notes = profile_notes(rng, scratch, &ctx, tier);
    SynthCustomer {
        name,
        emails,
        company,
        tier: tier.map(String::from),
        notes,
    }
}

/// `local@domain`, numbered (`local2@domain`, ...) if already taken.
fn unique_email(taken: &mut HashSet<String>, local: &str, domain: &str) -> String {
    let mut email = format!("{local}@{domain}");
    let mut n = 2;
    while taken.contains(&email) {
        email = format!("{local}{n}@{domain}");
        n += 1;
    }
    taken.insert(email.clone());
    email
}

/// Lowercase ASCII letters and digits of `s`, spaces turned into `sep` and
/// other characters dropped ("O'Brien" gives "obrien").
fn slug(s: &str, sep: char) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if c == ' ' && !out.is_empty() && !out.ends_with(sep) {
            out.push(sep);
        }
    }
    out
}
