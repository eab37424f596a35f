//! The one normalized request every runtime operation is translated into: each body format's
//! reader fills a [`ChatRequest`], and every source answers one.

use serde_json::Value;

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
    /// Text the caller marked for a guardrail (Converse `guardContent`), which the model reads as
    /// ordinary text.
    pub guarded: Vec<Guarded>,
}

/// A text block marked for a guardrail: where it is, and its qualifiers (`guard_content`,
/// `grounding_source`, `query`).
#[derive(Debug, Clone, PartialEq)]
pub struct Guarded {
    pub at: TextAt,
    pub qualifiers: Vec<String>,
}

impl Guarded {
    pub fn is(&self, qualifier: &str) -> bool {
        self.qualifiers.iter().any(|q| q == qualifier)
    }
}

/// Where a text block is: `system[i]`, or `messages[m].content[b]` (a [`Block::Text`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextAt {
    System(usize),
    Message(usize, usize),
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
