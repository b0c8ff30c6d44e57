//! What the server tolerates from its clients, so that slow, idle or greedy ones
//! cannot starve the others.

use std::time::Duration;

/// The server's limits (see [`EmulatorBuilder::limits`](crate::EmulatorBuilder::limits)).
///
/// Connections beyond `max_connections` wait in the listen queue until one
/// closes; a connection that does not send a request's headers within
/// `header_timeout` (idle kept-alive connections included) is closed, as is one
/// that does not send the body within `body_timeout`. At most
/// `concurrent_requests` SOAP requests are decoded and answered at once, each
/// bounded in memory by the 1 MiB body limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerLimits {
    /// Connections served at once (default 256, well under a common limit of 1024 file descriptors).
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, and how long
    /// an idle kept-alive connection stays open (default 10 s).
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body (default 30 s).
    pub body_timeout: Duration,
    /// SOAP requests decoded and answered at once (default 16).
    pub concurrent_requests: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_connections: 256,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            concurrent_requests: 16,
        }
    }
}

impl ServerLimits {
    /// Sets the most connections served at once (at least 1).
    #[must_use]
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// Sets the time a client has to send a request's headers.
    #[must_use]
    pub fn header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout;
        self
    }

    /// Sets the time a client has to send a request's body.
    #[must_use]
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Sets the most SOAP requests decoded and answered at once (at least 1).
    #[must_use]
    pub fn concurrent_requests(mut self, requests: usize) -> Self {
        self.concurrent_requests = requests.max(1);
        self
    }
}
