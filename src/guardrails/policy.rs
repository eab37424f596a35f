//! A guardrail version's policies, read from the control plane's stored definition (the shape
//! `GetGuardrail` returns) into the typed form the evaluators use: per policy entry, what it does on
//! input and on output.

use crate::aws::ApiError;
use crate::management::{custom_regex, Store};
use regex::Regex;
use serde_json::Value;

/// Which side of a model call a text is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Input,
    Output,
}

/// What a policy entry does with a detection on one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Block,
    Anonymize,
    /// Detect only: reported, not acted on.
    None,
}

impl Action {
    /// A configured action; absent, the service's default `BLOCK`.
    fn of(value: &Value) -> Self {
        match value.as_str() {
            Some("ANONYMIZE") => Self::Anonymize,
            Some("NONE") => Self::None,
            _ => Self::Block,
        }
    }
}

/// One entry's behaviour per side: `None` when the side is disabled (`inputEnabled: false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sides {
    input: Option<Action>,
    output: Option<Action>,
}

impl Sides {
    fn of(entry: &Value, action: &str, enabled: &str) -> Self {
        let side = |side: &str| {
            let on = entry[format!("{side}{enabled}")].as_bool().unwrap_or(true);
            let configured = &entry[format!("{side}{action}")];
            // PII entities and regexes default each side to their `action`.
            let configured = if configured.is_null() {
                &entry["action"]
            } else {
                configured
            };
            on.then(|| Action::of(configured))
        };
        Self {
            input: side("input"),
            output: side("output"),
        }
    }

    /// The action on `direction`, `None` when the entry is off there.
    pub fn on(&self, direction: Direction) -> Option<Action> {
        match direction {
            Direction::Input => self.input,
            Direction::Output => self.output,
        }
    }
}

/// Confidence of a content-filter match, and the strength a filter is set to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    None,
    Low,
    Medium,
    High,
}

impl Level {
    pub fn of(s: &str) -> Self {
        match s {
            "LOW" => Self::Low,
            "MEDIUM" => Self::Medium,
            "HIGH" => Self::High,
            _ => Self::None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Low => "LOW",
            Self::Medium => "MEDIUM",
            Self::High => "HIGH",
        }
    }

    /// Whether a match of this confidence breaches a filter of `strength`: strength `LOW` blocks
    /// `HIGH` confidence, `MEDIUM` blocks `MEDIUM` and `HIGH`, `HIGH` blocks all three.
    pub fn breaches(self, strength: Level) -> bool {
        let least = match strength {
            Level::None => return false,
            Level::Low => Level::High,
            Level::Medium => Level::Medium,
            Level::High => Level::Low,
        };
        self != Level::None && self >= least
    }
}

#[derive(Debug, Clone)]
pub struct Topic {
    pub name: String,
    pub definition: String,
    pub examples: Vec<String>,
    pub sides: Sides,
}

#[derive(Debug, Clone)]
pub struct ContentFilter {
    pub kind: String,
    pub input_strength: Level,
    pub output_strength: Level,
    pub sides: Sides,
}

