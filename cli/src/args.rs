//! The command line, as clap parses it.

use std::path::PathBuf;

use clap::builder::TypedValueParser as _;
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Send and track SMS through the payamak panel's web services, or run an emulator of it.";

const LONG_ABOUT: &str = "\
Send and track SMS through the payamak panel's web services (post/send.asmx and
post/IncomingMessages.asmx), or run a local emulator of the panel.

With no endpoint configured (no --endpoint, no PAYAMAK_ENDPOINT, no config file
endpoint), every command runs against a built-in emulator started inside this
process, with the demo account (user demo, password demo, sender numbers
5000123456 and 3000987654), or with an account made from --user/--password.
Its state lives only as long as the command: nothing is really sent, and a second
command starts from scratch. A note on stderr says when this happens.";

const AFTER_LONG_HELP: &str = "\
SETTINGS
  Each setting is taken from the first place that has it:
    1. command-line flags (--endpoint, --user, --password, --soap12/--soap11,
       --timeout)
    2. environment: PAYAMAK_ENDPOINT (comma-separated URLs), PAYAMAK_USERNAME,
       PAYAMAK_PASSWORD
    3. the config file: --config FILE, else $XDG_CONFIG_HOME/payamak/config.toml,
       else ~/.config/payamak/config.toml (only if it exists)
  A password from the config file is only used with the config file's user name.
  An --endpoint, PAYAMAK_ENDPOINT or config file endpoint naming no URL (e.g.
  --endpoint \"\") is a usage error, not a request for the built-in emulator.

  Config file (TOML):
    endpoints = [\"https://panel.example.com/post/\", \"https://backup.example.com/post/\"]
    # or: endpoint = \"https://panel.example.com/post/\"
    username = \"myuser\"
    password = \"secret\"     # keep the file private (chmod 600)
    soap12 = false
    timeout = 30            # seconds per request
    calendar = \"jalali\"     # dates in tables and messages: jalali or gregorian

  If --user is given without a password and stdin is a terminal, the password is
  asked for without echo. Prefer PAYAMAK_PASSWORD or the prompt to --password,
  which other users of the machine can see in the process list.

OUTPUT
  Tables for people by default, dates in the Jalali calendar (--calendar or the
  config file's calendar = \"gregorian\" for Gregorian). --json prints one JSON
  document on stdout: snake_case field names, lower-case enum values, dates in
  Gregorian RFC 3339 with Tehran's offset (2026-12-01T10:00:00+03:30).
  Errors go to stderr as `error: ...` (and, with --json, as {\"error\": {...}}
  on stdout); notes and warnings as `note: ...` and `warning: ...`; --quiet
  drops the notes. No colour codes unless the stream is a terminal and NO_COLOR
  is unset.

EXIT CODES
  0    success
  1    the panel refused: wrong credentials (also found by the check credit,
       inbox, inbox-count and numbers run when the panel answers 0 or nothing),
       credit, limits, a refused recipient, an invalid recId
  2    usage or input error (bad arguments, invalid number, unreadable file, a
       time in the past): nothing was sent
  3    transport or response error (cannot connect, timeout, bad reply), or
       send-bulk could not write its journal
  4    outcome unknown (a send may or may not have happened; nothing was resent)
  5    delivery --watch gave up (--give-up-after) before every status was final
  130  stopped with Ctrl-C (send-bulk after finishing its current batch)
  A command that sent a message never exits with a code that suggests sending
  it again: send --watch keeps the send's code whatever the watch reaches.

EXAMPLES
  payamak send --from 5000123456 --to 09121234567 --text \"سلام\"
  echo \"سلام\" | payamak send --from 5000123456 --to 09121234567 --to 09351234567
  payamak send-bulk --from 5000123456 --csv customers.csv --text \"Sale today\"
  payamak delivery 1234567 --watch
  payamak emulator --listen 127.0.0.1:8080";

/// The `payamak` command line.
#[derive(Debug, Parser)]
#[command(
    name = "payamak",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_long_help = AFTER_LONG_HELP,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Options that apply to every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Connection, credential and output options. `Debug` shows the password as `***`.
#[derive(Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Panel base URL, e.g. https://host/post/ (repeatable) [env: PAYAMAK_ENDPOINT]
    ///
    /// The `.../post/` prefix of the services; give several for failover, tried in order.
    /// PAYAMAK_ENDPOINT takes a comma-separated list.
    #[arg(long = "endpoint", value_name = "URL", global = true)]
    pub endpoints: Vec<String>,

    /// Panel user name [env: PAYAMAK_USERNAME]
    #[arg(long, value_name = "NAME", global = true)]
    pub user: Option<String>,

    /// Panel password [env: PAYAMAK_PASSWORD]
    ///
    /// Other local users can see it in the process list: prefer PAYAMAK_PASSWORD, the config
    /// file, or the prompt you get when --user is given without a password on a terminal.
    #[arg(long, value_name = "PASSWORD", global = true, hide_default_value = true)]
    pub password: Option<String>,

    /// Speak SOAP 1.2 instead of 1.1
    #[arg(long, global = true, conflicts_with = "soap11")]
    pub soap12: bool,

    /// Speak SOAP 1.1 (the default), even if the config file sets soap12 = true
    #[arg(long, global = true)]
    pub soap11: bool,

    /// Seconds a request may take [default: 30]
    #[arg(long, value_name = "SECS", global = true)]
    pub timeout: Option<u64>,

    /// Print one JSON document on stdout instead of tables
    #[arg(long, global = true)]
    pub json: bool,

    /// The calendar of dates in tables and messages [default: jalali; --json is always Gregorian]
    #[arg(long, value_enum, value_name = "CALENDAR", global = true)]
    pub calendar: Option<crate::dates::Calendar>,

    /// Config file (TOML)
    ///
    /// Default: $XDG_CONFIG_HOME/payamak/config.toml, else ~/.config/payamak/config.toml, if it exists.
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// Print only results, warnings and errors: no notes, progress or parts lines
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Log to stderr (-v debug, -vv trace)
    ///
    /// -vv includes the SOAP envelopes, with the password redacted. RUST_LOG, when set, overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

impl std::fmt::Debug for GlobalArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let GlobalArgs { endpoints, user, password, soap12, soap11, timeout, json, calendar, config, quiet, verbose } =
            self;
        f.debug_struct("GlobalArgs")
            .field("endpoints", endpoints)
            .field("user", user)
            .field("password", &password.as_ref().map(|_| "***"))
            .field("soap12", soap12)
            .field("soap11", soap11)
            .field("timeout", timeout)
            .field("json", json)
            .field("calendar", calendar)
            .field("config", config)
            .field("quiet", quiet)
            .field("verbose", verbose)
            .finish()
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check that the panel accepts the user name and password
    #[command(long_about = "Check that the panel accepts the user name and password, without sending or \
        changing anything.\n\n\
        The panel answers a wrong user name or password to its reads with a credit of 0 and empty lists, \
        which an account may also really have. Only calls that answer a result code tell the two apart; \
        this asks the panel to mark message id 0 (which names no message) as not read \
        (UpdateMessagesIsNotRead): code 1 means the credentials are right, code 0 that they are wrong \
        (exit code 1). credit, inbox, inbox-count and numbers run the same check by themselves when the \
        panel answers 0 or nothing.")]
    Check,

    /// Show the account's credit
    #[command(long_about = "Show the account's credit (GetCredit).\n\n\
        The panel answers a wrong user name or password with a credit of 0, not an error: a credit of 0 \
        is followed by a credentials check (see `payamak check`), and wrong credentials exit with 1.")]
    Credit,

    /// Send one SMS to up to 100 recipients
    #[command(long_about = "Send one SMS to up to 100 recipients (SendSms).\n\n\
        Shows how many SMS parts the text takes and its encoding, then the recId and status of every \
        recipient. Numbers may be written as 0912..., 912..., +98912..., 0098912..., with Persian or \
        Arabic-Indic digits and spaces or dashes. For more than 100 recipients use send-bulk.\n\n\
        A send is never retried once its request may have reached the panel: if the answer is lost, \
        the exit code is 4 (outcome unknown) and nothing is sent again.\n\n\
        --watch then follows the deliveries of this send, as one batch, until every status is final \
        (see `payamak delivery --help`). The exit code stays the send's even when the watch gives up \
        or is stopped: what the watch reached is in the output (`watch` in --json), and no exit code \
        of a message that was sent invites sending it again.")]
    Send(SendArgs),

    /// Send one SMS to every number of a CSV file, resumably
    #[command(long_about = SEND_BULK_LONG_ABOUT)]
    SendBulk(SendBulkArgs),

    /// Campaigns in a durable job store (SQLite or PostgreSQL), sent by `payamak worker`
    #[command(subcommand)]
    Campaign(CampaignCommand),

    /// Send the batches of the campaigns in a job store; run any number of workers
    #[command(long_about = WORKER_LONG_ABOUT)]
    Worker(WorkerArgs),

    /// Schedule an SMS for a later time (a Jalali or Gregorian date, Tehran time)
    #[command(long_about = SCHEDULE_LONG_ABOUT)]
    Schedule(ScheduleArgs),

    /// Show (or follow) the delivery status of sent messages by recId
    #[command(long_about = DELIVERY_LONG_ABOUT)]
    Delivery(DeliveryArgs),

    /// Ask the panel to refresh the delivery status of a recId's batch
    #[command(long_about = "Ask the panel to refresh the delivery status of a recId (UpdateDelivery).\n\n\
        Refreshes every recipient sent in the same call. The panel rate-limits it: \"too soon\" \
        (code 100) means try again later and is not an error.")]
    UpdateDelivery(UpdateDeliveryArgs),

    /// List received or sent messages (by default the unread ones, without consuming them)
    #[command(long_about = "List received or sent messages.\n\n\
        By default, the received messages not yet read (GetReceiveSMSIsNotReadList): reading them \
        changes nothing on the panel. --new lists the messages not fetched as new before \
        (GetNewMessagesList) and so consumes them: the panel returns each new message once, and an \
        application that polls for new messages will not get the ones this command took.\n\n\
        An empty list is followed by a credentials check (see `payamak check`): the panel answers a \
        wrong user name or password with an empty list.")]
    Inbox(InboxArgs),

    /// Count the inbox's unread (or read) messages
    #[command(long_about = "Count the inbox's unread (or read) messages (GetInboxCount).\n\n\
        A count of 0 is followed by a credentials check (see `payamak check`): the panel answers a \
        wrong user name or password with 0.")]
    InboxCount(InboxCountArgs),

    /// List the account's sender (virtual) numbers
    Numbers,

    /// Mark messages as read, by message id
    MarkRead(MarkArgs),

    /// Mark messages as unread, by message id
    MarkUnread(MarkArgs),

    /// Run an emulator of the panel until Ctrl-C
    #[command(long_about = emulator_long_about())]
    Emulator(EmulatorArgs),

    /// Print a shell completion script
    #[command(long_about = "Print a completion script for SHELL on stdout, e.g.\n  \
        payamak completions bash > ~/.local/share/bash-completion/completions/payamak\n  \
        payamak completions zsh > ~/.zfunc/_payamak\n  \
        payamak completions fish > ~/.config/fish/completions/payamak.fish")]
    Completions(CompletionsArgs),

    /// Print the man page (or write one per command)
    #[command(long_about = "Print the man page of payamak (roff) on stdout, e.g.\n  \
        payamak man > payamak.1 && man ./payamak.1\n\
        With --out-dir DIR, writes payamak.1 and one payamak-COMMAND.1 per command there.")]
    Man(ManArgs),
}

impl Command {
    /// Whether the command talks to a panel (and so reads the settings and the config file).
    pub fn uses_panel(&self) -> bool {
        !matches!(self, Command::Emulator(_) | Command::Completions(_) | Command::Man(_))
    }
}

/// Options of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Options of `man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write payamak.1 and payamak-COMMAND.1 into this directory instead
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// The global options that mean nothing to commands that do not talk to a panel.
const PANEL_OPTIONS: [&str; 8] = ["endpoints", "user", "password", "soap12", "soap11", "timeout", "calendar", "config"];

/// The command line, with the global options hidden from the help of the commands they
/// mean nothing to.
pub fn command() -> clap::Command {
    use clap::CommandFactory as _;
    const NOT_FOR_TOOLS: [&str; 10] =
        ["endpoints", "user", "password", "soap12", "soap11", "timeout", "calendar", "config", "json", "quiet"];
    let command = Cli::command();
    // A subcommand that has an argument of a global option's id keeps it instead of the
    // global one: a hidden copy.
    let hidden = |names: &'static [&'static str]| {
        let copies: Vec<clap::Arg> = command
            .get_arguments()
            .filter(|arg| names.contains(&arg.get_id().as_str()))
            .map(|arg| arg.clone().hide(true))
            .collect();
        move |sub: clap::Command| sub.args(copies)
    };
    let (emulator, completions, man) = (hidden(&PANEL_OPTIONS), hidden(&NOT_FOR_TOOLS), hidden(&NOT_FOR_TOOLS));
    command.mut_subcommand("emulator", emulator).mut_subcommand("completions", completions).mut_subcommand("man", man)
}

