//! Anthropic Claude on Bedrock, Messages API (`anthropic_version: bedrock-2023-05-31`, or the dated
//! API version Anthropic's own SDKs send, with betas in `anthropic_beta`): the request and the
//! response here, the chunk sequence in [`stream`].

mod stream;

use super::Family;
use crate::aws::ApiError;
use crate::model_ref::ModelRef;
use crate::runtime::read::fields::{constraint, is_base64, Fields, Object};
use crate::runtime::read::rules::message_role;
use crate::runtime::stream::answer::{tool_input, Answer, AnswerBlock};
use crate::runtime::stream::ids::Ids;
use crate::runtime::stream::request::{
    Block, ChatRequest, DocumentSource, Message, Role, Tool, ToolChoice, ToolResultContent,
};
use crate::runtime::stream::shaper::Shaper;
use serde_json::{json, Value};

pub struct Messages;

const KEYS: &[&str] = &[
    "anthropic_version",
    "anthropic_beta",
    "max_tokens",
    "messages",
    "system",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "tools",
    "tool_choice",
    "thinking",
    "metadata",
];

/// `anthropic.claude-3-haiku-20240307-v1:0` → `claude-3-haiku-20240307`, as `message.model` shows it.
pub fn bare_name(model_id: &str) -> String {
    let id = model_id.strip_prefix("anthropic.").unwrap_or(model_id);
    match id.rfind("-v") {
        Some(i)
            if id[i + 2..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit()) =>
        {
            id[..i].to_string()
        }
        _ => id.to_string(),
    }
}

