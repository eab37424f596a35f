//! Model invocation logging configuration (`GET|PUT|DELETE /logging/modelinvocations`): validated and
//! stored per region. awsim records it; invocations are not actually shipped anywhere.

use super::schema::{self, matching, opt, req, Rule};
use super::store::Store;
use super::validate::ROLE_ARN;
use crate::aws::ApiError;
use crate::call::Call;
use serde_json::{json, Value};

static S3_CONFIG: Rule = Rule::Obj(&[
    req("bucketName", schema::text(3, 63)),
    opt("keyPrefix", schema::text(0, 1024)),
]);

static PUT: Rule = Rule::Obj(&[req(
    "loggingConfig",
    Rule::Obj(&[
        opt(
            "cloudWatchConfig",
            Rule::Obj(&[
                req("logGroupName", schema::text(1, 512)),
                req("roleArn", matching(0, 2048, &ROLE_ARN)),
                opt("largeDataDeliveryS3Config", Rule::Is(&S3_CONFIG)),
            ]),
        ),
        opt("s3Config", Rule::Is(&S3_CONFIG)),
        opt("textDataDeliveryEnabled", Rule::Bool),
        opt("imageDataDeliveryEnabled", Rule::Bool),
        opt("embeddingDataDeliveryEnabled", Rule::Bool),
        opt("videoDataDeliveryEnabled", Rule::Bool),
        opt("audioDataDeliveryEnabled", Rule::Bool),
    ]),
)]);

pub fn put(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let body = schema::check_body(&PUT, &call.json()?)?;
    let config = body["loggingConfig"].clone();
    if config.get("cloudWatchConfig").is_none() && config.get("s3Config").is_none() {
        return Err(ApiError::validation(
            "loggingConfig must have a destination: set cloudWatchConfig, s3Config, or both.",
        ));
    }
    store.scope(&call.ctx, |s| s.state.logging = Some(config));
    Ok(json!({}))
}

pub fn get(store: &Store, call: &Call) -> Value {
    store.scope(&call.ctx, |s| json!({ "loggingConfig": s.state.logging }))
}

pub fn delete(store: &Store, call: &Call) -> Value {
    store.scope(&call.ctx, |s| s.state.logging = None);
    json!({})
}
