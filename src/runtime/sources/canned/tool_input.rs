//! Canned tool-call inputs: a deterministic instance of a tool's JSON Schema, built within fixed
//! caps so that no schema, however deep, long or wide, costs more than a small amount of work.

use serde_json::{json, Value};

/// Caps on a canned tool call's input, whatever its schema asks for (README, "Canned answers").
/// The instance is built within a byte budget threaded through the recursion, so a deep, long or
/// wide schema costs a small, fixed amount of work and output, and the other connections of the
/// serving thread are not kept waiting.
pub const TOOL_INPUT_MAX_BYTES: usize = 64 * 1024;
/// Levels of nesting below the input object; deeper values are `null`.
pub const TOOL_INPUT_MAX_DEPTH: u8 = 8;
/// Items of one array: a larger `minItems` gets this many.
pub const TOOL_INPUT_MAX_ITEMS: usize = 16;
/// Properties of one object, in the schema's order.
pub const TOOL_INPUT_MAX_PROPERTIES: usize = 256;
/// Characters of one string: a larger `minLength` gets this many.
pub const TOOL_INPUT_MAX_STRING: usize = 4096;
/// The least a value is given: the longest scalar written (a number) fits in it.
const ROOM: usize = 32;
/// Characters of a property name that a made-up string repeats (`example <name>`).
const HINT_CHARS: usize = 64;

/// The canned input of a call to a tool with this input schema: a deterministic instance of it —
/// enums and consts first, then a value of the type within the schema's bounds — in at most
/// [`TOOL_INPUT_MAX_BYTES`] of JSON.
pub fn tool_call_input(schema: &Value, tool_name: &str) -> Value {
    let mut left = TOOL_INPUT_MAX_BYTES;
    instance(schema, short_name(tool_name), 0, &mut left)
}

/// An instance of `schema` whose JSON is no longer than what it takes from `left` (at least
/// [`ROOM`] on entry). The work is bounded by the bytes taken: a const, enum or property name too
/// long for what is left takes all of it, so a value that does not fit is measured once at most.
fn instance(schema: &Value, hint: &str, depth: u8, left: &mut usize) -> Value {
    if depth > TOOL_INPUT_MAX_DEPTH {
        return take(Value::Null, left);
    }
    let given = schema
        .get("const")
        .or_else(|| schema.get("default"))
        .or_else(|| {
            schema
                .get("enum")
                .and_then(Value::as_array)
                .and_then(|e| e.first())
        });
    if let Some(v) = given {
        if let Some(n) = json_len(v, *left) {
            *left -= n;
            return v.clone();
        }
        // Too long for what is left: a small value of the type instead, and nothing after it.
        let mut room = ROOM;
        let v = typed(schema, hint, depth, &mut room);
        *left = 0;
        return v;
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(first) = schema
            .get(key)
            .and_then(Value::as_array)
            .and_then(|e| e.first())
        {
            return instance(first, hint, depth + 1, left);
        }
    }
    typed(schema, hint, depth, left)
}

