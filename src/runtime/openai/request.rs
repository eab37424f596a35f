//! [`ChatRequest`] → an OpenAI chat-completions body. Pure: no I/O, unit-tested below.
//!
//! ```text
//! system blocks ──join "\n"──▶ {"role":"system"}
//! user text/image/document ─▶ {"role":"user","content": "…" | [text, image_url(data URL)]}
//! user toolResult ──────────▶ {"role":"tool","tool_call_id":…}   (in order, before the rest)
//! assistant text + toolUse ─▶ {"role":"assistant","content":…,"tool_calls":[…]}
//! ```

use crate::aws::ApiError;
use crate::runtime::chat::{
    Block, ChatRequest, DocumentSource, Message, Role, ToolChoice, ToolResultContent,
};
use base64::Engine;
use serde_json::{json, Map, Value};

/// Document formats a text-only backend can read once inlined.
const TEXT_DOCUMENTS: &[&str] = &["txt", "md", "markdown", "csv", "html", "htm", "text"];

/// The streaming chat-completions body for `request`, addressed to `model` (a backend model name).
pub fn chat_body(request: &ChatRequest, model: &str) -> Result<Value, ApiError> {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    let system = request.system.join("\n");
    if !system.is_empty() {
        messages.push(json!({"role": "system", "content": system}));
    }
    for message in &request.messages {
        match message.role {
            Role::User => user(message, &mut messages)?,
            Role::Assistant => messages.push(assistant(message)),
        }
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("messages".into(), Value::Array(messages));
    body.insert("stream".into(), json!(true));
    // Without it the backend sends no usage and every count would be an estimate.
    body.insert("stream_options".into(), json!({"include_usage": true}));
    if let Some(n) = request.max_tokens {
        body.insert("max_tokens".into(), json!(n));
    }
    if let Some(t) = request.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = request.top_p {
        body.insert("top_p".into(), json!(p));
    }
    // Not in the OpenAI schema, but llama.cpp, vLLM, Ollama and LM Studio read it; others ignore it.
    if let Some(k) = request.top_k {
        body.insert("top_k".into(), json!(k));
    }
    if !request.stop_sequences.is_empty() {
        body.insert("stop".into(), json!(request.stop_sequences));
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                let mut function = json!({"name": t.name, "parameters": t.schema});
                if let Some(d) = &t.description {
                    function["description"] = json!(d);
                }
                json!({"type": "function", "function": function})
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
        body.insert("tool_choice".into(), tool_choice(&request.tool_choice));
    }
    Ok(Value::Object(body))
}

fn tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::Any => json!("required"),
        ToolChoice::None => json!("none"),
        ToolChoice::Tool(name) => json!({"type": "function", "function": {"name": name}}),
    }
}

/// One user turn: its tool results become `tool` messages (OpenAI wants them right after the
/// assistant's `tool_calls`), the rest one user message. Order is kept: content met before a tool
/// result is flushed as its own user message first.
fn user(message: &Message, out: &mut Vec<Value>) -> Result<(), ApiError> {
    let mut parts: Vec<Value> = Vec::new();
    // Tool messages carry text only; their images follow as the user's own content, after every
    // tool message so those stay next to the assistant's `tool_calls`.
    let mut tool_images: Vec<Value> = Vec::new();
    for block in &message.content {
        match block {
            Block::Text(t) => parts.push(text_part(t)),
            Block::Image { format, data } => parts.push(image_part(format, data)),
            Block::Document {
                name,
                format,
                source,
            } => parts.push(text_part(&document(name, format, source)?)),
            Block::ToolResult {
                id,
                content,
                is_error,
            } => {
                if !parts.is_empty() {
                    out.push(user_message(std::mem::take(&mut parts)));
                }
                let (text, images) = tool_result(content, *is_error);
                out.push(json!({"role": "tool", "tool_call_id": id, "content": text}));
                tool_images.extend(images);
            }
            Block::ToolUse { name, .. } => {
                tracing::debug!(tool = %name, "dropping a toolUse block found in a user turn");
            }
            Block::Reasoning { .. } => {
                tracing::debug!("dropping a reasoning block from the history sent to the backend");
            }
        }
    }
    tool_images.append(&mut parts);
    if !tool_images.is_empty() {
        out.push(user_message(tool_images));
    }
    Ok(())
}

