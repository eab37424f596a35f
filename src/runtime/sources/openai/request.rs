//! [`ChatRequest`] → an OpenAI chat-completions body. Pure: no I/O, unit-tested below.
//!
//! ```text
//! system blocks ──join "\n"──▶ {"role":"system"}
//! user text/image/document ─▶ {"role":"user","content": "…" | [text, image_url(data URL)]}
//! user toolResult ──────────▶ {"role":"tool","tool_call_id":…}   (in order, before the rest)
//! assistant text + toolUse ─▶ {"role":"assistant","content":…,"tool_calls":[…]}
//! ```

use crate::aws::ApiError;
use crate::runtime::stream::request::{
    Block, ChatRequest, DocumentSource, Message, Role, ToolChoice, ToolResultContent,
};
use base64::Engine;
use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;

/// Document formats a text-only backend can read once inlined.
const TEXT_DOCUMENTS: &[&str] = &["txt", "md", "markdown", "csv", "html", "htm", "text"];

/// The body, borrowing from the request and serialized straight to bytes: no JSON tree is built on
/// the way to the backend.
#[derive(Debug, Serialize)]
struct ChatBody<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    stream: bool,
    /// Without it the backend sends no usage and every count would be an estimate.
    stream_options: StreamOptions,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    /// Not in the OpenAI schema, but llama.cpp, vLLM, Ollama and LM Studio read it; others ignore it.
    #[serde(skip_serializing_if = "Option::is_none")]
    top_k: Option<u32>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<WireToolChoice<'a>>,
}

#[derive(Debug, Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Debug, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
enum WireMessage<'a> {
    System {
        content: String,
    },
    User {
        content: Content<'a>,
    },
    Tool {
        tool_call_id: &'a str,
        content: String,
    },
    Assistant {
        /// `null` when the turn is only tool calls, as OpenAI sends it.
        content: Option<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<WireCall<'a>>,
    },
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Content<'a> {
    Text(String),
    Parts(Vec<Part<'a>>),
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Part<'a> {
    Text { text: Cow<'a, str> },
    ImageUrl { image_url: ImageUrl },
}

#[derive(Debug, Serialize)]
struct ImageUrl {
    url: String,
}

#[derive(Debug, Serialize)]
struct WireCall<'a> {
    id: &'a str,
    r#type: &'static str,
    function: WireFunctionCall<'a>,
}

#[derive(Debug, Serialize)]
struct WireFunctionCall<'a> {
    name: &'a str,
    arguments: String,
}

#[derive(Debug, Serialize)]
struct WireTool<'a> {
    r#type: &'static str,
    function: WireFunction<'a>,
}

#[derive(Debug, Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    parameters: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum WireToolChoice<'a> {
    Mode(&'static str),
    Function {
        r#type: &'static str,
        function: Named<'a>,
    },
}

#[derive(Debug, Serialize)]
struct Named<'a> {
    name: &'a str,
}

/// The streaming chat-completions body for `request`, addressed to `model` (a backend model name).
pub fn chat_body(request: &ChatRequest, model: &str) -> Result<Bytes, ApiError> {
    let body = wire_body(request, model)?;
    serde_json::to_vec(&body)
        .map(Bytes::from)
        .map_err(|e| ApiError::InternalServer(format!("could not write the backend request: {e}")))
}

fn wire_body<'a>(request: &'a ChatRequest, model: &'a str) -> Result<ChatBody<'a>, ApiError> {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    let system = request.system.join("\n");
    if !system.is_empty() {
        messages.push(WireMessage::System { content: system });
    }
    for message in &request.messages {
        match message.role {
            Role::User => user(message, &mut messages)?,
            Role::Assistant => messages.push(assistant(message)),
        }
    }
    let tools: Vec<WireTool> = request
        .tools
        .iter()
        .map(|t| WireTool {
            r#type: "function",
            function: WireFunction {
                name: &t.name,
                parameters: &t.schema,
                description: t.description.as_deref(),
            },
        })
        .collect();
    let tool_choice = (!tools.is_empty()).then(|| tool_choice(&request.tool_choice));
    Ok(ChatBody {
        model,
        messages,
        stream: true,
        stream_options: StreamOptions {
            include_usage: true,
        },
        max_tokens: request.max_tokens,
        temperature: request.temperature,
        top_p: request.top_p,
        top_k: request.top_k,
        stop: &request.stop_sequences,
        tools,
        tool_choice,
    })
}

