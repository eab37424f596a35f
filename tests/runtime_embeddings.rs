//! Embeddings through InvokeModel with the AWS SDK for Rust: Titan Text v1/v2, Titan Multimodal,
//! Cohere Embed v3/v4 — dimensions, normalization, determinism, embedding types, and the errors
//! Bedrock gives for bad bodies and for streaming or conversing with an embedding model.

use crate::runtime_families::{invoke, invoke_error, stream_error};
use crate::support;
use serde_json::{json, Value};

const TITAN_V1: &str = "amazon.titan-embed-text-v1";
const TITAN_V2: &str = "amazon.titan-embed-text-v2:0";
const TITAN_IMAGE: &str = "amazon.titan-embed-image-v1";
const COHERE_V3: &str = "cohere.embed-english-v3";

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

#[tokio::test]
async fn titan_v1_returns_1536_floats_and_the_token_count() {
    let server = support::start().await;
    let out = invoke(
        &server,
        TITAN_V1,
        &json!({"inputText": "Hello, embeddings!"}),
    )
    .await;
    assert_eq!(floats(&out["embedding"]).len(), 1536);
    assert_eq!(out["inputTextTokenCount"], 4);
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["embedding", "inputTextTokenCount"]);
}

#[tokio::test]
async fn titan_v2_vectors_have_the_requested_dimension_and_unit_length() {
    let server = support::start().await;
    for dimensions in [256, 512, 1024] {
        let out = invoke(
            &server,
            TITAN_V2,
            &json!({"inputText": "What is S3?", "dimensions": dimensions}),
        )
        .await;
        let v = floats(&out["embedding"]);
        assert_eq!(v.len(), dimensions);
        assert!((norm(&v) - 1.0).abs() < 1e-3, "normalized by default");
        assert_eq!(out["embeddingsByType"]["float"], out["embedding"]);
    }
    let default = invoke(&server, TITAN_V2, &json!({"inputText": "What is S3?"})).await;
    assert_eq!(floats(&default["embedding"]).len(), 1024);
    let raw = invoke(
        &server,
        TITAN_V2,
        &json!({"inputText": "What is S3?", "normalize": false}),
    )
    .await;
    assert!(
        (norm(&floats(&raw["embedding"])) - 1.0).abs() > 1e-2,
        "normalize: false keeps the raw vector"
    );
}

#[tokio::test]
async fn embeddings_are_deterministic_per_text() {
    let server = support::start().await;
    let a = invoke(&server, TITAN_V2, &json!({"inputText": "same text"})).await;
    let b = invoke(&server, TITAN_V2, &json!({"inputText": "same text"})).await;
    let c = invoke(&server, TITAN_V2, &json!({"inputText": "other text"})).await;
    assert_eq!(a["embedding"], b["embedding"]);
    assert_ne!(a["embedding"], c["embedding"]);
}

#[tokio::test]
async fn titan_v2_binary_embeddings_are_bits_of_the_float_vector() {
    let server = support::start().await;
    let out = invoke(
        &server,
        TITAN_V2,
        &json!({"inputText": "bits", "dimensions": 256, "embeddingTypes": ["float", "binary"]}),
    )
    .await;
    let f = floats(&out["embeddingsByType"]["float"]);
    let bits: Vec<u64> = out["embeddingsByType"]["binary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap())
        .collect();
    assert_eq!(bits.len(), 256);
    assert!(f.iter().zip(&bits).all(|(x, b)| u64::from(*x > 0.0) == *b));
}

#[tokio::test]
async fn titan_multimodal_embeds_text_and_images() {
    let server = support::start().await;
    let image = invoke(&server, TITAN_IMAGE, &json!({"inputImage": "iVBORw0KGgoAAAANSUhEUgAAAAE=", "embeddingConfig": {"outputEmbeddingLength": 384}})).await;
    assert_eq!(floats(&image["embedding"]).len(), 384);
    let text = invoke(&server, TITAN_IMAGE, &json!({"inputText": "a red bicycle"})).await;
    assert_eq!(floats(&text["embedding"]).len(), 1024);
    let both = invoke(
        &server,
        TITAN_IMAGE,
        &json!({"inputText": "a red bicycle", "inputImage": "iVBORw0KGgoAAAANSUhEUgAAAAE="}),
    )
    .await;
    assert_ne!(both["embedding"], text["embedding"]);
}

#[tokio::test]
async fn cohere_v3_embeds_a_batch_of_texts_as_floats() {
    let server = support::start().await;
    let out = invoke(&server, COHERE_V3, &json!({"texts": ["first", "second", "third"], "input_type": "search_document", "truncate": "END"})).await;
    assert_eq!(out["response_type"], "embeddings_floats");
    assert_eq!(out["texts"], json!(["first", "second", "third"]));
    assert_eq!(out["id"].as_str().unwrap().len(), 36);
    let vectors = out["embeddings"].as_array().unwrap();
    assert_eq!(vectors.len(), 3);
    for v in vectors {
        let v = floats(v);
        assert_eq!(v.len(), 1024);
        assert!((norm(&v) - 1.0).abs() < 1e-3);
    }
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["embeddings", "id", "response_type", "texts"]);
}

