//! The Converse / ConverseStream request: messages and their content blocks, system prompts,
//! `inferenceConfig`, `toolConfig` and `additionalModelRequestFields`, checked as Bedrock checks
//! them, into the normalized request; and the `additionalModelResponseFieldPaths` to answer.

use super::field_paths::{self, FieldPaths};
use crate::aws::ApiError;
use crate::runtime::read::fields::{constraint, is_base64, Fields, Object};
use crate::runtime::read::rules::message_role;
use crate::runtime::stream::request::{
    Block, ChatRequest, DocumentSource, Guarded, Message, Role, TextAt, Tool, ToolChoice,
    ToolResultContent,
};
use serde_json::{json, Value};

/// The most stop sequences a request may carry (the service model's bound).
pub const MAX_STOP_SEQUENCES: usize = 2500;

/// Translates a Converse / ConverseStream body: the conversation, and the native response fields
/// to return with the answer.
pub fn parse(body: &Object) -> Result<(ChatRequest, FieldPaths), ApiError> {
    let f = Fields::new(body, "");
    let mut req = ChatRequest::default();
    for (i, block) in f.array("system")?.into_iter().flatten().enumerate() {
        let b = f.item("system", i, block)?;
        if let Some(text) = b.str("text")? {
            req.system.push(text.to_string());
        } else if let Some((text, qualifiers)) = guard_content(&b)? {
            req.guarded.push(Guarded {
                at: TextAt::System(req.system.len()),
                qualifiers,
            });
            req.system.push(text);
        }
    }
    let messages = f.req_array("messages")?;
    if messages.is_empty() {
        return Err(ApiError::validation(
            "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
        ));
    }
    for (i, m) in messages.iter().enumerate() {
        let m = f.item("messages", i, m)?;
        let role = message_role(&m)?;
        if i == 0 && role != Role::User {
            return Err(ApiError::validation(
                "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
            ));
        }
        if req
            .messages
            .last()
            .is_some_and(|prev: &Message| prev.role == role)
        {
            return Err(ApiError::validation(
                "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.",
            ));
        }
        let content = m.req_array("content")?;
        if content.is_empty() {
            return Err(ApiError::validation(format!(
                "The content field in the Message object at messages.{i} is empty. Add a ContentBlock object to the content field and try again."
            )));
        }
        let mut blocks = Vec::with_capacity(content.len());
        for (j, b) in content.iter().enumerate() {
            let b = m.item("content", j, b)?;
            if let Some((text, qualifiers)) = guard_content(&b)? {
                req.guarded.push(Guarded {
                    at: TextAt::Message(i, blocks.len()),
                    qualifiers,
                });
                blocks.push(Block::Text(text));
            } else if let Some(block) = content_block(b)? {
                blocks.push(block);
            }
        }
        req.messages.push(Message {
            role,
            content: blocks,
        });
    }
    if let Some(cfg) = f.object("inferenceConfig")? {
        req.max_tokens = cfg.u32_min("maxTokens", 1)?;
        req.temperature = cfg.f64_in("temperature", 0.0, 1.0)?;
        req.top_p = cfg.f64_in("topP", 0.0, 1.0)?;
        req.stop_sequences = cfg.strings("stopSequences")?;
        if req.stop_sequences.len() > MAX_STOP_SEQUENCES {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have length less than or equal to {MAX_STOP_SEQUENCES}",
                cfg.path_of("stopSequences")
            )));
        }
    }
    if let Some(tc) = f.object("toolConfig")? {
        let (tools, choice) = tool_config(&tc)?;
        req.tools = tools;
        req.tool_choice = choice;
    }
    let uses_tools = req
        .messages
        .iter()
        .flat_map(|m| &m.content)
        .any(|b| matches!(b, Block::ToolUse { .. } | Block::ToolResult { .. }));
    if uses_tools && !f.has("toolConfig") {
        return Err(ApiError::validation(
            "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
        ));
    }
    if let Some(extra) = f.object("additionalModelRequestFields")? {
        req.top_k = extra.u32_min("top_k", 0)?.or(extra.u32_min("topK", 0)?);
        req.reasoning = reasoning_requested(extra.obj);
    }
    let paths = FieldPaths::parse(&f.strings(field_paths::MEMBER)?)?;
    Ok((req, paths))
}

/// `thinking: {type: enabled}` (Claude) or `reasoningConfig: {type: enabled}` (Nova and others).
pub fn reasoning_requested(fields: &Object) -> bool {
    ["thinking", "reasoningConfig", "reasoning_config"]
        .iter()
        .any(|k| {
            fields
                .get(*k)
                .and_then(|v| v.get("type"))
                .and_then(Value::as_str)
                .is_some_and(|t| t == "enabled")
        })
}

