//! Reading request JSON with messages that say which field is wrong and why — the shared helpers of
//! every request translator.

use crate::aws::ApiError;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use serde_json::{Map, Value};

pub type Object = Map<String, Value>;

/// Parses a body as a JSON object.
pub fn object(body: &[u8]) -> Result<Object, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    match serde_json::from_slice::<Value>(body)? {
        Value::Object(map) => Ok(map),
        other => Err(ApiError::validation(format!(
            "Malformed input request: expected a JSON object, found {}, please reformat your input and try again.",
            kind(&other)
        ))),
    }
}

pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `1 validation error detected: Value '…' at '…' failed to satisfy constraint: …` (Bedrock's wording).
pub fn constraint(path: &str, value: &Value, rule: &str) -> ApiError {
    let shown = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    ApiError::validation(format!(
        "1 validation error detected: Value '{shown}' at '{path}' failed to satisfy constraint: {rule}"
    ))
}

/// Base64 as Bedrock reads a blob (`image.source.bytes`, …) and as Java's basic decoder does: the
/// standard alphabet, `=` padding optional but exact when present, no whitespace.
pub const BLOB_BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Whether `s` is base64 that [`BLOB_BASE64`] reads. Checked a piece at a time into a buffer on
/// the stack: an image of many megabytes is neither copied nor kept.
pub fn is_base64(s: &str) -> bool {
    const PIECE: usize = 4 * 256;
    let mut scratch = [0u8; PIECE / 4 * 3];
    let last = s.len().saturating_sub(1) / PIECE;
    // Padding, when there is some, completes the last group of four.
    let padded_right = !s.ends_with('=') || s.len() % 4 == 0;
    padded_right
        && s.as_bytes().chunks(PIECE).enumerate().all(|(i, piece)| {
            // Padding ends the data, so only the last piece may hold any.
            (i == last || !piece.contains(&b'='))
                && BLOB_BASE64.decode_slice(piece, &mut scratch).is_ok()
        })
}

/// Typed accessors over an object, naming the path in every error.
pub struct Fields<'a> {
    pub obj: &'a Object,
    pub path: String,
}

impl<'a> Fields<'a> {
    pub fn new(obj: &'a Object, path: impl Into<String>) -> Self {
        Self {
            obj,
            path: path.into(),
        }
    }

    /// `path.key`, built by hand: every object and array item a request walks gets its path, and
    /// `format!` costs several times the copy.
    fn at(&self, key: &str) -> String {
        let mut at = String::with_capacity(self.path.len() + 1 + key.len());
        if !self.path.is_empty() {
            at.push_str(&self.path);
            at.push('.');
        }
        at.push_str(key);
        at
    }

    /// `path.key.i`.
    fn at_item(&self, key: &str, i: usize) -> String {
        let mut at = self.at(key);
        at.push('.');
        at.push_str(itoa::Buffer::new().format(i));
        at
    }

    fn wrong(&self, key: &str, want: &str, got: &Value) -> ApiError {
        ApiError::validation(format!(
            "Malformed input request: '{}' must be {want}, found {}, please reformat your input and try again.",
            self.at(key),
            kind(got)
        ))
    }

