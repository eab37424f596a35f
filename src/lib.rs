//! awsim — a local, AWS-compatible emulator of Amazon Bedrock.
//!
//! # Layout
//! - [`server`]: the HTTP/1.1 + h2c listener, request bodies, dispatch; [`routes`]: raw-path routing
//!   to the [`operations`] table.
//! - [`app`]: the state requests reach (configuration, routes, the store, the runtime).
//! - [`aws`]: error shapes, request context (region, account, request id), ARNs, timestamps.
//! - [`management`]: the control plane with in-memory state.
//! - [`runtime`]: the four runtime operations as token streams.
//! - [`admin`]: `/_awsim/` endpoints; [`cli`] and [`config`]: flags and their validation.
//!
//! Modules are private to the crate except what the binary and the tests use: [`cli`], [`config`],
//! [`model_map`], [`server`], [`frames_cmd`], and [`App`].

pub(crate) mod admin;
pub(crate) mod app;
pub(crate) mod aws;
pub(crate) mod call;
pub mod cli;
pub mod config;
pub mod frames_cmd;
pub(crate) mod hash;
pub(crate) mod management;
pub mod model_map;
pub(crate) mod model_ref;
pub(crate) mod operations;
pub(crate) mod routes;
pub(crate) mod runtime;
pub mod server;

pub use app::App;
pub use config::Config;
pub use server::run;
