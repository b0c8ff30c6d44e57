//! Tests of the generator as a whole: golden fixtures, the repository's own
//! output, the compile check in a separate crate, and `fetch`.

mod additive;
mod compile;
mod corpus;
mod fetch;
mod fuzz_smoke;
mod golden;
mod parse_time;
mod regen;
mod shared_operations;
mod support;
