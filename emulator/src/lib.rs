//! An emulator of the panel: a real HTTP server speaking the panel's SOAP services, for
//! tests and demos.
//!
//! It serves `POST /post/send.asmx` and `POST /post/IncomingMessages.asmx` (paths matched
//! case-insensitively, as IIS does) over SOAP 1.1 and 1.2, with every operation of the
//! shipped WSDLs, and `GET …asmx?WSDL` with the service addresses pointing at itself.
//! Requests and responses go through the same generated types and [`payamak::server`] code
//! as the client. Accounts keep their credit, sender numbers, filtered words, daily
//! limit, sent messages with their delivery statuses, scheduled messages and inbox, and
//! never see one another's data.
//!
//! # Starting one
//!
//! From async tests:
//!
//! ```no_run
//! use payamak_emulator::{Account, Emulator, ManualClock};
//!
//! # async fn demo() -> std::io::Result<()> {
//! let clock = ManualClock::starting_at("2024-03-20T09:00:00".parse::<payamak::PanelDateTime>().unwrap());
//! let emulator = Emulator::builder()
//!     .account(Account::new("alice", "secret").credit(100.0).sender("50001234"))
//!     .clock(&clock)
//!     .start()
//!     .await?;
//! let base_url = emulator.base_url(); // "http://127.0.0.1:PORT/post/"
//! // … point a client at base_url, then let time pass:
//! clock.advance(std::time::Duration::from_secs(60));
//! let alice = emulator.account_snapshot("alice").expect("configured");
//! println!("credit left: {}", alice.credit);
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! From synchronous code, [`EmulatorBuilder::start_blocking`] runs the server on a thread
//! with its own runtime:
//!
//! ```no_run
//! let emulator = payamak_emulator::Emulator::builder().start_blocking()?;
//! println!("demo panel at {}", emulator.base_url());
//! emulator.shutdown_blocking();
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! A command-line front end builds an [`Emulator`] and serves it on its own listener:
//!
//! ```no_run
//! # async fn cli() -> Result<(), Box<dyn std::error::Error>> {
//! let emulator = payamak_emulator::Emulator::builder().accounts_file("accounts.toml")?.build();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! emulator.serve(listener).await?; // until the future is dropped
//! # Ok(()) }
//! ```
//!
//! # The demo account
//!
//! Every emulator has, unless [`EmulatorBuilder::without_demo`] (or `demo = false` in an
//! accounts file) says otherwise, the account user name `demo`, password `demo`, credit
//! 10000, price 1.0 per SMS part, sender numbers `5000123456` and `3000987654`, the
//! filtered word `قمار` and a daily limit of 1000 recipients ([`Account::demo`]). An
//! account configured with the user name `demo` replaces it.
//!
//! # Accounts file (TOML)
//!
//! Every key is optional except each account's `username` and `password`:
//!
//! ```toml
//! demo = true                    # keep the demo account (default true)
//!
//! [clock]                        # omit for the system clock
//! manual_start = "2024-03-20T09:00:00"   # a manual clock (Tehran time), moved by
//!                                         # POST /admin/clock/advance
//!
//! [delivery]
//! reach_operator_secs = 2        # 0 → 8 (reached the operator) after this long
//! final_secs = 5                 # → 1 (delivered) or 2 (not delivered) after this long
//! update_interval_secs = 10      # UpdateDelivery answers 100 sooner than this per batch
//! unreachable = ["09120000000"]  # these recipients end as 2 (not delivered)
//!
//! [[accounts]]
//! username = "alice"             # matched case-insensitively, as the panel does
//! password = "secret"            # matched exactly
//! credit = 500.0                 # default 0
//! price_per_part = 1.0           # default 1.0; a send costs parts × recipients × price
//! daily_limit = 200              # recipients per Tehran calendar day; omit for no limit
//! senders = ["50001234", "3000555"]
//! filtered_words = ["قمار", "casino"]
//! inbox = [{ from = "09121234567", body = "سلام" }]   # `to` defaults to the first sender
//! send_rate = 20.0               # SendSms calls per second; over it: HTTP 503 + Retry-After
//! send_burst = 2                 # calls at once after a quiet spell (default 1)
//! latency_ms = 50                # each SendSms takes this long (half before it is carried out)
//! ```
//!
//! The crate's `tests/fixtures/accounts.toml` is a complete example.
//!
//! # Behaviour
//!
//! Decisions where the service guide is silent are marked **\[decision\]**.
//!
//! - **Credentials.** Wrong credentials are a result code, never a fault: SendSms and
//!   ScheduleSms answer 0, UpdateMessagesIsRead/IsNotRead 0, GetCredit 0.0,
//!   GetInboxCount 0 **\[decision\]**, the list operations an empty list. User names are
//!   matched case-insensitively (as SQL Server's default collation would), passwords
//!   exactly **\[decision\]**. GetDelivery and UpdateDelivery take no credentials.
//! - **SendSms checks**, in this order: credentials (0), sender number owned by the
//!   account (5), filtered words as case-insensitive substrings of the text (7), more
//!   than 100 recipients (4 "sending limit" **\[decision\]**: the guide gives the limit but
//!   no code), no valid recipient at all (11 "not sent" **\[decision\]**), the daily limit
//!   of recipients per Tehran calendar day (3), the credit (2); then 1.
//! - **recIds and status bytes.** On success each entry of `to` gets a recId (global
//!   across accounts, increasing from 1000000001) and status byte 0; an entry that is not
//!   a valid Iranian mobile number gets recId 0 and status 1 and is neither charged nor
//!   counted. When every entry is invalid the result is 11 with those arrays. On other
//!   failures `recId` and `status` come back as the request sent them (they are `ref`
//!   parameters in ASMX).
//! - **Credit.** A send costs [`sms_parts::count`](payamak::sms_parts::count)`(text).parts()`
//!   × accepted recipients × the account's price per part.
//! - **Sent lists.** Each accepted recipient becomes one `Message` row
//!   (`MsgType` 2 **\[decision\]**, the platform's "sent" location code; `Sender` the
//!   virtual number, `Receiver` the recipient) in GetSentSMSIsNotReadList until marked
//!   read. Received messages have `MsgType` 1. `MsgID`s are unique across received and
//!   sent rows of all accounts. Lists are oldest first.
//! - **Deliveries** follow [`DeliveryTiming`]: the operator's status goes 0 (sent to the
//!   operator) → 8 (reached the operator) → 1 (delivered), or 2 (not delivered) for the
//!   numbers given to [`EmulatorBuilder::unreachable`]. GetDelivery answers the status
//!   the panel *holds*, 0 until UpdateDelivery refreshes it, and 100 ("unknown") for a
//!   recId it never issued **\[decision\]**. UpdateDelivery answers 0 for an unknown recId,
//!   100 when the same batch (all recIds of one SendSms call) was refreshed less than the
//!   minimum interval ago, and 1 otherwise, refreshing the whole batch at once.
//! - **ScheduleSms** runs the SendSms checks (the daily limit against the day the message
//!   is due, the credit against one occurrence now) and answers with the same codes. The
//!   message is sent (and charged, and checked again) when due: on time with the system
//!   clock, and as soon as a [`ManualClock`] is moved past it. `period` repeats it on the
//!   Tehran wall clock (Daily, Weekly, Monthly, Yearly); `Custom` is treated as `Once`
//!   **\[decision\]**: the service has no parameter saying what a custom period would be. A
//!   time already past sends at once. A value outside `PeriodType` is a fault, as
//!   ASMX's XmlSerializer gives.
//! - **Inbox.** [`EmulatorHandle::inject_incoming`] (also callable on a
//!   [`RunningEmulator`]) and `POST /admin/inbox` add received messages, received at the
//!   clock's current time. GetNewMessagesList returns the messages it has not returned before (they
//!   stay unread); GetReceiveSMSIsNotReadList/IsReadList and GetInboxCount go by the read
//!   flag, which UpdateMessagesIsRead/IsNotRead set (`msgIds` comma-separated; blanks,
//!   non-numbers and ids of other accounts are ignored; 1 = done). The lists' `from`
//!   selects one virtual number (the receiver of received rows, the sender of sent ones);
//!   empty means all.
//! - **Faults.** A request that cannot be read (not UTF-8, not XML, not a SOAP envelope,
//!   a SOAP 1.1 `SOAPAction` or 1.2 `action` naming no operation of the endpoint or not
//!   matching the payload, a value of the wrong type) gets a `Client`/`Sender` fault with
//!   HTTP 500 in the request's SOAP version; an envelope whose version contradicts the
//!   Content-Type gets a `VersionMismatch` fault. ASMX's HTTP GET/POST bindings
//!   (`send.asmx/GetCredit?username=…`) are not emulated.
//! - **Request size.** A request body (SOAP or admin JSON) over 1 MiB gets HTTP 413
//!   **\[decision\]**; the largest real request is a few KiB.
//! - **Time** never goes back for an emulator: a [`ManualClock`] set back leaves it
//!   acting at the latest time it has seen until the clock passes that time again.
//!
//! # Admin endpoints
//!
//! JSON, for tests written in other languages; served unless
//! [`EmulatorBuilder::admin_endpoints`]`(false)` (`payamak emulator --no-admin`), and listed
//! in [`ADMIN_ENDPOINTS`]. Request bodies must be sent as `Content-Type: application/json`
//! (anything else gets 415), and no CORS header is ever sent: a web page open in the
//! tester's browser cannot post to them. They have no authentication: serve the emulator
//! on loopback, or turn them off.
//!
//! | Request | Body | Answer |
//! |---|---|---|
//! | `POST /admin/inbox` | `{"username": "demo", "from": "09121234567", "to": "5000123456", "body": "سلام"}` (`to` optional: the account's first sender number) | `{"msg_id": 17}`; 404 for an unknown account, 400 for a bad body |
//! | `GET /admin/accounts` | | `["demo", …]` |
//! | `GET /admin/accounts/{username}` | | the [`AccountSnapshot`] (times as Tehran local time, e.g. `"2024-03-20T09:00:00"`); 404 if unknown |
//! | `GET /admin/clock` | | `{"now": "2024-03-20T09:00:00", "manual": true}` |
//! | `POST /admin/clock/advance` | `{"seconds": 10.5}` | like `GET /admin/clock`; 409 with the system clock |
//! | `GET /admin/send-calls` | | the [`SendCalls`]: SendSms calls carried out, distinct batches, throttled calls per account, the batches sent more than once, and per account the calls and the time from the first to the last |
//! | `POST /admin/reset` | none, or `{}` | `{"accounts": ["demo", …]}`: the configured accounts as they started (credit, inbox seeds), with no sends, deliveries, schedules or injected messages; recIds and message ids start again. The clock is not moved back |
//!
//! Passwords are never logged nor shown in snapshots or `Debug` output.