/// `emulator --help`, with the admin endpoints the emulator crate lists.
fn emulator_long_about() -> String {
    let mut text = String::from(
        "Run an emulator of the panel on a local address until Ctrl-C.\n\n\
         Prints the base URL to give to --endpoint (or PAYAMAK_ENDPOINT), the accounts and the admin \
         endpoints. Without --accounts it has the demo account: user demo, password demo, credit 10000, \
         sender numbers 5000123456 and 3000987654. State is kept in memory only.\n\n\
         Admin endpoints (JSON, for tests in any language; POST bodies must be sent as \
         Content-Type: application/json; --no-admin turns them off):\n",
    );
    for endpoint in payamak_emulator::ADMIN_ENDPOINTS {
        let body = if endpoint.body.is_empty() { String::new() } else { format!(" {}", endpoint.body) };
        text.push_str(&format!("  {} {}{body}\n      {}\n", endpoint.method, endpoint.path, endpoint.summary));
    }
    text.push_str(
        "\nThe emulator has no real authentication: listening on an address other machines can reach \
         (e.g. --listen 0.0.0.0:8080) prints a warning.",
    );
    text
}

const DELIVERY_LONG_ABOUT: &str = "\
Show the delivery status the panel holds for each recId (GetDelivery).

RecIds joined by commas (1001,1002,1003) are those of one send; --journal FILE
takes every accepted recId of a send-bulk run, one batch per call of 100.

