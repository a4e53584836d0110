//! The team document: who is on the team, shared tags, business hours and
//! SLA targets.

use crate::doc_fields::{
    change, commit, int_at, map_at_or_new, obj_at, required_obj, str_at, valid_email, valid_tag,
};
use crate::document::impl_document;
use crate::hydrated::{hydrate, ints, Node};
use crate::workflow::vocabulary;
use crate::{schema, AgentId, CoreError, Ctx, DocKind, Priority, Result, TeamId, Timestamp};
use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjId, ObjType, ScalarValue, ROOT};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

vocabulary!(
    /// An agent's role on the team.
    AgentRole, "role" {
        /// Manages the team and its settings.
        Admin => "admin",
        /// Answers customers.
        Agent => "agent",
    }
);

vocabulary!(
    /// Whether an agent takes new work now (notifications respect it).
    AgentAvailability, "availability" {
        /// Working and taking new conversations.
        Available => "available",
        /// Working, but not to be disturbed.
        Busy => "busy",
        /// Away for a while (a meeting, lunch).
        Away => "away",
        /// Not working (off shift, on leave).
        Off => "off",
    }
);

impl AgentAvailability {
    /// Whether new unassigned work should reach this agent.
    pub fn takes_new_work(self) -> bool {
        self == AgentAvailability::Available
    }
}

/// A person on the team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    /// Stable id.
    pub id: AgentId,
    /// Display name.
    pub name: String,
    /// Work e-mail address.
    pub email: String,
    /// Admin or agent.
    pub role: AgentRole,
    /// Whether they take new work now, as they set it.
    pub availability: AgentAvailability,
    /// Their own working hours, if they keep any (e.g. part time, another
    /// time zone): outside them they count as off.
    #[serde(default)]
    pub working_hours: Option<BusinessHours>,
}

impl Agent {
    /// Their availability at `now`: as they set it, except off outside their
    /// working hours.
    pub fn availability_at(&self, now: Timestamp) -> AgentAvailability {
        match &self.working_hours {
            Some(hours)
                if self.availability != AgentAvailability::Off
                    && !crate::business_time::Calendar::or_default(hours).is_open(now) =>
            {
                AgentAvailability::Off
            }
            _ => self.availability,
        }
    }

    /// First word of the name, for greetings and mentions.
    pub fn first_name(&self) -> &str {
        self.name.split_whitespace().next().unwrap_or(&self.name)
    }

    /// Whether `@handle` refers to this agent: the first name, the full name
    /// without spaces, or the local part of the e-mail address, ignoring case.
    pub fn answers_to(&self, handle: &str) -> bool {
        let handle = handle.to_lowercase();
        let local = self.email.split('@').next().unwrap_or_default();
        handle == self.first_name().to_lowercase()
            || handle == self.name.replace(' ', "").to_lowercase()
            || handle == local.to_lowercase()
    }
}

/// When the team works: used by SLA clocks. Minutes are from local midnight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessHours {
    /// IANA time zone name, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// Working days, 1 = Monday … 7 = Sunday.
    pub days: Vec<u8>,
    /// Start of the working day in minutes after midnight.
    pub start_minute: u16,
    /// End of the working day in minutes after midnight (1440: midnight
    /// at the day's end).
    pub end_minute: u16,
    /// Days off, `YYYY-MM-DD` in the team's zone, each with a label.
    #[serde(default)]
    pub holidays: BTreeMap<String, String>,
}

impl BusinessHours {
    /// Checks the hours: a known IANA zone, at least one working day
    /// (1–7), a day that opens before it closes, and real holiday dates.
    pub fn validate(&self) -> Result<()> {
        let invalid = |field: &'static str, value: String| CoreError::InvalidValue { field, value };
        if jiff::tz::TimeZone::get(&self.time_zone).is_err() {
            return Err(invalid("time zone", self.time_zone.clone()));
        }
        if self.days.is_empty() || self.days.iter().any(|d| !(1..=7).contains(d)) {
            return Err(invalid("working days", format!("{:?}", self.days)));
        }
        if self.start_minute >= self.end_minute || self.end_minute > 1440 {
            return Err(invalid(
                "working hours",
                format!("{}–{}", hhmm(self.start_minute), hhmm(self.end_minute)),
            ));
        }
        for date in self.holidays.keys() {
            if date.parse::<jiff::civil::Date>().is_err() || date.len() != 10 {
                return Err(invalid("holiday (YYYY-MM-DD)", date.clone()));
            }
        }
        Ok(())
    }
}

const DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

impl BusinessHours {
    /// The hours as a customer reads them: "Monday to Friday, 09:00–17:00
    /// (Europe/Berlin)".
    pub fn describe(&self) -> String {
        let mut days: Vec<u8> = self.days.clone();
        days.sort_unstable();
        days.dedup();
        let name = |d: u8| DAY_NAMES[usize::from(d.clamp(1, 7)) - 1];
        let contiguous = days.windows(2).all(|w| w[1] == w[0] + 1);
        let when = match days.as_slice() {
            [] => "no day".to_owned(),
            d if d.len() == 7 => "every day".to_owned(),
            [one] => name(*one).to_owned(),
            d if contiguous => format!("{} to {}", name(d[0]), name(d[d.len() - 1])),
            d => {
                let names: Vec<&str> = d.iter().map(|x| name(*x)).collect();
                format!(
                    "{} and {}",
                    names[..names.len() - 1].join(", "),
                    names[names.len() - 1]
                )
            }
        };
        format!(
            "{when}, {}–{} ({})",
            hhmm(self.start_minute),
            hhmm(self.end_minute),
            self.time_zone
        )
    }
}

/// An acknowledgement the relay sends to each new conversation arriving at
/// one mailbox (a team's setting, off unless an admin turns it on).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// The text; placeholders: `{customer.name}`, `{customer.first_name}`,
    /// `{team.name}`, `{team.hours}`, `{due}` (when the answer is due).
    pub text: String,
    /// At most one acknowledgement per customer within this many hours.
    pub every_hours: u32,
}

/// The acknowledgement text unless the admin writes another.
pub const DEFAULT_ACKNOWLEDGEMENT: &str = "Hello {customer.first_name},\n\n\
Thank you for writing to {team.name}. We have your message, and you will \
hear from us by {due}.\n\nOur hours: {team.hours}.\n\n{team.name}\n";

/// `minute` after midnight as `HH:MM`.
pub fn hhmm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// A time of day `HH:MM` (`24:00` for the day's end) as minutes after
/// midnight; the reverse of [`hhmm`].
pub fn parse_hhmm(input: &str) -> Result<u16> {
    let bad = || CoreError::InvalidValue {
        field: "time of day (HH:MM, e.g. 09:00 or 17:30)",
        value: input.to_owned(),
    };
    let (h, m) = input.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl Default for BusinessHours {
    fn default() -> Self {
        Self {
            time_zone: "UTC".into(),
            days: vec![1, 2, 3, 4, 5],
            start_minute: 9 * 60,
            end_minute: 17 * 60,
            holidays: BTreeMap::new(),
        }
    }
}

/// Response-time targets for one priority, in business minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTarget {
    /// First agent reply after the conversation opens.
    pub first_response_minutes: u32,
    /// Agent reply after each further customer message.
    pub next_response_minutes: u32,
}

fn default_sla(p: Priority) -> SlaTarget {
    let (first, next) = match p {
        Priority::Urgent => (60, 120),
        Priority::High => (120, 240),
        Priority::Normal => (240, 480),
        Priority::Low => (480, 960),
    };
    SlaTarget {
        first_response_minutes: first,
        next_response_minutes: next,
    }
}

/// Read view of a team document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// Team id.
    pub id: TeamId,
    /// Team name.
    pub name: String,
    /// When the team was created.
    pub created_at: Timestamp,
    /// Agents, sorted by name.
    pub agents: Vec<Agent>,
    /// The team's tag vocabulary, sorted.
    pub tags: Vec<String>,
    /// Working hours.
    pub business_hours: BusinessHours,
    /// SLA targets per priority.
    pub sla: BTreeMap<Priority, SlaTarget>,
    /// Support tiers (e.g. standard, premium) and the priority each gives
    /// its customers' new conversations.
    #[serde(default)]
    pub tiers: BTreeMap<String, Priority>,
    /// Acknowledgements of new conversations, by mailbox address (lowercase).
    #[serde(default)]
    pub acknowledgements: BTreeMap<String, Acknowledgement>,
    /// Business days of customer silence after which the relay closes a
    /// pending conversation as "no reply"; `None`: never.
    #[serde(default)]
    pub auto_close_days: Option<u32>,
}

