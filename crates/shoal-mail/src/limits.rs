/// Size limits applied while parsing incoming mail.
///
/// Over-limit attachments are still listed, with their data dropped, so an
/// agent can see that something was sent and ask for another channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest attachment whose data is kept, in decoded bytes.
    pub max_attachment_bytes: usize,
    /// Most attachments whose data is kept; later ones are rejected.
    pub max_attachments: usize,
}

impl Default for Limits {
    /// 25 MiB per attachment, 50 attachments: above what common mail
    /// providers accept, so legitimate mail is never cut.
    fn default() -> Self {
        Limits {
            max_attachment_bytes: 25 * 1024 * 1024,
            max_attachments: 50,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let limits = Limits::default();
        assert_eq!(limits.max_attachment_bytes, 26_214_400);
        assert_eq!(limits.max_attachments, 50);
    }
}
