//! Shows the account's credit: `payamak credit`.

use serde_json::json;

use super::check::confirm_empty_answer;
use super::Context;
use crate::failure::{CliResult, Exit};

/// Shows the account's credit.
pub async fn run(context: &Context) -> CliResult {
    let session = context.connect().await?;
    let credit = session.client.credit().await?;
    let output = &context.output;
    if credit == 0.0 {
        confirm_empty_answer(&session, output, "the credit is 0").await?;
    }
    if output.json {
        output.print_json(&json!({ "credit": credit }));
    } else {
        output.print(format!("credit: {credit}"));
    }
    Ok(Exit::Ok)
}
