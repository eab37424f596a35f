//! Validation rules the provider schemas share beyond [`Fields`]: bounded integers, enum strings,
//! a message's role, string-or-list stop sequences, and Bedrock's JSON-schema wording
//! (`#/path: detail`).

use super::fields::{constraint, Fields};
use crate::aws::ApiError;
use crate::runtime::stream::request::Role;
use serde_json::{json, Value};

/// A message's `role`, checked against the enum the Messages API and Converse share.
pub(crate) fn message_role(message: &Fields<'_>) -> Result<Role, ApiError> {
    match message.req_str("role")? {
        "user" => Ok(Role::User),
        "assistant" => Ok(Role::Assistant),
        other => Err(constraint(
            &message.path_of("role"),
            &json!(other),
            "Member must satisfy enum value set: [user, assistant]",
        )),
    }
}

/// `Malformed input request: #/<path>: <detail>, please reformat your input and try again.` — how
/// Bedrock reports a schema violation at a path (`dimensions` → `#/dimensions`).
pub fn schema(path: &str, detail: &str) -> ApiError {
    let pointer = if path.is_empty() {
        String::new()
    } else {
        format!("/{}", path.replace('.', "/"))
    };
    ApiError::validation(format!(
        "Malformed input request: #{pointer}: {detail}, please reformat your input and try again."
    ))
}

/// The detail of a [`schema`] error for an image member that is not base64.
pub const NOT_BASE64: &str = "string is not valid base64";

/// A whole number in `[lo, hi]`.
pub fn int_in(f: &Fields<'_>, key: &str, lo: u32, hi: u32) -> Result<Option<u32>, ApiError> {
    let value = f.u32_min(key, lo)?;
    if let Some(v) = value {
        if v > hi {
            return Err(constraint(
                &f.path_of(key),
                &Value::from(v),
                &format!("Member must have value less than or equal to {hi}"),
            ));
        }
    }
    Ok(value)
}

/// A string that must be one of `allowed`.
pub fn one_of<'a>(
    f: &Fields<'a>,
    key: &str,
    allowed: &[&str],
) -> Result<Option<&'a str>, ApiError> {
    match f.str(key)? {
        Some(v) if !allowed.contains(&v) => Err(schema(
            &f.path_of(key),
            &format!("{v} is not a valid enum value"),
        )),
        other => Ok(other),
    }
}

/// Stop sequences given as one string or a list of strings (OpenAI-style `stop`).
pub fn stop_list(f: &Fields<'_>, key: &str) -> Result<Vec<String>, ApiError> {
    match f.get(key) {
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        _ => f.strings(key),
    }
}

/// Checks an object against a closed schema the way Bedrock reports it: every missing required key
/// and every key outside `allowed`, each as `#: …`, run together in one message
/// (`#: required key [texts] not found#: extraneous key [inputText] is not permitted`).
pub fn keys(f: &Fields<'_>, required: &[&str], allowed: &[&str]) -> Result<(), ApiError> {
    violations(f, required, Some(allowed))
}

/// The required keys of an open schema (unknown keys are ignored).
pub fn require(f: &Fields<'_>, required: &[&str]) -> Result<(), ApiError> {
    violations(f, required, None)
}

fn violations(f: &Fields<'_>, required: &[&str], allowed: Option<&[&str]>) -> Result<(), ApiError> {
    let pointer = if f.path.is_empty() {
        "#".to_string()
    } else {
        format!("#/{}", f.path.replace('.', "/"))
    };
    let mut found = String::new();
    for key in required.iter().filter(|k| !f.has(k)) {
        found.push_str(&format!("{pointer}: required key [{key}] not found"));
    }
    if let Some(allowed) = allowed {
        for key in f.obj.keys().filter(|k| !allowed.contains(&k.as_str())) {
            found.push_str(&format!(
                "{pointer}: extraneous key [{key}] is not permitted"
            ));
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    Err(ApiError::validation(format!(
        "Malformed input request: {found}, please reformat your input and try again."
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_errors_point_at_the_field() {
        assert_eq!(
            schema("dimensions", "100 is not a valid enum value").message(),
            "Malformed input request: #/dimensions: 100 is not a valid enum value, please reformat your input and try again."
        );
        assert!(schema("a.b", "x").message().contains("#/a/b: x"));
    }

    #[test]
    fn bounded_ints_enums_and_stop_lists() {
        let v = json!({"n": 5000, "e": "maybe", "s": "END", "l": ["a", "b"]});
        let f = Fields::new(v.as_object().unwrap(), "");
        assert!(int_in(&f, "n", 1, 4096)
            .unwrap_err()
            .message()
            .contains("less than or equal to 4096"));
        assert_eq!(int_in(&f, "n", 1, 8192).unwrap(), Some(5000));
        assert!(one_of(&f, "e", &["yes", "no"])
            .unwrap_err()
            .message()
            .contains("#/e: maybe is not a valid enum value"));
        assert_eq!(stop_list(&f, "s").unwrap(), ["END"]);
        assert_eq!(stop_list(&f, "l").unwrap(), ["a", "b"]);
        assert!(require(&f, &["n", "x"]).is_err());
        assert_eq!(
            keys(&f, &["x", "n"], &["n", "e", "s"]).unwrap_err().message(),
            "Malformed input request: #: required key [x] not found#: extraneous key [l] is not permitted, please reformat your input and try again."
        );
        let inner = json!({"k": 1});
        let g = Fields::new(inner.as_object().unwrap(), "cfg");
        assert!(keys(&g, &[], &[])
            .unwrap_err()
            .message()
            .contains("#/cfg: extraneous key [k]"));
    }
}