With --watch, follows them until every status is final and prints every change.
The panel refreshes its copy with UpdateDelivery for a whole send at once, and
rate-limits it: the watch asks once per batch, at most once per --interval.
A recId the panel says is not valid (UpdateDelivery code 0) is shown as invalid.

Exit code: 0 when every status is final; 1 when some recId is not valid;
5 when --give-up-after passed first (the statuses so far are printed);
130 when stopped with Ctrl-C (likewise).";

const SCHEDULE_LONG_ABOUT: &str = "\
Schedule an SMS for a later time (ScheduleSms).

--at is the panel's local time, Asia/Tehran, as a Jalali (Solar Hijri) date when
the year is 1200-1599, a Gregorian one from 1900 on:
  1405-09-10T10:00   1405/09/10 10:00   ۱۴۰۵/۰۹/۱۰ ۱۰:۰۰   (Jalali)
  2026-12-01T10:00   2026-12-01 10:00:30                    (Gregorian)
or an exact instant in RFC 3339 with an offset (2026-12-01T06:30:00Z). The time
is echoed in both calendars on stderr before anything is sent. A time in the past
is refused (exit code 2) unless --allow-past: a panel sends a past time at once.
--period repeats the send.

CAVEAT: ScheduleSms is not in any public capture of the panel's WSDL. Its request
shape (and the period values) are the project's reconstruction, modelled on the
platform's Schedule.asmx AddSchedule; a real panel may refuse it with a SOAP
fault. Check with a test account before relying on it.";

