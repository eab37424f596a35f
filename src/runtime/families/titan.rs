//! Amazon Titan Text: `inputText` + `textGenerationConfig`; chunks carry `outputText`, running token
//! counts and, on the last, `completionReason` and the invocation metrics.

use super::{invocation_metrics, Family};
use crate::aws::ApiError;
use crate::model_ref::ModelRef;
use crate::runtime::read::fields::{Fields, Object};
use crate::runtime::stream::answer::Answer;
use crate::runtime::stream::delta::{Delta, StopReason};
use crate::runtime::stream::ids::Ids;
use crate::runtime::stream::request::{ChatRequest, Message, Role};
use crate::runtime::stream::shaper::{push_json_str, Event, Shaper, Timing};
use serde_json::{json, Value};

pub struct Text;

fn completion_reason(reason: &StopReason) -> &'static str {
    match reason {
        StopReason::EndTurn | StopReason::ToolUse => "FINISH",
        StopReason::MaxTokens => "LENGTH",
        StopReason::StopSequence(_) => "STOP_CRITERIA_MET",
        StopReason::ContentFiltered => "CONTENT_FILTERED",
    }
}

impl Family for Text {
    fn parse(&self, body: &Object, _model: &ModelRef) -> Result<ChatRequest, ApiError> {
        let f = Fields::new(body, "");
        f.only(&["inputText", "textGenerationConfig"])?;
        let text = f.req_str("inputText")?;
        let mut req = ChatRequest {
            messages: vec![Message::text(Role::User, text)],
            ..Default::default()
        };
        if let Some(cfg) = f.object("textGenerationConfig")? {
            cfg.only(&["maxTokenCount", "temperature", "topP", "stopSequences"])?;
            req.max_tokens = cfg.u32_min("maxTokenCount", 0)?;
            req.temperature = cfg.f64_in("temperature", 0.0, 1.0)?;
            req.top_p = cfg.f64_in("topP", 0.0, 1.0)?;
            req.stop_sequences = cfg.strings("stopSequences")?;
        }
        Ok(req)
    }

    fn shaper(&self, _model: &ModelRef, _request: &ChatRequest, _ids: Ids) -> Box<dyn Shaper> {
        Box::new(TextShaper::default())
    }

    fn respond(
        &self,
        answer: &Answer,
        _model: &ModelRef,
        _request: &ChatRequest,
        _ids: &mut Ids,
    ) -> Value {
        let u = answer.usage();
        json!({
            "inputTextTokenCount": u.input_tokens,
            "results": [{
                "tokenCount": u.output_tokens,
                "outputText": answer.text(),
                "completionReason": completion_reason(answer.reason()),
            }],
        })
    }
}

#[derive(Default)]
struct TextShaper {
    input_tokens: Option<u32>,
    first_sent: bool,
    output_tokens: u32,
}

impl Shaper for TextShaper {
    fn on_delta(&mut self, delta: &Delta, timing: &Timing, out: &mut Vec<Event>) {
        match delta {
            Delta::Start { input_tokens } => self.input_tokens = Some(*input_tokens),
            Delta::Text(t) => {
                self.output_tokens += 1;
                // The first chunk carries the input count, later ones null.
                let input = if self.first_sent {
                    None
                } else {
                    self.input_tokens
                };
                self.first_sent = true;
                let mut p = Vec::with_capacity(128 + t.len());
                p.extend_from_slice(b"{\"outputText\":");
                push_json_str(&mut p, t);
                p.extend_from_slice(b",\"index\":0,\"totalOutputTextTokenCount\":");
                p.extend_from_slice(self.output_tokens.to_string().as_bytes());
                p.extend_from_slice(b",\"completionReason\":null,\"inputTextTokenCount\":");
                p.extend_from_slice(
                    input
                        .map_or("null".to_string(), |n| n.to_string())
                        .as_bytes(),
                );
                p.push(b'}');
                out.push(Event::new("chunk", p));
            }
            Delta::Reasoning(_) | Delta::ToolStart { .. } | Delta::ToolInput(_) => {}
            Delta::Stop(stop) => {
                let input = if self.first_sent {
                    None
                } else {
                    self.input_tokens
                };
                out.push(Event::json(
                    "chunk",
                    &json!({
                        "outputText": "",
                        "index": 0,
                        "totalOutputTextTokenCount": stop.usage.output_tokens,
                        "completionReason": completion_reason(&stop.reason),
                        "inputTextTokenCount": input,
                        "amazon-bedrock-invocationMetrics": invocation_metrics(stop.usage, timing),
                    }),
                ));
            }
        }
    }
}