#[tokio::test]
async fn cohere_embedding_types_come_back_by_type() {
    let server = support::start().await;
    let out = invoke(&server, "cohere.embed-multilingual-v3", &json!({"texts": ["hola"], "input_type": "search_query", "embedding_types": ["float", "int8", "uint8", "binary", "ubinary"]})).await;
    assert_eq!(out["response_type"], "embeddings_by_type");
    let e = &out["embeddings"];
    assert_eq!(floats(&e["float"][0]).len(), 1024);
    assert!(e["int8"][0]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| (-128..=127).contains(&x.as_i64().unwrap())));
    assert!(e["uint8"][0]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x.as_u64().unwrap() <= 255));
    assert_eq!(
        e["binary"][0].as_array().unwrap().len(),
        128,
        "one bit per dimension"
    );
    assert_eq!(e["ubinary"][0].as_array().unwrap().len(), 128);
    let v4 = invoke(
        &server,
        "cohere.embed-v4:0",
        &json!({"texts": ["hola"], "input_type": "clustering", "output_dimension": 512}),
    )
    .await;
    assert_eq!(floats(&v4["embeddings"][0]).len(), 512);
}

async fn rejects(server: &support::Server, model: &str, body: Value, field: &str) {
    let (code, message) = invoke_error(server, model, &body).await;
    assert_eq!(code, "ValidationException", "{message}");
    assert!(message.contains(field), "{field} not named in: {message}");
}

#[tokio::test]
async fn bad_embedding_bodies_are_validation_errors_naming_the_field() {
    let server = support::start().await;
    rejects(
        &server,
        TITAN_V2,
        json!({"inputText": "x", "dimensions": 100}),
        "#/dimensions: 100 is not a valid enum value",
    )
    .await;
    rejects(
        &server,
        TITAN_V2,
        json!({"dimensions": 256}),
        "required key [inputText] not found",
    )
    .await;
    rejects(
        &server,
        TITAN_V2,
        json!({"inputText": "x", "embeddingTypes": ["int8"]}),
        "#/embeddingTypes/0",
    )
    .await;
    rejects(
        &server,
        TITAN_V2,
        json!({"inputText": "x", "normalize": "yes"}),
        "'normalize' must be a boolean",
    )
    .await;
    rejects(
        &server,
        TITAN_V1,
        json!({"inputText": "x", "dimensions": 256}),
        "extraneous key [dimensions]",
    )
    .await;
    rejects(
        &server,
        TITAN_IMAGE,
        json!({"inputText": "x", "embeddingConfig": {"outputEmbeddingLength": 512}}),
        "#/embeddingConfig/outputEmbeddingLength",
    )
    .await;
    let many: Vec<String> = (0..100).map(|i| format!("text {i}")).collect();
    rejects(
        &server,
        COHERE_V3,
        json!({"texts": many, "input_type": "search_document"}),
        "#/texts: expected maximum item count: 96, found: 100",
    )
    .await;
    rejects(
        &server,
        COHERE_V3,
        json!({"texts": ["x"]}),
        "required key [input_type] not found",
    )
    .await;
    rejects(
        &server,
        COHERE_V3,
        json!({"texts": ["x"], "input_type": "search"}),
        "#/input_type: search is not a valid enum value",
    )
    .await;
    rejects(
        &server,
        COHERE_V3,
        json!({"texts": ["x"], "input_type": "search_query", "embedding_types": ["float16"]}),
        "#/embedding_types/0",
    )
    .await;
}

#[tokio::test]
async fn embedding_models_do_not_stream_or_converse() {
    let server = support::start().await;
    let (code, message) = stream_error(&server, TITAN_V2, &json!({"inputText": "x"})).await;
    assert_eq!(code, "ValidationException");
    assert_eq!(message, "The model is unsupported for streaming.");
    use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
    let err = server
        .runtime()
        .converse()
        .model_id(COHERE_V3)
        .messages(crate::runtime_converse::user("hi"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
    assert!(err.message().unwrap().contains("doesn't support the model"));
}

#[tokio::test]
async fn embedding_responses_carry_the_input_token_header() {
    let server = support::start().await;
    let resp = server
        .http()
        .post(server.at("/model/amazon.titan-embed-text-v2:0/invoke"))
        .header("authorization", support::sigv4("us-east-1", "bedrock"))
        .json(&json!({"inputText": "count these four"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-amzn-bedrock-input-token-count"], "3");
    assert!(resp
        .headers()
        .contains_key("x-amzn-bedrock-invocation-latency"));
    let out: Value = resp.json().await.unwrap();
    assert_eq!(out["inputTextTokenCount"], 3);
}