mod accounts;
mod admin;
mod app;
mod clock;
mod dispatch;
mod faults;
mod limits;
mod ops;
mod pacing;
mod schedule;
mod server;
mod services;
mod shared;
mod snapshot;
mod state;
mod toml_error;
mod transport;
mod wsdl;

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use accounts::{Account, ConfigError, DeliveryTiming, DEMO_PASSWORD, DEMO_USERNAME};
pub use admin::{AdminEndpoint, ADMIN_ENDPOINTS};
pub use clock::{Clock, ManualClock};
pub use limits::ServerLimits;
pub use pacing::{AccountCalls, RepeatedBatch, SendCalls, SendPacing};
pub use schedule::Repeat;
pub use snapshot::{
    AccountSnapshot, IncomingSms, InjectError, ReceivedSnapshot, ScheduleRun, ScheduleSnapshot, SentSnapshot,
};
pub use toml_error::TomlError;
pub use transport::{EmulatorTransport, IN_PROCESS_BASE_URL};

use accounts::AccountsFile;
use shared::Shared;
use state::State;

/// The first recId the emulator hands out.
pub const FIRST_REC_ID: i64 = state::FIRST_REC_ID;

/// The base URL clients use for an emulator listening on `local`:
/// `http://127.0.0.1:PORT/post/` (an unspecified bind address such as `0.0.0.0` is
/// reached through loopback).
pub fn base_url_for(local: SocketAddr) -> String {
    format!("http://{}{}", server::reachable(local), services::SERVICES_PATH)
}

