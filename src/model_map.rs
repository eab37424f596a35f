//! Which backend model answers each Bedrock model id: built-in defaults (every chat family →
//! `llama3.1:8b`, every embedding model → `nomic-embed-text`) with the user's TOML merged on top.
//!
//! ```toml
//! [invoke]
//! "anthropic.claude-3-5-sonnet-20241022-v2:0" = "qwen2.5:32b"   # one model id
//! "meta.*" = "llama3.1:8b"                                       # a prefix: every id starting so
//! "*" = "gemma3:1b"                                              # replaces the built-in default
//! [embed]
//! "amazon.titan-embed-text-v2:0" = "mxbai-embed-large"
//! ```
//!
//! Lookup: each id met while resolving (as sent, then inference profile / ARN / custom model →
//! foundation id) exactly; then the longest matching prefix pattern for those ids; then `*`, then
//! the built-in default.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

pub const DEFAULT_CHAT_MODEL: &str = "llama3.1:8b";
pub const DEFAULT_EMBED_MODEL: &str = "nomic-embed-text";

/// The user's map file: `[invoke]` and `[embed]` tables, nothing else.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MapFile {
    #[serde(default)]
    invoke: BTreeMap<String, String>,
    #[serde(default)]
    embed: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default)]
pub struct ModelMap {
    invoke: BTreeMap<String, String>,
    embed: BTreeMap<String, String>,
}

impl ModelMap {
    /// Reads a map file; errors name the file and the line.
    /// Reads and parses the map file; the error says what is wrong, not which setting named it.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let file: MapFile = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            match line {
                Some(line) => format!("line {line}: {}", e.message()),
                None => e.message().to_string(),
            }
        })?;
        Ok(Self {
            invoke: file.invoke,
            embed: file.embed,
        })
    }

    /// The backend model for a chat request: the first of `ids` (the id as sent, then what it
    /// resolved to) that the user mapped, else a pattern, else the default.
    pub fn chat_model<'a>(&'a self, ids: &[&str]) -> &'a str {
        lookup(&self.invoke, ids).unwrap_or(DEFAULT_CHAT_MODEL)
    }

    pub fn embed_model<'a>(&'a self, ids: &[&str]) -> &'a str {
        lookup(&self.embed, ids).unwrap_or(DEFAULT_EMBED_MODEL)
    }

    /// Every backend model the map can send requests to (for the health report).
    pub fn targets(&self) -> Vec<&str> {
        let mut all: Vec<&str> = Vec::new();
        if !self.invoke.contains_key("*") {
            all.push(DEFAULT_CHAT_MODEL);
        }
        if !self.embed.contains_key("*") {
            all.push(DEFAULT_EMBED_MODEL);
        }
        all.extend(
            self.invoke
                .values()
                .chain(self.embed.values())
                .map(String::as_str),
        );
        all.sort_unstable();
        all.dedup();
        all
    }
}

fn lookup<'a>(table: &'a BTreeMap<String, String>, ids: &[&str]) -> Option<&'a str> {
    let exact = ids.iter().find_map(|id| table.get(*id));
    let pattern = || {
        table
            .iter()
            .filter_map(|(key, model)| Some((key.strip_suffix('*')?, model)))
            .filter(|(prefix, _)| ids.iter().any(|id| id.starts_with(prefix)))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, model)| model)
    };
    exact.or_else(pattern).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_keys_merge_over_defaults() {
        let map = ModelMap::parse(
            "[invoke]\n\"anthropic.claude-3-5-sonnet-20241022-v2:0\" = \"qwen2.5:32b\"\n[embed]\n\"amazon.titan-embed-text-v2:0\" = \"mxbai-embed-large\"\n",
        )
        .unwrap();
        assert_eq!(
            map.chat_model(&["anthropic.claude-3-5-sonnet-20241022-v2:0"]),
            "qwen2.5:32b"
        );
        assert_eq!(
            map.chat_model(&["us.x", "anthropic.claude-3-5-sonnet-20241022-v2:0"]),
            "qwen2.5:32b"
        );
        assert_eq!(
            map.chat_model(&["meta.llama3-8b-instruct-v1:0"]),
            DEFAULT_CHAT_MODEL
        );
        assert_eq!(
            map.embed_model(&["amazon.titan-embed-text-v2:0"]),
            "mxbai-embed-large"
        );
        assert_eq!(
            map.embed_model(&["cohere.embed-english-v3"]),
            DEFAULT_EMBED_MODEL
        );
    }

    #[test]
    fn prefixes_and_star_replace_defaults() {
        let map = ModelMap::parse(
            "[invoke]\n\"*\" = \"gemma\"\n\"meta.*\" = \"llama\"\n\"meta.llama3-70b*\" = \"big\"\n\"meta.llama3-8b-instruct-v1:0\" = \"exact\"\n",
        )
        .unwrap();
        assert_eq!(map.chat_model(&["meta.llama3-8b-instruct-v1:0"]), "exact");
        assert_eq!(map.chat_model(&["meta.llama3-70b-instruct-v1:0"]), "big");
        assert_eq!(
            map.chat_model(&[
                "us.meta.llama3-2-1b-instruct-v1:0",
                "meta.llama3-2-1b-instruct-v1:0"
            ]),
            "llama"
        );
        assert_eq!(map.chat_model(&["amazon.nova-lite-v1:0"]), "gemma");
        assert_eq!(
            map.embed_model(&["amazon.titan-embed-text-v2:0"]),
            DEFAULT_EMBED_MODEL
        );
        assert_eq!(
            map.targets(),
            ["big", "exact", "gemma", "llama", DEFAULT_EMBED_MODEL]
        );
    }

    #[test]
    fn bad_files_name_the_line() {
        let err = ModelMap::parse("[invoke]\n\"a\" = \"b\"\n[models]\nx = \"y\"\n").unwrap_err();
        assert!(err.contains("line 3"), "{err}");
        let err = ModelMap::parse("[invoke]\n\"a\" = \n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
    }
}
