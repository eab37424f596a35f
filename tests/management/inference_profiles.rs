//! Inference profiles: the system-defined cross-region ones from the catalog, and application
//! profiles created, read, listed, paginated and deleted through the SDK.

use super::{failure, tag};
use crate::support;
use aws_sdk_bedrock::types::{
    InferenceProfileModelSource, InferenceProfileStatus, InferenceProfileType,
};

const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";

#[tokio::test]
async fn us_callers_see_us_and_global_system_profiles() {
    let server = support::start().await;
    let out = server
        .bedrock()
        .list_inference_profiles()
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = out
        .inference_profile_summaries()
        .iter()
        .map(|p| p.inference_profile_id())
        .collect();
    assert!(
        ids.contains(&"us.anthropic.claude-3-haiku-20240307-v1:0"),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"global.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        "{ids:?}"
    );
    assert!(
        ids.iter()
            .all(|id| id.starts_with("us.") || id.starts_with("global.")),
        "{ids:?}"
    );
    let haiku = out
        .inference_profile_summaries()
        .iter()
        .find(|p| p.inference_profile_id() == format!("us.{HAIKU}"))
        .unwrap();
    assert_eq!(
        haiku.inference_profile_name(),
        "US Anthropic Claude 3 Haiku"
    );
    assert_eq!(haiku.r#type(), &InferenceProfileType::SystemDefined);
    assert_eq!(haiku.status(), &InferenceProfileStatus::Active);
    assert_eq!(
        haiku.inference_profile_arn(),
        format!("arn:aws:bedrock:us-east-1:000000000000:inference-profile/us.{HAIKU}")
    );
    let regions: Vec<&str> = haiku
        .models()
        .iter()
        .map(|m| m.model_arn().unwrap().split(':').nth(3).unwrap())
        .collect();
    assert_eq!(regions, ["us-east-1", "us-east-2", "us-west-2"]);
}

#[tokio::test]
async fn eu_callers_see_eu_profiles_with_their_region_in_the_arn() {
    let server = support::start().await;
    let out = server
        .bedrock_in("eu-west-1")
        .list_inference_profiles()
        .send()
        .await
        .unwrap();
    let profiles = out.inference_profile_summaries();
    assert!(profiles
        .iter()
        .any(|p| p.inference_profile_id() == format!("eu.{HAIKU}")));
    assert!(profiles
        .iter()
        .all(|p| !p.inference_profile_id().starts_with("us.")));
    assert!(profiles.iter().all(|p| p
        .inference_profile_arn()
        .starts_with("arn:aws:bedrock:eu-west-1:")));
}

#[tokio::test]
async fn the_paginator_walks_every_system_profile_once() {
    let server = support::start().await;
    let client = server.bedrock();
    let all = client.list_inference_profiles().send().await.unwrap();
    assert!(all.next_token().is_none());
    let pages: Vec<_> = client
        .list_inference_profiles()
        .max_results(7)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert!(pages.len() > 2);
    assert!(pages
        .iter()
        .all(|p| p.inference_profile_summaries().len() <= 7));
    let paged: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.inference_profile_summaries())
        .map(|p| p.inference_profile_id())
        .collect();
    let once: Vec<&str> = all
        .inference_profile_summaries()
        .iter()
        .map(|p| p.inference_profile_id())
        .collect();
    assert_eq!(paged, once);
}

#[tokio::test]
async fn a_made_up_next_token_is_a_validation_error() {
    let server = support::start().await;
    let err = server
        .bedrock()
        .list_inference_profiles()
        .next_token("bm90LWEtdG9rZW4")
        .send()
        .await
        .unwrap_err();
    let f = failure(err);
    assert_eq!((f.status, f.code.as_str()), (400, "ValidationException"));
    assert!(f.message.contains("nextToken"), "{}", f.message);
}

#[tokio::test]
async fn max_results_outside_one_to_a_thousand_is_refused() {
    let server = support::start().await;
    let err = server
        .bedrock()
        .list_inference_profiles()
        .max_results(0)
        .send()
        .await
        .unwrap_err();
    let f = failure(err);
    assert_eq!(f.code, "ValidationException");
    assert!(f.message.contains("'maxResults'"), "{}", f.message);
}

