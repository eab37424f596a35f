//! The parts of awsim's stream benchmark runner (`benches/stream.rs`): a synthetic OpenAI upstream,
//! a Bedrock client that decodes what it measures, the awsim child process and its `/proc`
//! figures, the four sections and the Markdown report.
//!
//! ```text
//! client ──HTTP/1.1 or h2c──▶ awsim (child, release build) ──HTTP/1.1──▶ synthetic upstream (in-process)
//!    └────────────────────────── direct (the baseline) ─────────────────────────▶┘
//! ```
//!
//! # Layout
//!
//! - [`args`]: the runner's options.
//! - [`stamp`]: time stamps carried inside token text, so per-token latency is measured one-way on
//!   one clock (upstream and client share the process).
//! - [`pacer`]: a precise timer thread (tokio's timer ticks in whole milliseconds).
//! - [`upstream`]: the synthetic OpenAI chat-completions SSE server.
//! - [`workload`]: the operation a request calls and the body format it asks for.
//! - [`client`]: endpoints, HTTP/1.1 and HTTP/2 connections, the calls (request bodies).
//! - [`decode`]: response bodies → text deltas: event-stream frames, the JSON array, OpenAI SSE.
//! - [`measure`]: one timed request; closed-loop and fixed-duration drivers.
//! - [`awsim`]: the awsim child process; [`procfs`]: CPU time, RSS, machine facts.
//! - [`relay`]: a bare TCP relay, the floor any process in the middle costs; [`floor`]: it and
//!   the other floors (a tokio relay, a fixed-answer hyper server), each in a child process.
//! - [`stats`]: distributions and formatting; [`report`]: the Markdown report.
//! - [`sections`]: TTFT, canned throughput, memory, start-up.

pub mod args;
pub mod awsim;
pub mod client;
pub mod decode;
pub mod floor;
pub mod measure;
pub mod pacer;
pub mod procfs;
pub mod relay;
pub mod report;
pub mod sections;
pub mod stamp;
pub mod stats;
pub mod upstream;
pub mod workload;

/// Any error, with a message meant for the person running the bench.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T> = std::result::Result<T, Error>;
