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

use crate::aws::ApiError;
use crate::cli::StreamFormat;
use crate::config::Config;
use crate::model_ref::ModelRef;
use embed::{EmbedRequest, Embeddings};
use stream::delta::TokenStream;
use stream::ids::Ids;
use stream::request::ChatRequest;

/// Runtime state shared by all requests: where answers come from.
#[derive(Debug)]
pub struct Runtime {
    pacing: sources::canned::Pacing,
    /// Ids seeded from the request, latencies pinned (`--bedrock-deterministic`).
    deterministic: bool,
    /// `--bedrock-stream-format`.
    stream_format: StreamFormat,
    /// The configured backend; while there is one, every answer comes from it (never canned).
    backend: Option<sources::openai::Backend>,
}

impl Runtime {
    pub fn new(config: &Config) -> Self {
        Self {
            pacing: sources::canned::Pacing {
                first_token: config.canned_ttft,
                between_tokens: config.canned_token_gap,
            },
            deterministic: config.deterministic,
            stream_format: config.stream_format,
            backend: config
                .backend
                .as_ref()
                .map(|b| sources::openai::Backend::new(b, config.model_map.clone())),
        }
    }

    /// The token stream answering `request`; `streamed` says whether its client sees the deltas
    /// (a stream) or only the collected answer.
    pub fn chat(&self, request: &ChatRequest, model: &ModelRef, streamed: bool) -> TokenStream {
        match &self.backend {
            Some(backend) => backend.chat(request, model),
            None => {
                // Paced answers keep a delta per token, so a collected one takes as long as the stream.
                let chunks = if streamed || !self.pacing.is_none() {
                    sources::canned::Chunks::Tokens
                } else {
                    sources::canned::Chunks::Whole
                };
                sources::canned::stream(
                    sources::canned::plan(request, &model.name, chunks),
                    self.pacing,
                )
            }
        }
    }

    /// The vectors answering an embedding request.
    pub async fn embed(
        &self,
        request: &EmbedRequest,
        model: &ModelRef,
    ) -> Result<Embeddings, ApiError> {
        match &self.backend {
            Some(backend) => backend.embed(request, model).await,
            None => Ok(sources::canned::embed::vectors(request)),
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

    /// Whether the backend answers, for the health endpoint; `None` in canned mode.
    pub async fn probe_backend(&self) -> Option<serde_json::Value> {
        match &self.backend {
            Some(backend) => Some(backend.probe().await),
            None => None,
        }
    }
}
