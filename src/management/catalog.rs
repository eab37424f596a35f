//! The built-in foundation-model catalog and the two operations that read it
//! (`ListFoundationModels`, `GetFoundationModel`).
//!
//! The data lives in `catalog.json`, compiled in: one object per model with the real
//! `FoundationModelSummary` members, plus `crossRegionProfiles` — the geos (`us`, `eu`, `apac`,
//! `global`) that have a system-defined inference profile `{geo}.{modelId}`. Extend it there.
//! Context-window variants (`…-v1:0:200k`) are separate entries, as in the real catalog; they carry
//! the `PROVISIONED` inference type and the customizations.

use super::query::Query;
use super::validate::{Checks, PROVIDER};
use crate::aws::arn;
use crate::aws::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::OnceLock;

const CATALOG_JSON: &str = include_str!("catalog.json");

pub const OUTPUT_MODALITIES: &[&str] = &["TEXT", "IMAGE", "EMBEDDING"];
pub const CUSTOMIZATION_TYPES: &[&str] = &["FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION"];
pub const INFERENCE_TYPES: &[&str] = &["ON_DEMAND", "PROVISIONED"];

/// One foundation model, as Bedrock describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CatalogModel {
    /// e.g. `anthropic.claude-3-haiku-20240307-v1:0`
    pub model_id: String,
    /// e.g. `Claude 3 Haiku`
    pub model_name: String,
    /// e.g. `Anthropic`, `Amazon`, `Meta`, `Mistral AI`, `Cohere`
    pub provider_name: String,
    /// `TEXT`, `IMAGE`, `EMBEDDING`, and for a few models `VIDEO` / `SPEECH`
    pub input_modalities: Vec<String>,
    pub output_modalities: Vec<String>,
    pub response_streaming_supported: bool,
    /// `FINE_TUNING`, `CONTINUED_PRE_TRAINING`, `DISTILLATION`
    pub customizations_supported: Vec<String>,
    /// `ON_DEMAND`, `PROVISIONED`, or `INFERENCE_PROFILE` for models only reachable through a
    /// cross-region profile (as the real service reports them)
    pub inference_types_supported: Vec<String>,
    pub model_lifecycle: ModelLifecycle,
    /// Geos with a system-defined inference profile: `us`, `eu`, `apac`, `global`.
    #[serde(default)]
    pub cross_region_profiles: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelLifecycle {
    /// `ACTIVE` or `LEGACY`
    pub status: String,
}

impl CatalogModel {
    /// `arn:aws:bedrock:{region}::foundation-model/{id}` — foundation models have no account.
    pub fn arn(&self, region: &str) -> String {
        arn::foundation_model(region, &self.model_id)
    }

    /// Whether the model answers with embeddings rather than text or media.
    pub fn is_embedding(&self) -> bool {
        self.output_modalities.iter().any(|m| m == "EMBEDDING")
    }

    pub fn supports_inference_type(&self, t: &str) -> bool {
        self.inference_types_supported.iter().any(|x| x == t)
    }

    pub fn supports_customization(&self, t: &str) -> bool {
        self.customizations_supported.iter().any(|x| x == t)
    }

    pub fn has_profile_in(&self, geo: &str) -> bool {
        self.cross_region_profiles.iter().any(|g| g == geo)
    }

    /// The on-demand model a provisioned-only variant belongs to (`…-v1:0:200k` → `…-v1:0`,
    /// `amazon.titan-text-express-v1:0:8k` → `amazon.titan-text-express-v1`); `None` for a model
    /// invocable on its own (`anthropic.claude-v2:1` is a version of its own, not a variant).
    pub fn base(&self) -> Option<&'static CatalogModel> {
        if self.supports_inference_type("ON_DEMAND")
            || self.supports_inference_type("INFERENCE_PROFILE")
        {
            return None;
        }
        let mut id = self.model_id.as_str();
        while let Some((head, _)) = id.rsplit_once(':') {
            if let Some(base) = find(head).filter(|b| b.model_id != self.model_id) {
                return Some(base);
            }
            id = head;
        }
        None
    }

    /// `FoundationModelSummary` (and `FoundationModelDetails`, which has the same members).
    pub fn summary(&self, region: &str) -> Value {
        json!({
            "modelArn": self.arn(region),
            "modelId": self.model_id,
            "modelName": self.model_name,
            "providerName": self.provider_name,
            "inputModalities": self.input_modalities,
            "outputModalities": self.output_modalities,
            "responseStreamingSupported": self.response_streaming_supported,
            "customizationsSupported": self.customizations_supported,
            "inferenceTypesSupported": self.inference_types_supported,
            "modelLifecycle": { "status": self.model_lifecycle.status },
        })
    }
}

struct Catalog {
    models: Vec<CatalogModel>,
    /// Indices of `models` sorted by model id: every runtime request looks its model up, and a
    /// binary search over ~150 ids costs less than hashing the id with SipHash.
    by_id: Vec<usize>,
}

