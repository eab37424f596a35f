//! The guardrail policy configurations of `CreateGuardrail`/`UpdateGuardrail`, as schema data: their
//! constraints, and how each is read back by `GetGuardrail` (`topicPolicyConfig.topicsConfig` →
//! `topicPolicy.topics`, `…Config` suffixes dropped, the service's defaults filled in: actions
//! `BLOCK`, `…Enabled: true`, modalities `[TEXT]`, tier `CLASSIC`).

use super::members::TAG_LIST;
use super::schema::{list, matching, opt, req, text, Field, Fill, Rule};
use super::validate::{
    AUTOMATED_REASONING_POLICY_ARN, GUARDRAIL_NAME, GUARDRAIL_PROFILE, GUARDRAIL_TOPIC_NAME,
    IDEMPOTENCY_TOKEN, KMS_KEY_ID,
};
use crate::aws::ApiError;
use serde_json::Value;

const BLOCK_OR_NONE: &[&str] = &["BLOCK", "NONE"];
const PII_ACTIONS: &[&str] = &["BLOCK", "ANONYMIZE", "NONE"];
const STRENGTHS: &[&str] = &["NONE", "LOW", "MEDIUM", "HIGH"];
const TIERS: &[&str] = &["CLASSIC", "STANDARD"];
const CLASSIC: Fill = Fill::Pairs(&[("tierName", "CLASSIC")]);
pub const CONTENT_FILTER_TYPES: &[&str] = &[
    "SEXUAL",
    "VIOLENCE",
    "HATE",
    "INSULTS",
    "MISCONDUCT",
    "PROMPT_ATTACK",
];
pub const PII_TYPES: &[&str] = &[
    "ADDRESS",
    "AGE",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "CA_HEALTH_NUMBER",
    "CA_SOCIAL_INSURANCE_NUMBER",
    "CREDIT_DEBIT_CARD_CVV",
    "CREDIT_DEBIT_CARD_EXPIRY",
    "CREDIT_DEBIT_CARD_NUMBER",
    "DRIVER_ID",
    "EMAIL",
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "IP_ADDRESS",
    "LICENSE_PLATE",
    "MAC_ADDRESS",
    "NAME",
    "PASSWORD",
    "PHONE",
    "PIN",
    "SWIFT_CODE",
    "UK_NATIONAL_HEALTH_SERVICE_NUMBER",
    "UK_NATIONAL_INSURANCE_NUMBER",
    "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER",
    "URL",
    "USERNAME",
    "US_BANK_ACCOUNT_NUMBER",
    "US_BANK_ROUTING_NUMBER",
    "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
    "US_PASSPORT_NUMBER",
    "US_SOCIAL_SECURITY_NUMBER",
    "VEHICLE_IDENTIFICATION_NUMBER",
];

