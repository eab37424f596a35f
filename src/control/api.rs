//! `/_awsim/rules`: add rules (one object or an array; answers their ids), list them in order with
//! their hit counts, delete one or all.

use super::{rule, Control};
use crate::aws::http::{json, Body};
use crate::aws::ApiError;
use crate::call::Call;
use hyper::Response;
use serde_json::{json, Value};

/// `POST /_awsim/rules`.
pub fn add(control: &Control, call: &Call) -> Result<Response<Body>, ApiError> {
    let value: Value = serde_json::from_slice(&call.body).map_err(|e| {
        ApiError::validation(format!(
            "The body must be a rule (a JSON object) or an array of rules: {e}"
        ))
    })?;
    let rules = rule::parse(&value).map_err(ApiError::Validation)?;
    let single = value.is_object();
    let ids = control
        .add(rules, |i| {
            if single {
                "rule".to_string()
            } else {
                format!("rules[{i}]")
            }
        })
        .map_err(ApiError::Validation)?;
    Ok(json(200, &json!({ "ids": ids })))
}

/// `GET /_awsim/rules`.
pub fn list(control: &Control) -> Response<Body> {
    json(200, &control.list())
}

/// `DELETE /_awsim/rules/{ruleId}`.
pub fn delete(control: &Control, call: &Call) -> Result<Response<Body>, ApiError> {
    let id = call.param(0);
    if control.remove(id) {
        Ok(json(200, &json!({ "deleted": id })))
    } else {
        Err(ApiError::not_found(format!(
            "No rule has the id '{id}'; GET /_awsim/rules lists them."
        )))
    }
}

/// `DELETE /_awsim/rules`.
pub fn clear(control: &Control) -> Response<Body> {
    control.clear();
    json(200, &json!({ "deleted": "all" }))
}
