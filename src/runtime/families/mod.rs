//! One format per model family behind one trait, [`Family`]: each reads its InvokeModel body into
//! the normalized request, shapes the token stream into its own chunks, and renders the collected
//! answer as its InvokeModel response. Converse, Bedrock's own format, lives here too
//! ([`converse`]): Nova's native format is built on it, and its field paths answer from the others.
//! Which family speaks for a model is [`formats`](crate::runtime::formats)' table.

pub(crate) mod anthropic;
pub(crate) mod anthropic_text;
pub(crate) mod cohere;
pub(crate) mod command_r;
pub(crate) mod converse;
pub(crate) mod llama;
pub(crate) mod mistral;
pub(crate) mod nova;
pub(crate) mod openai_chat;
pub(crate) mod prompt_completion;
#[cfg(test)]
pub(crate) mod testing;
pub(crate) mod titan;

use crate::aws::ApiError;
use crate::model_ref::ModelRef;
use crate::runtime::read::fields::Object;
use crate::runtime::stream::answer::Answer;
use crate::runtime::stream::delta::Usage;
use crate::runtime::stream::ids::Ids;
use crate::runtime::stream::request::ChatRequest;
use crate::runtime::stream::shaper::{Shaper, Timing};
use serde_json::Value;

/// A model family's InvokeModel / InvokeModelWithResponseStream format.
pub trait Family: Send + Sync {
    /// Translates the InvokeModel body, validating it as the real service does.
    fn parse(&self, body: &Object, model: &ModelRef) -> Result<ChatRequest, ApiError>;
    /// A fresh shaper for one InvokeModelWithResponseStream (events named `chunk`).
    fn shaper(&self, model: &ModelRef, request: &ChatRequest, ids: Ids) -> Box<dyn Shaper>;
    /// The InvokeModel body for a whole answer.
    fn respond(
        &self,
        answer: &Answer,
        model: &ModelRef,
        request: &ChatRequest,
        ids: &mut Ids,
    ) -> Value;
    /// The InvokeModel body when a guardrail blocked the input and the model never ran, from the
    /// body `respond` gives for the blocked message: by default that body.
    fn blocked_input_body(&self, body: Value) -> Value {
        body
    }
}

/// `amazon-bedrock-invocationMetrics`, merged into the last chunk of every family's stream.
pub fn invocation_metrics(usage: Usage, timing: &Timing) -> InvocationMetrics {
    InvocationMetrics {
        input_token_count: usage.input_tokens,
        output_token_count: usage.output_tokens,
        invocation_latency: timing.invocation_ms,
        first_byte_latency: timing.first_byte_ms,
    }
}

/// The `amazon-bedrock-invocationMetrics` object (integers, milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvocationMetrics {
    pub input_token_count: u32,
    pub output_token_count: u32,
    pub invocation_latency: u64,
    pub first_byte_latency: u64,
}
