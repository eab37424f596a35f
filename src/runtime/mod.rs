//! The Bedrock runtime (`bedrock-runtime`): every operation is a token stream.
//!
//! ```text
//! request ─ ops ─ Store::resolve_model ─▶ ModelRef ─ formats ─▶ families::<family> | families::converse ─▶ ChatRequest
//!   ChatRequest ─ sources (canned | openai) ─▶ TokenStream of Delta
//!   Delta ─ Shaper (per family / converse) ─▶ Event ─ stream::body ─▶ eventstream frames | JSON array
//!                                     └─ Answer::collect ─▶ one JSON document (InvokeModel, Converse)
//! ```
//!
//! Rooms, from the top down: [`ops`] (the HTTP face), [`formats`] (which format speaks for a
//! model), [`families`] (one format per model family, and Converse), [`embed`] (the embedding
//! formats), [`sources`] (where answers come from), [`read`] (what body readers share) and
//! [`stream`] (the normalized request, the token stream, shaping, collecting and the body writer).

pub(crate) mod embed;
pub(crate) mod families;
pub(crate) mod formats;
pub(crate) mod ops;
pub(crate) mod read;
pub(crate) mod sources;
pub(crate) mod stream;

use crate::cli::StreamFormat;
use crate::config::Config;
use crate::control::invocations::InvocationLog;
use crate::control::Control;
use sources::Source;
use std::sync::Arc;
use stream::ids::Ids;

/// One serving thread's runtime: where its answers come from, how they are told, and the
/// invocation log (shared by every thread) that records them.
#[derive(Debug)]
pub struct Runtime {
    pub(crate) source: Source,
    /// Ids seeded from the request, latencies pinned (`--bedrock-deterministic`).
    deterministic: bool,
    /// `--bedrock-stream-format`.
    stream_format: StreamFormat,
    /// The rules and quotas every call is held against (shared by all serving threads).
    pub(crate) control: Arc<Control>,
    /// Every call, recorded (shared by all serving threads).
    pub(crate) invocations: Arc<InvocationLog>,
}

impl Runtime {
    pub fn new(config: &Config, control: Arc<Control>, invocations: Arc<InvocationLog>) -> Self {
        Self {
            source: Source::new(config),
            deterministic: config.deterministic,
            stream_format: config.stream_format,
            control,
            invocations,
        }
    }

    /// Ids for one response: seeded from the request in deterministic mode.
    pub fn ids(&self, body: &[u8], model_id: &str) -> Ids {
        if self.deterministic {
            Ids::seeded(&[body, model_id.as_bytes()])
        } else {
            Ids::random()
        }
    }
}
