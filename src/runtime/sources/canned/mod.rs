//! The default source: deterministic answers without a model. The same request always gives the same
//! text, tokens and chunking; answers are many word-sized tokens long, name the model and echo the
//! start of the last user message; tool calls get schema-valid inputs.

pub(crate) mod embed;
pub(crate) mod tool_input;

use crate::runtime::stream::request::{
    Block, ChatRequest, Role, Tool, ToolChoice, ToolResultContent,
};

use crate::hash::stable_hash;
use crate::runtime::stream::delta::{Delta, Stop, StopReason, Token, TokenStream, Usage};
use crate::runtime::stream::tokens;
use bytes::Bytes;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// Optional delays so consumers can test their handling of slow streams.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pacing {
    pub first_token: Duration,
    pub between_tokens: Duration,
}

impl Pacing {
    pub fn is_none(&self) -> bool {
        self.first_token.is_zero() && self.between_tokens.is_zero()
    }
}

const FILLERS: &[&str] = &[
    "Canned answers are deterministic, so the same request always streams the same tokens.",
    "Point awsim at a local model with --bedrock-backend to get real answers instead.",
    "Every token arrives as its own event, just as it would from Amazon Bedrock.",
    "Usage figures match the text, so token accounting can be tested too.",
    "Stop sequences and maxTokens cut this answer the way a real model would.",
    "Nothing here left your machine: no AWS account, no network, no cost.",
];

/// How the answer's text is cut into deltas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunks {
    /// One delta per token: what a stream shows.
    Tokens,
    /// One delta per block, the same text and token count: for an answer that is collected, not
    /// streamed, where the cut is never seen and a delta per token is only work.
    Whole,
}

/// Plans the whole answer for `request` as deltas.
pub fn plan(request: &ChatRequest, model_name: &str, chunks: Chunks) -> Vec<Delta> {
    let input_tokens = tokens::input_tokens(request);
    let mut out = vec![Delta::Start { input_tokens }];
    let mut budget = request.max_tokens.unwrap_or(u32::MAX);
    let mut used: u32 = 0;
    let echo = echo(&request.last_user_text());

    if request.reasoning {
        let thought = format!("The user said \"{echo}\". A short, friendly canned answer will do.");
        if let Some(reason) = emit_text(
            &mut out,
            &thought,
            Delta::Reasoning,
            chunks,
            &mut budget,
            &mut used,
            &[],
        ) {
            return finish(out, reason, input_tokens, used);
        }
    }

    let (text, call) = compose(request, model_name, &echo);
    if let Some(reason) = emit_text(
        &mut out,
        &text,
        Delta::Text,
        chunks,
        &mut budget,
        &mut used,
        &request.stop_sequences,
    ) {
        return finish(out, reason, input_tokens, used);
    }
    let reason = match call {
        None => StopReason::EndTurn,
        Some((name, input)) => {
            out.push(Delta::ToolStart { name });
            let json = input.to_string();
            used += tokens::count(&json);
            for piece in fragments(&json, 12) {
                out.push(Delta::ToolInput(piece.into()));
            }
            StopReason::ToolUse
        }
    };
    finish(out, reason, input_tokens, used)
}

fn finish(
    mut out: Vec<Delta>,
    reason: StopReason,
    input_tokens: u32,
    output_tokens: u32,
) -> Vec<Delta> {
    out.push(Delta::Stop(Stop {
        reason,
        usage: Usage {
            input_tokens,
            output_tokens,
        },
    }));
    out
}

