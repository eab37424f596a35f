//! The common Anthropic Messages body — text messages (a string or text blocks), an optional text
//! system prompt and the sampling fields — read straight into typed, borrowed structs, as
//! [`text_converse`](crate::runtime::text_converse) does for Converse: a `serde_json::Value` tree
//! costs an InvokeModel request more than everything else awsim does with the body.
//!
//! This reader only accepts: anything else, or a body that breaks a rule, makes it decline, and
//! [`Messages::parse`](super::anthropic::Messages) — the one statement of the rules and of their
//! error messages — reads the body instead. A test holds the two to the same answer on every body
//! this reader accepts.

use crate::runtime::chat::{Block, ChatRequest, Message, Role};
use crate::runtime::input::{absent_or_within, MapOnly};
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body<'a> {
    #[serde(borrow)]
    anthropic_version: Cow<'a, str>,
    max_tokens: u32,
    #[serde(borrow)]
    messages: Vec<MapOnly<MessageIn<'a>>>,
    #[serde(borrow, default)]
    system: Option<Text<'a>>,
    #[serde(default)]
    temperature: Option<f64>,
    #[serde(default)]
    top_p: Option<f64>,
    #[serde(default)]
    top_k: Option<u32>,
    #[serde(borrow, default)]
    stop_sequences: Option<Vec<Cow<'a, str>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageIn<'a> {
    #[serde(borrow)]
    role: Cow<'a, str>,
    #[serde(borrow)]
    content: Text<'a>,
}

/// A string, or a list of text blocks.
#[derive(Deserialize)]
#[serde(untagged)]
enum Text<'a> {
    #[serde(borrow)]
    One(Cow<'a, str>),
    #[serde(borrow)]
    Blocks(Vec<MapOnly<TextBlock<'a>>>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextBlock<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    text: Cow<'a, str>,
}

impl<'a> Text<'a> {
    /// The texts, if every block is a text block.
    fn texts(self) -> Option<Vec<Cow<'a, str>>> {
        match self {
            Text::One(text) => Some(vec![text]),
            Text::Blocks(blocks) => blocks
                .into_iter()
                .map(|MapOnly(b)| (b.kind == "text").then_some(b.text))
                .collect(),
        }
    }
}