    pub fn missing(&self, key: &str) -> ApiError {
        ApiError::validation(format!(
            "Malformed input request: required key [{}] not found, please reformat your input and try again.",
            self.at(key)
        ))
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn str(&self, key: &str) -> Result<Option<&'a str>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong(key, "a string", other)),
        }
    }

    pub fn req_str(&self, key: &str) -> Result<&'a str, ApiError> {
        self.str(key)?.ok_or_else(|| self.missing(key))
    }

    pub fn f64(&self, key: &str) -> Result<Option<f64>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(other) => Err(self.wrong(key, "a number", other)),
        }
    }

    /// A number in `[lo, hi]`.
    pub fn f64_in(&self, key: &str, lo: f64, hi: f64) -> Result<Option<f64>, ApiError> {
        let v = self.f64(key)?;
        match v {
            Some(x) if !(lo..=hi).contains(&x) => Err(constraint(
                &self.at(key),
                &Value::from(x),
                &format!("Member must have value between {lo} and {hi}"),
            )),
            _ => Ok(v),
        }
    }

    /// A whole number ≥ `min`.
    pub fn u32_min(&self, key: &str, min: u32) -> Result<Option<u32>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v @ Value::Number(n)) => {
                let x = n
                    .as_i64()
                    .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64));
                match x {
                    Some(x) if x >= i64::from(min) => {
                        Ok(Some(u32::try_from(x).unwrap_or(u32::MAX)))
                    }
                    Some(_) => Err(constraint(
                        &self.at(key),
                        v,
                        &format!("Member must have value greater than or equal to {min}"),
                    )),
                    None => Err(self.wrong(key, "an integer", v)),
                }
            }
            Some(other) => Err(self.wrong(key, "an integer", other)),
        }
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong(key, "a boolean", other)),
        }
    }

    pub fn array(&self, key: &str) -> Result<Option<&'a Vec<Value>>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(other) => Err(self.wrong(key, "an array", other)),
        }
    }

    pub fn req_array(&self, key: &str) -> Result<&'a Vec<Value>, ApiError> {
        self.array(key)?.ok_or_else(|| self.missing(key))
    }

    pub fn object(&self, key: &str) -> Result<Option<Fields<'a>>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(o)) => Ok(Some(Fields::new(o, self.at(key)))),
            Some(other) => Err(self.wrong(key, "an object", other)),
        }
    }

    /// A list of strings (e.g. stop sequences).
    pub fn strings(&self, key: &str) -> Result<Vec<String>, ApiError> {
        let Some(items) = self.array(key)? else {
            return Ok(Vec::new());
        };
        items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(self.wrong(&format!("{key}.{i}"), "a string", other)),
            })
            .collect()
    }

    /// The element `i` of array `key` as an object.
    pub fn item(&self, key: &str, i: usize, v: &'a Value) -> Result<Fields<'a>, ApiError> {
        match v {
            Value::Object(o) => Ok(Fields::new(o, self.at_item(key, i))),
            other => Err(self.wrong(&format!("{key}.{i}"), "an object", other)),
        }
    }

    /// Refuses keys outside `allowed`, as Bedrock's closed provider schemas do.
    pub fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.obj.keys().find(|k| !allowed.contains(&k.as_str())) {
            None => Ok(()),
            Some(k) => Err(ApiError::validation(format!(
                "Malformed input request: #{}: extraneous key [{k}] is not permitted, please reformat your input and try again.",
                if self.path.is_empty() { String::new() } else { format!("/{}", self.path.replace('.', "/")) }
            ))),
        }
    }

    /// The path of `key` for messages.
    pub fn path_of(&self, key: &str) -> String {
        self.at(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_name_the_field() {
        let v = json!({"a": "x", "n": 0, "t": 2.0, "o": {"k": 1}});
        let obj = v.as_object().unwrap();
        let f = Fields::new(obj, "");
        assert!(f
            .req_str("missing")
            .unwrap_err()
            .message()
            .contains("required key [missing]"));
        assert!(f
            .f64("a")
            .unwrap_err()
            .message()
            .contains("'a' must be a number"));
        assert!(f.u32_min("n", 1).unwrap_err().message().contains("at 'n'"));
        assert!(f
            .f64_in("t", 0.0, 1.0)
            .unwrap_err()
            .message()
            .contains("between 0 and 1"));
        let o = f.object("o").unwrap().unwrap();
        assert_eq!(o.path, "o");
        assert_eq!(
            Fields::new(obj, "m").at_item("content", 1207),
            "m.content.1207"
        );
        assert_eq!(f.at_item("content", 0), "content.0");
        assert!(o
            .str("k")
            .unwrap_err()
            .message()
            .contains("'o.k' must be a string"));
        assert!(f
            .only(&["a", "n", "t"])
            .unwrap_err()
            .message()
            .contains("extraneous key [o]"));
        assert!(object(b"[1]").is_err());
        assert!(object(b"{bad")
            .unwrap_err()
            .message()
            .contains("line 1 column 2"));
    }

    #[test]
    fn base64_is_read_as_bedrock_reads_blobs() {
        let png =
            base64::engine::general_purpose::STANDARD.encode([0x89, b'P', b'N', b'G', 1, 2, 3]);
        for ok in [
            "",
            "AA==",
            "AA",
            "AAA=",
            "AAA",
            "iVBORw==",
            "+/+/",
            png.as_str(),
        ] {
            assert!(is_base64(ok), "{ok}");
        }
        for bad in [
            "!!!notbase64",
            "A",
            "AA=",
            "A===",
            "AA==AA==",
            "AA AA",
            "AA\n",
            "-_-_",
            "data:image/png;base64,AAAA",
        ] {
            assert!(!is_base64(bad), "{bad}");
        }
        // Across the pieces it is checked in: long data, padding only at its very end.
        let long = "QUJD".repeat(10_000);
        assert!(is_base64(&long));
        assert!(is_base64(&format!("{long}AA==")));
        assert!(!is_base64(&format!("{}AA==QUJD", "QUJD".repeat(255))));
        assert!(!is_base64(&format!("{long}!")));
    }
}