/// Emits the text token by token (or, with [`Chunks::Whole`], the same tokens as one delta);
/// returns the stop reason if a stop sequence or the token budget ended the answer. Every token is a
/// slice of one shared buffer: no allocation per token.
fn emit_text(
    out: &mut Vec<Delta>,
    text: &str,
    make: fn(Token) -> Delta,
    chunks: Chunks,
    budget: &mut u32,
    used: &mut u32,
    stop_sequences: &[String],
) -> Option<StopReason> {
    let mut text = text;
    let mut stopped = None;
    if let Some((at, seq)) = stop_sequences
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()).map(|at| (at, s)))
        .min_by_key(|(at, _)| *at)
    {
        text = &text[..at];
        stopped = Some(StopReason::StopSequence(seq.clone()));
    }
    let shared = Bytes::copy_from_slice(text.as_bytes());
    match chunks {
        Chunks::Tokens => {
            for span in tokens::pieces(text) {
                if *budget == 0 {
                    return Some(StopReason::MaxTokens);
                }
                *budget -= 1;
                *used += 1;
                out.push(make(Token::slice(&shared, span)));
            }
        }
        Chunks::Whole => {
            // Pieces tile the text and only trailing whitespace is a blank piece, so the first
            // tokens are exactly `text[..end]`.
            let cut = tokens::cut(text, *budget);
            *budget -= cut.tokens;
            *used += cut.tokens;
            if cut.end > 0 {
                out.push(make(Token::slice(&shared, 0..cut.end)));
            }
            if cut.more {
                return Some(StopReason::MaxTokens);
            }
        }
    }
    stopped
}

/// Characters of the user's message an answer echoes: what the answer's length, and the work of
/// its stop-sequence search, depend on.
const ECHO_CHARS: usize = 120;

/// The first dozen words of the user's message, on one line, at most [`ECHO_CHARS`] characters.
fn echo(text: &str) -> String {
    let mut s = String::with_capacity(text.len().min(ECHO_CHARS + 3));
    let mut room = ECHO_CHARS;
    let mut words = text.split_whitespace();
    let mut cut = false;
    for (i, word) in words.by_ref().take(12).enumerate() {
        if i > 0 {
            s.push(' ');
            room = room.saturating_sub(1);
        }
        if let Some((at, _)) = word.char_indices().nth(room) {
            s.push_str(&word[..at]);
            cut = true;
            break;
        }
        s.push_str(word);
        room -= word.chars().count();
    }
    if cut || words.next().is_some() {
        s.push('…');
    }
    if s.contains('"') {
        s = s.replace('"', "'");
    }
    s
}

/// Tool results an answer quotes; the rest are counted.
const QUOTED_RESULTS: usize = 4;

