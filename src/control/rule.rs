//! A rule as written — over HTTP or in a scenario file, the same JSON objects — checked and
//! compiled. Every error names the rule and the field: `rules[1].fault.kind: unknown variant
//! `throttle`, expected one of …`.

use super::fault::{Class, Fault, Kind};
use super::matcher::{Matcher, TextMatch};
use super::quota::Limit;
use crate::operations::RuntimeOp;
use crate::runtime::read::fields;
use crate::runtime::sources::canned::Pacing;
use crate::runtime::sources::scripted::{Script, Text};
use crate::runtime::stream::delta::StopReason;
use serde::de::{self, DeserializeOwned, Deserializer, IntoDeserializer};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// A checked rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The `id` it was given, if any.
    pub id: Option<String>,
    /// The rule as written (listed by `GET /_awsim/rules`).
    pub written: Value,
    pub matcher: Matcher,
    pub action: Action,
    pub times: Option<u64>,
    pub probability: Option<f64>,
}

/// What a matching rule does.
#[derive(Debug, Clone)]
pub enum Action {
    Respond(Arc<Script>),
    Fault(Fault),
    Quota(Limit),
}

/// Longest `modelId` glob, `regex` pattern and rule id.
const MAX_GLOB: usize = 1024;
const MAX_REGEX: usize = 4096;
const MAX_ID: usize = 128;
/// Compiled regexes stay small: matching is linear in the text, and building one is bounded.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// The longest pause a rule can ask for: a day.
const MAX_MS: u64 = 86_400_000;

/// The rules in `value`: one rule object (errors say `rule.…`) or an array of them (`rules[i].…`).
pub fn parse(value: &Value) -> Result<Vec<Rule>, String> {
    match value {
        Value::Array(items) => parse_list(items),
        Value::Object(_) => Ok(vec![parse_one(value, "rule")?]),
        other => Err(format!(
            "expected a rule (a JSON object) or an array of rules, not {}",
            fields::kind(other)
        )),
    }
}

/// The rules of an array (a scenario file's `rules`, or a POSTed array).
pub fn parse_list(items: &[Value]) -> Result<Vec<Rule>, String> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_one(item, &format!("rules[{i}]")))
        .collect()
}

// The rule as written: strict (unknown fields are errors), camelCase as the contract spells it.

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    expecting = "a rule: an object with `match` and one of `respond`, `fault` or `quota`"
)]
struct RuleSpec {
    id: Option<String>,
    #[serde(rename = "match", default)]
    matching: MatchSpec,
    respond: Option<RespondSpec>,
    fault: Option<FaultSpec>,
    quota: Option<QuotaSpec>,
    times: Option<u64>,
    probability: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    expecting = "an object of conditions"
)]
struct MatchSpec {
    model_id: Option<String>,
    operation: Option<OneOrMany<RuntimeOp>>,
    prompt: Option<TextSpec>,
    system: Option<TextSpec>,
    tool_result: Option<String>,
    region: Option<String>,
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an object with `contains` or `regex`"
)]
struct TextSpec {
    contains: Option<String>,
    regex: Option<String>,
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    expecting = "an object saying what to answer"
)]
struct RespondSpec {
    text: Option<String>,
    tool_use: Option<OneOrMany<ToolUseSpec>>,
    reasoning: Option<String>,
    stop_reason: Option<StopReasonName>,
    stop_sequence: Option<String>,
    usage: Option<UsageSpec>,
    #[serde(default)]
    echo: bool,
    tokens: Option<Vec<String>>,
    first_token_ms: Option<u64>,
    token_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a tool call: {\"name\", \"input\"}")]
