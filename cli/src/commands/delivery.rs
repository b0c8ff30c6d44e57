//! Shows and follows delivery statuses: `payamak delivery` and `payamak update-delivery`,
//! and the watch `send --watch` runs after its send.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

use comfy_table::Cell;
use payamak::bulk::{BatchOutcome, JsonLinesJournal};
use payamak::delivery::DeliveryTracker;
use payamak::status_codes::{DeliveryStatus, UpdateDeliveryStatus};
use payamak::Client;
use serde::Serialize;
use serde_json::json;

use super::Context;
use crate::args::{DeliveryArgs, UpdateDeliveryArgs, WatchArgs};
use crate::failure::{CliResult, Exit, Failure};
use crate::output::{status_cells, Output, StatusJson};
use crate::session::Session;
use crate::status_json;

/// One recId's delivery.
#[derive(Debug, Serialize)]
pub struct DeliveryJson {
    rec_id: i64,
    /// The panel said the recId is not valid (UpdateDelivery code 0).
    invalid: bool,
    /// The status the panel holds; none for an invalid recId.
    status: Option<StatusJson>,
    /// No longer changes (a final status, or an invalid recId).
    #[serde(rename = "final")]
    is_final: bool,
}

/// The JSON document of `payamak delivery` without `--watch`.
#[derive(Serialize)]
struct DeliveriesJson<'a> {
    deliveries: &'a [DeliveryJson],
}

impl DeliveryJson {
    fn of(rec_id: i64, status: DeliveryStatus) -> Self {
        DeliveryJson { rec_id, invalid: false, status: Some(status_json!(status)), is_final: status.is_final() }
    }

    fn invalid(rec_id: i64) -> Self {
        DeliveryJson { rec_id, invalid: true, status: None, is_final: true }
    }
}

/// What a watch reached.
#[derive(Debug, Serialize)]
pub struct Watched {
    deliveries: Vec<DeliveryJson>,
    /// RecIds the panel said are not valid.
    invalid: Vec<i64>,
    /// Every valid recId reached a final status, and none was invalid.
    complete: bool,
    /// `--give-up-after` passed before every status was final.
    gave_up: bool,
    /// Stopped with Ctrl-C.
    interrupted: bool,
}

impl Watched {
    /// The deliveries, in the order of the recIds.
    pub fn deliveries(&self) -> &[DeliveryJson] {
        &self.deliveries
    }

    /// `delivery --watch`'s exit code.
    fn exit(&self) -> Exit {
        if self.interrupted {
            Exit::Interrupted
        } else if self.gave_up {
            Exit::GaveUp
        } else if !self.invalid.is_empty() {
            Exit::Refused
        } else {
            Exit::Ok
        }
    }

    /// Says on stderr what kept the watch from completing.
    pub fn warn(&self, output: &Output, args: &WatchArgs) {
        if !self.invalid.is_empty() {
            let rec_ids: Vec<String> = self.invalid.iter().map(i64::to_string).collect();
            output.warn(format!("the panel says these recIds are not valid: {}", rec_ids.join(", ")));
        }
        if self.gave_up {
            output.warn(format!("gave up after {} s; some statuses are not final yet", args.give_up_after));
        }
        if self.interrupted {
            output.warn("interrupted: some statuses may not be final yet");
        }
    }
}

/// Shows (or, with `--watch`, follows) delivery statuses.
pub async fn run(args: DeliveryArgs, context: &Context) -> CliResult {
    let session = context.connect().await?;
    let output = &context.output;
    let mut batches = args.rec_ids.clone();
    if let Some(path) = &args.journal {
        batches.extend(journal_batches(path, &session)?);
    }
    let batches = without_repeats(batches);
    if batches.is_empty() {
        return Err(Failure::usage("no recIds to show: the journal records no accepted recipient"));
    }
    if args.watch.watch {
        let watched = watch(&session.client, &batches, &args.watch, output).await?;
        if output.json {
            output.print_json(&watched);
        } else {
            print_table(output, &watched.deliveries);
        }
        watched.warn(output, &args.watch);
        return Ok(watched.exit());
    }
    let mut deliveries = Vec::new();
    for &rec_id in batches.iter().flatten() {
        deliveries.push(DeliveryJson::of(rec_id, session.client.delivery(rec_id).await?));
    }
    if output.json {
        output.print_json(&DeliveriesJson { deliveries: &deliveries });
    } else {
        print_table(output, &deliveries);
    }
    Ok(Exit::Ok)
}

