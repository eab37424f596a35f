//! Where answers come from: the [`canned`] generator (the default) or an OpenAI-compatible backend
//! ([`openai`], `--bedrock-backend`). Either turns a normalized request into a token stream, or an
//! embedding request into vectors. A rule's scripted answer ([`scripted`]) takes the place of
//! either for the calls it matches.

pub(crate) mod canned;
pub(crate) mod openai;
pub(crate) mod scripted;

use crate::aws::ApiError;
use crate::config::Config;
use crate::model_ref::ModelRef;
use crate::runtime::embed::{EmbedRequest, Embeddings};
use crate::runtime::stream::delta::TokenStream;
use crate::runtime::stream::request::ChatRequest;

/// Where one serving thread's answers come from.
#[derive(Debug)]
pub enum Source {
    /// Deterministic answers without a model (the default), optionally paced.
    Canned(canned::Pacing),
    /// The configured backend: while there is one, every answer comes from it (never canned).
    Backend(Box<openai::Backend>),
}

impl Source {
    pub fn new(config: &Config) -> Self {
        match &config.backend {
            Some(backend) => Self::Backend(Box::new(openai::Backend::new(
                backend,
                config.model_map.clone(),
            ))),
            None => Self::Canned(canned::Pacing {
                first_token: config.canned_ttft,
                between_tokens: config.canned_token_gap,
            }),
        }
    }

    /// The token stream answering `request`; `streamed` says whether its client sees the deltas
    /// (a stream) or only the collected answer.
    pub fn chat(&self, request: &ChatRequest, model: &ModelRef, streamed: bool) -> TokenStream {
        match self {
            Self::Backend(backend) => backend.chat(request, model),
            Self::Canned(pacing) => {
                // Paced answers keep a delta per token, so a collected one takes as long as the stream.
                let chunks = if streamed || !pacing.is_none() {
                    canned::Chunks::Tokens
                } else {
                    canned::Chunks::Whole
                };
                canned::stream(canned::plan(request, &model.name, chunks), *pacing)
            }
        }
    }

    /// The vectors answering an embedding request.
    pub async fn embed(
        &self,
        request: &EmbedRequest,
        model: &ModelRef,
    ) -> Result<Embeddings, ApiError> {
        match self {
            Self::Backend(backend) => backend.embed(request, model).await,
            Self::Canned(_) => Ok(canned::embed::vectors(request)),
        }
    }

    /// The backend model that answers `model` (an embedding model when `embeddings`); `None` in
    /// canned mode.
    pub fn backend_model(&self, model: &ModelRef, embeddings: bool) -> Option<String> {
        match self {
            Self::Backend(backend) => Some(backend.model_for(model, embeddings).to_string()),
            Self::Canned(_) => None,
        }
    }

    /// Whether the backend answers, for the health endpoint; `None` in canned mode.
    pub async fn probe(&self) -> Option<serde_json::Value> {
        match self {
            Self::Backend(backend) => Some(backend.probe().await),
            Self::Canned(_) => None,
        }
    }
}