struct ToolUseSpec {
    name: String,
    #[serde(default = "empty_object")]
    input: Value,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum StopReasonName {
    EndTurn,
    ToolUse,
    MaxTokens,
    StopSequence,
    ContentFiltered,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct UsageSpec {
    input_tokens: Option<u32>,
    output_tokens: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FaultSpec {
    kind: Kind,
    #[serde(default)]
    at: At,
    message: Option<String>,
    retry_after_seconds: Option<f64>,
    ms: Option<u64>,
}

/// `"request"` or `{"afterTokens": N}`.
#[derive(Default, Clone, Copy)]
enum At {
    #[default]
    Request,
    AfterTokens(u32),
}

impl<'de> Deserialize<'de> for At {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        struct After {
            after_tokens: u32,
        }
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = At;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("\"request\" or {\"afterTokens\": N}")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<At, E> {
                match s {
                    "request" => Ok(At::Request),
                    other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
                }
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<At, A::Error> {
                let after = After::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(At::AfterTokens(after.after_tokens))
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct QuotaSpec {
    rpm: Option<u32>,
    tpm: Option<u32>,
    window_seconds: Option<f64>,
}

/// One value or a list of them.
struct OneOrMany<T>(Vec<T>);

impl<'de, T: DeserializeOwned> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: DeserializeOwned> de::Visitor<'de> for Visitor<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("one value or a list of them")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                T::deserialize(s.into_deserializer()).map(|v| OneOrMany(vec![v]))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|v| OneOrMany(vec![v]))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Vec::<T>::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(OneOrMany)
            }
        }
        d.deserialize_any(Visitor(std::marker::PhantomData))
    }
}

/// `at.field: why`.
fn err(at: &str, field: &str, why: impl std::fmt::Display) -> String {
    if field.is_empty() {
        format!("{at}: {why}")
    } else {
        format!("{at}.{field}: {why}")
    }
}

fn parse_one(value: &Value, at: &str) -> Result<Rule, String> {
    let spec: RuleSpec = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "" } else { path.as_str() };
        err(at, field, e.inner())
    })?;
    if let Some(id) = &spec.id {
        check_id(id).map_err(|why| err(at, "id", why))?;
    }
    let actions = [
        spec.respond.is_some().then_some("respond"),
        spec.fault.is_some().then_some("fault"),
        spec.quota.is_some().then_some("quota"),
    ];
    let given: Vec<&str> = actions.into_iter().flatten().collect();
    if given.len() != 1 {
        return Err(err(
            at,
            "",
            format!(
                "a rule has exactly one of respond, fault or quota; this one has {}",
                if given.is_empty() {
                    "none".to_string()
                } else {
                    given.join(" and ")
                }
            ),
        ));
    }
    let action = if let Some(r) = spec.respond {
        Action::Respond(Arc::new(script(r, at)?))
    } else if let Some(f) = spec.fault {
        Action::Fault(fault(f, at)?)
    } else if let Some(q) = spec.quota {
        if spec.times.is_some() || spec.probability.is_some() {
            let field = if spec.times.is_some() {
                "times"
            } else {
                "probability"
            };
            return Err(err(
                at,
                field,
                "a quota rule applies to every call it matches: it takes no times or probability",
            ));
        }
        Action::Quota(quota(q, at)?)
    } else {
        return Err(err(
            at,
            "",
            "a rule has exactly one of respond, fault or quota",
        ));
    };
    if spec.times == Some(0) {
        return Err(err(at, "times", "must be at least 1"));
    }
    if let Some(p) = spec.probability {
        if !(0.0..=1.0).contains(&p) {
            return Err(err(
                at,
                "probability",
                format!("{p} is not between 0 and 1"),
            ));
        }
    }
    Ok(Rule {
        id: spec.id,
        written: value.clone(),
        matcher: matcher(spec.matching, at)?,
        action,
        times: spec.times,
        probability: spec.probability,
    })
}

/// Rule ids appear in paths (`DELETE /_awsim/rules/{id}`): letters, digits, `.`, `_`, `-`.
fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > MAX_ID {
        return Err(format!("must be 1 to {MAX_ID} characters"));
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(format!(
            "'{id}' may hold only letters, digits, '.', '_' and '-'"
        ));
    }
    Ok(())
}

