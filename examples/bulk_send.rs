//! Sends one text to many recipients, 100 per call, over a journal that survives a crash:
//! run it again after a kill and it sends only what was not sent.
//!
//! ```sh
//! cargo run --example bulk_send -- campaign.journal
//! ```

mod common;

use payamak::bulk::{BatchProgress, BulkJob, BulkObserver, JobHeader, JsonLinesJournal};
use payamak::sms::MAX_RECIPIENTS_PER_CALL;
use payamak::Sms;

/// Prints a line per batch.
struct Progress;

impl BulkObserver for Progress {
    fn after_batch(&mut self, progress: BatchProgress<'_>) {
        match progress.result {
            Ok(report) => println!("batch {}/{}: {}", progress.batch + 1, progress.batches, report.status),
            Err(error) => println!("batch {}/{} failed: {error}", progress.batch + 1, progress.batches),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).map_or_else(
        || std::env::temp_dir().join(format!("payamak-bulk-example-{}.journal", std::process::id())),
        std::path::PathBuf::from,
    );
    let (client, _emulator) = common::connect().await?;
    let numbers: Vec<String> = (1..=250).map(|n| format!("0912{n:07}")).collect();
    let sms = Sms::new(common::sender(), "حراج امروز").to(&numbers)?;

    // The journal is tied to this panel, account, text and recipient list.
    let endpoints = client.base_urls().map(str::to_owned).collect();
    let header = JobHeader::new(&sms, MAX_RECIPIENTS_PER_CALL, endpoints, client.username());
    let mut journal = JsonLinesJournal::open(&path, header)?;
    let report = BulkJob::new(&client, &sms)?.run(&mut journal, &mut Progress).await?;

    println!("{} of {} accepted; journal: {}", report.accepted().count(), report.recipients.len(), path.display());
    if let Some((batch, error)) = &report.failure {
        println!("stopped at batch {}: {error}; run again to send the rest", batch + 1);
    }
    Ok(())
}
