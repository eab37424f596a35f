//! Model identifiers → the model that answers: foundation ids, inference-profile ids and ARNs, custom
//! models and provisioned throughput, through the management store's catalog and resources.

use super::providers::ModelInfo;
use crate::aws::{ApiError, RequestContext};
use crate::management::{catalog, Store};

/// Resolves the `{modelId}` label of a runtime path (already percent-decoded).
pub fn model(store: &Store, ctx: &RequestContext, id: &str) -> Result<ModelInfo, ApiError> {
    let resolved = store.resolve_model(&ctx.region, &ctx.account_id, id)?;
    Ok(ModelInfo {
        id: resolved.model_id,
        name: resolved.model.model_name.clone(),
        via: resolved.via,
    })
}

/// Whether Converse can answer with this model: it writes text (not embeddings, images or video).
pub fn is_chat_model(model: &ModelInfo) -> bool {
    catalog::find(&model.id)
        .is_some_and(|m| m.output_modalities.iter().any(|o| o == "TEXT") && !m.is_embedding())
}
