//! What every HTTP handler is given: the emulated panel and the address it listens on.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::FromRef;

use super::shared::Shared;

/// The router's state.
#[derive(Clone)]
pub(crate) struct App {
    pub(crate) shared: Arc<Shared>,
    /// The listening address, written into the WSDL when the Host header is unusable.
    pub(crate) local: SocketAddr,
}

impl FromRef<App> for Arc<Shared> {
    fn from_ref(app: &App) -> Self {
        app.shared.clone()
    }
}
