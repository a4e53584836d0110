//! Every command, option and `--help` text of `shoal`.
//!
//! Values from the domain's small vocabularies (status, priority, channel,
//! view, role) are parsed by [`vocab`], so `--help` and error messages list
//! exactly what `shoal-core` accepts.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{ArgGroup, Args, Parser, Subcommand};
use shoal_core::{AgentAvailability, AgentRole, Channel, Priority, Status};
use shoal_replica::{InboxSort, InboxView};
use std::path::PathBuf;

const MAIN_EXAMPLES: &str = "\
Examples:
  shoal init --team 'Acme Support' --name 'Ana Lima' --email ana@acme.example
  shoal new --customer maria@example.com --subject 'Charged twice' --body 'She called about…'
  shoal inbox --view mine
  shoal show 3f2a
  shoal reply 3f2a --body 'Refunded, sorry about that!'
  shoal status 3f2a snoozed --until tomorrow

Every command has --help; read commands take --json. The replica lives in --home DIR
(or $SHOAL_HOME).";

const INIT_EXAMPLES: &str = "\
Examples:
  shoal init --team 'Acme Support' --name 'Ana Lima' --email ana@acme.example
  shoal init --from backup.jsonl --agent ana@acme.example     # restore a backup
  shoal --home ~/ben init --from team.jsonl --agent ben@acme.example   # join a team";

const NEW_EXAMPLES: &str = "\
Examples:
  shoal new --customer maria@example.com --customer-name 'Maria Garcia' \\
            --subject 'Charged twice' --body 'Called: she sees two charges for order 1042.'
  pbpaste | shoal new --customer bob@example.com --subject 'Login' --channel chat --body -";

const INBOX_EXAMPLES: &str = "\
Examples:
  shoal inbox                        # everything open
  shoal inbox --view mine
  shoal inbox --status snoozed
  shoal inbox --view all --customer maria@example.com --json";

const SHOW_EXAMPLES: &str = "\
Examples:
  shoal show 3f2a9c1d
  shoal show 3f2a --json --no-mark-seen";

const REPLY_EXAMPLES: &str = "\
Examples:
  shoal reply 3f2a --body 'Refunded, sorry about that!'
  shoal reply 3f2a --template refund-done
  shoal reply 3f2a --body-file answer.txt --force

Send guard: if the conversation has customer messages or other agents' replies you have
not seen, the reply is refused (exit code 3) and those entries are listed. Read them with
`shoal show CONV`, or pass --force to send anyway.";

const STATUS_EXAMPLES: &str = "\
Examples:
  shoal status                                # this replica: identity, sync, counts
  shoal status 3f2a pending
  shoal status 3f2a snoozed --until 2h
  shoal status 3f2a snoozed --until 'monday 14:00'
  shoal status 3f2a snoozed --until reply     # until the customer replies (= pending)
  shoal status 3f2a closed --confirmed        # the customer confirmed it is solved
  shoal status 3f2a pending --follow-up 3d    # close when the customer confirms; remind me in 3 days

--until and --follow-up accept: 2026-12-01T09:00:00Z (RFC 3339), 2026-12-01 (09:00 local),
2026-12-01 14:30 (local), 30m / 2h / 3d / 1w (from now, optionally with a leading +),
tomorrow (09:00), monday … sunday (the next such day, 09:00); tomorrow and weekdays
may be followed by a time (HH:MM).";

const CUSTOMER_EXAMPLES: &str = "\
Examples:
  shoal customer show maria@example.com
  shoal customer edit maria@example.com --company Acme --tier pro
  shoal customer note maria@example.com --append 'Renewal in March.'
  shoal customer new --name 'Bob Stone' --email bob@example.com";

const SEARCH_EXAMPLES: &str = "\
Examples:
  shoal search refund
  shoal search '\"charged twice\"' invoice
  shoal search pass* --json";

const EXPORT_EXAMPLES: &str = "\
Examples:
  shoal export --out backup.jsonl
  shoal export --views-only | less
  shoal import backup.jsonl";