fn matcher(spec: MatchSpec, at: &str) -> Result<Matcher, String> {
    let model_id = match spec.model_id {
        None => None,
        Some(p) if p.len() > MAX_GLOB => {
            return Err(err(
                at,
                "match.modelId",
                format!("a glob of at most {MAX_GLOB} characters"),
            ))
        }
        Some(p) => Some(
            globset::GlobBuilder::new(&p)
                .literal_separator(false)
                .build()
                .map_err(|e| err(at, "match.modelId", e))?
                .compile_matcher(),
        ),
    };
    Ok(Matcher {
        model_id,
        operations: spec.operation.map(|o| o.0),
        prompt: spec
            .prompt
            .map(|t| text_match(t, at, "match.prompt"))
            .transpose()?,
        system: spec
            .system
            .map(|t| text_match(t, at, "match.system"))
            .transpose()?,
        tool_result: spec.tool_result,
        region: spec.region,
    })
}

fn text_match(spec: TextSpec, at: &str, field: &str) -> Result<TextMatch, String> {
    match (spec.contains, spec.regex) {
        (Some(s), None) => Ok(TextMatch::Contains(s)),
        (None, Some(p)) => {
            let field = format!("{field}.regex");
            if p.len() > MAX_REGEX {
                return Err(err(
                    at,
                    &field,
                    format!("a pattern of at most {MAX_REGEX} characters"),
                ));
            }
            regex::RegexBuilder::new(&p)
                .size_limit(REGEX_SIZE_LIMIT)
                .dfa_size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map(TextMatch::Regex)
                .map_err(|e| err(at, &field, e))
        }
        _ => Err(err(at, field, "give exactly one of contains or regex")),
    }
}

fn ms(value: Option<u64>, at: &str, field: &str) -> Result<Option<Duration>, String> {
    match value {
        Some(ms) if ms > MAX_MS => Err(err(
            at,
            field,
            format!("{ms} is more than a day ({MAX_MS} ms)"),
        )),
        other => Ok(other.map(Duration::from_millis)),
    }
}

fn script(spec: RespondSpec, at: &str) -> Result<Script, String> {
    let texts = [
        spec.text.is_some().then_some("text"),
        spec.echo.then_some("echo"),
        spec.tokens.is_some().then_some("tokens"),
    ];
    let texts: Vec<&str> = texts.into_iter().flatten().collect();
    if texts.len() > 1 {
        return Err(err(
            at,
            "respond",
            format!(
                "give at most one of text, echo or tokens, not {}",
                texts.join(" and ")
            ),
        ));
    }
    let text = match (spec.text, spec.echo, spec.tokens) {
        (Some(t), _, _) => Some(Text::Plain(t)),
        (_, true, _) => Some(Text::Echo),
        (_, _, Some(pieces)) => Some(Text::Tokens(pieces)),
        _ => None,
    };
    let mut tool_uses = Vec::new();
    for (i, t) in spec
        .tool_use
        .map(|t| t.0)
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        if t.name.is_empty() {
            return Err(err(
                at,
                &format!("respond.toolUse[{i}].name"),
                "must not be empty",
            ));
        }
        if !t.input.is_object() {
            return Err(err(
                at,
                &format!("respond.toolUse[{i}].input"),
                format!(
                    "a tool's input is a JSON object, not {}",
                    fields::kind(&t.input)
                ),
            ));
        }
        tool_uses.push((t.name, t.input));
    }
    if text.is_none() && tool_uses.is_empty() && spec.reasoning.is_none() {
        return Err(err(
            at,
            "respond",
            "say what to answer: text, tokens, echo, toolUse or reasoning",
        ));
    }
    if spec.stop_sequence.is_some()
        && !matches!(spec.stop_reason, Some(StopReasonName::StopSequence))
    {
        return Err(err(
            at,
            "respond.stopSequence",
            "goes with stopReason \"stop_sequence\"",
        ));
    }
    let stop_reason = spec.stop_reason.map(|name| match name {
        StopReasonName::EndTurn => StopReason::EndTurn,
        StopReasonName::ToolUse => StopReason::ToolUse,
        StopReasonName::MaxTokens => StopReason::MaxTokens,
        StopReasonName::StopSequence => {
            StopReason::StopSequence(spec.stop_sequence.clone().unwrap_or_default())
        }
        StopReasonName::ContentFiltered => StopReason::ContentFiltered,
    });
    let usage = spec.usage.unwrap_or(UsageSpec {
        input_tokens: None,
        output_tokens: None,
    });
    Ok(Script {
        reasoning: spec.reasoning,
        text,
        tool_uses,
        stop_reason,
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        pacing: Pacing {
            first_token: ms(spec.first_token_ms, at, "respond.firstTokenMs")?.unwrap_or_default(),
            between_tokens: ms(spec.token_ms, at, "respond.tokenMs")?.unwrap_or_default(),
        },
    })
}

