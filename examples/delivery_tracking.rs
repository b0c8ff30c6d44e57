//! Sends to a few recipients and follows their deliveries to a final status, refreshing
//! the panel's copy once per send (as the panel wants), not once per recipient.
//!
//! ```sh
//! cargo run --example delivery_tracking
//! ```

mod common;

use std::time::Duration;

use payamak::delivery::DeliveryTracker;
use payamak::Sms;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _emulator) = common::connect().await?;
    let sms = Sms::new(common::sender(), "کد تایید: 1234").to(["09121234567", "09351234567", "09191234567"])?;
    let report = client.send(&sms).await?;

    // One list of recIds per SendSms call: the panel refreshes a whole call at once.
    let tracker = DeliveryTracker::new(client.clone())
        .min_update_interval(Duration::from_secs(1))
        .poll_interval(Duration::from_secs(1))
        .give_up_after(Duration::from_secs(60));
    let tracked = tracker
        .track_with(&[report.rec_ids()], |rec_id, status| println!("{rec_id}: {status} ({})", status.persian()))
        .await?;
    if !tracked.complete {
        println!("gave up; some statuses are not final yet");
    }
    for rec_id in &tracked.invalid {
        println!("{rec_id}: the panel says it is not a valid recId");
    }
    Ok(())
}
