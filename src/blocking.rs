//! A blocking client with the same surface as the async [`crate::Client`].
//!
//! It drives the async client on a private single-threaded runtime. Called
//! from a thread that belongs to another runtime (e.g. inside
//! `tokio::task::spawn_blocking`), it runs the call on a short-lived thread of
//! its own, since one runtime cannot be driven from inside another. Calling it
//! from an async task works but blocks that task's worker thread: use
//! [`crate::Client`] there.

use std::sync::Arc;

use crate::bulk::{BatchProgress, BulkReport};
use crate::client::api::{Folder, Message, PeriodType};
use crate::delivery::{DeliveryTracker, Tracked};
use crate::error::{Error, InputError};
use crate::operation::XmlRequest;
use crate::sms::{SendReport, Sms};
use crate::status_codes::{DeliveryStatus, SendStatus, UpdateDeliveryStatus};
use crate::{ClientBuilder, PanelDateTime};

/// A blocking client of the panel's two services. Cheap to clone.
///
/// ```no_run
/// let client = payamak::Client::builder()
///     .base_url("https://panel.example.com/post/")
///     .credentials("user", "password")
///     .build_blocking()?;
/// println!("credit: {}", client.credit()?);
/// # Ok::<(), payamak::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    inner: crate::Client,
    runtime: Arc<OwnedRuntime>,
}

/// The private runtime. Dropped without blocking, so that a client that ends
/// up dropped inside an async context does not panic.
#[derive(Debug)]
struct OwnedRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl ClientBuilder {
    /// Builds a [`blocking::Client`](Client).
    pub fn build_blocking(self) -> Result<Client, Error> {
        Client::from_async(self.build()?)
    }
}

impl Client {
    /// Wraps an async client. Do not keep using `inner` on another runtime as
    /// well: its pooled connections would be tied to this client's runtime.
    pub fn from_async(inner: crate::Client) -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| InputError::Invalid(format!("cannot start the blocking client's runtime: {error}")))?;
        Ok(Client { inner, runtime: Arc::new(OwnedRuntime(Some(runtime))) })
    }

    /// The async client underneath.
    pub fn as_async(&self) -> &crate::Client {
        &self.inner
    }

    fn block_on<T: Send>(
        &self,
        future: impl std::future::Future<Output = Result<T, Error>> + Send,
    ) -> Result<T, Error> {
        let Some(runtime) = &self.runtime.0 else {
            return Err(InputError::Invalid("the blocking client's runtime is gone".to_owned()).into());
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return runtime.block_on(future);
        }
        std::thread::scope(|scope| {
            scope.spawn(|| runtime.block_on(future)).join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    /// See [`crate::Client::call`].
    pub fn call<R: XmlRequest + Sync>(&self, request: &R) -> Result<R::Response, Error>
    where
        R::Response: Send,
    {
        self.block_on(self.inner.call(request))
    }

    /// See [`crate::Client::credit`].
    pub fn credit(&self) -> Result<f64, Error> {
        self.block_on(self.inner.credit())
    }

    /// See [`crate::Client::inbox_count`].
    pub fn inbox_count(&self, read: bool) -> Result<i32, Error> {
        self.block_on(self.inner.inbox_count(read))
    }

    /// See [`crate::Client::send`].
    pub fn send(&self, sms: &Sms) -> Result<SendReport, Error> {
        self.block_on(self.inner.send(sms))
    }

    /// See [`crate::Client::send_bulk`].
    pub fn send_bulk(&self, sms: &Sms) -> Result<BulkReport, Error> {
        self.block_on(self.inner.send_bulk(sms))
    }

    /// See [`crate::Client::send_bulk_with_progress`].
    pub fn send_bulk_with_progress(
        &self,
        sms: &Sms,
        on_batch: impl FnMut(BatchProgress<'_>) + Send,
    ) -> Result<BulkReport, Error> {
        self.block_on(self.inner.send_bulk_with_progress(sms, on_batch))
    }

    /// See [`crate::Client::schedule`].
    pub fn schedule(&self, sms: &Sms, at: PanelDateTime, period: PeriodType) -> Result<SendStatus, Error> {
        self.block_on(self.inner.schedule(sms, at, period))
    }

    /// See [`crate::Client::delivery`].
    pub fn delivery(&self, rec_id: i64) -> Result<DeliveryStatus, Error> {
        self.block_on(self.inner.delivery(rec_id))
    }

    /// See [`crate::Client::update_delivery`].
    pub fn update_delivery(&self, rec_id: i64) -> Result<UpdateDeliveryStatus, Error> {
        self.block_on(self.inner.update_delivery(rec_id))
    }

    /// Follows `batches` of recIds with this client and `tracker`'s settings;
    /// see [`DeliveryTracker::track_with`].
    pub fn track_deliveries(
        &self,
        tracker: &DeliveryTracker,
        batches: &[Vec<i64>],
        on_change: impl FnMut(i64, DeliveryStatus) + Send,
    ) -> Result<Tracked, Error> {
        let tracker = tracker.with_client(self.inner.clone());
        self.block_on(tracker.track_with(batches, on_change))
    }

    /// See [`crate::Client::messages`].
    pub fn messages(&self, folder: Folder, from: Option<&str>) -> Result<Vec<Message>, Error> {
        self.block_on(self.inner.messages(folder, from))
    }

    /// See [`crate::Client::new_messages`].
    pub fn new_messages(&self, from: Option<&str>) -> Result<Vec<Message>, Error> {
        self.block_on(self.inner.new_messages(from))
    }

    /// See [`crate::Client::numbers`].
    pub fn numbers(&self) -> Result<Vec<String>, Error> {
        self.block_on(self.inner.numbers())
    }

    /// See [`crate::Client::mark_read`].
    pub fn mark_read(&self, message_ids: &[i64]) -> Result<(), Error> {
        self.block_on(self.inner.mark_read(message_ids))
    }

    /// See [`crate::Client::check_credentials`].
    pub fn check_credentials(&self) -> Result<(), Error> {
        self.block_on(self.inner.check_credentials())
    }

    /// See [`crate::Client::mark_unread`].
    pub fn mark_unread(&self, message_ids: &[i64]) -> Result<(), Error> {
        self.block_on(self.inner.mark_unread(message_ids))
    }
}
