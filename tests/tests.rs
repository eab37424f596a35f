//! The integration suite: a real awsim server per test, driven by real clients.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

mod auth;
mod backend;
mod backend_errors;
mod backend_families;
mod backend_https;
mod backend_limits;
mod backend_stream;
mod frames_cli;
mod golden_streams;
mod management;
mod runtime_converse;
mod runtime_embeddings;
mod runtime_families;
mod runtime_field_paths;
mod server;
