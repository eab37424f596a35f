//! A small schema language for request bodies, written once per operation as static data: it checks a
//! JSON document against the model's constraints (reporting every violation with its Coral path, e.g.
//! `topicPolicyConfig.topicsConfig.1.member.name`) and returns the document in its *read* shape —
//! members renamed (`topicsConfig` → `topics`), unknown members dropped, service defaults filled in.

use super::validate::{Checks, Pattern};
use serde_json::{Map, Value};

/// What one value must look like.
#[derive(Debug)]
pub enum Rule {
    Str {
        min: usize,
        max: usize,
        pattern: Option<&'static Pattern>,
    },
    Enum(&'static [&'static str]),
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    Num {
        min: f64,
        max: f64,
    },
    List {
        min: usize,
        max: usize,
        item: &'static Rule,
    },
    /// A string → string map (`hyperParameters`).
    StrMap,
    Obj(&'static [Field]),
    /// Another (shared, static) rule: tag lists, policy structures used in two operations.
    Is(&'static Rule),
}

/// One member of a structure.
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    /// The member's name in the read shape (`filtersConfig` is read back as `filters`).
    pub read_as: &'static str,
    pub required: bool,
    pub rule: Rule,
    /// What the service reports when the member was not sent.
    pub fill: Option<Fill>,
}

/// A default the service fills into the read shape.
#[derive(Debug)]
pub enum Fill {
    Str(&'static str),
    Bool(bool),
    Strs(&'static [&'static str]),
    /// A structure of string members (`tier: {tierName: CLASSIC}`).
    Pairs(&'static [(&'static str, &'static str)]),
}

impl Fill {
    fn value(&self) -> Value {
        match self {
            Fill::Str(s) => Value::from(*s),
            Fill::Bool(b) => Value::from(*b),
            Fill::Strs(list) => Value::from(list.to_vec()),
            Fill::Pairs(pairs) => Value::Object(
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_string(), Value::from(*v)))
                    .collect(),
            ),
        }
    }
}

pub const fn opt(name: &'static str, rule: Rule) -> Field {
    Field {
        name,
        read_as: name,
        required: false,
        rule,
        fill: None,
    }
}

pub const fn req(name: &'static str, rule: Rule) -> Field {
    Field {
        name,
        read_as: name,
        required: true,
        rule,
        fill: None,
    }
}

impl Field {
    pub const fn read_as(self, read_as: &'static str) -> Self {
        Field { read_as, ..self }
    }

    pub const fn fill(self, fill: Fill) -> Self {
        Field {
            fill: Some(fill),
            ..self
        }
    }
}

pub const fn text(min: usize, max: usize) -> Rule {
    Rule::Str {
        min,
        max,
        pattern: None,
    }
}

pub const fn matching(min: usize, max: usize, pattern: &'static Pattern) -> Rule {
    Rule::Str {
        min,
        max,
        pattern: Some(pattern),
    }
}

pub const fn list(min: usize, max: usize, item: &'static Rule) -> Rule {
    Rule::List { min, max, item }
}

/// Validates a whole request body (`rule` is normally an `Obj`) and returns its read shape.
pub fn check_body(rule: &Rule, body: &Value) -> Result<Value, crate::aws::ApiError> {
    let mut checks = Checks::new();
    let read = check(rule, body, "", &mut checks);
    checks.finish().map(|()| read)
}