fn fault(spec: FaultSpec, at: &str) -> Result<Fault, String> {
    let kind = spec.kind;
    let name = kind.name();
    let after_tokens = match spec.at {
        At::Request => None,
        At::AfterTokens(n) => Some(n),
    };
    match (kind.class(), after_tokens) {
        (Class::Request, Some(_)) => {
            let instead = kind.in_stream().map_or(String::new(), |k| {
                format!("; inside a stream use {}", k.name())
            });
            return Err(err(
                at,
                "fault.at",
                format!(
                    "{name} is an HTTP error before the response: at must be \"request\"{instead}"
                ),
            ));
        }
        (Class::Stream, None) => {
            return Err(err(
                at,
                "fault.at",
                format!("{name} is sent inside a stream: give at: {{\"afterTokens\": N}}"),
            ))
        }
        (Class::Transport, Some(_)) if kind == Kind::Delay => {
            return Err(err(
                at,
                "fault.at",
                "delay happens before the first byte; to pause after N tokens, use stall with ms",
            ))
        }
        _ => {}
    }
    if spec.message.is_some() && kind.class() == Class::Transport {
        return Err(err(at, "fault.message", format!("{name} sends no message")));
    }
    let retry_after = match spec.retry_after_seconds {
        None => None,
        Some(_) if kind.class() != Class::Request => {
            return Err(err(
                at,
                "fault.retryAfterSeconds",
                format!("is a header of an HTTP error; {name} sends none"),
            ))
        }
        Some(s) => Some(
            Duration::try_from_secs_f64(s)
                .ok()
                .filter(|d| d.as_millis() <= u128::from(MAX_MS))
                .ok_or_else(|| {
                    err(
                        at,
                        "fault.retryAfterSeconds",
                        format!("{s} is not 0 to 86400 seconds"),
                    )
                })?,
        ),
    };
    let pause = ms(spec.ms, at, "fault.ms")?;
    match kind {
        Kind::Delay if pause.is_none() => {
            return Err(err(
                at,
                "fault.ms",
                "delay needs ms: how long to wait before the first byte",
            ))
        }
        Kind::Stall | Kind::Delay => {}
        _ if pause.is_some() => {
            return Err(err(
                at,
                "fault.ms",
                format!("only stall and delay take ms, not {name}"),
            ))
        }
        _ => {}
    }
    Ok(Fault {
        kind,
        after_tokens,
        message: spec.message,
        retry_after,
        pause,
    })
}

