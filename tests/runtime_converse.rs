//! Converse and ConverseStream through the AWS SDK for Rust (its own event-stream parser).

use crate::support;
use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ContentBlockDelta, ContentBlockStart, ConversationRole, ConverseStreamOutput,
    InferenceConfiguration, Message, StopReason, SystemContentBlock, Tool, ToolChoice,
    ToolConfiguration, ToolInputSchema, ToolSpecification,
};
use aws_smithy_types::Document;

const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";

pub fn user(text: &str) -> Message {
    Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Text(text.into()))
        .build()
        .unwrap()
}

/// Everything a ConverseStream consumer sees, reassembled.
#[derive(Debug, Default)]
pub struct Streamed {
    pub events: Vec<&'static str>,
    pub text: String,
    pub tool_inputs: Vec<(String, String)>,
    pub stop: Option<StopReason>,
    pub input_tokens: i32,
    pub output_tokens: i32,
    pub text_deltas: usize,
}

pub async fn consume(
    mut out: aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamOutput,
) -> Streamed {
    let mut s = Streamed::default();
    while let Some(event) = out.stream.recv().await.unwrap() {
        match event {
            ConverseStreamOutput::MessageStart(_) => s.events.push("messageStart"),
            ConverseStreamOutput::ContentBlockStart(e) => {
                s.events.push("contentBlockStart");
                if let Some(ContentBlockStart::ToolUse(t)) = e.start {
                    assert!(t.tool_use_id.starts_with("tooluse_"));
                    s.tool_inputs.push((t.name, String::new()));
                }
            }
            ConverseStreamOutput::ContentBlockDelta(e) => {
                s.events.push("contentBlockDelta");
                match e.delta.unwrap() {
                    ContentBlockDelta::Text(t) => {
                        s.text.push_str(&t);
                        s.text_deltas += 1;
                    }
                    ContentBlockDelta::ToolUse(t) => {
                        s.tool_inputs.last_mut().unwrap().1.push_str(&t.input)
                    }
                    _ => {}
                }
            }
            ConverseStreamOutput::ContentBlockStop(_) => s.events.push("contentBlockStop"),
            ConverseStreamOutput::MessageStop(e) => {
                s.events.push("messageStop");
                s.stop = Some(e.stop_reason);
            }
            ConverseStreamOutput::Metadata(e) => {
                s.events.push("metadata");
                let u = e.usage.unwrap();
                s.input_tokens = u.input_tokens;
                s.output_tokens = u.output_tokens;
                assert_eq!(u.total_tokens, u.input_tokens + u.output_tokens);
                assert!(e.metrics.is_some());
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    s
}

#[tokio::test]
async fn converse_stream_arrives_token_by_token_in_bedrock_order() {
    let server = support::start().await;
    let out = server
        .runtime()
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("What is AWS?"))
        .send()
        .await
        .unwrap();
    let s = consume(out).await;
    assert_eq!(s.events.first(), Some(&"messageStart"));
    assert_eq!(
        &s.events[s.events.len() - 3..],
        ["contentBlockStop", "messageStop", "metadata"]
    );
    assert!(s.text.contains("What is AWS?"), "{}", s.text);
    assert!(s.text_deltas > 20, "one delta per token: {}", s.text_deltas);
    assert_eq!(s.stop, Some(StopReason::EndTurn));
    assert_eq!(s.output_tokens as usize, s.text_deltas);
    assert!(s.input_tokens > 0);
}

#[tokio::test]
async fn converse_collects_the_same_answer_the_stream_sends() {
    let server = support::start().await;
    let client = server.runtime();
    let whole = client
        .converse()
        .model_id(HAIKU)
        .system(SystemContentBlock::Text("be brief".into()))
        .messages(user("Tell me about S3"))
        .send()
        .await
        .unwrap();
    let streamed = consume(
        client
            .converse_stream()
            .model_id(HAIKU)
            .system(SystemContentBlock::Text("be brief".into()))
            .messages(user("Tell me about S3"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let msg = whole.output.unwrap().as_message().unwrap().clone();
    assert_eq!(msg.content[0].as_text().unwrap(), &streamed.text);
    let usage = whole.usage.unwrap();
    assert_eq!(
        (usage.input_tokens, usage.output_tokens),
        (streamed.input_tokens, streamed.output_tokens)
    );
    assert_eq!(whole.stop_reason, StopReason::EndTurn);
}

#[tokio::test]
async fn max_tokens_and_stop_sequences_end_the_stream() {
    let server = support::start().await;
    let out = server
        .runtime()
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("hi"))
        .inference_config(InferenceConfiguration::builder().max_tokens(4).build())
        .send()
        .await
        .unwrap();
    let s = consume(out).await;
    assert_eq!(s.stop, Some(StopReason::MaxTokens));
    assert_eq!(s.output_tokens, 4);

    let out = server
        .runtime()
        .converse()
        .model_id(HAIKU)
        .messages(user("hi"))
        .inference_config(
            InferenceConfiguration::builder()
                .stop_sequences("canned")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.stop_reason, StopReason::StopSequence);
}

fn weather_tool() -> ToolConfiguration {
    let schema = Document::Object(
        [
            ("type".to_string(), Document::String("object".into())),
            (
                "properties".to_string(),
                Document::Object(
                    [(
                        "city".to_string(),
                        Document::Object(
                            [("type".to_string(), Document::String("string".into()))].into(),
                        ),
                    )]
                    .into(),
                ),
            ),
        ]
        .into(),
    );
    ToolConfiguration::builder()
        .tools(Tool::ToolSpec(
            ToolSpecification::builder()
                .name("get_weather")
                .input_schema(ToolInputSchema::Json(schema))
                .build()
                .unwrap(),
        ))
        .tool_choice(ToolChoice::Any(
            aws_sdk_bedrockruntime::types::AnyToolChoice::builder().build(),
        ))
        .build()
        .unwrap()
}

#[tokio::test]
async fn tool_use_streams_input_fragments_that_reassemble_into_json() {
    let server = support::start().await;
    let out = server
        .runtime()
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("weather in Seattle?"))
        .tool_config(weather_tool())
        .send()
        .await
        .unwrap();
    let s = consume(out).await;
    assert_eq!(s.stop, Some(StopReason::ToolUse));
    assert_eq!(s.tool_inputs.len(), 1);
    let (name, input) = &s.tool_inputs[0];
    assert_eq!(name, "get_weather");
    let v: serde_json::Value = serde_json::from_str(input).unwrap();
    assert_eq!(v["city"], "Seattle");
    assert!(s.events.contains(&"contentBlockStart"));
}

#[tokio::test]
async fn a_tool_result_turn_gets_a_text_answer() {
    use aws_sdk_bedrockruntime::types::{ToolResultBlock, ToolResultContentBlock, ToolUseBlock};
    let server = support::start().await;
    let client = server.runtime();
    let first = client
        .converse()
        .model_id(HAIKU)
        .messages(user("weather?"))
        .tool_config(weather_tool())
        .send()
        .await
        .unwrap();
    let assistant = first.output.unwrap().as_message().unwrap().clone();
    let tool_use: &ToolUseBlock = assistant
        .content
        .iter()
        .find_map(|c| c.as_tool_use().ok())
        .unwrap();
    let result = Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::ToolResult(
            ToolResultBlock::builder()
                .tool_use_id(&tool_use.tool_use_id)
                .content(ToolResultContentBlock::Text("12 degrees and rain".into()))
                .build()
                .unwrap(),
        ))
        .build()
        .unwrap();
    let second = client
        .converse()
        .model_id(HAIKU)
        .messages(user("weather?"))
        .messages(assistant)
        .messages(result)
        .tool_config(weather_tool())
        .send()
        .await
        .unwrap();
    assert_eq!(second.stop_reason, StopReason::EndTurn);
    let text = second.output.unwrap().as_message().unwrap().content[0]
        .as_text()
        .unwrap()
        .clone();
    assert!(text.contains("12 degrees and rain"), "{text}");
}

#[tokio::test]
async fn bad_conversations_are_validation_errors() {
    let server = support::start().await;
    let assistant_first = Message::builder()
        .role(ConversationRole::Assistant)
        .content(ContentBlock::Text("x".into()))
        .build()
        .unwrap();
    let err = server
        .runtime()
        .converse()
        .model_id(HAIKU)
        .messages(assistant_first)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
    assert!(err.message().unwrap().contains("start with a user message"));
}

/// A tool schema as the SDK sends it.
fn document(v: &serde_json::Value) -> Document {
    use aws_smithy_types::Number;
    use serde_json::Value;
    match v {
        Value::Null => Document::Null,
        Value::Bool(b) => Document::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Document::Number(Number::PosInt(u)),
            (None, Some(i)) => Document::Number(Number::NegInt(i)),
            _ => Document::Number(Number::Float(n.as_f64().unwrap())),
        },
        Value::String(s) => Document::String(s.clone()),
        Value::Array(a) => Document::Array(a.iter().map(document).collect()),
        Value::Object(m) => {
            Document::Object(m.iter().map(|(k, v)| (k.clone(), document(v))).collect())
        }
    }
}

fn forced_tool(schema: serde_json::Value) -> ToolConfiguration {
    ToolConfiguration::builder()
        .tools(Tool::ToolSpec(
            ToolSpecification::builder()
                .name("fill")
                .input_schema(ToolInputSchema::Json(document(&schema)))
                .build()
                .unwrap(),
        ))
        .tool_choice(ToolChoice::Any(
            aws_sdk_bedrockruntime::types::AnyToolChoice::builder().build(),
        ))
        .build()
        .unwrap()
}

/// Schemas that ask a canned answer for far more than any answer should hold — sixteen items a
/// level, six levels deep (16^6 numbers from a request of a few hundred bytes), a string of ten
/// million characters — get a tool input within the caps, and a second client whose connection the
/// same serving thread holds is answered as well.
#[tokio::test]
async fn costly_tool_schemas_get_capped_inputs_while_others_are_served() {
    use serde_json::json;
    let server = support::start_on_own_thread(awsim::Config::default());
    let deep = (0..6).fold(
        json!({"type": "integer"}),
        |items, _| json!({"type": "array", "minItems": 16, "items": items}),
    );
    let costly = [
        json!({"type": "object", "properties": {"a": deep}}),
        json!({"type": "object", "properties": {"s": {"type": "string", "minLength": 10_000_000}}}),
    ];
    let costly_client = server.runtime();
    let other_client = server.runtime();
    let costly_calls = async {
        let mut inputs = Vec::new();
        for schema in &costly {
            let out = costly_client
                .converse()
                .model_id(HAIKU)
                .messages(user("fill it in"))
                .tool_config(forced_tool(schema.clone()))
                .send()
                .await
                .unwrap();
            assert_eq!(out.stop_reason, StopReason::ToolUse);
            let message = out.output.unwrap();
            let tool_use = message.as_message().unwrap().content[0]
                .as_tool_use()
                .unwrap();
            inputs.push(crate::runtime_field_paths::json_of(&tool_use.input));
        }
        inputs
    };
    let other_calls = async {
        let mut texts = Vec::new();
        for _ in 0..5 {
            let out = other_client
                .converse()
                .model_id(HAIKU)
                .messages(user("Hello!"))
                .send()
                .await
                .unwrap();
            let message = out.output.unwrap();
            texts.push(
                message.as_message().unwrap().content[0]
                    .as_text()
                    .unwrap()
                    .clone(),
            );
        }
        texts
    };
    // A hang guard only: the caps keep both well under it.
    let (inputs, texts) = tokio::time::timeout(std::time::Duration::from_secs(120), async {
        tokio::join!(costly_calls, other_calls)
    })
    .await
    .expect("a costly schema held the serving thread");
    assert!(texts.iter().all(|t| t.contains("Hello!")), "{texts:?}");
    for input in &inputs {
        let json = input.to_string();
        assert!(
            json.len() <= 64 * 1024,
            "{} bytes of tool input",
            json.len()
        );
    }
    assert_eq!(inputs[0]["a"][0][0][0][0][0][0], 1);
    assert_eq!(inputs[1]["s"].as_str().unwrap().len(), 4096);
}

/// Image and document bytes travel as base64 in JSON: the SDK encodes them and awsim takes them;
/// a hand-written body whose `bytes` are not base64 is refused as Bedrock refuses it, and so is an
/// Anthropic Messages image whose `source.data` is not.
#[tokio::test]
async fn image_and_document_bytes_must_be_base64() {
    use aws_sdk_bedrockruntime::primitives::Blob;
    use aws_sdk_bedrockruntime::types::{
        DocumentBlock, DocumentFormat, DocumentSource, ImageBlock, ImageFormat, ImageSource,
    };
    use serde_json::{json, Value};
    let server = support::start().await;
    let image = ImageBlock::builder()
        .format(ImageFormat::Png)
        .source(ImageSource::Bytes(Blob::new(b"\x89PNG\r\n\x1a\n".to_vec())))
        .build()
        .unwrap();
    let document = DocumentBlock::builder()
        .format(DocumentFormat::Pdf)
        .name("report")
        .source(DocumentSource::Bytes(Blob::new(b"%PDF-1.4".to_vec())))
        .build()
        .unwrap();
    let message = Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Text("What is in these?".into()))
        .content(ContentBlock::Image(image))
        .content(ContentBlock::Document(document))
        .build()
        .unwrap();
    let out = server
        .runtime()
        .converse()
        .model_id(HAIKU)
        .messages(message)
        .send()
        .await
        .unwrap();
    assert_eq!(out.stop_reason, StopReason::EndTurn);

    let converse = |block: Value| json!({"messages": [{"role": "user", "content": [{"text": "What is this?"}, block]}]});
    for (body, path) in [
        (
            converse(json!({"image": {"format": "png", "source": {"bytes": "!!!notbase64"}}})),
            "messages.0.content.1.image.source.bytes",
        ),
        (
            converse(
                json!({"document": {"format": "pdf", "name": "d", "source": {"bytes": "%PDF-1.4"}}}),
            ),
            "messages.0.content.1.document.source.bytes",
        ),
    ] {
        let resp = server
            .http()
            .post(server.at(&format!("/model/{HAIKU}/converse")))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        assert_eq!(resp.headers()["x-amzn-errortype"], "ValidationException");
        let error: Value = resp.json().await.unwrap();
        assert_eq!(
            error["message"],
            format!("The format of the value at {path} is invalid. Provide base64-encoded bytes for the field and try again.")
        );
    }

    let messages = json!({
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "!!!notbase64"}}
        ]}]
    });
    let (code, message) = crate::runtime_families::invoke_error(&server, HAIKU, &messages).await;
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "messages.0.content.1.image.source.base64: invalid base64 data"
    );
}
