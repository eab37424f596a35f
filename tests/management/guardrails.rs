//! Guardrails: every policy accepted and read back in the real read shape, the DRAFT and immutable
//! numbered versions, listing, updates, deletion and validation.

use super::{failure, tag};
use crate::support;
use aws_sdk_bedrock::types::{
    GuardrailContentFilterConfig, GuardrailContentFilterType, GuardrailContentPolicyConfig,
    GuardrailContextualGroundingFilterConfig, GuardrailContextualGroundingFilterType,
    GuardrailContextualGroundingPolicyConfig, GuardrailFilterStrength, GuardrailManagedWordsConfig,
    GuardrailManagedWordsType, GuardrailPiiEntityConfig, GuardrailPiiEntityType,
    GuardrailRegexConfig, GuardrailSensitiveInformationAction,
    GuardrailSensitiveInformationPolicyConfig, GuardrailStatus, GuardrailTopicAction,
    GuardrailTopicConfig, GuardrailTopicPolicyConfig, GuardrailTopicType, GuardrailWordConfig,
    GuardrailWordPolicyConfig,
};
use aws_sdk_bedrock::Client;

fn topics(name: &str) -> GuardrailTopicPolicyConfig {
    GuardrailTopicPolicyConfig::builder()
        .topics_config(
            GuardrailTopicConfig::builder()
                .name(name)
                .definition("Personalized financial or investment advice.")
                .examples("Which stocks should I buy?")
                .r#type(GuardrailTopicType::Deny)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

fn content() -> GuardrailContentPolicyConfig {
    let filter = |t: GuardrailContentFilterType, s: GuardrailFilterStrength| {
        let output = if t == GuardrailContentFilterType::PromptAttack {
            GuardrailFilterStrength::None
        } else {
            s.clone()
        };
        GuardrailContentFilterConfig::builder()
            .r#type(t)
            .input_strength(s)
            .output_strength(output)
            .build()
            .unwrap()
    };
    GuardrailContentPolicyConfig::builder()
        .filters_config(filter(
            GuardrailContentFilterType::Hate,
            GuardrailFilterStrength::High,
        ))
        .filters_config(filter(
            GuardrailContentFilterType::PromptAttack,
            GuardrailFilterStrength::Medium,
        ))
        .build()
        .unwrap()
}

/// A guardrail with every kind of policy; returns its id.
async fn create_full(client: &Client, name: &str) -> String {
    let out = client
        .create_guardrail()
        .name(name)
        .description("Blocks advice, hate, profanity and PII")
        .topic_policy_config(topics("Investment advice"))
        .content_policy_config(content())
        .word_policy_config(
            GuardrailWordPolicyConfig::builder()
                .words_config(
                    GuardrailWordConfig::builder()
                        .text("competitor-x")
                        .build()
                        .unwrap(),
                )
                .managed_word_lists_config(
                    GuardrailManagedWordsConfig::builder()
                        .r#type(GuardrailManagedWordsType::Profanity)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .sensitive_information_policy_config(
            GuardrailSensitiveInformationPolicyConfig::builder()
                .pii_entities_config(
                    GuardrailPiiEntityConfig::builder()
                        .r#type(GuardrailPiiEntityType::Email)
                        .action(GuardrailSensitiveInformationAction::Anonymize)
                        .build()
                        .unwrap(),
                )
                .regexes_config(
                    GuardrailRegexConfig::builder()
                        .name("order-id")
                        .pattern("ORD-[0-9]{6}")
                        .action(GuardrailSensitiveInformationAction::Block)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .contextual_grounding_policy_config(
            GuardrailContextualGroundingPolicyConfig::builder()
                .filters_config(
                    GuardrailContextualGroundingFilterConfig::builder()
                        .r#type(GuardrailContextualGroundingFilterType::Grounding)
                        .threshold(0.75)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .blocked_input_messaging("Sorry, I can't help with that.")
        .blocked_outputs_messaging("Sorry, I can't answer that.")
        .tags(tag("team", "safety"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.version(), "DRAFT");
    out.guardrail_id().to_string()
}

#[tokio::test]
async fn every_policy_is_read_back_in_the_read_shape() {
    let server = support::start().await;
    let client = server.bedrock();
    let id = create_full(&client, "full-guardrail").await;
    let g = client
        .get_guardrail()
        .guardrail_identifier(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(g.name(), "full-guardrail");
    assert_eq!(g.version(), "DRAFT");
    assert_eq!(g.status(), &GuardrailStatus::Ready);
    assert_eq!(
        g.guardrail_arn(),
        format!("arn:aws:bedrock:us-east-1:000000000000:guardrail/{id}")
    );
    let topic = &g.topic_policy().unwrap().topics()[0];
    assert_eq!(topic.name(), "Investment advice");
    assert_eq!(topic.examples(), ["Which stocks should I buy?"]);
    assert_eq!(topic.input_action(), Some(&GuardrailTopicAction::Block));
    let filters = g.content_policy().unwrap().filters();
    assert_eq!(filters.len(), 2);
    assert_eq!(filters[0].r#type(), &GuardrailContentFilterType::Hate);
    assert_eq!(filters[0].input_strength(), &GuardrailFilterStrength::High);
    let words = g.word_policy().unwrap();
    assert_eq!(words.words()[0].text(), "competitor-x");
    assert_eq!(
        words.managed_word_lists()[0].r#type(),
        &GuardrailManagedWordsType::Profanity
    );
    let pii = g.sensitive_information_policy().unwrap();
    assert_eq!(
        pii.pii_entities()[0].action(),
        &GuardrailSensitiveInformationAction::Anonymize
    );
    assert_eq!(
        pii.pii_entities()[0].input_action(),
        Some(&GuardrailSensitiveInformationAction::Anonymize)
    );
    assert_eq!(pii.regexes()[0].pattern(), "ORD-[0-9]{6}");
    let grounding = &g.contextual_grounding_policy().unwrap().filters()[0];
    assert_eq!(grounding.threshold(), 0.75);
    assert_eq!(
        g.blocked_input_messaging(),
        "Sorry, I can't help with that."
    );
    let tags = client
        .list_tags_for_resource()
        .resource_arn(g.guardrail_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags(), [tag("team", "safety")]);
}

#[tokio::test]
async fn versions_are_immutable_snapshots_of_the_draft() {
    let server = support::start().await;
    let client = server.bedrock();
    let id = create_full(&client, "versioned").await;
    let v1 = client
        .create_guardrail_version()
        .guardrail_identifier(&id)
        .description("first release")
        .send()
        .await
        .unwrap();
    assert_eq!((v1.guardrail_id(), v1.version()), (id.as_str(), "1"));
    client
        .update_guardrail()
        .guardrail_identifier(&id)
        .name("versioned")
        .topic_policy_config(topics("Medical advice"))
        .blocked_input_messaging("Changed.")
        .blocked_outputs_messaging("Changed.")
        .send()
        .await
        .unwrap();
    let v2 = client
        .create_guardrail_version()
        .guardrail_identifier(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(v2.version(), "2");
    let one = client
        .get_guardrail()
        .guardrail_identifier(&id)
        .guardrail_version("1")
        .send()
        .await
        .unwrap();
    assert_eq!(one.version(), "1");
    assert_eq!(one.description(), Some("first release"));
    assert_eq!(
        one.topic_policy().unwrap().topics()[0].name(),
        "Investment advice"
    );
    assert!(one.content_policy().is_some());
    let two = client
        .get_guardrail()
        .guardrail_identifier(&id)
        .guardrail_version("2")
        .send()
        .await
        .unwrap();
    assert_eq!(
        two.topic_policy().unwrap().topics()[0].name(),
        "Medical advice"
    );
    // Update replaced the whole draft: the policies it did not send are gone.
    assert!(two.content_policy().is_none());
    assert_eq!(two.blocked_input_messaging(), "Changed.");
    let missing = client
        .get_guardrail()
        .guardrail_identifier(&id)
        .guardrail_version("3")
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(missing).code, "ResourceNotFoundException");
}

#[tokio::test]
async fn listing_shows_every_draft_or_every_version_of_one() {
    let server = support::start().await;
    let client = server.bedrock();
    let a = create_full(&client, "guard-a").await;
    create_full(&client, "guard-b").await;
    create_full(&client, "guard-c").await;
    client
        .create_guardrail_version()
        .guardrail_identifier(&a)
        .send()
        .await
        .unwrap();
    client
        .create_guardrail_version()
        .guardrail_identifier(&a)
        .send()
        .await
        .unwrap();
    let drafts = client.list_guardrails().send().await.unwrap();
    let names: Vec<&str> = drafts.guardrails().iter().map(|g| g.name()).collect();
    assert_eq!(names, ["guard-a", "guard-b", "guard-c"]);
    assert!(drafts.guardrails().iter().all(|g| g.version() == "DRAFT"));
    let versions = client
        .list_guardrails()
        .guardrail_identifier(&a)
        .send()
        .await
        .unwrap();
    let numbers: Vec<&str> = versions.guardrails().iter().map(|g| g.version()).collect();
    assert_eq!(numbers, ["DRAFT", "1", "2"]);
    let pages: Vec<_> = client
        .list_guardrails()
        .max_results(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(
        pages
            .iter()
            .map(|p| p.guardrails().len())
            .collect::<Vec<_>>(),
        [2, 1]
    );
}

#[tokio::test]
async fn a_guardrail_is_identified_by_id_or_arn() {
    let server = support::start().await;
    let client = server.bedrock();
    let id = create_full(&client, "by-arn").await;
    let arn = format!("arn:aws:bedrock:us-east-1:000000000000:guardrail/{id}");
    let g = client
        .get_guardrail()
        .guardrail_identifier(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(g.guardrail_id(), id);
    let v = client
        .create_guardrail_version()
        .guardrail_identifier(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(v.version(), "1");
}

#[tokio::test]
async fn deleting_one_version_keeps_the_rest() {
    let server = support::start().await;
    let client = server.bedrock();
    let id = create_full(&client, "prune").await;
    for _ in 0..3 {
        client
            .create_guardrail_version()
            .guardrail_identifier(&id)
            .send()
            .await
            .unwrap();
    }
    client
        .delete_guardrail()
        .guardrail_identifier(&id)
        .guardrail_version("2")
        .send()
        .await
        .unwrap();
    let versions = client
        .list_guardrails()
        .guardrail_identifier(&id)
        .send()
        .await
        .unwrap();
    let numbers: Vec<&str> = versions.guardrails().iter().map(|g| g.version()).collect();
    assert_eq!(numbers, ["DRAFT", "1", "3"]);
    // Numbers are never reused.
    let next = client
        .create_guardrail_version()
        .guardrail_identifier(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(next.version(), "4");
}

#[tokio::test]
async fn deleting_without_a_version_removes_the_guardrail() {
    let server = support::start().await;
    let client = server.bedrock();
    let id = create_full(&client, "doomed").await;
    client
        .delete_guardrail()
        .guardrail_identifier(&id)
        .send()
        .await
        .unwrap();
    let err = client
        .get_guardrail()
        .guardrail_identifier(&id)
        .send()
        .await
        .unwrap_err();
    let f = failure(err);
    assert_eq!(
        (f.status, f.code.as_str()),
        (404, "ResourceNotFoundException")
    );
    assert!(client
        .list_guardrails()
        .send()
        .await
        .unwrap()
        .guardrails()
        .is_empty());
}

#[tokio::test]
async fn names_and_messages_are_validated() {
    let server = support::start().await;
    let err = server
        .bedrock()
        .create_guardrail()
        .name("not a valid name")
        .blocked_outputs_messaging("x".repeat(501))
        .send()
        .await
        .unwrap_err();
    let f = failure(err);
    assert_eq!(f.code, "ValidationException");
    assert!(
        f.message.starts_with("3 validation errors detected"),
        "{}",
        f.message
    );
    assert!(f.message.contains("Value 'not a valid name' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-zA-Z-_]+"), "{}", f.message);
    assert!(
        f.message.contains("Value null at 'blockedInputMessaging'"),
        "{}",
        f.message
    );
    assert!(f.message.contains("at 'blockedOutputsMessaging' failed to satisfy constraint: Member must have length less than or equal to 500"), "{}", f.message);
}

#[tokio::test]
async fn the_prompt_attack_filter_cannot_filter_responses() {
    let server = support::start().await;
    let filter = GuardrailContentFilterConfig::builder()
        .r#type(GuardrailContentFilterType::PromptAttack)
        .input_strength(GuardrailFilterStrength::High)
        .output_strength(GuardrailFilterStrength::High)
        .build()
        .unwrap();
    let err = server
        .bedrock()
        .create_guardrail()
        .name("attack")
        .content_policy_config(
            GuardrailContentPolicyConfig::builder()
                .filters_config(filter)
                .build()
                .unwrap(),
        )
        .blocked_input_messaging("no")
        .blocked_outputs_messaging("no")
        .send()
        .await
        .unwrap_err();
    assert!(failure(err).message.contains("PROMPT_ATTACK"));
}

#[tokio::test]
async fn guardrail_names_are_unique() {
    let server = support::start().await;
    let client = server.bedrock();
    create_full(&client, "unique").await;
    let err = client
        .create_guardrail()
        .name("unique")
        .blocked_input_messaging("no")
        .blocked_outputs_messaging("no")
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(err).code, "ConflictException");
}

#[tokio::test]
async fn unknown_guardrails_and_malformed_identifiers_are_told_apart() {
    let server = support::start().await;
    let client = server.bedrock();
    let missing = client
        .get_guardrail()
        .guardrail_identifier("abc123def456")
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(missing).code, "ResourceNotFoundException");
    let malformed = client
        .get_guardrail()
        .guardrail_identifier("Not_An_Id")
        .send()
        .await
        .unwrap_err();
    let f = failure(malformed);
    assert_eq!(f.code, "ValidationException");
    assert!(f.message.contains("'guardrailIdentifier'"), "{}", f.message);
}
