//! `payamak campaign create|status|resend-unknown`: campaigns in a durable job
//! store, sent by `payamak worker` processes (see `docs/campaigns.md`).

use std::path::Path;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use payamak::campaign::{
    Account, BatchState, CampaignId, CampaignPhase, CampaignSpec, Rate, Store, Transition, CAMPAIGN_PRIORITY,
};
use payamak::recipient::MobileNumber;
use payamak::sms::MAX_RECIPIENTS_PER_CALL;
use payamak::status_codes::DeliveryStatus;
use serde::Serialize;

use super::{check_parts, Context, TextJson};
use crate::args::{CampaignCreateArgs, CampaignIdArgs, CsvArgs};
use crate::csv_input::stream::{self, StreamRow};
use crate::csv_input::{CsvOptions, InvalidRow};
use crate::failure::{CliResult, Exit, Failure};
use crate::input;
use crate::output::Output;
use crate::store::AnyStore;

/// Recipients sent to the store per write while importing.
const IMPORT_CHUNK: usize = 5_000;

/// How many invalid rows are listed (all are counted).
const SHOWN: usize = 20;

/// The credentials reference of an account whose worker uses its own settings for that user name.
pub const SETTINGS_CREDENTIALS: &str = "settings";

/// What an import did.
#[derive(Debug, Default, Serialize)]
pub struct ImportJson {
    /// The campaign.
    pub campaign: i64,
    /// Whether a campaign with the same idempotency key existed (nothing was imported).
    pub existed: bool,
    /// Recipients, repeated numbers dropped.
    pub recipients: u64,
    /// Repeated numbers dropped.
    pub duplicates: u64,
    /// Rows with an invalid number, skipped.
    pub invalid: u64,
    /// Batches planned.
    pub batches: u64,
}

/// Streams the CSV of `csv` into campaign `id` (recipients in chunks, repeats dropped by the store) and plans its batches.
pub async fn import(store: &AnyStore, id: CampaignId, csv: &CsvArgs, output: &Output) -> Result<ImportJson, Failure> {
    let options = csv.options();
    if csv.strict {
        // Every row is checked before anything is imported (a first pass, as flat as the import).
        let invalid = scan_invalid(&csv.csv, options)?;
        if !invalid.0.is_empty() {
            let lines: Vec<String> =
                invalid.0.iter().map(|row| format!("line {}: {:?} {}", row.line, row.input, row.reason)).collect();
            let more = invalid.1.saturating_sub(invalid.0.len() as u64);
            let more = if more > 0 { format!("; and {more} more") } else { String::new() };
            return Err(Failure::usage(format!(
                "{} invalid number(s), nothing imported (--strict): {}{more}",
                invalid.1,
                lines.join("; ")
            )));
        }
    }
    let rows = stream::open(&csv.csv, options).map_err(|error| Failure::with_exit(Exit::Usage, error))?;
    for note in &rows.notes {
        output.note(format!("{}: {note}", csv.csv.display()));
    }
    let bar = spinner(output, "importing");
    let mut chunk: Vec<MobileNumber> = Vec::with_capacity(IMPORT_CHUNK);
    let mut invalid = 0u64;
    let mut read = 0u64;
    for row in rows {
        let (line, row) = row.map_err(|error| Failure::with_exit(Exit::Usage, error))?;
        match row {
            StreamRow::Number(number) => chunk.push(number),
            StreamRow::Invalid(row) => {
                invalid += 1;
                if invalid <= SHOWN as u64 {
                    bar.suspend(|| {
                        output.warn(format!(
                            "line {line}: invalid mobile number {:?} ({}); skipped",
                            row.input, row.reason
                        ))
                    });
                }
            }
        }
        read += 1;
        if chunk.len() == IMPORT_CHUNK {
            store.add_recipients(id, &chunk).await.map_err(Failure::usage)?;
            chunk.clear();
            bar.set_position(read);
        }
    }
    if invalid > SHOWN as u64 {
        output.warn(format!("... and {} more invalid numbers, skipped", invalid - SHOWN as u64));
    }
    store.add_recipients(id, &chunk).await.map_err(Failure::usage)?;
    bar.finish_and_clear();
    let imported = store.seal(id, MAX_RECIPIENTS_PER_CALL as u64).await.map_err(Failure::usage)?;
    if imported.duplicates > 0 {
        output.note(format!("{} repeated number(s) are sent to once", imported.duplicates));
    }
    Ok(ImportJson {
        campaign: id.0,
        existed: false,
        recipients: imported.recipients,
        duplicates: imported.duplicates,
        invalid,
        batches: imported.batches,
    })
}