/// Whether `anthropic_version` names a version Bedrock takes: its own `bedrock-2023-05-31`, or a
/// dated Anthropic API version (`2023-06-01`, `2026-10-21`: `YYYY-MM-DD`), which Anthropic's SDKs put
/// in the body of every call their Bedrock clients make.
fn is_api_version(version: &str) -> bool {
    if version == "bedrock-2023-05-31" {
        return true;
    }
    let digits = |s: &str, n| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let mut parts = version.split('-');
    let (Some(year), Some(month), Some(day), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    digits(year, 4)
        && digits(month, 2)
        && digits(day, 2)
        && matches!(month.parse::<u8>(), Ok(1..=12))
        && matches!(day.parse::<u8>(), Ok(1..=31))
}

impl Family for Messages {
    fn parse(&self, body: &Object, _model: &ModelRef) -> Result<ChatRequest, ApiError> {
        let f = Fields::new(body, "");
        let mut missing: Vec<&str> = ["anthropic_version", "max_tokens", "messages"]
            .into_iter()
            .filter(|k| !f.has(k))
            .collect();
        match missing.len() {
            0 => {}
            1 => return Err(f.missing(missing.remove(0))),
            n => {
                return Err(ApiError::validation(format!(
                    "Malformed input request: {n} schema violations found, please reformat your input and try again."
                )))
            }
        }
        f.only(KEYS)?;
        let version = f.req_str("anthropic_version")?;
        if !is_api_version(version) {
            return Err(ApiError::validation(format!(
                "Invalid API version: anthropic_version '{version}' is not a version; use \"bedrock-2023-05-31\" or a dated Anthropic API version such as \"2023-06-01\"."
            )));
        }
        // Bedrock checks the names against the betas each model supports (`invalid beta flag`);
        // awsim checks the shape only, so that a flag Bedrock has just added is never refused.
        f.strings("anthropic_beta")?;
        let mut req = ChatRequest {
            max_tokens: f.u32_min("max_tokens", 1)?,
            temperature: f.f64_in("temperature", 0.0, 1.0)?,
            top_p: f.f64_in("top_p", 0.0, 1.0)?,
            top_k: f.u32_min("top_k", 0)?,
            stop_sequences: f.strings("stop_sequences")?,
            reasoning: f
                .object("thinking")?
                .is_some_and(|t| t.get("type").and_then(Value::as_str) == Some("enabled")),
            ..Default::default()
        };
        match f.get("system") {
            None => {}
            Some(Value::String(s)) => req.system.push(s.clone()),
            Some(Value::Array(blocks)) => {
                for (i, b) in blocks.iter().enumerate() {
                    if let Some(text) = f.item("system", i, b)?.str("text")? {
                        req.system.push(text.to_string());
                    }
                }
            }
            Some(other) => {
                return Err(constraint(
                    "system",
                    other,
                    "Member must be a string or a list of text blocks",
                ))
            }
        }
        let messages = f.req_array("messages")?;
        for (i, m) in messages.iter().enumerate() {
            let m = f.item("messages", i, m)?;
            let role = message_role(&m)?;
            if i == 0 && role != Role::User {
                return Err(ApiError::validation(
                    "messages: first message must use the \"user\" role",
                ));
            }
            let content = match m.get("content") {
                Some(Value::String(s)) => vec![Block::Text(s.clone())],
                Some(Value::Array(blocks)) => {
                    let mut out = Vec::new();
                    for (j, b) in blocks.iter().enumerate() {
                        if let Some(block) = content_block(&m.item("content", j, b)?)? {
                            out.push(block);
                        }
                    }
                    out
                }
                Some(other) => {
                    return Err(constraint(
                        &m.path_of("content"),
                        other,
                        "Member must be a string or a list of content blocks",
                    ))
                }
                None => return Err(m.missing("content")),
            };
            req.messages.push(Message { role, content });
        }
        if messages.is_empty() {
            return Err(ApiError::validation(
                "messages: at least one message is required",
            ));
        }
        for (i, t) in f.array("tools")?.into_iter().flatten().enumerate() {
            let t = f.item("tools", i, t)?;
            let Some(schema) = t.get("input_schema") else {
                continue; // Anthropic-defined tools (computer use …) have no schema to fill
            };
            req.tools.push(Tool {
                name: t.req_str("name")?.to_string(),
                description: t.str("description")?.map(str::to_string),
                schema: schema.clone(),
            });
        }
        if let Some(tc) = f.object("tool_choice")? {
            req.tool_choice = match tc.req_str("type")? {
                "auto" => ToolChoice::Auto,
                "any" => ToolChoice::Any,
                "none" => ToolChoice::None,
                "tool" => ToolChoice::Tool(tc.req_str("name")?.to_string()),
                other => {
                    return Err(constraint(
                        &tc.path_of("type"),
                        &json!(other),
                        "Member must satisfy enum value set: [auto, any, tool, none]",
                    ))
                }
            };
        }
        Ok(req)
    }

    fn shaper(&self, model: &ModelRef, _request: &ChatRequest, ids: Ids) -> Box<dyn Shaper> {
        Box::new(stream::MessagesShaper::new(bare_name(&model.id), ids))
    }

    /// Bedrock answers a blocked prompt with the message alone: no id, model, stop reason or usage.
    fn blocked_input_body(&self, body: Value) -> Value {
        json!({"type": body["type"], "role": body["role"], "content": body["content"]})
    }

    fn respond(
        &self,
        answer: &Answer,
        model: &ModelRef,
        _request: &ChatRequest,
        ids: &mut Ids,
    ) -> Value {
        let content: Vec<Value> = answer
            .blocks
            .iter()
            .map(|b| match b {
                AnswerBlock::Text(t) => json!({"type": "text", "text": t}),
                AnswerBlock::Reasoning(t) => json!({"type": "thinking", "thinking": t, "signature": ids.short(48)}),
                AnswerBlock::ToolUse { name, input } => {
                    json!({"type": "tool_use", "id": ids.anthropic_tool(), "name": name, "input": tool_input(input)})
                }
            })
            .collect();
        let u = answer.usage();
        json!({
            "id": ids.message(),
            "type": "message",
            "role": "assistant",
            "model": bare_name(&model.id),
            "content": content,
            "stop_reason": answer.reason().as_str(),
            "stop_sequence": answer.reason().sequence(),
            "usage": {
                "input_tokens": u.input_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": u.output_tokens,
            },
        })
    }
}

/// One Messages content block; `None` for blocks that carry nothing a model reads.
pub fn content_block(b: &Fields<'_>) -> Result<Option<Block>, ApiError> {
    let ty = b.req_str("type")?;
    Ok(Some(match ty {
        "text" => Block::Text(b.req_str("text")?.to_string()),
        "image" => {
            let src = b.object("source")?.ok_or_else(|| b.missing("source"))?;
            let media = src.req_str("media_type")?;
            let data = src.req_str("data")?;
            image_data(&b.path, data)?;
            Block::Image {
                format: media.strip_prefix("image/").unwrap_or(media).to_string(),
                data: data.to_string(),
            }
        }
        "document" => {
            let src = b.object("source")?.ok_or_else(|| b.missing("source"))?;
            let media = src.str("media_type")?.unwrap_or("text/plain");
            let source = match src.str("type")? {
                Some("text") => DocumentSource::Text(src.req_str("data")?.to_string()),
                _ => {
                    let data = src.req_str("data")?;
                    if !is_base64(data) {
                        return Err(invalid_base64(&format!("{}.document", b.path)));
                    }
                    DocumentSource::Bytes(data.to_string())
                }
            };
            Block::Document {
                name: b.str("title")?.unwrap_or("document").to_string(),
                format: media.rsplit('/').next().unwrap_or("txt").replace("plain", "txt"),
                source,
            }
        }
        "tool_use" => Block::ToolUse {
            id: b.req_str("id")?.to_string(),
            name: b.req_str("name")?.to_string(),
            input: b.get("input").cloned().unwrap_or_else(|| json!({})),
        },
        "tool_result" => {
            let content = match b.get("content") {
                None => Vec::new(),
                Some(Value::String(s)) => vec![ToolResultContent::Text(s.clone())],
                Some(Value::Array(items)) => {
                    let mut content = Vec::with_capacity(items.len());
                    for (j, c) in items.iter().enumerate() {
                        content.extend(match c.get("type").and_then(Value::as_str) {
                            Some("text") => c.get("text").and_then(Value::as_str).map(|t| ToolResultContent::Text(t.to_string())),
                            Some("image") => tool_result_image(c, &format!("{}.tool_result.content.{j}", b.path))?,
                            _ => None,
                        });
                    }
                    content
                }
                Some(other) => vec![ToolResultContent::Json(other.clone())],
            };
            Block::ToolResult {
                id: b.req_str("tool_use_id")?.to_string(),
                content,
                is_error: b.bool("is_error")?.unwrap_or(false),
            }
        }
        "thinking" => Block::Reasoning {
            text: b.req_str("thinking")?.to_string(),
            signature: b.str("signature")?.map(str::to_string),
        },
        "redacted_thinking" => return Ok(None),
        other => {
            return Err(constraint(
                &b.path_of("type"),
                &json!(other),
                "Member must satisfy enum value set: [text, image, document, tool_use, tool_result, thinking, redacted_thinking]",
            ))
        }
    }))
}

/// An image in a tool result; `None` when it names no base64 data.
fn tool_result_image(c: &Value, path: &str) -> Result<Option<ToolResultContent>, ApiError> {
    let src = c.get("source");
    let media = src
        .and_then(|s| s.get("media_type"))
        .and_then(Value::as_str);
    let data = src.and_then(|s| s.get("data")).and_then(Value::as_str);
    let (Some(media), Some(data)) = (media, data) else {
        return Ok(None);
    };
    image_data(path, data)?;
    Ok(Some(ToolResultContent::Image {
        format: media.strip_prefix("image/").unwrap_or(media).to_string(),
        data: data.to_string(),
    }))
}

/// An image's base64 data, refused in the Messages API's words (`block` is the content block's
/// path, `messages.0.content.1`).
fn image_data(block: &str, data: &str) -> Result<(), ApiError> {
    if data.is_empty() {
        return Err(ApiError::validation(format!(
            "{block}.image.source.base64: image cannot be empty"
        )));
    }
    if !is_base64(data) {
        return Err(invalid_base64(&format!("{block}.image")));
    }
    Ok(())
}

/// `messages.0.content.1.image.source.base64: invalid base64 data`.
fn invalid_base64(block: &str) -> ApiError {
    ApiError::validation(format!("{block}.source.base64: invalid base64 data"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::families::testing::parse_body;

    fn parse(v: Value) -> Result<ChatRequest, ApiError> {
        parse_body(&Messages, "anthropic.claude-3-haiku-20240307-v1:0", v)
    }

    #[test]
    fn image_and_document_data_must_be_base64() {
        let with = |block: Value| {
            parse(
                json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
                "messages": [{"role": "user", "content": [{"type": "text", "text": "look"}, block]}]}),
            )
        };
        let image = |data: &str| json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}});
        let document = |data: &str| json!({"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": data}});
        assert!(with(image("iVBORw0KGgo=")).is_ok());
        assert!(with(document("JVBERi0xLjQ=")).is_ok());
        let tool_result = |block: Value| json!({"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "ok"}, block]});
        for (block, message) in [
            (image("!!!notbase64"), "messages.0.content.1.image.source.base64: invalid base64 data"),
            (image(""), "messages.0.content.1.image.source.base64: image cannot be empty"),
            (document("%PDF-1.4"), "messages.0.content.1.document.source.base64: invalid base64 data"),
            (
                tool_result(image("AA=")),
                "messages.0.content.1.tool_result.content.1.image.source.base64: invalid base64 data",
            ),
        ] {
            let e = with(block).unwrap_err();
            assert_eq!(e.type_name(), "ValidationException");
            assert_eq!(e.message(), message);
        }
    }

    #[test]
    fn bare_names_drop_provider_and_version() {
        assert_eq!(
            bare_name("anthropic.claude-3-haiku-20240307-v1:0"),
            "claude-3-haiku-20240307"
        );
        assert_eq!(
            bare_name("anthropic.claude-sonnet-4-5-20250929-v1:0"),
            "claude-sonnet-4-5-20250929"
        );
        assert_eq!(
            bare_name("anthropic.claude-3-5-sonnet-20241022-v2:0"),
            "claude-3-5-sonnet-20241022"
        );
    }

    #[test]
    fn bedrock_messages_for_malformed_bodies() {
        let e = parse(json!({"anthropic_version": "bedrock-2023-05-31", "messages": [{"role": "user", "content": "hi"}]})).unwrap_err();
        assert_eq!(
            e.message(),
            "Malformed input request: required key [max_tokens] not found, please reformat your input and try again."
        );
        let e = parse(json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 5, "model": "x", "messages": []})).unwrap_err();
        assert!(
            e.message()
                .contains("extraneous key [model] is not permitted"),
            "{e}"
        );
        let e = parse(json!({"messages": []})).unwrap_err();
        assert!(e.message().contains("2 schema violations"), "{e}");
    }

    #[test]
    fn bedrock_and_dated_anthropic_api_versions_are_versions() {
        for version in [
            "bedrock-2023-05-31",
            "2023-06-01",
            "2023-01-01",
            "2026-10-21",
        ] {
            assert!(is_api_version(version), "{version}");
        }
        for not_one in [
            "",
            "latest",
            "bedrock-2024-01-01",
            "bedrock-2023-05-31 ",
            "2023-6-01",
            "2023-06-1",
            "2023-13-01",
            "2023-00-10",
            "2023-06-32",
            "2023-06-01-x",
            "20230601",
            "२०२३-०६-०१",
            "claude-3-sonnet-20240229-v1:0",
        ] {
            assert!(!is_api_version(not_one), "{not_one:?}");
        }
        let body = |version: Value| json!({"anthropic_version": version, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]});
        assert!(parse(body(json!("2026-10-21"))).is_ok());
        let e = parse(body(json!("latest"))).unwrap_err();
        assert_eq!(
            e.message(),
            "Invalid API version: anthropic_version 'latest' is not a version; use \"bedrock-2023-05-31\" or a dated Anthropic API version such as \"2023-06-01\"."
        );
        assert!(parse(body(json!(20230601)))
            .unwrap_err()
            .message()
            .contains("anthropic_version"));
    }

    #[test]
    fn betas_are_a_list_of_strings() {
        let body = |betas: Value| json!({"anthropic_version": "2026-10-21", "anthropic_beta": betas, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]});
        assert!(parse(body(json!([
            "interleaved-thinking-2025-05-14",
            "context-1m-2025-08-07"
        ])))
        .is_ok());
        assert!(parse(body(json!([]))).is_ok());
        let e = parse(body(json!("interleaved-thinking-2025-05-14"))).unwrap_err();
        assert!(e.message().contains("anthropic_beta"), "{e}");
        let e = parse(body(json!(["ok", 7]))).unwrap_err();
        assert!(e.message().contains("anthropic_beta.1"), "{e}");
        let e = parse(json!({"anthropic_version": "2026-10-21", "max_tokens": 5, "stream": true, "messages": [{"role": "user", "content": "hi"}]})).unwrap_err();
        assert!(
            e.message()
                .contains("extraneous key [stream] is not permitted"),
            "{e}"
        );
    }

    #[test]
    fn string_and_block_content_tools_and_system() {
        let r = parse(json!({
            "anthropic_version": "bedrock-2023-05-31", "max_tokens": 9, "system": "be brief",
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA=="}}]},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "42"}]}
            ],
            "tools": [{"name": "f", "description": "d", "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "tool", "name": "f"}
        }))
        .unwrap();
        assert_eq!(r.system, ["be brief"]);
        assert_eq!(r.tool_choice, ToolChoice::Tool("f".into()));
        assert!(
            matches!(&r.messages[0].content[1], Block::Image { format, .. } if format == "png")
        );
        assert!(
            matches!(&r.messages[2].content[0], Block::ToolResult { id, .. } if id == "toolu_1")
        );
    }
}