/// Shoal: a local-first shared inbox for small support teams.
///
/// `shoal` is the headless client: it works on this device's replica of the team's
/// inbox, which lives in the home directory (see --home).
#[derive(Debug, Parser)]
#[command(name = "shoal", version, after_help = MAIN_EXAMPLES, max_term_width = 100)]
pub struct Cli {
    /// Directory of this client's replica (`DIR/replica.sqlite3`)
    /// [default: $XDG_DATA_HOME/shoal, or ~/.local/share/shoal]
    #[arg(
        long,
        global = true,
        env = "SHOAL_HOME",
        hide_env_values = true,
        value_name = "DIR"
    )]
    pub home: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands of `shoal`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a replica: a new team, a restored backup or a team joined from an export
    #[command(after_help = INIT_EXAMPLES)]
    Init(InitArgs),
    /// Log a new conversation (a call, a chat…) with the customer's first message
    #[command(after_help = NEW_EXAMPLES)]
    New(NewArgs),
    /// Write to a customer first: a new conversation whose first message is
    /// your e-mail (sent by the relay after the undo window, like a reply)
    #[command(
        after_help = "Examples:\n  shoal write --to maria@example.com --subject \"Your refund\" --body \"Hi Maria, …\"\n  shoal write --to maria@example.com --subject \"Follow-up\" --body-file letter.txt"
    )]
    Write(WriteArgs),
    /// List the conversations of an inbox view
    #[command(after_help = INBOX_EXAMPLES)]
    Inbox(InboxArgs),
    /// Show a conversation with all its entries, and mark it seen
    #[command(after_help = SHOW_EXAMPLES)]
    Show(ShowArgs),
    /// Reply to the customer (refused if there is something you have not seen yet)
    #[command(after_help = REPLY_EXAMPLES)]
    Reply(ReplyArgs),
    /// Withdraw your reply within its 10-second undo window (undo send)
    #[command(after_help = UNSEND_EXAMPLES)]
    Unsend(UnsendArgs),
    /// Stream the notifications the desktop app would show you (while connected)
    #[command(after_help = NOTIFICATIONS_EXAMPLES)]
    Notifications(NotificationsArgs),
    /// List your replies the relay held back because they collided
    #[command(after_help = HELD_EXAMPLES)]
    Held(HeldArgs),
    /// Send a held reply anyway, as it is or edited
    #[command(after_help = HELD_EXAMPLES)]
    Release(ReleaseArgs),
    /// Discard a held reply: it is never sent, its text stays in the conversation
    #[command(after_help = HELD_EXAMPLES)]
    Discard(DiscardArgs),
    /// Add an internal note; @mentions of teammates are recorded
    Note(NoteArgs),
    /// Assign a conversation to an agent, to yourself (`me`) or to nobody (`none`)
    Assign(AssignArgs),
    /// Unassign a conversation
    Unassign(ConversationArgs),
    /// Set a conversation's status; without arguments, show this replica's status
    #[command(after_help = STATUS_EXAMPLES)]
    Status(StatusArgs),
    /// Set a conversation's priority
    Priority(PriorityArgs),
    /// Add tags to a conversation
    Tag(TagArgs),
    /// Remove tags from a conversation
    Untag(TagArgs),
    /// Show, list, create and edit customers and their notes
    #[command(subcommand, after_help = CUSTOMER_EXAMPLES)]
    Customer(CustomerCommand),
    /// Full-text search over conversations and customers
    #[command(after_help = SEARCH_EXAMPLES)]
    Search(SearchArgs),
    /// Write every document to a JSON Lines file (a backup, or a way to move a team)
    #[command(after_help = EXPORT_EXAMPLES)]
    Export(ExportArgs),
    /// Merge an export file into this replica (safe to repeat)
    #[command(after_help = EXPORT_EXAMPLES)]
    Import(ImportArgs),
    /// Rebuild the inbox and search tables from the documents
    Reindex(JsonArgs),
    /// Fold every document's appended changes into its snapshot now
    Compact(JsonArgs),
    /// Check the database file and that every document loads (exit 1 on problems)
    Check(JsonArgs),
    /// Add and list the team's agents
    #[command(subcommand)]
    Agent(AgentCommand),
    /// The team's weeks in numbers: response and resolution times, volume, targets met, backlog
    #[command(after_help = REPORT_HELP)]
    Report(ReportArgs),
    /// The team's business hours, holidays, response targets and support tiers
    #[command(subcommand, after_help = TEAM_EXAMPLES)]
    Team(TeamCommand),
    /// Manage your personal reply templates
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Connect this replica to the team's relay (joins the team when the home is empty)
    #[command(after_help = LOGIN_EXAMPLES)]
    Login(LoginArgs),
    /// Merge with the relay: once, or continuously with --watch
    #[command(after_help = SYNC_EXAMPLES)]
    Sync(SyncArgs),
    /// Who is viewing or replying where; optionally announce yourself
    Presence(PresenceArgs),
}

const LOGIN_EXAMPLES: &str = "\
Examples:
  shoal --home ~/support login --relay ws://relay.example:7300 --token 3f9c…
  echo \"$TOKEN\" | shoal login --relay ws://127.0.0.1:7300 --token-stdin

The token is what `shoal-relay agent add` printed. It is kept in the OS keyring
(or, where none is usable, in a 0600 file in the home directory, which shoal says).";

