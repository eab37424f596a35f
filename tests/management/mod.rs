//! The Bedrock control plane, driven by the AWS SDK for Rust (and, for the product page's curl
//! examples, by plain HTTP): every implemented operation, its errors, pagination, tags, regions.

mod customization;
mod foundation_models;
mod guardrails;
mod inference_profiles;
mod logging;
mod product_page;
mod provisioned;
mod regions;
mod tags;

use aws_sdk_bedrock::config::http::HttpResponse;
use aws_sdk_bedrock::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_bedrock::types::Tag;
use awsim::Config;
use std::future::Future;
use std::time::{Duration, Instant};

/// A server whose customization jobs and provisioned throughput finish in `work`.
pub fn config_with_work(work: Duration) -> Config {
    Config {
        customization_duration: work,
        ..Config::default()
    }
}

/// What a failed SDK call came back with: the HTTP status, the error code and the message.
#[derive(Debug)]
pub struct Failure {
    pub status: u16,
    pub code: String,
    pub message: String,
}

pub fn failure<E>(err: SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            let e = ctx.into_err();
            Failure {
                status,
                code: e.code().unwrap_or_default().to_string(),
                message: e.message().unwrap_or_default().to_string(),
            }
        }
        other => panic!("expected a service error, got {other:?}"),
    }
}

pub fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

/// Polls `check` until it returns `Some`, failing after `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < limit,
            "condition not reached within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A valid customization job request, ready to send after `.job_name()` and `.custom_model_name()`.
pub fn job_request(
    client: &aws_sdk_bedrock::Client,
    job: &str,
    model: &str,
) -> aws_sdk_bedrock::operation::create_model_customization_job::builders::CreateModelCustomizationJobFluentBuilder{
    use aws_sdk_bedrock::types::{OutputDataConfig, TrainingDataConfig};
    client
        .create_model_customization_job()
        .job_name(job)
        .custom_model_name(model)
        .role_arn("arn:aws:iam::123456789012:role/BedrockCustomization")
        .base_model_identifier("amazon.titan-text-express-v1")
        .training_data_config(
            TrainingDataConfig::builder()
                .s3_uri("s3://my-training-bucket/train.jsonl")
                .build(),
        )
        .output_data_config(
            OutputDataConfig::builder()
                .s3_uri("s3://my-output-bucket/out/")
                .build()
                .unwrap(),
        )
        .hyper_parameters("epochCount", "2")
}
