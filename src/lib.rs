//! awsim — a local, AWS-compatible emulator of Amazon Bedrock.
//!
//! # Layout
//! From the top down; a module imports only from those below it (README.md's Architecture section
//! has a row for every file).
//! - [`server`]: the HTTP/1.1 + h2c listener, request bodies, dispatch; [`routes`]: raw-path routing
//!   to the [`operations`] table; [`call`]: one routed request; [`admin`]: `/_awsim/` endpoints.
//! - [`app`]: the state requests reach (configuration, routes, the store, the runtime, the rules).
//! - [`control`]: rules (scripted answers, faults, quotas) and the scenario file, which a runtime
//!   operation asks what to do with each call; and the invocation log, which the runtime records
//!   into and `/_awsim/invocations` reads.
//! - [`runtime`]: the runtime operations as token streams: `ops` (the HTTP face), `formats` (which
//!   format speaks for a model), `families` (one format per model family, and Converse), `embed`
//!   (embedding formats), `sources` (canned, openai), `read` (what body readers share), `stream`
//!   (the normalized request, deltas, shapers, the collected answer, the body writer).
//! - [`guardrails`]: the guardrail policy evaluators, `ApplyGuardrail` / `InvokeGuardrailChecks`,
//!   and the input screen and output stage a guardrail adds to a runtime call.
//! - [`management`]: the control plane with in-memory, region-scoped state.
//! - [`aws`]: error shapes, request context (region, account, request id), HTTP plumbing, ARNs,
//!   timestamps; [`hash`]: a hash stable across builds; [`model_ref`]: the resolved model, which
//!   management resolves into and the runtime answers with.
//! - [`auth`]: opt-in SigV4 and API-key verification (`--auth sigv4`).
//! - [`cli`], [`config`], [`model_map`]: flags and their validation; [`frames_cmd`]:
//!   `awsim frames decode`.
//! - `fuzzing`: one entry function per fuzz target in `fuzz/` (hidden; not a supported API).
//!
//! Modules are private to the crate except what the binary and the tests use: [`auth`], [`cli`], [`config`],
//! [`model_map`], [`server`], [`frames_cmd`], and [`App`].

pub(crate) mod admin;
pub(crate) mod app;
pub mod auth;
pub(crate) mod aws;
pub(crate) mod call;
pub mod cli;
pub mod config;
pub(crate) mod control;
pub mod frames_cmd;
#[doc(hidden)]
pub mod fuzzing;
pub(crate) mod guardrails;
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