/// Checks `value` at `path`, recording violations; returns the read shape (best effort when invalid).
pub fn check(rule: &Rule, value: &Value, path: &str, checks: &mut Checks) -> Value {
    match rule {
        Rule::Str { min, max, pattern } => match value.as_str() {
            Some(s) => {
                if checks.length(path, s, *min, *max) {
                    if let Some(p) = pattern {
                        checks.pattern(path, s, p);
                    }
                }
                value.clone()
            }
            None => wrong(checks, path, value, "a string"),
        },
        Rule::Enum(allowed) => match value.as_str() {
            Some(s) => {
                checks.one_of(path, s, allowed);
                value.clone()
            }
            None => wrong(checks, path, value, "a string"),
        },
        Rule::Bool => match value {
            Value::Bool(_) => value.clone(),
            _ => wrong(checks, path, value, "a boolean"),
        },
        Rule::Int { min, max } => match value.as_i64() {
            Some(n) => {
                checks.range(path, n as f64, *min as f64, *max as f64);
                value.clone()
            }
            None => wrong(checks, path, value, "an integer"),
        },
        Rule::Num { min, max } => match value.as_f64() {
            Some(n) => {
                checks.range(path, n, *min, *max);
                value.clone()
            }
            None => wrong(checks, path, value, "a number"),
        },
        Rule::List { min, max, item } => match value.as_array() {
            Some(items) => {
                checks.count(
                    path,
                    &format!("{} members", items.len()),
                    items.len(),
                    *min,
                    *max,
                );
                let read = items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| check(item, v, &format!("{path}.{}.member", i + 1), checks))
                    .collect();
                Value::Array(read)
            }
            None => wrong(checks, path, value, "a list"),
        },
        Rule::StrMap => match value.as_object() {
            Some(map) => {
                for (k, v) in map {
                    if !v.is_string() {
                        checks.wrong_type(&format!("{path}.{k}"), v, "a string");
                    }
                }
                value.clone()
            }
            None => wrong(checks, path, value, "a map"),
        },
        Rule::Is(rule) => check(rule, value, path, checks),
        Rule::Obj(fields) => match value.as_object() {
            Some(obj) => {
                let mut read = Map::new();
                for f in *fields {
                    let child = if path.is_empty() {
                        f.name.to_string()
                    } else {
                        format!("{path}.{}", f.name)
                    };
                    match obj.get(f.name).filter(|v| !v.is_null()) {
                        Some(v) => {
                            read.insert(f.read_as.to_string(), check(&f.rule, v, &child, checks));
                        }
                        None if f.required => checks.missing(&child),
                        None => {
                            if let Some(fill) = &f.fill {
                                read.insert(f.read_as.to_string(), fill.value());
                            }
                        }
                    }
                }
                Value::Object(read)
            }
            None => wrong(checks, path, value, "a structure"),
        },
    }
}

fn wrong(checks: &mut Checks, path: &str, value: &Value, expected: &str) -> Value {
    let path = if path.is_empty() { "body" } else { path };
    checks.wrong_type(path, value, expected);
    Value::Null
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    static ITEM: Rule = Rule::Obj(&[
        req("name", text(1, 5)),
        opt("action", Rule::Enum(&["BLOCK", "NONE"])).fill(Fill::Str("BLOCK")),
    ]);
    static BODY: Rule = Rule::Obj(&[
        req("title", text(1, 10)),
        opt("itemsConfig", list(1, 2, &ITEM)).read_as("items"),
    ]);

    #[test]
    fn renames_fills_and_drops_unknown_members() {
        let read = check_body(
            &BODY,
            &json!({"title": "t", "itemsConfig": [{"name": "a"}], "extra": 1}),
        )
        .unwrap();
        assert_eq!(
            read,
            json!({"title": "t", "items": [{"name": "a", "action": "BLOCK"}]})
        );
    }

    #[test]
    fn reports_every_violation_with_its_path() {
        let err = check_body(
            &BODY,
            &json!({"itemsConfig": [{"name": "toolong"}, {"name": "b", "action": "ALLOW"}, {"name": 3}]}),
        )
        .unwrap_err();
        let msg = err.message();
        assert!(msg.starts_with("5 validation errors detected"), "{msg}");
        assert!(msg.contains("Value null at 'title'"), "{msg}");
        assert!(msg.contains("at 'itemsConfig' failed to satisfy constraint: Member must have length less than or equal to 2"), "{msg}");
        assert!(
            msg.contains("Value 'toolong' at 'itemsConfig.1.member.name'"),
            "{msg}"
        );
        assert!(
            msg.contains("Value 'ALLOW' at 'itemsConfig.2.member.action'"),
            "{msg}"
        );
        assert!(msg.contains("Value '3' at 'itemsConfig.3.member.name' failed to satisfy constraint: Member must be a string"), "{msg}");
    }
}
