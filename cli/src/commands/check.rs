//! Checks the user name and password with the panel: `payamak check`, and the check the
//! reads run when the panel answers with nothing.

use serde_json::json;

use super::Context;
use crate::failure::{CliResult, Exit, Failure};
use crate::output::Output;
use crate::session::Session;

/// The result code the panel gives wrong credentials.
const WRONG_CREDENTIALS: i32 = 0;

/// Asks the panel whether it accepts the credentials.
pub async fn run(context: &Context) -> CliResult {
    let session = context.connect().await?;
    session.client.check_credentials().await.map_err(|error| match &error {
        payamak::Error::Rejected(_) => {
            Failure::from(anyhow::Error::new(error).context("the panel does not accept the user name and password"))
        }
        _ => Failure::from(anyhow::Error::new(error).context("cannot check the user name and password")),
    })?;
    let output = &context.output;
    if output.json {
        output.print_json(&json!({ "username": session.username, "accepted": true }));
    } else {
        output.print(format!("the panel accepts the user name {:?} and its password", session.username));
    }
    Ok(Exit::Ok)
}

/// After a read that came back zero or empty (`what`), which the panel also answers to
/// wrong credentials: fails with exit 1 when the credentials are wrong.
///
/// An answer the check cannot read as yes or no is a warning, not a failure.
pub async fn confirm_empty_answer(session: &Session, output: &Output, what: &str) -> Result<(), Failure> {
    match session.client.check_credentials().await {
        Ok(()) => Ok(()),
        Err(payamak::Error::Rejected(rejected)) if rejected.code != WRONG_CREDENTIALS => {
            output.warn(format!(
                "{what}, which the panel also answers to a wrong user name or password, and the credentials check \
                 was inconclusive ({rejected})"
            ));
            Ok(())
        }
        Err(error @ payamak::Error::Rejected(_)) => Err(Failure::from(anyhow::Error::new(error).context(format!(
            "{what} because the panel does not accept the user name and password (the credentials check failed)"
        )))),
        Err(error) => Err(Failure::from(anyhow::Error::new(error).context(format!(
            "{what}, which the panel also answers to a wrong user name or password, and the credentials check \
             that follows could not be made"
        )))),
    }
}
