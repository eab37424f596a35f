//! Model customization jobs and the custom models they produce: the lifecycle (InProgress →
//! Completed → custom model; Stop → Stopping → Stopped), validation, lookups, filters and pages.

use super::{config_with_work, eventually, failure, job_request, tag};
use crate::support;
use aws_sdk_bedrock::types::{
    FineTuningJobStatus, ModelCustomizationJobStatus, ModelStatus, SortOrder, TrainingDataConfig,
    ValidationDataConfig, Validator,
};
use aws_smithy_types::DateTime;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

async fn status_of(client: &aws_sdk_bedrock::Client, job: &str) -> ModelCustomizationJobStatus {
    let out = client
        .get_model_customization_job()
        .job_identifier(job)
        .send()
        .await
        .unwrap();
    out.status().unwrap().clone()
}

#[tokio::test]
async fn a_job_trains_then_completes_into_a_custom_model() {
    let server = support::start_with(config_with_work(Duration::from_secs(1))).await;
    let client = server.bedrock();
    let created = job_request(&client, "tune-1", "my-titan")
        .validation_data_config(
            ValidationDataConfig::builder()
                .validators(
                    Validator::builder()
                        .s3_uri("s3://my-training-bucket/valid.jsonl")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let job_arn = created.job_arn();
    assert!(
        job_arn.starts_with("arn:aws:bedrock:us-east-1:000000000000:model-customization-job/amazon.titan-text-express-v1:0:8k/"),
        "{job_arn}"
    );
    let running = client
        .get_model_customization_job()
        .job_identifier(job_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        running.status(),
        Some(&ModelCustomizationJobStatus::InProgress)
    );
    assert!(running.output_model_arn().is_none());
    assert!(running.training_metrics().is_none());

    let done = eventually(WAIT, || async {
        let out = client
            .get_model_customization_job()
            .job_identifier(job_arn)
            .send()
            .await
            .unwrap();
        (out.status() == Some(&ModelCustomizationJobStatus::Completed)).then_some(out)
    })
    .await;
    assert_eq!(
        done.base_model_arn(),
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1:0:8k"
    );
    let loss = done.training_metrics().unwrap().training_loss().unwrap();
    assert!((0.0..2.0).contains(&loss), "{loss}");
    assert_eq!(done.validation_metrics().len(), 1);
    assert!(done.end_time().unwrap() > done.creation_time());
    assert_eq!(done.hyper_parameters().unwrap()["epochCount"], "2");
    assert_eq!(
        done.output_data_config().unwrap().s3_uri(),
        "s3://my-output-bucket/out/"
    );

    let model_arn = done.output_model_arn().unwrap();
    let model = client
        .get_custom_model()
        .model_identifier(model_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(model.model_name(), "my-titan");
    assert_eq!(model.job_arn(), Some(job_arn));
    assert_eq!(model.model_status(), Some(&ModelStatus::Active));
    assert_eq!(
        model.training_metrics().unwrap().training_loss(),
        Some(loss)
    );
    let listed = client.list_custom_models().send().await.unwrap();
    assert_eq!(listed.model_summaries().len(), 1);
    assert_eq!(listed.model_summaries()[0].model_arn(), model_arn);
    assert_eq!(
        listed.model_summaries()[0].owner_account_id(),
        Some("000000000000")
    );
}

#[tokio::test]
async fn a_job_is_found_by_name_or_by_arn() {
    let server = support::start().await;
    let client = server.bedrock();
    let arn = job_request(&client, "by-name", "m1")
        .send()
        .await
        .unwrap()
        .job_arn()
        .to_string();
    let by_name = client
        .get_model_customization_job()
        .job_identifier("by-name")
        .send()
        .await
        .unwrap();
    assert_eq!(by_name.job_arn(), arn);
    assert_eq!(by_name.output_model_name(), "m1");
    assert_eq!(
        by_name.role_arn(),
        "arn:aws:iam::123456789012:role/BedrockCustomization"
    );
    let missing = client
        .get_model_customization_job()
        .job_identifier("no-such-job")
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(missing).code, "ResourceNotFoundException");
}

#[tokio::test]
async fn stopping_a_job_passes_through_stopping_to_stopped() {
    let server = support::start_with(config_with_work(Duration::from_secs(2))).await;
    let client = server.bedrock();
    job_request(&client, "to-stop", "never")
        .send()
        .await
        .unwrap();
    client
        .stop_model_customization_job()
        .job_identifier("to-stop")
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_of(&client, "to-stop").await,
        ModelCustomizationJobStatus::Stopping
    );
    eventually(WAIT, || async {
        (status_of(&client, "to-stop").await == ModelCustomizationJobStatus::Stopped).then_some(())
    })
    .await;
    let out = client
        .get_model_customization_job()
        .job_identifier("to-stop")
        .send()
        .await
        .unwrap();
    assert!(out.end_time().is_some());
    assert!(out.output_model_arn().is_none());
    // A stopped job never produces its model.
    assert!(client
        .list_custom_models()
        .send()
        .await
        .unwrap()
        .model_summaries()
        .is_empty());
}

#[tokio::test]
async fn a_job_that_is_not_running_cannot_be_stopped() {
    let server = support::start_with(config_with_work(Duration::ZERO)).await;
    let client = server.bedrock();
    job_request(&client, "instant", "instant-model")
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_of(&client, "instant").await,
        ModelCustomizationJobStatus::Completed
    );
    let err = client
        .stop_model_customization_job()
        .job_identifier("instant")
        .send()
        .await
        .unwrap_err();
    let f = failure(err);
    assert_eq!(f.code, "ValidationException");
    assert!(f.message.contains("Completed"), "{}", f.message);
}

