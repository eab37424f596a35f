//! The standalone guardrail operations: `ApplyGuardrail` (a stored guardrail version on the caller's
//! content) and `InvokeGuardrailChecks` (detect-only checks configured in the request, answered
//! with scores).

use super::assess::{evaluate, sorted, GroundingContext, Options, Outcome, Piece};
use super::lexicon::{self, CONTENT_LEXICON, PROMPT_ATTACK_LEXICON};
use super::pii;
use super::policy::{Direction, Guardrail, Level};
use super::text::words;
use crate::aws::ApiError;
use crate::call::Call;
use crate::management::Store;
use crate::runtime::read::fields::{self, constraint, is_base64, Fields};
use serde_json::{json, Value};

const QUALIFIERS: &[&str] = &["grounding_source", "query", "guard_content"];

/// One text block of the request, with its qualifiers.
struct Block {
    text: String,
    qualifiers: Vec<String>,
}

impl Block {
    fn is(&self, qualifier: &str) -> bool {
        self.qualifiers.iter().any(|q| q == qualifier)
    }
}

/// `guardrailVersion` in the path: `DRAFT` or `1`..`99999999`.
pub fn check_version(version: &str) -> Result<(), ApiError> {
    let numeric = !version.is_empty()
        && version.len() <= 8
        && !version.starts_with('0')
        && version.bytes().all(|b| b.is_ascii_digit());
    if numeric || version == "DRAFT" {
        return Ok(());
    }
    Err(constraint(
        "guardrailVersion",
        &json!(version),
        "Member must satisfy regular expression pattern: (|([1-9][0-9]{0,7})|(DRAFT))",
    ))
}

