//! One translator per model family behind one trait: each parses its InvokeModel body into the
//! normalized request, shapes the token stream into its own chunks, and renders the collected answer
//! as its InvokeModel response.

pub mod anthropic;
pub mod titan;

use super::chat::{ChatRequest, Usage};
use super::embed::{EmbedRequest, Embeddings};
use super::ids::Ids;
use super::input::Object;
use super::shape::{Answer, Shaper, Timing};
use crate::aws::ApiError;
use serde_json::{json, Value};

/// The model a request resolved to.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    /// The catalog id of the foundation model that answers.
    pub id: String,
    /// Its display name (canned answers name it).
    pub name: String,
    /// Every id met while resolving, the one sent first (for the backend model map).
    pub via: Vec<String>,
}

/// A model family's InvokeModel / InvokeModelWithResponseStream format.
pub trait Family: Send + Sync {
    /// Translates the InvokeModel body, validating it as the real service does.
    fn parse(&self, body: &Object, model: &ModelInfo) -> Result<ChatRequest, ApiError>;
    /// A fresh shaper for one InvokeModelWithResponseStream (events named `chunk`).
    fn shaper(&self, model: &ModelInfo, request: &ChatRequest, ids: Ids) -> Box<dyn Shaper>;
    /// The InvokeModel body for a whole answer.
    fn respond(
        &self,
        answer: &Answer,
        model: &ModelInfo,
        request: &ChatRequest,
        ids: &mut Ids,
    ) -> Value;
}

/// A model family's embedding format (InvokeModel only: embeddings do not stream).
pub trait EmbedFamily: Send + Sync {
    /// Translates the InvokeModel body, validating it as the real service does.
    fn parse(&self, body: &Object, model: &ModelInfo) -> Result<EmbedRequest, ApiError>;
    /// The InvokeModel body for the vectors.
    fn respond(
        &self,
        body: &Object,
        request: &EmbedRequest,
        embeddings: &Embeddings,
        ids: &mut Ids,
    ) -> Value;
}

/// The family that speaks for a model id, by the id's provider prefix.
pub fn family_for(model_id: &str) -> Option<&'static dyn Family> {
    let id = model_id;
    if id.starts_with("anthropic.claude-v2") || id.starts_with("anthropic.claude-instant") {
        return None;
    }
    if id.starts_with("anthropic.") {
        return Some(&anthropic::Messages);
    }
    if id.starts_with("amazon.titan-text") || id.starts_with("amazon.titan-tg1") {
        return Some(&titan::Text);
    }
    None
}

/// `amazon-bedrock-invocationMetrics`, merged into the last chunk of every family's stream.
pub fn invocation_metrics(usage: Usage, timing: &Timing) -> Value {
    json!({
        "inputTokenCount": usage.input_tokens,
        "outputTokenCount": usage.output_tokens,
        "invocationLatency": timing.invocation_ms,
        "firstByteLatency": timing.first_byte_ms,
    })
}