/// Configures an [`Emulator`].
#[derive(Debug)]
pub struct EmulatorBuilder {
    accounts: Vec<Account>,
    demo: bool,
    clock: Clock,
    timing: DeliveryTiming,
    unreachable: Vec<payamak::recipient::MobileNumber>,
    admin: bool,
    limits: ServerLimits,
    retain_sent: usize,
    listen: SocketAddr,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            accounts: Vec::new(),
            demo: true,
            clock: Clock::system(),
            timing: DeliveryTiming::default(),
            unreachable: Vec::new(),
            admin: true,
            limits: ServerLimits::default(),
            retain_sent: state::DEFAULT_RETAIN_SENT,
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        }
    }
}

impl EmulatorBuilder {
    /// Adds an account; one with the same user name (case-insensitively), the demo
    /// account included, is replaced.
    #[must_use]
    pub fn account(mut self, account: Account) -> Self {
        let key = account.username.to_lowercase();
        self.accounts.retain(|existing| existing.username.to_lowercase() != key);
        self.accounts.push(account);
        self
    }

    /// Leaves the demo account out.
    #[must_use]
    pub fn without_demo(mut self) -> Self {
        self.demo = false;
        self
    }

    /// Applies an accounts file's text (see the [module documentation](self) for the
    /// format): its accounts are added, and its clock and delivery settings replace the
    /// builder's.
    pub fn accounts_toml(self, text: &str) -> Result<Self, ConfigError> {
        let file = AccountsFile::parse(text)?;
        Ok(self.apply(file))
    }

