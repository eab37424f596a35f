//! The OpenAI-compatible backend, driven by the AWS SDK for Rust against the scripted fake upstream:
//! what the upstream receives as much as what the client gets back.

use crate::support::fake_openai::{self as fake, FakeOpenAi, Reply, Step};
use crate::support::{self, Server};
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ContentBlockDelta, ContentBlockStart, ConversationRole, ConverseStreamOutput,
    DocumentBlock, DocumentFormat, DocumentSource, ImageBlock, ImageFormat, ImageSource,
    InferenceConfiguration, Message, ReasoningContentBlockDelta, StopReason, SystemContentBlock,
    Tool, ToolConfiguration, ToolInputSchema, ToolResultBlock, ToolResultContentBlock,
    ToolSpecification, ToolUseBlock,
};
use aws_smithy_types::Document;
use awsim::config::BackendConfig;
use awsim::Config;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";

/// awsim configured with `fake` as its backend (short timeouts, so failures show fast).
pub fn config_for(url: &str) -> Config {
    Config {
        backend: Some(BackendConfig {
            url: url.to_string(),
            api_key: Some("sk-test".into()),
            first_byte_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
        }),
        ..Config::default()
    }
}

pub async fn awsim_for(fake: &FakeOpenAi) -> Server {
    support::start_with(config_for(&fake.url)).await
}

pub fn user(text: &str) -> Message {
    Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Text(text.into()))
        .build()
        .unwrap()
}

/// Everything a ConverseStream consumer sees, with when each event arrived.
#[derive(Debug, Default)]
pub struct Seen {
    pub events: Vec<&'static str>,
    pub texts: Vec<String>,
    pub reasoning: String,
    pub tools: Vec<(String, Vec<String>)>,
    pub block_starts: Vec<i32>,
    pub stop: Option<StopReason>,
    pub usage: (i32, i32),
    pub first_text_at: Option<Instant>,
    pub error: Option<String>,
}

/// A ConverseStream call with one user message, its events gathered.
pub async fn stream_reply(server: &Server, text: &str) -> Seen {
    consume(open_stream(server, text).await).await
}

/// A ConverseStream call with one user message, answered with a stream not yet read.
pub async fn open_stream(
    server: &Server,
    text: &str,
) -> aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamOutput {
    server
        .runtime()
        .converse_stream()
        .model_id(HAIKU)
        .messages(user(text))
        .send()
        .await
        .unwrap()
}