/// Text-only content as a plain string: every OpenAI-compatible server reads that, while some
/// older ones refuse content arrays.
fn user_message(parts: Vec<Value>) -> Value {
    let all_text = parts.iter().all(|p| p["type"] == "text");
    let content = if all_text {
        let texts: Vec<&str> = parts.iter().filter_map(|p| p["text"].as_str()).collect();
        json!(texts.join("\n"))
    } else {
        Value::Array(parts)
    };
    json!({"role": "user", "content": content})
}

fn assistant(message: &Message) -> Value {
    let mut text = Vec::new();
    let mut calls = Vec::new();
    for block in &message.content {
        match block {
            Block::Text(t) => text.push(t.as_str()),
            Block::ToolUse { id, name, input } => calls.push(json!({
                "id": id,
                "type": "function",
                "function": {"name": name, "arguments": input.to_string()},
            })),
            Block::Reasoning { .. } => {
                // The backend cannot verify Bedrock reasoning signatures, and replaying a thought
                // as visible text would change the conversation.
                tracing::debug!("dropping a reasoning block from the history sent to the backend");
            }
            other => {
                tracing::debug!(block = ?block_kind(other), "dropping a block an assistant turn cannot carry");
            }
        }
    }
    let mut m = json!({"role": "assistant"});
    m["content"] = if text.is_empty() && !calls.is_empty() {
        Value::Null
    } else {
        json!(text.join("\n"))
    };
    if !calls.is_empty() {
        m["tool_calls"] = Value::Array(calls);
    }
    m
}

fn block_kind(block: &Block) -> &'static str {
    match block {
        Block::Text(_) => "text",
        Block::Image { .. } => "image",
        Block::Document { .. } => "document",
        Block::ToolUse { .. } => "toolUse",
        Block::ToolResult { .. } => "toolResult",
        Block::Reasoning { .. } => "reasoning",
    }
}

fn text_part(text: &str) -> Value {
    json!({"type": "text", "text": text})
}

fn image_part(format: &str, data: &str) -> Value {
    json!({"type": "image_url", "image_url": {"url": format!("data:image/{format};base64,{data}")}})
}

fn tool_result(content: &[ToolResultContent], is_error: bool) -> (String, Vec<Value>) {
    let mut texts = Vec::new();
    let mut images = Vec::new();
    for c in content {
        match c {
            ToolResultContent::Text(t) => texts.push(t.clone()),
            ToolResultContent::Json(v) => texts.push(v.to_string()),
            ToolResultContent::Image { format, data } => images.push(image_part(format, data)),
        }
    }
    let text = texts.join("\n");
    // OpenAI tool messages have no error flag; saying it in the text keeps the meaning.
    let text = if is_error {
        format!("Error: {text}")
    } else {
        text
    };
    (text, images)
}

