//! Tags on taggable resources (guardrails, customization jobs, custom models, application inference
//! profiles, provisioned throughput), on both the SDKs' paths (`POST /tagResource` & co., ARN in the
//! body as `resourceARN`) and the product page's `POST|DELETE|GET /tags/{resourceARN}`.

use super::query::Query;
use super::schema::{self, list, matching, req, Rule};
use super::store::{RegionState, Store};
use super::validate::TAG_TEXT;
use crate::aws::ApiError;
use crate::call::Call;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};

/// The most tags one resource may carry.
pub const MAX_TAGS: usize = 200;

/// `{key, value}` — lower-case members, as the model spells them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

pub static TAG: Rule = Rule::Obj(&[
    req("key", matching(1, 128, &TAG_TEXT)),
    req("value", matching(0, 256, &TAG_TEXT)),
]);

/// A tag list in a request body: each tag is checked here; the count is checked by [`tag_list`], so
/// that too many tags is a `TooManyTagsException`, as the issue asks, not a length violation.
pub static TAG_LIST: Rule = list(0, usize::MAX, &TAG);

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

/// Tags from a validated tag list (`None` when the member was absent); refuses reserved keys and more
/// than [`MAX_TAGS`] for `resource`.
pub fn tag_list(value: Option<&Value>, resource: &str) -> Result<Vec<Tag>, ApiError> {
    let tags: Vec<Tag> = match value {
        Some(v) => serde_json::from_value(v.clone())?,
        None => Vec::new(),
    };
    merge(Vec::new(), tags, resource)
}

/// `existing` with `new` applied (same key: the new value wins). Keys are looked up in an index,
/// not by a scan of the list per tag: a request with many tags costs their number, not its square.
fn merge(mut existing: Vec<Tag>, new: Vec<Tag>, resource: &str) -> Result<Vec<Tag>, ApiError> {
    let mut at: HashMap<String, usize> = existing
        .iter()
        .enumerate()
        .map(|(i, t)| (t.key.clone(), i))
        .collect();
    for tag in new {
        if tag.key.to_ascii_lowercase().starts_with("aws:") {
            return Err(ApiError::validation(format!(
                "Tag key '{}' is not allowed: the prefix 'aws:' is reserved for AWS use.",
                tag.key
            )));
        }
        match at.get(&tag.key).and_then(|&i| existing.get_mut(i)) {
            Some(t) => t.value = tag.value,
            None => {
                at.insert(tag.key.clone(), existing.len());
                existing.push(tag);
            }
        }
    }
    if existing.len() > MAX_TAGS {
        return Err(ApiError::TooManyTags {
            message: format!(
                "The resource {resource} would have {} tags; a resource can have at most {MAX_TAGS} tags.",
                existing.len()
            ),
            resource_name: resource.to_string(),
        });
    }
    Ok(existing)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(n: usize) -> Vec<Tag> {
        (0..n)
            .map(|i| Tag {
                key: format!("k{i}"),
                value: format!("v{i}"),
            })
            .collect()
    }

    #[test]
    fn merging_overwrites_same_keys_and_keeps_order() {
        let merged = merge(
            tags(2),
            vec![Tag {
                key: "k0".into(),
                value: "new".into(),
            }],
            "arn",
        )
        .unwrap();
        assert_eq!(merged[0].value, "new");
        assert_eq!(merged.len(), 2);
    }

    #[test]
    fn more_than_two_hundred_is_too_many_and_aws_prefix_is_reserved() {
        assert!(merge(tags(150), tags(200), "arn").is_ok());
        let err = merge(tags(150), tags(201), "arn:x").unwrap_err();
        assert_eq!(err.type_name(), "TooManyTagsException");
        assert_eq!(err.body()["resourceName"], "arn:x");
        let reserved = vec![Tag {
            key: "aws:cloudformation:stack-name".into(),
            value: "x".into(),
        }];
        assert_eq!(
            merge(vec![], reserved, "arn").unwrap_err().type_name(),
            "ValidationException"
        );
    }
}