impl Team {
    /// The agent with this id.
    pub fn agent(&self, id: &AgentId) -> Option<&Agent> {
        self.agents.iter().find(|a| &a.id == id)
    }

    /// Finds an agent by id, id prefix (at least 4 characters), e-mail or
    /// name (case-insensitive). Ambiguous queries find nothing.
    pub fn find_agent(&self, query: &str) -> Option<&Agent> {
        let q = query.trim().to_lowercase();
        let exact: Vec<&Agent> = self
            .agents
            .iter()
            .filter(|a| {
                a.id.as_str() == q || a.email.to_lowercase() == q || a.name.to_lowercase() == q
            })
            .collect();
        if exact.len() == 1 {
            return Some(exact[0]);
        }
        let loose: Vec<&Agent> = self
            .agents
            .iter()
            .filter(|a| (q.len() >= 4 && a.id.as_str().starts_with(&q)) || a.answers_to(&q))
            .collect();
        (loose.len() == 1).then(|| loose[0])
    }

    /// The priority of new conversations of a customer in `tier`: the tier's,
    /// or normal for no tier or one the team does not define.
    pub fn tier_priority(&self, tier: Option<&str>) -> Priority {
        tier.and_then(|t| self.tiers.get(&t.trim().to_lowercase()))
            .copied()
            .unwrap_or(Priority::Normal)
    }

    /// The agents mentioned in `body` (see [`crate::mention_handles`]).
    pub fn mentioned_agents(&self, body: &str) -> Vec<AgentId> {
        crate::mention_handles(body)
            .iter()
            .filter_map(|h| {
                let matching: Vec<&Agent> =
                    self.agents.iter().filter(|a| a.answers_to(h)).collect();
                (matching.len() == 1).then(|| matching[0].id.clone())
            })
            .collect()
    }
}

/// The longest auto-close a team can set, in business days.
pub const MAX_AUTO_CLOSE_DAYS: u32 = 365;

/// A team document.
#[derive(Debug, Clone)]
pub struct TeamDoc {
    doc: AutoCommit,
}

impl TeamDoc {
    /// Creates a team whose first agent (an admin) is the acting agent.
    pub fn create(
        actor: ActorId,
        ctx: &Ctx,
        id: &TeamId,
        name: &str,
        first_agent_name: &str,
        first_agent_email: &str,
    ) -> Result<Self> {
        let name = name.trim();
        if name.is_empty() {
            return Err(CoreError::EmptyField("team name"));
        }
        let email = valid_email(first_agent_email)?;
        let mut doc = AutoCommit::new().with_actor(actor);
        write_base(&mut doc, id, name, ctx.now)?;
        put_agent(
            &mut doc,
            &ctx.agent,
            first_agent_name,
            &email,
            AgentRole::Admin,
        )?;
        commit(&mut doc, ctx, "create team");
        Ok(Self { doc })
    }

    /// Adds an agent (or updates one with the same id) and returns its id.
    pub fn add_agent(
        &mut self,
        ctx: &Ctx,
        id: &AgentId,
        name: &str,
        email: &str,
        role: AgentRole,
    ) -> Result<()> {
        let email = valid_email(email)?;
        change(&mut self.doc, ctx, "add agent", |doc| {
            put_agent(doc, id, name, &email, role)
        })
    }

    /// Sets an agent's availability.
    pub fn set_availability(
        &mut self,
        ctx: &Ctx,
        id: &AgentId,
        availability: AgentAvailability,
    ) -> Result<()> {
        change(&mut self.doc, ctx, "set availability", |doc| {
            let agents = required_obj(doc, &ROOT, "agents")?;
            let agent = obj_at(doc, &agents, id.as_str()).ok_or(CoreError::InvalidValue {
                field: "agent",
                value: id.to_string(),
            })?;
            doc.put(&agent, "availability", availability.as_str())?;
            Ok(())
        })
    }