const SEND_BULK_LONG_ABOUT: &str = "\
Send one SMS to every number of a CSV file, in calls of 100 recipients, recorded
in a job store so that an interrupted run can be resumed without sending anyone
the message twice.

CSV: UTF-8, UTF-16 with a byte-order mark (Excel's Unicode text) or
Windows-1256 (Excel's CSV on a Persian Windows), guessed in that order unless
--encoding names one; fields separated by , or ; or tabs, sniffed from the first
lines unless --delimiter says. The numbers are taken from the column --column
names, else the one headed number, mobile, phone, tel, cell, to, msisdn, شماره,
موبایل, شماره موبایل, شماره همراه, تلفن همراه, تلفن or گیرنده (case, spaces and
Arabic or Persian letter forms do not matter), else the column where most of the
first rows are mobile numbers; when no column is, the error lists the columns and
says which --column to pass. The header row is optional.
Duplicate numbers are sent to once. An invalid number is reported with its line
number and skipped; with --strict any invalid number stops the command before
anything is sent.

STORE (default: the SQLite file <csv>.sqlite; --store sqlite:PATH, or
postgres://…, names another): the CSV is read as a stream into a campaign of the
store (see `payamak campaign`), then sent by a worker in this process until
nothing is left to claim; memory stays flat however long the file. Each batch's
attempt is committed before its request leaves, and its outcome (recIds, or the
error) after. One CSV file (by its full path) is one campaign: run the same
command again to resume it. The panel, user name, sender, text, --flash,
recipients and batch size are compared with the first run's, a difference
refusing the run with nothing sent. On a rerun:
  - batches with a recorded outcome are not sent again;
  - a batch that never reached the panel is sent again;
  - a batch that was started but has no outcome (the process was killed, or
    the answer was lost) may or may not have been sent: it is NOT sent again,
    only reported. Check the panel's sent messages, and only then force it
    with --resend-unknown (its recipients may get the message twice; a batch
    left by a crash becomes resendable once found older than 120 s);
  - a batch the panel redirected (the base URL is wrong) was not sent, and is
    not posted again unless --resend-unknown asks;
  - after a crash, or when the store differs from what the last run left (an
    older copy put back) or lost the campaign, the panel's sent messages are
    read first: a batch the store holds as never started, some of whose
    recipients already received this text since the send began, is not sent
    but reported as unknown. If they cannot be read, nothing is sent.
The run stops at the first batch that fails or ends unknown (the batches on
their way finish). An answer that refuses the whole account (credentials,
credit, the daily limit, throttling) pauses it and leaves its batches pending (a
short throttling pause is waited out; a longer one ends the run, exit code 1,
and the same command later goes on). Before its first send, the run marks the
file (FILE.store, naming the store and the campaign): a later run naming no
store uses the SQLite store the mark names, and a run with another store or a
journal is refused, since neither knows what the marked store sent.
With no endpoint configured, send-bulk refuses to run unless --journal is
given: a record written against the built-in emulator (which sends nothing)
must never be taken for a real send.
Ctrl-C finishes the batches on their way and stops; a second Ctrl-C stops at once.
Delivery statuses: `payamak worker --store URL` follows them (it leaves the
file's batches to send-bulk), and `payamak campaign status --store URL ID` shows
them (the summary gives the store and the campaign id).

JOURNAL (--journal FILE; also a file's <csv>.journal left by an earlier
version, which finishes that send): a JSON-lines file instead of a store, for a
send on one machine with nothing but a file. It keeps every number in memory.
It resumes as above (a damaged or older journal is checked against the panel's
sent messages too), and stops at the first refused batch. A journal written for
another panel, user name, text, sender or recipient list is refused (give
another --journal FILE to start a new send). If the journal cannot be written,
the run stops with the summary of what was sent and exit code 3 (4 if a sent
batch's outcome could not be recorded). --store refuses to start over a file's
journal, and --journal over a file marked for a store.

Summary: accepted, refused, unknown and not attempted recipients. Exit code 0
when everyone was accepted, 1 if the panel refused some, 3 if the run stopped on
a transport error, 4 if any batch's outcome is unknown.";

/// Options of `send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// Sender (virtual) number
    #[arg(long, value_name = "NUMBER")]
    pub from: String,

    /// Recipient mobile number; repeat, or separate with commas (a number given twice is sent to once)
    #[arg(long, value_name = "NUMBER", required = true, num_args = 1.., value_delimiter = ',')]
    pub to: Vec<String>,

    /// The text; `-` (or leaving it out while stdin is not a terminal) reads it from stdin
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,

    /// Send as a flash SMS (shown at once, not stored)
    #[arg(long)]
    pub flash: bool,

    /// User data header, as hex
    #[arg(long, value_name = "HEX")]
    pub udh: Option<String>,

    /// Cost and safety checks
    #[command(flatten)]
    pub safety: SafetyArgs,

    /// Following the deliveries of this send
    #[command(flatten)]
    pub watch: WatchArgs,
}

/// Options of `send-bulk`.
#[derive(Debug, Args)]
pub struct SendBulkArgs {
    /// Sender (virtual) number
    #[arg(long, value_name = "NUMBER")]
    pub from: String,

    /// The recipients
    #[command(flatten)]
    pub recipients: CsvArgs,

    /// The text; `-` (or leaving it out while stdin is not a terminal) reads it from stdin
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,

    /// Send as a flash SMS
    #[arg(long)]
    pub flash: bool,

    /// Record the send in this JSON-lines journal instead of a job store
    ///
    /// Required when no endpoint is configured (the built-in emulator).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,

    /// The job store to send through: sqlite:PATH, postgres://… or a libpq key=value string [default: sqlite:<csv>.sqlite]
    #[arg(long, value_name = "URL", value_parser = crate::store::StoreUrl::parse, conflicts_with = "journal")]
    pub store: Option<crate::store::StoreUrl>,

    /// Send again the batches whose outcome is unknown (their recipients may get the message twice), and those redirected
    #[arg(long)]
    pub resend_unknown: bool,

    /// How many batches of 100 may be on their way to the panel at once
    #[arg(long, value_name = "N", default_value_t = payamak::bulk::DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..=64).map(usize::from))]
    pub concurrency: usize,

    /// With --journal: how many batches' attempts may be written ahead of their turn [default: twice --concurrency]
    ///
    /// A batch written ahead leaves the moment a place frees, without waiting for a disk sync; its attempt is
    /// still on disk before it leaves. If the process dies, those that had not left are sent by the next run; if
    /// the machine goes down, they are unknown (up to N more batches needing a decision). 0 writes each attempt
    /// just before its batch leaves.
    #[arg(long, value_name = "N", requires = "journal", value_parser = clap::value_parser!(u16).range(0..=256).map(usize::from))]
    pub write_ahead: Option<usize>,

    /// Cost and safety checks
    #[command(flatten)]
    pub safety: SafetyArgs,
}

const WORKER_LONG_ABOUT: &str = "\
Send the batches of the campaigns in a job store (see `payamak campaign create`).

Any number of workers may run over one store: processes on one machine over an SQLite
file, or on any number of machines over PostgreSQL. Each takes a token of the account's
rate, claims a batch under a lease, records its attempt before the first byte of the
request leaves, sends it and records its outcome. A batch whose attempt has no outcome
(a worker killed while sending) becomes unknown and is never sent again by a worker:
`payamak campaign resend-unknown` is a person's decision. An answer that refuses the
whole account (wrong credentials, no credit, the daily limit, throttling) pauses that
account, and its batch waits instead of failing. The batches of a send-bulk
file's campaign (account send-bulk:PATH) are left to send-bulk, which checks the
panel first when its store may not be the whole record; their delivery statuses
are followed here. --account send-bulk:PATH sends them too.

A worker uses, for each account of the store, the password its credentials reference
names: `settings` (this command's --user/--password, environment or config file, for the
same user name) or env:VARIABLE.

Exit codes: 0 when it stopped with every batch it held recorded; 4 when a batch's outcome
is unknown (it may have been sent: do not resend it without checking); 2 and 3 for
usage and store errors. A store that fails to record a sent batch's outcome stops the
worker (exit 4) once the batches on their way finish: a supervisor may start it again,
and the batches not claimed are still pending.";

/// Where a campaign's recipients are: a CSV file and how to read it.
#[derive(Debug, Clone, Args)]
pub struct CsvArgs {
    /// CSV file of recipients
    #[arg(long, value_name = "FILE")]
    pub csv: PathBuf,

    /// The CSV column holding the numbers: a header name, or a 1-based index
    #[arg(long, value_name = "NAME|INDEX")]
    pub column: Option<String>,

    /// The CSV's field delimiter: , or ; or tab [default: sniffed]
    #[arg(long, value_name = "CHAR", value_parser = crate::csv_input::delimiter)]
    pub delimiter: Option<u8>,

    /// The CSV's encoding: utf-8, utf-16le, utf-16be, windows-1256, ... [default: guessed]
    #[arg(long, value_name = "LABEL", value_parser = crate::csv_input::encoding)]
    pub encoding: Option<&'static encoding_rs::Encoding>,

    /// Refuse the whole file (send or import nothing) if it has an invalid number (default: skip it)
    #[arg(long)]
    pub strict: bool,
}

impl CsvArgs {
    /// How to read the file.
    pub fn options(&self) -> crate::csv_input::CsvOptions<'_> {
        crate::csv_input::CsvOptions {
            column: self.column.as_deref(),
            delimiter: self.delimiter,
            encoding: self.encoding,
        }
    }
}

/// `payamak campaign …`.
#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Stream a CSV file of recipients into a job store as a new campaign; prints its id
    Create(Box<CampaignCreateArgs>),
    /// Batches and recipients of a campaign per state
    Status(CampaignIdArgs),
    /// Make the batches of unknown outcome pending again (their recipients may get the message twice)
    ResendUnknown(CampaignIdArgs),
}

/// `campaign create`.
#[derive(Debug, Clone, Args)]
pub struct CampaignCreateArgs {
    /// The job store: sqlite:PATH, postgres://… or a libpq key=value string
    #[arg(long, value_name = "URL", value_parser = crate::store::StoreUrl::parse)]
    pub store: crate::store::StoreUrl,

    /// Sender (virtual) number
    #[arg(long, value_name = "NUMBER")]
    pub from: String,

    /// The recipients
    #[command(flatten)]
    pub csv: CsvArgs,

    /// The text; `-` (or leaving it out while stdin is not a terminal) reads it from stdin
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,

    /// Send as a flash SMS
    #[arg(long)]
    pub flash: bool,

    /// The account's name in the store [default: the user name]
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,

    /// Where workers find the account's password: `settings` or env:VARIABLE [default: settings]
    #[arg(long, value_name = "REF")]
    pub credentials: Option<String>,

    /// The account's SendSms calls per second, for every worker together [default: no limit]
    #[arg(long, value_name = "PER_SECOND")]
    pub rate: Option<f64>,

    /// Calls the account may make at once after a quiet spell, with --rate
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub burst: u32,

    /// Tokens of the burst campaigns leave for single sends (priority below 100), with --rate; less than --burst
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub reserve: u32,

    /// Lower is sent first: single sends use 0 [default: 100]
    #[arg(long, value_name = "N")]
    pub priority: Option<i32>,

    /// Creating again with the same key (for this account) gives the same campaign
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,

    /// Refuse a text longer than this many SMS parts per recipient
    #[arg(long, value_name = "N", default_value_t = crate::commands::DEFAULT_MAX_PARTS, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_parts: u32,
}

/// A campaign of a store.
#[derive(Debug, Clone, Args)]
pub struct CampaignIdArgs {
    /// The job store: sqlite:PATH, postgres://… or a libpq key=value string
    #[arg(long, value_name = "URL", value_parser = crate::store::StoreUrl::parse)]
    pub store: crate::store::StoreUrl,

    /// The campaign's id (as `campaign create` printed it)
    pub id: i64,
}

/// `worker`.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// The job store: sqlite:PATH, postgres://… or a libpq key=value string
    #[arg(long, value_name = "URL", value_parser = crate::store::StoreUrl::parse)]
    pub store: crate::store::StoreUrl,

    /// Batches this process has on their way at once
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256).map(usize::from))]
    pub workers: usize,

    /// Stop when nothing is left to claim, instead of waiting for new campaigns
    #[arg(long)]
    pub until_idle: bool,

    /// Seconds a claim holds before another worker may take the batch (only if it was not attempted)
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub lease: f64,

    /// Seconds after which an attempt without an outcome is shown as unknown
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0)]
    pub unknown_after: f64,

    /// Only these accounts (repeat for several) [default: every account it has a password for]
    #[arg(long, value_name = "NAME")]
    pub account: Vec<String>,

    /// Do not read the delivery statuses of sent batches (leave it to other workers)
    #[arg(long)]
    pub no_deliveries: bool,

    /// When to read a sent batch's delivery statuses, in seconds after its send, comma-separated
    /// [default: 60,300,900,3600,21600,86400,172800,259200]
    #[arg(long, value_name = "SECONDS,…", value_delimiter = ',')]
    pub delivery_schedule: Vec<f64>,

    /// The panel's minimum interval between two UpdateDelivery calls for one batch, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub delivery_interval: f64,

    /// With --until-idle: once nothing is left to send, wait for delivery reads due within this many seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
    pub delivery_wait: f64,
}

