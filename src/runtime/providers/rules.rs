//! Validation rules the provider schemas share beyond [`Fields`]: bounded integers, enum strings,
//! string-or-list stop sequences, and Bedrock's JSON-schema wording (`#/path: detail`).

use crate::aws::ApiError;
use crate::runtime::input::{constraint, Fields};
use serde_json::Value;

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

/// Every key in `required` that the body lacks, reported the way Bedrock does: one named key, or
/// the count when several are missing.
pub fn require(f: &Fields<'_>, required: &[&str]) -> Result<(), ApiError> {
    let missing: Vec<&str> = required.iter().copied().filter(|k| !f.has(k)).collect();
    match missing.as_slice() {
        [] => Ok(()),
        [one] => Err(f.missing(one)),
        many => Err(ApiError::validation(format!(
            "Malformed input request: {} schema violations found, please reformat your input and try again.",
            many.len()
        ))),
    }
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
        assert!(require(&f, &["n", "x"])
            .unwrap_err()
            .message()
            .contains("[x]"));
        assert!(require(&f, &["x", "y"])
            .unwrap_err()
            .message()
            .contains("2 schema violations"));
    }
}
