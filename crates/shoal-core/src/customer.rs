//! The customer document: profile fields and collaborative notes.

use crate::doc_fields::{
    change, commit, non_empty_body, required_obj, str_list, text_units, valid_email,
};
use crate::document::impl_document;
use crate::hydrated::{hydrate, strs, Node};
use crate::{schema, CoreError, Ctx, CustomerId, DocKind, Result, Timestamp};
use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjType, ReadDoc, ScalarValue, ROOT};
use serde::{Deserialize, Serialize};

/// Read view of a customer document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// Customer id.
    pub id: CustomerId,
    /// Display name.
    pub name: String,
    /// E-mail addresses, primary first, without duplicates (ignoring case).
    pub emails: Vec<String>,
    /// Company.
    pub company: Option<String>,
    /// Support tier (e.g. free, pro, enterprise).
    pub tier: Option<String>,
    /// Collaborative notes about the customer.
    pub notes: String,
    /// When the customer was added.
    pub created_at: Timestamp,
}

impl Customer {
    /// First word of the name, for greetings.
    pub fn first_name(&self) -> &str {
        self.name.split_whitespace().next().unwrap_or(&self.name)
    }
}

/// A new customer's details.
#[derive(Clone, Debug, Default)]
pub struct NewCustomer {
    /// Id of the new customer.
    pub id: Option<CustomerId>,
    /// Display name.
    pub name: String,
    /// E-mail addresses, primary first.
    pub emails: Vec<String>,
    /// Company.
    pub company: Option<String>,
    /// Support tier.
    pub tier: Option<String>,
}

/// A change of customer details; `None` leaves a field as it is, and
/// `Some(None)` clears an optional one.
#[derive(Clone, Debug, Default)]
pub struct CustomerPatch {
    /// New display name.
    pub name: Option<String>,
    /// Addresses to add (at the end).
    pub add_emails: Vec<String>,
    /// Addresses to remove (ignoring case).
    pub remove_emails: Vec<String>,
    /// New company, or `Some(None)` to clear it.
    pub company: Option<Option<String>>,
    /// New tier, or `Some(None)` to clear it.
    pub tier: Option<Option<String>>,
}

impl CustomerPatch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.add_emails.is_empty()
            && self.remove_emails.is_empty()
            && self.company.is_none()
            && self.tier.is_none()
    }
}

/// A customer document.
#[derive(Debug, Clone)]
pub struct CustomerDoc {
    doc: AutoCommit,
}

fn put_optional(doc: &mut AutoCommit, key: &str, value: Option<&str>) -> Result<()> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => doc.put(ROOT, key, v)?,
        None => doc.put(ROOT, key, ScalarValue::Null)?,
    }
    Ok(())
}

impl CustomerDoc {
    /// Creates a customer; returns the document and the customer's id.
    pub fn create(actor: ActorId, ctx: &Ctx, new: NewCustomer) -> Result<(Self, CustomerId)> {
        let name = new.name.trim();
        if name.is_empty() {
            return Err(CoreError::EmptyField("customer name"));
        }
        let emails = new
            .emails
            .iter()
            .map(|e| valid_email(e))
            .collect::<Result<Vec<_>>>()?;
        let id = new.id.unwrap_or_else(CustomerId::random);
        let mut doc = AutoCommit::new().with_actor(actor);
        schema::stamp(&mut doc, DocKind::Customer)?;
        doc.put(ROOT, "id", id.as_str())?;
        doc.put(ROOT, "name", name)?;
        let list = doc.put_object(ROOT, "emails", ObjType::List)?;
        for (i, e) in emails.iter().enumerate() {
            doc.insert(&list, i, e.as_str())?;
        }
        put_optional(&mut doc, "company", new.company.as_deref())?;
        put_optional(&mut doc, "tier", new.tier.as_deref())?;
        doc.put_object(ROOT, "notes", ObjType::Text)?;
        doc.put(ROOT, "created_at", ctx.now.as_millis())?;
        commit(&mut doc, ctx, "create customer");
        Ok((Self { doc }, id))
    }

