//! Request members several resources share: tag lists (`tags`, `jobTags`, `customModelTags`) and
//! KMS keys (`kmsKeyId`, `customModelKmsKeyId`).

use super::schema::{list, matching, req, Rule};
use super::state::Tag;
use super::validate::TAG_TEXT;
use crate::aws::ApiError;
use serde_json::Value;
use std::collections::HashMap;

/// The most tags one resource may carry.
pub const MAX_TAGS: usize = 200;

pub static TAG: Rule = Rule::Obj(&[
    req("key", matching(1, 128, &TAG_TEXT)),
    req("value", matching(0, 256, &TAG_TEXT)),
]);

/// A tag list in a request body: each tag is checked here; the count is checked by [`tag_list`], so
/// that too many tags is a `TooManyTagsException`, as the issue asks, not a length violation.
pub static TAG_LIST: Rule = list(0, usize::MAX, &TAG);

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
pub fn merge(mut existing: Vec<Tag>, new: Vec<Tag>, resource: &str) -> Result<Vec<Tag>, ApiError> {
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

/// A KMS key id, alias or ARN as the ARN the service reports.
pub fn kms_key_arn(key: &str, region: &str, account: &str) -> String {
    if key.starts_with("arn:") {
        key.to_string()
    } else if key.starts_with("alias/") {
        format!("arn:aws:kms:{region}:{account}:{key}")
    } else {
        format!("arn:aws:kms:{region}:{account}:key/{key}")
    }
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