#[tokio::test]
async fn missing_required_members_are_reported_together() {
    let server = support::start().await;
    let err = server
        .bedrock()
        .create_model_customization_job()
        .job_name("incomplete")
        .send()
        .await
        .unwrap_err();
    let f = failure(err);
    assert_eq!((f.status, f.code.as_str()), (400, "ValidationException"));
    assert!(
        f.message.starts_with("5 validation errors detected"),
        "{}",
        f.message
    );
    for member in [
        "customModelName",
        "roleArn",
        "baseModelIdentifier",
        "trainingDataConfig",
        "outputDataConfig",
    ] {
        assert!(
            f.message.contains(&format!("Value null at '{member}'")),
            "{member}: {}",
            f.message
        );
    }
}

#[tokio::test]
async fn uris_must_be_s3_and_roles_must_be_iam_role_arns() {
    let server = support::start().await;
    let client = server.bedrock();
    let err = job_request(&client, "bad-uris", "m")
        .role_arn("BedrockRole")
        .training_data_config(
            TrainingDataConfig::builder()
                .s3_uri("https://example.com/train.jsonl")
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    let f = failure(err);
    assert!(
        f.message.starts_with("2 validation errors detected"),
        "{}",
        f.message
    );
    assert!(f.message.contains("Value 'BedrockRole' at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+"), "{}", f.message);
    assert!(
        f.message.contains("at 'trainingDataConfig.s3Uri'"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn job_names_must_match_the_models_pattern() {
    let server = support::start().await;
    let err = job_request(&server.bedrock(), "not valid!", "m")
        .send()
        .await
        .unwrap_err();
    let f = failure(err);
    assert!(
        f.message.contains("Value 'not valid!' at 'jobName'"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn a_duplicate_job_name_is_refused_as_bedrock_does() {
    let server = support::start().await;
    let client = server.bedrock();
    job_request(&client, "same-name", "model-a")
        .send()
        .await
        .unwrap();
    let err = job_request(&client, "same-name", "model-b")
        .send()
        .await
        .unwrap_err();
    let f = failure(err);
    assert_eq!(
        (f.code.as_str(), f.message.as_str()),
        (
            "ValidationException",
            "The provided job name is currently in use."
        )
    );
}

#[tokio::test]
async fn a_custom_model_name_in_use_is_refused() {
    let server = support::start().await;
    let client = server.bedrock();
    job_request(&client, "job-a", "shared-model")
        .send()
        .await
        .unwrap();
    let err = job_request(&client, "job-b", "shared-model")
        .send()
        .await
        .unwrap_err();
    assert!(failure(err)
        .message
        .contains("custom model name is currently in use"));
}

#[tokio::test]
async fn base_models_must_exist_and_support_the_customization() {
    let server = support::start().await;
    let client = server.bedrock();
    let unknown = job_request(&client, "unknown-base", "m1")
        .base_model_identifier("acme.unknown-v1:0")
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(unknown).code, "ResourceNotFoundException");
    let fixed = job_request(&client, "fixed-base", "m2")
        .base_model_identifier("anthropic.claude-sonnet-4-20250514-v1:0")
        .send()
        .await
        .unwrap_err();
    let f = failure(fixed);
    assert_eq!(f.code, "ValidationException");
    assert!(
        f.message
            .contains("does not support the customization type FINE_TUNING"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn jobs_are_listed_newest_first_and_filtered() {
    let server = support::start_with(config_with_work(Duration::from_secs(60))).await;
    let client = server.bedrock();
    for name in ["alpha-1", "beta-1", "alpha-2"] {
        job_request(&client, name, &format!("{name}-model"))
            .send()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    client
        .stop_model_customization_job()
        .job_identifier("beta-1")
        .send()
        .await
        .unwrap();
    let all = client.list_model_customization_jobs().send().await.unwrap();
    let names: Vec<&str> = all
        .model_customization_job_summaries()
        .iter()
        .map(|j| j.job_name())
        .collect();
    assert_eq!(names, ["alpha-2", "beta-1", "alpha-1"]);
    let alpha = client
        .list_model_customization_jobs()
        .name_contains("ALPHA")
        .sort_order(SortOrder::Ascending)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = alpha
        .model_customization_job_summaries()
        .iter()
        .map(|j| j.job_name())
        .collect();
    assert_eq!(names, ["alpha-1", "alpha-2"]);
    let stopping = client
        .list_model_customization_jobs()
        .status_equals(FineTuningJobStatus::Stopping)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = stopping
        .model_customization_job_summaries()
        .iter()
        .map(|j| j.job_name())
        .collect();
    assert_eq!(names, ["beta-1"]);
    let summary = &all.model_customization_job_summaries()[0];
    assert_eq!(summary.custom_model_name(), Some("alpha-2-model"));
    assert!(summary
        .base_model_arn()
        .contains("foundation-model/amazon.titan-text-express-v1:0:8k"));
}

#[tokio::test]
async fn creation_time_filters_bound_the_list() {
    let server = support::start().await;
    let client = server.bedrock();
    job_request(&client, "old-job", "old-model")
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let cut = DateTime::from(std::time::SystemTime::now());
    tokio::time::sleep(Duration::from_millis(20)).await;
    job_request(&client, "new-job", "new-model")
        .send()
        .await
        .unwrap();
    let after = client
        .list_model_customization_jobs()
        .creation_time_after(cut)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = after
        .model_customization_job_summaries()
        .iter()
        .map(|j| j.job_name())
        .collect();
    assert_eq!(names, ["new-job"]);
    let before = client
        .list_model_customization_jobs()
        .creation_time_before(cut)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = before
        .model_customization_job_summaries()
        .iter()
        .map(|j| j.job_name())
        .collect();
    assert_eq!(names, ["old-job"]);
}

#[tokio::test]
async fn the_job_paginator_returns_every_job_once() {
    let server = support::start().await;
    let client = server.bedrock();
    for i in 0..5 {
        job_request(&client, &format!("job-{i}"), &format!("model-{i}"))
            .send()
            .await
            .unwrap();
    }
    let pages: Vec<_> = client
        .list_model_customization_jobs()
        .max_results(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(
        pages
            .iter()
            .map(|p| p.model_customization_job_summaries().len())
            .collect::<Vec<_>>(),
        [2, 2, 1]
    );
    let mut names: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.model_customization_job_summaries())
        .map(|j| j.job_name())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["job-0", "job-1", "job-2", "job-3", "job-4"]);
}

#[tokio::test]
async fn custom_models_are_filtered_paginated_and_deleted() {
    let server = support::start_with(config_with_work(Duration::ZERO)).await;
    let client = server.bedrock();
    for name in ["support-bot", "sales-bot", "support-faq"] {
        job_request(&client, &format!("{name}-job"), name)
            .send()
            .await
            .unwrap();
    }
    let support_models = client
        .list_custom_models()
        .name_contains("support")
        .send()
        .await
        .unwrap();
    assert_eq!(support_models.model_summaries().len(), 2);
    let by_base = client
        .list_custom_models()
        .foundation_model_arn_equals(
            "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(by_base.model_summaries().len(), 3);
    let pages: Vec<_> = client
        .list_custom_models()
        .max_results(1)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    client
        .delete_custom_model()
        .model_identifier("sales-bot")
        .send()
        .await
        .unwrap();
    let gone = client
        .get_custom_model()
        .model_identifier("sales-bot")
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(gone).code, "ResourceNotFoundException");
    assert_eq!(
        client
            .list_custom_models()
            .send()
            .await
            .unwrap()
            .model_summaries()
            .len(),
        2
    );
}

#[tokio::test]
async fn create_time_tags_land_on_the_job_and_on_its_model() {
    let server = support::start_with(config_with_work(Duration::ZERO)).await;
    let client = server.bedrock();
    let job_arn = job_request(&client, "tagged-job", "tagged-model")
        .job_tags(tag("stage", "training"))
        .custom_model_tags(tag("owner", "ml-team"))
        .send()
        .await
        .unwrap()
        .job_arn()
        .to_string();
    let job_tags = client
        .list_tags_for_resource()
        .resource_arn(&job_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(job_tags.tags(), [tag("stage", "training")]);
    let model_arn = client
        .get_model_customization_job()
        .job_identifier(&job_arn)
        .send()
        .await
        .unwrap()
        .output_model_arn()
        .unwrap()
        .to_string();
    let model_tags = client
        .list_tags_for_resource()
        .resource_arn(model_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(model_tags.tags(), [tag("owner", "ml-team")]);
}
