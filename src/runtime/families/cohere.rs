//! Cohere Command, legacy generate API (`cohere.command-text-v14`, `cohere.command-light-text-v14`):
//! `prompt`, `p`, `k`, `max_tokens`, `stop_sequences`, `return_likelihoods`, `num_generations` …
//!
//! ```text
//! {"text":" Hi","is_finished":false}
//! {"is_finished":true,"finish_reason":"COMPLETE","response":{"generations":[…],"id":"…","prompt":"…"},"amazon-bedrock-invocationMetrics":{…}}
//! ```

use super::{invocation_metrics, Family};
use crate::aws::ApiError;
use crate::model_ref::ModelRef;
use crate::runtime::read::fields::{Fields, Object};
use crate::runtime::read::prompt;
use crate::runtime::read::rules::{int_in, keys, one_of};
use crate::runtime::stream::answer::Answer;
use crate::runtime::stream::delta::{Delta, StopReason};
use crate::runtime::stream::ids::Ids;
use crate::runtime::stream::request::ChatRequest;
use crate::runtime::stream::shaper::{Event, Shaper, Timing};
use serde_json::{json, Value};

pub struct Command;

const KEYS: &[&str] = &[
    "prompt",
    "temperature",
    "p",
    "k",
    "max_tokens",
    "stop_sequences",
    "return_likelihoods",
    "stream",
    "num_generations",
    "logit_bias",
    "truncate",
];

/// Cohere's finish reasons (shared with Command R).
pub fn finish_reason(reason: &StopReason) -> &'static str {
    match reason {
        StopReason::MaxTokens => "MAX_TOKENS",
        StopReason::ContentFiltered => "ERROR_TOXIC",
        _ => "COMPLETE",
    }
}

impl Family for Command {
    fn parse(&self, body: &Object, _model: &ModelRef) -> Result<ChatRequest, ApiError> {
        let f = Fields::new(body, "");
        keys(&f, &["prompt"], KEYS)?;
        let mut req = prompt::request(f.req_str("prompt")?);
        req.temperature = f.f64_in("temperature", 0.0, 5.0)?;
        req.top_p = f.f64_in("p", 0.0, 1.0)?;
        req.top_k = f.f64_in("k", 0.0, 500.0)?.map(|k| k as u32);
        req.max_tokens = int_in(&f, "max_tokens", 1, 4096)?;
        req.stop_sequences = f.strings("stop_sequences")?;
        one_of(&f, "return_likelihoods", &["GENERATION", "ALL", "NONE"])?;
        one_of(&f, "truncate", &["NONE", "START", "END"])?;
        int_in(&f, "num_generations", 1, 5)?;
        f.bool("stream")?;
        f.object("logit_bias")?;
        Ok(req)
    }

    fn shaper(&self, _model: &ModelRef, request: &ChatRequest, ids: Ids) -> Box<dyn Shaper> {
        Box::new(CommandShaper {
            prompt: request.last_user_text(),
            text: String::new(),
            ids,
        })
    }

    fn respond(
        &self,
        answer: &Answer,
        _: &ModelRef,
        request: &ChatRequest,
        ids: &mut Ids,
    ) -> Value {
        response(
            &answer.text(),
            answer.reason(),
            &request.last_user_text(),
            ids,
        )
    }
}

fn response(text: &str, reason: &StopReason, prompt: &str, ids: &mut Ids) -> Value {
    json!({
        "generations": [{
            "finish_reason": finish_reason(reason),
            "id": ids.uuid(),
            "text": text,
        }],
        "id": ids.uuid(),
        "prompt": prompt,
    })
}

struct CommandShaper {
    prompt: String,
    /// The whole text, repeated in the last chunk's `response`.
    text: String,
    ids: Ids,
}

impl Shaper for CommandShaper {
    fn on_delta(&mut self, delta: &Delta, timing: &Timing, out: &mut Vec<Event>) {
        match delta {
            Delta::Text(t) => {
                self.text.push_str(t);
                out.push(Event::text_chunk(
                    &[r#"{"text":"#],
                    t,
                    r#","is_finished":false}"#,
                ));
            }
            Delta::Stop(stop) => out.push(Event::json(
                "chunk",
                &json!({
                    "is_finished": true,
                    "finish_reason": finish_reason(&stop.reason),
                    "response": response(&self.text, &stop.reason, &self.prompt, &mut self.ids),
                    "amazon-bedrock-invocationMetrics": invocation_metrics(stop.usage, timing),
                }),
            )),
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
    use crate::runtime::families::testing::{parse_body, shape, stop};

    fn parse(v: Value) -> Result<ChatRequest, ApiError> {
        parse_body(&Command, "cohere.command-text-v14", v)
    }

    #[test]
    fn generate_parameters_are_checked() {
        let r = parse(json!({"prompt": "Write a haiku", "p": 0.5, "k": 10, "max_tokens": 40, "stream": true, "return_likelihoods": "NONE"})).unwrap();
        assert_eq!((r.top_k, r.max_tokens), (Some(10), Some(40)));
        assert!(parse(json!({"prompt": "x", "truncate": "MIDDLE"}))
            .unwrap_err()
            .message()
            .contains("#/truncate: MIDDLE"));
        assert!(parse(json!({"prompt": "x", "num_generations": 9}))
            .unwrap_err()
            .message()
            .contains("at 'num_generations'"));
        assert!(parse(json!({"prompt": "x", "temperature": 6}))
            .unwrap_err()
            .message()
            .contains("at 'temperature'"));
        assert!(parse(json!({"message": "x"}))
            .unwrap_err()
            .message()
            .contains("[prompt]"));
    }

    #[test]
    fn the_last_chunk_repeats_the_whole_response() {
        let mut s = CommandShaper {
            prompt: "Hi".into(),
            text: String::new(),
            ids: Ids::seeded(&[b"3"]),
        };
        let c = shape(
            &mut s,
            [
                Delta::Text(" Hello".into()),
                Delta::Text(" you".into()),
                stop(StopReason::EndTurn, 4, 2),
            ],
        );
        assert_eq!(c[0], json!({"text": " Hello", "is_finished": false}));
        assert_eq!(c[2]["is_finished"], true);
        assert_eq!(c[2]["finish_reason"], "COMPLETE");
        assert_eq!(c[2]["response"]["generations"][0]["text"], " Hello you");
        assert_eq!(c[2]["response"]["prompt"], "Hi");
        assert_eq!(
            c[2]["amazon-bedrock-invocationMetrics"]["outputTokenCount"],
            2
        );
    }
}