    /// Applies a change of details.
    pub fn edit(&mut self, ctx: &Ctx, patch: &CustomerPatch) -> Result<()> {
        if let Some(name) = &patch.name {
            if name.trim().is_empty() {
                return Err(CoreError::EmptyField("customer name"));
            }
        }
        let add = patch
            .add_emails
            .iter()
            .map(|e| valid_email(e))
            .collect::<Result<Vec<_>>>()?;
        change(&mut self.doc, ctx, "edit customer", |doc| {
            if let Some(name) = &patch.name {
                doc.put(ROOT, "name", name.trim())?;
            }
            let list = required_obj(doc, &ROOT, "emails")?;
            for gone in &patch.remove_emails {
                // Walk backwards so deletions do not shift unvisited indexes.
                for i in (0..doc.length(&list)).rev() {
                    let matches = matches!(doc.get(&list, i)?, Some((v, _)) if v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(gone.trim())));
                    if matches {
                        doc.delete(&list, i)?;
                    }
                }
            }
            let existing = str_list(doc, &list);
            for e in add
                .iter()
                .filter(|e| !existing.iter().any(|x| x.eq_ignore_ascii_case(e)))
            {
                doc.insert(&list, doc.length(&list), e.as_str())?;
            }
            if let Some(company) = &patch.company {
                put_optional(doc, "company", company.as_deref())?;
            }
            if let Some(tier) = &patch.tier {
                put_optional(doc, "tier", tier.as_deref())?;
            }
            Ok(())
        })
    }

    /// Replaces the notes with `text`, as the smallest set of splices, so
    /// that a concurrent edit elsewhere in the notes survives the merge.
    pub fn set_notes(&mut self, ctx: &Ctx, text: &str) -> Result<()> {
        change(&mut self.doc, ctx, "edit notes", |doc| {
            let notes = required_obj(doc, &ROOT, "notes")?;
            doc.update_text(&notes, text)?;
            Ok(())
        })
    }

    /// Appends `text` to the notes, on a new line when the notes are not
    /// empty; the end is found inside the change, so nothing slips between.
    pub fn append_notes(&mut self, ctx: &Ctx, text: &str) -> Result<()> {
        let text = non_empty_body(text)?;
        change(&mut self.doc, ctx, "edit notes", |doc| {
            let notes = required_obj(doc, &ROOT, "notes")?;
            let current = doc.text(&notes)?;
            let end = text_units(doc.text_encoding(), &current, current.chars().count());
            let insert = if current.is_empty() || current.ends_with('\n') {
                text.to_owned()
            } else {
                format!("\n{text}")
            };
            doc.splice_text(&notes, end, 0, &insert)?;
            Ok(())
        })
    }

    /// Deletes `delete` characters at character position `pos` of the notes
    /// and inserts `insert` there (positions count Unicode scalar values).
    pub fn splice_notes(
        &mut self,
        ctx: &Ctx,
        pos: usize,
        delete: usize,
        insert: &str,
    ) -> Result<()> {
        change(&mut self.doc, ctx, "edit notes", |doc| {
            let notes = required_obj(doc, &ROOT, "notes")?;
            let current = doc.text(&notes)?;
            let len = current.chars().count();
            if pos > len || delete > len - pos {
                return Err(CoreError::SpliceOutOfRange { pos, delete, len });
            }
            let enc = doc.text_encoding();
            let start = text_units(enc, &current, pos);
            let end = text_units(enc, &current, pos + delete);
            doc.splice_text(&notes, start, (end - start) as isize, insert)?;
            Ok(())
        })
    }
}

impl_document!(CustomerDoc, Customer, DocKind::Customer);

fn read(doc: &AutoCommit) -> Result<Customer> {
    let hydrated = hydrate(doc)?;
    let d = Node::root(&hydrated)?;
    let mut emails: Vec<String> = Vec::new();
    for e in d.list("emails").map(strs).unwrap_or_default() {
        if !emails.iter().any(|x| x.eq_ignore_ascii_case(&e)) {
            emails.push(e);
        }
    }
    Ok(Customer {
        id: CustomerId::parse(&d.required_str("id")?)?,
        name: d.required_str("name")?,
        emails,
        company: d.str("company"),
        tier: d.str("tier"),
        notes: d.str("notes").unwrap_or_default(),
        created_at: Timestamp(d.int("created_at").unwrap_or(0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AgentId;
    use crate::Document;

    fn ctx(agent: &str) -> Ctx {
        Ctx::new(AgentId::parse(agent).unwrap(), Timestamp(1_000))
    }

    fn customer() -> CustomerDoc {
        let new = NewCustomer {
            name: "Maria Garcia".into(),
            emails: vec!["maria@acme.example".into()],
            company: Some("Acme".into()),
            ..Default::default()
        };
        CustomerDoc::create(ActorId::random(), &ctx("ana"), new)
            .unwrap()
            .0
    }

    #[test]
    fn edit_details() {
        let mut c = customer();
        let patch = CustomerPatch {
            name: Some("María García".into()),
            add_emails: vec!["MARIA@acme.example".into(), "m.garcia@home.example".into()],
            company: Some(None),
            tier: Some(Some("pro".into())),
            ..Default::default()
        };
        c.edit(&ctx("ana"), &patch).unwrap();
        let v = c.view().unwrap();
        assert_eq!(v.name, "María García");
        assert_eq!(
            v.emails,
            vec!["maria@acme.example", "m.garcia@home.example"]
        );
        assert_eq!(v.company, None);
        assert_eq!(v.tier.as_deref(), Some("pro"));
        c.edit(
            &ctx("ana"),
            &CustomerPatch {
                remove_emails: vec!["Maria@Acme.example".into()],
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(c.view().unwrap().emails, vec!["m.garcia@home.example"]);
        assert!(c
            .edit(
                &ctx("ana"),
                &CustomerPatch {
                    add_emails: vec!["nope".into()],
                    ..Default::default()
                }
            )
            .is_err());
    }

    #[test]
    fn concurrent_note_edits_both_survive() {
        let mut a = customer();
        a.set_notes(&ctx("ana"), "Prefers email. Renewal in March.")
            .unwrap();
        let mut b =
            CustomerDoc::from_automerge(a.automerge_mut().fork().with_actor(ActorId::random()))
                .unwrap();
        a.set_notes(&ctx("ana"), "VIP. Prefers email. Renewal in March.")
            .unwrap();
        b.splice_notes(
            &ctx("ben"),
            "Prefers email. Renewal in March".chars().count(),
            0,
            " (annual plan)",
        )
        .unwrap();
        a.automerge_mut().merge(b.automerge_mut()).unwrap();
        b.automerge_mut().merge(a.automerge_mut()).unwrap();
        let notes = a.view().unwrap().notes;
        assert_eq!(notes, "VIP. Prefers email. Renewal in March (annual plan).");
        assert_eq!(b.view().unwrap().notes, notes);
    }

    #[test]
    fn splice_counts_characters_not_bytes() {
        let mut c = customer();
        c.set_notes(&ctx("ana"), "Zoë • München").unwrap();
        c.splice_notes(&ctx("ana"), 6, 7, "Köln").unwrap();
        assert_eq!(c.view().unwrap().notes, "Zoë • Köln");
        assert!(matches!(
            c.splice_notes(&ctx("ana"), 5, 50, ""),
            Err(CoreError::SpliceOutOfRange { .. })
        ));
    }
}
