//! Request bodies in the log. A body up to [`REQUEST_BYTES`] is kept as sent; a larger one has its
//! base64 blobs shortened, then its long strings, then is cut, and the log says which. Views
//! shorten the base64 blobs of every body they show, so a page of calls stays readable.

use bytes::Bytes;
use serde_json::Value;

/// The most of a request body a call keeps, in bytes.
pub const REQUEST_BYTES: usize = 64 << 10;
/// A base64 string at least this long is shown shortened.
const BLOB_CHARS: usize = 1024;
/// How much of a shortened base64 string is shown.
const BLOB_KEPT: usize = 48;
/// Past the body limit, strings longer than this are shortened to [`STRING_KEPT`] bytes.
const LONG_STRING: usize = 4096;
const STRING_KEPT: usize = 1024;

/// The body to keep for a call, and a note when it is not the body as sent.
pub fn request_body(body: &[u8]) -> (Bytes, Option<String>) {
    if body.len() <= REQUEST_BYTES {
        // A copy, not a slice of the request: a slice would keep the connection's whole read
        // buffer alive for as long as the call stays in the log.
        return (Bytes::copy_from_slice(body), None);
    }
    let size = body.len();
    let Ok(mut value) = serde_json::from_slice::<Value>(body) else {
        return (
            cut(body),
            Some(format!(
                "the request body ({size} bytes) is not JSON: its first {REQUEST_BYTES} bytes are kept"
            )),
        );
    };
    let mut said = Vec::new();
    let blobs = blobs(&mut value);
    if blobs > 0 {
        said.push(format!("{blobs} base64 blob(s) shortened"));
    }
    let mut text = to_vec(&value);
    if text.len() > REQUEST_BYTES {
        let strings = strings(&mut value);
        said.push(format!(
            "{strings} string(s) over {LONG_STRING} bytes shortened"
        ));
        text = to_vec(&value);
    }
    if text.len() > REQUEST_BYTES {
        said.push(format!("cut to its first {REQUEST_BYTES} bytes"));
        text = cut(&text).to_vec();
    }
    let note = format!(
        "the request body ({size} bytes) is shortened: {}",
        said.join(", ")
    );
    (Bytes::from(text), Some(note))
}

/// A kept body as JSON (a string if it is not JSON, null if empty), its base64 blobs shortened;
/// and how many were.
pub fn shown(body: &[u8]) -> (Value, usize) {
    if body.is_empty() {
        return (Value::Null, 0);
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(mut value) => {
            let n = blobs(&mut value);
            (value, n)
        }
        Err(_) => (Value::String(String::from_utf8_lossy(body).into_owned()), 0),
    }
}

/// Shortens every base64 string of [`BLOB_CHARS`] or more in place; returns how many.
pub fn blobs(value: &mut Value) -> usize {
    let mut n = 0;
    walk(value, &mut |s| {
        if s.len() >= BLOB_CHARS && is_base64(s) {
            *s = format!(
                "{}… [base64, {} characters, shortened]",
                &s[..BLOB_KEPT],
                s.len()
            );
            n += 1;
        }
    });
    n
}

/// Shortens every string longer than [`LONG_STRING`] bytes in place; returns how many.
fn strings(value: &mut Value) -> usize {
    let mut n = 0;
    walk(value, &mut |s| {
        if s.len() > LONG_STRING {
            let end = floor_char_boundary(s, STRING_KEPT);
            *s = format!("{}… [{} bytes, shortened]", &s[..end], s.len());
            n += 1;
        }
    });
    n
}

fn walk(value: &mut Value, f: &mut impl FnMut(&mut String)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter_mut().for_each(|v| walk(v, f)),
        Value::Object(members) => members.values_mut().for_each(|v| walk(v, f)),
        _ => {}
    }
}

fn is_base64(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
}

fn cut(body: &[u8]) -> Bytes {
    let end = body.len().min(REQUEST_BYTES);
    // Back to a UTF-8 boundary, so what is kept still reads as text.
    let end = (0..=end)
        .rev()
        .find(|&i| i == 0 || i == body.len() || (body[i] as i8) >= -0x40)
        .unwrap_or(0);
    Bytes::copy_from_slice(&body[..end])
}

fn floor_char_boundary(s: &str, at: usize) -> usize {
    (0..=at.min(s.len()))
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}

fn to_vec(value: &Value) -> Vec<u8> {
    // A `Value` always serializes.
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn small_bodies_are_kept_as_sent() {
        let (kept, note) = request_body(br#"{"a": 1}"#);
        assert_eq!(&kept[..], br#"{"a": 1}"#);
        assert_eq!(note, None);
    }

    #[test]
    fn large_bodies_lose_their_blobs_first() {
        let image = "iVBORw0KGgo".repeat(10_000);
        let body = json!({"messages": [{"content": [{"image": {"source": {"bytes": image}}}, {"text": "what is this?"}]}]});
        let (kept, note) = request_body(&serde_json::to_vec(&body).unwrap());
        let value: Value = serde_json::from_slice(&kept).unwrap();
        let shown = value["messages"][0]["content"][0]["image"]["source"]["bytes"]
            .as_str()
            .unwrap();
        assert!(
            shown.ends_with("… [base64, 110000 characters, shortened]"),
            "{shown}"
        );
        assert_eq!(value["messages"][0]["content"][1]["text"], "what is this?");
        assert!(note.unwrap().contains("1 base64 blob(s) shortened"));
    }

    #[test]
    fn then_long_strings_then_the_cut() {
        let text = "a long prompt ".repeat(10_000);
        let body = serde_json::to_vec(&json!({"prompt": text})).unwrap();
        let (kept, note) = request_body(&body);
        let value: Value = serde_json::from_slice(&kept).unwrap();
        assert!(value["prompt"]
            .as_str()
            .unwrap()
            .ends_with("… [140000 bytes, shortened]"));
        assert!(note
            .unwrap()
            .contains("1 string(s) over 4096 bytes shortened"));

        let many: Vec<String> = (0..20_000).map(|i| format!("item {i}")).collect();
        let body = serde_json::to_vec(&json!({ "items": many })).unwrap();
        let (kept, note) = request_body(&body);
        assert_eq!(kept.len(), REQUEST_BYTES);
        assert!(note.unwrap().ends_with("cut to its first 65536 bytes"));
        let (shown, _) = shown(&kept);
        assert!(shown.is_string(), "a cut body is shown as text");
    }

    #[test]
    fn views_shorten_blobs_of_small_bodies_too() {
        let blob = "A".repeat(2000);
        let (value, n) = shown(format!(r#"{{"body": "{blob}", "short": "QUJD"}}"#).as_bytes());
        assert_eq!(n, 1);
        assert_eq!(value["short"], "QUJD");
        assert!(value["body"].as_str().unwrap().starts_with(&"A".repeat(48)));
    }

    #[test]
    fn a_cut_ends_on_a_character() {
        let body = "é".repeat(REQUEST_BYTES);
        let cut = cut(body.as_bytes());
        assert!(std::str::from_utf8(&cut).is_ok());
        assert_eq!(cut.len(), REQUEST_BYTES);
    }
}
