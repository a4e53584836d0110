//! The replica: identity, the write path (one SQLite transaction per change,
//! document and derived rows together) and the reads.

use crate::compactor::{Compactor, COMPACT_THRESHOLD};
use crate::derived::DocView;
use crate::doc_cache::{self, DocCache};
use crate::{
    derived, doc_store, queries, sqlite_schema, Clock, CustomerRow, DerivedDump, InboxQuery,
    InboxRow, InboxView, ReplicaError, Result, SearchHit, SystemClock,
};
use automerge::{ActorId, AutoCommit, Change, ChangeHash};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use shoal_core::{
    AgentAvailability, AgentId, AgentPrivate, AgentPrivateDoc, AgentRole, BusinessHours, Channel,
    Conversation, ConversationDoc, ConversationId, CoreError, Ctx, Customer, CustomerDoc,
    CustomerId, CustomerPatch, DocId, DocKind, Document, EmailHeaders, Entry, EntryId,
    NewConversation, NewCustomer, Priority, Resolution, SendGuard, SlaTarget, StatusChange, Team,
    TeamDoc, TeamId, Timestamp,
};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A reply the outbox held back, with where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HeldReply {
    /// Its conversation.
    pub conversation_id: ConversationId,
    /// The conversation's subject.
    pub subject: String,
    /// The reply, with its text and the reason it is held.
    pub reply: Entry,
}

/// Who this replica acts as.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// The team whose documents this replica holds.
    pub team_id: TeamId,
    /// The agent using this replica.
    pub agent_id: AgentId,
    /// This device's Automerge actor (hex); unique per replica.
    pub actor: String,
}

/// What a new workspace starts with.
#[derive(Clone, Debug)]
pub struct InitOptions {
    /// Team name.
    pub team_name: String,
    /// The first agent's name.
    pub agent_name: String,
    /// The first agent's e-mail.
    pub agent_email: String,
}

/// A conversation to open (the customer must exist; see
/// [`Replica::find_or_create_customer`]).
#[derive(Clone, Debug)]
pub struct NewConversationInput {
    /// Subject line.
    pub subject: String,
    /// Channel.
    pub channel: Channel,
    /// The customer.
    pub customer: CustomerId,
    /// First customer message.
    pub body: String,
    /// Priority; `None` takes the customer's tier's (see
    /// [`Team::tier_priority`]).
    pub priority: Option<Priority>,
    /// When the message was received (default: now).
    pub received_at: Option<Timestamp>,
    /// Threading headers of the first message.
    pub headers: EmailHeaders,
}

/// What merging foreign bytes into a document did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MergeOutcome {
    /// The document was new to this replica.
    Created,
    /// New changes were added.
    Updated,
    /// Everything was known already.
    Unchanged,
}

/// The encoded changes a local operation produced, for whoever forwards them.
#[derive(Clone, Debug)]
pub struct ChangeRecord {
    /// The changed document.
    pub doc: DocId,
    /// Encoded Automerge changes.
    pub changes: Vec<Vec<u8>>,
}

/// Sizes and counts, for `shoal status` and benchmarks.
#[derive(Clone, Debug, Serialize)]
pub struct ReplicaStats {
    /// Documents per kind.
    pub documents: Vec<(DocKind, i64)>,
    /// Changes appended and not yet compacted.
    pub pending_changes: i64,
    /// Size of the database file and its WAL, in bytes.
    pub file_bytes: u64,
}

/// A local replica in one SQLite file.
pub struct Replica {
    pub(crate) conn: Connection,
    path: PathBuf,
    identity: Identity,
    actor: ActorId,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) compactor: Option<Compactor>,
    last_change: Option<ChangeRecord>,
    /// Documents the sync engine touched recently.
    pub(crate) doc_cache: RefCell<DocCache>,
    /// A sync batch transaction is open (see `begin_sync_batch`).
    pub(crate) in_batch: bool,
}

pub(crate) fn meta_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

pub(crate) fn meta_set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?
        .execute([key, value])?;
    Ok(())
}

fn not_found(kind: &'static str, query: impl Into<String>) -> ReplicaError {
    ReplicaError::NotFound {
        kind,
        query: query.into(),
    }
}

impl Replica {
    /// Creates a new workspace: a team whose first agent (admin) uses this
    /// replica.
    pub fn init(path: &Path, opts: &InitOptions) -> Result<Replica> {
        Self::init_with_clock(path, opts, Arc::new(SystemClock))
    }

