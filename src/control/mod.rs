//! Steering awsim from a test: one ordered list of rules, first match wins — a scripted answer
//! ([`rule::Action::Respond`]), a fault, or a quota — and the quota buckets of `--bedrock-quota`.
//! Rules come from `--scenario` at start-up and from `POST /_awsim/rules` at run time ([`api`]).
//!
//! A runtime operation asks [`Control::decide`] once it has read its request, and applies the
//! [`Steered`] answer: an error or a transport fault before the first byte, a scripted source in
//! place of canned answers or the backend, a fault stage after N tokens.
//!
//! The [`invocations`] log records every runtime call — what it asked, what went back, the rule
//! that fired — for `GET /_awsim/invocations`.

pub(crate) mod api;
pub(crate) mod fault;
pub(crate) mod inspector;
pub(crate) mod invocations;
pub(crate) mod matcher;
pub(crate) mod quota;
pub(crate) mod rule;
pub(crate) mod scenario;
pub(crate) mod steer;

use crate::aws::abort::ConnReset;
use crate::config::Config;
use crate::hash::stable_hash;
use crate::operations::RuntimeOp;
use crate::runtime::stream::tokens;
use matcher::{Facts, Input};
use quota::{Buckets, Key, Limit};
use rule::{Action, Rule};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
pub use steer::Steered;

/// The most rules held at once: every runtime call is held against each in turn.
pub const MAX_RULES: usize = 1000;

/// The rules and quotas, shared by every serving thread.
#[derive(Debug)]
pub struct Control {
    rules: Mutex<RuleSet>,
    /// `--scenario`'s rules, restored by a reset.
    scenario: Vec<Arc<Rule>>,
    /// `--bedrock-quota`.
    quota: Option<Limit>,
    buckets: Arc<Buckets>,
    /// Probabilities drawn from the request (`--bedrock-deterministic`).
    deterministic: bool,
}

#[derive(Debug, Default)]
struct RuleSet {
    entries: Vec<Entry>,
    /// The number in the next `rule-N` id.
    next: u64,
}

#[derive(Debug)]
struct Entry {
    id: String,
    from_scenario: bool,
    rule: Arc<Rule>,
    /// How often the rule fired.
    hits: u64,
    /// How often its probability was drawn (seeds the next draw in deterministic mode).
    draws: u64,
}