impl ContentFilter {
    pub fn strength(&self, direction: Direction) -> Level {
        match direction {
            Direction::Input => self.input_strength,
            Direction::Output => self.output_strength,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Word {
    pub text: String,
    pub sides: Sides,
}

#[derive(Debug, Clone)]
pub struct PiiEntity {
    pub kind: String,
    pub sides: Sides,
}

#[derive(Debug, Clone)]
pub struct CustomRegex {
    pub name: String,
    pub pattern: String,
    pub regex: Regex,
    pub sides: Sides,
}

#[derive(Debug, Clone)]
pub struct GroundingFilter {
    /// `GROUNDING` or `RELEVANCE`.
    pub kind: String,
    pub threshold: f64,
    /// `None` when the filter is disabled.
    pub action: Option<Action>,
}

/// A guardrail at one version: everything evaluation needs.
#[derive(Debug, Clone)]
pub struct Guardrail {
    pub id: String,
    pub arn: String,
    pub version: String,
    pub blocked_input: String,
    pub blocked_output: String,
    pub topics: Vec<Topic>,
    pub filters: Vec<ContentFilter>,
    pub words: Vec<Word>,
    /// The managed `PROFANITY` list, when configured.
    pub profanity: Option<Sides>,
    pub pii: Vec<PiiEntity>,
    pub regexes: Vec<CustomRegex>,
    pub grounding: Vec<GroundingFilter>,
}

/// The message when a guardrail or its version does not exist.
pub const NOT_FOUND: &str =
    "The guardrail identifier or version provided in the request does not exist.";

impl Guardrail {
    /// Loads `identifier` (id or ARN) at `version` (`DRAFT` or a number) from the caller's region.
    /// A guardrail or version that does not exist is [`ApiError::ResourceNotFound`] with Bedrock's
    /// message; callers on the inference side turn it into a `ValidationException`.
    pub fn load(
        store: &Store,
        region: &str,
        account: &str,
        identifier: &str,
        version: &str,
    ) -> Result<Self, ApiError> {
        let stored = store
            .guardrail(region, account, identifier, version)
            .map_err(|e| match e {
                ApiError::ResourceNotFound(_) => ApiError::not_found(NOT_FOUND),
                other => other,
            })?;
        Ok(Self::from_definition(&stored))
    }

    /// The typed policies of a stored definition (checked when it was stored).
    pub fn from_definition(d: &Value) -> Self {
        let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let topics = list(&d["topicPolicy"]["topics"])
            .iter()
            .map(|t| Topic {
                name: text(&t["name"]),
                definition: text(&t["definition"]),
                examples: list(&t["examples"]).iter().map(text).collect(),
                sides: Sides::of(t, "Action", "Enabled"),
            })
            .collect();
        let filters = list(&d["contentPolicy"]["filters"])
            .iter()
            .map(|f| ContentFilter {
                kind: text(&f["type"]),
                input_strength: Level::of(f["inputStrength"].as_str().unwrap_or_default()),
                output_strength: Level::of(f["outputStrength"].as_str().unwrap_or_default()),
                sides: Sides::of(f, "Action", "Enabled"),
            })
            .collect();
        let words = list(&d["wordPolicy"]["words"])
            .iter()
            .map(|w| Word {
                text: text(&w["text"]),
                sides: Sides::of(w, "Action", "Enabled"),
            })
            .collect();
        let profanity = list(&d["wordPolicy"]["managedWordLists"])
            .iter()
            .find(|m| m["type"] == "PROFANITY")
            .map(|m| Sides::of(m, "Action", "Enabled"));
        let pii = list(&d["sensitiveInformationPolicy"]["piiEntities"])
            .iter()
            .map(|p| PiiEntity {
                kind: text(&p["type"]),
                sides: Sides::of(p, "Action", "Enabled"),
            })
            .collect();
        let regexes = list(&d["sensitiveInformationPolicy"]["regexes"])
            .iter()
            .filter_map(|r| {
                let pattern = text(&r["pattern"]);
                // Checked when the guardrail was stored; one that no longer compiles is skipped.
                let regex = custom_regex(&pattern).ok()?;
                Some(CustomRegex {
                    name: text(&r["name"]),
                    pattern,
                    regex,
                    sides: Sides::of(r, "Action", "Enabled"),
                })
            })
            .collect();
        let grounding = list(&d["contextualGroundingPolicy"]["filters"])
            .iter()
            .map(|g| GroundingFilter {
                kind: text(&g["type"]),
                threshold: g["threshold"].as_f64().unwrap_or_default(),
                action: g["enabled"]
                    .as_bool()
                    .unwrap_or(true)
                    .then(|| Action::of(&g["action"])),
            })
            .collect();
        Self {
            id: text(&d["guardrailId"]),
            arn: text(&d["guardrailArn"]),
            version: text(&d["version"]),
            blocked_input: text(&d["blockedInputMessaging"]),
            blocked_output: text(&d["blockedOutputsMessaging"]),
            topics,
            filters,
            words,
            profanity,
            pii,
            regexes,
            grounding,
        }
    }

    /// The message that replaces blocked content on `direction`.
    pub fn blocked_message(&self, direction: Direction) -> &str {
        match direction {
            Direction::Input => &self.blocked_input,
            Direction::Output => &self.blocked_output,
        }
    }

    /// Whether a contextual grounding filter is enabled.
    pub fn grounds(&self) -> bool {
        self.grounding.iter().any(|g| g.action.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_thresholds_follow_bedrock_s_table() {
        use Level::*;
        assert!(!High.breaches(None));
        assert!(High.breaches(Low) && !Medium.breaches(Low));
        assert!(Medium.breaches(Medium) && !Low.breaches(Medium));
        assert!(Low.breaches(High) && !None.breaches(High));
    }

    #[test]
    fn sides_read_actions_and_enables() {
        let s = Sides::of(
            &serde_json::json!({"inputAction": "ANONYMIZE", "outputAction": "BLOCK", "outputEnabled": false}),
            "Action",
            "Enabled",
        );
        assert_eq!(s.on(Direction::Input), Some(Action::Anonymize));
        assert_eq!(s.on(Direction::Output), None);
    }
}