    /// Sets (or with `None` clears) an agent's own working hours.
    pub fn set_working_hours(
        &mut self,
        ctx: &Ctx,
        id: &AgentId,
        hours: Option<&BusinessHours>,
    ) -> Result<()> {
        if let Some(h) = hours {
            h.validate()?;
        }
        change(&mut self.doc, ctx, "set working hours", |doc| {
            let agents = required_obj(doc, &ROOT, "agents")?;
            let agent = obj_at(doc, &agents, id.as_str()).ok_or(CoreError::InvalidValue {
                field: "agent",
                value: id.to_string(),
            })?;
            match hours {
                Some(h) => {
                    let obj = doc.put_object(&agent, "working_hours", ObjType::Map)?;
                    write_hours(doc, &obj, h)?;
                }
                None => {
                    if obj_at(doc, &agent, "working_hours").is_some() {
                        doc.delete(&agent, "working_hours")?;
                    }
                }
            }
            Ok(())
        })
    }

    /// Sets after how many business days of customer silence a pending
    /// conversation is closed as "no reply" (1–365), or turns it off.
    pub fn set_auto_close(&mut self, ctx: &Ctx, days: Option<u32>) -> Result<()> {
        if let Some(d) = days.filter(|d| !(1..=MAX_AUTO_CLOSE_DAYS).contains(d)) {
            return Err(CoreError::InvalidValue {
                field: "auto-close days (1 to 365)",
                value: d.to_string(),
            });
        }
        change(&mut self.doc, ctx, "set auto-close", |doc| {
            match days {
                Some(d) => doc.put(ROOT, "auto_close_days", i64::from(d))?,
                None => doc.put(ROOT, "auto_close_days", ScalarValue::Null)?,
            }
            Ok(())
        })
    }

    /// Adds tags to the team's vocabulary (existing ones are left alone).
    pub fn add_tags(&mut self, ctx: &Ctx, tags: &[String]) -> Result<()> {
        let tags = tags
            .iter()
            .map(|t| valid_tag(t))
            .collect::<Result<Vec<_>>>()?;
        change(&mut self.doc, ctx, "add tags", |doc| {
            let obj = required_obj(doc, &ROOT, "tags")?;
            for t in &tags {
                if obj_at(doc, &obj, t).is_none()
                    && str_at(doc, &obj, t).is_none()
                    && int_at(doc, &obj, t).is_none()
                {
                    doc.put(&obj, t.as_str(), true)?;
                }
            }
            Ok(())
        })
    }

    /// Replaces the business hours (holidays included); refuses invalid
    /// ones (see [`BusinessHours::validate`]).
    pub fn set_business_hours(&mut self, ctx: &Ctx, hours: &BusinessHours) -> Result<()> {
        hours.validate()?;
        change(&mut self.doc, ctx, "set business hours", |doc| {
            let h = doc.put_object(ROOT, "business_hours", ObjType::Map)?;
            write_hours(doc, &h, hours)
        })
    }

    /// Adds a day off (`YYYY-MM-DD`) with a label, or relabels it.
    pub fn add_holiday(&mut self, ctx: &Ctx, date: &str, label: &str) -> Result<()> {
        let mut check = BusinessHours::default();
        check.holidays.insert(date.to_owned(), String::new());
        check.validate()?;
        change(&mut self.doc, ctx, "add holiday", |doc| {
            let h = required_obj(doc, &ROOT, "business_hours")?;
            let days = map_at_or_new(doc, &h, "holidays")?;
            doc.put(&days, date, label.trim())?;
            Ok(())
        })
    }

    /// Removes a day off; `false` when it was not one.
    pub fn remove_holiday(&mut self, ctx: &Ctx, date: &str) -> Result<bool> {
        let days = obj_at(&self.doc, &ROOT, "business_hours")
            .and_then(|h| obj_at(&self.doc, &h, "holidays"));
        self.remove_key(ctx, "remove holiday", days, date)
    }

