//! What a measured request is: the operation it calls and the body format it asks for.

/// The operation a call makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Converse,
    ConverseStream,
    /// InvokeModelWithResponseStream with an Anthropic Messages body.
    InvokeStream,
    /// OpenAI `POST /chat/completions` with `stream: true`: the direct baseline.
    ChatCompletions,
}

impl Api {
    pub fn label(self) -> &'static str {
        match self {
            Self::Converse => "Converse",
            Self::ConverseStream => "ConverseStream",
            Self::InvokeStream => "InvokeModelWithResponseStream",
            Self::ChatCompletions => "direct: OpenAI chat/completions SSE",
        }
    }
}

/// The body format a streaming Bedrock operation is asked for (`x-awsim-stream-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    EventStream,
    JsonArray,
}

impl Format {
    pub fn label(self) -> &'static str {
        match self {
            Self::EventStream => "eventstream",
            Self::JsonArray => "JSON array",
        }
    }
}
