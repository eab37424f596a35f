//! The Bedrock control plane (`bedrock`): a small side module with in-memory, region-scoped state.
//!
//! # Layout
//! - [`catalog`] (+ `catalog.json`): the built-in foundation models; [`profiles`]: inference profiles.
//! - [`customization`] → [`custom_models`]: jobs that complete into custom models; [`provisioned`].
//! - [`guardrails`] (+ [`guardrail_policies`]), [`tags`], [`logging`].
//! - [`state`]: every resource's record and its time-driven transitions; [`store`]: one state per
//!   region behind a lock; [`resolve`]: model identifiers → catalog models, for the runtime.
//! - [`schema`], [`validate`], [`query`], [`pagination`]: request checking in Bedrock's words;
//!   [`members`]: request members several resources share (tag lists, KMS keys).
//!
//! Resource files import the floors below them (state, store, members, request checking, the
//! catalog), not one another: what one resource needs of another's records is in [`state`].

pub(crate) mod catalog;
mod custom_models;
mod customization;
mod guardrail_policies;
mod guardrails;
mod logging;
mod members;
mod pagination;
mod profiles;
mod provisioned;
mod query;
mod resolve;
mod schema;
mod state;
mod store;
mod tags;
mod validate;

pub(crate) use guardrail_policies::{custom_regex, PII_TYPES};
pub(crate) use store::Store;

use crate::aws::http::{json, Body};
use crate::aws::ApiError;
use crate::call::Call;
use crate::operations::ManagementOp;
use hyper::Response;
use serde_json::Value;

/// Answers one control-plane call.
pub fn handle(op: ManagementOp, store: &Store, call: &Call) -> Result<Response<Body>, ApiError> {
    use ManagementOp::*;
    let region = call.ctx.region.as_str();
    let body = match op {
        ListFoundationModels => catalog::list_foundation_models(&query::Query::of(call)?, region)?,
        GetFoundationModel => catalog::get_foundation_model(call.param(0), region)?,

        ListInferenceProfiles => profiles::list(store, call)?,
        GetInferenceProfile => profiles::get(store, call)?,
        CreateInferenceProfile => profiles::create(store, call)?,
        DeleteInferenceProfile => profiles::delete(store, call)?,

        CreateModelCustomizationJob => customization::create(store, call)?,
        GetModelCustomizationJob => customization::get(store, call)?,
        ListModelCustomizationJobs => customization::list_jobs(store, call)?,
        StopModelCustomizationJob => customization::stop(store, call)?,

        ListCustomModels => custom_models::list(store, call)?,
        GetCustomModel => custom_models::get(store, call)?,
        DeleteCustomModel => custom_models::delete(store, call)?,

        CreateProvisionedModelThroughput => provisioned::create(store, call)?,
        GetProvisionedModelThroughput => provisioned::get(store, call)?,
        ListProvisionedModelThroughputs => provisioned::list(store, call)?,
        UpdateProvisionedModelThroughput => provisioned::update(store, call)?,
        DeleteProvisionedModelThroughput => provisioned::delete(store, call)?,

        GetModelInvocationLoggingConfiguration => logging::get(store, call),
        PutModelInvocationLoggingConfiguration => logging::put(store, call)?,
        DeleteModelInvocationLoggingConfiguration => logging::delete(store, call),

        TagResource => tags::tag_resource(store, call)?,
        UntagResource => tags::untag_resource(store, call)?,
        ListTagsForResource => tags::list_tags_for_resource(store, call)?,

        CreateGuardrail => guardrails::create(store, call)?,
        GetGuardrail => guardrails::get(store, call)?,
        ListGuardrails => guardrails::list(store, call)?,
        UpdateGuardrail => guardrails::update(store, call)?,
        CreateGuardrailVersion => guardrails::create_version(store, call)?,
        DeleteGuardrail => guardrails::delete(store, call)?,
    };
    Ok(json(call.route.status, &without_nulls(body)))
}

/// Optional members are left out rather than sent as `null`, as the real service does.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_are_dropped_at_every_depth() {
        let v = serde_json::json!({"a": null, "b": [{"c": null, "d": 1}], "e": {"f": null}});
        assert_eq!(
            without_nulls(v),
            serde_json::json!({"b": [{"d": 1}], "e": {}})
        );
    }
}