/// The tools and choice of a Converse (or Nova) `toolConfig`.
pub fn tool_config(tc: &Fields<'_>) -> Result<(Vec<Tool>, ToolChoice), ApiError> {
    let mut tools = Vec::new();
    for (i, t) in tc.req_array("tools")?.iter().enumerate() {
        let t = tc.item("tools", i, t)?;
        let Some(spec) = t.object("toolSpec")? else {
            continue; // cachePoint / systemTool entries carry no schema to call
        };
        let name = spec.req_str("name")?;
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return Err(constraint(
                &spec.path_of("name"),
                &json!(name),
                "Member must satisfy regular expression pattern: [a-zA-Z0-9_-]{1,64}",
            ));
        }
        let schema = spec
            .object("inputSchema")?
            .and_then(|s| s.get("json").cloned())
            .ok_or_else(|| spec.missing("inputSchema"))?;
        tools.push(Tool {
            name: name.to_string(),
            description: spec.str("description")?.map(str::to_string),
            schema,
        });
    }
    let choice = match tc.object("toolChoice")? {
        None => ToolChoice::Auto,
        Some(c) if c.has("any") => ToolChoice::Any,
        Some(c) if c.has("auto") => ToolChoice::Auto,
        Some(c) => match c.object("tool")? {
            Some(t) => ToolChoice::Tool(t.req_str("name")?.to_string()),
            None => return Err(one_member("toolChoice")),
        },
    };
    if let ToolChoice::Tool(name) = &choice {
        if !tools.iter().any(|t| &t.name == name) {
            return Err(ApiError::validation(format!(
                "The tool {name} named in toolChoice is not defined in toolConfig.tools."
            )));
        }
    }
    Ok((tools, choice))
}

fn one_member(what: &str) -> ApiError {
    ApiError::validation(format!("{what} must have one and only one member set."))
}