    fn apply(mut self, file: AccountsFile) -> Self {
        if !file.demo {
            self.demo = false;
        }
        if let Some(start) = file.manual_clock_start {
            self.clock = ManualClock::starting_at(start).into();
        }
        if let Some(timing) = file.timing {
            self.timing = timing;
        }
        self.unreachable.extend(file.unreachable);
        for account in file.accounts {
            self = self.account(account);
        }
        self
    }

    /// Reads and applies an accounts file (see [`accounts_toml`](Self::accounts_toml)).
    pub fn accounts_file(self, path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let file = AccountsFile::read(path.as_ref())?;
        Ok(self.apply(file))
    }

    /// Sets the clock (the system clock by default); pass a [`ManualClock`] to control
    /// time from a test.
    #[must_use]
    pub fn clock(mut self, clock: impl Into<Clock>) -> Self {
        self.clock = clock.into();
        self
    }

    /// Sets how deliveries progress and UpdateDelivery's minimum interval.
    #[must_use]
    pub fn delivery_timing(mut self, timing: DeliveryTiming) -> Self {
        self.timing = timing;
        self
    }

    /// Makes deliveries to `number` end as "not delivered" (2). A text that is not a valid
    /// mobile number is ignored: such recipients are never sent to anyway.
    #[must_use]
    pub fn unreachable(mut self, number: &str) -> Self {
        if let Ok(number) = payamak::recipient::MobileNumber::parse(number) {
            self.unreachable.push(number);
        }
        self
    }

    /// Serves the `/admin/…` JSON endpoints (default true).
    #[must_use]
    pub fn admin_endpoints(mut self, enabled: bool) -> Self {
        self.admin = enabled;
        self
    }

    /// How many sent messages each account keeps (default 100,000): older ones
    /// leave the sent lists and snapshots, and their recIds become unknown to
    /// GetDelivery and UpdateDelivery. Bounds memory under sustained load.
    #[must_use]
    pub fn retain_sent(mut self, messages: usize) -> Self {
        self.retain_sent = messages.max(1);
        self
    }