    /// Defines a support tier (a lowercase word) and the priority of its
    /// customers' new conversations, or changes that priority.
    pub fn set_tier(&mut self, ctx: &Ctx, tier: &str, priority: Priority) -> Result<()> {
        let tier = valid_tag(tier).map_err(|_| CoreError::InvalidValue {
            field: "tier (a word: letters, digits, - and _)",
            value: tier.to_owned(),
        })?;
        change(&mut self.doc, ctx, "set tier", |doc| {
            let tiers = map_at_or_new(doc, &ROOT, "tiers")?;
            doc.put(&tiers, tier.as_str(), priority.as_str())?;
            Ok(())
        })
    }

    /// Removes a support tier; `false` when there was none by that name.
    pub fn remove_tier(&mut self, ctx: &Ctx, tier: &str) -> Result<bool> {
        let tiers = obj_at(&self.doc, &ROOT, "tiers");
        self.remove_key(ctx, "remove tier", tiers, tier)
    }

    /// Deletes the string at `map[key]` in a change of its own; `false` (and
    /// no change) when there is none.
    fn remove_key(&mut self, ctx: &Ctx, what: &str, map: Option<ObjId>, key: &str) -> Result<bool> {
        let Some(map) = map.filter(|m| str_at(&self.doc, m, key).is_some()) else {
            return Ok(false);
        };
        change(&mut self.doc, ctx, what, |doc| {
            doc.delete(&map, key)?;
            Ok(())
        })?;
        Ok(true)
    }

    /// Turns the acknowledgement of new conversations at `mailbox` on (with
    /// this text and interval) or off (`None`).
    pub fn set_acknowledgement(
        &mut self,
        ctx: &Ctx,
        mailbox: &str,
        ack: Option<&Acknowledgement>,
    ) -> Result<()> {
        let mailbox = valid_email(mailbox)?.to_lowercase();
        if let Some(a) = ack {
            if a.text.trim().is_empty() {
                return Err(CoreError::EmptyField("acknowledgement text"));
            }
            if a.text.len() > 8 * 1024 {
                return Err(CoreError::InvalidValue {
                    field: "acknowledgement text (at most 8 KiB)",
                    value: format!("{} bytes", a.text.len()),
                });
            }
        }
        change(&mut self.doc, ctx, "set acknowledgement", |doc| {
            let acks = map_at_or_new(doc, &ROOT, "acknowledgements")?;
            match ack {
                Some(a) => {
                    let m = doc.put_object(&acks, mailbox.as_str(), ObjType::Map)?;
                    doc.put(&m, "text", a.text.as_str())?;
                    doc.put(&m, "every_hours", i64::from(a.every_hours))?;
                }
                None => doc.delete(&acks, mailbox.as_str())?,
            }
            Ok(())
        })
    }

    /// Sets the SLA target of one priority.
    pub fn set_sla(&mut self, ctx: &Ctx, priority: Priority, target: SlaTarget) -> Result<()> {
        change(&mut self.doc, ctx, "set sla", |doc| {
            let sla = required_obj(doc, &ROOT, "sla")?;
            let t = doc.put_object(&sla, priority.as_str(), ObjType::Map)?;
            write_sla(doc, &t, target)
        })
    }
}

/// The team document's first state without agents, as a relay creates it:
/// deterministic (an actor derived from the team id, the team's creation
/// time), so every process that creates it produces the very same change.
impl TeamDoc {
    /// Creates the agent-less first state of a team hosted on a relay.
    pub fn genesis(id: &TeamId, name: &str, created_at: Timestamp) -> Result<Self> {
        let name = name.trim();
        if name.is_empty() {
            return Err(CoreError::EmptyField("team name"));
        }
        let actor = ActorId::from(format!("team:{id}").into_bytes());
        let mut doc = AutoCommit::new().with_actor(actor);
        write_base(&mut doc, id, name, created_at)?;
        let ctx = Ctx::new(AgentId::parse("relay")?, created_at);
        commit(&mut doc, &ctx, "create team");
        Ok(Self { doc })
    }
}