/// One `ContentBlock` union; cache points and guard content carry no text for the model.
fn content_block(b: Fields<'_>) -> Result<Option<Block>, ApiError> {
    let members: Vec<&String> = b.obj.keys().filter(|k| *k != "type").collect();
    // The product page's `{"type":"text","text":…}` form.
    if members.len() != 1 && !(b.obj.get("type").is_some() && b.has("text")) {
        return Err(ApiError::validation(format!(
            "The ContentBlock at {} must have one and only one member set (found {}).",
            b.path,
            if members.is_empty() {
                "none".to_string()
            } else {
                members
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )));
    }
    if let Some(text) = b.str("text")? {
        return Ok(Some(Block::Text(text.to_string())));
    }
    if let Some(img) = b.object("image")? {
        let (format, data) = image(&img)?;
        return Ok(Some(Block::Image { format, data }));
    }
    if let Some(doc) = b.object("document")? {
        let source = doc.object("source")?.ok_or_else(|| doc.missing("source"))?;
        let source = if let Some(bytes) = blob(&source, "bytes")? {
            DocumentSource::Bytes(bytes.to_string())
        } else if let Some(text) = source.str("text")? {
            DocumentSource::Text(text.to_string())
        } else if let Some(parts) = source.array("content")? {
            let text = parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n");
            DocumentSource::Text(text)
        } else {
            return Err(s3_unsupported(&source.path));
        };
        return Ok(Some(Block::Document {
            name: doc.req_str("name")?.to_string(),
            format: doc.req_str("format")?.to_string(),
            source,
        }));
    }
    if let Some(tu) = b.object("toolUse")? {
        return Ok(Some(Block::ToolUse {
            id: tu.req_str("toolUseId")?.to_string(),
            name: tu.req_str("name")?.to_string(),
            input: tu.get("input").cloned().unwrap_or_else(|| json!({})),
        }));
    }
    if let Some(tr) = b.object("toolResult")? {
        let mut content = Vec::new();
        for (i, c) in tr.req_array("content")?.iter().enumerate() {
            let c = tr.item("content", i, c)?;
            if let Some(text) = c.str("text")? {
                content.push(ToolResultContent::Text(text.to_string()));
            } else if let Some(v) = c.get("json") {
                content.push(ToolResultContent::Json(v.clone()));
            } else if let Some(img) = c.object("image")? {
                let (format, data) = image(&img)?;
                content.push(ToolResultContent::Image { format, data });
            } else if let Some(doc) = c.object("document")? {
                let source = doc.object("source")?;
                if let Some(source) = &source {
                    blob(source, "bytes")?;
                }
                let text = source
                    .and_then(|s| s.get("text").and_then(Value::as_str).map(str::to_string))
                    .unwrap_or_default();
                content.push(ToolResultContent::Text(text));
            }
        }
        return Ok(Some(Block::ToolResult {
            id: tr.req_str("toolUseId")?.to_string(),
            content,
            is_error: tr.str("status")? == Some("error"),
        }));
    }
    if let Some(rc) = b.object("reasoningContent")? {
        if let Some(rt) = rc.object("reasoningText")? {
            return Ok(Some(Block::Reasoning {
                text: rt.req_str("text")?.to_string(),
                signature: rt.str("signature")?.map(str::to_string),
            }));
        }
        blob(&rc, "redactedContent")?;
        return Ok(None); // redacted reasoning: nothing a model can read
    }
    if b.has("cachePoint") || b.has("guardContent") {
        return Ok(None);
    }
    if b.has("video") || b.has("audio") {
        return Err(ApiError::validation(
            "This model doesn't support video or audio content blocks. Try again with text, image or document content.",
        ));
    }
    Ok(None)
}

/// A `guardContent` text block: its text (which the model reads too) and qualifiers.
fn guard_content(b: &Fields<'_>) -> Result<Option<(String, Vec<String>)>, ApiError> {
    let Some(g) = b.object("guardContent")? else {
        return Ok(None);
    };
    let Some(t) = g.object("text")? else {
        return Ok(None); // an image: for image content filters, which awsim does not run
    };
    let qualifiers = t.strings("qualifiers")?;
    for (i, q) in qualifiers.iter().enumerate() {
        if !["grounding_source", "query", "guard_content"].contains(&q.as_str()) {
            return Err(constraint(
                &format!("{}.{}", t.path_of("qualifiers"), i + 1),
                &json!(q),
                "Member must satisfy enum value set: [grounding_source, query, guard_content]",
            ));
        }
    }
    Ok(Some((t.req_str("text")?.to_string(), qualifiers)))
}

fn image(img: &Fields<'_>) -> Result<(String, String), ApiError> {
    let format = img.req_str("format")?;
    if !["png", "jpeg", "gif", "webp"].contains(&format) {
        return Err(constraint(
            &img.path_of("format"),
            &json!(format),
            "Member must satisfy enum value set: [png, jpeg, gif, webp]",
        ));
    }
    let source = img.object("source")?.ok_or_else(|| img.missing("source"))?;
    let data = blob(&source, "bytes")?.ok_or_else(|| s3_unsupported(&source.path))?;
    Ok((format.to_string(), data.to_string()))
}

/// A blob member (`bytes`, `redactedContent`): base64 of at least one byte. Bedrock refuses
/// anything else when it reads the request, before a model sees it.
fn blob<'a>(f: &Fields<'a>, key: &str) -> Result<Option<&'a str>, ApiError> {
    let Some(data) = f.str(key)? else {
        return Ok(None);
    };
    if data.is_empty() {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have length greater than or equal to 1",
            f.path_of(key)
        )));
    }
    if !is_base64(data) {
        return Err(ApiError::validation(format!(
            "The format of the value at {} is invalid. Provide base64-encoded bytes for the field and try again.",
            f.path_of(key)
        )));
    }
    Ok(Some(data))
}

