//! Cohere Embed (`cohere.embed-english-v3`, `cohere.embed-multilingual-v3`: 1024 dimensions;
//! `cohere.embed-v4`: `output_dimension` 256/512/1024/1536): `texts` (≤ 96) or one image,
//! `input_type` (required), `truncate`, `embedding_types` float/int8/uint8/binary/ubinary.
//!
//! ```text
//! {"embeddings":[[…]],"id":"…","response_type":"embeddings_floats","texts":["…"]}
//! {"embeddings":{"float":[[…]],"int8":[[…]]},"id":"…","response_type":"embeddings_by_type","texts":["…"]}
//! ```

use super::EmbedFamily;
use super::{EmbedRequest, Embeddings};
use crate::aws::ApiError;
use crate::model_ref::ModelRef;
use crate::runtime::read::fields::{is_base64, Fields, Object};
use crate::runtime::read::rules::{self, int_in, one_of, schema};
use crate::runtime::stream::ids::Ids;
use serde_json::{json, Map, Value};

/// Embed v3: 1024 dimensions.
pub struct EmbedV3;
/// Embed v4: `output_dimension`, default 1536.
pub struct EmbedV4;

const MAX_TEXTS: usize = 96;
const INPUT_TYPES: &[&str] = &[
    "search_document",
    "search_query",
    "classification",
    "clustering",
    "image",
];
const TYPES: &[&str] = &["float", "int8", "uint8", "binary", "ubinary"];

