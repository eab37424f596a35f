//! Rules that steer awsim from a test: `POST /_awsim/rules`, `GET`, `DELETE`, `--scenario` and
//! reset; scripted answers (`respond`) in every family's own shape, through the AWS SDK for Rust.

use crate::backend::{awsim_for, user, HAIKU};
use crate::runtime_converse::consume;
use crate::runtime_families::{count_tokens, invoke, stream};
use crate::runtime_field_paths::json_of;
use crate::support::fake_openai::{FakeOpenAi, Reply};
use crate::support::{self, Server};
use aws_sdk_bedrockruntime::types::{ContentBlock, StopReason};
use awsim::cli::Parsed;
use awsim::Config;
use serde_json::{json, Value};

async fn post_rules(server: &Server, body: &str) -> (u16, Option<String>, Value) {
    let resp = server
        .http()
        .post(server.at("/_awsim/rules"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let error_type = resp
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_string());
    (status, error_type, resp.json().await.unwrap())
}

async fn delete(server: &Server, path: &str) -> (u16, Value) {
    let resp = server.http().delete(server.at(path)).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn rules_are_added_listed_in_order_with_their_hits_and_deleted() {
    let server = support::start().await;
    let ids = server
        .add_rules(
            json!({"match": {"prompt": {"contains": "weather"}}, "respond": {"text": "Sunny."}}),
        )
        .await;
    assert_eq!(ids, ["rule-1"]);
    let ids = server
        .add_rules(json!([
            {"id": "throttle-twice", "fault": {"kind": "throttling"}, "times": 2},
            {"match": {"operation": ["Converse", "ConverseStream"]}, "respond": {"echo": true}}
        ]))
        .await;
    assert_eq!(ids, ["throttle-twice", "rule-2"]);

    let reply = server
        .runtime()
        .converse()
        .model_id(HAIKU)
        .messages(user("weather today?"))
        .send()
        .await
        .unwrap();
    let text = reply.output.unwrap().as_message().unwrap().content[0]
        .as_text()
        .unwrap()
        .clone();
    assert_eq!(text, "Sunny.");

    let rules = server.rules().await;
    let listed: Vec<(&str, u64, &str)> = rules
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap(),
                r["hits"].as_u64().unwrap(),
                r["source"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("rule-1", 1, "api"),
            ("throttle-twice", 0, "api"),
            ("rule-2", 0, "api")
        ]
    );
    assert_eq!(
        rules[1]["fault"],
        json!({"kind": "throttling"}),
        "listed as written"
    );
    assert_eq!(rules[1]["times"], 2);

    assert_eq!(
        delete(&server, "/_awsim/rules/throttle-twice").await,
        (200, json!({"deleted": "throttle-twice"}))
    );
    let (status, body) = delete(&server, "/_awsim/rules/throttle-twice").await;
    assert_eq!(status, 404);
    assert_eq!(
        body["message"],
        "No rule has the id 'throttle-twice'; GET /_awsim/rules lists them."
    );
    assert_eq!(delete(&server, "/_awsim/rules").await.0, 200);
    assert!(server.rules().await.is_empty());
}

#[tokio::test]
async fn bad_rule_json_is_a_validation_exception_that_names_the_field() {
    let server = support::start().await;
    let cases = [
        (
            r#"[{"respond": {"text": "x"}}, {"fault": {"kind": "throttle"}}]"#,
            "rules[1].fault.kind: unknown variant `throttle`, expected one of `throttling`, `serviceUnavailable`",
        ),
        (
            r#"{"respond": {"text": "x"}, "times": 0}"#,
            "rule.times: must be at least 1",
        ),
        (
            r#"{"match": {"modelID": "anthropic.*"}, "respond": {"text": "x"}}"#,
            "rule.match.modelID: unknown field `modelID`, expected one of `modelId`",
        ),
        (
            r#"{"fault": {"kind": "disconnect", "ms": 10}}"#,
            "rule.fault.ms: only stall and delay take ms, not disconnect",
        ),
        (
            r#"{"match": {}}"#,
            "rule: a rule has exactly one of respond, fault or quota; this one has none",
        ),
        (
            r#"{"respond": "#,
            "The body must be a rule (a JSON object) or an array of rules: EOF while parsing",
        ),
    ];
    for (body, message) in cases {
        let (status, error_type, reply) = post_rules(&server, body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(error_type.as_deref(), Some("ValidationException"));
        let got = reply["message"].as_str().unwrap();
        assert!(got.starts_with(message), "{body}: {got}");
    }
    assert!(
        server.rules().await.is_empty(),
        "a batch with a bad rule adds none"
    );
}

#[tokio::test]
async fn a_rule_matched_on_the_prompt_answers_with_a_tool_call_the_sdk_parses() {
    let server = support::start().await;
    server
        .add_rules(json!({
            "match": {"modelId": "anthropic.*", "prompt": {"contains": "weather"}},
            "respond": {"toolUse": [{"name": "get_weather", "input": {"city": "Paris"}}]}
        }))
        .await;
    // A cross-region profile id resolves to an anthropic.* model: the glob matches it.
    let reply = server
        .runtime()
        .converse()
        .model_id("us.anthropic.claude-3-5-sonnet-20241022-v2:0")
        .messages(user("What's the weather in Paris?"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.stop_reason, StopReason::ToolUse);
    let message = reply.output.unwrap();
    let ContentBlock::ToolUse(call) = &message.as_message().unwrap().content[0] else {
        panic!("not a tool call: {message:?}")
    };
    assert_eq!(call.name, "get_weather");
    assert_eq!(json_of(&call.input), json!({"city": "Paris"}));
    assert!(call.tool_use_id.starts_with("tooluse_"));

    let streamed = consume(
        server
            .runtime()
            .converse_stream()
            .model_id(HAIKU)
            .messages(user("and the weather in Rome?"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        streamed.tool_inputs,
        [("get_weather".to_string(), r#"{"city":"Paris"}"#.to_string())]
    );
    assert_eq!(streamed.stop, Some(StopReason::ToolUse));

    // Another prompt is not matched: the canned answer.
    let other = consume(
        server
            .runtime()
            .converse_stream()
            .model_id(HAIKU)
            .messages(user("hello"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(other.text.contains("canned answer"), "{}", other.text);
}

#[tokio::test]
async fn explicit_tokens_are_one_event_each_with_the_scripted_usage_and_stop() {
    let server = support::start().await;
    server
        .add_rules(json!({"respond": {
            "reasoning": "Short.",
            "tokens": ["Bonj", "our", " !"],
            "stopReason": "max_tokens",
            "usage": {"inputTokens": 11, "outputTokens": 22}
        }}))
        .await;
    let s = consume(
        server
            .runtime()
            .converse_stream()
            .model_id(HAIKU)
            .messages(user("hi"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s.text, "Bonjour !");
    assert_eq!(s.text_deltas, 3);
    assert_eq!(s.stop, Some(StopReason::MaxTokens));
    assert_eq!((s.input_tokens, s.output_tokens), (11, 22));
}

#[tokio::test]
async fn a_scripted_answer_comes_in_each_family_s_own_format() {
    let server = support::start().await;
    server
        .add_rules(
            json!({"match": {"operation": ["InvokeModel", "InvokeModelWithResponseStream"]},
                          "respond": {"text": "Scripted words."}}),
        )
        .await;
    let claude = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 50,
                        "messages": [{"role": "user", "content": "hi"}]});
    let whole = invoke(&server, HAIKU, &claude).await;
    assert_eq!(whole["content"][0]["text"], "Scripted words.");
    assert_eq!(whole["stop_reason"], "end_turn");
    let chunks = stream(&server, HAIKU, &claude).await;
    let text: String = chunks
        .iter()
        .filter(|c| c["type"] == "content_block_delta")
        .map(|c| c["delta"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Scripted words.");

    let titan = invoke(
        &server,
        "amazon.titan-text-express-v1",
        &json!({"inputText": "hi"}),
    )
    .await;
    assert_eq!(titan["results"][0]["outputText"], "Scripted words.");
    let llama = stream(
        &server,
        "meta.llama3-8b-instruct-v1:0",
        &json!({"prompt": "hi"}),
    )
    .await;
    let text: String = llama
        .iter()
        .map(|c| c["generation"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(text, "Scripted words.");
}

#[tokio::test]
async fn count_tokens_reports_a_rule_s_input_tokens() {
    let server = support::start().await;
    let body = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 50,
                      "messages": [{"role": "user", "content": "hi"}]});
    let counted = count_tokens(&server, HAIKU, &body).await;
    server
        .add_rules(json!({"match": {"operation": "CountTokens"}, "respond": {"text": "", "usage": {"inputTokens": 4242}}}))
        .await;
    assert_eq!(count_tokens(&server, HAIKU, &body).await, 4242);
    assert_ne!(counted, 4242);
}

#[tokio::test]
async fn a_responding_rule_skips_the_backend() {
    let upstream = FakeOpenAi::always(Reply::Status(500, "{}".into())).await;
    let server = awsim_for(&upstream).await;
    server
        .add_rules(json!({"respond": {"text": "No backend needed."}}))
        .await;
    let s = consume(
        server
            .runtime()
            .converse_stream()
            .model_id(HAIKU)
            .messages(user("hi"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s.text, "No backend needed.");
    assert!(upstream.requests().is_empty());
}

fn scenario_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("awsim-rules-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn config_with_scenario(path: &std::path::Path) -> Config {
    let parsed = Parsed::from_args(["awsim", "--scenario", path.to_str().unwrap()]).unwrap();
    Config {
        scenario: Config::from_cli(&parsed).unwrap().scenario,
        ..Config::default()
    }
}

const SCENARIO_TOML: &str = r#"
[[rules]]
id = "paris"
[rules.match]
prompt = { regex = "(?i)weather in \\w+" }
[rules.respond]
text = "It is sunny."

[[rules]]
times = 1
[rules.match]
operation = "Converse"
[rules.fault]
kind = "serviceUnavailable"
"#;

#[tokio::test]
async fn rules_from_a_scenario_file_answer_and_a_reset_restores_them() {
    for (name, text) in [
        ("scenario.toml", SCENARIO_TOML.to_string()),
        (
            "scenario.json",
            json!([
                {"id": "paris", "match": {"prompt": {"regex": "(?i)weather in \\w+"}}, "respond": {"text": "It is sunny."}},
                {"times": 1, "match": {"operation": "Converse"}, "fault": {"kind": "serviceUnavailable"}}
            ])
            .to_string(),
        ),
    ] {
        let path = scenario_file(name, &text);
        let server = support::start_with(config_with_scenario(&path)).await;
        let ids: Vec<Value> = server.rules().await.iter().map(|r| r["id"].clone()).collect();
        assert_eq!(ids, [json!("paris"), json!("scenario-2")], "{name}");

        let s = consume(
            server
                .runtime()
                .converse_stream()
                .model_id(HAIKU)
                .messages(user("What's the WEATHER in Lyon?"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s.text, "It is sunny.", "{name}");
        let err = server
            .runtime()
            .converse()
            .model_id(HAIKU)
            .messages(user("hi"))
            .send()
            .await
            .unwrap_err();
        assert!(err.into_service_error().is_service_unavailable_exception());

        server
            .add_rules(json!({"fault": {"kind": "throttling"}}))
            .await;
        server
            .http()
            .post(server.at("/_awsim/reset"))
            .send()
            .await
            .unwrap();
        let rules = server.rules().await;
        assert_eq!(rules.len(), 2, "the rule added over HTTP is gone");
        assert!(rules.iter().all(|r| r["hits"] == 0 && r["source"] == "scenario"));
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}

#[test]
fn a_bad_scenario_file_stops_start_up_naming_the_rule_and_the_field() {
    let path = scenario_file(
        "bad.toml",
        "[[rules]]\n[rules.respond]\ntext = \"x\"\n\n[[rules]]\n[rules.fault]\nkind = \"throttle\"\n",
    );
    let parsed = Parsed::from_args(["awsim", "--scenario", path.to_str().unwrap()]).unwrap();
    let err = Config::from_cli(&parsed).unwrap_err();
    let expected = format!(
        "--scenario {}: rules[1].fault.kind: unknown variant `throttle`, expected one of",
        path.display()
    );
    assert!(err.starts_with(&expected), "{err}");
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}
