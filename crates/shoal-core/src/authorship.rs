//! Who may write what, read from the Automerge history. The relay binds
//! each Automerge actor to one agent; these rules then say which values an
//! agent's actors may write, so nobody can act in someone else's name.
//!
//! - An entry names whoever wrote it: a reply or a note has its writer as
//!   `author`; a customer message typed in by an agent (a logged call) has
//!   its writer as `logged_by`. Customer e-mail is written by the relay.
//! - Nobody rewrites who wrote an entry another actor created.
//! - In the team document, only admins change the team: its name, agents
//!   and their roles, business hours and response targets. Anyone may add
//!   tags and set their own availability.

use crate::team::Team;
use crate::EntryKind;
use automerge::{ActorId, AutoCommit, ObjId, ObjType, ReadDoc, Value, ROOT};

/// An entry field that names someone other than the agent who wrote it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("entry {entry}: {problem}")]
pub struct Misattribution {
    /// The entry's id (or its position when it has none).
    pub entry: String,
    /// What is wrong.
    pub problem: String,
}

/// The operations a batch of changes brought: per actor, the range of op
/// counters each change used. Telling a value's operation apart by these
/// needs no look at the document's history.
pub struct NewOps(Vec<(ActorId, u64, u64)>);

impl NewOps {
    /// The operations of `changes`.
    pub fn of(changes: &[automerge::Change]) -> Self {
        NewOps(
            changes
                .iter()
                .map(|c| {
                    let start = c.start_op().get();
                    (c.actor_id().clone(), start, start + c.len() as u64)
                })
                .collect(),
        )
    }

    fn contains(&self, id: &ObjId) -> bool {
        match id {
            ObjId::Id(counter, actor, _) => self
                .0
                .iter()
                .any(|(a, start, end)| a == actor && (*start..*end).contains(counter)),
            ObjId::Root => false,
        }
    }
}

/// Values an agent's actors (`mine`) wrote in a batch (`new`). Only these
/// are judged: what the document held already (written under older rules,
/// say) is not this batch's doing.
struct NewWrites<'a, F> {
    doc: &'a AutoCommit,
    new: &'a NewOps,
    mine: F,
}

impl<F: Fn(&ActorId) -> bool> NewWrites<'_, F> {
    fn by_me(&self, id: &ObjId) -> bool {
        matches!(id, ObjId::Id(_, actor, _) if (self.mine)(actor))
    }

    /// The current values of `field`, as text.
    fn values(&self, obj: &ObjId, field: &str) -> Vec<(String, ObjId)> {
        self.doc
            .get_all(obj, field)
            .unwrap_or_default()
            .into_iter()
            .map(|(v, id)| (v.as_str().unwrap_or_default().to_owned(), id))
            .collect()
    }

    /// The values of `field` this batch wrote.
    fn new_values(&self, obj: &ObjId, field: &str) -> Vec<(String, ObjId)> {
        self.values(obj, field)
            .into_iter()
            .filter(|(_, id)| self.by_me(id) && self.new.contains(id))
            .collect()
    }

    /// Each entry (a map in the `entries` list) with its position.
    fn entries(&self) -> Vec<(usize, ObjId)> {
        let Ok(Some((Value::Object(ObjType::List), list))) = self.doc.get(ROOT, "entries") else {
            return Vec::new();
        };
        (0..self.doc.length(&list))
            .filter_map(|i| match self.doc.get(&list, i) {
                Ok(Some((Value::Object(ObjType::Map), entry))) => Some((i, entry)),
                _ => None,
            })
            .collect()
    }
}

/// Checks what `agent`'s actors (`mine`) wrote into a conversation's
/// entries in a batch (`new`).
pub fn check_entries(
    doc: &AutoCommit,
    new: &NewOps,
    agent: &str,
    mine: impl Fn(&ActorId) -> bool,
) -> Result<(), Misattribution> {
    let w = NewWrites { doc, new, mine };
    for (i, entry) in w.entries() {
        let touched: Vec<&str> = ["id", "kind", "author", "logged_by"]
            .into_iter()
            .filter(|f| !w.new_values(&entry, f).is_empty())
            .collect();
        let Some(field) = touched.first() else {
            continue;
        };
        let name = w
            .values(&entry, "id")
            .into_iter()
            .next()
            .map_or_else(|| format!("#{i}"), |(id, _)| id);
        let wrong = |problem: String| Misattribution {
            entry: name.clone(),
            problem,
        };
        if !w.by_me(&entry) {
            return Err(wrong(format!(
                "changes `{field}` of an entry someone else wrote"
            )));
        }
        for (kind, _) in w.values(&entry, "kind") {
            let field = match EntryKind::parse(&kind) {
                Some(EntryKind::Reply | EntryKind::Note) => "author",
                Some(EntryKind::CustomerMessage) => "logged_by",
                None => return Err(wrong(format!("unknown kind `{kind}`"))),
            };
            let names = w.values(&entry, field);
            if names.is_empty() || names.iter().any(|(who, _)| who != agent) {
                return Err(wrong(format!(
                    "a {kind} written by {agent} must name {agent} as `{field}`"
                )));
            }
        }
    }
    Ok(())
}

