//! Integration tests of the frames crate: one binary, one module per concern.

// clippy.toml allows these inside #[test] functions only; helpers here are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bedrock;
mod golden;
mod incremental;
mod limits;
mod oracle;
mod roundtrip;
mod support;
mod vectors;
