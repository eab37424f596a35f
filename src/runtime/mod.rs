//! The Bedrock runtime (`bedrock-runtime`): every operation is a token stream.
//!
//! ```text
//! request ─ ops ─ Store::resolve_model ─ providers::<family>::parse / converse::parse ─▶ ChatRequest
//!   ChatRequest ─ source (canned | openai) ─▶ TokenStream of Delta
//!   Delta ─ Shaper (per family / converse) ─▶ Event ─ adapters ─▶ eventstream frames | JSON array
//!                                     └─ Answer::collect ─▶ one JSON document (InvokeModel, Converse)
//! ```

pub mod adapters;
pub mod canned;
pub mod chat;
pub mod converse;
pub mod embed;
pub mod ids;
pub mod input;
pub mod openai;
pub mod ops;
pub mod providers;
pub mod response_fields;
pub mod shape;
pub mod tokens;

use crate::aws::ApiError;
use crate::cli::StreamFormat;
use crate::config::Config;
use crate::model_ref::ModelRef;
use chat::{ChatRequest, TokenStream};
use ids::Ids;

/// Runtime state shared by all requests: where answers come from.
#[derive(Debug)]
pub struct Runtime {
    pacing: canned::Pacing,
    /// Ids seeded from the request, latencies pinned (`--bedrock-deterministic`).
    deterministic: bool,
    /// `--bedrock-stream-format`.
    stream_format: StreamFormat,
    /// The configured backend; while there is one, every answer comes from it (never canned).
    backend: Option<openai::Backend>,
}

impl Runtime {
    pub fn new(config: &Config) -> Self {
        Self {
            pacing: canned::Pacing {
                first_token: config.canned_ttft,
                between_tokens: config.canned_token_gap,
            },
            deterministic: config.deterministic,
            stream_format: config.stream_format,
            backend: config
                .backend
                .as_ref()
                .map(|b| openai::Backend::new(b, config.model_map.clone())),
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
                    canned::Chunks::Tokens
                } else {
                    canned::Chunks::Whole
                };
                canned::stream(canned::plan(request, &model.name, chunks), self.pacing)
            }
        }
    }

    /// The vectors answering an embedding request.
    pub async fn embed(
        &self,
        request: &embed::EmbedRequest,
        model: &ModelRef,
    ) -> Result<embed::Embeddings, ApiError> {
        match &self.backend {
            Some(backend) => backend.embed(request, model).await,
            None => Ok(embed::canned(request)),
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
