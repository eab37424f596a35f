//! Tags on taggable resources (guardrails, customization jobs, custom models, application inference
//! profiles, provisioned throughput), on both the SDKs' paths (`POST /tagResource` & co., ARN in the
//! body as `resourceARN`) and the product page's `POST|DELETE|GET /tags/{resourceARN}`.

use super::members::{merge, TAG};
use super::query::Query;
use super::schema::{self, list, matching, req, Rule};
use super::state::{RegionState, Tag};
use super::store::Store;
use super::validate::TAG_TEXT;
use crate::aws::ApiError;
use crate::call::Call;
use serde_json::{json, Value};
use std::collections::HashSet;

static TAG_KEY: Rule = matching(1, 128, &TAG_TEXT);

static TAG_RESOURCE: Rule = Rule::Obj(&[
    req("resourceARN", resource_arn()),
    req("tags", list(0, usize::MAX, &TAG)),
]);
static UNTAG_RESOURCE: Rule = Rule::Obj(&[
    req("resourceARN", resource_arn()),
    req("tagKeys", list(0, usize::MAX, &TAG_KEY)),
]);
static LIST_TAGS: Rule = Rule::Obj(&[req("resourceARN", resource_arn())]);

const fn resource_arn() -> Rule {
    schema::text(20, 1011)
}

/// Whether a taggable resource with this ARN exists in the region.
fn exists(state: &RegionState, arn: &str) -> bool {
    state.guardrails.iter().any(|g| g.arn == arn)
        || state.jobs.iter().any(|j| j.arn == arn)
        || state.custom_models.iter().any(|m| m.arn == arn)
        || state.app_profiles.iter().any(|p| p.arn == arn)
        || state.provisioned.iter().any(|p| p.arn == arn)
}

fn not_found(arn: &str) -> ApiError {
    ApiError::not_found(format!(
        "The resource {arn} was not found. Taggable resources are guardrails, model customization jobs, custom models, application inference profiles and provisioned throughput in this region."
    ))
}

/// The request body with the ARN from the path (product-page routes) merged in.
fn body_with_path_arn(call: &Call) -> Result<Value, ApiError> {
    let mut body: Value = call.json()?;
    if !call.route.params.is_empty() {
        if let Some(obj) = body.as_object_mut() {
            obj.insert("resourceARN".into(), Value::from(call.param(0)));
        }
    }
    Ok(body)
}

pub fn tag_resource(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let body = schema::check_body(&TAG_RESOURCE, &body_with_path_arn(call)?)?;
    let arn = body["resourceARN"].as_str().unwrap_or_default().to_string();
    let new: Vec<Tag> = serde_json::from_value(body["tags"].clone())?;
    store.scope(&call.ctx, |s| {
        if !exists(s.state, &arn) {
            return Err(not_found(&arn));
        }
        let existing = s.state.tags.get(&arn).cloned().unwrap_or_default();
        let merged = merge(existing, new, &arn)?;
        s.state.tags.insert(arn, merged);
        Ok(json!({}))
    })
}

pub fn untag_resource(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let mut body = body_with_path_arn(call)?;
    // `DELETE /tags/{arn}` from curl may carry the keys in the query instead of a body.
    let query_keys = Query::of(call)?.all("tagKeys");
    if body.get("tagKeys").is_none() && !query_keys.is_empty() {
        if let Some(obj) = body.as_object_mut() {
            obj.insert("tagKeys".into(), Value::from(query_keys));
        }
    }
    let body = schema::check_body(&UNTAG_RESOURCE, &body)?;
    let arn = body["resourceARN"].as_str().unwrap_or_default().to_string();
    let keys: Vec<String> = serde_json::from_value(body["tagKeys"].clone())?;
    let keys: HashSet<String> = keys.into_iter().collect();
    store.scope(&call.ctx, |s| {
        if !exists(s.state, &arn) {
            return Err(not_found(&arn));
        }
        if let Some(tags) = s.state.tags.get_mut(&arn) {
            tags.retain(|t| !keys.contains(&t.key));
        }
        Ok(json!({}))
    })
}

pub fn list_tags_for_resource(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let body = schema::check_body(&LIST_TAGS, &body_with_path_arn(call)?)?;
    let arn = body["resourceARN"].as_str().unwrap_or_default().to_string();
    store.scope(&call.ctx, |s| {
        if !exists(s.state, &arn) {
            return Err(not_found(&arn));
        }
        let tags = s.state.tags.get(&arn).cloned().unwrap_or_default();
        Ok(json!({ "tags": tags }))
    })
}