/// A value of the schema's type, within its bounds, the caps and `left`.
fn typed(schema: &Value, hint: &str, depth: u8, left: &mut usize) -> Value {
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
    // Saturating: a bound past usize (or negative) is as good as the largest (or zero).
    let count = |k: &str| bound(k).map(|x| x.max(0.0) as usize);
    match ty {
        "object" => {
            *left -= 2;
            let mut obj = serde_json::Map::new();
            let props = schema.get("properties").and_then(Value::as_object);
            for (name, sub) in props.into_iter().flatten().take(TOOL_INPUT_MAX_PROPERTIES) {
                // `,"name":value` (no comma before the first).
                let comma = usize::from(!obj.is_empty());
                let Some(room) = left.checked_sub(comma + 1 + ROOM) else {
                    break;
                };
                let Some(key) = json_str_len(name, room) else {
                    *left = 0;
                    break;
                };
                *left -= comma + key + 1;
                let value = instance(sub, short_name(name), depth + 1, left);
                obj.insert(name.clone(), value);
            }
            Value::Object(obj)
        }
        "array" => {
            *left -= 2;
            let n = count("minItems")
                .unwrap_or(1)
                .clamp(1, TOOL_INPUT_MAX_ITEMS);
            // No `items`: an instance of the empty schema, a string, as for `{"type": "string"}`.
            let item = schema.get("items").unwrap_or(&Value::Null);
            let mut items = Vec::with_capacity(n);
            while items.len() < n {
                let comma = usize::from(!items.is_empty());
                if *left < comma + ROOM {
                    break;
                }
                *left -= comma;
                items.push(instance(item, hint, depth + 1, left));
            }
            Value::Array(items)
        }
        "integer" | "number" => {
            let mut x = bound("minimum").unwrap_or(1.0);
            if let Some(ex) = bound("exclusiveMinimum") {
                x = x.max(ex + 1.0);
            }
            if let Some(max) = bound("maximum") {
                x = x.min(max);
            }
            let v = if ty == "integer" {
                json!(x.ceil() as i64)
            } else {
                json!(x)
            };
            take(v, left)
        }
        "boolean" => take(json!(true), left),
        "null" => take(Value::Null, left),
        _ => {
            let h = hint.to_lowercase();
            let base = match schema.get("format").and_then(Value::as_str) {
                Some("date") => "2026-01-01".to_string(),
                Some("date-time") => "2026-01-01T00:00:00Z".to_string(),
                Some("email") => "user@example.com".to_string(),
                Some("uri" | "url") => "https://example.com".to_string(),
                Some("uuid") => "00000000-0000-4000-8000-000000000000".to_string(),
                _ if h.contains("city") || h.contains("location") => "Seattle".to_string(),
                _ => format!("example {hint}").trim().to_string(),
            };
            // Padded with `x` up to minLength, cut to maxLength, the cap, then what is left.
            let chars = base.chars().count();
            let want = count("minLength")
                .unwrap_or(0)
                .max(chars)
                .min(count("maxLength").unwrap_or(usize::MAX))
                .min(TOOL_INPUT_MAX_STRING);
            let mut s: String = base.chars().take(want).collect();
            s.extend(std::iter::repeat_n('x', want.saturating_sub(chars)));
            *left -= fit(&mut s, *left);
            Value::String(s)
        }
    }
}

/// A scalar, its JSON length taken from `left`.
fn take(v: Value, left: &mut usize) -> Value {
    *left = left.saturating_sub(json_len(&v, usize::MAX).unwrap_or(0));
    v
}

/// The first [`HINT_CHARS`] characters of a name: what a made-up string or sentence repeats of it.
pub fn short_name(name: &str) -> &str {
    name.char_indices()
        .nth(HINT_CHARS)
        .map_or(name, |(at, _)| &name[..at])
}