pub async fn consume(
    mut out: aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamOutput,
) -> Seen {
    let mut s = Seen::default();
    loop {
        let event = match out.stream.recv().await {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(e) => {
                s.error = Some(format!("{:?}", e.into_service_error()));
                break;
            }
        };
        match event {
            ConverseStreamOutput::MessageStart(_) => s.events.push("messageStart"),
            ConverseStreamOutput::ContentBlockStart(e) => {
                s.events.push("contentBlockStart");
                s.block_starts.push(e.content_block_index);
                if let Some(ContentBlockStart::ToolUse(t)) = e.start {
                    assert!(t.tool_use_id.starts_with("tooluse_"));
                    s.tools.push((t.name, Vec::new()));
                }
            }
            ConverseStreamOutput::ContentBlockDelta(e) => {
                s.events.push("contentBlockDelta");
                match e.delta.unwrap() {
                    ContentBlockDelta::Text(t) => {
                        s.first_text_at.get_or_insert_with(Instant::now);
                        s.texts.push(t);
                    }
                    ContentBlockDelta::ToolUse(t) => s.tools.last_mut().unwrap().1.push(t.input),
                    ContentBlockDelta::ReasoningContent(ReasoningContentBlockDelta::Text(t)) => {
                        s.reasoning.push_str(&t)
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
                s.usage = (u.input_tokens, u.output_tokens);
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    s
}

fn object(pairs: &[(&str, Document)]) -> Document {
    Document::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

pub fn tools() -> ToolConfiguration {
    let schema = object(&[
        ("type", Document::String("object".into())),
        (
            "properties",
            object(&[(
                "city",
                object(&[("type", Document::String("string".into()))]),
            )]),
        ),
    ]);
    let spec = |name: &str| {
        Tool::ToolSpec(
            ToolSpecification::builder()
                .name(name)
                .description(format!("{name} by city"))
                .input_schema(ToolInputSchema::Json(schema.clone()))
                .build()
                .unwrap(),
        )
    };
    ToolConfiguration::builder()
        .tools(spec("weather"))
        .tools(spec("time"))
        .build()
        .unwrap()
}

#[tokio::test]
async fn converse_stream_forwards_every_token_and_the_backend_usage() {
    let upstream = FakeOpenAi::always(Reply::Sse(fake::answer(
        &["Hello", ",", " world", "!"],
        "stop",
        17,
    )))
    .await;
    let server = awsim_for(&upstream).await;
    let out = server
        .runtime()
        .converse_stream()
        .model_id(HAIKU)
        .system(SystemContentBlock::Text("Be brief.".into()))
        .system(SystemContentBlock::Text("Be kind.".into()))
        .messages(user("Say hello"))
        .inference_config(
            InferenceConfiguration::builder()
                .max_tokens(64)
                .temperature(0.25)
                .top_p(0.5)
                .stop_sequences("END")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let s = consume(out).await;
    assert_eq!(s.error, None);
    assert_eq!(
        s.texts,
        ["Hello", ",", " world", "!"],
        "one delta per token"
    );
    assert_eq!(s.stop, Some(StopReason::EndTurn));
    assert_eq!(s.usage, (17, 4), "the backend's own counts");
    assert_eq!(s.events[0], "messageStart");
    assert_eq!(
        &s.events[s.events.len() - 3..],
        ["contentBlockStop", "messageStop", "metadata"]
    );

    let req = &upstream.requests()[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.headers["authorization"], "Bearer sk-test");
    assert_eq!(
        req.body,
        json!({
            "model": "llama3.1:8b",
            "messages": [
                {"role": "system", "content": "Be brief.\nBe kind."},
                {"role": "user", "content": "Say hello"},
            ],
            "stream": true,
            "stream_options": {"include_usage": true},
            "max_tokens": 64,
            "temperature": 0.25,
            "top_p": 0.5,
            "stop": ["END"],
        })
    );
}

/// A backend may report any count at all; Bedrock's token fields are 32-bit integers, so what
/// awsim passes on is capped there, and the total with it, where every SDK can still read it.
#[tokio::test]
async fn counts_a_backend_reports_beyond_what_bedrock_carries_are_capped() {
    let steps = vec![
        fake::role(),
        fake::text("Hi"),
        fake::finish("stop"),
        Step::Data(json!({
            "choices": [],
            "usage": {"prompt_tokens": 2_444_444_444_444_444_436_u64, "completion_tokens": 47},
        })),
        Step::Done,
    ];
    let upstream = FakeOpenAi::always(Reply::Sse(steps)).await;
    let server = awsim_for(&upstream).await;

    let out = server
        .runtime()
        .converse()
        .model_id(HAIKU)
        .messages(user("count"))
        .send()
        .await
        .unwrap();
    let usage = out.usage.unwrap();
    assert_eq!(
        (usage.input_tokens, usage.output_tokens, usage.total_tokens),
        (i32::MAX, 47, i32::MAX)
    );

    let stream = server
        .runtime()
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("count"))
        .send()
        .await
        .unwrap();
    let s = consume(stream).await;
    assert_eq!(s.error, None);
    assert_eq!(s.usage, (i32::MAX, 47));
}

#[tokio::test]
async fn tokens_leave_awsim_as_they_arrive() {
    let gap = Duration::from_millis(150);
    let upstream = FakeOpenAi::always(Reply::Sse(fake::paced(&["a", "b", "c", "d"], gap))).await;
    let server = awsim_for(&upstream).await;
    let started = Instant::now();
    let out = server
        .runtime()
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("go"))
        .send()
        .await
        .unwrap();
    let s = consume(out).await;
    let first = s.first_text_at.unwrap() - started;
    let total = started.elapsed();
    assert_eq!(s.texts, ["a", "b", "c", "d"]);
    assert!(first < gap * 2, "first token after {first:?}: buffered?");
    assert!(total >= gap * 4, "the whole answer took {total:?}");
}

#[tokio::test]
async fn converse_collects_reasoning_text_and_counts_when_usage_is_missing() {
    let steps = vec![
        fake::role(),
        fake::reasoning("Think"),
        fake::reasoning(" hard."),
        fake::text("Forty"),
        fake::text(" two"),
        fake::finish("length"),
        Step::Done,
    ];
    let upstream = FakeOpenAi::always(Reply::Sse(steps)).await;
    let server = awsim_for(&upstream).await;
    let out = server
        .runtime()
        .converse()
        .model_id("us.anthropic.claude-3-7-sonnet-20250219-v1:0")
        .messages(user("the answer?"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.stop_reason, StopReason::MaxTokens);
    let msg = out.output.unwrap().as_message().unwrap().clone();
    let reasoning = msg.content[0].as_reasoning_content().unwrap();
    assert_eq!(reasoning.as_reasoning_text().unwrap().text, "Think hard.");
    assert_eq!(msg.content[1].as_text().unwrap(), "Forty two");
    let usage = out.usage.unwrap();
    // Counted by awsim: Think · hard · . · Forty · two.
    assert_eq!(usage.output_tokens, 5);
    assert!(usage.input_tokens > 0);
}

#[tokio::test]
async fn parallel_tool_calls_stream_fragment_by_fragment_into_their_own_blocks() {
    let steps = vec![
        fake::role(),
        fake::text("Checking."),
        fake::tool(0, Some(("call_1", "weather")), ""),
        fake::tool(0, None, "{\"city\":"),
        fake::tool(0, None, "\"Paris\"}"),
        fake::tool(1, Some(("call_2", "time")), "{\"city\""),
        fake::tool(1, None, ":\"Rome\"}"),
        fake::finish("tool_calls"),
        fake::usage(30, 12),
        Step::Done,
    ];
    let upstream = FakeOpenAi::always(Reply::Sse(steps)).await;
    let server = awsim_for(&upstream).await;
    let out = server
        .runtime()
        .converse_stream()
        .model_id(HAIKU)
        .messages(user("weather in Paris, time in Rome"))
        .tool_config(tools())
        .send()
        .await
        .unwrap();
    let s = consume(out).await;
    assert_eq!(s.error, None);
    assert_eq!(s.stop, Some(StopReason::ToolUse));
    assert_eq!(
        s.block_starts,
        [1, 2],
        "text is block 0, each call its own block"
    );
    assert_eq!(
        s.tools,
        [
            (
                "weather".to_string(),
                vec!["{\"city\":".to_string(), "\"Paris\"}".to_string()]
            ),
            (
                "time".to_string(),
                vec!["{\"city\"".to_string(), ":\"Rome\"}".to_string()]
            ),
        ]
    );
    assert_eq!(s.usage, (30, 12));
    let body = upstream.last_body();
    assert_eq!(body["tool_choice"], "auto");
    assert_eq!(body["tools"][1]["function"]["name"], "time");
    assert_eq!(
        body["tools"][0]["function"]["parameters"],
        json!({"type": "object", "properties": {"city": {"type": "string"}}})
    );
}

#[tokio::test]
async fn history_with_tool_results_images_and_documents_is_translated_in_order() {
    let upstream = FakeOpenAi::always(Reply::Sse(fake::answer(&["ok"], "stop", 3))).await;
    let server = awsim_for(&upstream).await;
    let call = ToolUseBlock::builder()
        .tool_use_id("tooluse_abc")
        .name("weather")
        .input(object(&[("city", Document::String("Paris".into()))]))
        .build()
        .unwrap();
    let assistant = Message::builder()
        .role(ConversationRole::Assistant)
        .content(ContentBlock::Text("Let me check.".into()))
        .content(ContentBlock::ToolUse(call))
        .build()
        .unwrap();
    let result = Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::ToolResult(
            ToolResultBlock::builder()
                .tool_use_id("tooluse_abc")
                .content(ToolResultContentBlock::Text("21 degrees".into()))
                .build()
                .unwrap(),
        ))
        .content(ContentBlock::Text("And this picture and file?".into()))
        .content(ContentBlock::Image(
            ImageBlock::builder()
                .format(ImageFormat::Png)
                .source(ImageSource::Bytes(Blob::new(b"\x89PNG".to_vec())))
                .build()
                .unwrap(),
        ))
        .content(ContentBlock::Document(
            DocumentBlock::builder()
                .name("notes")
                .format(DocumentFormat::Md)
                .source(DocumentSource::Bytes(Blob::new(b"# Paris\nsunny".to_vec())))
                .build()
                .unwrap(),
        ))
        .build()
        .unwrap();
    let out = server
        .runtime()
        .converse()
        .model_id(HAIKU)
        .messages(user("weather in Paris?"))
        .messages(assistant)
        .messages(result)
        .tool_config(tools())
        .send()
        .await
        .unwrap();
    assert_eq!(out.stop_reason, StopReason::EndTurn);
    let messages = upstream.last_body()["messages"].clone();
    assert_eq!(
        messages,
        json!([
            {"role": "user", "content": "weather in Paris?"},
            {"role": "assistant", "content": "Let me check.", "tool_calls": [
                {"id": "tooluse_abc", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}},
            ]},
            {"role": "tool", "tool_call_id": "tooluse_abc", "content": "21 degrees"},
            {"role": "user", "content": [
                {"type": "text", "text": "And this picture and file?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw=="}},
                {"type": "text", "text": "<document name=\"notes\" format=\"md\">\n# Paris\nsunny\n</document>"},
            ]},
        ])
    );
}

#[tokio::test]
async fn the_model_map_picks_the_backend_model_by_id_then_resolved_id_then_default() {
    let upstream = FakeOpenAi::always(Reply::Sse(fake::answer(&["ok"], "stop", 3))).await;
    let mut config = config_for(&upstream.url);
    config.model_map = awsim::model_map::ModelMap::parse(
        "[invoke]\n\"us.meta.llama3-2-1b-instruct-v1:0\" = \"as-sent\"\n\"anthropic.claude-3-haiku-20240307-v1:0\" = \"resolved\"\n\"mistral.*\" = \"family\"\n",
    )
    .unwrap();
    let server = support::start_with(config).await;
    let client = server.runtime();
    for (id, want) in [
        ("us.meta.llama3-2-1b-instruct-v1:0", "as-sent"),
        ("us.anthropic.claude-3-haiku-20240307-v1:0", "resolved"),
        (
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
            "resolved",
        ),
        ("mistral.mistral-large-2402-v1:0", "family"),
        ("amazon.nova-lite-v1:0", "llama3.1:8b"),
    ] {
        client
            .converse()
            .model_id(id)
            .messages(user("hi"))
            .send()
            .await
            .unwrap();
        assert_eq!(upstream.last_body()["model"], want, "{id}");
    }
}

#[tokio::test]
async fn connections_to_the_backend_are_pooled() {
    let upstream = FakeOpenAi::always(Reply::Sse(fake::answer(&["a", "b"], "stop", 3))).await;
    let server = awsim_for(&upstream).await;
    for _ in 0..3 {
        assert_eq!(stream_reply(&server, "hi").await.texts, ["a", "b"]);
    }
    assert_eq!(upstream.requests().len(), 3);
    assert_eq!(upstream.connections(), 1, "one kept-alive connection");
}

#[tokio::test]
async fn health_reports_the_backend_and_its_models() {
    let upstream = FakeOpenAi::start(fake::routes(vec![], 4)).await;
    let server = awsim_for(&upstream).await;
    let health: Value = server
        .http()
        .get(server.at("/_awsim/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let b = &health["backendStatus"];
    assert_eq!(b["reachable"], true);
    assert_eq!(b["url"], upstream.url.as_str());
    assert_eq!(b["models"], json!(["fake-chat", "fake-embed"]));
    assert_eq!(
        b["missingModels"],
        json!(["llama3.1:8b", "nomic-embed-text"])
    );
    assert_eq!(
        upstream.requests()[0].headers["authorization"],
        "Bearer sk-test"
    );

    // A backend that is down does not stop awsim nor fail the health check.
    let dead = unused_url().await;
    let server = support::start_with(config_for(&dead)).await;
    let health: Value = server
        .http()
        .get(server.at("/_awsim/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["backendStatus"]["reachable"], false);
    assert!(health["backendStatus"]["error"].as_str().unwrap().len() > 3);
}

/// A loopback URL where nothing listens.
pub async fn unused_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/v1")
}