fn tool_choice(choice: &ToolChoice) -> WireToolChoice<'_> {
    match choice {
        ToolChoice::Auto => WireToolChoice::Mode("auto"),
        ToolChoice::Any => WireToolChoice::Mode("required"),
        ToolChoice::None => WireToolChoice::Mode("none"),
        ToolChoice::Tool(name) => WireToolChoice::Function {
            r#type: "function",
            function: Named { name },
        },
    }
}

/// One user turn: its tool results become `tool` messages (OpenAI wants them right after the
/// assistant's `tool_calls`), the rest one user message. Order is kept: content met before a tool
/// result is flushed as its own user message first.
fn user<'a>(message: &'a Message, out: &mut Vec<WireMessage<'a>>) -> Result<(), ApiError> {
    let mut parts: Vec<Part> = Vec::new();
    // Tool messages carry text only; their images follow as the user's own content, after every
    // tool message so those stay next to the assistant's `tool_calls`.
    let mut tool_images: Vec<Part> = Vec::new();
    for block in &message.content {
        match block {
            Block::Text(t) => parts.push(Part::Text {
                text: Cow::Borrowed(t),
            }),
            Block::Image { format, data } => parts.push(image_part(format, data)),
            Block::Document {
                name,
                format,
                source,
            } => parts.push(Part::Text {
                text: Cow::Owned(document(name, format, source)?),
            }),
            Block::ToolResult {
                id,
                content,
                is_error,
            } => {
                if !parts.is_empty() {
                    out.push(user_message(std::mem::take(&mut parts)));
                }
                let (text, images) = tool_result(content, *is_error);
                out.push(WireMessage::Tool {
                    tool_call_id: id,
                    content: text,
                });
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
fn user_message(parts: Vec<Part>) -> WireMessage {
    let texts: Option<Vec<&str>> = parts
        .iter()
        .map(|p| match p {
            Part::Text { text } => Some(text.as_ref()),
            Part::ImageUrl { .. } => None,
        })
        .collect();
    let content = match texts {
        Some(texts) => Content::Text(texts.join("\n")),
        None => Content::Parts(parts),
    };
    WireMessage::User { content }
}

fn assistant(message: &Message) -> WireMessage<'_> {
    let mut text = Vec::new();
    let mut calls = Vec::new();
    for block in &message.content {
        match block {
            Block::Text(t) => text.push(t.as_str()),
            Block::ToolUse { id, name, input } => calls.push(WireCall {
                id,
                r#type: "function",
                function: WireFunctionCall {
                    name,
                    arguments: input.to_string(),
                },
            }),
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
    let content = if text.is_empty() && !calls.is_empty() {
        None
    } else {
        Some(text.join("\n"))
    };
    WireMessage::Assistant {
        content,
        tool_calls: calls,
    }
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

fn image_part(format: &str, data: &str) -> Part<'static> {
    Part::ImageUrl {
        image_url: ImageUrl {
            url: format!("data:image/{format};base64,{data}"),
        },
    }
}

fn tool_result(content: &[ToolResultContent], is_error: bool) -> (String, Vec<Part<'static>>) {
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
            // The readers checked it with the same decoder.
            let bytes = crate::runtime::read::fields::BLOB_BASE64
                .decode(b64)
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
    use crate::runtime::stream::request::Tool;
    use serde_json::json;

    /// The body as the backend receives it.
    fn wire(req: &ChatRequest, model: &str) -> Value {
        serde_json::from_slice(&chat_body(req, model).unwrap()).unwrap()
    }

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
        let body = wire(&req, "llama3.1:8b");
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
        let bare = wire(&ChatRequest::default(), "m");
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
        let body = wire(&req, "m");
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
            assert_eq!(wire(&req, "m")["tool_choice"], want);
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
        let body = wire(&req, "m");
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
