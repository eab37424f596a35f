//! The question the runtime asks the control plane: which foundation model answers this model
//! identifier? Catalog ids, system inference profile ids (`us.`, `eu.`, `apac.`, `global.`), and ARNs
//! of foundation models, inference profiles (system and application), custom models and provisioned
//! throughput all resolve to a catalog entry, answered as a [`ModelRef`].

use super::catalog::{self, CatalogModel};
use super::profiles;
use super::state::RegionState;
use super::store::Store;
use crate::aws::{arn, ApiError};
use crate::model_ref::ModelRef;

fn invalid() -> ApiError {
    ApiError::validation("The provided model identifier is invalid.")
}

impl Store {
    /// Resolves any runtime model identifier (the `{modelId}` of a runtime path, percent-decoded) to
    /// the foundation model that answers it. `via` lists every id met on the way, the identifier as
    /// sent first (e.g. `["us.anthropic…", "anthropic…"]`, or `[custom-model ARN, base id]`); a
    /// context-window variant (`…:200k`) is followed by its base model.
    ///
    /// Plain ids must be in the catalog (or be a system profile the catalog lists); ARNs may name any
    /// region. Stored resources (application profiles, custom models, provisioned throughput) are
    /// looked up in the region their ARN names. Unknown plain ids are a `ValidationException`; an ARN
    /// of a stored resource that does not exist is a `ResourceNotFoundException` naming it.
    pub fn resolve_model(
        &self,
        region: &str,
        account: &str,
        identifier: &str,
    ) -> Result<ModelRef, ApiError> {
        let mut via = vec![identifier.to_string()];
        let model = match arn::parse(identifier) {
            None => match catalog::find(identifier) {
                Some(m) => m,
                None => {
                    profiles::system_profile(identifier)
                        .ok_or_else(invalid)?
                        .model
                }
            },
            Some(a) => match a.resource_type {
                "foundation-model" => catalog::find(a.resource_id).ok_or_else(invalid)?,
                "inference-profile" => {
                    let p = profiles::system_profile(a.resource_id).ok_or_else(|| {
                        ApiError::not_found(format!(
                            "The inference profile {identifier} was not found."
                        ))
                    })?;
                    via.push(p.id());
                    p.model
                }
                "application-inference-profile" | "custom-model" | "provisioned-model" => {
                    let home = if a.region.is_empty() {
                        region
                    } else {
                        a.region
                    };
                    self.scope_in(home, account, |s| {
                        resolve_stored(s.state, identifier, &mut via)
                    })?
                }
                _ => return Err(invalid()),
            },
        };
        if via.last() != Some(&model.model_id) {
            via.push(model.model_id.clone());
        }
        if let Some(base) = model.base() {
            via.push(base.model_id.clone());
        }
        Ok(ModelRef {
            id: model.model_id.clone(),
            name: model.model_name.clone(),
            via,
        })
    }
}