fn write_base(doc: &mut AutoCommit, id: &TeamId, name: &str, at: Timestamp) -> Result<()> {
    schema::stamp(doc, DocKind::Team)?;
    doc.put(ROOT, "id", id.as_str())?;
    doc.put(ROOT, "name", name)?;
    doc.put(ROOT, "created_at", at.as_millis())?;
    doc.put_object(ROOT, "agents", ObjType::Map)?;
    doc.put_object(ROOT, "tags", ObjType::Map)?;
    let hours = doc.put_object(ROOT, "business_hours", ObjType::Map)?;
    write_hours(doc, &hours, &BusinessHours::default())?;
    let sla = doc.put_object(ROOT, "sla", ObjType::Map)?;
    for p in Priority::ALL {
        let t = doc.put_object(&sla, p.as_str(), ObjType::Map)?;
        write_sla(doc, &t, default_sla(*p))?;
    }
    Ok(())
}

fn put_agent(
    doc: &mut AutoCommit,
    id: &AgentId,
    name: &str,
    email: &str,
    role: AgentRole,
) -> Result<()> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CoreError::EmptyField("agent name"));
    }
    let agents = required_obj(doc, &ROOT, "agents")?;
    let a = match obj_at(doc, &agents, id.as_str()) {
        Some(existing) => existing,
        None => {
            let a = doc.put_object(&agents, id.as_str(), ObjType::Map)?;
            doc.put(&a, "availability", AgentAvailability::Available.as_str())?;
            a
        }
    };
    doc.put(&a, "name", name)?;
    doc.put(&a, "email", email)?;
    doc.put(&a, "role", role.as_str())?;
    Ok(())
}

fn write_hours(doc: &mut AutoCommit, h: &ObjId, hours: &BusinessHours) -> Result<()> {
    doc.put(h, "time_zone", hours.time_zone.as_str())?;
    doc.put(h, "start_minute", hours.start_minute as i64)?;
    doc.put(h, "end_minute", hours.end_minute as i64)?;
    let days = doc.put_object(h, "days", ObjType::List)?;
    for (i, day) in hours.days.iter().enumerate() {
        doc.insert(&days, i, *day as i64)?;
    }
    let holidays = doc.put_object(h, "holidays", ObjType::Map)?;
    for (date, label) in &hours.holidays {
        doc.put(&holidays, date.as_str(), label.as_str())?;
    }
    Ok(())
}

fn write_sla(doc: &mut AutoCommit, t: &ObjId, target: SlaTarget) -> Result<()> {
    doc.put(
        t,
        "first_response_minutes",
        target.first_response_minutes as i64,
    )?;
    doc.put(
        t,
        "next_response_minutes",
        target.next_response_minutes as i64,
    )?;
    Ok(())
}

impl_document!(TeamDoc, Team, DocKind::Team);

