//! A canned tool call's input: a deterministic instance of the tool's JSON Schema, so that the
//! caller's own validation of the input passes.

use serde_json::{json, Value};

/// A deterministic instance of a JSON Schema: enums and consts first, then a value of the type,
/// within the schema's bounds.
pub fn instance(schema: &Value, hint: &str, depth: u8) -> Value {
    if depth > 8 {
        return Value::Null;
    }
    if let Some(v) = schema.get("const").or_else(|| schema.get("default")) {
        return v.clone();
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(first) = schema
            .get(key)
            .and_then(Value::as_array)
            .and_then(|e| e.first())
        {
            return instance(first, hint, depth + 1);
        }
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ if schema.get("items").is_some() => "array",
        _ => "string",
    };
    let bound = |k: &str| schema.get(k).and_then(Value::as_f64);
    match ty {
        "object" => {
            let mut obj = serde_json::Map::new();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (name, sub) in props {
                    obj.insert(name.clone(), instance(sub, name, depth + 1));
                }
            }
            Value::Object(obj)
        }
        "array" => {
            let n = bound("minItems").unwrap_or(1.0).max(1.0) as usize;
            let item = schema
                .get("items")
                .cloned()
                .unwrap_or(json!({"type": "string"}));
            Value::Array(
                (0..n.min(16))
                    .map(|_| instance(&item, hint, depth + 1))
                    .collect(),
            )
        }
        "integer" | "number" => {
            let mut x = bound("minimum").unwrap_or(1.0);
            if let Some(ex) = bound("exclusiveMinimum") {
                x = x.max(ex + 1.0);
            }
            if let Some(max) = bound("maximum") {
                x = x.min(max);
            }
            if ty == "integer" {
                json!(x.ceil() as i64)
            } else {
                json!(x)
            }
        }
        "boolean" => json!(true),
        "null" => Value::Null,
        _ => {
            let h = hint.to_lowercase();
            let mut s = match schema.get("format").and_then(Value::as_str) {
                Some("date") => "2026-01-01".to_string(),
                Some("date-time") => "2026-01-01T00:00:00Z".to_string(),
                Some("email") => "user@example.com".to_string(),
                Some("uri" | "url") => "https://example.com".to_string(),
                Some("uuid") => "00000000-0000-4000-8000-000000000000".to_string(),
                _ if h.contains("city") || h.contains("location") => "Seattle".to_string(),
                _ => format!("example {hint}").trim().to_string(),
            };
            if let Some(min) = bound("minLength") {
                while (s.chars().count() as f64) < min {
                    s.push('x');
                }
            }
            if let Some(max) = bound("maxLength") {
                s = s.chars().take(max as usize).collect();
            }
            json!(s)
        }
    }
}