/// The first invalid rows of a CSV file, and how many there are.
fn scan_invalid(path: &Path, options: CsvOptions<'_>) -> Result<(Vec<InvalidRow>, u64), Failure> {
    let rows = stream::open(path, options).map_err(|error| Failure::with_exit(Exit::Usage, error))?;
    let (mut shown, mut count) = (Vec::new(), 0u64);
    for row in rows {
        if let (_, StreamRow::Invalid(row)) = row.map_err(|error| Failure::with_exit(Exit::Usage, error))? {
            count += 1;
            if shown.len() < SHOWN {
                shown.push(row);
            }
        }
    }
    Ok((shown, count))
}

/// A spinner counting rows on stderr (hidden unless stderr is a terminal).
fn spinner(output: &Output, what: &str) -> ProgressBar {
    let target = if output.json || output.quiet || !output.stderr_tty {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(None, target);
    if let Ok(style) = ProgressStyle::with_template(&format!("{{spinner}} {what}: {{pos}} rows [{{elapsed_precise}}]"))
    {
        bar.set_style(style);
    }
    bar
}

/// The account a campaign is sent with, as the settings and flags name it.
pub fn account_of(
    context: &Context,
    name: Option<&str>,
    credentials: Option<&str>,
    rate: Option<f64>,
    burst: u32,
    reserve: u32,
) -> Result<Account, Failure> {
    let settings = &context.settings;
    if settings.endpoints.is_empty() {
        return Err(Failure::usage(
            "no endpoint configured: a campaign is sent by workers that connect to the panel. Set --endpoint, \
             PAYAMAK_ENDPOINT or endpoint in the config file",
        ));
    }
    let Some(username) = settings.username.clone() else {
        return Err(Failure::usage("no user name: set --user, PAYAMAK_USERNAME or username in the config file"));
    };
    if let Some(rate) = rate {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(Failure::usage(format!("--rate {rate}: give calls per second, more than 0")));
        }
    }
    if reserve > 0 && rate.is_none() {
        return Err(Failure::usage("--reserve needs --rate: it is part of the account's token bucket"));
    }
    if reserve > 0 && reserve >= burst {
        return Err(Failure::usage(format!(
            "--reserve {reserve}: give less than --burst ({burst}), or campaigns could never take a token"
        )));
    }
    let credentials = credentials.unwrap_or(SETTINGS_CREDENTIALS).to_owned();
    if credentials != SETTINGS_CREDENTIALS && !credentials.starts_with("env:") {
        return Err(Failure::usage(format!(
            "--credentials {credentials:?}: give `settings` (the worker's own --user/--password, environment or \
             config file) or env:VARIABLE (the password is in that environment variable of the worker); a \
             password is never kept in the store"
        )));
    }
    Ok(Account {
        name: name.map_or_else(|| username.clone(), str::to_owned),
        username,
        endpoints: settings.endpoints.clone(),
        credentials,
        rate: rate.map(|rate| Rate::per_second(rate, burst).with_reserve(reserve)),
    })
}

/// Runs `campaign create`.
pub async fn create(args: CampaignCreateArgs, context: &Context) -> CliResult {
    let output = &context.output;
    let text = input::text(args.text.as_deref())?;
    if args.from.trim().is_empty() {
        return Err(Failure::usage("--from is empty"));
    }
    check_parts(&TextJson::of(&text), args.max_parts)?;
    let account =
        account_of(context, args.account.as_deref(), args.credentials.as_deref(), args.rate, args.burst, args.reserve)?;
    let store = args.store.open().await?;
    store.put_account(&account).await.map_err(Failure::usage)?;
    let spec = CampaignSpec {
        account: account.name.clone(),
        from: args.from.trim().to_owned(),
        text,
        flash: args.flash,
        priority: args.priority.unwrap_or(CAMPAIGN_PRIORITY),
        idempotency_key: args.idempotency_key.clone(),
        source: args.csv.csv.display().to_string(),
    };
    let created = store.create_campaign(&spec).await.map_err(Failure::usage)?;
    let info = store.campaign(created.id).await.map_err(Failure::usage)?;
    let result = if created.existed && info.as_ref().is_some_and(|info| info.phase == CampaignPhase::Ready) {
        output.note(format!("campaign {} already has the idempotency key given; nothing imported", created.id));
        let counts = store.counts(Some(created.id)).await.map_err(Failure::usage)?;
        ImportJson {
            campaign: created.id.0,
            existed: true,
            recipients: info.as_ref().map_or(0, |info| info.recipients),
            duplicates: info.as_ref().map_or(0, |info| info.duplicates),
            invalid: 0,
            batches: counts.total(),
        }
    } else {
        // A new campaign, or one whose import stopped half-way (its repeats are dropped again).
        import(&store, created.id, &args.csv, output).await?
    };
    if result.recipients == 0 {
        output.warn(format!("campaign {} has no valid recipient numbers: nothing will be sent", created.id));
    }
    if output.json {
        output.print_json(&result);
    } else {
        output.info(format!(
            "{} recipients in {} batches ({} repeated, {} invalid) in {}; send them with: payamak worker --store …",
            result.recipients,
            result.batches,
            result.duplicates,
            result.invalid,
            args.store.describe()
        ));
        output.print(result.campaign);
    }
    Ok(Exit::Ok)
}

