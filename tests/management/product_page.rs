//! The product page's curl examples, sent as written (same path, same headers), and the wire details
//! an SDK hides: success status codes, RFC 3339 timestamps, the `/tags/{resourceARN}` paths.

use crate::support::{self, sigv4};
use serde_json::{json, Value};

const PAGE_AUTH: &str = "AWS4-HMAC-SHA256 Credential=test/20260421/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=fake";

#[tokio::test]
async fn curl_list_foundation_models_from_the_product_page() {
    let server = support::start().await;
    // curl -s http://localhost:4566/foundation-models -H "Authorization: …" | jq '.modelSummaries[].modelId'
    let resp = server
        .http()
        .get(server.at("/foundation-models"))
        .header("Authorization", PAGE_AUTH)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let body: Value = resp.json().await.unwrap();
    let ids: Vec<&str> = body["modelSummaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["modelId"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"anthropic.claude-3-haiku-20240307-v1:0"));
    assert!(ids.contains(&"anthropic.claude-3-sonnet-20240229-v1:0"));
    assert!(ids.contains(&"amazon.titan-text-express-v1"));
    let first = &body["modelSummaries"][0];
    for member in [
        "modelId",
        "modelName",
        "providerName",
        "inputModalities",
        "outputModalities",
    ] {
        assert!(!first[member].is_null(), "{member} missing in {first}");
    }
}

#[tokio::test]
async fn curl_get_foundation_model_with_a_raw_colon_in_the_path() {
    let server = support::start().await;
    let resp = server
        .http()
        .get(server.at("/foundation-models/anthropic.claude-3-haiku-20240307-v1:0"))
        .header("Authorization", PAGE_AUTH)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["modelDetails"]["modelId"],
        "anthropic.claude-3-haiku-20240307-v1:0"
    );
}

#[tokio::test]
async fn creates_answer_201_or_202_as_the_real_service_does() {
    let server = support::start().await;
    let http = server.http();
    let auth = sigv4("us-east-1", "bedrock");
    let guardrail = http
        .post(server.at("/guardrails"))
        .header("Authorization", &auth)
        .json(
            &json!({"name": "raw", "blockedInputMessaging": "no", "blockedOutputsMessaging": "no"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(guardrail.status(), 202);
    let body: Value = guardrail.json().await.unwrap();
    let id = body["guardrailId"].as_str().unwrap().to_string();
    let version = http
        .post(server.at(&format!("/guardrails/{id}")))
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(version.status(), 202);
    let profile = http
        .post(server.at("/inference-profiles"))
        .header("Authorization", &auth)
        .json(&json!({
            "inferenceProfileName": "raw",
            "modelSource": {"copyFrom": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0"}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(profile.status(), 201);
    let job = http
        .post(server.at("/model-customization-jobs"))
        .header("Authorization", &auth)
        .json(&json!({
            "jobName": "raw-job",
            "customModelName": "raw-model",
            "roleArn": "arn:aws:iam::123456789012:role/r",
            "baseModelIdentifier": "amazon.titan-text-express-v1",
            "trainingDataConfig": {"s3Uri": "s3://bucket/train.jsonl"},
            "outputDataConfig": {"s3Uri": "s3://bucket/out/"}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(job.status(), 201);
    let deleted = http
        .delete(server.at(&format!("/guardrails/{id}")))
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 202);
}

#[tokio::test]
async fn timestamps_are_rfc3339_strings_with_milliseconds() {
    let server = support::start().await;
    let resp = server
        .http()
        .post(server.at("/guardrails"))
        .json(&json!({"name": "clock", "blockedInputMessaging": "no", "blockedOutputsMessaging": "no"}))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    let created = body["createdAt"]
        .as_str()
        .expect("createdAt must be a string");
    // 2026-01-02T03:04:05.678Z
    assert_eq!(created.len(), 24, "{created}");
    assert!(
        created.ends_with('Z') && created.as_bytes()[10] == b'T' && created.as_bytes()[19] == b'.',
        "{created}"
    );
}

#[tokio::test]
async fn optional_members_are_omitted_rather_than_null() {
    let server = support::start().await;
    let resp = server
        .http()
        .get(server.at("/inference-profiles"))
        .send()
        .await
        .unwrap();
    let text = resp.text().await.unwrap();
    assert!(!text.contains("null"), "{text}");
    assert!(!text.contains("nextToken"));
}

#[tokio::test]
async fn the_product_pages_tag_paths_take_the_arn_in_the_path() {
    let server = support::start().await;
    let http = server.http();
    let created: Value = http
        .post(server.at("/guardrails"))
        .json(&json!({"name": "curl-tags", "blockedInputMessaging": "no", "blockedOutputsMessaging": "no"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let arn = created["guardrailArn"].as_str().unwrap();
    // Raw, unencoded ARN in the path, as curl users write it.
    let tag = http
        .post(server.at(&format!("/tags/{arn}")))
        .json(&json!({"tags": [{"key": "env", "value": "dev"}, {"key": "team", "value": "ml"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(tag.status(), 200);
    let listed: Value = http
        .get(server.at(&format!("/tags/{arn}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed,
        json!({"tags": [{"key": "env", "value": "dev"}, {"key": "team", "value": "ml"}]})
    );
    let untag = http
        .delete(server.at(&format!("/tags/{arn}")))
        .json(&json!({"tagKeys": ["env"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(untag.status(), 200);
    // Keys in the query work too, and the ARN may be percent-encoded.
    let encoded = arn.replace(':', "%3A").replace('/', "%2F");
    http.delete(server.at(&format!("/tags/{encoded}?tagKeys=team")))
        .send()
        .await
        .unwrap();
    let listed: Value = http
        .get(server.at(&format!("/tags/{encoded}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!({"tags": []}));
    let unknown = http
        .get(server.at("/tags/arn:aws:bedrock:us-east-1:000000000000:guardrail/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        unknown.headers()["x-amzn-errortype"],
        "ResourceNotFoundException"
    );
}

#[tokio::test]
async fn malformed_json_is_a_validation_error() {
    let server = support::start().await;
    let resp = server
        .http()
        .post(server.at("/guardrails"))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.headers()["x-amzn-errortype"], "ValidationException");
}

#[tokio::test]
async fn operations_awsim_does_not_emulate_are_named_501s() {
    let server = support::start().await;
    let err = server
        .bedrock()
        .list_model_import_jobs()
        .send()
        .await
        .unwrap_err();
    let f = super::failure(err);
    assert_eq!(
        (f.status, f.code.as_str()),
        (501, "NotImplementedException")
    );
    assert!(f.message.contains("ListModelImportJobs"), "{}", f.message);
}