    /// What the server tolerates from its clients: connections at once, header
    /// and body timeouts, requests answered at once (see [`ServerLimits`]).
    #[must_use]
    pub fn limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The address [`start`](Self::start) and [`start_blocking`](Self::start_blocking)
    /// bind (default `127.0.0.1:0`, an ephemeral port).
    #[must_use]
    pub fn listen(mut self, address: SocketAddr) -> Self {
        self.listen = address;
        self
    }

    /// Builds the emulator without serving it yet.
    pub fn build(self) -> Emulator {
        let mut accounts = Vec::with_capacity(self.accounts.len() + 1);
        let demo_replaced = self.accounts.iter().any(|account| account.username.eq_ignore_ascii_case(DEMO_USERNAME));
        if self.demo && !demo_replaced {
            accounts.push(Account::demo());
        }
        accounts.extend(self.accounts);
        let pacing = pacing::Pacing::new(
            accounts.iter().map(|account| (account.username.to_lowercase(), account.pacing)).collect(),
        );
        let state = State::with_retention(accounts, self.timing, &self.unreachable, self.retain_sent, self.clock.now());
        Emulator { shared: Shared::new(state, self.clock, self.admin, self.limits, pacing), listen: self.listen }
    }

    /// Builds the emulator and serves it on a task of the current Tokio runtime.
    pub async fn start(self) -> io::Result<RunningEmulator> {
        self.build().start().await
    }

    /// Builds the emulator and serves it on a thread of its own (with its own runtime),
    /// for synchronous code. It blocks only until the port is bound.
    pub fn start_blocking(self) -> io::Result<RunningEmulator> {
        self.build().start_blocking()
    }
}

/// An emulated panel, ready to serve.
pub struct Emulator {
    shared: Arc<Shared>,
    listen: SocketAddr,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("listen", &self.listen)
            .field("clock", &self.shared.clock)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// A builder, with the demo account and the system clock.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// A handle on the state, usable while the emulator is served.
    pub fn handle(&self) -> EmulatorHandle {
        EmulatorHandle { shared: self.shared.clone() }
    }

    /// Serves on `listener` until the returned future is dropped (or the listener fails).
    pub async fn serve(self, listener: TcpListener) -> io::Result<()> {
        server::serve(self.shared, listener, std::future::pending()).await
    }

    /// Serves on `listener` until `shutdown` completes, then finishes the requests in
    /// flight and returns.
    pub async fn serve_with_shutdown(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        server::serve(self.shared, listener, shutdown).await
    }

    /// Binds the configured address and serves on a task of the current Tokio runtime.
    pub async fn start(self) -> io::Result<RunningEmulator> {
        let listener = TcpListener::bind(self.listen).await?;
        let local = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let (done_tx, done) = oneshot::channel();
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let result = server::serve(shared, listener, async move {
                let _ = stopped.await;
            })
            .await;
            if let Err(error) = &result {
                tracing::error!(%error, "payamak emulator stopped");
            }
            let _ = done_tx.send(());
        });
        Ok(RunningEmulator { handle: self.handle(), local, stop: Some(stop), done: Some(done), thread: None })
    }

    /// Binds the configured address and serves on a thread of its own, with its own
    /// single-threaded Tokio runtime.
    pub fn start_blocking(self) -> io::Result<RunningEmulator> {
        let (ready_tx, ready) = std::sync::mpsc::channel::<io::Result<SocketAddr>>();
        let (stop, stopped) = oneshot::channel::<()>();
        let (done_tx, done) = oneshot::channel();
        let handle = self.handle();
        let (shared, listen) = (self.shared, self.listen);
        let thread = std::thread::Builder::new().name("payamak-emulator".to_owned()).spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(error) => {
                    let _ = ready_tx.send(Err(error));
                    return;
                }
            };
            runtime.block_on(async move {
                let bound = async {
                    let listener = TcpListener::bind(listen).await?;
                    let local = listener.local_addr()?;
                    Ok::<_, io::Error>((listener, local))
                };
                let listener = match bound.await {
                    Ok((listener, local)) => {
                        let _ = ready_tx.send(Ok(local));
                        listener
                    }
                    Err(error) => {
                        let _ = ready_tx.send(Err(error));
                        return;
                    }
                };
                if let Err(error) = server::serve(shared, listener, async move {
                    let _ = stopped.await;
                })
                .await
                {
                    tracing::error!(%error, "payamak emulator stopped");
                }
                let _ = done_tx.send(());
            });
        })?;
        let local = ready.recv().map_err(|_| io::Error::other("the emulator thread ended before binding"))??;
        Ok(RunningEmulator { handle, local, stop: Some(stop), done: Some(done), thread: Some(thread) })
    }
}