/// Follows `batches` (the recIds of each send) to final statuses, printing each change,
/// until done, `--give-up-after` or Ctrl-C.
pub async fn watch(
    client: &Client,
    batches: &[Vec<i64>],
    args: &WatchArgs,
    output: &Output,
) -> Result<Watched, payamak::Error> {
    let interval = Duration::from_secs(args.interval);
    let tracker = DeliveryTracker::new(client.clone())
        .min_update_interval(interval)
        .poll_interval(interval)
        .give_up_after(Duration::from_secs(args.give_up_after));
    let mut seen = BTreeMap::new();
    let tracked = {
        let tracking = tracker.track_with(batches, |rec_id, status| {
            seen.insert(rec_id, status);
            let line = format!("{}  {rec_id}  {status}  {}", chrono::Local::now().format("%H:%M:%S"), status.persian());
            // With --json the document comes at the end; changes go to stderr.
            if output.json {
                output.progress(line);
            } else {
                output.print(line);
            }
        });
        tokio::select! {
            tracked = tracking => Some(tracked?),
            _ = tokio::signal::ctrl_c() => None,
        }
    };
    let (statuses, invalid) = match &tracked {
        Some(tracked) => (tracked.statuses.clone(), tracked.invalid.clone()),
        None => (seen, Default::default()),
    };
    let deliveries = batches
        .iter()
        .flatten()
        .filter_map(|&rec_id| match statuses.get(&rec_id) {
            _ if invalid.contains(&rec_id) => Some(DeliveryJson::invalid(rec_id)),
            Some(&status) => Some(DeliveryJson::of(rec_id, status)),
            None => None,
        })
        .collect();
    let all_final = tracked.as_ref().is_some_and(|tracked| tracked.complete);
    Ok(Watched {
        deliveries,
        complete: all_final && invalid.is_empty(),
        invalid: invalid.into_iter().collect(),
        gave_up: tracked.is_some() && !all_final,
        interrupted: tracked.is_none(),
    })
}

/// The accepted recIds of a send-bulk journal, one batch per call.
fn journal_batches(path: &Path, session: &Session) -> Result<Vec<Vec<i64>>, Failure> {
    let contents = JsonLinesJournal::read(path).map_err(|error| Failure::usage(format!("--journal: {error}")))?;
    let written_for = &contents.header.endpoints;
    if written_for.is_empty() || *written_for != session.endpoints {
        let panel = if written_for.is_empty() { "the built-in emulator".to_owned() } else { written_for.join(", ") };
        return Err(Failure::usage(format!(
            "--journal {}: it was written against {panel}, not the panel configured now: its recIds mean nothing here",
            path.display()
        )));
    }
    Ok(contents
        .batches
        .values()
        .filter_map(|record| match &record.outcome {
            Some(BatchOutcome::Sent { recipients }) => Some(
                recipients
                    .iter()
                    .filter(|recipient| recipient.accepted)
                    .filter_map(|recipient| recipient.rec_id)
                    .collect(),
            ),
            _ => None,
        })
        .collect())
}

/// The batches with every recId once (where it first appears), and no empty batch.
fn without_repeats(batches: Vec<Vec<i64>>) -> Vec<Vec<i64>> {
    let mut seen = HashSet::new();
    batches
        .into_iter()
        .map(|batch| batch.into_iter().filter(|rec_id| seen.insert(*rec_id)).collect::<Vec<_>>())
        .filter(|batch| !batch.is_empty())
        .collect()
}

/// The deliveries as a table.
pub fn print_table(output: &Output, deliveries: &[DeliveryJson]) {
    let mut table = output.table(["recId", "final", "code", "status", "وضعیت"]);
    for delivery in deliveries {
        let final_cell = Cell::new(if delivery.is_final { "yes" } else { "no" });
        let mut row = vec![Cell::new(delivery.rec_id), final_cell];
        match &delivery.status {
            Some(status) => row.extend(status_cells(output, status)),
            None => row.extend([
                Cell::new("-"),
                output.status_cell("not a valid recId", Some(false)),
                Cell::new("کد یکتا اعتبار ندارد"),
            ]),
        }
        table.add_row(row);
    }
    output.print_table(table);
}

/// Asks the panel to refresh a recId's delivery status.
pub async fn update(args: UpdateDeliveryArgs, context: &Context) -> CliResult {
    let session = context.connect().await?;
    let status = session.client.update_delivery(args.rec_id).await?;
    let output = &context.output;
    if output.json {
        output.print_json(&json!({ "rec_id": args.rec_id, "status": status_json!(status) }));
    } else {
        output.print(format!("{}: {status}  {}", args.rec_id, status.persian()));
    }
    Ok(match status {
        UpdateDeliveryStatus::Updated | UpdateDeliveryStatus::TooSoon => Exit::Ok,
        _ => Exit::Refused,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_rec_ids_are_followed_once() {
        assert_eq!(without_repeats(vec![vec![1, 2], vec![2, 3], vec![1]]), [vec![1, 2], vec![3]]);
    }
}