const SYNC_EXAMPLES: &str = "\
Examples:
  shoal sync                 # merge once and exit
  shoal sync --watch         # stay connected; local changes go out as they are written
  shoal sync --watch --json  # one JSON event per line";

/// `shoal login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The relay's URL, e.g. ws://relay.example:7300
    #[arg(long)]
    pub relay: String,
    /// The agent token from `shoal-relay agent add`
    #[arg(long, conflicts_with = "token_stdin")]
    pub token: Option<String>,
    /// Read the token from stdin instead (keeps it out of shell history)
    #[arg(long)]
    pub token_stdin: bool,
    /// Seconds the first sync may take
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Stay connected until Ctrl-C, reconnecting as needed
    #[arg(long)]
    pub watch: bool,
    /// Seconds a one-off sync may take
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal presence`.
#[derive(Debug, Args)]
pub struct PresenceArgs {
    /// Announce yourself in this conversation (with --state)
    #[arg(long)]
    pub conversation: Option<String>,
    /// viewing, composing (a reply) or composing-note
    #[arg(long, value_parser = presence_state)]
    pub state: Option<shoal_protocol::PresenceState>,
    /// Seconds to stay connected (refreshing the announcement)
    #[arg(long, default_value_t = 1.0)]
    pub hold: f64,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

fn presence_state(s: &str) -> Result<shoal_protocol::PresenceState, String> {
    match s {
        "viewing" => Ok(shoal_protocol::PresenceState::Viewing),
        "composing" => Ok(shoal_protocol::PresenceState::Composing),
        "composing-note" => Ok(shoal_protocol::PresenceState::ComposingNote),
        _ => Err(format!(
            "`{s}` is not a presence state: use viewing, composing or composing-note"
        )),
    }
}

/// Just `--json`.
#[derive(Debug, Args)]
pub struct JsonArgs {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// A body given inline, from a file, or from stdin.
#[derive(Debug, Args)]
#[group(id = "body_source", required = true, multiple = false)]
pub struct BodyArgs {
    /// The text (`-` reads it from stdin)
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub body: Option<String>,
    /// Read the text from a file (`-` for stdin)
    #[arg(long, value_name = "PATH")]
    pub body_file: Option<PathBuf>,
}

/// `shoal init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Name of the new team
    #[arg(
        long,
        value_name = "NAME",
        required_unless_present_any = ["from", "demo"],
        conflicts_with_all = ["from", "demo"],
        requires_all = ["name", "email"],
    )]
    pub team: Option<String>,
    /// Your name; you become the team's first agent, an admin
    #[arg(long, value_name = "NAME", requires = "team")]
    pub name: Option<String>,
    /// Your e-mail address
    #[arg(long, value_name = "EMAIL", requires = "team")]
    pub email: Option<String>,
    /// Create the replica from an export file: restores a backup, or joins a team
    /// without a relay
    #[arg(
        long,
        value_name = "EXPORT_FILE",
        requires = "agent",
        conflicts_with = "demo"
    )]
    pub from: Option<PathBuf>,
    /// With --from: which of the team's agents you are (id, e-mail or name)
    #[arg(long, value_name = "EMAIL_OR_NAME", requires = "from")]
    pub agent: Option<String>,
    /// Creates a workspace with a sample team and conversations
    #[arg(long)]
    pub demo: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal write`.
#[derive(Debug, Args)]
pub struct WriteArgs {
    /// The customer's e-mail address; a new customer is created if nobody has it
    #[arg(long, value_name = "EMAIL")]
    pub to: String,
    /// Name of a new customer [default: the address before the `@`]
    #[arg(long, value_name = "NAME")]
    pub customer_name: Option<String>,
    /// Subject line
    #[arg(long, value_name = "S")]
    pub subject: String,
    /// The e-mail's text.
    #[command(flatten)]
    pub body: BodyArgs,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The customer's e-mail address; a new customer is created if nobody has it
    #[arg(long, value_name = "EMAIL")]
    pub customer: String,
    /// Name of a new customer [default: the address before the `@`]
    #[arg(long, value_name = "NAME")]
    pub customer_name: Option<String>,
    /// Subject line
    #[arg(long, value_name = "S")]
    pub subject: String,
    /// The customer's first message.
    #[command(flatten)]
    pub body: BodyArgs,
    /// How the customer reached you. With `email` the message counts as received,
    /// so it stays unread until someone shows the conversation
    #[arg(long, default_value = "phone", value_parser = vocab(Channel::ALL))]
    pub channel: Channel,
    /// Priority [default: the customer's tier's (`shoal team tier`), else normal]
    #[arg(long, value_parser = vocab(Priority::ALL))]
    pub priority: Option<Priority>,
    /// When the customer wrote or called, if earlier than now (a call logged
    /// afterwards): 2026-12-01 14:30 (local) or RFC 3339. The reply clock
    /// starts then
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal inbox`.
#[derive(Debug, Args)]
pub struct InboxArgs {
    /// Which view: mine and unassigned are subsets of open
    #[arg(long, default_value = "open", value_parser = vocab(&InboxView::ALL))]
    pub view: InboxView,
    /// Same as --view with that status
    #[arg(long, value_parser = vocab(Status::ALL), conflicts_with = "view")]
    pub status: Option<Status>,
    /// Only conversations assigned to this agent (id, e-mail, name or `me`)
    #[arg(long, value_name = "AGENT")]
    pub assignee: Option<String>,
    /// Only conversations with this tag
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// Only this customer's conversations (id, e-mail or name)
    #[arg(long, value_name = "CUSTOMER")]
    pub customer: Option<String>,
    /// Order: newest activity, soonest due answer, or longest-waiting customer first
    #[arg(long, default_value = "activity", value_parser = vocab(&INBOX_SORTS))]
    pub sort: InboxSort,
    /// Number of conversations to list
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: usize,
    /// Number of conversations to skip (for paging)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub offset: usize,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

const INBOX_SORTS: [InboxSort; 3] = [InboxSort::Activity, InboxSort::Due, InboxSort::Waiting];

/// `shoal show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Conversation id, or a unique prefix of at least 4 characters
    #[arg(value_name = "CONV")]
    pub conversation: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    /// Do not record that you have seen the conversation
    #[arg(long)]
    pub no_mark_seen: bool,
}