/// A campaign's counts for `campaign status`.
#[derive(Debug, Serialize)]
pub struct StatusJson {
    /// The campaign.
    pub campaign: i64,
    /// `importing` or `ready`.
    pub phase: CampaignPhase,
    /// The account.
    pub account: String,
    /// Recipients.
    pub recipients: u64,
    /// Batches per state.
    pub batches: std::collections::BTreeMap<&'static str, u64>,
    /// Recipients per state of their batch.
    pub recipients_by_state: std::collections::BTreeMap<&'static str, u64>,
    /// Recipients the panel took (in sent batches).
    pub accepted: u64,
    /// Recipients the panel refused one by one (in sent batches).
    pub refused: u64,
    /// Why the account is paused, if it is.
    pub paused: Option<String>,
    /// The delivery statuses of the recipients the panel accepted.
    pub deliveries: DeliveriesJson,
}

/// The delivery statuses of a campaign's recipients, for `campaign status`.
#[derive(Debug, Default, Serialize)]
pub struct DeliveriesJson {
    /// RecIds followed (recipients the panel accepted in sent batches).
    pub tracked: u64,
    /// Of them, final (or unknown to the panel): no longer read.
    pub settled: u64,
    /// Of them, no status read yet.
    pub unread: u64,
    /// Of them, unknown to the panel (UpdateDelivery code 0).
    pub invalid: u64,
    /// Sent batches still followed (a read is scheduled).
    pub following_batches: u64,
    /// Per status last read.
    pub statuses: Vec<DeliveryStatusJson>,
}

/// Recipients with one delivery status.
#[derive(Debug, Serialize)]
pub struct DeliveryStatusJson {
    /// The panel's code.
    pub code: i32,
    /// Its meaning.
    pub status: &'static str,
    /// Whether it can still change.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// Recipients with it.
    pub recipients: u64,
}

/// Where campaign `id` stands: counts per state, and per recipient for sent batches (read a page of batches at a time).
pub async fn status_of(store: &AnyStore, id: CampaignId) -> Result<StatusJson, Failure> {
    let info = store
        .campaign(id)
        .await
        .map_err(Failure::usage)?
        .ok_or_else(|| Failure::usage(format!("no campaign {id} in the store (campaign create prints the id)")))?;
    let counts = store.counts(Some(id)).await.map_err(Failure::usage)?;
    let mut status = StatusJson {
        campaign: id.0,
        phase: info.phase,
        account: info.spec.account.clone(),
        recipients: info.recipients,
        batches: BatchState::ALL.iter().map(|state| (state.as_str(), counts.batches(*state))).collect(),
        recipients_by_state: BatchState::ALL.iter().map(|state| (state.as_str(), counts.recipients(*state))).collect(),
        accepted: 0,
        refused: 0,
        paused: None,
        deliveries: DeliveriesJson::default(),
    };
    let deliveries = store.delivery_counts(id).await.map_err(Failure::usage)?;
    status.deliveries = DeliveriesJson {
        tracked: deliveries.tracked,
        settled: deliveries.settled(),
        unread: deliveries.unread,
        invalid: deliveries.invalid,
        following_batches: deliveries.following,
        statuses: deliveries
            .by_status
            .iter()
            .map(|(code, recipients)| {
                let status = DeliveryStatus::from_code(*code);
                DeliveryStatusJson {
                    code: *code,
                    status: status.english(),
                    is_final: status.is_final(),
                    recipients: *recipients,
                }
            })
            .collect(),
    };
    let mut from = 0;
    loop {
        let page = store.batches(id, from, 1000).await.map_err(Failure::usage)?;
        let Some(last) = page.last() else { break };
        from = last.batch + 1;
        for row in &page {
            if let (BatchState::Sent, Some(payamak::bulk::BatchOutcome::Sent { recipients })) =
                (row.state, &row.outcome)
            {
                for recipient in recipients {
                    match recipient.outcome() {
                        payamak::bulk::BulkOutcome::Accepted { .. } => status.accepted += 1,
                        payamak::bulk::BulkOutcome::Refused { .. } => status.refused += 1,
                        _ => {}
                    }
                }
            }
        }
    }
    let now = payamak::campaign::rate::now_ms();
    let accounts = store.accounts().await.map_err(Failure::usage)?;
    status.paused = accounts
        .into_iter()
        .find(|account| account.account.name == info.spec.account)
        .and_then(|account| account.paused)
        .filter(|(until, _)| *until > now)
        .map(|(until, reason)| {
            let until = chrono::DateTime::from_timestamp_millis(until)
                .map_or_else(String::new, |at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string());
            format!("{reason} (until {until})")
        });
    Ok(status)
}

