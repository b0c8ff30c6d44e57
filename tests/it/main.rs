//! The integration tests: one binary, one module per area.

mod bulk;
mod campaign_reconcile;
mod client_e2e;
mod client_transport;
mod decode;
mod envelopes;
mod fuzz_smoke;
mod generator_fixtures;
mod interop;
mod node_soap;
mod observability;
mod rpc_encoded;
mod several_services;
mod store_conformance;
mod support;
mod text_roundtrip;
mod zeep_roundtrip;
