//! `payamak delivery` and `payamak update-delivery`.

use std::time::Duration;

use comfy_table::Cell;
use payamak::delivery::DeliveryTracker;
use payamak::status_codes::{DeliveryStatus, UpdateDeliveryStatus};
use serde::Serialize;
use serde_json::json;

use super::Context;
use crate::args::{DeliveryArgs, UpdateDeliveryArgs};
use crate::failure::{CliResult, Exit};
use crate::output::{status_cells, Output, StatusJson};
use crate::status_json;

#[derive(Serialize)]
struct DeliveryJson {
    rec_id: i64,
    status: StatusJson,
    #[serde(rename = "final")]
    is_final: bool,
}

fn delivery_json(rec_id: i64, status: DeliveryStatus) -> DeliveryJson {
    DeliveryJson { rec_id, status: status_json!(status), is_final: status.is_final() }
}

/// Shows (or, with `--watch`, follows) delivery statuses.
pub async fn run(args: DeliveryArgs, context: &Context) -> CliResult {
    let session = context.connect().await?;
    let output = &context.output;
    let mut deliveries = Vec::with_capacity(args.rec_ids.len());
    let mut complete = true;
    if args.watch {
        let interval = Duration::from_secs(args.interval);
        let tracker = DeliveryTracker::new(session.client.clone())
            .min_update_interval(interval)
            .poll_interval(interval)
            .give_up_after(Duration::from_secs(args.give_up_after));
        // The panel refreshes a whole SendSms batch at once, but which recIds share one is
        // not known here: each is refreshed on its own.
        let batches: Vec<Vec<i64>> = args.rec_ids.iter().map(|&rec_id| vec![rec_id]).collect();
        let tracked = tracker
            .track_with(&batches, |rec_id, status| {
                let line =
                    format!("{}  {rec_id}  {}  {}", chrono::Local::now().format("%H:%M:%S"), status, status.persian());
                // With --json the document comes at the end; changes go to stderr.
                if output.json {
                    eprintln!("{line}");
                } else {
                    output.print(line);
                }
            })
            .await?;
        complete = tracked.complete;
        deliveries.extend(
            args.rec_ids
                .iter()
                .filter_map(|rec_id| tracked.statuses.get(rec_id).map(|&status| delivery_json(*rec_id, status))),
        );
    } else {
        for &rec_id in &args.rec_ids {
            deliveries.push(delivery_json(rec_id, session.client.delivery(rec_id).await?));
        }
    }
    print_deliveries(output, &deliveries, complete, args.watch);
    if !complete {
        output.warn(format!("gave up after {} s; some statuses are not final yet", args.give_up_after));
    }
    Ok(Exit::Ok)
}

fn print_deliveries(output: &Output, deliveries: &[DeliveryJson], complete: bool, watched: bool) {
    if output.json {
        let mut document = json!({ "deliveries": deliveries });
        if watched {
            document["complete"] = json!(complete);
        }
        output.print_json(&document);
        return;
    }
    let mut table = output.table(["recId", "final", "code", "status", "وضعیت"]);
    for delivery in deliveries {
        let [code, english, persian] = status_cells(output, &delivery.status);
        let final_cell = Cell::new(if delivery.is_final { "yes" } else { "no" });
        table.add_row([Cell::new(delivery.rec_id), final_cell, code, english, persian]);
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
