//! Expansion of canned responses.

use crate::{Agent, Customer, Team};

/// Replaces `{customer.name}`, `{customer.first_name}`, `{customer.company}`,
/// `{agent.name}`, `{agent.first_name}`, `{team.name}` and `{team.hours}`
/// (the business hours in words) in `body`. Placeholders whose value is
/// unknown become empty, except that a missing first name falls back to
/// "there" so "Hi {customer.first_name}," still reads well.
pub fn expand_template(
    body: &str,
    customer: Option<&Customer>,
    agent: Option<&Agent>,
    team: Option<&Team>,
) -> String {
    let hours = team
        .map(|t| t.business_hours.describe())
        .unwrap_or_default();
    let first = customer
        .map(|c| c.first_name())
        .filter(|f| !f.is_empty())
        .unwrap_or("there");
    let pairs = [
        (
            "{customer.name}",
            customer.map(|c| c.name.as_str()).unwrap_or_default(),
        ),
        ("{customer.first_name}", first),
        (
            "{customer.company}",
            customer
                .and_then(|c| c.company.as_deref())
                .unwrap_or_default(),
        ),
        (
            "{agent.name}",
            agent.map(|a| a.name.as_str()).unwrap_or_default(),
        ),
        (
            "{agent.first_name}",
            agent.map(|a| a.first_name()).unwrap_or_default(),
        ),
        (
            "{team.name}",
            team.map(|t| t.name.as_str()).unwrap_or_default(),
        ),
        ("{team.hours}", hours.as_str()),
    ];
    pairs
        .iter()
        .fold(body.to_owned(), |acc, (k, v)| acc.replace(k, v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AgentAvailability, AgentId, AgentRole, CustomerId, Timestamp};

    #[test]
    fn expands_known_placeholders() {
        let c = Customer {
            id: CustomerId::parse("c").unwrap(),
            name: "Maria Garcia".into(),
            emails: vec![],
            company: Some("Acme".into()),
            tier: None,
            notes: String::new(),
            created_at: Timestamp(0),
        };
        let a = Agent {
            id: AgentId::parse("a").unwrap(),
            name: "Ana Lima".into(),
            email: "ana@x.example".into(),
            role: AgentRole::Agent,
            availability: AgentAvailability::Available,
            working_hours: None,
        };
        assert_eq!(
            expand_template("Hi {customer.first_name} at {customer.company}, {agent.first_name} here. {unknown}", Some(&c), Some(&a), None),
            "Hi Maria at Acme, Ana here. {unknown}"
        );
        assert_eq!(
            expand_template("Hi {customer.first_name},", None, None, None),
            "Hi there,"
        );
        let team = crate::TeamDoc::genesis(
            &crate::TeamId::parse("t1").unwrap(),
            "Northwind",
            Timestamp(0),
        )
        .unwrap()
        .view()
        .unwrap();
        assert_eq!(
            expand_template("{team.name} answers {team.hours}.", None, None, Some(&team)),
            "Northwind answers Monday to Friday, 09:00–17:00 (UTC)."
        );
    }
}
