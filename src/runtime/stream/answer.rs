//! The whole answer a non-streaming operation (InvokeModel, Converse) collects from the very same
//! token stream the streaming ones frame.

use super::delta::{truncated, Delta, Stop, StopReason, TokenStream, Usage};
use super::shaper::{Clock, Timing};
use crate::aws::ApiError;
use futures::StreamExt;

/// A whole answer, collected from a token stream, for the non-streaming operations.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub blocks: Vec<AnswerBlock>,
    pub stop: Stop,
    pub timing: Timing,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AnswerBlock {
    Text(String),
    Reasoning(String),
    /// `input` is the tool call's JSON input as the model wrote it.
    ToolUse {
        name: String,
        input: String,
    },
}

impl Answer {
    /// Drains the stream. A stream that ends without a stop was truncated: that is an error.
    pub async fn collect(
        first: Delta,
        mut rest: TokenStream,
        mut clock: Clock,
    ) -> Result<Self, ApiError> {
        let mut blocks: Vec<AnswerBlock> = Vec::new();
        let mut next = Some(first);
        loop {
            let delta = match next.take() {
                Some(d) => d,
                None => match rest.next().await {
                    Some(d) => d?,
                    None => return Err(truncated()),
                },
            };
            clock.saw(&delta);
            match delta {
                Delta::Start { .. } => {}
                Delta::Text(t) => match blocks.last_mut() {
                    Some(AnswerBlock::Text(s)) => s.push_str(&t),
                    _ => blocks.push(AnswerBlock::Text(t.to_string())),
                },
                Delta::Reasoning(t) => match blocks.last_mut() {
                    Some(AnswerBlock::Reasoning(s)) => s.push_str(&t),
                    _ => blocks.push(AnswerBlock::Reasoning(t.to_string())),
                },
                Delta::ToolStart { name } => blocks.push(AnswerBlock::ToolUse {
                    name,
                    input: String::new(),
                }),
                Delta::ToolInput(fragment) => {
                    if let Some(AnswerBlock::ToolUse { input, .. }) = blocks.last_mut() {
                        input.push_str(&fragment);
                    }
                }
                Delta::Stop(stop) => {
                    return Ok(Self {
                        blocks,
                        stop,
                        timing: clock.timing(),
                    })
                }
            }
        }
    }

    /// All text blocks joined (for families whose responses have one text field).
    pub fn text(&self) -> String {
        self.blocks
            .iter()
            .filter_map(|b| match b {
                AnswerBlock::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    pub fn usage(&self) -> Usage {
        self.stop.usage
    }

    pub fn reason(&self) -> &StopReason {
        &self.stop.reason
    }
}

/// Parses a tool call's collected input; the model is expected to write a JSON object.
pub fn tool_input(input: &str) -> serde_json::Value {
    if input.trim().is_empty() {
        return serde_json::json!({});
    }
    serde_json::from_str(input).unwrap_or_else(|_| serde_json::json!({}))
}