/// `--dry-run` and `--max-parts`, for the commands that send.
#[derive(Debug, Clone, Copy, Args)]
pub struct SafetyArgs {
    /// Show the recipients, SMS parts and cost (parts × recipients) and send nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Refuse a text longer than this many SMS parts per recipient
    ///
    /// The default, 5 parts, is 335 Persian (UCS-2) or 765 Latin (GSM-7) characters: a text
    /// longer than that is more likely a wrong file or a runaway pipe than a message.
    #[arg(long, value_name = "N", default_value_t = crate::commands::DEFAULT_MAX_PARTS, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_parts: u32,
}

/// How often a scheduled SMS repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Period {
    /// Once, at --at
    Once,
    /// Every day
    Daily,
    /// Every week
    Weekly,
    /// Every month
    Monthly,
    /// Every year
    Yearly,
    /// As set up in the panel
    Custom,
}

impl Period {
    /// The value `--json` shows.
    pub fn json_name(self) -> &'static str {
        match self {
            Period::Once => "once",
            Period::Daily => "daily",
            Period::Weekly => "weekly",
            Period::Monthly => "monthly",
            Period::Yearly => "yearly",
            Period::Custom => "custom",
        }
    }

    /// The value the panel takes.
    pub fn wire_name(self) -> &'static str {
        match self {
            Period::Once => "Once",
            Period::Daily => "Daily",
            Period::Weekly => "Weekly",
            Period::Monthly => "Monthly",
            Period::Yearly => "Yearly",
            Period::Custom => "Custom",
        }
    }
}

