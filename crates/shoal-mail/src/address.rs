/// A mailbox: an optional display name and an e-mail address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Address {
    /// Display name, decoded and trimmed; `None` when absent or blank.
    pub name: Option<String>,
    /// The address as written, trimmed.
    pub email: String,
}

impl Address {
    /// An address without a display name.
    pub fn new(email: impl Into<String>) -> Self {
        Address {
            name: None,
            email: email.into(),
        }
    }

    /// An address with a display name.
    pub fn with_name(name: impl Into<String>, email: impl Into<String>) -> Self {
        Address {
            name: Some(name.into()),
            email: email.into(),
        }
    }

    /// The address in lower case: the key for matching senders to customers.
    ///
    /// Local parts are case-sensitive in theory, but no mail provider treats
    /// them so, and customers type their address in whatever case.
    pub fn email_lowercase(&self) -> String {
        self.email.to_lowercase()
    }

    /// Converts a parsed mailbox, dropping entries without an address (as in
    /// `To: undisclosed-recipients:;`).
    pub(crate) fn from_parsed(addr: &mail_parser::Addr<'_>) -> Option<Address> {
        let email = addr.address()?.trim();
        if email.is_empty() {
            return None;
        }
        let name = addr.name().map(clean_name).filter(|n| !n.is_empty());
        Some(Address {
            name,
            email: email.to_string(),
        })
    }
}

/// Collapses whitespace and drops control characters, which would otherwise
/// let a crafted display name break lines wherever it is shown.
fn clean_name(name: &str) -> String {
    name.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercase_key() {
        let a = Address::with_name("Jane", "Jane.Doe@Example.COM");
        assert_eq!(a.email_lowercase(), "jane.doe@example.com");
        assert_eq!(a.email, "Jane.Doe@Example.COM");
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("  Jane \r\n Doe\t"), "Jane Doe");
        assert_eq!(clean_name("\u{7}"), "");
    }
}