#[tokio::test]
async fn gets_a_system_profile_by_id_or_by_arn() {
    let server = support::start().await;
    let client = server.bedrock();
    let by_id = client
        .get_inference_profile()
        .inference_profile_identifier(format!("us.{HAIKU}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_id.models().len(), 3);
    let by_arn = client
        .get_inference_profile()
        .inference_profile_identifier(by_id.inference_profile_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(by_arn.inference_profile_id(), format!("us.{HAIKU}"));
    assert!(by_arn.description().unwrap().contains("Claude 3 Haiku"));
}

#[tokio::test]
async fn a_profile_the_catalog_does_not_list_is_not_found() {
    let server = support::start().await;
    let err = server
        .bedrock()
        .get_inference_profile()
        .inference_profile_identifier(format!("global.{HAIKU}"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(err).code, "ResourceNotFoundException");
}

#[tokio::test]
async fn an_application_profile_copies_a_foundation_model() {
    let server = support::start().await;
    let client = server.bedrock();
    let model_arn = format!("arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}");
    let created = client
        .create_inference_profile()
        .inference_profile_name("team-a haiku")
        .description("Chargeback for team A")
        .model_source(InferenceProfileModelSource::CopyFrom(model_arn.clone()))
        .tags(tag("team", "a"))
        .send()
        .await
        .unwrap();
    let arn = created.inference_profile_arn();
    assert!(
        arn.starts_with("arn:aws:bedrock:us-east-1:000000000000:application-inference-profile/"),
        "{arn}"
    );
    assert_eq!(created.status(), Some(&InferenceProfileStatus::Active));
    let got = client
        .get_inference_profile()
        .inference_profile_identifier(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.inference_profile_name(), "team-a haiku");
    assert_eq!(got.r#type(), &InferenceProfileType::Application);
    assert_eq!(got.models()[0].model_arn(), Some(model_arn.as_str()));
    assert_eq!(got.inference_profile_id().len(), 12);
    // By its short id as well.
    let by_id = client
        .get_inference_profile()
        .inference_profile_identifier(got.inference_profile_id())
        .send()
        .await
        .unwrap();
    assert_eq!(by_id.inference_profile_arn(), arn);
}

#[tokio::test]
async fn an_application_profile_copies_a_system_profiles_regions() {
    let server = support::start().await;
    let client = server.bedrock();
    let system_arn = format!("arn:aws:bedrock:us-east-1:000000000000:inference-profile/us.{HAIKU}");
    let created = client
        .create_inference_profile()
        .inference_profile_name("cross-region")
        .model_source(InferenceProfileModelSource::CopyFrom(system_arn))
        .send()
        .await
        .unwrap();
    let got = client
        .get_inference_profile()
        .inference_profile_identifier(created.inference_profile_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(got.models().len(), 3);
}

#[tokio::test]
async fn application_profiles_are_listed_only_when_asked_for() {
    let server = support::start().await;
    let client = server.bedrock();
    for name in ["p1", "p2", "p3"] {
        client
            .create_inference_profile()
            .inference_profile_name(name)
            .model_source(InferenceProfileModelSource::CopyFrom(format!(
                "arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"
            )))
            .send()
            .await
            .unwrap();
    }
    let default = client.list_inference_profiles().send().await.unwrap();
    assert!(default
        .inference_profile_summaries()
        .iter()
        .all(|p| p.r#type() == &InferenceProfileType::SystemDefined));
    let first = client
        .list_inference_profiles()
        .type_equals(InferenceProfileType::Application)
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.inference_profile_summaries().len(), 2);
    let rest = client
        .list_inference_profiles()
        .type_equals(InferenceProfileType::Application)
        .max_results(2)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = first
        .inference_profile_summaries()
        .iter()
        .chain(rest.inference_profile_summaries())
        .map(|p| p.inference_profile_name())
        .collect();
    assert_eq!(names, ["p1", "p2", "p3"]);
    assert!(rest.next_token().is_none());
}

#[tokio::test]
async fn copying_an_unknown_model_is_not_found() {
    let server = support::start().await;
    let err = server
        .bedrock()
        .create_inference_profile()
        .inference_profile_name("nope")
        .model_source(InferenceProfileModelSource::CopyFrom(
            "arn:aws:bedrock:us-east-1::foundation-model/acme.unknown-v1:0".into(),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(err).code, "ResourceNotFoundException");
}

#[tokio::test]
async fn profile_names_are_validated_and_unique() {
    let server = support::start().await;
    let client = server.bedrock();
    let source = || {
        InferenceProfileModelSource::CopyFrom(format!(
            "arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"
        ))
    };
    let bad = client
        .create_inference_profile()
        .inference_profile_name("bad/name")
        .model_source(source())
        .send()
        .await
        .unwrap_err();
    let f = failure(bad);
    assert!(
        f.message.contains("'bad/name' at 'inferenceProfileName'"),
        "{}",
        f.message
    );
    client
        .create_inference_profile()
        .inference_profile_name("same")
        .model_source(source())
        .send()
        .await
        .unwrap();
    let dup = client
        .create_inference_profile()
        .inference_profile_name("same")
        .model_source(source())
        .send()
        .await
        .unwrap_err();
    let f = failure(dup);
    assert_eq!((f.status, f.code.as_str()), (400, "ConflictException"));
}

#[tokio::test]
async fn application_profiles_can_be_deleted_system_profiles_cannot() {
    let server = support::start().await;
    let client = server.bedrock();
    let created = client
        .create_inference_profile()
        .inference_profile_name("temporary")
        .model_source(InferenceProfileModelSource::CopyFrom(format!(
            "arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"
        )))
        .send()
        .await
        .unwrap();
    let arn = created.inference_profile_arn();
    client
        .delete_inference_profile()
        .inference_profile_identifier(arn)
        .send()
        .await
        .unwrap();
    let gone = client
        .get_inference_profile()
        .inference_profile_identifier(arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(gone).code, "ResourceNotFoundException");
    let system = client
        .delete_inference_profile()
        .inference_profile_identifier(format!("us.{HAIKU}"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(system).code, "ValidationException");
}
