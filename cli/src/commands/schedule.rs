//! `payamak schedule`.

use payamak::send::PeriodType;
use payamak::sms::MAX_RECIPIENTS_PER_CALL;
use payamak::PanelDateTime;
use serde_json::json;

use super::{message, Context, TextJson};
use crate::args::ScheduleArgs;
use crate::failure::{CliResult, Exit, Failure};
use crate::{input, status_json};

/// Schedules an SMS.
pub async fn run(args: ScheduleArgs, context: &Context) -> CliResult {
    let at = input::tehran_time(&args.at)?;
    let text = input::text(args.text.as_deref())?;
    let sms = message(&args.from, &args.to, text, args.flash)?;
    if sms.recipients().len() > MAX_RECIPIENTS_PER_CALL {
        return Err(Failure::usage(format!("schedule takes at most {MAX_RECIPIENTS_PER_CALL} recipients")));
    }
    let output = &context.output;
    if at < PanelDateTime::now() {
        output.warn(format!("{at} (Tehran time) is in the past; the panel may send it at once"));
    }
    let text_info = TextJson::of(sms.text());
    if !output.json {
        output.print(text_info.describe());
    }
    let period = args.period.wire_name();

    let session = context.connect().await?;
    let status = session.client.schedule(&sms, at, PeriodType::from(period)).await?;

    let recipients: Vec<&str> = sms.recipients().iter().map(|number| number.as_str()).collect();
    if output.json {
        output.print_json(&json!({
            "from": sms.sender(),
            "at": at.to_string(),
            "at_utc": at.to_utc().to_rfc3339(),
            "period": period,
            "recipients": recipients,
            "text": text_info,
            "status": status_json!(status),
        }));
    } else {
        output
            .print(format!("scheduled for {at} Tehran time ({period}) to {} recipient(s): {status}", recipients.len()));
    }
    Ok(Exit::Ok)
}