/// `inputAction`/`outputAction` (filled with `BLOCK`) and `inputEnabled`/`outputEnabled` (`true`).
const fn action(name: &'static str, allowed: &'static [&'static str], fill: bool) -> Field {
    let f = opt(name, Rule::Enum(allowed));
    if fill {
        f.fill(Fill::Str("BLOCK"))
    } else {
        f
    }
}

const fn enabled(name: &'static str) -> Field {
    opt(name, Rule::Bool).fill(Fill::Bool(true))
}

static TIER: Rule = Rule::Obj(&[req("tierName", Rule::Enum(TIERS))]);

static EXAMPLE: Rule = text(1, 100);
static TOPIC: Rule = Rule::Obj(&[
    req("name", matching(1, 100, &GUARDRAIL_TOPIC_NAME)),
    req("definition", text(1, 200)),
    opt("examples", list(0, 5, &EXAMPLE)).fill(Fill::Strs(&[])),
    req("type", Rule::Enum(&["DENY"])),
    action("inputAction", BLOCK_OR_NONE, true),
    action("outputAction", BLOCK_OR_NONE, true),
    enabled("inputEnabled"),
    enabled("outputEnabled"),
]);
static TOPIC_POLICY: Rule = Rule::Obj(&[
    req("topicsConfig", list(1, 30, &TOPIC)).read_as("topics"),
    opt("tierConfig", Rule::Is(&TIER))
        .read_as("tier")
        .fill(CLASSIC),
]);

static MODALITY: Rule = Rule::Enum(&["TEXT", "IMAGE"]);
static CONTENT_FILTER: Rule = Rule::Obj(&[
    req("type", Rule::Enum(CONTENT_FILTER_TYPES)),
    req("inputStrength", Rule::Enum(STRENGTHS)),
    req("outputStrength", Rule::Enum(STRENGTHS)),
    opt("inputModalities", list(1, 2, &MODALITY)).fill(Fill::Strs(&["TEXT"])),
    opt("outputModalities", list(1, 2, &MODALITY)).fill(Fill::Strs(&["TEXT"])),
    action("inputAction", BLOCK_OR_NONE, true),
    action("outputAction", BLOCK_OR_NONE, true),
    enabled("inputEnabled"),
    enabled("outputEnabled"),
]);
static CONTENT_POLICY: Rule = Rule::Obj(&[
    req("filtersConfig", list(1, 6, &CONTENT_FILTER)).read_as("filters"),
    opt("tierConfig", Rule::Is(&TIER))
        .read_as("tier")
        .fill(CLASSIC),
]);

static WORD: Rule = Rule::Obj(&[
    req("text", text(1, 100)),
    action("inputAction", BLOCK_OR_NONE, true),
    action("outputAction", BLOCK_OR_NONE, true),
    enabled("inputEnabled"),
    enabled("outputEnabled"),
]);
static MANAGED_WORDS: Rule = Rule::Obj(&[
    req("type", Rule::Enum(&["PROFANITY"])),
    action("inputAction", BLOCK_OR_NONE, true),
    action("outputAction", BLOCK_OR_NONE, true),
    enabled("inputEnabled"),
    enabled("outputEnabled"),
]);
static WORD_POLICY: Rule = Rule::Obj(&[
    opt("wordsConfig", list(1, 10_000, &WORD)).read_as("words"),
    opt(
        "managedWordListsConfig",
        list(0, usize::MAX, &MANAGED_WORDS),
    )
    .read_as("managedWordLists"),
]);

// PII and regex `inputAction`/`outputAction` default to the entity's `action`: filled in `finish`.
static PII_ENTITY: Rule = Rule::Obj(&[
    req("type", Rule::Enum(PII_TYPES)),
    req("action", Rule::Enum(PII_ACTIONS)),
    action("inputAction", PII_ACTIONS, false),
    action("outputAction", PII_ACTIONS, false),
    enabled("inputEnabled"),
    enabled("outputEnabled"),
]);
static REGEX: Rule = Rule::Obj(&[
    req("name", text(1, 100)),
    opt("description", text(1, 1000)),
    req("pattern", text(1, 500)),
    req("action", Rule::Enum(PII_ACTIONS)),
    action("inputAction", PII_ACTIONS, false),
    action("outputAction", PII_ACTIONS, false),
    enabled("inputEnabled"),
    enabled("outputEnabled"),
]);
static SENSITIVE_INFORMATION_POLICY: Rule = Rule::Obj(&[
    opt("piiEntitiesConfig", list(1, usize::MAX, &PII_ENTITY)).read_as("piiEntities"),
    opt("regexesConfig", list(1, 30, &REGEX)).read_as("regexes"),
]);

static GROUNDING_FILTER: Rule = Rule::Obj(&[
    req("type", Rule::Enum(&["GROUNDING", "RELEVANCE"])),
    req(
        "threshold",
        Rule::Num {
            min: 0.0,
            max: 0.99,
        },
    ),
    action("action", BLOCK_OR_NONE, true),
    enabled("enabled"),
]);
static GROUNDING_POLICY: Rule = Rule::Obj(&[
    req("filtersConfig", list(1, usize::MAX, &GROUNDING_FILTER)).read_as("filters"),
    opt("tierConfig", Rule::Is(&TIER)).read_as("tier"),
]);

static AR_POLICY_ARN: Rule = matching(1, 2048, &AUTOMATED_REASONING_POLICY_ARN);
static AUTOMATED_REASONING_POLICY: Rule = Rule::Obj(&[
    req("policies", list(1, 2, &AR_POLICY_ARN)),
    opt("confidenceThreshold", Rule::Num { min: 0.0, max: 1.0 }),
]);

static CROSS_REGION: Rule = Rule::Obj(&[req(
    "guardrailProfileIdentifier",
    matching(15, 2048, &GUARDRAIL_PROFILE),
)]);

/// The members shared by create and update, in the order the model lists them.
macro_rules! definition_fields {
    ($($extra:expr),* $(,)?) => {
        Rule::Obj(&[
            req("name", matching(1, 50, &GUARDRAIL_NAME)),
            opt("description", text(1, 200)),
            opt("topicPolicyConfig", Rule::Is(&TOPIC_POLICY)).read_as("topicPolicy"),
            opt("contentPolicyConfig", Rule::Is(&CONTENT_POLICY)).read_as("contentPolicy"),
            opt("wordPolicyConfig", Rule::Is(&WORD_POLICY)).read_as("wordPolicy"),
            opt("sensitiveInformationPolicyConfig", Rule::Is(&SENSITIVE_INFORMATION_POLICY))
                .read_as("sensitiveInformationPolicy"),
            opt("contextualGroundingPolicyConfig", Rule::Is(&GROUNDING_POLICY)).read_as("contextualGroundingPolicy"),
            opt("automatedReasoningPolicyConfig", Rule::Is(&AUTOMATED_REASONING_POLICY))
                .read_as("automatedReasoningPolicy"),
            opt("crossRegionConfig", Rule::Is(&CROSS_REGION)),
            req("blockedInputMessaging", text(1, 500)),
            req("blockedOutputsMessaging", text(1, 500)),
            opt("kmsKeyId", matching(1, 2048, &KMS_KEY_ID)),
            $($extra),*
        ])
    };
}

pub static CREATE: Rule = definition_fields!(
    opt("tags", Rule::Is(&TAG_LIST)),
    opt("clientRequestToken", matching(1, 256, &IDEMPOTENCY_TOKEN)),
);

pub static UPDATE: Rule = definition_fields!();

pub static CREATE_VERSION: Rule = Rule::Obj(&[
    opt("description", text(1, 200)),
    opt("clientRequestToken", matching(1, 256, &IDEMPOTENCY_TOKEN)),
]);

/// The read-shape policy members, in `GetGuardrail` order.
pub const POLICIES: &[&str] = &[
    "topicPolicy",
    "contentPolicy",
    "wordPolicy",
    "sensitiveInformationPolicy",
    "contextualGroundingPolicy",
    "automatedReasoningPolicy",
];

/// The most memory one custom regex may compile to: a pattern of 500 characters can still ask
/// for an automaton large enough to cost every request that evaluates it.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A custom regex (`regexesConfig.pattern`) compiled as the guardrail evaluates it.
pub fn custom_regex(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// The rules the schema cannot express, applied to a checked definition in its read shape.
pub fn finish(definition: &mut Value) -> Result<(), ApiError> {
    if let Some(filters) = definition["contentPolicy"]["filters"].as_array() {
        let mut seen: Vec<&str> = Vec::new();
        for f in filters {
            let kind = f["type"].as_str().unwrap_or_default();
            if seen.contains(&kind) {
                return Err(ApiError::validation(format!(
                    "contentPolicyConfig.filtersConfig lists the filter type {kind} more than once."
                )));
            }
            seen.push(kind);
            if kind == "PROMPT_ATTACK" && f["outputStrength"] != "NONE" {
                return Err(ApiError::validation(
                    "The PROMPT_ATTACK content filter applies to prompts only: its outputStrength must be NONE.",
                ));
            }
        }
    }
    let word = &definition["wordPolicy"];
    if word.is_object() && word.get("words").is_none() && word.get("managedWordLists").is_none() {
        return Err(ApiError::validation(
            "wordPolicyConfig must contain wordsConfig, managedWordListsConfig, or both.",
        ));
    }
    let sensitive = &mut definition["sensitiveInformationPolicy"];
    if sensitive.is_object() {
        if sensitive.get("piiEntities").is_none() && sensitive.get("regexes").is_none() {
            return Err(ApiError::validation(
                "sensitiveInformationPolicyConfig must contain piiEntitiesConfig, regexesConfig, or both.",
            ));
        }
        for (i, r) in sensitive["regexes"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let pattern = r["pattern"].as_str().unwrap_or_default();
            if let Err(err) = custom_regex(pattern) {
                let why = match err {
                    regex::Error::CompiledTooBig(_) => "it compiles to more than 1 MiB".to_string(),
                    other => other.to_string(),
                };
                return Err(ApiError::validation(format!(
                    "sensitiveInformationPolicyConfig.regexesConfig.{}.pattern is not a valid regular expression: {why}",
                    i + 1
                )));
            }
        }
        for key in ["piiEntities", "regexes"] {
            for entity in sensitive[key].as_array_mut().into_iter().flatten() {
                let action = entity["action"].clone();
                for side in ["inputAction", "outputAction"] {
                    if entity.get(side).is_none() {
                        entity[side] = action.clone();
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::management::schema::check_body;
    use serde_json::json;

    fn base() -> Value {
        json!({"name": "g", "blockedInputMessaging": "no", "blockedOutputsMessaging": "no"})
    }

    #[test]
    fn configs_are_read_back_with_defaults() {
        let mut body = base();
        body["topicPolicyConfig"] = json!({"topicsConfig": [{"name": "Investing", "definition": "Advice", "type": "DENY"}]});
        body["sensitiveInformationPolicyConfig"] =
            json!({"piiEntitiesConfig": [{"type": "EMAIL", "action": "ANONYMIZE"}]});
        let mut read = check_body(&CREATE, &body).unwrap();
        finish(&mut read).unwrap();
        let topic = &read["topicPolicy"]["topics"][0];
        assert_eq!(topic["inputAction"], "BLOCK");
        assert_eq!(topic["outputEnabled"], true);
        assert_eq!(topic["examples"], json!([]));
        assert_eq!(read["topicPolicy"]["tier"]["tierName"], "CLASSIC");
        let pii = &read["sensitiveInformationPolicy"]["piiEntities"][0];
        assert_eq!(pii["inputAction"], "ANONYMIZE");
        assert!(read.get("topicPolicyConfig").is_none());
    }

    #[test]
    fn prompt_attack_only_filters_prompts() {
        let mut body = base();
        body["contentPolicyConfig"] = json!({"filtersConfig": [{"type": "PROMPT_ATTACK", "inputStrength": "HIGH", "outputStrength": "HIGH"}]});
        let mut read = check_body(&CREATE, &body).unwrap();
        assert!(finish(&mut read)
            .unwrap_err()
            .message()
            .contains("PROMPT_ATTACK"));
    }

    #[test]
    fn custom_regexes_must_compile_within_the_size_limit() {
        let mut body = base();
        body["sensitiveInformationPolicyConfig"] =
            json!({"regexesConfig": [{"name": "r", "pattern": "CLM-[0-9", "action": "BLOCK"}]});
        let mut read = check_body(&CREATE, &body).unwrap();
        let msg = finish(&mut read).unwrap_err().message().to_string();
        assert!(msg.starts_with("sensitiveInformationPolicyConfig.regexesConfig.1.pattern is not a valid regular expression"), "{msg}");
        body["sensitiveInformationPolicyConfig"]["regexesConfig"][0]["pattern"] =
            json!("\\w{1000}\\w{1000}");
        let mut read = check_body(&CREATE, &body).unwrap();
        let msg = finish(&mut read).unwrap_err().message().to_string();
        assert!(msg.ends_with("it compiles to more than 1 MiB"), "{msg}");
    }

    #[test]
    fn nested_violations_name_their_path() {
        let mut body = base();
        body["name"] = json!("has space");
        body["contentPolicyConfig"] =
            json!({"filtersConfig": [{"type": "GORE", "inputStrength": "HIGH"}]});
        let msg = check_body(&CREATE, &body)
            .unwrap_err()
            .message()
            .to_string();
        assert!(msg.starts_with("3 validation errors detected"), "{msg}");
        assert!(msg.contains("Value 'has space' at 'name'"), "{msg}");
        assert!(
            msg.contains("at 'contentPolicyConfig.filtersConfig.1.member.type'"),
            "{msg}"
        );
        assert!(
            msg.contains(
                "Value null at 'contentPolicyConfig.filtersConfig.1.member.outputStrength'"
            ),
            "{msg}"
        );
    }
}