/// Options of `schedule`.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// Sender (virtual) number
    #[arg(long, value_name = "NUMBER")]
    pub from: String,

    /// Recipient mobile number; repeat, or separate with commas (a number given twice is sent to once)
    #[arg(long, value_name = "NUMBER", required = true, num_args = 1.., value_delimiter = ',')]
    pub to: Vec<String>,

    /// The text; `-` (or leaving it out while stdin is not a terminal) reads it from stdin
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,

    /// When to send, Tehran time: Jalali 1405-09-10T10:00, Gregorian 2026-12-01T10:00, or RFC 3339
    #[arg(long, value_name = "TIME")]
    pub at: String,

    /// Schedule a time in the past anyway (the panel may send it at once)
    #[arg(long)]
    pub allow_past: bool,

    /// Cost and safety checks
    #[command(flatten)]
    pub safety: SafetyArgs,

    /// How often to repeat
    #[arg(long, value_enum, default_value_t = Period::Once)]
    pub period: Period,

    /// Send as a flash SMS
    #[arg(long)]
    pub flash: bool,
}

/// Options of `delivery`.
#[derive(Debug, Args)]
pub struct DeliveryArgs {
    /// RecIds that send or send-bulk printed; join those of one send with commas (1001,1002,1003)
    ///
    /// RecIds joined by commas are tracked as one batch: the panel refreshes every recipient of
    /// one send at once, so --watch asks it once for them all.
    #[arg(value_name = "RECID", required_unless_present = "journal", value_parser = parse_rec_id_batch)]
    pub rec_ids: Vec<Vec<i64>>,

