//! Prompt completions answered as a list of texts: Mistral's text models (`outputs`) and DeepSeek
//! R1's `prompt` form (`choices`) share one request shape and one chunk shape, differing only in the
//! list's name and whether `top_k` is accepted.
//!
//! ```text
//! {"outputs":[{"text":" Hi","stop_reason":null}]} … {"outputs":[{"text":"","stop_reason":"stop"}],"amazon-bedrock-invocationMetrics":{…}}
//! ```

use super::{invocation_metrics, Family};
use crate::aws::ApiError;
use crate::model_ref::ModelRef;
use crate::runtime::read::fields::{Fields, Object};
use crate::runtime::read::prompt;
use crate::runtime::read::rules::{int_in, keys, stop_list};
use crate::runtime::stream::answer::Answer;
use crate::runtime::stream::delta::{Delta, StopReason};
use crate::runtime::stream::ids::Ids;
use crate::runtime::stream::request::ChatRequest;
use crate::runtime::stream::shaper::{Event, Shaper, Timing};
use serde_json::{json, Value};

/// A `prompt` body answered by `{"<list>":[{"text","stop_reason"}]}`.
pub struct PromptCompletion {
    /// `outputs` (Mistral) or `choices` (DeepSeek).
    list: &'static str,
    keys: &'static [&'static str],
}

/// Mistral 7B, Mixtral, Mistral Large 2402 / Small: `prompt`, `max_tokens`, `stop`, `top_k`.
pub const MISTRAL: PromptCompletion = PromptCompletion {
    list: "outputs",
    keys: &[
        "prompt",
        "max_tokens",
        "stop",
        "temperature",
        "top_p",
        "top_k",
    ],
};

/// DeepSeek R1's text-completion form.
pub const DEEPSEEK: PromptCompletion = PromptCompletion {
    list: "choices",
    keys: &["prompt", "temperature", "top_p", "max_tokens", "stop"],
};

fn stop_reason(reason: &StopReason) -> &'static str {
    match reason {
        StopReason::MaxTokens => "length",
        _ => "stop",
    }
}

impl Family for PromptCompletion {
    fn parse(&self, body: &Object, _model: &ModelRef) -> Result<ChatRequest, ApiError> {
        let f = Fields::new(body, "");
        keys(&f, &["prompt"], self.keys)?;
        let mut req = prompt::request(f.req_str("prompt")?);
        req.max_tokens = int_in(&f, "max_tokens", 1, 32_768)?;
        req.temperature = f.f64_in("temperature", 0.0, 1.0)?;
        req.top_p = f.f64_in("top_p", 0.0, 1.0)?;
        if self.keys.contains(&"top_k") {
            req.top_k = int_in(&f, "top_k", 1, 200)?;
        }
        req.stop_sequences = stop_list(&f, "stop")?;
        Ok(req)
    }

    fn shaper(&self, _model: &ModelRef, _request: &ChatRequest, _ids: Ids) -> Box<dyn Shaper> {
        Box::new(CompletionShaper { list: self.list })
    }

    fn respond(&self, answer: &Answer, _: &ModelRef, _: &ChatRequest, _: &mut Ids) -> Value {
        json!({self.list: [{"text": answer.text(), "stop_reason": stop_reason(answer.reason())}]})
    }
}

struct CompletionShaper {
    list: &'static str,
}

impl Shaper for CompletionShaper {
    fn on_delta(&mut self, delta: &Delta, timing: &Timing, out: &mut Vec<Event>) {
        match delta {
            Delta::Text(t) => out.push(Event::text_chunk(
                &[r#"{""#, self.list, r#"":[{"text":"#],
                t,
                r#","stop_reason":null}]}"#,
            )),
            Delta::Stop(stop) => out.push(Event::json(
                "chunk",
                &json!({
                    self.list: [{"text": "", "stop_reason": stop_reason(&stop.reason)}],
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
    use crate::runtime::families::testing::{model, parse_body, shape, stop};

    const MISTRAL_7B: &str = "mistral.mistral-7b-instruct-v0:2";

    fn parse(family: &PromptCompletion, v: Value) -> Result<ChatRequest, ApiError> {
        parse_body(family, MISTRAL_7B, v)
    }

    fn chunks(family: &PromptCompletion, deltas: Vec<Delta>) -> Vec<Value> {
        let request = ChatRequest::default();
        let mut shaper = family.shaper(&model(MISTRAL_7B), &request, Ids::seeded(&[b"1"]));
        shape(shaper.as_mut(), deltas)
    }

    #[test]
    fn mistral_text_bodies_are_closed_and_bounded() {
        let r = parse(&MISTRAL, json!({"prompt": "<s>[INST] What is S3? [/INST]", "max_tokens": 50, "stop": ["\n"], "top_k": 50})).unwrap();
        assert_eq!(r.last_user_text(), "What is S3?");
        assert_eq!(r.stop_sequences, ["\n"]);
        assert_eq!(r.top_k, Some(50));
        let e = parse(&MISTRAL, json!({"prompt": "x", "top_k": 0})).unwrap_err();
        assert!(e.message().contains("at 'top_k'"), "{e}");
        let e = parse(&MISTRAL, json!({"prompt": "x", "messages": []})).unwrap_err();
        assert!(e.message().contains("extraneous key [messages]"), "{e}");
    }

    #[test]
    fn deepseek_prompt_form_has_no_top_k() {
        let r = parse(&DEEPSEEK, json!({"prompt": "<｜begin▁of▁sentence｜><｜User｜>Why?<｜Assistant｜>", "max_tokens": 10})).unwrap();
        assert_eq!(r.last_user_text(), "Why?");
        assert!(parse(&DEEPSEEK, json!({"prompt": "x", "top_k": 5})).is_err());
    }

    #[test]
    fn chunks_name_their_list_and_end_with_the_reason_and_metrics() {
        for (family, list, reason, stop_reason) in [
            (&MISTRAL, "outputs", StopReason::MaxTokens, "length"),
            (&DEEPSEEK, "choices", StopReason::EndTurn, "stop"),
        ] {
            let c = chunks(family, vec![Delta::Text("Hi".into()), stop(reason, 0, 0)]);
            assert_eq!(c[0], json!({list: [{"text": "Hi", "stop_reason": null}]}));
            assert_eq!(c[1][list][0]["stop_reason"], stop_reason);
            assert!(c[1]["amazon-bedrock-invocationMetrics"].is_object());
        }
    }
}
