//! The one normalized request every runtime operation is translated into, and the one token stream
//! every source produces. Translators fill a [`ChatRequest`]; sources turn it into [`Delta`]s; shapers
//! turn deltas into each operation's events.

use crate::aws::ApiError;
use bytes::Bytes;
use futures::Stream;
use serde_json::Value;
use std::pin::Pin;

/// A conversation, whatever wire format it arrived in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatRequest {
    /// System prompts, in order (sources join them with newlines).
    pub system: Vec<String>,
    pub messages: Vec<Message>,
    pub tools: Vec<Tool>,
    pub tool_choice: ToolChoice,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub top_k: Option<u32>,
    pub stop_sequences: Vec<String>,
    /// The caller asked for reasoning ("thinking") output.
    pub reasoning: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    pub content: Vec<Block>,
}

impl Message {
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        Self {
            role,
            content: vec![Block::Text(text.into())],
        }
    }
}

/// One piece of message content.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Text(String),
    /// `format` is the image subtype (`png`, `jpeg`, `gif`, `webp`); `data` is base64.
    Image {
        format: String,
        data: String,
    },
    Document {
        name: String,
        format: String,
        source: DocumentSource,
    },
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    ToolResult {
        id: String,
        content: Vec<ToolResultContent>,
        is_error: bool,
    },
    Reasoning {
        text: String,
        signature: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum DocumentSource {
    Text(String),
    /// base64 of the file's bytes
    Bytes(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ToolResultContent {
    Text(String),
    Json(Value),
    Image { format: String, data: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub name: String,
    pub description: Option<String>,
    /// JSON Schema of the input.
    pub schema: Value,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ToolChoice {
    #[default]
    Auto,
    /// The model must call some tool.
    Any,
    /// The model must call this tool.
    Tool(String),
    /// Tools are listed but must not be called.
    None,
}

impl ChatRequest {
    /// The text of the last user message (what canned answers echo).
    pub fn last_user_text(&self) -> String {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map(|m| {
                m.content
                    .iter()
                    .filter_map(|b| match b {
                        Block::Text(t) => Some(t.as_str()),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    }
}

/// A piece of generated text. Cheap to make and to clone: canned answers slice one shared buffer,
/// and a backend's SSE delta hands over its string without a copy — no allocation per token.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Token(Bytes);

impl Token {
    /// Slices a shared buffer of UTF-8 text (the range must lie on char boundaries).
    pub fn slice(text: &Bytes, range: std::ops::Range<usize>) -> Self {
        Self(text.slice(range))
    }

    pub fn as_str(&self) -> &str {
        // Built only from `str`s and char-boundary slices of them, so this never fails.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::ops::Deref for Token {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for Token {
    fn from(s: String) -> Self {
        Self(Bytes::from(s))
    }
}

impl From<&str> for Token {
    fn from(s: &str) -> Self {
        Self(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step of an answer as it is generated.
#[derive(Debug, Clone, PartialEq)]
pub enum Delta {
    /// The model accepted the request; always first.
    Start {
        input_tokens: u32,
    },
    Text(Token),
    Reasoning(Token),
    /// A new tool call begins; its input follows as [`Delta::ToolInput`] fragments.
    ToolStart {
        name: String,
    },
    /// A fragment of the current tool call's JSON input.
    ToolInput(Token),
    /// The answer is complete; always last.
    Stop(Stop),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stop {
    pub reason: StopReason,
    pub usage: Usage,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    EndTurn,
    MaxTokens,
    StopSequence(String),
    ToolUse,
    ContentFiltered,
}

impl StopReason {
    /// The Converse / Anthropic spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::EndTurn => "end_turn",
            Self::MaxTokens => "max_tokens",
            Self::StopSequence(_) => "stop_sequence",
            Self::ToolUse => "tool_use",
            Self::ContentFiltered => "content_filtered",
        }
    }

    pub fn sequence(&self) -> Option<&str> {
        match self {
            Self::StopSequence(s) => Some(s),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: u32,
    pub output_tokens: u32,
}

/// What every source produces. An error before the first item becomes an HTTP error; after it, an
/// exception frame. A stream that ends without [`Delta::Stop`] was truncated.
pub type TokenStream = Pin<Box<dyn Stream<Item = Result<Delta, ApiError>> + Send>>;
