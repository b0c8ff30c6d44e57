//! The emulator's tests: one binary, one module per area.

mod http;
mod limits;
mod zeep;