/// An entry text over [`crate::MAX_BODY_BYTES`] that `mine` wrote in a
/// batch (`new`; clients refuse to write such, but the relay does not
/// trust clients), as a reason.
pub fn oversized_entry(
    doc: &AutoCommit,
    new: &NewOps,
    mine: impl Fn(&ActorId) -> bool,
) -> Option<String> {
    let w = NewWrites { doc, new, mine };
    w.entries().into_iter().find_map(|(_, entry)| {
        w.new_values(&entry, "body")
            .iter()
            .any(|(body, _)| body.len() > crate::MAX_BODY_BYTES)
            .then(|| format!("an entry's text is over {} bytes", crate::MAX_BODY_BYTES))
    })
}

/// Checks a change of the team document by a non-admin `agent`: `before`
/// and `after` may differ only in tags and in the agent's own availability
/// and working hours.
pub fn check_team_change(before: &Team, after: &Team, agent: &str) -> Result<(), String> {
    if before.name != after.name {
        return Err("only an admin can rename the team".into());
    }
    if before.business_hours != after.business_hours || before.sla != after.sla {
        return Err(
            "only an admin can change business hours, holidays and response targets".into(),
        );
    }
    if before.tiers != after.tiers {
        return Err("only an admin can change the support tiers".into());
    }
    if before.acknowledgements != after.acknowledgements {
        return Err("only an admin can change the automatic acknowledgements".into());
    }
    if before.auto_close_days != after.auto_close_days {
        return Err("only an admin can change when silent conversations close".into());
    }
    let people = |t: &Team| -> Vec<(String, String, String, String)> {
        t.agents
            .iter()
            .map(|a| {
                (
                    a.id.to_string(),
                    a.name.clone(),
                    a.email.clone(),
                    a.role.as_str().to_owned(),
                )
            })
            .collect()
    };
    if people(before) != people(after) {
        return Err("only an admin can change the team's agents and roles".into());
    }
    for (b, a) in before.agents.iter().zip(&after.agents) {
        if b.availability != a.availability && a.id.as_str() != agent {
            return Err(format!("only {} can set their own availability", a.name));
        }
        if b.working_hours != a.working_hours && a.id.as_str() != agent {
            return Err(format!("only {} can set their own working hours", a.name));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        AgentAvailability, AgentId, BusinessHours, Channel, ConversationDoc, ConversationId,
        CustomerId, Document, EmailDetails, EmailHeaders, NewConversation, Priority, SendGuard,
        TeamDoc, TeamId, Timestamp,
    };
    use crate::{AgentRole, Ctx};
    use automerge::transaction::Transactable;

    fn ctx(agent: &str) -> Ctx {
        Ctx::new(AgentId::parse(agent).unwrap(), Timestamp(1_000))
    }

    /// A conversation opened by a customer's e-mail, as the relay writes it.
    fn mailed() -> ConversationDoc {
        let new = NewConversation {
            id: ConversationId::random(),
            subject: "Refund".into(),
            channel: Channel::Email,
            customer: CustomerId::parse("cust1").unwrap(),
            body: "Charged twice".into(),
            received_at: Timestamp(500),
            headers: EmailHeaders::default(),
            priority: Priority::Normal,
        };
        ConversationDoc::create_from_email(
            ActorId::random(),
            &ctx("relay"),
            new,
            &EmailDetails::default(),
        )
        .unwrap()
        .0
    }

    /// What `doc` got since `before`, as the relay sees a batch.
    fn since(doc: &mut AutoCommit, before: &[automerge::ChangeHash]) -> NewOps {
        NewOps::of(&doc.get_changes(before))
    }

    fn as_actor(doc: &mut ConversationDoc, actor: &ActorId) {
        doc.automerge_mut().set_actor(actor.clone());
    }

    #[test]
    fn replies_and_notes_must_name_their_writer() {
        let (ana, ben) = (ActorId::random(), ActorId::random());
        let mut c = mailed();
        let before = c.automerge_mut().get_heads();
        as_actor(&mut c, &ana);
        c.add_reply(&ctx("ana"), "Refunded.", None, SendGuard::Force)
            .unwrap();
        c.add_note(&ctx("ana"), "Done", &[]).unwrap();
        let mut doc = c.into_automerge();
        let new = since(&mut doc, &before);
        assert_eq!(check_entries(&doc, &new, "ana", |a| *a == ana), Ok(()));
        // Ben's actors wrote none of it: nothing of his to judge.
        assert_eq!(check_entries(&doc, &new, "ben", |a| *a == ben), Ok(()));

        // Ben's device writes a reply in Ana's name.
        let before = doc.get_heads();
        let mut c = ConversationDoc::from_automerge(doc).unwrap();
        as_actor(&mut c, &ben);
        c.add_reply(&ctx("ana"), "Forged", None, SendGuard::Force)
            .unwrap();
        let new = since(c.automerge_mut(), &before);
        let err = check_entries(c.automerge(), &new, "ben", |a| *a == ben).unwrap_err();
        assert!(err.problem.contains("must name ben"), "{err}");
    }

    #[test]
    fn nobody_rewrites_who_wrote_another_entry() {
        let (ana, ben) = (ActorId::random(), ActorId::random());
        let mut c = mailed();
        as_actor(&mut c, &ana);
        let reply = c
            .add_reply(&ctx("ana"), "Refunded.", None, SendGuard::Force)
            .unwrap();
        let before = c.automerge_mut().get_heads();
        as_actor(&mut c, &ben);
        let doc = c.automerge_mut();
        let (_, entries) = doc.get(ROOT, "entries").unwrap().unwrap();
        let last = doc.length(&entries) - 1;
        let (_, entry) = doc.get(&entries, last).unwrap().unwrap();
        doc.put(&entry, "author", "ben").unwrap();
        let new = since(c.automerge_mut(), &before);
        let err = check_entries(c.automerge(), &new, "ben", |a| *a == ben).unwrap_err();
        assert_eq!(err.entry, reply.to_string());
        assert!(err.problem.contains("someone else wrote"), "{err}");
    }

    #[test]
    fn customer_words_are_written_by_the_relay_or_logged_by_their_typist() {
        let ana = ActorId::random();
        // Typed in by Ana (a call): logged by her, accepted.
        let new = NewConversation {
            id: ConversationId::random(),
            subject: "Call".into(),
            channel: Channel::Phone,
            customer: CustomerId::parse("cust1").unwrap(),
            body: "Called about the refund".into(),
            received_at: Timestamp(500),
            headers: EmailHeaders::default(),
            priority: Priority::Normal,
        };
        let (mut c, _) = ConversationDoc::create(ana.clone(), &ctx("ana"), new).unwrap();
        let all = since(c.automerge_mut(), &[]);
        assert_eq!(
            check_entries(c.automerge(), &all, "ana", |a| *a == ana),
            Ok(())
        );
        // Ana's device adds words as if the customer had written them.
        let mut c = mailed();
        let before = c.automerge_mut().get_heads();
        as_actor(&mut c, &ana);
        c.add_customer_message(
            &ctx("ana"),
            "Please refund to another account",
            Timestamp(2_000),
            &EmailHeaders::default(),
        )
        .unwrap();
        let new = since(c.automerge_mut(), &before);
        let err = check_entries(c.automerge(), &new, "ana", |a| *a == ana).unwrap_err();
        assert!(err.problem.contains("logged_by"), "{err}");

        // What the document already held is not judged again: the same
        // entry, stored before the rule, does not block Ana's next note.
        let before = c.automerge_mut().get_heads();
        c.add_note(&ctx("ana"), "Called back", &[]).unwrap();
        let new = since(c.automerge_mut(), &before);
        assert_eq!(
            check_entries(c.automerge(), &new, "ana", |a| *a == ana),
            Ok(())
        );
    }

    #[test]
    fn an_oversized_text_is_found_only_in_what_the_batch_wrote() {
        let ana = ActorId::random();
        let mut c = mailed();
        let before = c.automerge_mut().get_heads();
        as_actor(&mut c, &ana);
        c.add_note(&ctx("ana"), "Short", &[]).unwrap();
        let new = since(c.automerge_mut(), &before);
        assert_eq!(oversized_entry(c.automerge(), &new, |a| *a == ana), None);
        let doc = c.automerge_mut();
        let (_, entries) = doc.get(ROOT, "entries").unwrap().unwrap();
        let last = doc.length(&entries) - 1;
        let (_, note) = doc.get(&entries, last).unwrap().unwrap();
        doc.put(&note, "body", "x".repeat(crate::MAX_BODY_BYTES + 1))
            .unwrap();
        let new = since(c.automerge_mut(), &before);
        assert!(oversized_entry(c.automerge(), &new, |a| *a == ana).is_some());
        let later = c.automerge_mut().get_heads();
        let none = since(c.automerge_mut(), &later);
        assert_eq!(oversized_entry(c.automerge(), &none, |a| *a == ana), None);
        // The client side refuses to write one at all.
        let long = "x".repeat(crate::MAX_BODY_BYTES + 1);
        assert!(matches!(
            c.add_note(&ctx("ana"), &long, &[]),
            Err(crate::CoreError::BodyTooLong { .. })
        ));
    }

    #[test]
    fn only_admins_change_the_team_and_everyone_sets_their_own_availability() {
        let mut t =
            TeamDoc::genesis(&TeamId::parse("t1").unwrap(), "Support", Timestamp(1)).unwrap();
        let relay = ctx("relay");
        for (id, name, role) in [
            ("ana", "Ana", AgentRole::Admin),
            ("ben", "Ben", AgentRole::Agent),
        ] {
            let email = format!("{id}@example.test");
            t.add_agent(&relay, &AgentId::parse(id).unwrap(), name, &email, role)
                .unwrap();
        }
        let before = t.view().unwrap();
        let ben = AgentId::parse("ben").unwrap();

        let mut own = TeamDoc::from_automerge(t.automerge().clone()).unwrap();
        own.set_availability(&ctx("ben"), &ben, AgentAvailability::Away)
            .unwrap();
        own.add_tags(&ctx("ben"), &["vip".into()]).unwrap();
        assert_eq!(
            check_team_change(&before, &own.view().unwrap(), "ben"),
            Ok(())
        );

        let mut other = TeamDoc::from_automerge(t.automerge().clone()).unwrap();
        other
            .set_availability(
                &ctx("ben"),
                &AgentId::parse("ana").unwrap(),
                AgentAvailability::Away,
            )
            .unwrap();
        assert!(check_team_change(&before, &other.view().unwrap(), "ben").is_err());

        let mut hours = TeamDoc::from_automerge(t.automerge().clone()).unwrap();
        let night = BusinessHours {
            start_minute: 0,
            ..Default::default()
        };
        hours.set_business_hours(&ctx("ben"), &night).unwrap();
        let err = check_team_change(&before, &hours.view().unwrap(), "ben").unwrap_err();
        assert!(err.contains("admin"), "{err}");

        let mut promoted = TeamDoc::from_automerge(t.automerge().clone()).unwrap();
        promoted
            .add_agent(
                &ctx("ben"),
                &ben,
                "Ben",
                "ben@example.test",
                AgentRole::Admin,
            )
            .unwrap();
        assert!(check_team_change(&before, &promoted.view().unwrap(), "ben").is_err());

        let mut holiday = TeamDoc::from_automerge(t.automerge().clone()).unwrap();
        holiday
            .add_holiday(&ctx("ben"), "2026-12-24", "Off")
            .unwrap();
        let err = check_team_change(&before, &holiday.view().unwrap(), "ben").unwrap_err();
        assert!(err.contains("holidays"), "{err}");

        let mut tier = TeamDoc::from_automerge(t.automerge().clone()).unwrap();
        tier.set_tier(&ctx("ben"), "premium", crate::Priority::Urgent)
            .unwrap();
        let err = check_team_change(&before, &tier.view().unwrap(), "ben").unwrap_err();
        assert!(err.contains("tiers"), "{err}");

        let mut ack = TeamDoc::from_automerge(t.automerge().clone()).unwrap();
        let text = crate::Acknowledgement {
            text: "Buy our premium plan".into(),
            every_hours: 1,
        };
        ack.set_acknowledgement(&ctx("ben"), "support@example.test", Some(&text))
            .unwrap();
        let err = check_team_change(&before, &ack.view().unwrap(), "ben").unwrap_err();
        assert!(err.contains("acknowledgements"), "{err}");

        let mut silent = TeamDoc::from_automerge(t.automerge().clone()).unwrap();
        silent.set_auto_close(&ctx("ben"), Some(1)).unwrap();
        let err = check_team_change(&before, &silent.view().unwrap(), "ben").unwrap_err();
        assert!(err.contains("silent conversations"), "{err}");

        let part_time = BusinessHours {
            days: vec![1, 2, 3],
            ..Default::default()
        };
        let mut mine = TeamDoc::from_automerge(t.automerge().clone()).unwrap();
        mine.set_working_hours(&ctx("ben"), &ben, Some(&part_time))
            .unwrap();
        assert_eq!(
            check_team_change(&before, &mine.view().unwrap(), "ben"),
            Ok(())
        );
        let mut theirs = TeamDoc::from_automerge(t.automerge().clone()).unwrap();
        theirs
            .set_working_hours(
                &ctx("ben"),
                &AgentId::parse("ana").unwrap(),
                Some(&part_time),
            )
            .unwrap();
        let err = check_team_change(&before, &theirs.view().unwrap(), "ben").unwrap_err();
        assert!(err.contains("working hours"), "{err}");
    }
}
