//! The relay's index of customer addresses, so that mail from a customer an
//! agent entered by hand (with an address, a tier, notes) joins that
//! customer instead of creating a second one. Imported mail indexes its
//! sender as it is filed; customer documents agents write are read from the
//! team's change feed with a cursor of their own: on every outbox round,
//! and right before a mail from an unknown address would create a customer.

use super::ingest::blocking;
use super::read_doc;
use crate::server::Relay;
use anyhow::Result;
use shoal_core::{CustomerDoc, Document};

/// Feed entries read per step.
const BATCH: usize = 1000;

/// Indexes the addresses of every customer document of `team` changed since
/// the last call. Idempotent, so overlapping calls are harmless.
pub(crate) async fn catch_up(relay: &Relay, team: &str) -> Result<()> {
    loop {
        let (mail, store, t) = (relay.mail.clone(), relay.store.clone(), team.to_owned());
        let (cursor, changed) = blocking(move || {
            let cursor = mail.customer_index_cursor(&t)?;
            Ok((cursor, store.changed_since(&t, cursor, "relay", BATCH)?))
        })
        .await?;
        let Some(reached) = changed.iter().map(|e| e.seq).max() else {
            return Ok(());
        };
        let mut customers = Vec::new();
        for entry in changed.iter().filter(|e| e.doc_id.starts_with("cust/")) {
            let Some(doc) = read_doc(relay, team, &entry.doc_id).await? else {
                continue;
            };
            // A document whose first change has not arrived yet waits.
            if let Ok(c) = CustomerDoc::from_automerge(doc).and_then(|d| d.view()) {
                customers.push((c.id.to_string(), c.emails));
            }
        }
        let (mail, t) = (relay.mail.clone(), team.to_owned());
        blocking(move || mail.index_customer_addresses(&t, &customers, reached.max(cursor)))
            .await?;
        if changed.len() < BATCH {
            return Ok(());
        }
    }
}
