//! A rule's `match`: which calls it applies to, and the facts of a call it is held against.

use crate::model_ref::ModelRef;
use crate::operations::RuntimeOp;
use crate::runtime::embed::EmbedRequest;
use crate::runtime::stream::request::{Block, ChatRequest, Role};
use std::cell::OnceCell;

/// What a call brings to be matched.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A chat request (every InvokeModel family, Converse, CountTokens).
    Chat(&'a ChatRequest),
    /// InvokeModel on an embedding model.
    Embed(&'a EmbedRequest),
    /// ApplyGuardrail or InvokeGuardrailChecks: no model answers, so only faults and quotas apply.
    Guard,
}

/// One call, as rules see it. Texts are worked out once, and only if a rule asks.
pub struct Facts<'a> {
    pub op: RuntimeOp,
    pub model: &'a ModelRef,
    pub region: &'a str,
    /// The request body as received (seeds probabilities under `--bedrock-deterministic`).
    pub body: &'a [u8],
    pub input: Input<'a>,
    prompt: OnceCell<String>,
    system: OnceCell<String>,
}

impl<'a> Facts<'a> {
    pub fn new(
        op: RuntimeOp,
        model: &'a ModelRef,
        region: &'a str,
        body: &'a [u8],
        input: Input<'a>,
    ) -> Self {
        Self {
            op,
            model,
            region,
            body,
            input,
            prompt: OnceCell::new(),
            system: OnceCell::new(),
        }
    }

    /// The last user message's text; an embedding call's texts, one per line.
    fn prompt(&self) -> &str {
        self.prompt.get_or_init(|| match self.input {
            Input::Chat(request) => request.last_user_text(),
            Input::Embed(request) => request.texts.join("\n"),
            Input::Guard => String::new(),
        })
    }

    /// The system prompts, one per line.
    fn system(&self) -> &str {
        self.system.get_or_init(|| match self.input {
            Input::Chat(request) => request.system.join("\n"),
            Input::Embed(_) | Input::Guard => String::new(),
        })
    }

    /// Whether the last user message carries a result of a call to the tool `name` (the call's
    /// name is found by its id among the assistant's earlier tool calls).
    fn has_tool_result(&self, name: &str) -> bool {
        let Input::Chat(request) = self.input else {
            return false;
        };
        let Some(last) = request.messages.iter().rev().find(|m| m.role == Role::User) else {
            return false;
        };
        let called = |id: &str| {
            request.messages.iter().any(|m| {
                m.content.iter().any(|b| {
                    matches!(b, Block::ToolUse { id: used, name: n, .. } if used == id && n == name)
                })
            })
        };
        last.content
            .iter()
            .any(|b| matches!(b, Block::ToolResult { id, .. } if called(id)))
    }
}

/// A text condition: `{"contains": …}` or `{"regex": …}`.
#[derive(Debug, Clone)]
pub enum TextMatch {
    Contains(String),
    Regex(regex::Regex),
}

impl TextMatch {
    fn holds(&self, text: &str) -> bool {
        match self {
            Self::Contains(needle) => text.contains(needle.as_str()),
            Self::Regex(re) => re.is_match(text),
        }
    }
}

/// A checked `match`: every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    pub model_id: Option<globset::GlobMatcher>,
    pub operations: Option<Vec<RuntimeOp>>,
    pub prompt: Option<TextMatch>,
    pub system: Option<TextMatch>,
    pub tool_result: Option<String>,
    pub region: Option<String>,
}

impl Matcher {
    pub fn matches(&self, facts: &Facts) -> bool {
        self.operations.as_ref().is_none_or(|ops| ops.contains(&facts.op))
            && self.region.as_ref().is_none_or(|r| r == facts.region)
            // The id as sent, and every id it resolved through down to the foundation model.
            && self
                .model_id
                .as_ref()
                .is_none_or(|glob| facts.model.via.iter().any(|id| glob.is_match(id)))
            && self.prompt.as_ref().is_none_or(|m| m.holds(facts.prompt()))
            && self.system.as_ref().is_none_or(|m| m.holds(facts.system()))
            && self
                .tool_result
                .as_ref()
                .is_none_or(|name| facts.has_tool_result(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::stream::request::{Message, ToolResultContent};
    use serde_json::json;

    fn model(via: &[&str]) -> ModelRef {
        ModelRef {
            id: via.last().unwrap().to_string(),
            name: "M".into(),
            via: via.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn glob(p: &str) -> Option<globset::GlobMatcher> {
        Some(globset::Glob::new(p).unwrap().compile_matcher())
    }

    #[test]
    fn a_model_glob_matches_the_id_as_sent_and_as_resolved() {
        let request = ChatRequest::default();
        let m = Matcher {
            model_id: glob("anthropic.*"),
            ..Default::default()
        };
        for via in [
            &["anthropic.claude-3-haiku-20240307-v1:0"][..],
            &["us.anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1:0"],
            &["arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1:0"],
        ] {
            let model = model(via);
            let facts = Facts::new(RuntimeOp::Converse, &model, "us-east-1", b"", Input::Chat(&request));
            assert!(m.matches(&facts), "{via:?}");
        }
        let titan = model(&["amazon.titan-text-express-v1"]);
        let facts = Facts::new(
            RuntimeOp::Converse,
            &titan,
            "us-east-1",
            b"",
            Input::Chat(&request),
        );
        assert!(!m.matches(&facts));
    }

    #[test]
    fn prompt_system_operation_region_and_tool_result() {
        let request = ChatRequest {
            system: vec!["You are terse.".into()],
            messages: vec![
                Message::text(Role::User, "weather in Paris?"),
                Message {
                    role: Role::Assistant,
                    content: vec![Block::ToolUse {
                        id: "t1".into(),
                        name: "get_weather".into(),
                        input: json!({}),
                    }],
                },
                Message {
                    role: Role::User,
                    content: vec![Block::ToolResult {
                        id: "t1".into(),
                        content: vec![ToolResultContent::Text("sunny".into())],
                        is_error: false,
                    }],
                },
            ],
            ..Default::default()
        };
        let model = model(&["anthropic.claude-3-haiku-20240307-v1:0"]);
        let facts = Facts::new(
            RuntimeOp::ConverseStream,
            &model,
            "eu-west-1",
            b"",
            Input::Chat(&request),
        );
        let holds = |m: Matcher| m.matches(&facts);
        assert!(holds(Matcher::default()));
        assert!(holds(Matcher {
            tool_result: Some("get_weather".into()),
            ..Default::default()
        }));
        assert!(!holds(Matcher {
            tool_result: Some("get_time".into()),
            ..Default::default()
        }));
        assert!(holds(Matcher {
            system: Some(TextMatch::Regex(regex::Regex::new("(?i)TERSE").unwrap())),
            ..Default::default()
        }));
        // The last user message is the tool result: it has no text.
        assert!(!holds(Matcher {
            prompt: Some(TextMatch::Contains("Paris".into())),
            ..Default::default()
        }));
        assert!(holds(Matcher {
            operations: Some(vec![RuntimeOp::Converse, RuntimeOp::ConverseStream]),
            region: Some("eu-west-1".into()),
            ..Default::default()
        }));
        assert!(!holds(Matcher {
            operations: Some(vec![RuntimeOp::InvokeModel]),
            ..Default::default()
        }));
    }
}
