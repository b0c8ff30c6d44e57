//! How an application tests its own SMS code against the emulator, with no account and
//! no network: the tests at the bottom run with `cargo test --example emulator_in_tests`
//! (and with the whole suite).
//!
//! ```sh
//! cargo run --example emulator_in_tests
//! ```

use payamak::error::InputError;
use payamak::{Client, Error, Folder, Sms};

/// The application's code: sends a one-time code and says which recId to track.
async fn send_login_code(client: &Client, from: &str, to: &str, code: u32) -> Result<i64, Error> {
    let sms = Sms::new(from, format!("کد ورود شما: {code}")).to([to]).map_err(InputError::from)?;
    let report = client.send(&sms).await?;
    report.rec_ids().first().copied().ok_or_else(|| InputError::Invalid("no recId".to_owned()).into())
}

/// The application's code: the texts of the unread replies, which it leaves unread.
async fn unread_replies(client: &Client) -> Result<Vec<String>, Error> {
    client.check_credentials().await?;
    let messages = client.messages(Folder::ReceivedUnread, None).await?;
    Ok(messages.into_iter().filter_map(|message| message.body).collect())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = payamak_emulator::Emulator::builder().start().await?;
    let client = Client::builder().base_url(emulator.base_url()).credentials("demo", "demo").build()?;
    let rec_id = send_login_code(&client, "5000123456", "09121234567", 4821).await?;
    println!("sent, recId {rec_id}");
    emulator.inject_incoming(payamak_emulator::IncomingSms::new("demo", "09121234567", "ممنون"))?;
    println!("unread replies: {:?}", unread_replies(&client).await?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use payamak_emulator::{Account, Emulator, IncomingSms, RunningEmulator};

    use super::*;

    /// An emulator with one account for the test, and a client of it.
    async fn panel() -> (RunningEmulator, Client) {
        let account = Account::new("shop", "secret").credit(10.0).sender("50001234");
        let emulator = Emulator::builder().without_demo().account(account).start().await.expect("the emulator starts");
        let client =
            Client::builder().base_url(emulator.base_url()).credentials("shop", "secret").build().expect("a client");
        (emulator, client)
    }

    #[tokio::test]
    async fn the_login_code_reaches_the_customer_and_is_charged() {
        let (emulator, client) = panel().await;
        let rec_id = send_login_code(&client, "50001234", "0912 123 4567", 4821).await.expect("sent");
        let account = emulator.account_snapshot("shop").expect("the account");
        assert_eq!(account.sent.len(), 1);
        assert_eq!((account.sent[0].rec_id, account.sent[0].to.as_str()), (rec_id, "09121234567"));
        assert_eq!(account.sent[0].body, "کد ورود شما: 4821");
        assert_eq!(account.credit, 9.0);
    }

    #[tokio::test]
    async fn a_sender_number_the_account_does_not_own_is_refused() {
        let (_emulator, client) = panel().await;
        let error = send_login_code(&client, "3000", "09121234567", 1).await.expect_err("refused");
        assert!(matches!(&error, Error::Rejected(rejected) if rejected.code == 5), "{error}");
    }

    #[tokio::test]
    async fn replies_are_read_without_consuming_them_and_wrong_credentials_are_an_error() {
        let (emulator, client) = panel().await;
        emulator.inject_incoming(IncomingSms::new("shop", "09121234567", "لغو")).expect("injected");
        assert_eq!(unread_replies(&client).await.expect("read"), ["لغو"]);
        assert_eq!(unread_replies(&client).await.expect("read again"), ["لغو"], "not consumed");

        let wrong =
            Client::builder().base_url(emulator.base_url()).credentials("shop", "nope").build().expect("a client");
        assert!(matches!(unread_replies(&wrong).await, Err(Error::Rejected(rejected)) if rejected.code == 0));
    }

    #[test]
    fn the_blocking_client_checks_credentials_too() {
        let emulator = Emulator::builder().start_blocking().expect("the emulator starts");
        let client = |password: &str| {
            Client::builder()
                .base_url(emulator.base_url())
                .credentials("demo", password)
                .build_blocking()
                .expect("a client")
        };
        client("demo").check_credentials().expect("accepted");
        assert!(client("wrong").check_credentials().is_err());
    }
}