    /// The recIds a send-bulk run got, from its journal (one batch per call)
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,

    /// Following to final statuses
    #[command(flatten)]
    pub watch: WatchArgs,
}

/// `--watch` and its settings, for `delivery` and `send`.
#[derive(Debug, Clone, Copy, Args)]
pub struct WatchArgs {
    /// Follow the deliveries until every status is final, printing each change
    #[arg(long)]
    pub watch: bool,

    /// With --watch: seconds between two rounds (and between two refreshes of one batch)
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub interval: u64,

    /// With --watch: give up after this many seconds (exit code 5 for delivery)
    #[arg(long, value_name = "SECS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    pub give_up_after: u64,
}

/// `1001,1002,1003`: the recIds of one send.
fn parse_rec_id_batch(text: &str) -> Result<Vec<i64>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|rec_id| !rec_id.is_empty())
        .map(|rec_id| rec_id.parse::<i64>().map_err(|_| format!("{rec_id:?} is not a recId (a number)")))
        .collect::<Result<Vec<i64>, String>>()
        .and_then(|batch| if batch.is_empty() { Err("no recId".to_owned()) } else { Ok(batch) })
}

/// Options of `update-delivery`.
#[derive(Debug, Args)]
pub struct UpdateDeliveryArgs {
    /// A recId of the batch to refresh
    #[arg(value_name = "RECID")]
    pub rec_id: i64,
}