/// An application profile, custom model or provisioned throughput (by ARN) → its model.
fn resolve_stored(
    state: &RegionState,
    arn: &str,
    via: &mut Vec<String>,
) -> Result<&'static CatalogModel, ApiError> {
    if let Some(p) = state.app_profiles.iter().find(|p| p.arn == arn) {
        if let Some(id) = &p.system_profile_id {
            via.push(id.clone());
        }
        return catalog::find(&p.model_id).ok_or_else(invalid);
    }
    if let Some(m) = state.custom_models.iter().find(|m| m.arn == arn) {
        return Ok(m.base_model);
    }
    if let Some(pt) = state.provisioned.iter().find(|p| p.arn == arn) {
        via.push(pt.model_arn.clone());
        if let Some(m) = catalog::find_by_identifier(&pt.model_arn) {
            return Ok(m);
        }
        return resolve_stored(state, &pt.model_arn, via);
    }
    let kind = match arn::parse(arn).map(|a| a.resource_type) {
        Some("application-inference-profile") => "application inference profile",
        Some("provisioned-model") => "provisioned throughput",
        _ => "custom model",
    };
    Err(ApiError::not_found(format!(
        "The {kind} {arn} was not found."
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::management::state::{AppProfile, CustomModel, Provisioned, PtStatus};
    use serde_json::{json, Map};
    use std::time::SystemTime;

    const ACCOUNT: &str = "000000000000";
    const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";

    fn resolve(store: &Store, id: &str) -> Result<ModelRef, ApiError> {
        store.resolve_model("us-east-1", ACCOUNT, id)
    }

    fn store() -> Store {
        Store::new(&Config::default())
    }

    #[test]
    fn catalog_ids_and_their_arns_in_any_region() {
        let store = store();
        let r = resolve(&store, HAIKU).unwrap();
        assert_eq!(r.id, HAIKU);
        assert_eq!(r.via, [HAIKU]);
        assert_eq!(r.name, "Claude 3 Haiku");
        let arn = format!("arn:aws:bedrock:ap-south-1::foundation-model/{HAIKU}");
        assert_eq!(resolve(&store, &arn).unwrap().via, [arn.as_str(), HAIKU]);
    }

    #[test]
    fn system_profiles_only_in_the_geos_the_catalog_lists() {
        let store = store();
        let us = format!("us.{HAIKU}");
        assert_eq!(resolve(&store, &us).unwrap().via, [us.as_str(), HAIKU]);
        let arn = format!("arn:aws:bedrock:us-west-2:123456789012:inference-profile/eu.{HAIKU}");
        let r = resolve(&store, &arn).unwrap();
        assert_eq!(
            r.via,
            [arn.clone(), format!("eu.{HAIKU}"), HAIKU.to_string()]
        );
        let global = "global.anthropic.claude-sonnet-4-5-20250929-v1:0";
        assert_eq!(
            resolve(&store, global).unwrap().id,
            "anthropic.claude-sonnet-4-5-20250929-v1:0"
        );
        let err = resolve(&store, &format!("global.{HAIKU}")).unwrap_err();
        assert_eq!(
            err,
            ApiError::validation("The provided model identifier is invalid.")
        );
    }

    #[test]
    fn context_window_variants_resolve_to_themselves_then_their_base() {
        let v = format!("{HAIKU}:200k");
        assert_eq!(resolve(&store(), &v).unwrap().via, [v.as_str(), HAIKU]);
        assert!(resolve(&store(), &format!("{HAIKU}:999k")).is_err());
    }

    #[test]
    fn unknown_ids_are_invalid_and_unknown_resources_not_found() {
        let store = store();
        for bad in [
            "gpt-4",
            "anthropic.claude-9",
            "arn:aws:s3:::bucket/key",
            "arn:aws:bedrock:us-east-1:1:guardrail/abc",
        ] {
            let err = resolve(&store, bad).unwrap_err();
            assert_eq!(
                err.message(),
                "The provided model identifier is invalid.",
                "{bad}"
            );
        }
        let arn = format!("arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/{HAIKU}/abcdefghijkl");
        let err = resolve(&store, &arn).unwrap_err();
        assert_eq!(err.type_name(), "ResourceNotFoundException");
        assert!(err.message().contains(&arn));
        let pt = format!("arn:aws:bedrock:us-east-1:{ACCOUNT}:provisioned-model/abcdefghijkl");
        assert!(resolve(&store, &pt)
            .unwrap_err()
            .message()
            .contains("provisioned throughput"));
    }

    #[test]
    fn stored_resources_resolve_through_to_their_base_model() {
        let store = store();
        let base = catalog::find(&format!("{HAIKU}:200k")).unwrap();
        let custom_arn =
            format!("arn:aws:bedrock:eu-west-1:{ACCOUNT}:custom-model/{HAIKU}:200k/abcdefghijkl");
        let profile_arn = format!(
            "arn:aws:bedrock:eu-west-1:{ACCOUNT}:application-inference-profile/profile12345"
        );
        let pt_arn = format!("arn:aws:bedrock:eu-west-1:{ACCOUNT}:provisioned-model/pt1234567890");
        let now = SystemTime::now();
        store.scope_in("eu-west-1", ACCOUNT, |s| {
            s.state.custom_models.push(CustomModel {
                arn: custom_arn.clone(),
                name: "mine".into(),
                job_arn: String::new(),
                job_name: "job".into(),
                base_model: base,
                base_model_arn: base.arn("eu-west-1"),
                customization_type: "FINE_TUNING".into(),
                echo: Map::new(),
                training_metrics: json!({}),
                validation_metrics: json!([]),
                kms_key_arn: None,
                created: now,
            });
            s.state.app_profiles.push(AppProfile {
                id: "profile12345".into(),
                arn: profile_arn.clone(),
                name: "p".into(),
                description: None,
                model_arns: vec![],
                system_profile_id: Some(format!("eu.{HAIKU}")),
                model_id: HAIKU.into(),
                client_request_token: None,
                created: now,
            });
            s.state.provisioned.push(Provisioned {
                id: "pt1234567890".into(),
                arn: pt_arn.clone(),
                name: "pt".into(),
                model_arn: custom_arn.clone(),
                desired_model_arn: custom_arn.clone(),
                foundation_model_arn: base.arn("eu-west-1"),
                model_units: 1,
                commitment: None,
                commitment_expiration: None,
                status: PtStatus::InService,
                ready_at: now,
                client_request_token: None,
                created: now,
                last_modified: now,
            });
        });
        let r = resolve(&store, &custom_arn).unwrap();
        assert_eq!(
            r.via,
            [
                custom_arn.clone(),
                format!("{HAIKU}:200k"),
                HAIKU.to_string()
            ]
        );
        let r = resolve(&store, &profile_arn).unwrap();
        assert_eq!(
            r.via,
            [
                profile_arn.clone(),
                format!("eu.{HAIKU}"),
                HAIKU.to_string()
            ]
        );
        let r = resolve(&store, &pt_arn).unwrap();
        assert_eq!(r.via[..2], [pt_arn.clone(), custom_arn.clone()]);
        assert_eq!(r.id, format!("{HAIKU}:200k"));
        // The same ARNs in another region's state do not exist.
        let elsewhere = custom_arn.replace("eu-west-1", "us-east-1");
        assert_eq!(
            resolve(&store, &elsewhere).unwrap_err().type_name(),
            "ResourceNotFoundException"
        );
    }
}
