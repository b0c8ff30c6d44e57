//! Campaigns at scale: a durable job store that any number of workers send
//! from, so that nobody gets a message twice and nothing is silently left unsent.
//!
//! A campaign is one text to many recipients, with one panel account. Its
//! recipients are streamed into a [`Store`] and planned there as batches of at
//! most 100 (one SendSms call each). Every batch moves through one state
//! machine ([`state`]): `pending → claimed` under a lease → `attempting`
//! (committed before the request's first byte) → `sent | failed | unknown`.
//! Only a claim whose lease expired before its attempt goes back to pending;
//! an attempt without an outcome becomes unknown and is sent again only when
//! a person asks. [`Worker`]s take a token of the account's rate first, then
//! claim; an answer that refuses the whole account pauses it instead of
//! failing every batch.
//!
//! Stores: [`MemoryStore`] (tests, one process), `JsonLinesStore` (feature
//! `json-lines-store`: a file of JSON lines, one process, small runs), `SqliteStore`
//! (feature `sqlite`: one machine, several processes) and `PostgresStore`
//! (feature `postgres`: any number of machines). The protocol is described in
//! `docs/campaigns.md`.
//!
//! An application that writes rows of its own (a login attempt) enqueues its
//! single send in the same transaction, so both are committed or neither:
//! `sqlite::enqueue_single_in` and `postgres::enqueue_single_in`.

#[cfg(feature = "json-lines-store")]
mod json_lines;
mod memory;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod outcome_row;
pub mod rate;
mod reconcile;
pub mod state;
mod store;
#[cfg(all(test, any(feature = "json-lines-store", feature = "sqlite", feature = "postgres")))]
mod test_support;
mod worker;

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod postgres;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub mod sqlite;

#[cfg(feature = "json-lines-store")]
#[cfg_attr(docsrs, doc(cfg(feature = "json-lines-store")))]
pub use json_lines::JsonLinesStore;
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::PostgresStore;
pub use rate::Rate;
pub use reconcile::{reconcile_with_panel, FoundOnThePanel, ReconcileError};
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::SqliteStore;
pub use state::{BatchState, Transition};
pub use store::{
    transition_of, Account, AccountState, BatchMove, BatchRow, CampaignId, CampaignInfo, CampaignPhase, CampaignSpec,
    Counts, Created, DeliveryCounts, DeliveryPoll, DeliveryUpdate, Imported, Lease, Reaped, Store, StoreError,
    StoreResult, Token, CAMPAIGN_PRIORITY, SINGLE_SEND_PRIORITY,
};
pub use worker::{
    account_refusal, DeliveryOptions, Handled, Quiet, Worker, WorkerObserver, WorkerOptions, WorkerReport,
};
