//! State is kept per region and per server: ARNs name the caller's region and account, other regions
//! do not see a resource, and `POST /_awsim/reset` forgets everything.

use super::{failure, job_request};
use crate::support;
use awsim::Config;

#[tokio::test]
async fn a_guardrail_created_in_eu_west_1_lives_only_there() {
    let server = support::start().await;
    let eu = server.bedrock_in("eu-west-1");
    let us = server.bedrock();
    let created = eu
        .create_guardrail()
        .name("european")
        .blocked_input_messaging("no")
        .blocked_outputs_messaging("no")
        .send()
        .await
        .unwrap();
    assert!(created
        .guardrail_arn()
        .starts_with("arn:aws:bedrock:eu-west-1:000000000000:guardrail/"));
    assert_eq!(
        eu.list_guardrails()
            .send()
            .await
            .unwrap()
            .guardrails()
            .len(),
        1
    );
    assert!(us
        .list_guardrails()
        .send()
        .await
        .unwrap()
        .guardrails()
        .is_empty());
    let err = us
        .get_guardrail()
        .guardrail_identifier(created.guardrail_id())
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(err).code, "ResourceNotFoundException");
    let err = us
        .list_tags_for_resource()
        .resource_arn(created.guardrail_arn())
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(err).code, "ResourceNotFoundException");
}

#[tokio::test]
async fn jobs_and_their_names_are_per_region() {
    let server = support::start().await;
    let eu = server.bedrock_in("eu-central-1");
    let us = server.bedrock();
    let eu_arn = job_request(&eu, "same-name", "model")
        .send()
        .await
        .unwrap()
        .job_arn()
        .to_string();
    assert!(
        eu_arn.starts_with("arn:aws:bedrock:eu-central-1:"),
        "{eu_arn}"
    );
    // The same name is free in another region.
    let us_arn = job_request(&us, "same-name", "model")
        .send()
        .await
        .unwrap()
        .job_arn()
        .to_string();
    assert!(us_arn.starts_with("arn:aws:bedrock:us-east-1:"), "{us_arn}");
    let eu_job = eu
        .get_model_customization_job()
        .job_identifier("same-name")
        .send()
        .await
        .unwrap();
    assert_eq!(eu_job.job_arn(), eu_arn);
    assert!(eu_job
        .base_model_arn()
        .starts_with("arn:aws:bedrock:eu-central-1::foundation-model/"));
}

#[tokio::test]
async fn arns_carry_the_configured_account() {
    let server = support::start_with(Config {
        account_id: "123456789012".into(),
        ..Config::default()
    })
    .await;
    let created = server
        .bedrock_in("ap-southeast-2")
        .create_guardrail()
        .name("accounted")
        .blocked_input_messaging("no")
        .blocked_outputs_messaging("no")
        .send()
        .await
        .unwrap();
    assert!(created
        .guardrail_arn()
        .starts_with("arn:aws:bedrock:ap-southeast-2:123456789012:guardrail/"));
}

#[tokio::test]
async fn reset_forgets_every_region() {
    let server = support::start().await;
    for region in ["us-east-1", "eu-west-1"] {
        server
            .bedrock_in(region)
            .create_guardrail()
            .name("temporary")
            .blocked_input_messaging("no")
            .blocked_outputs_messaging("no")
            .send()
            .await
            .unwrap();
    }
    let resp = server
        .http()
        .post(server.at("/_awsim/reset"))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    for region in ["us-east-1", "eu-west-1"] {
        let out = server
            .bedrock_in(region)
            .list_guardrails()
            .send()
            .await
            .unwrap();
        assert!(out.guardrails().is_empty(), "{region}");
    }
}

#[tokio::test]
async fn the_runtime_resolves_an_application_profile_in_its_own_region() {
    let server = support::start().await;
    let created = server
        .bedrock_in("eu-west-1")
        .create_inference_profile()
        .inference_profile_name("eu-app")
        .model_source(
            aws_sdk_bedrock::types::InferenceProfileModelSource::CopyFrom(
                "arn:aws:bedrock:eu-west-1:000000000000:inference-profile/eu.amazon.nova-pro-v1:0"
                    .into(),
            ),
        )
        .send()
        .await
        .unwrap();
    let arn = created.inference_profile_arn();
    let resolved = server
        .app
        .store
        .resolve_model("us-east-1", "000000000000", arn)
        .unwrap();
    assert_eq!(resolved.id, "amazon.nova-pro-v1:0");
    assert_eq!(
        resolved.via,
        [arn, "eu.amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0"]
    );
}
