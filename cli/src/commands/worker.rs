//! `payamak worker`: sends the batches of the campaigns in a job store. Any
//! number of workers may run over one store, on one machine (SQLite) or many
//! (PostgreSQL); none ever sends a batch another one may have sent.

use std::collections::HashMap;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use payamak::campaign::{
    AccountState, BatchState, DeliveryOptions, Handled, Lease, Store, Worker, WorkerObserver, WorkerOptions,
    WorkerReport,
};
use payamak::{Client, SoapVersion};
use serde::Serialize;

use super::campaign::SETTINGS_CREDENTIALS;
use super::Context;
use crate::args::WorkerArgs;
use crate::failure::{CliResult, Exit, Failure};
use crate::output::Output;
use crate::store::AnyStore;

/// Test hook: `PAYAMAK_TEST_UNSAFE_REAPER=1` makes the reaper re-queue stale
/// attempts, as generic job queues do: the chaos test's control run, which must see doubles.
const UNSAFE_REAPER: &str = "PAYAMAK_TEST_UNSAFE_REAPER";

/// A name for this worker's leases: host, process and a random part.
pub fn owner_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "host".to_owned());
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.subsec_nanos());
    format!("{host}:{}:{nanos:08x}", std::process::id())
}

/// A client for each account of the store whose credentials reference this worker can resolve.
pub fn clients(accounts: &[AccountState], context: &Context) -> Result<HashMap<String, Client>, Failure> {
    let settings = &context.settings;
    let mut clients = HashMap::new();
    for state in accounts {
        let account = &state.account;
        let password = if account.credentials == SETTINGS_CREDENTIALS {
            match (&settings.username, &settings.password) {
                (Some(username), Some(password)) if *username == account.username => Some(password.0.clone()),
                _ => None,
            }
        } else if let Some(variable) = account.credentials.strip_prefix("env:") {
            std::env::var(variable).ok().filter(|password| !password.is_empty())
        } else {
            None
        };
        let Some(password) = password else {
            context.output.warn(format!(
                "account {:?}: no password for user {:?} here (its credentials are {:?}); this worker leaves its \
                 batches to others",
                account.name, account.username, account.credentials
            ));
            continue;
        };
        let mut builder =
            Client::builder().base_urls(account.endpoints.clone()).credentials(account.username.clone(), password);
        if settings.soap12 {
            builder = builder.soap_version(SoapVersion::V12);
        }
        if let Some(timeout) = settings.timeout {
            builder = builder.timeout(timeout);
        }
        clients.insert(account.name.clone(), builder.build()?);
    }
    Ok(clients)
}

/// Worker options from the flags.
pub fn options(args: &WorkerArgs) -> Result<WorkerOptions, Failure> {
    let seconds = |value: f64, flag: &str| {
        Duration::try_from_secs_f64(value)
            .ok()
            .filter(|duration| !duration.is_zero())
            .ok_or_else(|| Failure::usage(format!("{flag} {value}: give seconds, more than 0")))
    };
    let mut options = WorkerOptions::new(owner_name());
    options.concurrency = args.workers;
    options.until_idle = args.until_idle;
    options.lease = seconds(args.lease, "--lease")?;
    options.unknown_after = seconds(args.unknown_after, "--unknown-after")?;
    options.reap_every = (options.lease / 2).clamp(Duration::from_millis(100), Duration::from_secs(5));
    options.idle_poll = Duration::from_millis(100);
    options.accounts = args.account.clone();
    options.unsafe_reaper = std::env::var(UNSAFE_REAPER).is_ok_and(|value| value == "1");
    options.deliveries = if args.no_deliveries {
        None
    } else {
        let mut deliveries = DeliveryOptions::default();
        if !args.delivery_schedule.is_empty() {
            let mut schedule = Vec::with_capacity(args.delivery_schedule.len());
            for &value in &args.delivery_schedule {
                let offset = Duration::try_from_secs_f64(value).map_err(|_| {
                    Failure::usage(format!("--delivery-schedule {value}: give seconds after the send, 0 or more"))
                })?;
                if schedule.last().is_some_and(|last| *last >= offset) {
                    return Err(Failure::usage("--delivery-schedule: give the times in increasing order"));
                }
                schedule.push(offset);
            }
            deliveries.schedule = schedule;
        }
        deliveries.min_update_interval = Duration::try_from_secs_f64(args.delivery_interval)
            .map_err(|_| Failure::usage(format!("--delivery-interval {}: give seconds", args.delivery_interval)))?;
        deliveries.wait_for_due = Duration::try_from_secs_f64(args.delivery_wait)
            .map_err(|_| Failure::usage(format!("--delivery-wait {}: give seconds", args.delivery_wait)))?;
        Some(deliveries)
    };
    Ok(options)
}

/// Counts the batches on a progress line.
struct Progress {
    bar: ProgressBar,
    /// Attempts recorded, batches handed back, and those of them that may
    /// have been sent with no outcome known (unknown, or not recorded).
    attempted: u64,
    handled: u64,
    maybe_sent: u64,
}

