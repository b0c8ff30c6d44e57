//! `payamak credit`.

use serde_json::json;

use super::Context;
use crate::failure::{CliResult, Exit};

/// Shows the account's credit.
pub async fn run(context: &Context) -> CliResult {
    let session = context.connect().await?;
    let credit = session.client.credit().await?;
    let output = &context.output;
    if output.json {
        output.print_json(&json!({ "credit": credit }));
    } else {
        output.print(format!("credit: {credit}"));
        if credit == 0.0 {
            output.note("the panel also answers 0 for a wrong user name or password");
        }
    }
    Ok(Exit::Ok)
}