/// `shoal reply`.
#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("reply_body").required(true).args(["body", "body_file", "template"])
))]
pub struct ReplyArgs {
    /// Conversation id, or a unique prefix of at least 4 characters
    #[arg(value_name = "CONV")]
    pub conversation: String,
    /// The reply (`-` reads it from stdin)
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub body: Option<String>,
    /// Read the reply from a file (`-` for stdin)
    #[arg(long, value_name = "PATH")]
    pub body_file: Option<PathBuf>,
    /// Use one of your templates, filled in with the customer's and your name
    #[arg(long, value_name = "NAME")]
    pub template: Option<String>,
    /// Send even if there are entries you have not seen
    #[arg(long)]
    pub force: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal note`.
#[derive(Debug, Args)]
pub struct NoteArgs {
    /// Conversation id, or a unique prefix of at least 4 characters
    #[arg(value_name = "CONV")]
    pub conversation: String,
    /// The note; `@name` mentions a teammate (first name, full name without spaces,
    /// or the part of the e-mail before the `@`).
    #[command(flatten)]
    pub body: BodyArgs,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal assign`.
#[derive(Debug, Args)]
pub struct AssignArgs {
    /// Conversation id, or a unique prefix of at least 4 characters
    #[arg(value_name = "CONV")]
    pub conversation: String,
    /// Agent id, e-mail or name; `me` for yourself; `none` to unassign
    #[arg(value_name = "AGENT")]
    pub agent: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// A command that takes only a conversation.
#[derive(Debug, Args)]
pub struct ConversationArgs {
    /// Conversation id, or a unique prefix of at least 4 characters
    #[arg(value_name = "CONV")]
    pub conversation: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Conversation id or prefix; leave out to see the replica's status
    #[arg(value_name = "CONV", requires = "status")]
    pub conversation: Option<String>,
    /// The new status
    #[arg(value_name = "STATUS", value_parser = vocab(Status::ALL))]
    pub status: Option<Status>,
    /// When a snooze ends (required for `snoozed`), e.g. 2h, tomorrow, monday,
    /// 2026-12-01 or 2026-12-01T09:00:00Z
    #[arg(long, value_name = "TIME", requires = "status")]
    pub until: Option<String>,
    /// With `pending`: wait for the customer to confirm it is solved, and
    /// remind the assignee at TIME if they have not answered
    #[arg(long, value_name = "TIME", requires = "status", conflicts_with_all = ["until", "confirmed"])]
    pub follow_up: Option<String>,
    /// With `closed`: the customer confirmed it is solved (reports tell
    /// confirmed closes from others)
    #[arg(long, requires = "status", conflicts_with = "until")]
    pub confirmed: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal unsend`.
#[derive(Debug, Args)]
pub struct UnsendArgs {
    /// Conversation id, or a unique prefix of at least 4 characters
    #[arg(value_name = "CONV")]
    pub conversation: String,
    /// The reply's entry id (default: your newest reply still waiting)
    #[arg(long)]
    pub entry: Option<String>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

const UNSEND_EXAMPLES: &str = "Examples:
  shoal reply 3f2a --body \"Refund sent.\"   # goes out after 10 s
  shoal unsend 3f2a                         # …unless withdrawn before";

/// `shoal notifications`.
#[derive(Debug, Args)]
pub struct NotificationsArgs {
    /// Stay connected and print each notification as it happens (required:
    /// notifications are what changes while you watch)
    #[arg(long)]
    pub watch: bool,
    /// One JSON object per line: {summary, body, conversation_id}
    #[arg(long)]
    pub json: bool,
}

const NOTIFICATIONS_EXAMPLES: &str =
    "The same rules as the desktop app: a new customer message in a \
conversation of yours (or unassigned, while your availability is `available`), assigned to you by \
someone else, a colleague's note that @mentions you, a reply of yours held, failed or about to be \
held, a conflicting change you are part of, a snooze of yours that ended. Never about your own \
actions; bursts become one line.

Examples:
  shoal notifications --watch
  shoal notifications --watch --json | while read -r n; do notify-send \"$n\"; done";

/// `shoal held`.
#[derive(Debug, Args)]
pub struct HeldArgs {
    /// Everyone's held replies (admins; others see only their own)
    #[arg(long)]
    pub all: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal release`.
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The held reply's entry id, or a unique prefix of at least 4 characters
    #[arg(value_name = "REPLY")]
    pub reply: String,
    /// Edit the text in $VISUAL / $EDITOR before sending
    #[arg(long, conflicts_with_all = ["body", "body_file"])]
    pub edit: bool,
    /// Send this text instead (`-` reads it from stdin)
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub body: Option<String>,
    /// Send the text of this file instead (`-` for stdin)
    #[arg(long, value_name = "PATH")]
    pub body_file: Option<PathBuf>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal discard`.
#[derive(Debug, Args)]
pub struct DiscardArgs {
    /// The held reply's entry id, or a unique prefix of at least 4 characters
    #[arg(value_name = "REPLY")]
    pub reply: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

const HELD_EXAMPLES: &str = "A reply is held when a colleague answered the same customer message \
without either of you seeing the other's reply, or when the customer wrote again after you wrote it.

Examples:
  shoal held                          # your held replies, with why
  shoal release 9c1e                  # send it anyway
  shoal release 9c1e --edit           # edit it first ($VISUAL / $EDITOR)
  shoal release 9c1e --body \"Ana has answered; one more thing: ...\"
  shoal discard 9c1e                  # never send it (the text is kept)";

/// `shoal priority`.
#[derive(Debug, Args)]
pub struct PriorityArgs {
    /// Conversation id, or a unique prefix of at least 4 characters
    #[arg(value_name = "CONV")]
    pub conversation: String,
    /// The new priority
    #[arg(value_name = "PRIORITY", value_parser = vocab(Priority::ALL))]
    pub priority: Priority,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal tag` and `shoal untag`.
#[derive(Debug, Args)]
pub struct TagArgs {
    /// Conversation id, or a unique prefix of at least 4 characters
    #[arg(value_name = "CONV")]
    pub conversation: String,
    /// Tags: 1-40 characters of a-z, 0-9, '-' or '_' (upper case is lowered)
    #[arg(value_name = "TAG", required = true, num_args = 1..)]
    pub tags: Vec<String>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal customer …`.
#[derive(Debug, Subcommand)]
pub enum CustomerCommand {
    /// Show a customer's profile, notes and every conversation they had
    Show(CustomerShowArgs),
    /// List customers by name (loads every customer document: slow for huge teams)
    List(CustomerListArgs),
    /// Create a customer
    New(CustomerNewArgs),
    /// Change a customer's name, e-mail addresses, company or tier
    Edit(CustomerEditArgs),
    /// Change a customer's notes (collaborative: concurrent edits both survive)
    Note(CustomerNoteArgs),
    /// Attach a conversation to this customer instead (e.g. they wrote from
    /// a second address); a reply still waiting is then not sent
    Link(CustomerLinkArgs),
}

/// `shoal customer link`.
#[derive(Debug, Args)]
pub struct CustomerLinkArgs {
    /// Conversation id, or a unique prefix of at least 4 characters
    #[arg(value_name = "CONV")]
    pub conversation: String,
    /// Customer id (or a unique prefix of 4+ characters), e-mail or exact name
    #[arg(value_name = "CUSTOMER")]
    pub customer: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal customer show`.
#[derive(Debug, Args)]
pub struct CustomerShowArgs {
    /// Customer id (or a unique prefix of 4+ characters), e-mail or exact name
    #[arg(value_name = "CUSTOMER")]
    pub customer: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal customer list`.
#[derive(Debug, Args)]
pub struct CustomerListArgs {
    /// Number of customers to list
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: usize,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

/// `shoal customer new`.
#[derive(Debug, Args)]
pub struct CustomerNewArgs {
    /// Display name
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// E-mail address (repeat for more; the first is the primary one)
    #[arg(long, value_name = "EMAIL")]
    pub email: Vec<String>,
    /// Company
    #[arg(long, value_name = "X")]
    pub company: Option<String>,
    /// Support tier (e.g. free, pro, enterprise)
    #[arg(long, value_name = "X")]
    pub tier: Option<String>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal customer edit`.
#[derive(Debug, Args)]
pub struct CustomerEditArgs {
    /// Customer id (or a unique prefix of 4+ characters), e-mail or exact name
    #[arg(value_name = "CUSTOMER")]
    pub customer: String,
    /// New display name
    #[arg(long, value_name = "N")]
    pub name: Option<String>,
    /// Add an e-mail address (repeatable)
    #[arg(long, value_name = "E")]
    pub add_email: Vec<String>,
    /// Remove an e-mail address (repeatable; case is ignored)
    #[arg(long, value_name = "E")]
    pub remove_email: Vec<String>,
    /// Set the company
    #[arg(long, value_name = "X", conflicts_with = "clear_company")]
    pub company: Option<String>,
    /// Remove the company
    #[arg(long)]
    pub clear_company: bool,
    /// Set the support tier
    #[arg(long, value_name = "X", conflicts_with = "clear_tier")]
    pub tier: Option<String>,
    /// Remove the support tier
    #[arg(long)]
    pub clear_tier: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal customer note`.
#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("notes_edit").required(true).args(["set", "append", "insert", "set_file"])
))]
pub struct CustomerNoteArgs {
    /// Customer id (or a unique prefix of 4+ characters), e-mail or exact name
    #[arg(value_name = "CUSTOMER")]
    pub customer: String,
    /// Replace the notes (only the differences are recorded, so a teammate's
    /// concurrent edit elsewhere survives)
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub set: Option<String>,
    /// Add TEXT at the end of the notes, on a new line
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub append: Option<String>,
    /// Insert TEXT at character position POS (0 is the start)
    #[arg(long, num_args = 2, value_names = ["POS", "TEXT"], allow_hyphen_values = true)]
    pub insert: Option<Vec<String>>,
    /// Replace the notes with a file's contents (`-` for stdin)
    #[arg(long, value_name = "PATH")]
    pub set_file: Option<PathBuf>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words (all must match), "quoted phrases", and word* for prefixes
    #[arg(value_name = "QUERY", required = true, num_args = 1..)]
    pub query: Vec<String>,
    /// Maximum number of hits
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to FILE (atomically, via FILE.tmp) instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Leave out the Automerge history: smaller and readable, but cannot be imported
    #[arg(long)]
    pub views_only: bool,
}

/// `shoal import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Export file of the same team (`-` for stdin)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

/// `shoal agent …`.
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Add an agent to the team
    Add(AgentAddArgs),
    /// List the team's agents
    List(JsonArgs),
    /// Say whether you take new work; the whole team sees it
    Availability(AvailabilityArgs),
    /// Set your own working hours (outside them you count as off)
    #[command(after_help = AGENT_HOURS_HELP)]
    Hours(AgentHoursArgs),
}

const AGENT_HOURS_HELP: &str = "\
For part-time work or another time zone than the team's. Outside your
hours the team sees you as off and new unassigned conversations do not
notify you; your own conversations and @mentions still do.

Examples:
  shoal agent hours --days mon-wed --from 08:00 --to 12:00
  shoal agent hours --days mon-fri --from 09:00 --to 17:00 --time-zone America/New_York
  shoal agent hours --off";

/// `shoal agent hours`.
#[derive(Debug, Args)]
pub struct AgentHoursArgs {
    /// Working days: a range (mon-fri) or a list (mon,tue,thu)
    #[arg(long, value_name = "DAYS", required_unless_present = "off")]
    pub days: Option<String>,
    /// Start of your day, HH:MM
    #[arg(long, value_name = "HH:MM", required_unless_present = "off")]
    pub from: Option<String>,
    /// End of your day, HH:MM (24:00 for midnight)
    #[arg(long, value_name = "HH:MM", required_unless_present = "off")]
    pub to: Option<String>,
    /// IANA time zone [default: the team's]
    #[arg(long, value_name = "ZONE")]
    pub time_zone: Option<String>,
    /// Keep no working hours of your own (your availability alone counts)
    #[arg(long, conflicts_with_all = ["days", "from", "to", "time_zone"])]
    pub off: bool,
}

/// `shoal agent availability`.
#[derive(Debug, Args)]
#[command(after_help = "\
available: new unassigned conversations notify you; busy: working, no new work;
away: back soon; off: not working. Notifications of your own conversations
and @mentions reach you whatever you choose.")]
pub struct AvailabilityArgs {
    /// available, busy, away or off
    #[arg(value_parser = vocab(AgentAvailability::ALL))]
    pub availability: AgentAvailability,
}

/// `shoal agent add`.
#[derive(Debug, Args)]
pub struct AgentAddArgs {
    /// Display name
    #[arg(long, value_name = "N")]
    pub name: String,
    /// Work e-mail address
    #[arg(long, value_name = "E")]
    pub email: String,
    /// Role
    #[arg(long, default_value = "agent", value_parser = vocab(&[AgentRole::Admin, AgentRole::Agent]))]
    pub role: AgentRole,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

const REPORT_HELP: &str = "\
Computed from this replica, offline. Response times count business hours
(the team's hours and holidays); resolution is the time from opening to
closing. Medians and 90th percentiles per week. Team level only: nothing is
broken down by agent.

Examples:
  shoal report
  shoal report --weeks 12 --json
  shoal report --svg charts/";

/// `shoal report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// How many weeks, ending with this one
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=520))]
    pub weeks: u32,
    /// Also write the charts as SVG files into DIR (response times,
    /// resolution, volume and backlog, answers within target)
    #[arg(long, value_name = "DIR")]
    pub svg: Option<PathBuf>,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

const TEAM_EXAMPLES: &str = "\
Examples:
  shoal team show
  shoal team hours --time-zone Europe/Berlin --days mon-fri --from 09:00 --to 17:30
  shoal team holiday add 2026-12-25 --label Christmas
  shoal team sla high --first 2h --next 4h
  shoal team tier set premium --priority high
Response targets count business time only: a mail on Friday evening with a
2-hour target is due on Monday morning. Only admins change these settings.";

/// `shoal team …`.
#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Show the team's hours, holidays, response targets and tiers
    Show(JsonArgs),
    /// Change the working hours (only the options given change)
    Hours(TeamHoursArgs),
    /// Add or remove a day off
    #[command(subcommand)]
    Holiday(HolidayCommand),
    /// Set the first- and next-response targets of a priority
    Sla(TeamSlaArgs),
    /// Define or remove a support tier and the priority it gives
    #[command(subcommand)]
    Tier(TierCommand),
    /// Turn the automatic acknowledgement of new conversations at a mailbox on or off
    #[command(after_help = ACK_HELP)]
    Ack(TeamAckArgs),
    /// Close pending conversations after business days of customer silence
    #[command(name = "auto-close", after_help = AUTO_CLOSE_HELP)]
    AutoClose(TeamAutoCloseArgs),
}

const AUTO_CLOSE_HELP: &str = "\
A conversation set to pending (waiting for the customer to confirm) whose
customer stays silent this many business days after it went pending or
after the team's last reply, and past its follow-up date, is closed by
the relay as \"no reply\"; reports count these apart from confirmed
closes. A customer's answer reopens a conversation as always. Off by
default.

Examples:
  shoal team auto-close 5
  shoal team auto-close off";

/// `shoal team auto-close`.
#[derive(Debug, Args)]
pub struct TeamAutoCloseArgs {
    /// Business days (1–365), or `off`
    #[arg(value_name = "DAYS|off")]
    pub days: String,
}

const ACK_HELP: &str = "\
The relay answers each new conversation arriving at the mailbox with this
text, sent like a reply and kept in the conversation. Never to auto-replies,
bounces, mailing lists or the team's own addresses; at most one per customer
per --every-hours. Placeholders: {customer.name}, {customer.first_name},
{team.name}, {team.hours}, {due} (when the answer is due by the team's hours
and targets).

Examples:
  shoal team ack support@northwind.example
  shoal team ack support@northwind.example --text-file ack.txt --every-hours 12
  shoal team ack support@northwind.example --off";

/// `shoal team ack`.
#[derive(Debug, Args)]
pub struct TeamAckArgs {
    /// The mailbox address (as connected on the relay)
    #[arg(value_name = "MAILBOX")]
    pub mailbox: String,
    /// Turn it off
    #[arg(long, conflicts_with_all = ["text", "text_file", "every_hours"])]
    pub off: bool,
    /// The text [default: a short thank-you stating {due} and {team.hours}]
    #[arg(long, value_name = "TEXT", conflicts_with = "text_file")]
    pub text: Option<String>,
    /// Read the text from a file
    #[arg(long, value_name = "FILE")]
    pub text_file: Option<PathBuf>,
    /// At most one acknowledgement per customer within this many hours
    #[arg(long, value_name = "N", default_value_t = 24)]
    pub every_hours: u32,
}

/// `shoal team hours`.
#[derive(Debug, Args)]
pub struct TeamHoursArgs {
    /// IANA time zone, e.g. Europe/Berlin or America/New_York
    #[arg(long, value_name = "ZONE")]
    pub time_zone: Option<String>,
    /// Working days: a range (mon-fri) or a list (mon,tue,thu)
    #[arg(long, value_name = "DAYS")]
    pub days: Option<String>,
    /// Opening time, HH:MM
    #[arg(long, value_name = "HH:MM")]
    pub from: Option<String>,
    /// Closing time, HH:MM (24:00 for midnight)
    #[arg(long, value_name = "HH:MM")]
    pub to: Option<String>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal team holiday …`.
#[derive(Debug, Subcommand)]
pub enum HolidayCommand {
    /// Add a day off (or relabel one)
    Add(HolidayAddArgs),
    /// Remove a day off
    Remove(HolidayRemoveArgs),
}

/// `shoal team holiday add`.
#[derive(Debug, Args)]
pub struct HolidayAddArgs {
    /// The date, YYYY-MM-DD, in the team's time zone
    #[arg(value_name = "DATE")]
    pub date: String,
    /// What the day is
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub label: String,
}

/// `shoal team holiday remove`.
#[derive(Debug, Args)]
pub struct HolidayRemoveArgs {
    /// The date, YYYY-MM-DD
    #[arg(value_name = "DATE")]
    pub date: String,
}

/// `shoal team sla`.
#[derive(Debug, Args)]
pub struct TeamSlaArgs {
    /// The priority whose targets change
    #[arg(value_parser = vocab(Priority::ALL))]
    pub priority: Priority,
    /// First response, in business time: 30m, 2h, 1h30m
    #[arg(long, value_name = "SPAN")]
    pub first: Option<String>,
    /// Each next response, in business time
    #[arg(long, value_name = "SPAN")]
    pub next: Option<String>,
}

/// `shoal team tier …`.
#[derive(Debug, Subcommand)]
pub enum TierCommand {
    /// Define a tier (or change its priority)
    Set(TierSetArgs),
    /// Remove a tier (customers keep the label; it no longer sets a priority)
    Remove(TierRemoveArgs),
}

/// `shoal team tier set`.
#[derive(Debug, Args)]
pub struct TierSetArgs {
    /// Tier name: a lowercase word such as standard or premium
    #[arg(value_name = "TIER")]
    pub tier: String,
    /// Priority of its customers' new conversations
    #[arg(long, value_parser = vocab(Priority::ALL))]
    pub priority: Priority,
}

/// `shoal team tier remove`.
#[derive(Debug, Args)]
pub struct TierRemoveArgs {
    /// Tier name
    #[arg(value_name = "TIER")]
    pub tier: String,
}

/// `shoal template …`.
#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Add or replace a template
    ///
    /// Placeholders filled in when replying: {customer.name}, {customer.first_name},
    /// {customer.company}, {agent.name}, {agent.first_name}, {team.name}, {team.hours}.
    Set(TemplateSetArgs),
    /// List your templates
    List(JsonArgs),
    /// Remove a template
    Remove(TemplateRemoveArgs),
}

/// `shoal template set`.
#[derive(Debug, Args)]
pub struct TemplateSetArgs {
    /// Template name
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The template text.
    #[command(flatten)]
    pub body: BodyArgs,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// `shoal template remove`.
#[derive(Debug, Args)]
pub struct TemplateRemoveArgs {
    /// Template name
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// A value of one of the domain's closed vocabularies.
pub trait Vocabulary: Copy + Send + Sync + 'static {
    /// The name users type.
    fn name(self) -> &'static str;
}

macro_rules! vocabulary {
    ($($t:ty),+) => {
        $(impl Vocabulary for $t {
            fn name(self) -> &'static str {
                self.as_str()
            }
        })+
    };
}

vocabulary!(
    Status,
    Priority,
    Channel,
    InboxView,
    InboxSort,
    AgentRole,
    AgentAvailability
);

/// Parses one of `all` by name; `--help` lists the names and a typo gets a
/// suggestion, as with clap's own enums.
fn vocab<T: Vocabulary>(all: &'static [T]) -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(all.iter().map(|v| v.name())).try_map(move |s: String| {
        all.iter()
            .copied()
            .find(|v| v.name() == s)
            .ok_or_else(|| format!("unknown value `{s}`"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn vocabularies_parse() {
        let cli = Cli::try_parse_from(["shoal", "status", "abcd", "snoozed", "--until", "2h"])
            .expect("valid");
        match cli.command {
            Command::Status(s) => assert_eq!(s.status, Some(Status::Snoozed)),
            other => panic!("parsed as {other:?}"),
        }
        assert!(Cli::try_parse_from(["shoal", "status", "abcd", "reopened"]).is_err());
        assert!(Cli::try_parse_from(["shoal", "status", "abcd"]).is_err());
    }
}
