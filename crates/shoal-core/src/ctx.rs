use crate::{AgentId, Timestamp};

/// Who acts and when: passed to every operation so the domain never reads a
/// clock and every change records its author.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ctx {
    /// The agent performing the operation.
    pub agent: AgentId,
    /// The moment of the operation.
    pub now: Timestamp,
}

impl Ctx {
    /// A context for `agent` acting at `now`.
    pub fn new(agent: AgentId, now: Timestamp) -> Self {
        Self { agent, now }
    }
}
