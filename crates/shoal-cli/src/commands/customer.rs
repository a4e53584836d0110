//! `shoal customer show|list|new|edit|note`.

use super::{inbox, open, print_json, read_text};
use crate::args::{
    CustomerEditArgs, CustomerListArgs, CustomerNewArgs, CustomerNoteArgs, CustomerShowArgs,
};
use crate::render::{self, short_id, Table};
use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use shoal_core::{Customer, CustomerId, CustomerPatch, DocKind, NewCustomer};
use shoal_replica::{CustomerRow, InboxQuery, InboxRow, InboxView, Replica};
use std::io::Write;
use std::path::Path;

/// How many conversations a customer's history shows; generous, since it is
/// one customer's.
const HISTORY_LIMIT: usize = 10_000;

/// What `customer show --json` prints.
#[derive(Serialize)]
struct Profile {
    customer: Customer,
    /// Every conversation of the customer, newest activity first.
    conversations: Vec<InboxRow>,
}

/// Runs `shoal customer show`.
pub fn show(home: &Path, args: CustomerShowArgs, out: &mut dyn Write) -> Result<()> {
    let replica = open(home)?;
    let id = replica.resolve_customer(&args.customer)?;
    let customer = replica.customer(&id)?;
    let conversations = replica.inbox(&InboxQuery {
        customer: Some(id),
        limit: HISTORY_LIMIT,
        ..InboxQuery::view(InboxView::All)
    })?;
    if args.json {
        return print_json(
            out,
            &Profile {
                customer,
                conversations,
            },
        );
    }
    let now = replica.now();
    writeln!(out, "{}", render::one_line(&customer.name))?;
    writeln!(out, "  id        {}", customer.id)?;
    if !customer.emails.is_empty() {
        writeln!(out, "  e-mail    {}", customer.emails.join(", "))?;
    }
    if let Some(company) = &customer.company {
        writeln!(out, "  company   {company}")?;
    }
    if let Some(tier) = &customer.tier {
        writeln!(out, "  tier      {tier}")?;
    }
    writeln!(
        out,
        "  since     {}",
        render::when(customer.created_at, now)
    )?;
    writeln!(out)?;
    if customer.notes.trim().is_empty() {
        writeln!(out, "No notes.")?;
    } else {
        writeln!(out, "Notes:")?;
        for line in customer.notes.lines() {
            writeln!(out, "  {line}")?;
        }
    }
    writeln!(out)?;
    if conversations.is_empty() {
        writeln!(out, "No conversations.")?;
    } else {
        writeln!(out, "Conversations ({}):", conversations.len())?;
        inbox::write_table(out, &conversations, &replica.team()?, now)?;
    }
    Ok(())
}

/// What `customer list --json` prints.
#[derive(Serialize)]
struct CustomerList {
    /// Number of customers in the replica.
    total: usize,
    /// The first `--limit` of them by name.
    customers: Vec<CustomerRow>,
}

/// Runs `shoal customer list`.
pub fn list(home: &Path, args: CustomerListArgs, out: &mut dyn Write) -> Result<()> {
    let replica = open(home)?;
    let customers = replica.customers(args.limit, 0)?;
    let total = replica
        .stats()?
        .documents
        .iter()
        .find(|(kind, _)| *kind == DocKind::Customer)
        .map_or(0, |(_, n)| *n as usize);
    if args.json {
        return print_json(out, &CustomerList { total, customers });
    }
    if customers.is_empty() {
        writeln!(out, "No customers yet.")?;
        return Ok(());
    }
    let mut table = Table::new(&["ID", "NAME", "E-MAIL", "COMPANY", "TIER", "CONVERSATIONS"]);
    for c in &customers {
        table.row(vec![
            short_id(&c.customer_id).to_owned(),
            render::truncate(&c.name, 30),
            c.primary_email.clone().unwrap_or_default(),
            render::truncate(c.company.as_deref().unwrap_or_default(), 24),
            c.tier.clone().unwrap_or_default(),
            c.conversations.to_string(),
        ]);
    }
    table.write(out)?;
    if total > customers.len() {
        writeln!(
            out,
            "({} of {total}; raise --limit for more)",
            customers.len()
        )?;
    }
    Ok(())
}