/// A text document inlined with its name; a binary one refused, never silently dropped.
fn document(name: &str, format: &str, source: &DocumentSource) -> Result<String, ApiError> {
    let text = match source {
        DocumentSource::Text(t) => t.clone(),
        DocumentSource::Bytes(b64) => {
            if !TEXT_DOCUMENTS.contains(&format.to_ascii_lowercase().as_str()) {
                return Err(ApiError::validation(format!(
                    "The document '{name}' is a {format} file, but the configured backend is text-only: awsim can pass txt, md, csv and html documents to it, not binary formats. Convert the document to text first."
                )));
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| {
                    ApiError::validation(format!(
                        "The document '{name}' is not valid base64 in source.bytes."
                    ))
                })?;
            String::from_utf8(bytes).map_err(|_| {
                ApiError::validation(format!(
                    "The document '{name}' ({format}) is not UTF-8 text, which a text-only backend needs."
                ))
            })?
        }
    };
    Ok(format!(
        "<document name=\"{name}\" format=\"{format}\">\n{text}\n</document>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::chat::Tool;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn parameters_system_and_streaming_options() {
        let req = ChatRequest {
            system: vec!["Be brief.".into(), "Be kind.".into()],
            messages: vec![Message::text(Role::User, "hi")],
            max_tokens: Some(50),
            temperature: Some(0.5),
            top_p: Some(0.9),
            top_k: Some(40),
            stop_sequences: vec!["END".into()],
            ..Default::default()
        };
        let body = chat_body(&req, "llama3.1:8b").unwrap();
        assert_eq!(
            body,
            json!({
                "model": "llama3.1:8b",
                "messages": [
                    {"role": "system", "content": "Be brief.\nBe kind."},
                    {"role": "user", "content": "hi"},
                ],
                "stream": true,
                "stream_options": {"include_usage": true},
                "max_tokens": 50,
                "temperature": 0.5,
                "top_p": 0.9,
                "top_k": 40,
                "stop": ["END"],
            })
        );
        let bare = chat_body(&ChatRequest::default(), "m").unwrap();
        assert!(bare.get("max_tokens").is_none() && bare.get("tools").is_none());
        assert_eq!(bare["messages"], json!([]));
    }

    #[test]
    fn tools_choices_calls_and_results_in_order() {
        let mut req = ChatRequest {
            tools: vec![Tool {
                name: "weather".into(),
                description: Some("Weather by city".into()),
                schema: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
            }],
            tool_choice: ToolChoice::Any,
            messages: vec![
                Message::text(Role::User, "weather in Paris and Rome?"),
                Message {
                    role: Role::Assistant,
                    content: vec![
                        Block::Reasoning {
                            text: "two calls".into(),
                            signature: None,
                        },
                        Block::ToolUse {
                            id: "tooluse_1".into(),
                            name: "weather".into(),
                            input: json!({"city": "Paris"}),
                        },
                        Block::ToolUse {
                            id: "tooluse_2".into(),
                            name: "weather".into(),
                            input: json!({"city": "Rome"}),
                        },
                    ],
                },
                Message {
                    role: Role::User,
                    content: vec![
                        Block::ToolResult {
                            id: "tooluse_1".into(),
                            content: vec![ToolResultContent::Json(json!({"c": 21}))],
                            is_error: false,
                        },
                        Block::ToolResult {
                            id: "tooluse_2".into(),
                            content: vec![ToolResultContent::Text("down".into())],
                            is_error: true,
                        },
                        Block::Text("thanks".into()),
                    ],
                },
            ],
            ..Default::default()
        };
        let body = chat_body(&req, "m").unwrap();
        assert_eq!(body["tool_choice"], "required");
        assert_eq!(
            body["tools"][0],
            json!({"type": "function", "function": {"name": "weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}, "description": "Weather by city"}})
        );
        let m = body["messages"].as_array().unwrap();
        assert_eq!(m.len(), 5);
        assert_eq!(m[1]["content"], Value::Null);
        assert_eq!(m[1]["tool_calls"][1]["id"], "tooluse_2");
        assert_eq!(
            m[1]["tool_calls"][0]["function"],
            json!({"name": "weather", "arguments": "{\"city\":\"Paris\"}"})
        );
        assert_eq!(
            m[2],
            json!({"role": "tool", "tool_call_id": "tooluse_1", "content": "{\"c\":21}"})
        );
        assert_eq!(m[3]["content"], "Error: down");
        assert_eq!(m[4], json!({"role": "user", "content": "thanks"}));

        for (choice, want) in [
            (ToolChoice::Auto, json!("auto")),
            (ToolChoice::None, json!("none")),
            (
                ToolChoice::Tool("weather".into()),
                json!({"type": "function", "function": {"name": "weather"}}),
            ),
        ] {
            req.tool_choice = choice;
            assert_eq!(chat_body(&req, "m").unwrap()["tool_choice"], want);
        }
    }

    #[test]
    fn images_become_data_urls_and_text_documents_are_inlined() {
        let req = ChatRequest {
            messages: vec![Message {
                role: Role::User,
                content: vec![
                    Block::Text("look".into()),
                    Block::Image {
                        format: "png".into(),
                        data: "iVBORw==".into(),
                    },
                    Block::Document {
                        name: "notes".into(),
                        format: "md".into(),
                        source: DocumentSource::Bytes(b64("# Title")),
                    },
                ],
            }],
            ..Default::default()
        };
        let body = chat_body(&req, "m").unwrap();
        assert_eq!(
            body["messages"][0]["content"],
            json!([
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw=="}},
                {"type": "text", "text": "<document name=\"notes\" format=\"md\">\n# Title\n</document>"},
            ])
        );
    }

    #[test]
    fn binary_documents_are_refused() {
        let req = ChatRequest {
            messages: vec![Message {
                role: Role::User,
                content: vec![Block::Document {
                    name: "report".into(),
                    format: "pdf".into(),
                    source: DocumentSource::Bytes(b64("%PDF-1.7")),
                }],
            }],
            ..Default::default()
        };
        let err = chat_body(&req, "m").unwrap_err();
        assert_eq!(err.type_name(), "ValidationException");
        assert!(err.message().contains("text-only"), "{err}");
        assert!(err.message().contains("report"), "{err}");
    }
}
