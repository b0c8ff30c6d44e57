//! Sends one SMS to up to 100 recipients, and may follow its deliveries: `payamak send`.

use comfy_table::Cell;
use payamak::sms::{RecipientReport, MAX_RECIPIENTS_PER_CALL};
use payamak::{RecipientOutcome, SendReport};
use serde::Serialize;

use super::delivery::{self, Watched};
use super::{check_parts, message, Context, DryRunJson, TextJson};
use crate::args::SendArgs;
use crate::failure::{CliResult, Exit, Failure};
use crate::output::{status_cells, StatusJson};
use crate::{input, status_json};

#[derive(Serialize)]
struct SendJson {
    from: String,
    text: TextJson,
    status: StatusJson,
    accepted: usize,
    refused: usize,
    /// Recipients the answer did not confirm either way (an unknown result code): they may have been sent.
    unconfirmed: usize,
    recipients: Vec<RecipientJson>,
    /// With `--watch`: where the deliveries stand.
    #[serde(skip_serializing_if = "Option::is_none")]
    watch: Option<Watched>,
}

#[derive(Serialize)]
struct RecipientJson {
    number: String,
    rec_id: Option<i64>,
    accepted: bool,
    /// `accepted`, `refused` or `unconfirmed`.
    outcome: &'static str,
    status: Option<StatusJson>,
}

impl RecipientJson {
    fn of(report: &SendReport, recipient: &RecipientReport) -> Self {
        let outcome = match report.outcome(recipient) {
            RecipientOutcome::Accepted { .. } => "accepted",
            RecipientOutcome::Refused { .. } => "refused",
            RecipientOutcome::Unconfirmed => "unconfirmed",
        };
        RecipientJson {
            number: recipient.number.as_str().to_owned(),
            rec_id: recipient.rec_id,
            accepted: outcome == "accepted",
            outcome,
            status: recipient.status.map(|status| status_json!(status)),
        }
    }
}

/// Sends one SMS to up to 100 recipients.
pub async fn run(args: SendArgs, context: &Context) -> CliResult {
    let text = input::text(args.text.as_deref())?;
    let output = &context.output;
    let mut sms = message(&args.from, &args.to, text, args.flash, output)?;
    if let Some(udh) = args.udh {
        let udh = udh.trim().to_owned();
        if udh.len() % 2 != 0 || !udh.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Failure::usage(format!("--udh {udh:?} is not hex (two digits per byte)")));
        }
        sms = sms.udh(udh);
    }
    if sms.recipients().len() > MAX_RECIPIENTS_PER_CALL {
        return Err(Failure::usage(format!(
            "{} recipients: send takes at most {MAX_RECIPIENTS_PER_CALL}; put them in a CSV file and use send-bulk",
            sms.recipients().len()
        )));
    }
    let text_info = TextJson::of(sms.text());
    check_parts(&text_info, args.safety.max_parts)?;
    if args.safety.dry_run {
        DryRunJson::of(&sms).print(output, MAX_RECIPIENTS_PER_CALL);
        return Ok(Exit::Ok);
    }
    if !output.json {
        output.info(text_info.describe());
    }

    let session = context.connect().await?;
    let report = session.client.send(&sms).await?;

    let recipients: Vec<RecipientJson> =
        report.recipients.iter().map(|recipient| RecipientJson::of(&report, recipient)).collect();
    let count = |outcome: &str| recipients.iter().filter(|recipient| recipient.outcome == outcome).count();
    let (accepted, refused, unconfirmed) = (count("accepted"), count("refused"), count("unconfirmed"));
    let untracked = recipients.iter().filter(|recipient| recipient.accepted && recipient.rec_id.is_none()).count();
    if untracked > 0 {
        output.warn(format!(
            "the panel returned no recId for {untracked} accepted recipient(s): they were sent, but their delivery \
             cannot be tracked"
        ));
    }
    if unconfirmed > 0 {
        output.warn(format!(
            "the panel answered with a result code this payamak does not know ({}): {unconfirmed} recipient(s) may \
             or may not have been sent; check the sent messages before sending again",
            report.status
        ));
    }
    // Only a definite refusal invites sending again; an unconfirmed send may have gone out.
    let mut exit = if refused > 0 { Exit::Refused } else { Exit::Ok };
    if unconfirmed > 0 {
        exit = exit.worst(Exit::Unknown);
    }
    if !output.json {
        let mut table = output.table(["number", "recId", "code", "status", "وضعیت"]);
        for recipient in &recipients {
            let rec_id = recipient.rec_id.map_or_else(|| "-".to_owned(), |id| id.to_string());
            let mut row = vec![Cell::new(&recipient.number), Cell::new(rec_id)];
            match &recipient.status {
                Some(status) => row.extend(status_cells(output, status)),
                None => {
                    let text = if recipient.accepted { "accepted" } else { "not accepted" };
                    row.extend([Cell::new("-"), output.status_cell(text, Some(recipient.accepted)), Cell::new("")]);
                }
            }
            table.add_row(row);
        }
        output.print_table(table);
        output.print(format!(
            "{accepted} accepted, {refused} refused, {unconfirmed} unconfirmed; the panel answered: {}",
            report.status
        ));
    }
    let watch = if args.watch.watch {
        // The message was sent: whatever happens while watching, the exit code stays the
        // send's, so that none invites sending it again.
        let rec_ids: Vec<i64> =
            recipients.iter().filter(|recipient| recipient.accepted).filter_map(|r| r.rec_id).collect();
        match delivery::watch(&session.client, &[rec_ids], &args.watch, output).await {
            Ok(watched) => {
                if !output.json {
                    delivery::print_table(output, watched.deliveries());
                }
                watched.warn(output, &args.watch);
                Some(watched)
            }
            Err(error) => {
                output.warn(format!("the message was sent, but following its deliveries failed: {error}"));
                None
            }
        }
    } else {
        None
    };
    if output.json {
        output.print_json(&SendJson {
            from: sms.sender().to_owned(),
            text: text_info,
            status: status_json!(report.status),
            accepted,
            refused,
            unconfirmed,
            recipients,
            watch,
        });
    }
    Ok(exit)
}
