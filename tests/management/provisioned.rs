//! Provisioned throughput: Creating → InService, updates, lookups by name or ARN, filters, deletion.

use super::{config_with_work, eventually, failure, job_request, tag};
use crate::support;
use aws_sdk_bedrock::types::{CommitmentDuration, ProvisionedModelStatus};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);
const HAIKU_200K: &str = "anthropic.claude-3-haiku-20240307-v1:0:200k";

async fn status(client: &aws_sdk_bedrock::Client, id: &str) -> ProvisionedModelStatus {
    let out = client
        .get_provisioned_model_throughput()
        .provisioned_model_id(id)
        .send()
        .await
        .unwrap();
    out.status().clone()
}

#[tokio::test]
async fn provisioned_throughput_is_creating_then_in_service() {
    let server = support::start_with(config_with_work(Duration::from_secs(1))).await;
    let client = server.bedrock();
    let created = client
        .create_provisioned_model_throughput()
        .provisioned_model_name("haiku-pt")
        .model_id(HAIKU_200K)
        .model_units(2)
        .commitment_duration(CommitmentDuration::OneMonth)
        .tags(tag("cost-center", "42"))
        .send()
        .await
        .unwrap();
    let arn = created.provisioned_model_arn();
    assert!(
        arn.starts_with("arn:aws:bedrock:us-east-1:000000000000:provisioned-model/"),
        "{arn}"
    );
    let got = client
        .get_provisioned_model_throughput()
        .provisioned_model_id(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), &ProvisionedModelStatus::Creating);
    assert_eq!(got.model_units(), 2);
    assert_eq!(got.provisioned_model_name(), "haiku-pt");
    assert_eq!(
        got.foundation_model_arn(),
        format!("arn:aws:bedrock:us-east-1::foundation-model/{HAIKU_200K}")
    );
    assert!(got.commitment_expiration_time().unwrap() > got.creation_time());
    eventually(WAIT, || async {
        (status(&client, "haiku-pt").await == ProvisionedModelStatus::InService).then_some(())
    })
    .await;
    let tags = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags(), [tag("cost-center", "42")]);
}

#[tokio::test]
async fn updating_the_model_goes_through_updating() {
    let server = support::start_with(config_with_work(Duration::from_secs(1))).await;
    let client = server.bedrock();
    client
        .create_provisioned_model_throughput()
        .provisioned_model_name("pt")
        .model_id(HAIKU_200K)
        .model_units(1)
        .send()
        .await
        .unwrap();
    eventually(WAIT, || async {
        (status(&client, "pt").await == ProvisionedModelStatus::InService).then_some(())
    })
    .await;
    client
        .update_provisioned_model_throughput()
        .provisioned_model_id("pt")
        .desired_provisioned_model_name("pt-renamed")
        .desired_model_id("anthropic.claude-3-haiku-20240307-v1:0:48k")
        .send()
        .await
        .unwrap();
    let updating = client
        .get_provisioned_model_throughput()
        .provisioned_model_id("pt-renamed")
        .send()
        .await
        .unwrap();
    assert_eq!(updating.status(), &ProvisionedModelStatus::Updating);
    assert!(updating.desired_model_arn().ends_with(":48k"));
    assert!(updating.model_arn().ends_with(":200k"));
    let done = eventually(WAIT, || async {
        let out = client
            .get_provisioned_model_throughput()
            .provisioned_model_id("pt-renamed")
            .send()
            .await
            .unwrap();
        (out.status() == &ProvisionedModelStatus::InService).then_some(out)
    })
    .await;
    assert!(done.model_arn().ends_with(":48k"));
}

#[tokio::test]
async fn a_custom_model_can_be_provisioned() {
    let server = support::start_with(config_with_work(Duration::ZERO)).await;
    let client = server.bedrock();
    job_request(&client, "job", "my-model")
        .send()
        .await
        .unwrap();
    let custom_arn = client
        .get_custom_model()
        .model_identifier("my-model")
        .send()
        .await
        .unwrap()
        .model_arn()
        .to_string();
    client
        .create_provisioned_model_throughput()
        .provisioned_model_name("custom-pt")
        .model_id(&custom_arn)
        .model_units(1)
        .send()
        .await
        .unwrap();
    let got = client
        .get_provisioned_model_throughput()
        .provisioned_model_id("custom-pt")
        .send()
        .await
        .unwrap();
    assert_eq!(got.model_arn(), custom_arn);
    assert!(got
        .foundation_model_arn()
        .ends_with("foundation-model/amazon.titan-text-express-v1:0:8k"));
    // A model in use by provisioned throughput cannot be deleted.
    let err = client
        .delete_custom_model()
        .model_identifier(&custom_arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(err).code, "ConflictException");
}

#[tokio::test]
async fn models_without_provisioned_throughput_are_refused_and_unknown_ones_not_found() {
    let server = support::start().await;
    let client = server.bedrock();
    let unsupported = client
        .create_provisioned_model_throughput()
        .provisioned_model_name("nope")
        .model_id("anthropic.claude-sonnet-4-20250514-v1:0")
        .model_units(1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(unsupported).code, "ValidationException");
    let unknown = client
        .create_provisioned_model_throughput()
        .provisioned_model_name("nope")
        .model_id("acme.nothing-v1:0")
        .model_units(1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(unknown).code, "ResourceNotFoundException");
    let zero = client
        .create_provisioned_model_throughput()
        .provisioned_model_name("zero")
        .model_id(HAIKU_200K)
        .model_units(0)
        .send()
        .await
        .unwrap_err();
    let f = failure(zero);
    assert!(f.message.contains("Value '0' at 'modelUnits' failed to satisfy constraint: Member must have value greater than or equal to 1"), "{}", f.message);
}

#[tokio::test]
async fn throughputs_are_listed_filtered_and_paginated() {
    let server = support::start_with(config_with_work(Duration::from_secs(60))).await;
    let client = server.bedrock();
    for name in ["prod-a", "prod-b", "dev-a"] {
        client
            .create_provisioned_model_throughput()
            .provisioned_model_name(name)
            .model_id(HAIKU_200K)
            .model_units(1)
            .send()
            .await
            .unwrap();
    }
    let prod = client
        .list_provisioned_model_throughputs()
        .name_contains("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(prod.provisioned_model_summaries().len(), 2);
    let creating = client
        .list_provisioned_model_throughputs()
        .status_equals(ProvisionedModelStatus::Creating)
        .send()
        .await
        .unwrap();
    assert_eq!(creating.provisioned_model_summaries().len(), 3);
    let first = client
        .list_provisioned_model_throughputs()
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.provisioned_model_summaries().len(), 2);
    let rest = client
        .list_provisioned_model_throughputs()
        .max_results(2)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.provisioned_model_summaries().len(), 1);
    assert!(rest.next_token().is_none());
}

#[tokio::test]
async fn deleted_throughput_is_gone() {
    let server = support::start().await;
    let client = server.bedrock();
    client
        .create_provisioned_model_throughput()
        .provisioned_model_name("short-lived")
        .model_id(HAIKU_200K)
        .model_units(1)
        .send()
        .await
        .unwrap();
    client
        .delete_provisioned_model_throughput()
        .provisioned_model_id("short-lived")
        .send()
        .await
        .unwrap();
    let err = client
        .get_provisioned_model_throughput()
        .provisioned_model_id("short-lived")
        .send()
        .await
        .unwrap_err();
    let f = failure(err);
    assert_eq!(
        (f.status, f.code.as_str()),
        (404, "ResourceNotFoundException")
    );
}
