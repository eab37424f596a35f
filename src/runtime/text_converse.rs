//! The common Converse body — text messages, optional text system prompts, `inferenceConfig` and
//! `additionalModelResponseFieldPaths` — read straight into typed, borrowed structs. Reading it through a `serde_json::Value` tree costs
//! most of a canned Converse request's own work (an IndexMap and a SipHash per object, a String per
//! key and value).
//!
//! This reader only accepts: anything it does not recognise, or that breaks a rule, makes it
//! decline, and [`converse::parse`](super::converse::parse) — the one statement of Converse's rules
//! and of their error messages — reads the body instead. A test holds the two to the same answer on
//! every body it accepts.

use super::chat::{Block, ChatRequest, Message, Role};
use super::input::{absent_or_within, MapOnly};
use super::response_fields::FieldPaths;
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body<'a> {
    #[serde(borrow)]
    messages: Vec<MapOnly<MessageIn<'a>>>,
    #[serde(borrow, default)]
    system: Option<Vec<MapOnly<TextIn<'a>>>>,
    #[serde(rename = "inferenceConfig", borrow, default)]
    inference_config: Option<MapOnly<InferenceIn<'a>>>,
    #[serde(rename = "additionalModelResponseFieldPaths", borrow, default)]
    field_paths: Option<Vec<Cow<'a, str>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageIn<'a> {
    #[serde(borrow)]
    role: Cow<'a, str>,
    #[serde(borrow)]
    content: Vec<MapOnly<TextIn<'a>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextIn<'a> {
    #[serde(borrow)]
    text: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InferenceIn<'a> {
    #[serde(rename = "maxTokens", default)]
    max_tokens: Option<u32>,
    #[serde(default)]
    temperature: Option<f64>,
    #[serde(rename = "topP", default)]
    top_p: Option<f64>,
    #[serde(rename = "stopSequences", borrow, default)]
    stop_sequences: Option<Vec<Cow<'a, str>>>,
}

/// The request and its response field paths, if the body is a valid text-only Converse body; `None`
/// otherwise.
pub fn parse(body: &[u8]) -> Option<(ChatRequest, FieldPaths)> {
    let MapOnly(body): MapOnly<Body> = serde_json::from_slice(body).ok()?;
    let mut req = ChatRequest::default();
    for MapOnly(block) in body.system.into_iter().flatten() {
        req.system.push(block.text.into_owned());
    }
    for (i, MapOnly(m)) in body.messages.into_iter().enumerate() {
        let role = match &*m.role {
            "user" => Role::User,
            "assistant" => Role::Assistant,
            _ => return None,
        };
        let alternates = req
            .messages
            .last()
            .map_or(i == 0 && role == Role::User, |prev| prev.role != role);
        if !alternates || m.content.is_empty() {
            return None;
        }
        let content = m
            .content
            .into_iter()
            .map(|MapOnly(b)| Block::Text(b.text.into_owned()))
            .collect();
        req.messages.push(Message { role, content });
    }
    if req.messages.is_empty() {
        return None;
    }
    if let Some(MapOnly(cfg)) = body.inference_config {
        let unit = |x| absent_or_within(x, 0.0, 1.0);
        let stops = cfg.stop_sequences.as_ref().map_or(0, Vec::len);
        if cfg.max_tokens == Some(0)
            || !unit(cfg.temperature)
            || !unit(cfg.top_p)
            || stops > super::converse::MAX_STOP_SEQUENCES
        {
            return None;
        }
        req.max_tokens = cfg.max_tokens;
        req.temperature = cfg.temperature;
        req.top_p = cfg.top_p;
        req.stop_sequences = cfg
            .stop_sequences
            .into_iter()
            .flatten()
            .map(Cow::into_owned)
            .collect();
    }
    let paths = FieldPaths::parse(body.field_paths.as_deref().unwrap_or_default()).ok()?;
    Some((req, paths))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{converse, input};

    /// What the full reader makes of a body (its error message, if it refuses it).
    fn full(body: &str) -> Result<(ChatRequest, FieldPaths), String> {
        input::object(body.as_bytes())
            .and_then(|obj| converse::parse(&obj))
            .map_err(|e| e.message().to_string())
    }

    #[test]
    fn reads_the_common_bodies_as_the_full_translator_does_and_declines_the_rest() {
        let full_body = serde_json::json!({
            "messages": [
                {"role": "user", "content": [{"text": "Hi"}, {"text": "there"}]},
                {"role": "assistant", "content": [{"text": "Hello"}]},
                {"role": "user", "content": [{"text": "Bye"}]},
            ],
            "system": [{"text": "Be brief."}],
            "inferenceConfig": {"maxTokens": 5, "temperature": 0.5, "topP": 0.9, "stopSequences": ["x"]},
            "additionalModelResponseFieldPaths": ["/stop_sequence", "/delta/stop_sequence"],
        });
        input::reads_as_the_full_translator(
            &[
                r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}]}"#,
                r#"{"messages":[{"role":"user","content":[{"text":"a \"quoted\" \u00e9 line\n"}]}],
                    "system":[{"text":"Be brief."},{"text":"Be kind."}],
                    "inferenceConfig":{"maxTokens":5,"temperature":0.5,"topP":1,"stopSequences":["x","\n"]}}"#,
                r#"{"messages":[{"role":"user","content":[{"text":"1"},{"text":""}]},
                    {"role":"assistant","content":[{"text":"2"}]},
                    {"role":"user","content":[{"text":"3"}]}],
                    "system":null,"inferenceConfig":{"maxTokens":null,"stopSequences":null}}"#,
                r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{}}"#,
                r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],
                    "additionalModelResponseFieldPaths":["/delta/stop_sequence","/a~1b"]}"#,
                r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"additionalModelResponseFieldPaths":[]}"#,
            ],
            &full_body,
            parse,
            full,
        );
    }

    #[test]
    fn declines_what_it_does_not_know_and_what_breaks_a_rule() {
        for body in [
            "",
            "[]",
            "{bad",
            r#"{}"#,
            r#"{"messages":[]}"#,
            r#"{"messages":null}"#,
            r#"{"messages":[{"role":"assistant","content":[{"text":"Hi"}]}]}"#,
            r#"{"messages":[{"role":"user","content":[{"text":"1"}]},{"role":"user","content":[{"text":"2"}]}]}"#,
            r#"{"messages":[{"role":"robot","content":[{"text":"Hi"}]}]}"#,
            r#"{"messages":[{"role":"user","content":[]}]}"#,
            r#"{"messages":[{"role":"user","content":[{"text":null}]}]}"#,
            r#"{"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}"#,
            r#"{"messages":[{"role":"user","content":[{"image":{"format":"png","source":{"bytes":"AA=="}}}]}]}"#,
            r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"maxTokens":0}}"#,
            r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"maxTokens":5.0}}"#,
            r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"maxTokens":99999999999}}"#,
            r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"temperature":1.5}}"#,
            r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"topP":-0.1}}"#,
            r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"stopSequences":[1]}}"#,
            r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"toolConfig":{"tools":[]}}"#,
            r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"messages":[]}"#,
            // serde's derive would read a struct from an array, positionally.
            r#"[[{"role":"user","content":[{"text":"Hi"}]}]]"#,
            r#"{"messages":[["user",[["Hi"]]]]}"#,
            r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":[5]}"#,
            r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"additionalModelResponseFieldPaths":["stop_sequence"]}"#,
            r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"additionalModelResponseFieldPaths":[""]}"#,
            r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"additionalModelResponseFieldPaths":"/x"}"#,
        ] {
            assert_eq!(parse(body.as_bytes()), None, "accepted {body}");
        }
        let stops = vec!["x"; super::super::converse::MAX_STOP_SEQUENCES + 1];
        let body = serde_json::json!({"messages": [{"role": "user", "content": [{"text": "Hi"}]}],
            "inferenceConfig": {"stopSequences": stops}});
        assert_eq!(parse(body.to_string().as_bytes()), None);
    }
}
