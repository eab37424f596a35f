//! Anthropic Claude Text Completions (`anthropic.claude-v2`, `-v2:1`, `claude-instant-v1`): a
//! `prompt` of `\n\nHuman:` / `\n\nAssistant:` turns and `max_tokens_to_sample`.
//!
//! ```text
//! {"completion":" Hello","stop_reason":null,"stop":null}
//! …
//! {"completion":"","stop_reason":"stop_sequence","stop":"\n\nHuman:","amazon-bedrock-invocationMetrics":{…}}
//! ```

use super::{invocation_metrics, Family};
use crate::aws::ApiError;
use crate::model_ref::ModelRef;
use crate::runtime::read::fields::{Fields, Object};
use crate::runtime::read::prompt::{self, ASSISTANT, HUMAN};
use crate::runtime::read::rules::{int_in, keys};
use crate::runtime::stream::answer::Answer;
use crate::runtime::stream::delta::{Delta, StopReason};
use crate::runtime::stream::ids::Ids;
use crate::runtime::stream::request::ChatRequest;
use crate::runtime::stream::shaper::{Event, Shaper, Timing};
use serde_json::{json, Value};

pub struct Completions;

const KEYS: &[&str] = &[
    "prompt",
    "max_tokens_to_sample",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "anthropic_version",
];

/// `stop_reason` and `stop`: a natural end is the model emitting its own `\n\nHuman:` stop.
fn stop_fields(reason: &StopReason) -> (&'static str, Option<&str>) {
    match reason {
        StopReason::MaxTokens => ("max_tokens", None),
        StopReason::StopSequence(s) => ("stop_sequence", Some(s)),
        _ => ("stop_sequence", Some(HUMAN)),
    }
}

/// The prompt rule Bedrock enforces before the model sees anything.
fn check_prompt(prompt: &str) -> Result<(), ApiError> {
    let starts = prompt.contains(HUMAN);
    let ends = prompt
        .rfind(ASSISTANT)
        .is_some_and(|a| prompt.rfind(HUMAN).is_none_or(|h| a > h));
    let start_rule = "prompt must start with \"\n\nHuman:\" turn";
    let end_rule = "prompt must end with \"\n\nAssistant:\" turn";
    match (starts, ends) {
        (true, true) => Ok(()),
        (false, false) => Err(ApiError::validation(format!(
            "Invalid prompt: {start_rule}, {end_rule}"
        ))),
        (false, true) => Err(ApiError::validation(format!(
            "Invalid prompt: {start_rule} after an optional system prompt"
        ))),
        (true, false) => Err(ApiError::validation(format!("Invalid prompt: {end_rule}"))),
    }
}

impl Family for Completions {
    fn parse(&self, body: &Object, _model: &ModelRef) -> Result<ChatRequest, ApiError> {
        let f = Fields::new(body, "");
        keys(&f, &["prompt", "max_tokens_to_sample"], KEYS)?;
        let text = f.req_str("prompt")?;
        check_prompt(text)?;
        let mut req = prompt::request(text);
        req.max_tokens = int_in(&f, "max_tokens_to_sample", 0, 4096)?;
        req.temperature = f.f64_in("temperature", 0.0, 1.0)?;
        req.top_p = f.f64_in("top_p", 0.0, 1.0)?;
        req.top_k = int_in(&f, "top_k", 0, 500)?;
        req.stop_sequences = f.strings("stop_sequences")?;
        Ok(req)
    }

    fn shaper(&self, _model: &ModelRef, _request: &ChatRequest, _ids: Ids) -> Box<dyn Shaper> {
        Box::new(CompletionShaper)
    }

    fn respond(
        &self,
        answer: &Answer,
        _model: &ModelRef,
        _request: &ChatRequest,
        _ids: &mut Ids,
    ) -> Value {
        let (stop_reason, stop) = stop_fields(answer.reason());
        json!({
            "type": "completion",
            "completion": answer.text(),
            "stop_reason": stop_reason,
            "stop": stop,
        })
    }
}