fn parse(body: &Object, v4: bool) -> Result<EmbedRequest, ApiError> {
    let f = Fields::new(body, "");
    let mut keys = vec![
        "texts",
        "images",
        "input_type",
        "truncate",
        "embedding_types",
    ];
    if v4 {
        keys.extend(["output_dimension", "max_tokens", "inputs"]);
    }
    let mut required = Vec::new();
    if !f.has("texts") && !f.has("images") && !f.has("inputs") {
        required.push("texts");
    }
    required.push("input_type");
    rules::keys(&f, &required, &keys)?;
    one_of(&f, "input_type", INPUT_TYPES)?;
    one_of(&f, "truncate", &["NONE", "START", "END"])?;
    for (i, t) in f.strings("embedding_types")?.iter().enumerate() {
        if !TYPES.contains(&t.as_str()) {
            return Err(schema(
                &format!("embedding_types.{i}"),
                &format!("{t} is not a valid enum value"),
            ));
        }
    }
    let texts = f.strings("texts")?;
    if texts.len() > MAX_TEXTS {
        return Err(schema(
            "texts",
            &format!(
                "expected maximum item count: {MAX_TEXTS}, found: {}",
                texts.len()
            ),
        ));
    }
    let images = f.strings("images")?;
    if images.len() > 1 {
        return Err(schema(
            "images",
            &format!("expected maximum item count: 1, found: {}", images.len()),
        ));
    }
    for (i, image) in images.iter().enumerate() {
        // A data URI: `data:image/png;base64,` and the image's bytes.
        let data = image
            .strip_prefix("data:")
            .and_then(|rest| rest.split_once(";base64,"))
            .map(|(_, data)| data);
        if !data.is_some_and(is_base64) {
            return Err(schema(
                &format!("images.{i}"),
                "string is not a data URI with base64 data (data:image/png;base64,…)",
            ));
        }
    }
    let mut seeds = texts;
    // Images join the canned seed as a fingerprint of their data.
    seeds.extend(
        images
            .iter()
            .map(|img| format!("image{}", Ids::seeded(&[img.as_bytes()]).short(16))),
    );
    let inputs = f.array("inputs")?.map_or(&[][..], Vec::as_slice);
    if inputs.len() > MAX_TEXTS {
        return Err(schema(
            "inputs",
            &format!(
                "expected maximum item count: {MAX_TEXTS}, found: {}",
                inputs.len()
            ),
        ));
    }
    for (i, input) in inputs.iter().enumerate() {
        let input = f.item("inputs", i, input)?;
        let parts = input.req_array("content")?;
        seeds.push(
            parts
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    if seeds.is_empty() {
        return Err(schema("texts", "expected minimum item count: 1, found: 0"));
    }
    let dimensions = if v4 {
        match int_in(&f, "output_dimension", 256, 1536)? {
            None => 1536,
            Some(d @ (256 | 512 | 1024 | 1536)) => d as usize,
            Some(d) => {
                return Err(schema(
                    "output_dimension",
                    &format!("{d} is not a valid enum value"),
                ))
            }
        }
    } else {
        1024
    };
    Ok(EmbedRequest {
        texts: seeds,
        dimensions,
        normalize: true,
    })
}

fn respond(body: &Object, e: &Embeddings, ids: &mut Ids) -> Value {
    let types: Vec<&str> = body
        .get("embedding_types")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let texts = body.get("texts").cloned().unwrap_or_else(|| json!([]));
    let (embeddings, response_type) = if types.is_empty() {
        (json!(e.vectors), "embeddings_floats")
    } else {
        let mut by_type = Map::new();
        for t in types {
            // A type asked for twice is answered once (and computed once).
            if by_type.contains_key(t) {
                continue;
            }
            let vectors: Vec<Value> = e.vectors.iter().map(|v| quantize(v, t)).collect();
            by_type.insert(t.to_string(), Value::Array(vectors));
        }
        (Value::Object(by_type), "embeddings_by_type")
    };
    json!({
        "embeddings": embeddings,
        "id": ids.uuid(),
        "response_type": response_type,
        "texts": texts,
    })
}

/// One vector in one of Cohere's embedding types. Packed types hold one bit per dimension (sign),
/// eight to a byte, most significant first; `binary` is `ubinary` shifted to signed.
fn quantize(v: &[f32], kind: &str) -> Value {
    match kind {
        "int8" => json!(v
            .iter()
            .map(|x| (x * 127.0).round().clamp(-128.0, 127.0) as i8)
            .collect::<Vec<_>>()),
        "uint8" => json!(v
            .iter()
            .map(|x| ((x + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8)
            .collect::<Vec<_>>()),
        "binary" | "ubinary" => {
            let packed: Vec<u8> = v
                .chunks(8)
                .map(|c| {
                    c.iter()
                        .enumerate()
                        .fold(0u8, |b, (i, x)| if *x > 0.0 { b | (0x80 >> i) } else { b })
                })
                .collect();
            if kind == "binary" {
                json!(packed
                    .iter()
                    .map(|b| i16::from(*b) - 128)
                    .collect::<Vec<_>>())
            } else {
                json!(packed)
            }
        }
        _ => json!(v),
    }
}

impl EmbedFamily for EmbedV3 {
    fn parse(&self, body: &Object, _model: &ModelRef) -> Result<EmbedRequest, ApiError> {
        parse(body, false)
    }

    fn respond(&self, body: &Object, _: &EmbedRequest, e: &Embeddings, ids: &mut Ids) -> Value {
        respond(body, e, ids)
    }
}

impl EmbedFamily for EmbedV4 {
    fn parse(&self, body: &Object, _model: &ModelRef) -> Result<EmbedRequest, ApiError> {
        parse(body, true)
    }

    fn respond(&self, body: &Object, _: &EmbedRequest, e: &Embeddings, ids: &mut Ids) -> Value {
        respond(body, e, ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::sources::canned::embed::vectors;

    fn run(family: &dyn EmbedFamily, body: Value) -> Result<Value, ApiError> {
        let model = ModelRef::of_id("cohere.embed-english-v3");
        let body = body.as_object().unwrap().clone();
        let req = family.parse(&body, &model)?;
        Ok(family.respond(&body, &req, &vectors(&req), &mut Ids::seeded(&[])))
    }

    #[test]
    fn floats_by_default_and_types_on_request() {
        let r = run(
            &EmbedV3,
            json!({"texts": ["a", "b"], "input_type": "search_document"}),
        )
        .unwrap();
        assert_eq!(r["response_type"], "embeddings_floats");
        assert_eq!(r["embeddings"].as_array().unwrap().len(), 2);
        assert_eq!(r["embeddings"][0].as_array().unwrap().len(), 1024);
        assert_eq!(r["texts"], json!(["a", "b"]));
        let r = run(&EmbedV3, json!({"texts": ["a"], "input_type": "search_query", "embedding_types": ["int8", "ubinary", "binary", "uint8", "int8"]})).unwrap();
        assert_eq!(r["response_type"], "embeddings_by_type");
        assert_eq!(r["embeddings"].as_object().unwrap().len(), 4);
        assert_eq!(r["embeddings"]["int8"][0].as_array().unwrap().len(), 1024);
        assert_eq!(r["embeddings"]["ubinary"][0].as_array().unwrap().len(), 128);
        assert!(r["embeddings"]["binary"][0]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| (-128..=127).contains(&b.as_i64().unwrap())));
        assert!(r["embeddings"]["uint8"][0]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b.as_u64().unwrap() <= 255));
        let r = run(
            &EmbedV4,
            json!({"texts": ["a"], "input_type": "clustering", "output_dimension": 256}),
        )
        .unwrap();
        assert_eq!(r["embeddings"][0].as_array().unwrap().len(), 256);
    }

    #[test]
    fn bedrock_errors_for_bad_bodies() {
        let many: Vec<String> = (0..97).map(|i| i.to_string()).collect();
        assert!(
            run(&EmbedV3, json!({"texts": many, "input_type": "clustering"}))
                .unwrap_err()
                .message()
                .contains("#/texts: expected maximum item count: 96, found: 97")
        );
        let image = |uri: &str| run(&EmbedV3, json!({"images": [uri], "input_type": "image"}));
        assert!(image("data:image/png;base64,iVBORw0KGgo=").is_ok());
        for uri in ["data:image/png;base64,!!!notbase64", "iVBORw0KGgo="] {
            assert!(image(uri)
                .unwrap_err()
                .message()
                .contains("#/images/0: string is not a data URI with base64 data"));
        }
        let inputs: Vec<Value> = (0..97)
            .map(|i| json!({"content": [{"type": "text", "text": i.to_string()}]}))
            .collect();
        assert!(run(
            &EmbedV4,
            json!({"inputs": inputs, "input_type": "clustering"})
        )
        .unwrap_err()
        .message()
        .contains("#/inputs: expected maximum item count: 96, found: 97"));
        assert!(run(&EmbedV3, json!({"texts": ["a"]}))
            .unwrap_err()
            .message()
            .contains("required key [input_type] not found"));
        assert!(run(&EmbedV3, json!({"inputText": "a"}))
            .unwrap_err()
            .message()
            .contains("#: required key [texts] not found#: required key [input_type] not found#: extraneous key [inputText] is not permitted"));
        assert!(
            run(&EmbedV3, json!({"texts": ["a"], "input_type": "query"}))
                .unwrap_err()
                .message()
                .contains("#/input_type: query is not a valid enum value")
        );
        assert!(run(
            &EmbedV3,
            json!({"texts": ["a"], "input_type": "clustering", "embedding_types": ["int4"]})
        )
        .unwrap_err()
        .message()
        .contains("#/embedding_types/0: int4"));
        assert!(run(
            &EmbedV3,
            json!({"texts": ["a"], "input_type": "clustering", "output_dimension": 256})
        )
        .unwrap_err()
        .message()
        .contains("extraneous key [output_dimension]"));
        assert!(run(
            &EmbedV4,
            json!({"texts": ["a"], "input_type": "clustering", "output_dimension": 300})
        )
        .unwrap_err()
        .message()
        .contains("#/output_dimension: 300"));
    }
}