/// What customer writes print with `--json`.
#[derive(Serialize)]
struct Saved {
    customer_id: String,
    /// The customer afterwards.
    customer: Customer,
}

fn saved(
    replica: &Replica,
    id: &CustomerId,
    json: bool,
    verb: &str,
    out: &mut dyn Write,
) -> Result<()> {
    let customer = replica.customer(id)?;
    if json {
        return print_json(
            out,
            &Saved {
                customer_id: id.to_string(),
                customer,
            },
        );
    }
    writeln!(
        out,
        "{verb} customer {} ({})",
        customer.name,
        short_id(id.as_str())
    )?;
    Ok(())
}

/// Runs `shoal customer new`.
pub fn new(home: &Path, args: CustomerNewArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let id = replica
        .new_customer(NewCustomer {
            id: None,
            name: args.name,
            emails: args.email,
            company: args.company,
            tier: args.tier,
        })
        .context("cannot create the customer")?;
    saved(&replica, &id, args.json, "Created", out)
}

/// Runs `shoal customer edit`.
pub fn edit(home: &Path, args: CustomerEditArgs, out: &mut dyn Write) -> Result<()> {
    let patch = CustomerPatch {
        name: args.name,
        add_emails: args.add_email,
        remove_emails: args.remove_email,
        company: if args.clear_company {
            Some(None)
        } else {
            args.company.map(Some)
        },
        tier: if args.clear_tier {
            Some(None)
        } else {
            args.tier.map(Some)
        },
    };
    if patch.is_empty() {
        bail!(
            "nothing to change: pass --name, --add-email, --remove-email, \
             --company/--clear-company or --tier/--clear-tier"
        );
    }
    let mut replica = open(home)?;
    let id = replica.resolve_customer(&args.customer)?;
    replica
        .edit_customer(&id, &patch)
        .context("cannot change the customer")?;
    saved(&replica, &id, args.json, "Updated", out)
}

/// What `customer note --json` prints.
#[derive(Serialize)]
struct Notes {
    customer_id: String,
    notes: String,
}

/// Runs `shoal customer note`.
pub fn note(home: &Path, args: CustomerNoteArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let id = replica.resolve_customer(&args.customer)?;
    if let Some(text) = args.set.as_deref() {
        replica.set_customer_notes(&id, text)?;
    } else if let Some(path) = args.set_file.as_deref() {
        let text = read_text(None, Some(path))?;
        replica.set_customer_notes(&id, &text)?;
    } else if let Some(text) = args.append.as_deref() {
        replica.append_customer_notes(&id, text)?;
    } else if let Some([pos, text]) = args.insert.as_deref() {
        let pos: usize = pos.parse().map_err(|_| {
            anyhow!("--insert POS must be a character position (0 or more), not `{pos}`")
        })?;
        replica.splice_customer_notes(&id, pos, 0, text)?;
    } else {
        bail!("pass --set, --append, --insert or --set-file");
    }
    let customer = replica.customer(&id)?;
    if args.json {
        return print_json(
            out,
            &Notes {
                customer_id: id.to_string(),
                notes: customer.notes,
            },
        );
    }
    writeln!(
        out,
        "Notes of {} updated ({} characters)",
        customer.name,
        customer.notes.chars().count()
    )?;
    Ok(())
}

/// What `customer link --json` prints.
#[derive(Serialize)]
struct Linked {
    conversation_id: String,
    customer_id: String,
}

/// `shoal customer link`.
pub fn link(home: &Path, args: crate::args::CustomerLinkArgs, out: &mut dyn Write) -> Result<()> {
    let mut replica = open(home)?;
    let conversation = super::resolve_conversation(&replica, &args.conversation)?;
    let customer = replica.resolve_customer(&args.customer)?;
    replica
        .set_conversation_customer(&conversation, &customer)
        .context("cannot change the conversation's customer")?;
    if args.json {
        return print_json(
            out,
            &Linked {
                conversation_id: conversation.to_string(),
                customer_id: customer.to_string(),
            },
        );
    }
    let name = replica.customer(&customer)?.name;
    writeln!(out, "The conversation now belongs to {name}")?;
    Ok(())
}