    /// [`Replica::init`] with an injected clock. The input is checked before
    /// anything is written, so a refused init leaves no file behind.
    pub fn init_with_clock(
        path: &Path,
        opts: &InitOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<Replica> {
        let team_id = TeamId::random();
        let agent_id = AgentId::random();
        let actor = ActorId::random();
        let ctx = Ctx::new(agent_id.clone(), clock.now());
        let team = TeamDoc::create(
            actor.clone(),
            &ctx,
            &team_id,
            &opts.team_name,
            &opts.agent_name,
            &opts.agent_email,
        )?;
        let mut r = Self::create_file(path, &team_id, &agent_id, actor, clock)?;
        r.insert_doc(&DocId::team(&team_id), team.into_automerge())?;
        Ok(r)
    }

    /// Creates an empty replica for `agent_id` of `team_id`, whose documents
    /// arrive later (from an export or a relay).
    pub fn create_empty(
        path: &Path,
        team_id: &TeamId,
        agent_id: &AgentId,
        clock: Arc<dyn Clock>,
    ) -> Result<Replica> {
        Self::create_file(path, team_id, agent_id, ActorId::random(), clock)
    }

    /// Creates the file, its identity and the agent's private document (in
    /// its deterministic first state, shared by all the agent's devices).
    fn create_file(
        path: &Path,
        team_id: &TeamId,
        agent_id: &AgentId,
        actor: ActorId,
        clock: Arc<dyn Clock>,
    ) -> Result<Replica> {
        if path.exists() {
            let conn = Connection::open(path)?;
            let has_meta: bool = conn
                .query_row(
                    "SELECT 1 FROM sqlite_master WHERE name = 'meta'",
                    [],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            if has_meta {
                return Err(ReplicaError::AlreadyInitialized(path.to_owned()));
            }
        }
        let conn = Connection::open(path)?;
        sqlite_schema::configure(&conn)?;
        sqlite_schema::create(&conn)?;
        meta_set(&conn, "team_id", team_id.as_str())?;
        meta_set(&conn, "agent_id", agent_id.as_str())?;
        meta_set(&conn, "actor", &actor.to_hex_string())?;
        let mut r = Self::from_conn(conn, path, clock)?;
        let private = AgentPrivateDoc::genesis(agent_id)?;
        r.insert_doc(&DocId::agent_private(agent_id), private.into_automerge())?;
        Ok(r)
    }

    /// Opens an existing replica. Reads only its identity: no document is
    /// loaded. Starts the background compactor.
    pub fn open(path: &Path) -> Result<Replica> {
        Self::open_with_clock(path, Arc::new(SystemClock))
    }

    /// [`Replica::open`] with an injected clock.
    pub fn open_with_clock(path: &Path, clock: Arc<dyn Clock>) -> Result<Replica> {
        if !path.exists() {
            return Err(ReplicaError::NotInitialized(path.to_owned()));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        sqlite_schema::configure(&conn)?;
        let rebuild = sqlite_schema::check(&conn)?;
        let mut replica = Self::from_conn(conn, path, clock)?;
        if rebuild {
            // An older file: its derived rows lack what this version adds.
            replica.reindex(&mut |_, _| {})?;
        }
        Ok(replica)
    }

    fn from_conn(conn: Connection, path: &Path, clock: Arc<dyn Clock>) -> Result<Replica> {
        let missing = || ReplicaError::NotInitialized(path.to_owned());
        let team_id = meta_get(&conn, "team_id")
            .ok()
            .flatten()
            .ok_or_else(missing)?;
        let agent_id = meta_get(&conn, "agent_id")?.ok_or_else(missing)?;
        let actor_hex = meta_get(&conn, "actor")?.ok_or_else(missing)?;
        let actor = ActorId::from(hex_decode(&actor_hex).ok_or_else(missing)?);
        let identity = Identity {
            team_id: TeamId::parse(&team_id).map_err(CoreError::from)?,
            agent_id: AgentId::parse(&agent_id).map_err(CoreError::from)?,
            actor: actor_hex,
        };
        let compactor = Compactor::spawn(path, actor.clone()).ok();
        Ok(Replica {
            conn,
            path: path.to_owned(),
            identity,
            actor,
            clock,
            compactor,
            last_change: None,
            doc_cache: RefCell::default(),
            in_batch: false,
        })
    }

    /// Who this replica acts as.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current time of the replica's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub(crate) fn actor(&self) -> &ActorId {
        &self.actor
    }

    fn ctx(&self) -> Ctx {
        Ctx::new(self.identity.agent_id.clone(), self.clock.now())
    }

    /// The changes of the most recent local operation (if it changed anything).
    pub fn take_last_change(&mut self) -> Option<ChangeRecord> {
        self.last_change.take()
    }

    // ----- the write path -------------------------------------------------

    /// Stores a new document and its derived rows.
    fn insert_doc(&mut self, id: &DocId, mut doc: AutoCommit) -> Result<()> {
        let now = self.clock.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if doc_store::exists(&tx, id)? {
            return Err(CoreError::InvalidValue {
                field: "document id",
                value: id.to_string(),
            }
            .into());
        }
        doc_store::insert(&tx, id, &doc.save(), now)?;
        doc_store::mark_dirty(&tx, id)?;
        derived::update(&tx, id, &doc)?;
        tx.commit()?;
        self.last_change = Some(ChangeRecord {
            doc: id.clone(),
            changes: doc_store::encoded_changes_since(&mut doc, &[]),
        });
        Ok(())
    }

    /// Runs one domain operation on a stored document as one transaction:
    /// load, apply, append the new change, update derived rows, commit. A
    /// refused operation stores nothing.
    fn write<D: Document, T>(
        &mut self,
        id: &DocId,
        op: impl FnOnce(&mut D, &Ctx) -> shoal_core::Result<T>,
    ) -> Result<T> {
        let ctx = self.ctx();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let doc = doc_store::load(&tx, id, &self.actor)?
            .ok_or_else(|| not_found(D::KIND.as_str(), id.key()))?;
        let mut typed = D::from_automerge(doc)?;
        let before = typed.automerge_mut().get_heads();
        let value = op(&mut typed, &ctx)?;
        let am = typed.automerge_mut();
        let changes = doc_store::encoded_changes_since(am, &before);
        let mut due = false;
        if !changes.is_empty() {
            let pending = doc_store::append(&tx, id, &changes, true, ctx.now)?;
            doc_store::mark_dirty(&tx, id)?;
            derived::update(&tx, id, am)?;
            due = pending >= COMPACT_THRESHOLD;
        }
        tx.commit()?;
        if due {
            if let Some(c) = &self.compactor {
                c.nudge();
            }
        }
        self.last_change = (!changes.is_empty()).then(|| ChangeRecord {
            doc: id.clone(),
            changes,
        });
        Ok(value)
    }

    // ----- team and agents ------------------------------------------------

    /// The team.
    pub fn team(&self) -> Result<Team> {
        let id = DocId::team(&self.identity.team_id);
        let doc = doc_store::load(&self.conn, &id, &self.actor)?
            .ok_or_else(|| not_found("team", id.key()))?;
        Ok(TeamDoc::view_of(&doc)?)
    }

    /// Adds an agent to the team; returns the new agent's id.
    pub fn add_agent(&mut self, name: &str, email: &str, role: AgentRole) -> Result<AgentId> {
        let team = self.team()?;
        if team
            .agents
            .iter()
            .any(|a| a.email.eq_ignore_ascii_case(email.trim()))
        {
            return Err(CoreError::InvalidValue {
                field: "agent e-mail (already on the team)",
                value: email.to_owned(),
            }
            .into());
        }
        let id = AgentId::random();
        let doc = DocId::team(&self.identity.team_id);
        self.write(&doc, |t: &mut TeamDoc, ctx| {
            t.add_agent(ctx, &id, name, email, role)
        })?;
        Ok(id)
    }

    /// Changes a team setting only admins may change (`what` names it in
    /// the refusal).
    fn change_team_settings<T>(
        &mut self,
        what: &'static str,
        f: impl FnOnce(&mut TeamDoc, &Ctx) -> shoal_core::Result<T>,
    ) -> Result<T> {
        if !self.is_admin()? {
            return Err(CoreError::AdminOnly(what).into());
        }
        let doc = DocId::team(&self.identity.team_id);
        self.write(&doc, f)
    }

    /// Replaces the team's business hours (holidays included).
    pub fn set_business_hours(&mut self, hours: &BusinessHours) -> Result<()> {
        self.change_team_settings("business hours", |t, ctx| t.set_business_hours(ctx, hours))
    }

    /// Adds a day off (`YYYY-MM-DD`) with a label.
    pub fn add_holiday(&mut self, date: &str, label: &str) -> Result<()> {
        self.change_team_settings("holidays", |t, ctx| t.add_holiday(ctx, date, label))
    }

    /// Removes a day off; `false` when it was not one.
    pub fn remove_holiday(&mut self, date: &str) -> Result<bool> {
        self.change_team_settings("holidays", |t, ctx| t.remove_holiday(ctx, date))
    }

    /// Sets the response targets of one priority.
    pub fn set_sla(&mut self, priority: Priority, target: SlaTarget) -> Result<()> {
        self.change_team_settings("response targets", |t, ctx| {
            t.set_sla(ctx, priority, target)
        })
    }

    /// Defines a support tier or changes its priority.
    pub fn set_tier(&mut self, tier: &str, priority: Priority) -> Result<()> {
        self.change_team_settings("support tiers", |t, ctx| t.set_tier(ctx, tier, priority))
    }

    /// Turns the automatic acknowledgement of new conversations at `mailbox`
    /// on (with its text and interval) or off.
    pub fn set_acknowledgement(
        &mut self,
        mailbox: &str,
        ack: Option<&shoal_core::Acknowledgement>,
    ) -> Result<()> {
        self.change_team_settings("the automatic acknowledgements", |t, ctx| {
            t.set_acknowledgement(ctx, mailbox, ack)
        })
    }

    /// Sets after how many business days of customer silence the relay
    /// closes a pending conversation as "no reply", or turns it off.
    pub fn set_auto_close(&mut self, days: Option<u32>) -> Result<()> {
        self.change_team_settings("auto-close", |t, ctx| t.set_auto_close(ctx, days))
    }

    /// Removes a support tier; `false` when there was none by that name.
    pub fn remove_tier(&mut self, tier: &str) -> Result<bool> {
        self.change_team_settings("support tiers", |t, ctx| t.remove_tier(ctx, tier))
    }

    /// Sets this replica's agent's availability, which the whole team sees
    /// (any agent may set their own; only their own).
    pub fn set_my_availability(&mut self, availability: AgentAvailability) -> Result<()> {
        let me = self.identity.agent_id.clone();
        let doc = DocId::team(&self.identity.team_id);
        self.write(&doc, |t: &mut TeamDoc, ctx| {
            t.set_availability(ctx, &me, availability)
        })
    }

    /// Sets (or with `None` clears) this replica's agent's own working
    /// hours; outside them the team sees them as off.
    pub fn set_my_working_hours(&mut self, hours: Option<&BusinessHours>) -> Result<()> {
        let me = self.identity.agent_id.clone();
        let doc = DocId::team(&self.identity.team_id);
        self.write(&doc, |t: &mut TeamDoc, ctx| {
            t.set_working_hours(ctx, &me, hours)
        })
    }

    /// This replica's agent's availability now: as they set it, off outside
    /// their working hours (an agent the team document does not list yet
    /// counts as available).
    pub fn my_availability(&self) -> Result<AgentAvailability> {
        let now = self.now();
        Ok(self
            .team()?
            .agent(&self.identity.agent_id)
            .map_or(AgentAvailability::Available, |a| a.availability_at(now)))
    }

    /// Resolves `me`, an agent id (or prefix), e-mail or name.
    pub fn resolve_agent(&self, query: &str) -> Result<AgentId> {
        if query == "me" {
            return Ok(self.identity.agent_id.clone());
        }
        let team = self.team()?;
        team.find_agent(query)
            .map(|a| a.id.clone())
            .ok_or_else(|| not_found("agent", query))
    }

    /// This agent's private document.
    pub fn agent_private(&self) -> Result<AgentPrivate> {
        let id = DocId::agent_private(&self.identity.agent_id);
        let doc = doc_store::load(&self.conn, &id, &self.actor)?
            .ok_or_else(|| not_found("private document", id.key()))?;
        Ok(AgentPrivateDoc::view_of(&doc)?)
    }

    /// Adds or replaces a personal template.
    pub fn set_template(&mut self, name: &str, body: &str) -> Result<()> {
        let id = DocId::agent_private(&self.identity.agent_id);
        self.write(&id, |d: &mut AgentPrivateDoc, ctx| {
            d.set_template(ctx, name, body)
        })
    }

    /// Removes a personal template; returns whether it existed.
    pub fn remove_template(&mut self, name: &str) -> Result<bool> {
        let id = DocId::agent_private(&self.identity.agent_id);
        self.write(&id, |d: &mut AgentPrivateDoc, ctx| {
            d.remove_template(ctx, name)
        })
    }

    // ----- customers ------------------------------------------------------

    /// Creates a customer. An e-mail address identifies one customer, so
    /// addresses that belong to someone else are refused.
    pub fn new_customer(&mut self, mut new: NewCustomer) -> Result<CustomerId> {
        self.refuse_taken_emails(&new.emails, None)?;
        new.tier = self.known_tier(new.tier.as_deref())?;
        let (doc, id) = CustomerDoc::create(self.actor.clone(), &self.ctx(), new)?;
        self.insert_doc(&DocId::customer(&id), doc.into_automerge())?;
        Ok(id)
    }

    /// A customer's tier as stored: lowercase, and one the team defines when
    /// it defines any (a team without tiers keeps free-text labels).
    fn known_tier(&self, tier: Option<&str>) -> Result<Option<String>> {
        let Some(tier) = tier
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty())
        else {
            return Ok(None);
        };
        let team = self.team()?;
        if team.tiers.is_empty() || team.tiers.contains_key(&tier) {
            return Ok(Some(tier));
        }
        Err(CoreError::UnknownTier {
            tier,
            known: team.tiers.keys().cloned().collect::<Vec<_>>().join(", "),
        }
        .into())
    }

    /// The customer with this e-mail address, if any.
    pub fn customer_by_email(&self, email: &str) -> Result<Option<CustomerId>> {
        let id: Option<String> = self
            .conn
            .prepare_cached("SELECT customer_id FROM customer_emails WHERE email = ?1 ORDER BY customer_id LIMIT 1")?
            .query_row([email.trim()], |r| r.get(0))
            .optional()?;
        Ok(id.and_then(|s| CustomerId::parse(&s).ok()))
    }

    /// The customer with `email`, created with `name` (or the address) if new.
    pub fn find_or_create_customer(
        &mut self,
        email: &str,
        name: Option<&str>,
    ) -> Result<CustomerId> {
        if let Some(id) = self.customer_by_email(email)? {
            return Ok(id);
        }
        let name = name
            .map(str::to_owned)
            .unwrap_or_else(|| email.split('@').next().unwrap_or(email).to_owned());
        self.new_customer(NewCustomer {
            name,
            emails: vec![email.to_owned()],
            ..Default::default()
        })
    }

    /// Resolves a customer id (or unique prefix of 4+ characters), e-mail or exact name.
    pub fn resolve_customer(&self, query: &str) -> Result<CustomerId> {
        let q = query.trim();
        if q.contains('@') {
            return self
                .customer_by_email(q)?
                .ok_or_else(|| not_found("customer", q));
        }
        let by_id = self.prefix_matches("SELECT customer_id FROM customers WHERE customer_id >= ?1 AND customer_id < ?2 LIMIT 6", q)?;
        let ids = if by_id.is_empty() {
            let mut stmt = self.conn.prepare_cached(
                "SELECT customer_id FROM customers WHERE name = ?1 COLLATE NOCASE LIMIT 6",
            )?;
            let names = stmt
                .query_map([q], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            names
        } else {
            by_id
        };
        one("customer", q, ids)
            .and_then(|s| CustomerId::parse(&s).map_err(|e| CoreError::from(e).into()))
    }

    /// A customer.
    pub fn customer(&self, id: &CustomerId) -> Result<Customer> {
        let doc_id = DocId::customer(id);
        let doc = doc_store::load(&self.conn, &doc_id, &self.actor)?
            .ok_or_else(|| not_found("customer", id.as_str()))?;
        Ok(CustomerDoc::view_of(&doc)?)
    }

    fn refuse_taken_emails(&self, emails: &[String], owner: Option<&CustomerId>) -> Result<()> {
        for e in emails {
            if let Some(other) = self.customer_by_email(e)? {
                if Some(&other) != owner {
                    return Err(ReplicaError::EmailTaken {
                        email: e.trim().to_owned(),
                        customer: other.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Customers by name, with their number of conversations.
    pub fn customers(&self, limit: usize, offset: usize) -> Result<Vec<CustomerRow>> {
        queries::customers(&self.conn, limit, offset)
    }

    /// Changes customer details (addresses of other customers are refused).
    pub fn edit_customer(&mut self, id: &CustomerId, patch: &CustomerPatch) -> Result<()> {
        self.refuse_taken_emails(&patch.add_emails, Some(id))?;
        let mut patch = patch.clone();
        if let Some(Some(tier)) = &patch.tier {
            patch.tier = Some(self.known_tier(Some(tier))?);
        }
        let patch = &patch;
        self.write(&DocId::customer(id), |c: &mut CustomerDoc, ctx| {
            c.edit(ctx, patch)
        })
    }

    /// Replaces the customer's notes (as minimal splices).
    pub fn set_customer_notes(&mut self, id: &CustomerId, text: &str) -> Result<()> {
        self.write(&DocId::customer(id), |c: &mut CustomerDoc, ctx| {
            c.set_notes(ctx, text)
        })
    }

    /// Appends a line to the customer's notes.
    pub fn append_customer_notes(&mut self, id: &CustomerId, text: &str) -> Result<()> {
        self.write(&DocId::customer(id), |c: &mut CustomerDoc, ctx| {
            c.append_notes(ctx, text)
        })
    }

    /// Splices the customer's notes at a character position.
    pub fn splice_customer_notes(
        &mut self,
        id: &CustomerId,
        pos: usize,
        delete: usize,
        insert: &str,
    ) -> Result<()> {
        self.write(&DocId::customer(id), |c: &mut CustomerDoc, ctx| {
            c.splice_notes(ctx, pos, delete, insert)
        })
    }

    // ----- conversations ----------------------------------------------------

    /// Opens a conversation with its first customer message.
    pub fn new_conversation(
        &mut self,
        input: NewConversationInput,
    ) -> Result<(ConversationId, EntryId)> {
        let ctx = self.ctx();
        let id = ConversationId::random();
        let priority = match input.priority {
            Some(p) => p,
            None => {
                let tier = self.customer(&input.customer).ok().and_then(|c| c.tier);
                self.team()?.tier_priority(tier.as_deref())
            }
        };
        let new = NewConversation {
            id: id.clone(),
            subject: input.subject,
            channel: input.channel,
            customer: input.customer,
            body: input.body,
            received_at: input.received_at.unwrap_or(ctx.now),
            headers: input.headers,
            priority,
        };
        let (doc, entry) = ConversationDoc::create(self.actor.clone(), &ctx, new)?;
        self.insert_doc(&DocId::conversation(&id), doc.into_automerge())?;
        Ok((id, entry))
    }

    /// Starts a conversation by writing to a customer: an e-mail the team
    /// sends first, queued like a reply (the relay sends it as a new
    /// message), assigned to me, at the priority of the customer's tier.
    pub fn start_conversation(
        &mut self,
        customer: &CustomerId,
        subject: &str,
        body: &str,
    ) -> Result<(ConversationId, EntryId)> {
        let c = self.customer(customer)?;
        if c.emails.is_empty() {
            return Err(CoreError::InvalidValue {
                field: "customer (no e-mail address to write to)",
                value: c.name,
            }
            .into());
        }
        let priority = self.team()?.tier_priority(c.tier.as_deref());
        let id = ConversationId::random();
        let new = shoal_core::NewOutbound {
            id: id.clone(),
            subject: subject.to_owned(),
            customer: customer.clone(),
            body: body.to_owned(),
            priority,
        };
        let (doc, entry) = ConversationDoc::create_outbound(self.actor.clone(), &self.ctx(), new)?;
        self.insert_doc(&DocId::conversation(&id), doc.into_automerge())?;
        Ok((id, entry))
    }

    /// Resolves a conversation id or a unique prefix of at least 4 characters.
    pub fn resolve_conversation(&self, query: &str) -> Result<ConversationId> {
        let q = query.trim().to_lowercase();
        let ids = self.prefix_matches(
            "SELECT conv_id FROM inbox WHERE conv_id >= ?1 AND conv_id < ?2 LIMIT 6",
            &q,
        )?;
        one("conversation", &q, ids)
            .and_then(|s| ConversationId::parse(&s).map_err(|e| CoreError::from(e).into()))
    }

    fn prefix_matches(&self, sql: &str, q: &str) -> Result<Vec<String>> {
        if q.len() < 4 && q.len() != 32 {
            return Ok(Vec::new());
        }
        // Every id is [a-z0-9_-]; '~' sorts after all of them.
        let upper = format!("{q}~");
        let mut stmt = self.conn.prepare_cached(sql)?;
        let ids = stmt
            .query_map([q, upper.as_str()], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(match ids.iter().find(|id| id.as_str() == q) {
            Some(exact) => vec![exact.clone()],
            None => ids,
        })
    }

    /// A conversation.
    pub fn conversation(&self, id: &ConversationId) -> Result<Conversation> {
        let doc_id = DocId::conversation(id);
        let doc = doc_store::load(&self.conn, &doc_id, &self.actor)?
            .ok_or_else(|| not_found("conversation", id.as_str()))?;
        Ok(ConversationDoc::view_of(&doc)?)
    }

    /// Adds a customer message (reopens the conversation if needed).
    pub fn add_customer_message(
        &mut self,
        id: &ConversationId,
        body: &str,
        received_at: Option<Timestamp>,
        headers: &EmailHeaders,
    ) -> Result<EntryId> {
        self.write(&DocId::conversation(id), |c: &mut ConversationDoc, ctx| {
            c.add_customer_message(ctx, body, received_at.unwrap_or(ctx.now), headers)
        })
    }

    /// Adds an agent reply; with no relay configured it stays `queued`.
    /// With [`SendGuard::Check`] it is refused ([`CoreError::Unseen`]) while
    /// the conversation holds entries this agent has not been shown.
    pub fn reply(
        &mut self,
        id: &ConversationId,
        body: &str,
        answers: Option<&EntryId>,
        guard: SendGuard,
    ) -> Result<EntryId> {
        self.write(&DocId::conversation(id), |c: &mut ConversationDoc, ctx| {
            c.add_reply(ctx, body, answers, guard)
        })
    }

    /// Sends a held reply anyway (optionally with a new text). Its author
    /// may, and so may an admin.
    pub fn release(
        &mut self,
        id: &ConversationId,
        entry: &EntryId,
        new_body: Option<&str>,
    ) -> Result<()> {
        let as_admin = self.is_admin()?;
        self.write(&DocId::conversation(id), |c: &mut ConversationDoc, ctx| {
            c.release_reply(ctx, entry, new_body, as_admin)
        })
    }

    /// Discards a held reply; its text stays in the conversation. Its author
    /// may, and so may an admin.
    pub fn discard(&mut self, id: &ConversationId, entry: &EntryId) -> Result<()> {
        let as_admin = self.is_admin()?;
        self.write(&DocId::conversation(id), |c: &mut ConversationDoc, ctx| {
            c.discard_reply(ctx, entry, as_admin)
        })
    }

    /// Held replies: this agent's, or everyone's for an admin (`all`).
    pub fn held_replies(&self, all: bool) -> Result<Vec<HeldReply>> {
        let me = self.identity.agent_id.as_str();
        let mut stmt = self.conn.prepare_cached(
            "SELECT conv_id, entry_id, author FROM held_replies
             WHERE ?1 OR author = ?2 ORDER BY conv_id, entry_id",
        )?;
        let rows = stmt
            .query_map(rusqlite::params![all, me], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut held = Vec::new();
        for (conv, entry) in rows {
            let conv =
                self.conversation(&ConversationId::parse(&conv).map_err(CoreError::from)?)?;
            let entry = EntryId::parse(&entry).map_err(CoreError::from)?;
            if let Some(reply) = conv.entry(&entry) {
                held.push(HeldReply {
                    reply: reply.clone(),
                    conversation_id: conv.id.clone(),
                    subject: conv.subject.clone(),
                });
            }
        }
        Ok(held)
    }

    /// Whether this replica's agent is an admin of the team.
    pub fn is_admin(&self) -> Result<bool> {
        Ok(self
            .team()?
            .agent(&self.identity.agent_id)
            .is_some_and(|a| a.role == AgentRole::Admin))
    }

    /// Adds an internal note; `@mentions` are resolved against the team.
    pub fn note(&mut self, id: &ConversationId, body: &str) -> Result<EntryId> {
        let mentions = self.team()?.mentioned_agents(body);
        self.write(&DocId::conversation(id), |c: &mut ConversationDoc, ctx| {
            c.add_note(ctx, body, &mentions)
        })
    }

    /// Assigns to an agent of the team, or unassigns.
    pub fn assign(&mut self, id: &ConversationId, agent: Option<&AgentId>) -> Result<()> {
        if let Some(a) = agent {
            if self.team()?.agent(a).is_none() {
                return Err(not_found("agent", a.as_str()));
            }
        }
        self.write(&DocId::conversation(id), |c: &mut ConversationDoc, ctx| {
            c.assign(ctx, agent)
        })
    }

    /// Changes the status.
    pub fn set_status(&mut self, id: &ConversationId, to: StatusChange) -> Result<()> {
        self.write(&DocId::conversation(id), |c: &mut ConversationDoc, ctx| {
            c.set_status(ctx, to)
        })
    }

    /// Sets a conversation pending until the customer confirms, with a
    /// follow-up at `follow_up_at`.
    pub fn await_confirmation(
        &mut self,
        id: &ConversationId,
        follow_up_at: Timestamp,
    ) -> Result<()> {
        self.write(&DocId::conversation(id), |c: &mut ConversationDoc, ctx| {
            c.await_confirmation(ctx, follow_up_at)
        })
    }

    /// Closes a conversation, saying how it ended.
    pub fn close_as(&mut self, id: &ConversationId, resolution: Resolution) -> Result<()> {
        self.write(&DocId::conversation(id), |c: &mut ConversationDoc, ctx| {
            c.close_as(ctx, resolution)
        })
    }

    /// Changes the priority.
    pub fn set_priority(&mut self, id: &ConversationId, priority: Priority) -> Result<()> {
        self.write(&DocId::conversation(id), |c: &mut ConversationDoc, ctx| {
            c.set_priority(ctx, priority)
        })
    }

    /// Withdraws one of this agent's replies within the undo-send window
    /// (`shoal_core::UNDO_SEND_WINDOW`): the newest still-queued one, or
    /// `entry`. Returns the withdrawn reply.
    pub fn unsend(&mut self, id: &ConversationId, entry: Option<&EntryId>) -> Result<EntryId> {
        let me = self.identity.agent_id.clone();
        let now = self.clock.now();
        let view = self.conversation(id)?;
        let reply = match entry {
            Some(e) => view.entry(e).cloned(),
            None => view
                .entries
                .iter()
                .rev()
                .find(|e| {
                    e.kind == shoal_core::EntryKind::Reply
                        && e.author == me.as_str()
                        && e.delivery.as_ref().map(|d| d.state)
                            == Some(shoal_core::DeliveryState::Queued)
                })
                .cloned(),
        };
        let Some(reply) = reply else {
            return Err(ReplicaError::Core(shoal_core::CoreError::NotWithdrawable(
                "not waiting to be sent (no queued reply of yours)".into(),
            )));
        };
        // The window starts when the relay first saw the reply (its clock);
        // until then it can always be withdrawn.
        let accepted = reply.delivery.as_ref().and_then(|d| d.accepted_at);
        let deadline =
            accepted.map(|at| at.as_millis() + shoal_core::UNDO_SEND_WINDOW.as_millis() as i64);
        if deadline.is_some_and(|d| now.as_millis() > d) {
            return Err(ReplicaError::Core(shoal_core::CoreError::NotWithdrawable(
                format!(
                    "past its {} s undo window and may be on its way",
                    shoal_core::UNDO_SEND_WINDOW.as_secs()
                ),
            )));
        }
        let entry = reply.id.clone();
        self.write(&DocId::conversation(id), |c: &mut ConversationDoc, ctx| {
            c.unsend(ctx, &entry)
        })?;
        Ok(reply.id)
    }

    /// Attaches a conversation to another customer (the sender turned out
    /// to be someone else, or wrote from a second address). A reply queued
    /// for the previous customer is then not sent (the outbox checks).
    pub fn set_conversation_customer(
        &mut self,
        id: &ConversationId,
        customer: &CustomerId,
    ) -> Result<()> {
        self.customer(customer)?;
        self.write(&DocId::conversation(id), |c: &mut ConversationDoc, ctx| {
            c.set_customer(ctx, customer)
        })
    }

    /// Adds tags.
    pub fn tag(&mut self, id: &ConversationId, tags: &[String]) -> Result<()> {
        self.write(&DocId::conversation(id), |c: &mut ConversationDoc, ctx| {
            c.tag(ctx, tags)
        })
    }

    /// Removes tags.
    pub fn untag(&mut self, id: &ConversationId, tags: &[String]) -> Result<()> {
        self.write(&DocId::conversation(id), |c: &mut ConversationDoc, ctx| {
            c.untag(ctx, tags)
        })
    }

    /// Records that this agent has been shown `shown` (the entries a screen
    /// displayed); entries that arrived since are not marked.
    pub fn mark_seen(&mut self, id: &ConversationId, shown: &[EntryId]) -> Result<()> {
        self.write(&DocId::conversation(id), |c: &mut ConversationDoc, ctx| {
            c.mark_seen(ctx, shown)
        })
    }

    // ----- queries ----------------------------------------------------------

    /// A page of the inbox.
    pub fn inbox(&self, q: &InboxQuery) -> Result<Vec<InboxRow>> {
        queries::inbox(&self.conn, q, &self.identity.agent_id, self.clock.now())
    }

    /// Number of conversations per view.
    pub fn inbox_counts(&self) -> Result<Vec<(InboxView, i64)>> {
        queries::counts(&self.conn, &self.identity.agent_id, self.clock.now())
    }

    /// Every tag: the team's vocabulary and those on conversations, sorted.
    pub fn tags(&self) -> Result<Vec<String>> {
        let mut tags: std::collections::BTreeSet<String> = self
            .conn
            .prepare_cached("SELECT DISTINCT tag FROM inbox_tags")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if let Ok(team) = self.team() {
            tags.extend(team.tags);
        }
        Ok(tags.into_iter().collect())
    }

    /// How many conversations `q` finds in all (its view and filters,
    /// ignoring paging).
    pub fn inbox_total(&self, q: &InboxQuery) -> Result<i64> {
        queries::total(&self.conn, q, &self.identity.agent_id, self.clock.now())
    }

    /// Number of conversations in one view (what [`Replica::inbox_counts`]
    /// gives for it, without counting the others).
    pub fn inbox_count(&self, view: InboxView) -> Result<i64> {
        queries::count(&self.conn, view, &self.identity.agent_id, self.clock.now())
    }

    /// This agent's conversations whose snooze ends in `(after, until]`.
    pub fn snoozes_ending(
        &self,
        after: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<queries::SnoozeEnding>> {
        queries::snoozes_ending(
            &self.conn,
            self.identity.agent_id.as_str(),
            after.as_millis(),
            until.as_millis(),
        )
    }

    /// Conversations of mine (or nobody's) awaiting the customer's
    /// confirmation whose follow-up time falls in `(after, until]`.
    pub fn follow_ups_due(
        &self,
        after: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<queries::SnoozeEnding>> {
        queries::follow_ups_due(
            &self.conn,
            self.identity.agent_id.as_str(),
            after.as_millis(),
            until.as_millis(),
        )
    }

    /// The team report over the `weeks` whole weeks up to now (see
    /// `shoal_core::report`): reads one derived row per conversation, no
    /// document.
    pub fn report(&self, weeks: u32) -> Result<shoal_core::report::Report> {
        let team = self.team()?;
        let clock = shoal_core::sla::ReplyClock::of(&team);
        let timelines = derived::timelines(&self.conn)?;
        let tiers: std::collections::HashMap<String, String> = self
            .conn
            .prepare_cached("SELECT customer_id, tier FROM customers WHERE tier IS NOT NULL")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(shoal_core::report::weekly(
            &timelines,
            &clock,
            &team.business_hours.time_zone,
            |c| tiers.get(c.as_str()).cloned(),
            self.now(),
            weeks,
        ))
    }

    /// Every conversation's assignee and newest activity (cheap: no join).
    pub fn conversation_activity(&self) -> Result<Vec<queries::ConversationActivity>> {
        queries::activity(&self.conn)
    }

    /// Full-text search over conversations and customers, best matches
    /// first. With `as_you_type`, the last word matches as a prefix.
    pub fn search(&self, input: &str, as_you_type: bool, limit: usize) -> Result<Vec<SearchHit>> {
        crate::search::run(&self.conn, input, as_you_type, limit, self.clock.now())
    }

    // ----- sync primitives ---------------------------------------------------

    /// Current heads of a stored document (empty if absent).
    pub fn heads(&self, id: &DocId) -> Result<Vec<ChangeHash>> {
        Ok(self
            .doc_cache
            .borrow_mut()
            .with(&self.conn, id, &self.actor, |d| d.get_heads())?
            .unwrap_or_default())
    }

    /// Encoded changes of a document that are not ancestors of `heads`.
    pub fn changes_since(&self, id: &DocId, heads: &[ChangeHash]) -> Result<Vec<Vec<u8>>> {
        Ok(match doc_store::load(&self.conn, id, &self.actor)? {
            Some(mut d) => doc_store::encoded_changes_since(&mut d, heads),
            None => Vec::new(),
        })
    }

    /// Ids of every stored document, optionally of one kind.
    pub fn doc_ids(&self, kind: Option<DocKind>) -> Result<Vec<DocId>> {
        doc_store::doc_ids(&self.conn, kind)
    }

    /// Applies changes received from another replica, in any order: each
    /// change is decoded first (a bad one rejects the whole batch and stores
    /// nothing), changes waiting for missing dependencies are kept until those
    /// arrive.
    pub fn apply_changes(&mut self, id: &DocId, changes: &[Vec<u8>]) -> Result<MergeOutcome> {
        let now = self.clock.now();
        let decoded = changes
            .iter()
            .map(|b| {
                Change::try_from(b.as_slice()).map_err(|e| ReplicaError::BadChange {
                    doc: id.clone(),
                    reason: e.to_string(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing = doc_store::load(&tx, id, &self.actor)?;
        let created = existing.is_none();
        let mut doc = existing.unwrap_or_else(|| AutoCommit::new().with_actor(self.actor.clone()));
        let fresh: Vec<(Change, &Vec<u8>)> = decoded
            .into_iter()
            .zip(changes)
            .filter(|(c, _)| doc.get_change_by_hash(&c.hash()).is_none())
            .collect();
        if fresh.is_empty() {
            return Ok(MergeOutcome::Unchanged);
        }
        doc.apply_changes(fresh.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>())
            .map_err(|e| ReplicaError::BadChange {
                doc: id.clone(),
                reason: e.to_string(),
            })?;
        let bytes: Vec<Vec<u8>> = fresh.iter().map(|(_, b)| (*b).clone()).collect();
        let stored = store_remote(&tx, id, created, &bytes, &doc, now)?;
        tx.commit()?;
        stored.nudge(self.compactor.as_ref());
        Ok(stored.outcome)
    }

    /// Merges a whole saved document (from an export or a generator) in the
    /// given transaction-scoped connection.
    pub(crate) fn merge_document_in(
        conn: &Connection,
        actor: &ActorId,
        id: &DocId,
        bytes: &[u8],
        now: Timestamp,
    ) -> Result<MergeOutcome> {
        let bad = |reason: String| ReplicaError::BadChange {
            doc: id.clone(),
            reason,
        };
        let mut incoming = doc_store::decode(bytes).map_err(|e| bad(e.to_string()))?;
        let view = DocView::of(id, &incoming).map_err(|e| bad(e.to_string()))?;
        match doc_store::load(conn, id, actor)? {
            None => {
                doc_store::insert(conn, id, bytes, now)?;
                doc_store::mark_dirty(conn, id)?;
                derived::write(conn, id, &view)?;
                Ok(MergeOutcome::Created)
            }
            Some(mut local) => {
                let before = local.get_heads();
                local.merge(&mut incoming).map_err(|e| bad(e.to_string()))?;
                let new = doc_store::encoded_changes_since(&mut local, &before);
                if new.is_empty() {
                    return Ok(MergeOutcome::Unchanged);
                }
                doc_store::append(conn, id, &new, false, now)?;
                doc_store::mark_dirty(conn, id)?;
                derived::update(conn, id, &local)?;
                Ok(MergeOutcome::Updated)
            }
        }
    }

    /// Merges many saved documents, committing every `batch` documents;
    /// `progress` sees the running count. Used by bulk imports.
    pub fn merge_documents(
        &mut self,
        docs: impl IntoIterator<Item = (DocId, Vec<u8>)>,
        batch: usize,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<MergeOutcome>> {
        let now = self.clock.now();
        let mut outcomes = Vec::new();
        let mut iter = docs.into_iter().peekable();
        while iter.peek().is_some() {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            for (id, bytes) in iter.by_ref().take(batch.max(1)) {
                outcomes.push(Self::merge_document_in(&tx, &self.actor, &id, &bytes, now)?);
            }
            tx.commit()?;
            progress(outcomes.len());
        }
        Ok(outcomes)
    }

    // ----- maintenance -------------------------------------------------------

    /// Rebuilds every derived table from the documents in one transaction
    /// (readers see the old tables until it commits). `progress` sees
    /// (done, total).
    pub fn reindex(&mut self, progress: &mut dyn FnMut(usize, usize)) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ids = doc_store::doc_ids(&tx, None)?;
        derived::clear(&tx)?;
        for (i, id) in ids.iter().enumerate() {
            if let Some(doc) = doc_store::load(&tx, id, &self.actor)? {
                derived::update(&tx, id, &doc)?;
            }
            if (i + 1) % 1000 == 0 || i + 1 == ids.len() {
                progress(i + 1, ids.len());
            }
        }
        tx.commit()?;
        Ok(ids.len())
    }

    /// Compacts every document with appended changes, now.
    pub fn compact_all(&mut self) -> Result<usize> {
        crate::compactor::compact_due(&self.conn, &self.actor, 1, usize::MAX)
    }

    /// Checks the SQLite file and that every document loads.
    pub fn check(&self) -> Result<Vec<String>> {
        let mut problems: Vec<String> = self
            .conn
            .prepare("PRAGMA integrity_check")?
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .filter(|s| s != "ok")
            .collect();
        for id in doc_store::doc_ids(&self.conn, None)? {
            if let Err(e) = doc_store::load(&self.conn, &id, &self.actor) {
                problems.push(e.to_string());
            }
        }
        Ok(problems)
    }

    /// Every derived row in canonical order (for comparing replicas).
    pub fn derived_dump(&self) -> Result<DerivedDump> {
        derived::dump(&self.conn)
    }

    /// Counts and sizes.
    pub fn stats(&self) -> Result<ReplicaStats> {
        let mut documents = Vec::new();
        for kind in DocKind::ALL {
            let n: i64 = self.conn.query_row(
                "SELECT COUNT(*) FROM docs WHERE kind = ?1",
                [kind.as_str()],
                |r| r.get(0),
            )?;
            documents.push((kind, n));
        }
        let pending_changes = self
            .conn
            .query_row("SELECT COUNT(*) FROM doc_changes", [], |r| r.get(0))?;
        let size = |p: PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        Ok(ReplicaStats {
            documents,
            pending_changes,
            file_bytes: size(self.path.clone()) + size(PathBuf::from(wal)),
        })
    }

    /// Writes the WAL back into the main file (before measuring its size).
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }
}

/// Stores changes that arrived from elsewhere (already applied to `doc`)
/// with the document's derived rows, in the caller's transaction; the
/// caller commits and then calls [`Stored::nudge`].
pub(crate) fn store_remote(
    conn: &Connection,
    id: &DocId,
    created: bool,
    changes: &[Vec<u8>],
    doc: &AutoCommit,
    now: Timestamp,
) -> Result<Stored> {
    if created {
        doc_store::insert(conn, id, &[], now)?;
    }
    let pending = doc_store::append(conn, id, changes, false, now)?;
    derived::update(conn, id, doc)?;
    // Read inside the transaction: after it, another process may append.
    let version = doc_cache::version(conn, id)?.unwrap_or(0);
    let outcome = if created {
        MergeOutcome::Created
    } else {
        MergeOutcome::Updated
    };
    Ok(Stored {
        outcome,
        version,
        pending,
    })
}

/// What [`store_remote`] wrote, for after the commit.
pub(crate) struct Stored {
    pub(crate) outcome: MergeOutcome,
    /// The document's version (see `doc_cache`) after the write.
    pub(crate) version: i64,
    /// Its changes not yet compacted.
    pending: i64,
}

impl Stored {
    /// Wakes the compactor if the document has many appended changes.
    pub(crate) fn nudge(&self, compactor: Option<&Compactor>) {
        if self.pending >= COMPACT_THRESHOLD {
            if let Some(c) = compactor {
                c.nudge();
            }
        }
    }
}

fn one(kind: &'static str, query: &str, mut ids: Vec<String>) -> Result<String> {
    match ids.len() {
        0 => Err(not_found(kind, query)),
        1 => Ok(ids.remove(0)),
        _ => Err(ReplicaError::Ambiguous {
            kind,
            query: query.to_owned(),
            candidates: ids.join(", "),
        }),
    }
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}
