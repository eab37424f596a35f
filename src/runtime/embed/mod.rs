//! Embeddings: InvokeModel on an embedding model answers vectors, not a token stream. The
//! normalized request every embedding family reads its body into, what a source answers, and each
//! family's format ([`titan`], [`cohere`]).

pub(crate) mod cohere;
pub(crate) mod titan;

use crate::aws::ApiError;
use crate::model_ref::ModelRef;
use crate::runtime::read::fields::Object;
use crate::runtime::stream::ids::Ids;
use serde_json::Value;

/// What an embedding family asks of a source.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedRequest {
    /// One vector per text (Titan sends one, Cohere up to 96).
    pub texts: Vec<String>,
    /// The dimension the caller expects back.
    pub dimensions: usize,
    /// Scale each vector to unit length.
    pub normalize: bool,
}

/// What a source returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    pub vectors: Vec<Vec<f32>>,
    pub input_tokens: u32,
}

/// Scales `v` to unit length (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// A model family's embedding format (InvokeModel only: embeddings do not stream).
pub trait EmbedFamily: Send + Sync {
    /// Translates the InvokeModel body, validating it as the real service does.
    fn parse(&self, body: &Object, model: &ModelRef) -> Result<EmbedRequest, ApiError>;
    /// The InvokeModel body for the vectors.
    fn respond(
        &self,
        body: &Object,
        request: &EmbedRequest,
        embeddings: &Embeddings,
        ids: &mut Ids,
    ) -> Value;
}
