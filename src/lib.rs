//! awsim — a local, AWS-compatible emulator of Amazon Bedrock.
//!
//! # Layout
//! - [`server`]: the HTTP/1.1 + h2c listener, request bodies, dispatch; [`routes`]: raw-path routing.
//! - [`app`]: the state requests reach (configuration, routes, the store, the runtime).
//! - [`aws`]: error shapes, request context (region, account, request id), ARNs, timestamps.
//! - [`management`]: the control plane with in-memory state.
//! - [`runtime`]: the four runtime operations as token streams.
//! - [`admin`]: `/_awsim/` endpoints; [`cli`] and [`config`]: flags and their validation.

pub mod admin;
pub mod app;
pub mod aws;
pub mod call;
pub mod cli;
pub mod config;
pub mod frames_cmd;
pub mod hash;
pub mod management;
pub mod model_map;
pub mod routes;
pub mod runtime;
pub mod server;

pub use app::App;
pub use config::Config;
pub use server::run;