/// The request, if the body is a valid text-only Messages body; `None` otherwise.
pub fn parse(body: &[u8]) -> Option<ChatRequest> {
    let MapOnly(body): MapOnly<Body> = serde_json::from_slice(body).ok()?;
    let unit = |x| absent_or_within(x, 0.0, 1.0);
    if !super::anthropic::is_api_version(&body.anthropic_version)
        || body.max_tokens == 0
        || !unit(body.temperature)
        || !unit(body.top_p)
        || body.messages.is_empty()
    {
        return None;
    }
    let mut req = ChatRequest {
        max_tokens: Some(body.max_tokens),
        temperature: body.temperature,
        top_p: body.top_p,
        top_k: body.top_k,
        stop_sequences: body
            .stop_sequences
            .into_iter()
            .flatten()
            .map(Cow::into_owned)
            .collect(),
        ..Default::default()
    };
    if let Some(system) = body.system {
        req.system = system.texts()?.into_iter().map(Cow::into_owned).collect();
    }
    for (i, MapOnly(m)) in body.messages.into_iter().enumerate() {
        let role = match &*m.role {
            "user" => Role::User,
            "assistant" if i > 0 => Role::Assistant,
            _ => return None,
        };
        let content = m
            .content
            .texts()?
            .into_iter()
            .map(|t| Block::Text(t.into_owned()))
            .collect();
        req.messages.push(Message { role, content });
    }
    Some(req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::input;
    use crate::runtime::providers::{Family, ModelInfo};

    /// What the full reader makes of a body (its error message, if it refuses it).
    fn full(body: &str) -> Result<ChatRequest, String> {
        let model = ModelInfo {
            id: "anthropic.claude-3-haiku-20240307-v1:0".into(),
            name: "Claude 3 Haiku".into(),
            via: vec![],
        };
        input::object(body.as_bytes())
            .and_then(|obj| super::super::anthropic::Messages.parse(&obj, &model))
            .map_err(|e| e.message().to_string())
    }

    #[test]
    fn reads_the_common_bodies_as_the_full_translator_does_and_declines_the_rest() {
        let full_body = serde_json::json!({
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 5,
            "system": [{"type": "text", "text": "Be brief."}],
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
                {"role": "assistant", "content": "Hello"},
                {"role": "user", "content": "Bye"},
            ],
            "temperature": 0.5,
            "top_p": 0.9,
            "top_k": 3,
            "stop_sequences": ["x"],
        });
        input::reads_as_the_full_translator(
            &[
                r#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":5,"messages":[{"role":"user","content":"Hi"}]}"#,
                r#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":512,"system":"Be brief.",
                    "temperature":0.5,"top_p":1,"top_k":40,"stop_sequences":["x","\n"],
                    "messages":[{"role":"user","content":[{"type":"text","text":"a \"quoted\" \u00e9"},{"type":"text","text":""}]},
                    {"role":"assistant","content":"2"},{"role":"assistant","content":[]},{"role":"user","content":"3"}]}"#,
                r#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":1,"system":[{"type":"text","text":"s1"},{"type":"text","text":"s2"}],
                    "top_k":0,"stop_sequences":null,"temperature":null,"messages":[{"role":"user","content":"Hi"}]}"#,
                // What Anthropic's SDKs send: their own API version, no `stream`, no `model`.
                r#"{"max_tokens":5,"messages":[{"role":"user","content":"hi"}],"anthropic_version":"2026-10-21"}"#,
                r#"{"anthropic_version":"2023-06-01","max_tokens":5,"messages":[{"role":"user","content":"Hi"}]}"#,
            ],
            &full_body,
            parse,
            full,
        );
    }

    #[test]
    fn declines_what_it_does_not_know_and_what_breaks_a_rule() {
        let ok = r#""anthropic_version":"bedrock-2023-05-31","max_tokens":5"#;
        let hi = r#""messages":[{"role":"user","content":"Hi"}]"#;
        for body in [
            String::new(),
            "[]".into(),
            "{bad".into(),
            format!("{{{hi}}}"),
            format!(r#"{{"anthropic_version":"bedrock-2023-05-31",{hi}}}"#),
            format!(r#"{{"anthropic_version":"latest","max_tokens":5,{hi}}}"#),
            format!(r#"{{"anthropic_version":"2023-13-01","max_tokens":5,{hi}}}"#),
            format!(r#"{{"anthropic_version":"bedrock-2024-01-01","max_tokens":5,{hi}}}"#),
            format!(r#"{{"anthropic_version":7,"max_tokens":5,{hi}}}"#),
            format!(r#"{{{ok},{hi},"anthropic_beta":["interleaved-thinking-2025-05-14"]}}"#),
            format!(r#"{{{ok},{hi},"stream":true}}"#),
            format!(r#"{{"anthropic_version":"bedrock-2023-05-31","max_tokens":0,{hi}}}"#),
            format!(r#"{{"anthropic_version":"bedrock-2023-05-31","max_tokens":5.0,{hi}}}"#),
            format!(r#"{{{ok},"messages":[]}}"#),
            format!(r#"{{{ok},"messages":[{{"role":"assistant","content":"Hi"}}]}}"#),
            format!(r#"{{{ok},"messages":[{{"role":"robot","content":"Hi"}}]}}"#),
            format!(r#"{{{ok},"messages":[{{"role":"user","content":null}}]}}"#),
            format!(
                r#"{{{ok},"messages":[{{"role":"user","content":[{{"type":"image","text":"x"}}]}}]}}"#
            ),
            format!(
                r#"{{{ok},"messages":[{{"role":"user","content":[{{"type":"text","text":"x","cache_control":{{}}}}]}}]}}"#
            ),
            format!(r#"{{{ok},{hi},"temperature":1.5}}"#),
            format!(r#"{{{ok},{hi},"top_p":-1}}"#),
            format!(r#"{{{ok},{hi},"top_k":-1}}"#),
            format!(r#"{{{ok},{hi},"system":7}}"#),
            format!(r#"{{{ok},{hi},"stop_sequences":[1]}}"#),
            format!(r#"{{{ok},{hi},"tools":[]}}"#),
            format!(r#"{{{ok},{hi},"model":"x"}}"#),
            format!(r#"{{{ok},{hi},{hi}}}"#),
            // serde's derive would read a struct from an array, positionally.
            r#"["bedrock-2023-05-31",5,[{"role":"user","content":"Hi"}]]"#.into(),
            format!(r#"{{{ok},"messages":[["user","Hi"]]}}"#),
            format!(r#"{{{ok},"messages":[{{"role":"user","content":[["text","Hi"]]}}]}}"#),
        ] {
            assert_eq!(parse(body.as_bytes()), None, "accepted {body}");
        }
    }
}
