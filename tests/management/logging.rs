//! Model invocation logging configuration: stored, read back, deleted and validated.

use super::failure;
use crate::support;
use aws_sdk_bedrock::types::{CloudWatchConfig, LoggingConfig, S3Config};

fn cloudwatch() -> CloudWatchConfig {
    CloudWatchConfig::builder()
        .log_group_name("/bedrock/invocations")
        .role_arn("arn:aws:iam::123456789012:role/BedrockLogging")
        .large_data_delivery_s3_config(
            S3Config::builder()
                .bucket_name("large-payloads")
                .key_prefix("big/")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn there_is_no_logging_configuration_until_one_is_put() {
    let server = support::start().await;
    let out = server
        .bedrock()
        .get_model_invocation_logging_configuration()
        .send()
        .await
        .unwrap();
    assert!(out.logging_config().is_none());
}

#[tokio::test]
async fn a_logging_configuration_round_trips_and_can_be_deleted() {
    let server = support::start().await;
    let client = server.bedrock();
    client
        .put_model_invocation_logging_configuration()
        .logging_config(
            LoggingConfig::builder()
                .cloud_watch_config(cloudwatch())
                .s3_config(
                    S3Config::builder()
                        .bucket_name("invocation-logs")
                        .key_prefix("bedrock/")
                        .build()
                        .unwrap(),
                )
                .text_data_delivery_enabled(true)
                .image_data_delivery_enabled(false)
                .embedding_data_delivery_enabled(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let got = client
        .get_model_invocation_logging_configuration()
        .send()
        .await
        .unwrap();
    let config = got.logging_config().unwrap();
    assert_eq!(
        config.cloud_watch_config().unwrap().log_group_name(),
        "/bedrock/invocations"
    );
    assert_eq!(
        config
            .cloud_watch_config()
            .unwrap()
            .large_data_delivery_s3_config()
            .unwrap()
            .bucket_name(),
        "large-payloads"
    );
    assert_eq!(config.s3_config().unwrap().key_prefix(), Some("bedrock/"));
    assert_eq!(config.text_data_delivery_enabled(), Some(true));
    assert_eq!(config.image_data_delivery_enabled(), Some(false));
    client
        .delete_model_invocation_logging_configuration()
        .send()
        .await
        .unwrap();
    let after = client
        .get_model_invocation_logging_configuration()
        .send()
        .await
        .unwrap();
    assert!(after.logging_config().is_none());
}

#[tokio::test]
async fn a_configuration_without_a_destination_is_refused() {
    let server = support::start().await;
    let err = server
        .bedrock()
        .put_model_invocation_logging_configuration()
        .logging_config(
            LoggingConfig::builder()
                .text_data_delivery_enabled(true)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    let f = failure(err);
    assert_eq!(f.code, "ValidationException");
    assert!(f.message.contains("destination"), "{}", f.message);
}

#[tokio::test]
async fn destinations_are_validated_member_by_member() {
    let server = support::start().await;
    let bad_role = CloudWatchConfig::builder()
        .log_group_name("/bedrock")
        .role_arn("not-a-role")
        .build()
        .unwrap();
    let err = server
        .bedrock()
        .put_model_invocation_logging_configuration()
        .logging_config(
            LoggingConfig::builder()
                .cloud_watch_config(bad_role)
                .s3_config(S3Config::builder().bucket_name("ab").build().unwrap())
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
    assert!(
        f.message
            .contains("at 'loggingConfig.cloudWatchConfig.roleArn'"),
        "{}",
        f.message
    );
    assert!(
        f.message
            .contains("Value 'ab' at 'loggingConfig.s3Config.bucketName'"),
        "{}",
        f.message
    );
}