fn load() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        // The file is checked by the unit tests below; a broken edit shows up there, not here.
        let models: Vec<CatalogModel> = serde_json::from_str(CATALOG_JSON).unwrap_or_else(|err| {
            tracing::error!("the built-in model catalog does not parse: {err}");
            Vec::new()
        });
        let mut by_id: Vec<usize> = (0..models.len()).collect();
        by_id.sort_by(|&a, &b| models[a].model_id.cmp(&models[b].model_id));
        Catalog { models, by_id }
    })
}

/// Every foundation model awsim knows, in catalog order.
pub fn catalog() -> &'static [CatalogModel] {
    &load().models
}

/// The catalog entry with exactly this model id.
pub fn find(model_id: &str) -> Option<&'static CatalogModel> {
    let catalog = load();
    let models = &catalog.models;
    catalog
        .by_id
        .binary_search_by(|&i| models[i].model_id.as_str().cmp(model_id))
        .ok()
        .map(|at| &models[catalog.by_id[at]])
}

/// A model id or a foundation-model ARN (any region) → its catalog entry.
pub fn find_by_identifier(identifier: &str) -> Option<&'static CatalogModel> {
    match arn::parse(identifier) {
        Some(a) if a.resource_type == "foundation-model" => find(a.resource_id),
        Some(_) => None,
        None => find(identifier),
    }
}

/// The model itself if it supports `customization`, else its first context-window variant that does
/// (`amazon.titan-text-express-v1` is customized as `amazon.titan-text-express-v1:0:8k`).
pub fn customizable_variant(
    model: &'static CatalogModel,
    customization: &str,
) -> Option<&'static CatalogModel> {
    if model.supports_customization(customization) {
        return Some(model);
    }
    let prefix = format!("{}:", model.model_id);
    catalog()
        .iter()
        .find(|m| m.model_id.starts_with(&prefix) && m.supports_customization(customization))
}

/// Whether the model, or one of its context-window variants, can be provisioned.
pub fn provisionable(model: &'static CatalogModel) -> bool {
    let prefix = format!("{}:", model.model_id);
    model.supports_inference_type("PROVISIONED")
        || catalog()
            .iter()
            .any(|m| m.model_id.starts_with(&prefix) && m.supports_inference_type("PROVISIONED"))
}

/// `GET /foundation-models` — filtered, never paginated.
pub fn list_foundation_models(query: &Query, region: &str) -> Result<Value, ApiError> {
    let mut checks = Checks::new();
    let provider = query.text("byProvider", 1, 63, Some(&PROVIDER), &mut checks);
    let customization = query.one_of("byCustomizationType", CUSTOMIZATION_TYPES, &mut checks);
    let modality = query.one_of("byOutputModality", OUTPUT_MODALITIES, &mut checks);
    let inference = query.one_of("byInferenceType", INFERENCE_TYPES, &mut checks);
    checks.finish()?;
    let summaries: Vec<Value> = catalog()
        .iter()
        .filter(|m| {
            provider
                .as_deref()
                .is_none_or(|p| m.provider_name.eq_ignore_ascii_case(p))
        })
        .filter(|m| {
            customization
                .as_deref()
                .is_none_or(|c| m.supports_customization(c))
        })
        .filter(|m| {
            modality
                .as_deref()
                .is_none_or(|o| m.output_modalities.iter().any(|x| x == o))
        })
        .filter(|m| {
            inference
                .as_deref()
                .is_none_or(|t| m.supports_inference_type(t))
        })
        .map(|m| m.summary(region))
        .collect();
    Ok(json!({ "modelSummaries": summaries }))
}

