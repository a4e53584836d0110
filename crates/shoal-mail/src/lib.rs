//! Sans-I/O e-mail for the relay: turns raw RFC 5322 bytes fetched over IMAP
//! into an [`IncomingMail`], and an agent's reply into bytes ready for SMTP.
//!
//! Nothing here touches the network, files or clocks: time and identifiers
//! arrive as arguments, so every rule can be tested on fixtures.
//!
//! - [`parse`] never fails: broken mail still yields the best text it can,
//!   with [`IncomingMail::warnings`] saying what was wrong;
//! - [`IncomingMail::auto`] flags machine-made mail (see [`auto`] for the
//!   rules) so that bounces and out-of-office replies neither reopen
//!   conversations nor get acknowledgements;
//! - [`IncomingMail::body`] has the quoted earlier conversation trimmed (see
//!   [`strip_quoted_reply`]);
//! - [`build_reply`] writes a multipart/alternative reply whose threading
//!   headers let the customer's mail client keep the conversation together,
//!   with a [`reply_message_id`] derived from the entry so that a retried send
//!   reuses the same Message-ID.

mod address;
mod attachments;
pub mod auto;
mod body;
mod error;
mod headers;
mod html_to_text;
mod limits;
mod message_id;
mod parse;
mod quote;
mod reply;
mod subject;
mod text_to_html;

pub use address::Address;
pub use attachments::Attachment;
pub use auto::{is_auto_submitted, AutoKind};
pub use error::MailError;
pub use html_to_text::html_to_text;
pub use limits::Limits;
pub use message_id::{normalize_message_id, parse_message_id_list, reply_message_id};
pub use parse::{parse, IncomingMail};
pub use quote::strip_quoted_reply;
pub use reply::{build_reply, OutgoingReply};
pub use subject::{is_forward_subject, normalize_subject, reply_subject};
