//! Converse's `additionalModelResponseFieldPaths`: JSON Pointers (RFC 6901) into the model's native
//! response, whose values come back in `additionalModelResponseFields` nested as the pointer is
//! (`/delta/stop_sequence` → `{"delta":{"stop_sequence":"END"}}`). A pointer whose field the native
//! response lacks is left out, and with nothing found the member is absent.
//!
//! The native response is made by the model family's own code, the one its InvokeModel calls use:
//! Converse reads the family's InvokeModel response for the collected answer ([`Family::respond`]),
//! ConverseStream the chunks the family's stream sends when the answer stops ([`Family::shaper`]:
//! Anthropic's `message_delta`, …). So Claude's stop sequence is `/stop_sequence` in one and
//! `/delta/stop_sequence` in the other, as on Bedrock.

use crate::runtime::stream::request::ChatRequest;

use crate::aws::ApiError;
use crate::model_ref::ModelRef;
use crate::runtime::families::Family;
use crate::runtime::read::fields::constraint;
use crate::runtime::stream::answer::Answer;
use crate::runtime::stream::delta::Delta;
use crate::runtime::stream::ids::Ids;
use crate::runtime::stream::shaper::{Event, Shaper, Timing};
use serde_json::{Map, Value};

/// The request member.
pub const MEMBER: &str = "additionalModelResponseFieldPaths";

/// Bedrock's own addition to each stream's last chunk, not part of the model's response.
const METRICS: &str = "amazon-bedrock-invocationMetrics";

/// The pointers of one request, validated (at most 10, each 1 to 256 characters, a JSON Pointer).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldPaths(Vec<Pointer>);

/// One JSON Pointer: as sent, and its reference tokens decoded.
#[derive(Debug, Clone, PartialEq)]
struct Pointer {
    text: String,
    tokens: Vec<String>,
}

impl Pointer {
    /// RFC 6901: `/` before each reference token, in which `~1` stands for `/` and `~0` for `~`.
    fn parse(text: &str) -> Result<Self, &'static str> {
        let rest = text.strip_prefix('/').ok_or(
            "Member must be a JSON Pointer (RFC 6901), which starts with '/': for example '/stop_sequence'",
        )?;
        let tokens = rest.split('/').map(unescape).collect::<Option<_>>().ok_or(
            "Member must be a JSON Pointer (RFC 6901), in which '~' is followed by '0' (for '~') or '1' (for '/')",
        )?;
        Ok(Self {
            text: text.to_string(),
            tokens,
        })
    }
}

/// A reference token with `~1` and `~0` read back; `None` when a `~` is followed by anything else.
fn unescape(token: &str) -> Option<String> {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '~' => match chars.next()? {
                '0' => '~',
                '1' => '/',
                _ => return None,
            },
            c => c,
        });
    }
    Some(out)
}

