//! The one token stream every source produces: [`Delta`]s, from the model's start to its stop.
//! Shapers turn them into each operation's events; non-streaming operations collect them.

use crate::aws::ApiError;
use bytes::Bytes;
use futures::Stream;
use std::pin::Pin;

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

impl Usage {
    /// The largest count Bedrock's token fields carry (32-bit signed integers in the service
    /// model): a count a backend reports beyond it is capped, so every SDK can read it.
    pub const MAX: u32 = i32::MAX as u32;

    /// Input plus output, capped like the counts.
    pub fn total(&self) -> u32 {
        self.input_tokens
            .saturating_add(self.output_tokens)
            .min(Self::MAX)
    }
}

/// What every source produces. An error before the first item becomes an HTTP error; after it, an
/// exception frame. A stream that ends without [`Delta::Stop`] was truncated.
pub type TokenStream = Pin<Box<dyn Stream<Item = Result<Delta, ApiError>> + Send>>;

/// The error for a stream that ended before its stop.
pub fn truncated() -> ApiError {
    ApiError::ModelStreamError {
        message: "The model stream ended before the answer was complete (no finish reason).".into(),
        original_status_code: None,
        original_message: None,
    }
}
