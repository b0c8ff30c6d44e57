//! Schedules an SMS for a Jalali or Gregorian date: `payamak schedule`.

use payamak::send::PeriodType;
use payamak::sms::MAX_RECIPIENTS_PER_CALL;
use payamak::PanelDateTime;
use serde_json::json;

use super::{check_parts, message, Context, DryRunJson, TextJson};
use crate::args::ScheduleArgs;
use crate::dates;
use crate::failure::{CliResult, Exit, Failure};
use crate::{input, status_json};

/// Schedules an SMS.
pub async fn run(args: ScheduleArgs, context: &Context) -> CliResult {
    let read = dates::parse(&args.at).map_err(|error| Failure::usage(format!("--at: {error}")))?;
    let at = read.at;
    let output = &context.output;
    output.note(format!("--at {:?} is {}", args.at, read.understood()));
    let now = PanelDateTime::now();
    if at < now {
        let now = format!("now: {}", dates::show(now, context.settings.calendar));
        if !args.allow_past {
            return Err(Failure::usage(format!(
                "--at {:?} ({}) is in the past ({now}): give a later time, or --allow-past to schedule it anyway \
                 (the panel may send it at once)",
                args.at,
                read.understood()
            )));
        }
        output.warn(format!(
            "--at is in the past ({now}); scheduling it as --allow-past asks: the panel may send it at once"
        ));
    }
    let text = input::text(args.text.as_deref())?;
    let sms = message(&args.from, &args.to, text, args.flash, output)?;
    if sms.recipients().len() > MAX_RECIPIENTS_PER_CALL {
        return Err(Failure::usage(format!("schedule takes at most {MAX_RECIPIENTS_PER_CALL} recipients")));
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
    let period = args.period.wire_name();
    let calendar = context.settings.calendar;

    let session = context.connect().await?;
    let status = session.client.schedule(&sms, at, PeriodType::from(period)).await?;

    let recipients: Vec<&str> = sms.recipients().iter().map(|number| number.as_str()).collect();
    if output.json {
        output.print_json(&json!({
            "from": sms.sender(),
            "at": dates::json(at),
            "period": args.period.json_name(),
            "recipients": recipients,
            "text": text_info,
            "status": status_json!(status),
        }));
    } else {
        output.print(format!(
            "scheduled for {} {} ({} {}) Tehran time, {}, to {} recipient(s): {status}",
            calendar.name(),
            dates::show(at, calendar),
            calendar.other().name(),
            dates::show(at, calendar.other()),
            args.period.json_name(),
            recipients.len()
        ));
    }
    Ok(Exit::Ok)
}