/// Options of `inbox`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("folder").args(["new", "unread", "read", "sent_unread", "sent_read"])))]
pub struct InboxArgs {
    /// Received messages not yet read (the default); nothing changes on the panel
    #[arg(long)]
    pub unread: bool,
    /// Received messages not fetched as new before; CONSUMES them: the panel returns each new message once
    #[arg(long)]
    pub new: bool,
    /// Received messages already read
    #[arg(long)]
    pub read: bool,
    /// Sent messages not marked read
    #[arg(long)]
    pub sent_unread: bool,
    /// Sent messages marked read
    #[arg(long)]
    pub sent_read: bool,
    /// Only this sender (virtual) number's messages
    #[arg(long, value_name = "NUMBER")]
    pub from: Option<String>,
}

/// Options of `inbox-count`.
#[derive(Debug, Args)]
pub struct InboxCountArgs {
    /// Count read messages instead of unread ones
    #[arg(long)]
    pub read: bool,
}

/// Options of `mark-read` and `mark-unread`.
#[derive(Debug, Args)]
pub struct MarkArgs {
    /// Message ids, as `inbox` shows them
    #[arg(value_name = "ID", required = true)]
    pub ids: Vec<i64>,
}

/// Options of `emulator`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on (port 0 picks a free port)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// Accounts file (TOML), instead of the demo account
    #[arg(long, value_name = "FILE")]
    pub accounts: Option<PathBuf>,

    /// Serve no admin endpoints
    #[arg(long)]
    pub no_admin: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
        command().debug_assert();
    }

    #[test]
    fn recipients_may_be_repeated_or_comma_separated() {
        let cli =
            Cli::parse_from(["payamak", "send", "--from", "1", "--to", "0912,0913", "--to", "0914", "--text", "x"]);
        let Command::Send(send) = cli.command else { panic!("not send") };
        assert_eq!(send.to, ["0912", "0913", "0914"]);
    }

    #[test]
    fn inbox_folders_exclude_each_other() {
        assert!(Cli::try_parse_from(["payamak", "inbox", "--new", "--read"]).is_err());
        assert!(Cli::try_parse_from(["payamak", "inbox", "--sent-read", "--from", "5000"]).is_ok());
    }
}
