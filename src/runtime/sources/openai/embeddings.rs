//! The `/embeddings` and `/models` answers, and fitting a backend vector to the dimension the Bedrock
//! caller asked for. Pure; unit-tested below.
//!
//! A backend's dimension is its model's (nomic-embed-text 768, Gemma 3 270M 640), rarely the one a
//! Titan (256/512/1024) or Cohere (1024) caller expects, and callers size their vector stores by
//! it. So awsim returns the requested dimension: a longer vector keeps its leading components (as
//! Matryoshka-trained models are meant to be cut), a shorter one is padded with zeros (which
//! leaves every dot product and cosine similarity unchanged), and a vector the caller wants
//! normalized is scaled back to unit length after the cut. Each fit is logged at debug level.

use super::errors::Target;
use crate::aws::ApiError;
use crate::runtime::embed::normalize;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default)]
    data: Vec<Item>,
    usage: Option<UsageIn>,
}

#[derive(Debug, Deserialize)]
struct Item {
    index: Option<usize>,
    #[serde(default)]
    embedding: Vec<f32>,
}

#[derive(Debug, Deserialize)]
struct UsageIn {
    prompt_tokens: Option<u64>,
}

/// The vectors of an `/embeddings` answer, in input order.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub vectors: Vec<Vec<f32>>,
    pub prompt_tokens: Option<u32>,
}

/// An `/embeddings` answer over `limit` bytes, refused unread.
pub fn too_large(target: &Target, limit: usize) -> ApiError {
    ApiError::ModelError {
        message: format!(
            "The backend at {} answered /embeddings for '{}' with more than {} MiB; awsim reads at most that.",
            target.url,
            target.model,
            limit >> 20
        ),
        original_status_code: 200,
        resource_name: target.resource.clone(),
    }
}

/// Parses an `/embeddings` answer that must hold one vector per input.
pub fn parse(body: &[u8], expected: usize, target: &Target) -> Result<Parsed, ApiError> {
    let bad = |why: String| ApiError::ModelError {
        message: format!(
            "The backend at {} answered /embeddings for '{}' with {why}",
            target.url, target.model
        ),
        original_status_code: 200,
        resource_name: target.resource.clone(),
    };
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|e| bad(format!("something that is not an embeddings list ({e})")))?;
    let mut items = answer.data;
    if items.len() != expected {
        return Err(bad(format!(
            "{} vectors for {expected} inputs",
            items.len()
        )));
    }
    items.sort_by_key(|i| i.index.unwrap_or(usize::MAX));
    if items.iter().any(|i| i.embedding.is_empty()) {
        return Err(bad("an empty vector".into()));
    }
    Ok(Parsed {
        vectors: items.into_iter().map(|i| i.embedding).collect(),
        prompt_tokens: answer
            .usage
            .and_then(|u| u.prompt_tokens)
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
    })
}

/// Cuts or zero-pads `v` to `dimensions`, re-normalizing when asked.
pub fn fit(mut v: Vec<f32>, dimensions: usize, unit: bool) -> Vec<f32> {
    if v.len() != dimensions {
        tracing::debug!(
            backend = v.len(),
            requested = dimensions,
            "fitting the backend's embedding to the requested dimension"
        );
        v.resize(dimensions, 0.0);
    }
    if unit {
        normalize(&mut v);
    }
    v
}

/// The model ids of a `/models` answer (`{"data":[{"id":…}]}`; Ollama's native `{"models":[…]}`
/// too, for a URL without `/v1`).
pub fn model_ids(body: &[u8]) -> Vec<String> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Vec::new();
    };
    let list = v
        .get("data")
        .or_else(|| v.get("models"))
        .and_then(|l| l.as_array());
    list.into_iter()
        .flatten()
        .filter_map(|m| {
            m.get("id")
                .or_else(|| m.get("name"))
                .or_else(|| m.get("model"))
                .and_then(|id| id.as_str())
                .map(str::to_string)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            url: "http://b/v1".into(),
            model: "nomic-embed-text".into(),
            resource: "amazon.titan-embed-text-v2:0".into(),
        }
    }

    #[test]
    fn answers_are_ordered_by_index_and_checked() {
        let body = br#"{"data":[{"index":1,"embedding":[0.0,1.0]},{"index":0,"embedding":[1.0,0.0]}],"usage":{"prompt_tokens":4}}"#;
        let p = parse(body, 2, &target()).unwrap();
        assert_eq!(p.vectors, vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
        assert_eq!(p.prompt_tokens, Some(4));
        let err = parse(body, 3, &target()).unwrap_err();
        assert!(err.message().contains("2 vectors for 3 inputs"), "{err}");
        assert_eq!(parse(b"[]", 1, &target()).unwrap_err().status(), 424);
    }

    #[test]
    fn vectors_are_cut_or_padded_then_normalized() {
        let v = fit(vec![3.0, 4.0, 12.0], 2, true);
        assert_eq!(v.len(), 2);
        assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6);
        let v = fit(vec![0.6, 0.8], 4, true);
        assert_eq!(v, vec![0.6, 0.8, 0.0, 0.0]);
        let v = fit(vec![3.0, 4.0], 2, false);
        assert_eq!(v, vec![3.0, 4.0]);
    }

    #[test]
    fn model_lists_in_openai_and_ollama_shapes() {
        assert_eq!(
            model_ids(br#"{"object":"list","data":[{"id":"a"},{"id":"b"}]}"#),
            ["a", "b"]
        );
        assert_eq!(
            model_ids(br#"{"models":[{"name":"llama3.1:8b"}]}"#),
            ["llama3.1:8b"]
        );
        assert!(model_ids(b"nope").is_empty());
    }
}
