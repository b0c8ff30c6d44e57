//! The panel an example talks to: the one in the environment, or an emulator.
//!
//! With `PAYAMAK_ENDPOINT`, `PAYAMAK_USERNAME` and `PAYAMAK_PASSWORD` set, the examples use
//! that panel (and really send). Without them they start an emulator with its demo account,
//! so that `cargo run --example …` works anywhere.

use payamak::Client;
use payamak_emulator::{DeliveryTiming, Emulator, RunningEmulator, DEMO_PASSWORD, DEMO_USERNAME};

/// The demo account's first sender number, used when `PAYAMAK_FROM` is not set.
pub const DEMO_SENDER: &str = "5000123456";

/// A client of the configured panel, or of an emulator that lives as long as the second value.
pub async fn connect() -> Result<(Client, Option<RunningEmulator>), Box<dyn std::error::Error>> {
    let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
    if let Some(endpoint) = variable("PAYAMAK_ENDPOINT") {
        let username = variable("PAYAMAK_USERNAME").ok_or("PAYAMAK_USERNAME is not set")?;
        let password = variable("PAYAMAK_PASSWORD").ok_or("PAYAMAK_PASSWORD is not set")?;
        let client = Client::builder().base_urls(endpoint.split(',')).credentials(username, password).build()?;
        return Ok((client, None));
    }
    // Deliveries that become final within a second, so the tracking example ends quickly.
    let timing = DeliveryTiming {
        reach_operator_after: std::time::Duration::from_millis(200),
        final_after: std::time::Duration::from_millis(500),
        update_interval: std::time::Duration::from_secs(1),
    };
    let emulator = Emulator::builder().delivery_timing(timing).start().await?;
    eprintln!("no PAYAMAK_ENDPOINT: using an emulator at {} (nothing is really sent)", emulator.base_url());
    let client = Client::builder().base_url(emulator.base_url()).credentials(DEMO_USERNAME, DEMO_PASSWORD).build()?;
    Ok((client, Some(emulator)))
}

/// The sender number: `PAYAMAK_FROM`, or the demo account's.
pub fn sender() -> String {
    std::env::var("PAYAMAK_FROM").unwrap_or_else(|_| DEMO_SENDER.to_owned())
}