/// Runs `campaign status`.
pub async fn status(args: CampaignIdArgs, context: &Context) -> CliResult {
    let output = &context.output;
    let store = args.store.open().await?;
    let status = status_of(&store, CampaignId(args.id)).await?;
    if output.json {
        output.print_json(&status);
        return Ok(Exit::Ok);
    }
    output.print(format!(
        "campaign {} ({}, account {:?}): {} recipients",
        status.campaign,
        match status.phase {
            CampaignPhase::Importing => "importing",
            CampaignPhase::Ready => "ready",
        },
        status.account,
        status.recipients
    ));
    let mut table = output.table(["state", "batches", "recipients"]);
    for state in BatchState::ALL {
        table.add_row(vec![
            state.as_str().to_owned(),
            status.batches.get(state.as_str()).copied().unwrap_or(0).to_string(),
            status.recipients_by_state.get(state.as_str()).copied().unwrap_or(0).to_string(),
        ]);
    }
    output.print_table(table);
    output.print(format!("accepted by the panel: {}; refused one by one: {}", status.accepted, status.refused));
    let deliveries = &status.deliveries;
    if deliveries.tracked > 0 {
        output.print(format!(
            "deliveries: {} followed, {} final, {} not read yet, {} unknown to the panel; {} batch(es) still read",
            deliveries.tracked, deliveries.settled, deliveries.unread, deliveries.invalid, deliveries.following_batches
        ));
        let mut table = output.table(["code", "delivery status", "final", "recipients"]);
        for row in &deliveries.statuses {
            table.add_row(vec![
                row.code.to_string(),
                row.status.to_owned(),
                if row.is_final { "yes" } else { "no" }.to_owned(),
                row.recipients.to_string(),
            ]);
        }
        output.print_table(table);
    }
    if let Some(paused) = &status.paused {
        output.warn(format!("the account is paused: {paused}"));
    }
    let unknown =
        status.batches.get("unknown").copied().unwrap_or(0) + status.batches.get("attempting").copied().unwrap_or(0);
    if unknown > 0 {
        output.note(format!(
            "{unknown} batch(es) may or may not have been sent (attempting or unknown); they are never sent again \
             unless you check the panel's sent messages and run: payamak campaign resend-unknown --store … {}",
            status.campaign
        ));
    }
    Ok(Exit::Ok)
}

/// Runs `campaign resend-unknown`: a person's decision to send the unknown batches again.
pub async fn resend_unknown(args: CampaignIdArgs, context: &Context) -> CliResult {
    let output = &context.output;
    let store = args.store.open().await?;
    let id = CampaignId(args.id);
    if store.campaign(id).await.map_err(Failure::usage)?.is_none() {
        return Err(Failure::usage(format!("no campaign {id} in the store")));
    }
    let moved = store.requeue(id, Transition::OperatorResend).await.map_err(Failure::usage)?;
    if output.json {
        output.print_json(&serde_json::json!({ "campaign": id.0, "requeued": moved }));
    } else {
        output.warn(format!(
            "{moved} batch(es) of unknown outcome are pending again: the next worker sends them (their recipients \
             may get the message twice)"
        ));
    }
    Ok(Exit::Ok)
}
