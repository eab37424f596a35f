//! The integration suite: a real awsim server per test, driven by real clients.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

mod admin_guard;
mod auth;
mod backend;
mod backend_errors;
mod backend_families;
mod backend_https;
mod backend_limits;
mod backend_stream;
mod connections;
mod faults;
mod frames_cli;
mod golden_streams;
mod guardrails;
mod inspector;
mod invocation_log;
mod management;
mod quotas;
mod rules;
mod runtime_converse;
mod runtime_embeddings;
mod runtime_families;
mod runtime_field_paths;
mod server;
mod tls;