/// Access to an emulator's state from Rust: inject messages, read accounts, see the clock.
/// Cheap to clone.
#[derive(Clone)]
pub struct EmulatorHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorHandle").field("clock", &self.shared.clock).finish_non_exhaustive()
    }
}

impl EmulatorHandle {
    /// Puts a received message in an account's inbox, received now; returns its
    /// message id (`MsgID`).
    ///
    /// ```no_run
    /// # fn demo(emulator: &payamak_emulator::RunningEmulator) -> Result<(), payamak_emulator::InjectError> {
    /// use payamak_emulator::IncomingSms;
    ///
    /// let msg_id = emulator.inject_incoming(IncomingSms::new("demo", "09121234567", "سلام").to("5000123456"))?;
    /// # Ok(()) }
    /// ```
    pub fn inject_incoming(&self, sms: IncomingSms) -> Result<i64, InjectError> {
        self.shared.with_state(|state, now| state.inject(sms, now))
    }

    /// The state of the account `username` (case-insensitively), if it exists.
    pub fn account_snapshot(&self, username: &str) -> Option<AccountSnapshot> {
        self.shared.with_state(|state, now| state.snapshot(username, now))
    }

    /// SendSms calls so far, counted per batch: a batch sent twice shows in
    /// [`SendCalls::repeated`] (also `GET /admin/send-calls`).
    pub fn send_calls(&self) -> SendCalls {
        self.shared.pacing.calls()
    }

    /// A transport that reaches this emulator in-process, with no socket: give it
    /// to [`payamak::ClientBuilder::transport`] with the base URL
    /// [`IN_PROCESS_BASE_URL`]. It works whether or not the emulator is served.
    pub fn transport(&self) -> EmulatorTransport {
        EmulatorTransport::new(self.shared.clone())
    }

    /// The user names of all accounts.
    pub fn usernames(&self) -> Vec<String> {
        self.shared.with_state(|state, _| state.usernames())
    }

    /// The emulator's clock.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }
}

/// A served emulator. Dropping it stops the server (without waiting for it).
pub struct RunningEmulator {
    handle: EmulatorHandle,
    local: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: Option<oneshot::Receiver<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for RunningEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningEmulator")
            .field("local_addr", &self.local)
            .field("own_thread", &self.thread.is_some())
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for RunningEmulator {
    type Target = EmulatorHandle;

    fn deref(&self) -> &EmulatorHandle {
        &self.handle
    }
}

impl RunningEmulator {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The base URL to give a client: `http://127.0.0.1:PORT/post/` (an unspecified
    /// bind address is reached through loopback).
    pub fn base_url(&self) -> String {
        base_url_for(self.local)
    }

    /// A handle on the state that outlives this value's borrow.
    pub fn handle(&self) -> EmulatorHandle {
        self.handle.clone()
    }

    /// Stops accepting requests and waits until the requests in flight are answered.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
    }

    /// Like [`shutdown`](Self::shutdown), from synchronous code. For an emulator started
    /// with [`Emulator::start`] on a runtime, this only signals the server (waiting there
    /// could block the runtime it needs to stop); for one started with
    /// [`start_blocking`](Emulator::start_blocking) it waits for its thread to end.
    pub fn shutdown_blocking(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
