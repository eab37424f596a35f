//! A scripted answer: what a rule's `respond` says, as the same token stream canned answers and a
//! backend produce — so every model family and both stream formats shape it as they shape those.

use super::canned::{self, Pacing};
use crate::runtime::stream::delta::{Delta, Stop, StopReason, Token, TokenStream, Usage};
use crate::runtime::stream::request::ChatRequest;
use crate::runtime::stream::tokens;
use bytes::Bytes;
use serde_json::Value;

/// What to answer, checked when the rule was added.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// Reasoning text, streamed before everything else.
    pub reasoning: Option<String>,
    pub text: Option<Text>,
    /// Tool calls after the text: name and JSON input.
    pub tool_uses: Vec<(String, Value)>,
    /// Default: `tool_use` with tool calls, else `end_turn`.
    pub stop_reason: Option<StopReason>,
    /// Overrides of the counted usage.
    pub input_tokens: Option<u32>,
    pub output_tokens: Option<u32>,
    pub pacing: Pacing,
}

/// The answer's text and how it is cut into deltas.
#[derive(Debug, Clone, PartialEq)]
pub enum Text {
    /// Cut into word-sized tokens, as canned answers are.
    Plain(String),
    /// The text of the last user message, cut the same way.
    Echo,
    /// One delta per given piece.
    Tokens(Vec<String>),
}

/// Characters per tool-input fragment, as canned tool calls stream them.
const TOOL_FRAGMENT: usize = 12;

/// The token stream of `script` answering `request`.
pub fn stream(script: &Script, request: &ChatRequest) -> TokenStream {
    let input_tokens = script
        .input_tokens
        .unwrap_or_else(|| tokens::input_tokens(request));
    let mut out = vec![Delta::Start { input_tokens }];
    let mut counted = 0;
    if let Some(reasoning) = &script.reasoning {
        counted += words(reasoning, Delta::Reasoning, &mut out);
    }
    match &script.text {
        None => {}
        Some(Text::Plain(text)) => counted += words(text, Delta::Text, &mut out),
        Some(Text::Echo) => counted += words(&request.last_user_text(), Delta::Text, &mut out),
        Some(Text::Tokens(pieces)) => {
            for piece in pieces {
                out.push(Delta::Text(Token::from(piece.as_str())));
                counted += 1;
            }
        }
    }
    for (name, input) in &script.tool_uses {
        out.push(Delta::ToolStart { name: name.clone() });
        let json = input.to_string();
        counted += tokens::count(&json);
        for piece in canned::fragments(&json, TOOL_FRAGMENT) {
            out.push(Delta::ToolInput(piece.into()));
        }
    }
    let reason = script
        .stop_reason
        .clone()
        .unwrap_or(if script.tool_uses.is_empty() {
            StopReason::EndTurn
        } else {
            StopReason::ToolUse
        });
    out.push(Delta::Stop(Stop {
        reason,
        usage: Usage {
            input_tokens,
            output_tokens: script.output_tokens.unwrap_or(counted),
        },
    }));
    canned::stream(out, script.pacing)
}

/// Appends `text` as word-sized token deltas; returns how many.
fn words(text: &str, make: fn(Token) -> Delta, out: &mut Vec<Delta>) -> u32 {
    let shared = Bytes::copy_from_slice(text.as_bytes());
    let mut n = 0;
    for span in tokens::pieces(text) {
        out.push(make(Token::slice(&shared, span)));
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::stream::request::{Message, Role};
    use futures::StreamExt;
    use serde_json::json;

    fn script() -> Script {
        Script {
            reasoning: None,
            text: None,
            tool_uses: Vec::new(),
            stop_reason: None,
            input_tokens: None,
            output_tokens: None,
            pacing: Pacing::default(),
        }
    }

    fn deltas(script: &Script, said: &str) -> Vec<Delta> {
        let request = ChatRequest {
            messages: vec![Message::text(Role::User, said)],
            ..Default::default()
        };
        futures::executor::block_on(stream(script, &request).map(Result::unwrap).collect())
    }

    fn stop(deltas: &[Delta]) -> &Stop {
        match deltas.last() {
            Some(Delta::Stop(stop)) => stop,
            other => panic!("no stop: {other:?}"),
        }
    }

    #[test]
    fn text_is_cut_into_word_tokens_and_counted() {
        let s = Script {
            text: Some(Text::Plain("It is sunny in Paris.".into())),
            ..script()
        };
        let d = deltas(&s, "weather?");
        let texts: Vec<&str> = d
            .iter()
            .filter_map(|d| match d {
                Delta::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(texts, ["It", " is", " sunny", " in", " Paris", "."]);
        assert_eq!(stop(&d).reason, StopReason::EndTurn);
        assert_eq!(stop(&d).usage.output_tokens, 6);
    }

    #[test]
    fn explicit_tokens_echo_reasoning_and_tool_calls() {
        let s = Script {
            reasoning: Some("Think.".into()),
            text: Some(Text::Tokens(vec!["Hel".into(), "lo".into()])),
            tool_uses: vec![("get_weather".into(), json!({"city": "Paris"}))],
            ..script()
        };
        let d = deltas(&s, "hi");
        assert!(matches!(&d[1], Delta::Reasoning(t) if t.as_str() == "Think"));
        assert!(matches!(&d[3], Delta::Text(t) if t.as_str() == "Hel"));
        assert!(matches!(&d[4], Delta::Text(t) if t.as_str() == "lo"));
        assert!(matches!(&d[5], Delta::ToolStart { name } if name == "get_weather"));
        let input: String = d
            .iter()
            .filter_map(|d| match d {
                Delta::ToolInput(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(input, r#"{"city":"Paris"}"#);
        assert_eq!(stop(&d).reason, StopReason::ToolUse);

        let echo = Script {
            text: Some(Text::Echo),
            stop_reason: Some(StopReason::MaxTokens),
            input_tokens: Some(7),
            output_tokens: Some(9),
            ..script()
        };
        let d = deltas(&echo, "say this back");
        let text: String = d
            .iter()
            .filter_map(|d| match d {
                Delta::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(text, "say this back");
        assert_eq!(d[0], Delta::Start { input_tokens: 7 });
        assert_eq!(stop(&d).reason, StopReason::MaxTokens);
        assert_eq!(stop(&d).usage.output_tokens, 9);
    }
}
