//! ListFoundationModels and GetFoundationModel: the built-in catalog, its filters and lookups.

use super::failure;
use crate::support;
use aws_sdk_bedrock::types::{
    FoundationModelLifecycleStatus, InferenceType, ModelCustomization, ModelModality,
};

const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";

#[tokio::test]
async fn lists_a_catalog_of_real_models_with_every_summary_field() {
    let server = support::start().await;
    let out = server
        .bedrock()
        .list_foundation_models()
        .send()
        .await
        .unwrap();
    let models = out.model_summaries();
    assert!(models.len() >= 60, "{} models", models.len());
    let haiku = models.iter().find(|m| m.model_id() == HAIKU).unwrap();
    assert_eq!(
        haiku.model_arn(),
        format!("arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}")
    );
    assert_eq!(haiku.model_name(), Some("Claude 3 Haiku"));
    assert_eq!(haiku.provider_name(), Some("Anthropic"));
    assert_eq!(
        haiku.input_modalities(),
        [ModelModality::Text, ModelModality::Image]
    );
    assert_eq!(haiku.output_modalities(), [ModelModality::Text]);
    assert_eq!(haiku.response_streaming_supported(), Some(true));
    assert_eq!(haiku.inference_types_supported(), [InferenceType::OnDemand]);
    assert_eq!(
        haiku.model_lifecycle().unwrap().status(),
        &FoundationModelLifecycleStatus::Active
    );
    for id in [
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "amazon.nova-pro-v1:0",
        "meta.llama3-1-70b-instruct-v1:0",
        "mistral.mistral-large-2407-v1:0",
        "cohere.command-r-plus-v1:0",
        "ai21.jamba-1-5-large-v1:0",
        "deepseek.r1-v1:0",
        "openai.gpt-oss-120b-1:0",
        "amazon.titan-embed-text-v2:0",
    ] {
        assert!(models.iter().any(|m| m.model_id() == id), "{id} missing");
    }
}

#[tokio::test]
async fn filters_by_provider_ignoring_case_and_by_output_modality() {
    let server = support::start().await;
    let out = server
        .bedrock()
        .list_foundation_models()
        .by_provider("cohere")
        .by_output_modality(ModelModality::Embedding)
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = out.model_summaries().iter().map(|m| m.model_id()).collect();
    assert!(ids.contains(&"cohere.embed-english-v3"), "{ids:?}");
    assert!(ids.contains(&"cohere.embed-multilingual-v3"), "{ids:?}");
    assert!(!ids.contains(&"cohere.command-r-v1:0"), "{ids:?}");
    assert!(out
        .model_summaries()
        .iter()
        .all(|m| m.provider_name() == Some("Cohere")));
}

#[tokio::test]
async fn filters_by_customization_and_inference_type() {
    let server = support::start().await;
    let client = server.bedrock();
    let tunable = client
        .list_foundation_models()
        .by_customization_type(ModelCustomization::FineTuning)
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = tunable
        .model_summaries()
        .iter()
        .map(|m| m.model_id())
        .collect();
    assert!(
        ids.contains(&"amazon.titan-text-express-v1:0:8k"),
        "{ids:?}"
    );
    assert!(
        !ids.contains(&"anthropic.claude-sonnet-4-20250514-v1:0"),
        "{ids:?}"
    );
    let provisioned = client
        .list_foundation_models()
        .by_inference_type(InferenceType::Provisioned)
        .send()
        .await
        .unwrap();
    assert!(!provisioned.model_summaries().is_empty());
    assert!(provisioned.model_summaries().iter().all(|m| m
        .inference_types_supported()
        .contains(&InferenceType::Provisioned)));
}

#[tokio::test]
async fn an_unknown_filter_value_is_a_validation_error_naming_the_filter() {
    let server = support::start().await;
    let err = server
        .bedrock()
        .list_foundation_models()
        .by_output_modality(ModelModality::from("AUDIO"))
        .send()
        .await
        .unwrap_err();
    let f = failure(err);
    assert_eq!((f.status, f.code.as_str()), (400, "ValidationException"));
    assert!(
        f.message.contains("'AUDIO' at 'byOutputModality'"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn gets_a_model_by_id_or_by_arn() {
    let server = support::start().await;
    let client = server.bedrock();
    let by_id = client
        .get_foundation_model()
        .model_identifier("amazon.nova-pro-v1:0")
        .send()
        .await
        .unwrap();
    let details = by_id.model_details().unwrap();
    assert_eq!(details.model_name(), Some("Nova Pro"));
    assert_eq!(details.provider_name(), Some("Amazon"));
    let arn = "arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-pro-v1:0";
    let by_arn = client
        .get_foundation_model()
        .model_identifier(arn)
        .send()
        .await
        .unwrap();
    // The answer describes the model in the caller's region.
    assert_eq!(
        by_arn.model_details().unwrap().model_arn(),
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0"
    );
}

#[tokio::test]
async fn an_unknown_model_is_resource_not_found() {
    let server = support::start().await;
    let err = server
        .bedrock()
        .get_foundation_model()
        .model_identifier("anthropic.claude-99-v1:0")
        .send()
        .await
        .unwrap_err();
    let f = failure(err);
    assert_eq!(
        (f.status, f.code.as_str()),
        (404, "ResourceNotFoundException")
    );
    assert!(
        f.message.contains("anthropic.claude-99-v1:0"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn model_arns_carry_the_callers_region() {
    let server = support::start().await;
    let out = server
        .bedrock_in("eu-west-1")
        .list_foundation_models()
        .send()
        .await
        .unwrap();
    assert!(out.model_summaries().iter().all(|m| m
        .model_arn()
        .starts_with("arn:aws:bedrock:eu-west-1::foundation-model/")));
}

#[tokio::test]
async fn legacy_and_profile_only_models_say_so() {
    let server = support::start().await;
    let client = server.bedrock();
    let v2 = client
        .get_foundation_model()
        .model_identifier("anthropic.claude-v2")
        .send()
        .await
        .unwrap();
    assert_eq!(
        v2.model_details()
            .unwrap()
            .model_lifecycle()
            .unwrap()
            .status(),
        &FoundationModelLifecycleStatus::Legacy
    );
    let sonnet4 = client
        .get_foundation_model()
        .model_identifier("anthropic.claude-sonnet-4-20250514-v1:0")
        .send()
        .await
        .unwrap();
    assert_eq!(
        sonnet4.model_details().unwrap().inference_types_supported(),
        [InferenceType::from("INFERENCE_PROFILE")]
    );
}