fn read(doc: &AutoCommit) -> Result<Team> {
    let hydrated = hydrate(doc)?;
    let d = Node::root(&hydrated)?;
    let agents_obj = d.required_map("agents")?;
    let mut agents: Vec<Agent> = agents_obj
        .keys()
        .into_iter()
        .filter_map(|id| {
            let a = agents_obj.map(&id)?;
            Some(Agent {
                id: AgentId::parse(&id).ok()?,
                name: a.str("name")?,
                email: a.str("email").unwrap_or_default(),
                role: a
                    .str("role")
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(AgentRole::Agent),
                availability: a
                    .str("availability")
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(AgentAvailability::Available),
                working_hours: a.map("working_hours").map(|h| read_hours(&h)),
            })
        })
        .collect();
    agents.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.id.cmp(&b.id))
    });
    let tags = d.map("tags").map(|t| t.keys()).unwrap_or_default();
    let business_hours = d
        .map("business_hours")
        .map(|h| read_hours(&h))
        .unwrap_or_default();
    let sla = Priority::ALL
        .iter()
        .map(|p| {
            let target = d
                .map("sla")
                .and_then(|s| s.map(p.as_str()))
                .map(|t| SlaTarget {
                    first_response_minutes: t.int("first_response_minutes").unwrap_or(240) as u32,
                    next_response_minutes: t.int("next_response_minutes").unwrap_or(480) as u32,
                })
                .unwrap_or_else(|| default_sla(*p));
            (*p, target)
        })
        .collect();
    let tiers = d
        .map("tiers")
        .map(|m| {
            m.keys()
                .into_iter()
                .filter_map(|t| {
                    let p = m.str(&t)?.parse().ok()?;
                    Some((t, p))
                })
                .collect()
        })
        .unwrap_or_default();
    let acknowledgements = d
        .map("acknowledgements")
        .map(|m| {
            m.keys()
                .into_iter()
                .filter_map(|address| {
                    let a = m.map(&address)?;
                    Some((
                        address,
                        Acknowledgement {
                            text: a.str("text")?,
                            every_hours: a.int("every_hours").unwrap_or(24).max(0) as u32,
                        },
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Team {
        id: TeamId::parse(&d.required_str("id")?)?,
        name: d.required_str("name")?,
        created_at: Timestamp(d.int("created_at").unwrap_or(0)),
        agents,
        tags,
        business_hours,
        sla,
        tiers,
        acknowledgements,
        auto_close_days: d
            .int("auto_close_days")
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| (1..=MAX_AUTO_CLOSE_DAYS).contains(n)),
    })
}

fn read_hours(h: &Node<'_>) -> BusinessHours {
    BusinessHours {
        time_zone: h.str("time_zone").unwrap_or_else(|| "UTC".into()),
        days: h
            .list("days")
            .map(|l| ints(l).into_iter().map(|n| n as u8).collect())
            .unwrap_or_default(),
        start_minute: h.int("start_minute").unwrap_or(540) as u16,
        end_minute: h.int("end_minute").unwrap_or(1020) as u16,
        holidays: h
            .map("holidays")
            .map(|m| {
                m.keys()
                    .into_iter()
                    .map(|d| {
                        let label = m.str(&d).unwrap_or_default();
                        (d, label)
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Document;

    fn ctx() -> Ctx {
        Ctx::new(AgentId::parse("ana").unwrap(), Timestamp(1_000))
    }

    #[test]
    fn create_and_grow_a_team() {
        let mut t = TeamDoc::create(
            ActorId::random(),
            &ctx(),
            &TeamId::parse("t1").unwrap(),
            "Northwind",
            "Ana Lima",
            "ana@northwind.example",
        )
        .unwrap();
        t.add_agent(
            &ctx(),
            &AgentId::parse("ben").unwrap(),
            "Ben Okafor",
            "ben@northwind.example",
            AgentRole::Agent,
        )
        .unwrap();
        let v = t.view().unwrap();
        assert_eq!(v.name, "Northwind");
        assert_eq!(v.agents.len(), 2);
        assert_eq!(v.agents[0].role, AgentRole::Admin);
        assert_eq!(v.find_agent("ben").unwrap().name, "Ben Okafor");
        assert_eq!(
            v.find_agent("ANA@northwind.example").unwrap().name,
            "Ana Lima"
        );
        assert_eq!(
            v.mentioned_agents("@ben please look, @nobody"),
            vec![AgentId::parse("ben").unwrap()]
        );
        assert_eq!(v.sla[&Priority::Urgent].first_response_minutes, 60);
    }

    #[test]
    fn genesis_is_the_same_everywhere() {
        let id = TeamId::parse("t1").unwrap();
        let mut a = TeamDoc::genesis(&id, "Northwind", Timestamp(5)).unwrap();
        let mut b = TeamDoc::genesis(&id, "Northwind", Timestamp(5)).unwrap();
        assert_eq!(a.automerge_mut().get_heads(), b.automerge_mut().get_heads());
        assert!(a.view().unwrap().agents.is_empty());
    }

    #[test]
    fn invalid_agent_input_is_refused() {
        let mut t = TeamDoc::create(
            ActorId::random(),
            &ctx(),
            &TeamId::parse("t1").unwrap(),
            "N",
            "Ana",
            "ana@n.example",
        )
        .unwrap();
        let heads = t.automerge_mut().get_heads();
        assert!(t
            .add_agent(
                &ctx(),
                &AgentId::parse("x").unwrap(),
                "X",
                "not-an-email",
                AgentRole::Agent
            )
            .is_err());
        assert!(t
            .add_agent(
                &ctx(),
                &AgentId::parse("x").unwrap(),
                " ",
                "x@n.example",
                AgentRole::Agent
            )
            .is_err());
        assert_eq!(
            t.automerge_mut().get_heads(),
            heads,
            "a refused operation leaves no change"
        );
    }

    #[test]
    fn holidays_and_tiers_round_trip_and_are_checked() {
        let mut t = TeamDoc::create(
            ActorId::random(),
            &ctx(),
            &TeamId::parse("t1").unwrap(),
            "Northwind",
            "Ana Lima",
            "ana@northwind.example",
        )
        .unwrap();
        t.add_holiday(&ctx(), "2026-12-25", "Christmas").unwrap();
        assert!(t.add_holiday(&ctx(), "25/12/2026", "").is_err());
        t.set_tier(&ctx(), "Premium", Priority::High).unwrap();
        assert!(t.set_tier(&ctx(), "two words", Priority::High).is_err());
        let v = t.view().unwrap();
        assert_eq!(v.business_hours.holidays["2026-12-25"], "Christmas");
        assert_eq!(v.tiers["premium"], Priority::High);
        assert_eq!(v.tier_priority(Some("PREMIUM")), Priority::High);
        assert_eq!(v.tier_priority(Some("gold")), Priority::Normal);
        assert_eq!(v.tier_priority(None), Priority::Normal);
        // Setting the hours keeps the holidays they carry.
        let mut hours = v.business_hours.clone();
        hours.time_zone = "Europe/Lisbon".into();
        t.set_business_hours(&ctx(), &hours).unwrap();
        assert_eq!(t.view().unwrap().business_hours, hours);
        hours.time_zone = "Nowhere/Land".into();
        assert!(t.set_business_hours(&ctx(), &hours).is_err());
        assert!(t.remove_holiday(&ctx(), "2026-12-25").unwrap());
        assert!(!t.remove_holiday(&ctx(), "2026-12-25").unwrap());
        assert!(t.remove_tier(&ctx(), "premium").unwrap());
        assert!(t.view().unwrap().tiers.is_empty());
    }

    #[test]
    fn working_hours_make_an_agent_off_outside_them_and_auto_close_round_trips() {
        let mut t = TeamDoc::create(
            ActorId::random(),
            &ctx(),
            &TeamId::parse("t1").unwrap(),
            "Northwind",
            "Ana Lima",
            "ana@northwind.example",
        )
        .unwrap();
        let ana = t.view().unwrap().agents[0].id.clone();
        // Mondays to Wednesdays, 08:00–12:00 in Lisbon (UTC+0 in December).
        let part_time = BusinessHours {
            time_zone: "Europe/Lisbon".into(),
            days: vec![1, 2, 3],
            start_minute: 8 * 60,
            end_minute: 12 * 60,
            holidays: BTreeMap::new(),
        };
        t.set_working_hours(&ctx(), &ana, Some(&part_time)).unwrap();
        let me = t.view().unwrap().agents[0].clone();
        assert_eq!(me.working_hours.as_ref(), Some(&part_time));
        let monday = |h: i64| Timestamp(1_796_601_600_000 + h * 3_600_000);
        assert_eq!(me.availability_at(monday(9)), AgentAvailability::Available);
        assert_eq!(me.availability_at(monday(13)), AgentAvailability::Off);
        assert_eq!(
            me.availability_at(monday(3 * 24 + 9)),
            AgentAvailability::Off,
            "Thursday"
        );
        t.set_availability(&ctx(), &ana, AgentAvailability::Away)
            .unwrap();
        let me = t.view().unwrap().agents[0].clone();
        assert_eq!(me.availability_at(monday(9)), AgentAvailability::Away);
        t.set_working_hours(&ctx(), &ana, None).unwrap();
        assert_eq!(t.view().unwrap().agents[0].working_hours, None);
        let bad = BusinessHours {
            days: vec![],
            ..part_time
        };
        assert!(t.set_working_hours(&ctx(), &ana, Some(&bad)).is_err());

        assert_eq!(t.view().unwrap().auto_close_days, None);
        t.set_auto_close(&ctx(), Some(5)).unwrap();
        assert_eq!(t.view().unwrap().auto_close_days, Some(5));
        assert!(t.set_auto_close(&ctx(), Some(0)).is_err());
        assert!(t.set_auto_close(&ctx(), Some(366)).is_err());
        t.set_auto_close(&ctx(), None).unwrap();
        assert_eq!(t.view().unwrap().auto_close_days, None);
    }
}
