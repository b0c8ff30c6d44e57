//! Lists the account's sender numbers: `payamak numbers`.

use serde::Serialize;

use super::check::confirm_empty_answer;
use super::Context;
use crate::failure::{CliResult, Exit};

/// The JSON document of `payamak numbers`.
#[derive(Serialize)]
struct NumbersJson<'a> {
    numbers: &'a [String],
}

/// Lists the account's sender numbers.
pub async fn run(context: &Context) -> CliResult {
    let session = context.connect().await?;
    let numbers = session.client.numbers().await?;
    let output = &context.output;
    if numbers.is_empty() {
        confirm_empty_answer(&session, output, "the account has no sender numbers").await?;
    }
    if output.json {
        output.print_json(&NumbersJson { numbers: &numbers });
    } else if numbers.is_empty() {
        output.print("no sender numbers");
    } else {
        let mut table = output.table(["sender number"]);
        for number in &numbers {
            table.add_row([number]);
        }
        output.print_table(table);
    }
    Ok(Exit::Ok)
}
