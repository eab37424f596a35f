//! Tags through the SDK's `TagResource`/`UntagResource`/`ListTagsForResource` on every taggable
//! resource, with the limits and errors the real service has.

use super::{config_with_work, failure, job_request, tag};
use crate::support;
use aws_sdk_bedrock::types::InferenceProfileModelSource;
use aws_sdk_bedrock::Client;
use std::time::Duration;

/// One of each taggable resource; returns their ARNs.
async fn one_of_each(client: &Client) -> Vec<String> {
    let guardrail = client
        .create_guardrail()
        .name("tagged")
        .blocked_input_messaging("no")
        .blocked_outputs_messaging("no")
        .send()
        .await
        .unwrap()
        .guardrail_arn()
        .to_string();
    let job = job_request(client, "tag-job", "tag-model")
        .send()
        .await
        .unwrap()
        .job_arn()
        .to_string();
    let model = client
        .get_custom_model()
        .model_identifier("tag-model")
        .send()
        .await
        .unwrap()
        .model_arn()
        .to_string();
    let profile = client
        .create_inference_profile()
        .inference_profile_name("tagged-profile")
        .model_source(InferenceProfileModelSource::CopyFrom(
            "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0".into(),
        ))
        .send()
        .await
        .unwrap()
        .inference_profile_arn()
        .to_string();
    let throughput = client
        .create_provisioned_model_throughput()
        .provisioned_model_name("tagged-pt")
        .model_id("amazon.nova-lite-v1:0:300k")
        .model_units(1)
        .send()
        .await
        .unwrap()
        .provisioned_model_arn()
        .to_string();
    vec![guardrail, job, model, profile, throughput]
}

#[tokio::test]
async fn every_taggable_resource_round_trips_its_tags() {
    let server = support::start_with(config_with_work(Duration::ZERO)).await;
    let client = server.bedrock();
    for arn in one_of_each(&client).await {
        client
            .tag_resource()
            .resource_arn(&arn)
            .tags(tag("env", "test"))
            .tags(tag("owner", "me"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{arn}: {e:?}"));
        let listed = client
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(
            listed.tags(),
            [tag("env", "test"), tag("owner", "me")],
            "{arn}"
        );
        client
            .untag_resource()
            .resource_arn(&arn)
            .tag_keys("env")
            .send()
            .await
            .unwrap();
        let listed = client
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(listed.tags(), [tag("owner", "me")], "{arn}");
    }
}

#[tokio::test]
async fn tagging_an_existing_key_replaces_its_value() {
    let server = support::start().await;
    let client = server.bedrock();
    let arn = client
        .create_guardrail()
        .name("g")
        .blocked_input_messaging("no")
        .blocked_outputs_messaging("no")
        .tags(tag("env", "dev"))
        .send()
        .await
        .unwrap()
        .guardrail_arn()
        .to_string();
    client
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("env", "prod"))
        .send()
        .await
        .unwrap();
    let listed = client
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.tags(), [tag("env", "prod")]);
}

#[tokio::test]
async fn an_unknown_arn_is_resource_not_found() {
    let server = support::start().await;
    let arn = "arn:aws:bedrock:us-east-1:000000000000:guardrail/doesnotexist";
    let err = server
        .bedrock()
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap_err();
    let f = failure(err);
    assert_eq!(
        (f.status, f.code.as_str()),
        (404, "ResourceNotFoundException")
    );
    let err = server
        .bedrock()
        .tag_resource()
        .resource_arn(arn)
        .tags(tag("a", "b"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(err).code, "ResourceNotFoundException");
}

#[tokio::test]
async fn more_than_two_hundred_tags_is_too_many() {
    let server = support::start().await;
    let client = server.bedrock();
    let arn = client
        .create_guardrail()
        .name("crowded")
        .blocked_input_messaging("no")
        .blocked_outputs_messaging("no")
        .send()
        .await
        .unwrap()
        .guardrail_arn()
        .to_string();
    let hundred = |prefix: &str| {
        (0..100)
            .map(|i| tag(&format!("{prefix}{i}"), "v"))
            .collect::<Vec<_>>()
    };
    client
        .tag_resource()
        .resource_arn(&arn)
        .set_tags(Some(hundred("a")))
        .send()
        .await
        .unwrap();
    client
        .tag_resource()
        .resource_arn(&arn)
        .set_tags(Some(hundred("b")))
        .send()
        .await
        .unwrap();
    let err = client
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("one-more", "v"))
        .send()
        .await
        .unwrap_err();
    let service = err.into_service_error();
    let too_many = match service {
        aws_sdk_bedrock::operation::tag_resource::TagResourceError::TooManyTagsException(e) => e,
        other => panic!("expected TooManyTagsException, got {other:?}"),
    };
    assert_eq!(too_many.resource_name(), Some(arn.as_str()));
    // Nothing was applied.
    let listed = client
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.tags().len(), 200);
}

#[tokio::test]
async fn tag_keys_are_validated_and_the_aws_prefix_is_reserved() {
    let server = support::start().await;
    let client = server.bedrock();
    let arn = client
        .create_guardrail()
        .name("keys")
        .blocked_input_messaging("no")
        .blocked_outputs_messaging("no")
        .send()
        .await
        .unwrap()
        .guardrail_arn()
        .to_string();
    let bad = client
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("bad*key", "v"))
        .send()
        .await
        .unwrap_err();
    let f = failure(bad);
    assert!(
        f.message.contains("Value 'bad*key' at 'tags.1.member.key'"),
        "{}",
        f.message
    );
    let reserved = client
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("aws:owner", "v"))
        .send()
        .await
        .unwrap_err();
    assert!(failure(reserved).message.contains("aws:"));
}

#[tokio::test]
async fn deleting_a_resource_deletes_its_tags() {
    let server = support::start().await;
    let client = server.bedrock();
    let created = client
        .create_guardrail()
        .name("ephemeral")
        .blocked_input_messaging("no")
        .blocked_outputs_messaging("no")
        .tags(tag("k", "v"))
        .send()
        .await
        .unwrap();
    client
        .delete_guardrail()
        .guardrail_identifier(created.guardrail_id())
        .send()
        .await
        .unwrap();
    let err = client
        .list_tags_for_resource()
        .resource_arn(created.guardrail_arn())
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(err).code, "ResourceNotFoundException");
}