/// The answer text and, when the request calls for one, a tool call.
fn compose(
    request: &ChatRequest,
    model_name: &str,
    echo: &str,
) -> (String, Option<(String, Value)>) {
    let last = request.messages.last();
    let tool_results: Vec<&[ToolResultContent]> = last
        .filter(|m| m.role == Role::User)
        .map(|m| {
            m.content
                .iter()
                .filter_map(|b| match b {
                    Block::ToolResult { content, .. } => Some(content.as_slice()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let (filler, second_filler) = fillers(echo, &request.system);

    if !tool_results.is_empty() {
        // A few results are quoted and the rest counted, so the answer stays short.
        let mut quoted: Vec<String> = tool_results
            .iter()
            .take(QUOTED_RESULTS)
            .map(|content| summarize(content))
            .collect();
        if tool_results.len() > QUOTED_RESULTS {
            quoted.push(format!("and {} more", tool_results.len() - QUOTED_RESULTS));
        }
        let text = format!(
            "Thanks, the tool returned: {}. This is a canned answer from {model_name} on awsim. {}",
            quoted.join("; "),
            filler
        );
        return (text, None);
    }
    if let Some((tool, forced)) = chosen_tool(request) {
        let input = tool_input::tool_call_input(&tool.schema, &tool.name);
        let text = if forced {
            String::new()
        } else {
            format!(
                "I will call the {} tool to answer that.",
                tool_input::short_name(&tool.name)
            )
        };
        return (text, Some((tool.name.clone(), input)));
    }
    // Concatenated: one allocation of the exact length.
    let text = [
        "Hello! This is a canned answer from ",
        model_name,
        " on awsim, the local Bedrock emulator. You said: \"",
        echo,
        "\". ",
        filler,
        " ",
        second_filler,
    ]
    .concat();
    (text, None)
}

/// Two different filler sentences, chosen by the echoed text and the system prompts so that the
/// same request always gets the same answer.
fn fillers(echo: &str, system: &[String]) -> (&'static str, &'static str) {
    let parts: Vec<&[u8]> = std::iter::once(echo.as_bytes())
        .chain(system.iter().map(|s| s.as_bytes()))
        .collect();
    let seed = stable_hash(&parts);
    let n = FILLERS.len() as u64;
    let first = seed % n;
    // Any of the others: never the first sentence again.
    let second = (first + 1 + (seed >> 8) % (n - 1)) % n;
    (FILLERS[first as usize], FILLERS[second as usize])
}

/// The tool to call and whether the caller forced it: `any`, a named tool, or a tool the last user
/// message mentions by name.
fn chosen_tool(request: &ChatRequest) -> Option<(&Tool, bool)> {
    if request.tools.is_empty() {
        return None;
    }
    match &request.tool_choice {
        ToolChoice::None => None,
        ToolChoice::Any => request.tools.first().map(|t| (t, true)),
        ToolChoice::Tool(name) => request
            .tools
            .iter()
            .find(|t| &t.name == name)
            .map(|t| (t, true)),
        ToolChoice::Auto => {
            // A real model calls `get_weather` when asked about the weather: the first tool whose
            // name, or one of whose words of four letters or more, is a word of the message. Word
            // for word through a map of the tools' words: one pass over the message and one over
            // the tools, however many of each there are.
            let mut wanted: HashMap<String, usize> = HashMap::new();
            for (i, tool) in request.tools.iter().enumerate() {
                let name = tool.name.to_lowercase();
                for word in name.split(|c: char| !c.is_alphanumeric()) {
                    if word.len() >= 4 {
                        wanted.entry(word.to_string()).or_insert(i);
                    }
                }
                wanted.entry(name).or_insert(i);
            }
            let said = request.last_user_text().to_lowercase();
            let words = said.split(|c: char| !c.is_alphanumeric());
            let names = said.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'));
            words
                .chain(names)
                .filter_map(|w| wanted.get(w).copied())
                .min()
                .and_then(|i| request.tools.get(i))
                .map(|t| (t, false))
        }
    }
}

fn summarize(content: &[ToolResultContent]) -> String {
    use ToolResultContent as C;
    let text: String = content
        .iter()
        .map(|c| match c {
            C::Text(t) => t.clone(),
            C::Json(v) => v.to_string(),
            C::Image { .. } => "an image".to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ");
    let short: String = text.chars().take(80).collect();
    if short.len() < text.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// Splits `s` into pieces of about `n` characters (on char boundaries).
pub(crate) fn fragments(s: &str, n: usize) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let cut = rest.char_indices().nth(n).map_or(rest.len(), |(i, _)| i);
        let (head, tail) = rest.split_at(cut);
        rest = tail;
        Some(head)
    })
}

/// Streams a plan, with optional pacing before the first and between later content deltas.
pub fn stream(plan: Vec<Delta>, pacing: Pacing) -> TokenStream {
    if pacing.is_none() {
        return Box::pin(futures::stream::iter(plan.into_iter().map(Ok)));
    }
    Box::pin(async_stream::stream! {
        let mut content_seen = false;
        for delta in plan {
            if !matches!(delta, Delta::Start { .. } | Delta::Stop(_)) {
                let wait = if content_seen { pacing.between_tokens } else { pacing.first_token };
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                content_seen = true;
            }
            yield Ok(delta);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::stream::request::Message;
    use serde_json::json;

    fn ask(text: &str) -> ChatRequest {
        ChatRequest {
            messages: vec![Message::text(Role::User, text)],
            ..Default::default()
        }
    }

    fn text_of(plan: &[Delta]) -> String {
        plan.iter()
            .filter_map(|d| match d {
                Delta::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    fn stop_of(plan: &[Delta]) -> &Stop {
        match plan.last() {
            Some(Delta::Stop(s)) => s,
            other => panic!("no stop: {other:?}"),
        }
    }

    #[test]
    fn answers_are_deterministic_name_the_model_and_echo_the_user() {
        let a = plan(&ask("What is AWS?"), "Claude 3 Haiku", Chunks::Tokens);
        assert_eq!(
            a,
            plan(&ask("What is AWS?"), "Claude 3 Haiku", Chunks::Tokens)
        );
        let text = text_of(&a);
        assert!(text.contains("Claude 3 Haiku"), "{text}");
        assert!(text.contains("What is AWS?"), "{text}");
        let stop = stop_of(&a);
        assert_eq!(stop.reason, StopReason::EndTurn);
        assert_eq!(stop.usage.output_tokens as usize, a.len() - 2);
        assert_eq!(stop.usage.output_tokens, tokens::count(&text));
        assert!(a.len() > 30);
    }

    #[test]
    fn no_answer_says_the_same_sentence_twice() {
        for i in 0..300 {
            let mut r = ask(&format!("question {i}"));
            if i % 2 == 0 {
                r.system = vec![format!("system {i}")];
            }
            let text = text_of(&plan(&r, "M", Chunks::Whole));
            let sentences: Vec<&str> = text.split_inclusive(". ").map(str::trim).collect();
            for (at, s) in sentences.iter().enumerate() {
                assert!(!sentences[..at].contains(s), "{s:?} twice in {text:?}");
            }
        }
    }

    #[test]
    fn max_tokens_and_stop_sequences_cut_the_answer() {
        let mut r = ask("hi");
        r.max_tokens = Some(5);
        let p = plan(&r, "M", Chunks::Tokens);
        assert_eq!(stop_of(&p).reason, StopReason::MaxTokens);
        assert_eq!(stop_of(&p).usage.output_tokens, 5);
        let mut r = ask("hi");
        r.stop_sequences = vec!["canned".into()];
        let p = plan(&r, "M", Chunks::Tokens);
        assert_eq!(
            stop_of(&p).reason,
            StopReason::StopSequence("canned".into())
        );
        assert!(text_of(&p).ends_with("This is a"), "{}", text_of(&p));
    }

    #[test]
    fn a_collected_answer_has_the_streamed_text_and_usage_in_one_delta_per_block() {
        let mut cut = ask("hi");
        cut.max_tokens = Some(7);
        let mut stopped = ask("hi");
        stopped.stop_sequences = vec!["canned".into()];
        let mut thinking = ask("think first");
        thinking.reasoning = true;
        let mut short_thought = thinking.clone();
        short_thought.max_tokens = Some(3);
        for r in [ask("What is AWS?"), cut, stopped, thinking, short_thought] {
            let tokens = plan(&r, "M", Chunks::Tokens);
            let whole = plan(&r, "M", Chunks::Whole);
            assert_eq!(text_of(&whole), text_of(&tokens));
            assert_eq!(stop_of(&whole), stop_of(&tokens));
            let reasoning = |p: &[Delta]| -> String {
                p.iter()
                    .filter_map(|d| match d {
                        Delta::Reasoning(t) => Some(t.as_str()),
                        _ => None,
                    })
                    .collect()
            };
            assert_eq!(reasoning(&whole), reasoning(&tokens));
            let blocks = whole
                .iter()
                .filter(|d| matches!(d, Delta::Text(_) | Delta::Reasoning(_)))
                .count();
            assert!(blocks <= 2, "{whole:?}");
        }
    }

    #[test]
    fn forced_tools_get_schema_valid_input() {
        let mut r = ask("weather please");
        r.tools = vec![Tool {
            name: "get_weather".into(),
            description: None,
            schema: json!({"type": "object", "properties": {
                "city": {"type": "string"}, "unit": {"enum": ["c", "f"]}, "days": {"type": "integer", "minimum": 1, "maximum": 7}
            }, "required": ["city"]}),
        }];
        r.tool_choice = ToolChoice::Any;
        let p = plan(&r, "M", Chunks::Tokens);
        assert!(matches!(&p[1], Delta::ToolStart { name } if name == "get_weather"));
        let input: String = p
            .iter()
            .filter_map(|d| match d {
                Delta::ToolInput(f) => Some(f.as_str()),
                _ => None,
            })
            .collect();
        let v: Value = serde_json::from_str(&input).unwrap();
        assert_eq!(v, json!({"city": "Seattle", "unit": "c", "days": 1}));
        assert_eq!(stop_of(&p).reason, StopReason::ToolUse);
    }

    #[test]
    fn a_tool_whose_words_the_user_mentions_is_called() {
        let mut r = ask("What is the weather in Paris?");
        r.tools = vec![Tool {
            name: "get_weather".into(),
            description: None,
            schema: json!({"type":"object"}),
        }];
        assert_eq!(
            stop_of(&plan(&r, "M", Chunks::Tokens)).reason,
            StopReason::ToolUse
        );
        r.tool_choice = ToolChoice::None;
        assert_eq!(
            stop_of(&plan(&r, "M", Chunks::Tokens)).reason,
            StopReason::EndTurn
        );
        let r = ask("no tools here");
        assert_eq!(
            stop_of(&plan(&r, "M", Chunks::Tokens)).reason,
            StopReason::EndTurn
        );
    }

    #[test]
    fn a_tool_named_in_the_prompt_is_called_after_a_sentence() {
        let mut r = ask("please use lookup for this");
        r.tools = vec![Tool {
            name: "lookup".into(),
            description: None,
            schema: json!({"type":"object"}),
        }];
        let p = plan(&r, "M", Chunks::Tokens);
        assert!(text_of(&p).contains("lookup"));
        assert_eq!(stop_of(&p).reason, StopReason::ToolUse);
    }

    fn tool(name: &str) -> Tool {
        Tool {
            name: name.into(),
            description: None,
            schema: json!({"type": "object"}),
        }
    }

    #[test]
    fn tools_are_called_by_whole_words_of_their_names() {
        let called = |text: &str, tools: &[&str]| {
            let mut r = ask(text);
            r.tools = tools.iter().map(|n| tool(n)).collect();
            let p = plan(&r, "M", Chunks::Whole);
            p.iter().find_map(|d| match d {
                Delta::ToolStart { name } => Some(name.clone()),
                _ => None,
            })
        };
        let weather = called("What's the Weather in Paris?", &["clock", "get_weather"]);
        assert_eq!(weather.as_deref(), Some("get_weather"));
        let named = called("call get_time now", &["get_time", "time_zone"]);
        assert_eq!(named.as_deref(), Some("get_time"));
        // The first tool in the list that is mentioned, wherever the message mentions it.
        let first = called("time, then weather", &["weather", "time_zone"]);
        assert_eq!(first.as_deref(), Some("weather"));
        // Part of a word is no mention; nor is a short word of a name.
        assert_eq!(called("weatherproof jackets", &["get_weather"]), None);
        assert_eq!(called("get the x", &["get_x"]), None);
    }

    #[test]
    fn an_answer_echoes_a_bounded_part_of_the_message() {
        let long = "x".repeat(1_000_000);
        let text = text_of(&plan(&ask(&long), "M", Chunks::Whole));
        assert!(
            text.contains(&format!("\"{}…\"", "x".repeat(ECHO_CHARS))),
            "{text}"
        );
        assert!(text.len() < 1000, "{}", text.len());
        let words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi";
        assert_eq!(
            echo(words),
            "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu…"
        );
        assert_eq!(echo("What is AWS?"), "What is AWS?");
    }

    #[test]
    fn a_tool_result_turn_quotes_a_few_results_and_counts_the_rest() {
        use crate::runtime::stream::request::ToolResultContent;
        let results = (0..10)
            .map(|i| Block::ToolResult {
                id: format!("t{i}"),
                content: vec![ToolResultContent::Text(format!("result {i}"))],
                is_error: false,
            })
            .collect();
        let r = ChatRequest {
            messages: vec![Message {
                role: Role::User,
                content: results,
            }],
            ..Default::default()
        };
        let text = text_of(&plan(&r, "M", Chunks::Whole));
        assert!(
            text.starts_with(
                "Thanks, the tool returned: result 0; result 1; result 2; result 3; and 6 more."
            ),
            "{text}"
        );
    }
}