struct CompletionShaper;

impl Shaper for CompletionShaper {
    fn on_delta(&mut self, delta: &Delta, timing: &Timing, out: &mut Vec<Event>) {
        match delta {
            Delta::Text(t) => out.push(Event::text_chunk(
                &[r#"{"completion":"#],
                t,
                r#","stop_reason":null,"stop":null}"#,
            )),
            Delta::Stop(stop) => {
                let (stop_reason, sequence) = stop_fields(&stop.reason);
                out.push(Event::json(
                    "chunk",
                    &json!({
                        "completion": "",
                        "stop_reason": stop_reason,
                        "stop": sequence,
                        "amazon-bedrock-invocationMetrics": invocation_metrics(stop.usage, timing),
                    }),
                ));
            }
            // Text Completions have no tools and no reasoning.
            Delta::Start { .. }
            | Delta::Reasoning(_)
            | Delta::ToolStart { .. }
            | Delta::ToolInput(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::families::testing::{events, parse_body, stop};

    fn parse(v: Value) -> Result<ChatRequest, ApiError> {
        parse_body(&Completions, "anthropic.claude-v2", v)
    }

    #[test]
    fn the_prompt_must_alternate_human_and_assistant() {
        let e = parse(json!({"prompt": "hi", "max_tokens_to_sample": 5})).unwrap_err();
        assert_eq!(
            e.message(),
            "Invalid prompt: prompt must start with \"\n\nHuman:\" turn, prompt must end with \"\n\nAssistant:\" turn"
        );
        let e = parse(json!({"prompt": "\n\nHuman: hi", "max_tokens_to_sample": 5})).unwrap_err();
        assert!(e.message().contains("must end with"), "{e}");
        let r = parse(json!({"prompt": "\n\nHuman: What is S3?\n\nAssistant:", "max_tokens_to_sample": 50, "stop_sequences": ["\n\nHuman:"]})).unwrap();
        assert_eq!(r.last_user_text(), "What is S3?");
        assert_eq!(r.max_tokens, Some(50));
    }

    #[test]
    fn max_tokens_to_sample_is_required_and_the_schema_is_closed() {
        let e = parse(json!({"prompt": "\n\nHuman: hi\n\nAssistant:"})).unwrap_err();
        assert!(e.message().contains("[max_tokens_to_sample]"), "{e}");
        let e = parse(json!({"prompt": "\n\nHuman: hi\n\nAssistant:", "max_tokens_to_sample": 5, "max_tokens": 5})).unwrap_err();
        assert!(e.message().contains("extraneous key [max_tokens]"), "{e}");
        let e =
            parse(json!({"prompt": "\n\nHuman: hi\n\nAssistant:", "max_tokens_to_sample": "5"}))
                .unwrap_err();
        assert!(
            e.message()
                .contains("'max_tokens_to_sample' must be an integer"),
            "{e}"
        );
    }

    #[test]
    fn chunks_carry_completion_and_the_last_one_the_stop() {
        let out = events(
            &mut CompletionShaper,
            [
                Delta::Start { input_tokens: 4 },
                Delta::Text(" Hi".into()),
                stop(StopReason::EndTurn, 4, 1),
            ],
        );
        assert_eq!(out.len(), 2);
        assert_eq!(
            String::from_utf8(out[0].payload.clone()).unwrap(),
            r#"{"completion":" Hi","stop_reason":null,"stop":null}"#
        );
        let last: Value = serde_json::from_slice(&out[1].payload).unwrap();
        assert_eq!(last["stop_reason"], "stop_sequence");
        assert_eq!(last["stop"], "\n\nHuman:");
        assert_eq!(
            last["amazon-bedrock-invocationMetrics"]["outputTokenCount"],
            1
        );
    }
}