/// `GET /foundation-models/{modelIdentifier}` — by id or foundation-model ARN.
pub fn get_foundation_model(identifier: &str, region: &str) -> Result<Value, ApiError> {
    let model = find_by_identifier(identifier).ok_or_else(|| {
        ApiError::not_found(format!(
            "Could not resolve the foundation model from the provided model identifier '{identifier}'."
        ))
    })?;
    Ok(json!({ "modelDetails": model.summary(region) }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const GEOS: &[&str] = &["us", "eu", "apac", "global"];
    const MODALITIES: &[&str] = &["TEXT", "IMAGE", "EMBEDDING", "VIDEO", "SPEECH"];

    #[test]
    fn catalog_parses_and_is_large_and_unique() {
        let models: Vec<CatalogModel> = serde_json::from_str(CATALOG_JSON).unwrap();
        assert!(models.len() >= 60, "{} models", models.len());
        let ids: HashSet<&str> = models.iter().map(|m| m.model_id.as_str()).collect();
        assert_eq!(ids.len(), models.len(), "duplicate model ids");
        assert_eq!(catalog().len(), models.len());
    }

    #[test]
    fn every_entry_uses_the_models_vocabulary() {
        for m in catalog() {
            let id = &m.model_id;
            let (provider, rest) = id.split_once('.').unwrap();
            assert!(!provider.is_empty() && !rest.is_empty(), "{id}");
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.:".contains(c)),
                "{id}"
            );
            assert!(
                !m.model_name.is_empty() && !m.provider_name.is_empty(),
                "{id}"
            );
            for x in m.input_modalities.iter().chain(&m.output_modalities) {
                assert!(MODALITIES.contains(&x.as_str()), "{id}: {x}");
            }
            for x in &m.customizations_supported {
                assert!(CUSTOMIZATION_TYPES.contains(&x.as_str()), "{id}: {x}");
            }
            assert!(!m.inference_types_supported.is_empty(), "{id}");
            for x in &m.inference_types_supported {
                assert!(
                    ["ON_DEMAND", "PROVISIONED", "INFERENCE_PROFILE"].contains(&x.as_str()),
                    "{id}: {x}"
                );
            }
            for g in &m.cross_region_profiles {
                assert!(GEOS.contains(&g.as_str()), "{id}: {g}");
            }
            if m.supports_inference_type("INFERENCE_PROFILE") {
                assert!(
                    !m.cross_region_profiles.is_empty(),
                    "{id} is profile-only but has no profile"
                );
            }
            assert!(
                ["ACTIVE", "LEGACY"].contains(&m.model_lifecycle.status.as_str()),
                "{id}"
            );
        }
    }

    #[test]
    fn the_issue_names_are_all_present() {
        for id in [
            "anthropic.claude-3-5-sonnet-20241022-v2:0",
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "anthropic.claude-opus-4-5-20251101-v1:0",
            "amazon.nova-pro-v1:0",
            "meta.llama3-1-70b-instruct-v1:0",
            "meta.llama4-maverick-17b-instruct-v1:0",
            "cohere.command-r-plus-v1:0",
            "ai21.jamba-1-5-large-v1:0",
            "deepseek.r1-v1:0",
            "openai.gpt-oss-120b-1:0",
            "amazon.titan-embed-text-v2:0",
            "cohere.embed-english-v3",
        ] {
            assert!(find(id).is_some(), "{id}");
        }
    }

    #[test]
    fn every_model_is_found_by_its_id_and_nothing_else_is() {
        for m in catalog() {
            assert!(
                std::ptr::eq(find(&m.model_id).unwrap(), m),
                "{}",
                m.model_id
            );
        }
        assert!(find("anthropic.claude-nope").is_none());
        assert!(find("").is_none());
    }

    #[test]
    fn variants_know_their_base() {
        let v = find("anthropic.claude-3-haiku-20240307-v1:0:200k").unwrap();
        assert_eq!(
            v.base().unwrap().model_id,
            "anthropic.claude-3-haiku-20240307-v1:0"
        );
        let v = find("amazon.titan-text-express-v1:0:8k").unwrap();
        assert_eq!(v.base().unwrap().model_id, "amazon.titan-text-express-v1");
        assert!(find("amazon.nova-pro-v1:0").unwrap().base().is_none());
        assert!(find("anthropic.claude-v2:1").unwrap().base().is_none());
        let v = find("anthropic.claude-v2:1:200k").unwrap();
        assert_eq!(v.base().unwrap().model_id, "anthropic.claude-v2:1");
        let express = find("amazon.titan-text-express-v1").unwrap();
        assert_eq!(
            customizable_variant(express, "FINE_TUNING")
                .unwrap()
                .model_id,
            "amazon.titan-text-express-v1:0:8k"
        );
        assert!(customizable_variant(
            find("anthropic.claude-sonnet-4-20250514-v1:0").unwrap(),
            "FINE_TUNING"
        )
        .is_none());
    }

    #[test]
    fn filters_combine_and_provider_is_case_insensitive() {
        let q = |s: &str| Query::from_pairs(s);
        let all = list_foundation_models(&Query::default(), "us-east-1").unwrap();
        let n = all["modelSummaries"].as_array().unwrap().len();
        assert_eq!(n, catalog().len());
        let meta = list_foundation_models(&q("byProvider=meta"), "us-east-1").unwrap();
        assert!(meta["modelSummaries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["providerName"] == "Meta"));
        let embed = list_foundation_models(
            &q("byOutputModality=EMBEDDING&byProvider=Cohere"),
            "eu-west-1",
        )
        .unwrap();
        let ids: Vec<&str> = embed["modelSummaries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["modelId"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&"cohere.embed-english-v3"), "{ids:?}");
        assert!(embed["modelSummaries"][0]["modelArn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:bedrock:eu-west-1::foundation-model/"));
        let err = list_foundation_models(&q("byOutputModality=AUDIO"), "us-east-1").unwrap_err();
        assert!(err.message().contains("byOutputModality"), "{err}");
    }
}
