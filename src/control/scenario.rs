//! `--scenario FILE`: rules loaded at start-up — TOML with one `[[rules]]` table per rule
//! (`[rules.match]`, `[rules.respond]`, `[rules.fault]`, `[rules.quota]`), or JSON (an array of
//! rules, or `{"rules": [...]}`), the same objects `POST /_awsim/rules` takes.

use super::rule::{self, Rule};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The rules of a scenario file, checked.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub path: PathBuf,
    pub rules: Vec<Rule>,
}

impl Scenario {
    /// Reads and checks the file; an error names the rule and the field (`rules[1].fault.kind: …`).
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
        let value = match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => {
                serde_json::from_str::<Value>(&text).map_err(|e| format!("not valid JSON: {e}"))?
            }
            Some(ext) if ext.eq_ignore_ascii_case("toml") => {
                let table: toml::Table =
                    toml::from_str(&text).map_err(|e| format!("not valid TOML: {e}"))?;
                serde_json::to_value(table).map_err(|e| format!("not valid TOML: {e}"))?
            }
            _ => return Err("name the file .toml or .json, after its format".to_string()),
        };
        let rules = match &value {
            Value::Array(items) => rule::parse_list(items)?,
            Value::Object(top) => {
                if let Some(key) = top.keys().find(|k| *k != "rules") {
                    return Err(format!(
                        "unknown key `{key}`: a scenario holds `rules` only (TOML: [[rules]] tables)"
                    ));
                }
                match top.get("rules") {
                    None => Vec::new(),
                    Some(Value::Array(items)) => rule::parse_list(items)?,
                    Some(_) => {
                        return Err(
                            "`rules` must be a list of rules (TOML: [[rules]] tables)".to_string()
                        )
                    }
                }
            }
            _ => return Err("expected a list of rules".to_string()),
        };
        if rules.len() > super::MAX_RULES {
            return Err(format!(
                "{} rules; awsim holds at most {}",
                rules.len(),
                super::MAX_RULES
            ));
        }
        let mut ids: Vec<&str> = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            if let Some(id) = r.id.as_deref() {
                if ids.contains(&id) {
                    return Err(format!(
                        "rules[{i}].id: '{id}' is the id of an earlier rule"
                    ));
                }
                ids.push(id);
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            rules,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str, text: &str) -> Result<Scenario, String> {
        let dir = std::env::temp_dir().join(format!("awsim-scenario-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let loaded = Scenario::load(&path);
        std::fs::remove_dir_all(&dir).unwrap();
        loaded
    }

    #[test]
    fn toml_tables_and_json_arrays_hold_the_same_rules() {
        let toml = load(
            "s.toml",
            r#"
[[rules]]
times = 2
[rules.match]
modelId = "anthropic.*"
prompt = { contains = "weather" }
[rules.respond]
toolUse = [{ name = "get_weather", input = { city = "Paris" } }]

[[rules]]
[rules.match]
operation = "ConverseStream"
[rules.fault]
kind = "modelStreamErrorException"
at = { afterTokens = 3 }
"#,
        )
        .unwrap();
        let json = load(
            "s.json",
            r#"[{"times": 2, "match": {"modelId": "anthropic.*", "prompt": {"contains": "weather"}},
                 "respond": {"toolUse": [{"name": "get_weather", "input": {"city": "Paris"}}]}},
                {"match": {"operation": "ConverseStream"},
                 "fault": {"kind": "modelStreamErrorException", "at": {"afterTokens": 3}}}]"#,
        )
        .unwrap();
        assert_eq!(toml.rules.len(), 2);
        assert_eq!(json.rules.len(), 2);
        for (a, b) in toml.rules.iter().zip(&json.rules) {
            assert_eq!(a.times, b.times);
            assert_eq!(format!("{:?}", a.action), format!("{:?}", b.action));
        }
    }

    #[test]
    fn a_bad_file_names_the_rule_and_the_field() {
        let e = load(
            "s.toml",
            "[[rules]]\n[rules.respond]\ntext = \"x\"\n\n[[rules]]\n[rules.fault]\nkind = \"throttle\"\n",
        )
        .unwrap_err();
        assert!(
            e.starts_with("rules[1].fault.kind: unknown variant `throttle`"),
            "{e}"
        );
        let e = load("s.json", "[{\"respond\": {\"text\": 1}}]").unwrap_err();
        assert!(
            e.starts_with("rules[0].respond.text: invalid type: integer `1`"),
            "{e}"
        );
        let e = load("s.yaml", "").unwrap_err();
        assert!(e.contains(".toml or .json"), "{e}");
        let e = load("s.toml", "[[rule]]\n").unwrap_err();
        assert!(e.starts_with("unknown key `rule`"), "{e}");
        let e = load("s.toml", "[[rules]\n").unwrap_err();
        assert!(
            e.starts_with("not valid TOML: TOML parse error at line 1"),
            "{e}"
        );
    }
}