impl Control {
    pub fn new(config: &Config) -> Self {
        let scenario = config
            .scenario
            .as_ref()
            .map(|s| s.rules.iter().cloned().map(Arc::new).collect())
            .unwrap_or_default();
        let control = Self {
            rules: Mutex::new(RuleSet::default()),
            scenario,
            quota: config.quota,
            buckets: Arc::default(),
            deterministic: config.deterministic,
        };
        control.reset();
        control
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RuleSet> {
        self.rules.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets the rules added over HTTP, every hit count and every quota bucket, and puts back
    /// the scenario's rules.
    pub fn reset(&self) {
        let mut set = self.lock();
        set.next = 1;
        set.entries = self
            .scenario
            .iter()
            .enumerate()
            .map(|(i, rule)| Entry {
                id: rule
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("scenario-{}", i + 1)),
                from_scenario: true,
                rule: rule.clone(),
                hits: 0,
                draws: 0,
            })
            .collect();
        self.buckets.clear();
    }

    /// Appends `rules` after the others; returns their ids. All or none: an id already in use, or
    /// more than [`MAX_RULES`] rules in all, refuses the lot. `label(i)` names rule `i` in errors.
    pub fn add(
        &self,
        rules: Vec<Rule>,
        label: impl Fn(usize) -> String,
    ) -> Result<Vec<String>, String> {
        let mut set = self.lock();
        if set.entries.len() + rules.len() > MAX_RULES {
            return Err(format!(
                "awsim holds at most {MAX_RULES} rules; {} are set and {} more were sent. DELETE /_awsim/rules first.",
                set.entries.len(),
                rules.len()
            ));
        }
        let mut ids: Vec<String> = Vec::with_capacity(rules.len());
        let in_use = |set: &RuleSet, ids: &[String], id: &str| {
            set.entries.iter().any(|e| e.id == id) || ids.iter().any(|i| i == id)
        };
        for (i, rule) in rules.iter().enumerate() {
            if let Some(id) = &rule.id {
                if in_use(&set, &ids, id) {
                    return Err(format!(
                        "{}.id: a rule with the id '{id}' is already set; DELETE /_awsim/rules/{id} first",
                        label(i)
                    ));
                }
                ids.push(id.clone());
            } else {
                let id = loop {
                    let id = format!("rule-{}", set.next);
                    set.next += 1;
                    if !in_use(&set, &ids, &id)
                        && !rules.iter().any(|r| r.id.as_deref() == Some(&id))
                    {
                        break id;
                    }
                };
                ids.push(id);
            }
        }
        for (id, rule) in ids.iter().zip(rules) {
            set.entries.push(Entry {
                id: id.clone(),
                from_scenario: false,
                rule: Arc::new(rule),
                hits: 0,
                draws: 0,
            });
        }
        Ok(ids)
    }

    /// Every rule in order: its id, the rule as written, how often it fired and where it came from.
    pub fn list(&self) -> Value {
        let set = self.lock();
        let rules: Vec<Value> = set
            .entries
            .iter()
            .map(|e| {
                let mut listed = serde_json::Map::new();
                listed.insert("id".into(), json!(e.id));
                if let Value::Object(written) = &e.rule.written {
                    for (k, v) in written {
                        if k != "id" {
                            listed.insert(k.clone(), v.clone());
                        }
                    }
                }
                listed.insert("hits".into(), json!(e.hits));
                let source = if e.from_scenario { "scenario" } else { "api" };
                listed.insert("source".into(), json!(source));
                Value::Object(listed)
            })
            .collect();
        json!({ "rules": rules })
    }

    /// Removes one rule; false when no rule has that id.
    pub fn remove(&self, id: &str) -> bool {
        let mut set = self.lock();
        let before = set.entries.len();
        set.entries.retain(|e| e.id != id);
        let removed = set.entries.len() < before;
        if removed {
            self.buckets.forget(id);
        }
        removed
    }

    /// Removes every rule, the scenario's too (a reset puts those back).
    pub fn clear(&self) {
        let mut set = self.lock();
        for e in &set.entries {
            self.buckets.forget(&e.id);
        }
        set.entries.clear();
    }

    /// What to do with one call: `--bedrock-quota` first, then the rules in order — a quota rule
    /// with room lets the call on to the next rule; the first other rule that matches (with
    /// `times` left, and its probability drawn) decides.
    pub fn decide(&self, facts: &Facts, conn: Option<ConnReset>) -> Steered {
        let mut steered = Steered::new(conn, self.buckets.clone());
        // CountTokens is not inference: Bedrock does not count it against a model's quotas.
        let counted = facts.op != RuntimeOp::CountTokens;
        let input_tokens = || match facts.input {
            Input::Chat(request) => tokens::input_tokens(request),
            Input::Embed(request) => request.texts.iter().map(|t| tokens::count(t)).sum(),
            Input::Guard => 0,
        };
        if let (Some(limit), true) = (&self.quota, counted) {
            let key = self.key("", facts);
            match self.buckets.admit(&key, limit, input_tokens()) {
                Ok(()) => steered.charge(key),
                Err(over) => {
                    steered.throttle(None, self.over("--bedrock-quota", limit, over, facts));
                    return steered;
                }
            }
        }
        let mut set = self.lock();
        for entry in &mut set.entries {
            if !entry.rule.matcher.matches(facts) {
                continue;
            }
            match &entry.rule.action {
                Action::Quota(limit) => {
                    if !counted {
                        continue;
                    }
                    let key = self.key(&entry.id, facts);
                    match self.buckets.admit(&key, limit, input_tokens()) {
                        Ok(()) => steered.charge(key),
                        Err(over) => {
                            entry.hits += 1;
                            let why = self.over(&format!("rule {}", entry.id), limit, over, facts);
                            steered.throttle(Some(entry.id.clone()), why);
                            return steered;
                        }
                    }
                    continue;
                }
                // An embedding call answers vectors, a guardrail call assessments: a scripted
                // answer has nothing to say to either.
                Action::Respond(_) if matches!(facts.input, Input::Embed(_) | Input::Guard) => {
                    continue
                }
                Action::Respond(_) | Action::Fault(_) => {}
            }
            if entry.rule.times.is_some_and(|times| entry.hits >= times) {
                continue;
            }
            if let Some(p) = entry.rule.probability {
                let draw = self.draw(entry, facts);
                entry.draws += 1;
                if draw >= p {
                    continue;
                }
            }
            entry.hits += 1;
            steered.fire(entry.id.clone(), &entry.rule.action);
            return steered;
        }
        steered
    }

    fn key(&self, scope: &str, facts: &Facts) -> Key {
        Key {
            scope: scope.to_string(),
            model: facts.model.id.clone(),
            region: facts.region.to_string(),
        }
    }

    fn over(&self, whose: &str, limit: &Limit, over: quota::Over, facts: &Facts) -> String {
        format!(
            "{whose}: over {} for {} in {}",
            limit.describe(over),
            facts.model.id,
            facts.region
        )
    }

    /// A number in [0, 1): random, or from the request and the rule's draws so far.
    fn draw(&self, entry: &Entry, facts: &Facts) -> f64 {
        let bits = if self.deterministic {
            let sent = facts.model.via.first().map_or("", String::as_str);
            stable_hash(&[
                facts.body,
                sent.as_bytes(),
                entry.id.as_bytes(),
                &entry.draws.to_le_bytes(),
            ])
        } else {
            let r = uuid::Uuid::new_v4().as_u128();
            (r as u64) ^ ((r >> 64) as u64)
        };
        (bits >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model_ref::ModelRef;
    use crate::runtime::stream::request::{ChatRequest, Message, Role};

    fn control(deterministic: bool) -> Control {
        Control::new(&Config {
            deterministic,
            ..Config::default()
        })
    }

    fn add(c: &Control, v: Value) -> Vec<String> {
        c.add(rule::parse(&v).unwrap(), |i| format!("rules[{i}]"))
            .unwrap()
    }

    fn haiku() -> ModelRef {
        ModelRef {
            id: "anthropic.claude-3-haiku-20240307-v1:0".into(),
            name: "Claude 3 Haiku".into(),
            via: vec!["anthropic.claude-3-haiku-20240307-v1:0".into()],
        }
    }

    fn decide(c: &Control, said: &str) -> Steered {
        let request = ChatRequest {
            messages: vec![Message::text(Role::User, said)],
            ..Default::default()
        };
        let model = haiku();
        let facts = Facts::new(
            RuntimeOp::Converse,
            &model,
            "us-east-1",
            said.as_bytes(),
            Input::Chat(&request),
        );
        c.decide(&facts, None)
    }

    #[test]
    fn first_match_wins_and_times_runs_out() {
        let c = control(false);
        let ids = add(
            &c,
            json!([
                {"match": {"prompt": {"contains": "weather"}}, "respond": {"text": "sunny"}},
                {"fault": {"kind": "throttling"}, "times": 2}
            ]),
        );
        assert_eq!(ids, ["rule-1", "rule-2"]);
        assert_eq!(decide(&c, "weather?").rule_id(), Some("rule-1"));
        assert_eq!(decide(&c, "hi").rule_id(), Some("rule-2"));
        assert_eq!(decide(&c, "hi").rule_id(), Some("rule-2"));
        assert_eq!(decide(&c, "hi").rule_id(), None);
        let listed = c.list();
        assert_eq!(listed["rules"][0]["hits"], 1);
        assert_eq!(listed["rules"][1]["hits"], 2);
        assert_eq!(listed["rules"][1]["times"], 2);
        assert_eq!(listed["rules"][1]["source"], "api");
    }

    #[test]
    fn ids_are_unique_and_a_reset_starts_over() {
        let c = control(false);
        add(&c, json!({"id": "rule-2", "respond": {"text": "x"}}));
        assert_eq!(
            add(
                &c,
                json!([{"respond": {"text": "x"}}, {"respond": {"text": "y"}}])
            ),
            ["rule-1", "rule-3"]
        );
        let e = c
            .add(
                rule::parse(&json!([{"id": "rule-1", "respond": {"text": "x"}}])).unwrap(),
                |i| format!("rules[{i}]"),
            )
            .unwrap_err();
        assert!(
            e.starts_with("rules[0].id: a rule with the id 'rule-1' is already set"),
            "{e}"
        );
        assert!(c.remove("rule-1"));
        assert!(!c.remove("rule-1"));
        c.reset();
        assert_eq!(c.list()["rules"], json!([]));
        assert_eq!(add(&c, json!({"respond": {"text": "x"}})), ["rule-1"]);
    }

    #[test]
    fn probabilities_are_drawn_from_the_request_in_deterministic_mode() {
        let outcomes = |c: &Control| -> Vec<bool> {
            (0..64)
                .map(|_| decide(c, "same").rule_id().is_some())
                .collect()
        };
        let a = control(true);
        let b = control(true);
        for c in [&a, &b] {
            add(
                c,
                json!({"fault": {"kind": "throttling"}, "probability": 0.5}),
            );
        }
        let (oa, ob) = (outcomes(&a), outcomes(&b));
        assert_eq!(oa, ob);
        let fired = oa.iter().filter(|f| **f).count();
        assert!((10..=54).contains(&fired), "{fired} of 64");
    }

    #[test]
    fn a_quota_rule_lets_calls_through_until_its_bucket_is_empty() {
        let c = control(false);
        add(
            &c,
            json!([
                {"match": {"modelId": "anthropic.*"}, "quota": {"rpm": 2}},
                {"respond": {"text": "scripted"}}
            ]),
        );
        assert_eq!(decide(&c, "a").rule_id(), Some("rule-2"));
        assert_eq!(decide(&c, "b").rule_id(), Some("rule-2"));
        let third = decide(&c, "c");
        assert_eq!(third.rule_id(), Some("rule-1"));
        assert_eq!(
            third.reason(),
            Some("rule rule-1: over 2 requests per 60 s for anthropic.claude-3-haiku-20240307-v1:0 in us-east-1")
        );
    }
}