impl FieldPaths {
    pub fn parse<S: AsRef<str>>(paths: &[S]) -> Result<Self, ApiError> {
        if paths.len() > 10 {
            let shown: Vec<&str> = paths.iter().map(AsRef::as_ref).collect();
            return Err(constraint(
                MEMBER,
                &Value::from(format!("[{}]", shown.join(", "))),
                "Member must have length less than or equal to 10",
            ));
        }
        let mut out = Vec::with_capacity(paths.len());
        for (i, path) in paths.iter().enumerate() {
            let path = path.as_ref();
            let at = || format!("{MEMBER}.{}.member", i + 1);
            let rule = match path.chars().count() {
                0 => Some("Member must have length greater than or equal to 1"),
                257.. => Some("Member must have length less than or equal to 256"),
                _ => None,
            };
            if let Some(rule) = rule {
                return Err(constraint(&at(), &Value::from(path), rule));
            }
            let pointer =
                Pointer::parse(path).map_err(|rule| constraint(&at(), &Value::from(path), rule))?;
            out.push(pointer);
        }
        Ok(Self(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The fields of one native response, or `None` when it has none of them.
    pub fn pick(&self, native: &Value) -> Option<Value> {
        let mut out = Value::Object(Map::new());
        self.copy_into(native, &mut out);
        found(out)
    }

    fn copy_into(&self, native: &Value, out: &mut Value) {
        for pointer in &self.0 {
            copy(native, pointer, out);
        }
    }
}

/// The requested fields of a collected answer: read from the family's InvokeModel response to it.
pub fn of_answer(
    paths: &FieldPaths,
    family: &dyn Family,
    answer: &Answer,
    model: &ModelRef,
    request: &ChatRequest,
    ids: &Ids,
) -> Option<Value> {
    // Its own ids, so that asking for fields changes none of the Converse response's.
    let native = family.respond(answer, model, request, &mut ids.clone());
    paths.pick(&native)
}

/// The requested fields of a ConverseStream answer. A shaper of the family's own stream is given the
/// answer's start and stop, never its tokens (so a field that repeats the text is empty here), and
/// the chunks it makes at the stop are the native response the pointers read.
pub struct StreamFields {
    paths: FieldPaths,
    native: Box<dyn Shaper>,
    chunks: Vec<Event>,
}

impl StreamFields {
    pub fn new(
        paths: FieldPaths,
        family: &dyn Family,
        model: &ModelRef,
        request: &ChatRequest,
        ids: Ids,
    ) -> Self {
        Self {
            paths,
            native: family.shaper(model, request, ids),
            chunks: Vec::new(),
        }
    }

    /// Feeds the start or the stop to the family's shaper; at the stop, the fields found.
    pub fn on_delta(&mut self, delta: &Delta, timing: &Timing) -> Option<Value> {
        self.chunks.clear();
        self.native.on_delta(delta, timing, &mut self.chunks);
        if !matches!(delta, Delta::Stop(_)) {
            return None;
        }
        let mut out = Value::Object(Map::new());
        for chunk in &self.chunks {
            let Ok(mut native) = serde_json::from_slice::<Value>(&chunk.payload) else {
                continue;
            };
            if let Value::Object(fields) = &mut native {
                fields.shift_remove(METRICS);
            }
            self.paths.copy_into(&native, &mut out);
        }
        found(out)
    }
}

fn found(out: Value) -> Option<Value> {
    match &out {
        Value::Object(fields) if fields.is_empty() => None,
        _ => Some(out),
    }
}

/// Copies the field `pointer` names in `src`, if `src` has it, to the same place in `out`, making
/// the objects and arrays on the way as `src` has them (array items before it are null).
fn copy(src: &Value, pointer: &Pointer, out: &mut Value) {
    // serde_json reads the pointer; the walk below then only meets members and indices it found.
    let Some(value) = src.pointer(&pointer.text) else {
        return;
    };
    let mut src = src;
    let mut out = out;
    for token in &pointer.tokens {
        let (next, slot) = match src {
            Value::Object(fields) => {
                let Some(next) = fields.get(token) else {
                    return;
                };
                if !out.is_object() {
                    *out = Value::Object(Map::new());
                }
                let Value::Object(made) = out else { return };
                (next, made.entry(token.clone()).or_insert(Value::Null))
            }
            Value::Array(items) => {
                let Some((i, next)) = token.parse().ok().and_then(|i| Some((i, items.get(i)?)))
                else {
                    return;
                };
                if !out.is_array() {
                    *out = Value::Array(Vec::new());
                }
                let Value::Array(made) = out else { return };
                if made.len() <= i {
                    made.resize(i + 1, Value::Null);
                }
                let Some(slot) = made.get_mut(i) else { return };
                (next, slot)
            }
            _ => return,
        };
        src = next;
        out = slot;
    }
    *out = value.clone();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::families::testing::{model, stop};
    use crate::runtime::formats;
    use crate::runtime::stream::answer::AnswerBlock;
    use crate::runtime::stream::delta::{Stop, StopReason, Usage};
    use serde_json::json;

    fn paths(p: &[&str]) -> FieldPaths {
        FieldPaths::parse(p).unwrap()
    }

    fn refused(p: &[&str]) -> String {
        FieldPaths::parse(p).unwrap_err().message().to_string()
    }

    #[test]
    fn pointers_are_checked_as_bedrock_checks_them() {
        assert!(paths(&[]).is_empty());
        let read = paths(&["/stop_sequence", "/delta/stop_sequence", "/a~1b/~0c", "/"]);
        let tokens: Vec<&[String]> = read.0.iter().map(|p| p.tokens.as_slice()).collect();
        assert_eq!(
            tokens,
            [
                &["stop_sequence"][..],
                &["delta", "stop_sequence"],
                &["a/b", "~c"],
                &[""]
            ]
        );
        assert_eq!(
            refused(&["stop_sequence"]),
            "1 validation error detected: Value 'stop_sequence' at 'additionalModelResponseFieldPaths.1.member' \
             failed to satisfy constraint: Member must be a JSON Pointer (RFC 6901), which starts with '/': for example '/stop_sequence'"
        );
        assert!(refused(&["/ok", "/a~2"]).contains(
            "Value '/a~2' at 'additionalModelResponseFieldPaths.2.member' failed to satisfy constraint: \
             Member must be a JSON Pointer (RFC 6901), in which '~' is followed by '0' (for '~') or '1' (for '/')"
        ));
        assert!(refused(&["/x~"]).contains("'~' is followed by"));
        assert!(refused(&[""]).contains(
            "Value '' at 'additionalModelResponseFieldPaths.1.member' failed to satisfy constraint: \
             Member must have length greater than or equal to 1"
        ));
        let long = format!("/{}", "é".repeat(255));
        assert!(
            FieldPaths::parse(&[long.as_str()]).is_ok(),
            "256 characters"
        );
        assert!(refused(&[&format!("{long}x")]).contains("less than or equal to 256"));
        let eleven: Vec<String> = (0..11).map(|i| format!("/f{i}")).collect();
        assert!(FieldPaths::parse(&eleven[..10]).is_ok());
        assert!(FieldPaths::parse(&eleven).unwrap_err().message().contains(
            "Value '[/f0, /f1, /f2, /f3, /f4, /f5, /f6, /f7, /f8, /f9, /f10]' at 'additionalModelResponseFieldPaths' \
             failed to satisfy constraint: Member must have length less than or equal to 10"
        ));
    }

    #[test]
    fn fields_keep_the_pointers_nesting_and_absent_ones_are_left_out() {
        let native = json!({
            "stop_sequence": null,
            "delta": {"stop_reason": "stop_sequence", "stop_sequence": "END"},
            "choices": [{"index": 0, "stop_reason": "stop", "message": {"content": "hi"}}],
            "content": [{"text": "a"}, {"text": "b"}],
            "a/b": {"~c": 1},
        });
        let pick = |p: &[&str]| paths(p).pick(&native);
        assert_eq!(
            pick(&["/delta/stop_sequence"]),
            Some(json!({"delta": {"stop_sequence": "END"}}))
        );
        // A field that is there with a null value is returned, null.
        assert_eq!(
            pick(&["/stop_sequence"]),
            Some(json!({"stop_sequence": null}))
        );
        assert_eq!(
            pick(&["/choices/0/stop_reason", "/choices/0/index"]),
            Some(json!({"choices": [{"stop_reason": "stop", "index": 0}]}))
        );
        assert_eq!(
            pick(&["/content/1/text"]),
            Some(json!({"content": [null, {"text": "b"}]}))
        );
        assert_eq!(pick(&["/a~1b/~0c"]), Some(json!({"a/b": {"~c": 1}})));
        assert_eq!(
            pick(&["/delta", "/delta/stop_reason"]),
            Some(json!({"delta": {"stop_reason": "stop_sequence", "stop_sequence": "END"}}))
        );
        for absent in [
            "/missing",
            "/delta/missing",
            "/delta/stop_sequence/deeper",
            "/choices/1/stop_reason",
            "/choices/-",
            "/choices/01",
            "/choices/x",
            "/",
        ] {
            assert_eq!(pick(&[absent]), None, "{absent}");
        }
        assert_eq!(
            pick(&["/missing", "/delta/stop_sequence"]),
            Some(json!({"delta": {"stop_sequence": "END"}}))
        );
        // Each pointer reads from the result what it read from the native response.
        let all = [
            "/delta/stop_sequence",
            "/choices/0/stop_reason",
            "/content/1/text",
        ];
        let out = pick(&all).unwrap();
        for p in all {
            assert_eq!(out.pointer(p), native.pointer(p));
        }
    }

    fn claude() -> ModelRef {
        model("anthropic.claude-3-haiku-20240307-v1:0")
    }

    #[test]
    fn claude_names_the_stop_sequence_at_the_top_when_collected_and_in_the_delta_when_streamed() {
        let model = claude();
        let family = formats::converse_family(&model.id).unwrap();
        let both = paths(&["/stop_sequence", "/delta/stop_sequence"]);
        let answer = Answer {
            blocks: vec![AnswerBlock::Text("one two".into())],
            stop: Stop {
                reason: StopReason::StopSequence("three".into()),
                usage: Usage::default(),
            },
            timing: Timing::default(),
        };
        let request = ChatRequest::default();
        let ids = Ids::seeded(&[b"1"]);
        assert_eq!(
            of_answer(&both, family, &answer, &model, &request, &ids),
            Some(json!({"stop_sequence": "three"}))
        );
        let mut streamed = StreamFields::new(both, family, &model, &request, ids);
        let t = Timing::default();
        assert_eq!(
            streamed.on_delta(&Delta::Start { input_tokens: 3 }, &t),
            None
        );
        assert_eq!(
            streamed.on_delta(&stop(StopReason::StopSequence("three".into()), 3, 2), &t),
            Some(json!({"delta": {"stop_sequence": "three"}}))
        );
        assert_eq!(
            streamed.on_delta(&stop(StopReason::EndTurn, 3, 2), &t),
            Some(json!({"delta": {"stop_sequence": null}})),
            "no stop sequence: the field is there, null"
        );
    }

    #[test]
    fn bedrocks_metrics_are_not_the_models_fields() {
        let model = claude();
        let family = formats::converse_family(&model.id).unwrap();
        let mut streamed = StreamFields::new(
            paths(&["/amazon-bedrock-invocationMetrics", "/type"]),
            family,
            &model,
            &ChatRequest::default(),
            Ids::seeded(&[b"1"]),
        );
        // `message_delta` and then `message_stop`: the later chunk's value stands.
        assert_eq!(
            streamed.on_delta(&stop(StopReason::EndTurn, 3, 2), &Timing::default()),
            Some(json!({"type": "message_stop"}))
        );
    }
}