fn quota(spec: QuotaSpec, at: &str) -> Result<Limit, String> {
    if spec.rpm.is_none() && spec.tpm.is_none() {
        return Err(err(at, "quota", "give rpm, tpm or both"));
    }
    for (field, value) in [("quota.rpm", spec.rpm), ("quota.tpm", spec.tpm)] {
        if value == Some(0) {
            return Err(err(at, field, "must be at least 1"));
        }
    }
    let window = match spec.window_seconds {
        None => Limit::MINUTE,
        Some(s) => Duration::try_from_secs_f64(s)
            .ok()
            .filter(|d| !d.is_zero() && d.as_millis() <= u128::from(MAX_MS))
            .ok_or_else(|| {
                err(
                    at,
                    "quota.windowSeconds",
                    format!("{s} is not more than 0 and at most 86400"),
                )
            })?,
    };
    Ok(Limit {
        rpm: spec.rpm,
        tpm: spec.tpm,
        window,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn error(v: Value) -> String {
        parse(&v).expect_err("an error")
    }

    #[test]
    fn the_issue_examples_parse() {
        let rules = parse(&json!([
            {"match": {"modelId": "anthropic.*", "prompt": {"contains": "weather"}},
             "respond": {"toolUse": [{"name": "get_weather", "input": {"city": "Paris"}}]}},
            {"match": {"operation": "ConverseStream"}, "fault": {"kind": "modelStreamErrorException", "at": {"afterTokens": 3}}, "times": 1},
            {"match": {}, "fault": {"kind": "throttling", "retryAfterSeconds": 2}, "times": 2},
            {"match": {"modelId": "*"}, "quota": {"rpm": 3, "windowSeconds": 2}}
        ]))
        .unwrap();
        assert_eq!(rules.len(), 4);
        let Action::Fault(f) = &rules[1].action else {
            panic!()
        };
        assert_eq!(
            (f.kind, f.after_tokens),
            (Kind::ModelStreamErrorException, Some(3))
        );
        let Action::Fault(f) = &rules[2].action else {
            panic!()
        };
        assert_eq!(f.retry_after, Some(Duration::from_secs(2)));
        assert_eq!(rules[2].times, Some(2));
    }

    #[test]
    fn errors_name_the_rule_and_the_field() {
        let e = error(json!([{"respond": {"text": "x"}}, {"fault": {"kind": "throttle"}}]));
        assert!(
            e.starts_with(
                "rules[1].fault.kind: unknown variant `throttle`, expected one of `throttling`"
            ),
            "{e}"
        );
        let e = error(json!({"respond": {"txt": "x"}}));
        assert!(
            e.starts_with("rule.respond.txt: unknown field `txt`"),
            "{e}"
        );
        let e =
            error(json!({"match": {"operation": ["Converse", "Talk"]}, "respond": {"text": "x"}}));
        assert!(
            e.starts_with("rule.match.operation[1]: unknown variant `Talk`"),
            "{e}"
        );
        let e = error(json!({"match": {"prompt": {"regex": "("}}, "respond": {"text": "x"}}));
        assert!(
            e.starts_with("rule.match.prompt.regex: regex parse error"),
            "{e}"
        );
        let e = error(json!({"respond": {"text": "x"}, "fault": {"kind": "throttling"}}));
        assert_eq!(e, "rule: a rule has exactly one of respond, fault or quota; this one has respond and fault");
        let e = error(json!({"fault": {"kind": "throttling", "at": {"afterTokens": 2}}}));
        assert_eq!(e, "rule.fault.at: throttling is an HTTP error before the response: at must be \"request\"; inside a stream use throttlingException");
        let e = error(json!({"fault": {"kind": "throttlingException"}}));
        assert_eq!(e, "rule.fault.at: throttlingException is sent inside a stream: give at: {\"afterTokens\": N}");
        let e = error(json!({"fault": {"kind": "delay"}}));
        assert!(e.starts_with("rule.fault.ms: delay needs ms"), "{e}");
        let e = error(json!({"fault": {"kind": "stall", "at": "later"}}));
        assert!(e.starts_with("rule.fault.at: invalid value: string \"later\", expected \"request\" or {\"afterTokens\": N}"), "{e}");
        let e = error(json!({"respond": {"text": "x"}, "probability": 1.5}));
        assert_eq!(e, "rule.probability: 1.5 is not between 0 and 1");
        let e = error(json!({"respond": {"toolUse": {"name": "f", "input": [1]}}}));
        assert_eq!(
            e,
            "rule.respond.toolUse[0].input: a tool's input is a JSON object, not an array"
        );
        let e = error(json!({"quota": {"rpm": 3}, "times": 2}));
        assert!(e.starts_with("rule.times: a quota rule"), "{e}");
        let e = error(json!("x"));
        assert!(e.starts_with("expected a rule"), "{e}");
        let e = error(json!([3]));
        assert!(
            e.starts_with("rules[0]: invalid type: integer `3`, expected a rule"),
            "{e}"
        );
    }

    #[test]
    fn a_regex_that_would_compile_to_a_huge_program_is_refused() {
        let e = error(
            json!({"match": {"prompt": {"regex": "(\\w{100}){100}"}}, "respond": {"text": "x"}}),
        );
        assert!(e.starts_with("rule.match.prompt.regex:"), "{e}");
        assert!(e.contains("size limit"), "{e}");
    }
}