impl WorkerObserver for Progress {
    fn attempted(&mut self, _lease: &Lease) {
        self.attempted += 1;
    }

    fn batch(&mut self, lease: &Lease, handled: &Handled) {
        self.handled += 1;
        if matches!(handled, Handled::Unrecorded(..) | Handled::Recorded(BatchState::Unknown, _)) {
            self.maybe_sent += 1;
        }
        if let Handled::Unrecorded(_, error) = handled {
            let (campaign, batch) = (lease.campaign, lease.batch + 1);
            self.bar.suspend(|| {
                crate::stderr_line!(
                    "error: campaign {campaign} batch {batch}: its outcome could not be recorded ({error}); it will \
                     be counted unknown and not sent again"
                );
            });
        }
        self.bar.inc(lease.numbers.len() as u64);
    }
}

/// Runs a worker over `store` with `clients` until it stops.
pub async fn run_with(
    store: &AnyStore,
    clients: &HashMap<String, Client>,
    options: WorkerOptions,
    output: &Output,
) -> Result<WorkerReport, Failure> {
    let target = if output.json || output.quiet || !output.stderr_tty {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(None, target);
    if let Ok(style) = ProgressStyle::with_template("{spinner} {pos} recipients handled [{elapsed_precise}] {msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut progress = Progress { bar: bar.clone(), attempted: 0, handled: 0, maybe_sent: 0 };
    let report = Worker::new(store, clients, options).run(&mut progress).await;
    bar.finish_and_clear();
    report.map_err(|error| {
        // A batch sent with no outcome recorded, or on its way when the store failed, may have been sent.
        let unsettled = progress.maybe_sent > 0 || progress.attempted > progress.handled;
        let exit = if unsettled { Exit::Unknown } else { Exit::Transport };
        Failure::with_exit(exit, anyhow::Error::new(error))
    })
}

#[derive(Serialize)]
struct ReportJson<'a> {
    sent: u64,
    failed: u64,
    unknown: u64,
    deferred: u64,
    lost: u64,
    unrecorded: u64,
    /// It stopped claiming because the store failed to record outcomes.
    stopped_unrecorded: bool,
    paused: &'a std::collections::BTreeMap<String, String>,
    delivery_polls: u64,
    delivery_reads: u64,
}

/// Runs `worker`.
pub async fn run(args: WorkerArgs, context: &Context) -> CliResult {
    let output = &context.output;
    let mut options = options(&args)?;
    let store = args.store.open().await?;
    let accounts = store.accounts().await.map_err(Failure::usage)?;
    let clients = clients(&accounts, context)?;
    if clients.is_empty() && !accounts.is_empty() {
        return Err(Failure::usage(
            "no account of the store can be used here: give the password of its user (--user and --password, \
             PAYAMAK_USERNAME and PAYAMAK_PASSWORD) or the environment variable its credentials name",
        ));
    }
    // A send-bulk file's batches are sent by send-bulk alone (it checks the panel first when its
    // store may not be the whole record); their deliveries are followed here. `--account` names one to send it.
    options.follow_only = accounts
        .iter()
        .map(|state| &state.account.name)
        .filter(|name| name.starts_with(super::send_bulk::ACCOUNT_PREFIX) && !args.account.contains(name))
        .cloned()
        .collect();
    let report = run_with(&store, &clients, options, output).await?;
    if output.json {
        output.print_json(&ReportJson {
            sent: report.sent,
            failed: report.failed,
            unknown: report.unknown,
            deferred: report.deferred,
            lost: report.lost,
            unrecorded: report.unrecorded,
            stopped_unrecorded: report.stopped_unrecorded,
            paused: &report.paused,
            delivery_polls: report.delivery_polls,
            delivery_reads: report.delivery_reads,
        });
    } else {
        output.info(format!(
            "sent {} batches; {} failed, {} unknown, {} deferred (account refused), {} claims lost",
            report.sent, report.failed, report.unknown, report.deferred, report.lost
        ));
        if report.delivery_polls > 0 {
            output.info(format!(
                "read {} delivery statuses of {} sent batches",
                report.delivery_reads, report.delivery_polls
            ));
        }
        for (account, reason) in &report.paused {
            output.warn(format!("account {account:?} is paused: {reason}"));
        }
        if report.stopped_unrecorded {
            output.warn(format!(
                "stopped claiming: {} sent batch(es) could not have their outcome recorded (above); they will be \
                 counted unknown, not sent again. Run a worker again once the store works",
                report.unrecorded
            ));
        } else if report.unrecorded > 0 {
            output.warn(format!(
                "{} sent batch(es) could not have their outcome recorded (above): counted unknown, not sent again",
                report.unrecorded
            ));
        }
    }
    Ok(if report.unknown > 0 || report.unrecorded > 0 { Exit::Unknown } else { Exit::Ok })
}