fn s3_unsupported(path: &str) -> ApiError {
    ApiError::validation(format!(
        "{path}: awsim has no S3; send the content inline as bytes (or text for documents)."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::read::fields::object;

    fn req(body: Value) -> Result<ChatRequest, ApiError> {
        parse(body.as_object().unwrap()).map(|(request, _)| request)
    }

    #[test]
    fn parses_the_full_request_shape() {
        let r = req(json!({
            "messages": [{"role": "user", "content": [{"text": "hi"}, {"image": {"format": "png", "source": {"bytes": "iVBORw=="}}}]}],
            "system": [{"text": "sys"}],
            "inferenceConfig": {"maxTokens": 10, "temperature": 0.5, "topP": 0.9, "stopSequences": ["x"]},
            "toolConfig": {"tools": [{"toolSpec": {"name": "t", "description": "d", "inputSchema": {"json": {"type": "object"}}}}], "toolChoice": {"auto": {}}},
            "additionalModelRequestFields": {"top_k": 5},
            "guardrailConfig": {"guardrailIdentifier": "g1", "guardrailVersion": "1", "trace": "enabled"}
        }))
        .unwrap();
        assert_eq!(r.system, ["sys"]);
        assert_eq!(r.max_tokens, Some(10));
        assert_eq!(r.top_k, Some(5));
        assert_eq!(r.stop_sequences, ["x"]);
        assert_eq!(r.tools[0].name, "t");
        assert_eq!(r.messages[0].content.len(), 2);
    }

    #[test]
    fn product_page_type_text_blocks_are_accepted() {
        let r = req(json!({"messages":[{"role":"user","content":[{"type":"text","text":"Hello!"}]}],"inferenceConfig":{"maxTokens":100}})).unwrap();
        assert_eq!(r.last_user_text(), "Hello!");
    }

    #[test]
    fn conversation_rules_match_bedrock() {
        let e =
            req(json!({"messages":[{"role":"assistant","content":[{"text":"x"}]}]})).unwrap_err();
        assert!(e.message().contains("must start with a user message"));
        let e = req(json!({"messages":[{"role":"user","content":[{"text":"x"}]},{"role":"user","content":[{"text":"y"}]}]})).unwrap_err();
        assert!(e.message().contains("alternate"));
        let e = req(json!({"messages":[{"role":"user","content":[]}]})).unwrap_err();
        assert!(e.message().contains("messages.0 is empty"));
        let e = req(json!({"messages":[{"role":"user","content":[{"text":"x"}]}],"inferenceConfig":{"maxTokens":0}})).unwrap_err();
        assert!(e.message().contains("inferenceConfig.maxTokens"));
        let e = req(json!({"messages":[{"role":"user","content":[{}]}]})).unwrap_err();
        assert!(e.message().contains("one and only one member"));
        let many: Vec<String> = (0..=MAX_STOP_SEQUENCES).map(|i| i.to_string()).collect();
        let e = req(json!({"messages":[{"role":"user","content":[{"text":"x"}]}],"inferenceConfig":{"stopSequences":many}})).unwrap_err();
        assert_eq!(e.message(), "1 validation error detected: Value at 'inferenceConfig.stopSequences' failed to satisfy constraint: Member must have length less than or equal to 2500");
        let e = object(b"{\"messages\": [").unwrap_err();
        assert_eq!(e.type_name(), "ValidationException");
    }

    #[test]
    fn image_and_document_bytes_must_be_base64() {
        let with = |block: Value| {
            req(
                json!({"messages": [{"role": "user", "content": [{"text": "look"}, block]}],
                "toolConfig": {"tools": [{"toolSpec": {"name": "t", "inputSchema": {"json": {"type": "object"}}}}]}}),
            )
        };
        let image = |bytes: &str| json!({"image": {"format": "png", "source": {"bytes": bytes}}});
        let document = |bytes: &str| json!({"document": {"format": "pdf", "name": "d", "source": {"bytes": bytes}}});
        let tool_result = |block: Value| json!({"toolResult": {"toolUseId": "t1", "content": [{"text": "ok"}, block]}});
        assert!(with(image("iVBORw0KGgo=")).is_ok());
        assert!(with(document("JVBERi0xLjQ")).is_ok());
        for (block, path) in [
            (
                image("!!!notbase64"),
                "messages.0.content.1.image.source.bytes",
            ),
            (
                document("JVBERi0x LjQ="),
                "messages.0.content.1.document.source.bytes",
            ),
            (
                tool_result(image("AA=")),
                "messages.0.content.1.toolResult.content.1.image.source.bytes",
            ),
            (
                tool_result(document("%PDF")),
                "messages.0.content.1.toolResult.content.1.document.source.bytes",
            ),
            (
                json!({"reasoningContent": {"redactedContent": "not base64"}}),
                "messages.0.content.1.reasoningContent.redactedContent",
            ),
        ] {
            let e = with(block).unwrap_err();
            assert_eq!(e.type_name(), "ValidationException");
            assert_eq!(
                e.message(),
                format!("The format of the value at {path} is invalid. Provide base64-encoded bytes for the field and try again.")
            );
        }
        let e = with(image("")).unwrap_err();
        assert_eq!(e.message(), "1 validation error detected: Value at 'messages.0.content.1.image.source.bytes' failed to satisfy constraint: Member must have length greater than or equal to 1");
    }

    #[test]
    fn response_field_paths_are_read_and_checked() {
        let body = |paths: Value| json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}], "additionalModelResponseFieldPaths": paths});
        let (_, paths) = parse(body(json!(["/stop_sequence"])).as_object().unwrap()).unwrap();
        assert_eq!(paths, FieldPaths::parse(&["/stop_sequence"]).unwrap());
        let e = req(body(json!(["stop_sequence"]))).unwrap_err();
        assert_eq!(e.type_name(), "ValidationException");
        assert!(
            e.message()
                .contains("at 'additionalModelResponseFieldPaths.1.member'"),
            "{e}"
        );
        let e = req(body(json!("/stop_sequence"))).unwrap_err();
        assert!(e.message().contains("must be an array"), "{e}");
        let e = req(body(json!([1]))).unwrap_err();
        assert!(e.message().contains("must be a string"), "{e}");
    }
}
