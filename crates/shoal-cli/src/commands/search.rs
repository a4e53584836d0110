//! `shoal search`.

use super::{open, print_json};
use crate::args::SearchArgs;
use crate::render::{self, short_id};
use anyhow::Result;
use serde::Serialize;
use shoal_replica::SearchHit;
use std::io::Write;
use std::path::Path;

/// What `search --json` prints.
#[derive(Serialize)]
struct Results<'a> {
    query: &'a str,
    hits: Vec<SearchHit>,
}

/// Runs `shoal search`.
pub fn run(home: &Path, args: SearchArgs, out: &mut dyn Write) -> Result<()> {
    let query = args.query.join(" ");
    let replica = open(home)?;
    let hits = replica.search(&query, false, args.limit)?;
    if args.json {
        return print_json(
            out,
            &Results {
                query: &query,
                hits,
            },
        );
    }
    if hits.is_empty() {
        writeln!(out, "Nothing matches `{query}`.")?;
        return Ok(());
    }
    let now = replica.now();
    for hit in &hits {
        let mut details = Vec::new();
        if let Some(name) = &hit.customer_name {
            details.push(name.clone());
        }
        if let Some(status) = &hit.status {
            details.push(status.clone());
        }
        if let Some(t) = hit.last_activity {
            details.push(render::age(t, now));
        }
        let details = if details.is_empty() {
            String::new()
        } else {
            format!("  ({})", details.join(" · "))
        };
        writeln!(
            out,
            "{:<12}  {}  {}{details}",
            hit.kind.as_str(),
            short_id(&hit.id),
            render::truncate(&hit.title, 60)
        )?;
        if !hit.snippet.is_empty() {
            writeln!(out, "{:<12}  {}", "", render::one_line(&hit.snippet))?;
        }
    }
    Ok(())
}
