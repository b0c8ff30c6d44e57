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
/// A check that cannot say (another code, or a panel without the operation) is a warning:
/// the read itself succeeded.
pub async fn confirm_empty_answer(session: &Session, output: &Output, what: &str) -> Result<(), Failure> {
    match session.client.check_credentials().await {
        Ok(()) => Ok(()),
        Err(error @ payamak::Error::Rejected(_)) if is_wrong_credentials(&error) => {
            Err(Failure::from(anyhow::Error::new(error).context(format!(
                "{what} because the panel does not accept the user name and password (the credentials check failed)"
            ))))
        }
        Err(error) => {
            output.warn(format!(
                "{what}, which the panel also answers to a wrong user name or password, and the credentials check \
                 could not tell: {error}"
            ));
            Ok(())
        }
    }
}

fn is_wrong_credentials(error: &payamak::Error) -> bool {
    matches!(error, payamak::Error::Rejected(rejected) if rejected.code == WRONG_CREDENTIALS)
}