/// The length of `v` as JSON, if at most `limit`.
fn json_len(v: &Value, limit: usize) -> Option<usize> {
    /// Counts what serde_json writes and stops it once past the limit.
    struct Count {
        n: usize,
        limit: usize,
    }
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.n += bytes.len();
            if self.n > self.limit {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count { n: 0, limit };
    serde_json::to_writer(&mut count, v).ok().map(|()| count.n)
}

/// Bytes `c` takes inside a JSON string as serde_json writes it.
fn escaped_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
        c if u32::from(c) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// The length of `s` as a JSON string (quotes and escapes included), if at most `limit`.
fn json_str_len(s: &str, limit: usize) -> Option<usize> {
    let mut n = 2;
    for c in s.chars() {
        n += escaped_len(c);
        if n > limit {
            return None;
        }
    }
    (n <= limit).then_some(n)
}

/// Cuts `s` to what fits in `limit` (at least 2) bytes of JSON; returns its JSON length.
fn fit(s: &mut String, limit: usize) -> usize {
    let mut n = 2;
    for (at, c) in s.char_indices() {
        let next = n + escaped_len(c);
        if next > limit {
            s.truncate(at);
            return n;
        }
        n = next;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The canned input for `schema`, checked against the caps.
    fn capped(schema: Value) -> Value {
        let input = tool_call_input(&schema, "t");
        let json = input.to_string();
        assert!(json.len() <= TOOL_INPUT_MAX_BYTES, "{} bytes", json.len());
        input
    }

    fn nested_arrays(levels: usize, leaf: Value) -> Value {
        (0..levels).fold(
            leaf,
            |items, _| json!({"type": "array", "minItems": 16, "items": items}),
        )
    }

    #[test]
    fn costly_schemas_get_inputs_within_the_caps() {
        // Sixteen items a level, seven levels: 16^7 leaves asked for, the budget's worth given.
        let deep = capped(json!({"type": "object", "properties": {
            "a": nested_arrays(7, json!({"type": "integer"}))
        }}));
        assert_eq!(deep["a"][0][0][0][0][0][0][0], json!(1));
        assert!(deep.to_string().len() > TOOL_INPUT_MAX_BYTES / 2);

        let long = capped(json!({"type": "object", "properties": {
            "s": {"type": "string", "minLength": 10_000_000}
        }}));
        assert_eq!(
            long["s"].as_str().unwrap().chars().count(),
            TOOL_INPUT_MAX_STRING
        );

        let props: serde_json::Map<String, Value> = (0..100_000)
            .map(|i| (format!("p{i}"), json!({"type": "integer"})))
            .collect();
        let wide = capped(json!({"type": "object", "properties": props}));
        assert_eq!(wide.as_object().unwrap().len(), TOOL_INPUT_MAX_PROPERTIES);

        // A const or a property name longer than the budget: a small value and nothing after it.
        let big = "é\n".repeat(TOOL_INPUT_MAX_BYTES);
        let consts = capped(json!({"type": "object", "properties": {
            "a": {"type": "string", "const": big}, "b": {"type": "integer"}
        }}));
        assert_eq!(consts, json!({"a": "example a"}));
        let mut named = serde_json::Map::new();
        named.insert("small".into(), json!({"enum": [1]}));
        named.insert(big.clone(), json!({"type": "integer"}));
        named.insert("after".into(), json!({"type": "integer"}));
        let names = capped(json!({"type": "object", "properties": named}));
        assert_eq!(names, json!({"small": 1}));

        // Everything at once, with escapes to count, stays within the caps.
        let quoted: serde_json::Map<String, Value> = (0..300)
            .map(|i| {
                let name = format!("\"q{i}\u{1}\"");
                (
                    name,
                    nested_arrays(3, json!({"type": "string", "minLength": 3000})),
                )
            })
            .collect();
        capped(json!({"type": "object", "properties": quoted}));
        capped(nested_arrays(
            20,
            json!({"anyOf": [{"type": "number", "minimum": -1.5e300}]}),
        ));
    }

    #[test]
    fn string_lengths_are_counted_as_serde_json_writes_them() {
        for s in [
            "",
            "plain",
            "q\"uote\\",
            "\u{1}\u{1f}\n\t\u{8}\u{c}\r",
            "é日本\u{7f}",
        ] {
            let written = serde_json::to_string(s).unwrap().len();
            assert_eq!(json_str_len(s, usize::MAX), Some(written), "{s:?}");
            assert_eq!(json_str_len(s, written - 1), None, "{s:?}");
            assert_eq!(json_len(&json!(s), written), Some(written), "{s:?}");
            for limit in 2..=written {
                let mut cut = s.to_string();
                let n = fit(&mut cut, limit);
                assert_eq!(serde_json::to_string(&cut).unwrap().len(), n);
                assert!(n <= limit && s.starts_with(&cut), "{s:?} {limit}");
            }
        }
    }
}
