//! Sends one SMS and prints the recId the panel gave each recipient.
//!
//! ```sh
//! cargo run --example send -- 09121234567 "سلام دنیا"
//! ```
//!
//! Without `PAYAMAK_ENDPOINT` (and `PAYAMAK_USERNAME`, `PAYAMAK_PASSWORD`, `PAYAMAK_FROM`)
//! it sends to an emulator.

mod common;

use payamak::{Error, Sms};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let to = args.next().unwrap_or_else(|| "09121234567".to_owned());
    let text = args.next().unwrap_or_else(|| "سلام دنیا".to_owned());
    let (client, _emulator) = common::connect().await?;

    // The panel answers wrong credentials to its reads with zeros; a check tells them apart.
    client.check_credentials().await?;

    let sms = Sms::new(common::sender(), text).to([to.as_str()])?;
    println!("{} part(s), {}", sms.parts().parts(), sms.parts().encoding());
    match client.send(&sms).await {
        Ok(report) => {
            for recipient in &report.recipients {
                println!("{} → recId {:?}", recipient.number, recipient.rec_id);
            }
            Ok(())
        }
        // Never send again on your own after this: the SMS may have gone out.
        Err(error @ Error::OutcomeUnknown(_)) => {
            eprintln!("the outcome is unknown; check the panel's sent messages before sending again");
            Err(error.into())
        }
        Err(error) => Err(error.into()),
    }
}