/// `ApplyGuardrail`: `POST /guardrail/{guardrailIdentifier}/version/{guardrailVersion}/apply`.
pub fn apply_guardrail(store: &Store, call: &Call, pinned: bool) -> Result<Value, ApiError> {
    let body = fields::object(&call.body)?;
    let f = Fields::new(&body, "");
    let direction = match f.req_str("source")? {
        "INPUT" => Direction::Input,
        "OUTPUT" => Direction::Output,
        other => {
            return Err(constraint(
                "source",
                &json!(other),
                "Member must satisfy enum value set: [INPUT, OUTPUT]",
            ))
        }
    };
    let full = match f.str("outputScope")? {
        None | Some("INTERVENTIONS") => false,
        Some("FULL") => true,
        Some(other) => {
            return Err(constraint(
                "outputScope",
                &json!(other),
                "Member must satisfy enum value set: [INTERVENTIONS, FULL]",
            ))
        }
    };
    let mut blocks = Vec::new();
    let content = f.req_array("content")?;
    if content.is_empty() {
        return Err(ApiError::validation(
            "The content of the request is empty. Add at least one text or image block and try again.",
        ));
    }
    for (i, c) in content.iter().enumerate() {
        let c = f.item("content", i, c)?;
        if let Some(t) = c.object("text")? {
            let qualifiers = t.strings("qualifiers")?;
            if let Some(q) = qualifiers
                .iter()
                .find(|q| !QUALIFIERS.contains(&q.as_str()))
            {
                return Err(constraint(
                    &t.path_of("qualifiers"),
                    &json!(q),
                    "Member must satisfy enum value set: [grounding_source, query, guard_content]",
                ));
            }
            blocks.push(Block {
                text: t.req_str("text")?.to_string(),
                qualifiers,
            });
        } else if let Some(img) = c.object("image")? {
            let format = img.req_str("format")?;
            if !["png", "jpeg"].contains(&format) {
                return Err(constraint(
                    &img.path_of("format"),
                    &json!(format),
                    "Member must satisfy enum value set: [png, jpeg]",
                ));
            }
            let source = img.object("source")?.ok_or_else(|| img.missing("source"))?;
            let bytes = source.req_str("bytes")?;
            if bytes.is_empty() || !is_base64(bytes) {
                return Err(ApiError::validation(format!(
                    "The format of the value at {} is invalid. Provide base64-encoded bytes for the field and try again.",
                    source.path_of("bytes")
                )));
            }
            // Images are counted by Bedrock's image filters; awsim evaluates text only.
        } else {
            return Err(ApiError::validation(format!(
                "The GuardrailContentBlock at content.{i} must have one and only one member set: text or image."
            )));
        }
    }
    check_version(call.param(1))?;
    let guardrail = Guardrail::load(
        store,
        &call.ctx.region,
        &call.ctx.account_id,
        call.param(0),
        call.param(1),
    )?;

    // With `guard_content` blocks, only they are guarded; otherwise every unqualified block.
    let tagged = blocks.iter().any(|b| b.is("guard_content"));
    let guarded: Vec<&Block> = blocks
        .iter()
        .filter(|b| {
            if tagged {
                b.is("guard_content")
            } else {
                !b.is("grounding_source") && !b.is("query")
            }
        })
        .collect();
    let grounding = if direction == Direction::Output && guardrail.grounds() {
        let join = |q: &str| {
            blocks
                .iter()
                .filter(|b| b.is(q))
                .map(|b| b.text.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        };
        if !blocks.iter().any(|b| b.is("grounding_source")) || !blocks.iter().any(|b| b.is("query"))
        {
            return Err(ApiError::validation(
                "The provided request does not contain the grounding source. Grounding source, query and content to guard are required for Guardrails contextual grounding policy evaluation.",
            ));
        }
        Some(GroundingContext {
            source: join("grounding_source"),
            query: join("query"),
        })
    } else {
        None
    };
    let pieces: Vec<Piece<'_>> = guarded
        .iter()
        .map(|b| Piece {
            text: &b.text,
            user: direction == Direction::Input,
        })
        .collect();
    let total: usize = blocks.iter().map(|b| b.text.chars().count()).sum();
    let e = evaluate(
        &guardrail,
        &pieces,
        grounding.as_ref(),
        total,
        Options {
            direction,
            full,
            mask: true,
            pinned,
        },
    );
    let blocked_message = guardrail.blocked_message(direction).to_string();
    // Blocked: the blocked message alone. Masked: every text block, in order, masked where guarded.
    let outputs: Vec<Value> = match e.outcome {
        Outcome::Blocked => vec![json!({ "text": blocked_message })],
        Outcome::Masked => {
            let mut masked = e.masked.iter();
            blocks
                .iter()
                .map(|b| {
                    let text = if guarded.iter().any(|g| std::ptr::eq(*g, b)) {
                        masked.next().cloned().unwrap_or_default()
                    } else {
                        b.text.clone()
                    };
                    json!({ "text": text })
                })
                .collect()
        }
        Outcome::Clean => Vec::new(),
    };
    let action = if e.outcome == Outcome::Clean {
        "NONE"
    } else {
        "GUARDRAIL_INTERVENED"
    };
    Ok(sorted(json!({
        "action": action,
        "actionReason": e.outcome.reason(),
        "assessments": [e.assessment],
        "blockedResponse": (e.outcome == Outcome::Blocked).then_some(blocked_message),
        "guardrailCoverage": e.coverage_json(),
        "output": outputs,
        "outputs": outputs,
        "usage": e.units.json(),
    })))
}

/// Scores reported for awsim's confidence levels.
fn severity(level: Level) -> f64 {
    match level {
        Level::None => 0.0,
        Level::Low => 0.3,
        Level::Medium => 0.6,
        Level::High => 0.9,
    }
}

/// The most sensitive-information results one call reports; past it `truncated` is true.
const MAX_SENSITIVE_RESULTS: usize = 100;

/// `InvokeGuardrailChecks`: `POST /guardrail-checks/invoke`.
pub fn invoke_guardrail_checks(call: &Call) -> Result<Value, ApiError> {
    let body = fields::object(&call.body)?;
    let f = Fields::new(&body, "");
    let messages = f.req_array("messages")?;
    if messages.is_empty() {
        return Err(ApiError::validation(
            "1 validation error detected: Value at 'messages' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    // (role, texts) per message.
    let mut conversation: Vec<(String, Vec<String>)> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let m = f.item("messages", i, m)?;
        let role = m.req_str("role")?;
        if !["user", "assistant", "system"].contains(&role) {
            return Err(constraint(
                &m.path_of("role"),
                &json!(role),
                "Member must satisfy enum value set: [user, assistant, system]",
            ));
        }
        let content = m.req_array("content")?;
        if content.is_empty() || content.len() > 10 {
            return Err(ApiError::validation(format!(
                "A message holds 1 to 10 content blocks; {} has {}.",
                m.path_of("content"),
                content.len()
            )));
        }
        let mut texts = Vec::new();
        for (j, c) in content.iter().enumerate() {
            let c = m.item("content", j, c)?;
            let text = c.req_str("text")?;
            if text.is_empty() {
                return Err(ApiError::validation(format!(
                    "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have length greater than or equal to 1",
                    c.path_of("text")
                )));
            }
            texts.push(text.to_string());
        }
        conversation.push((role.to_string(), texts));
    }
    let checks = f.object("checks")?.ok_or_else(|| f.missing("checks"))?;
    let categories = |check: &Fields<'_>, member: &str, allowed: &[&str], max: usize| {
        let list = check.req_array(member)?;
        if list.is_empty() || list.len() > max {
            return Err(ApiError::validation(format!(
                "{} lists 1 to {max} entries; found {}.",
                check.path_of(member),
                list.len()
            )));
        }
        list.iter()
            .enumerate()
            .map(|(i, c)| {
                let c = check.item(member, i, c)?;
                let key = if member == "entities" {
                    "type"
                } else {
                    "category"
                };
                let v = c.req_str(key)?;
                if allowed.contains(&v) {
                    Ok(v.to_string())
                } else {
                    Err(constraint(
                        &c.path_of(key),
                        &json!(v),
                        &format!(
                            "Member must satisfy enum value set: [{}]",
                            allowed.join(", ")
                        ),
                    ))
                }
            })
            .collect::<Result<Vec<String>, ApiError>>()
    };
    let content_filter = match checks.object("contentFilter")? {
        Some(c) => Some(categories(
            &c,
            "categories",
            &["VIOLENCE", "HATE", "SEXUAL", "MISCONDUCT", "INSULTS"],
            5,
        )?),
        None => None,
    };
    let prompt_attack = match checks.object("promptAttack")? {
        Some(c) => Some(categories(
            &c,
            "categories",
            &["JAILBREAK", "PROMPT_INJECTION", "PROMPT_LEAKAGE"],
            3,
        )?),
        None => None,
    };
    let pii_types: Vec<&str> = crate::management::PII_TYPES.to_vec();
    let sensitive = match checks.object("sensitiveInformation")? {
        Some(c) => Some(categories(&c, "entities", &pii_types, 31)?),
        None => None,
    };
    if content_filter.is_none() && prompt_attack.is_none() && sensitive.is_none() {
        return Err(ApiError::validation(
            "checks must set at least one of contentFilter, promptAttack and sensitiveInformation.",
        ));
    }

    let all: String = conversation
        .iter()
        .flat_map(|(_, t)| t.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("\n");
    let user: String = conversation
        .iter()
        .filter(|(r, _)| r == "user")
        .flat_map(|(_, t)| t.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("\n");
    let text_units = json!({ "textUnits": all.chars().count().div_ceil(1000) });
    let mut results = serde_json::Map::new();
    let mut usage = serde_json::Map::new();
    if let Some(cats) = content_filter {
        let w = words(&all);
        let scored: Vec<Value> = cats
            .iter()
            .map(|c| json!({"category": c, "severityScore": severity(lexicon::confidence(CONTENT_LEXICON, c, &w))}))
            .collect();
        results.insert("contentFilter".into(), json!({ "results": scored }));
        usage.insert("contentFilter".into(), text_units.clone());
    }
    if let Some(cats) = prompt_attack {
        let w = words(&user);
        let scored: Vec<Value> = cats
            .iter()
            .map(|c| json!({"category": c, "severityScore": severity(lexicon::confidence(PROMPT_ATTACK_LEXICON, c, &w))}))
            .collect();
        results.insert("promptAttack".into(), json!({ "results": scored }));
        usage.insert("promptAttack".into(), text_units.clone());
    }
    if let Some(types) = sensitive {
        let kinds: Vec<&str> = types.iter().map(String::as_str).collect();
        let mut found = Vec::new();
        for (mi, (_, texts)) in conversation.iter().enumerate() {
            for (ci, text) in texts.iter().enumerate() {
                for hit in pii::find(text, &kinds) {
                    // Offsets count characters, end exclusive.
                    let begin = text[..hit.span.start].chars().count();
                    let end = begin + text[hit.span].chars().count();
                    found.push(json!({
                        "type": hit.kind,
                        "confidenceScore": 0.99,
                        "beginOffset": begin,
                        "endOffset": end,
                        "messageIndex": mi,
                        "contentIndex": ci,
                    }));
                }
            }
        }
        let truncated = found.len() > MAX_SENSITIVE_RESULTS;
        found.truncate(MAX_SENSITIVE_RESULTS);
        results.insert(
            "sensitiveInformation".into(),
            json!({ "results": found, "truncated": truncated }),
        );
        usage.insert("sensitiveInformation".into(), text_units);
    }
    Ok(json!({ "results": results, "usage": usage }))
}
