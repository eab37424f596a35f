//! Amazon Titan embeddings: Text G1 (`amazon.titan-embed-text-v1`, 1536 floats), Text v2
//! (`amazon.titan-embed-text-v2:0`: `dimensions` 256/512/1024, `normalize`, `embeddingTypes`
//! float/binary) and Multimodal G1 (`amazon.titan-embed-image-v1`: `inputText` and/or
//! `inputImage`, `embeddingConfig.outputEmbeddingLength` 256/384/1024).

use super::EmbedFamily;
use super::{EmbedRequest, Embeddings};
use crate::aws::ApiError;
use crate::model_ref::ModelRef;
use crate::runtime::read::fields::{is_base64, Fields, Object};
use crate::runtime::read::rules::{keys, schema, NOT_BASE64};
use crate::runtime::stream::ids::Ids;
use serde_json::{json, Map, Value};

pub struct TextV1;
pub struct TextV2;
pub struct Multimodal;

const MAX_CHARS: usize = 50_000;

/// `inputText`, present and within Titan's length limits.
fn input_text<'a>(f: &Fields<'a>, required: bool) -> Result<Option<&'a str>, ApiError> {
    let text = if required {
        Some(f.req_str("inputText")?)
    } else {
        f.str("inputText")?
    };
    if let Some(t) = text {
        let n = t.chars().count();
        if n == 0 {
            return Err(schema("inputText", "expected minLength: 1, actual: 0"));
        }
        if n > MAX_CHARS {
            return Err(schema(
                "inputText",
                &format!("expected maxLength: {MAX_CHARS}, actual: {n}"),
            ));
        }
    }
    Ok(text)
}

/// An integer field restricted to a set of values, as the Titan schemas enumerate them.
fn dimension(f: &Fields<'_>, key: &str, allowed: &[u32], default: u32) -> Result<usize, ApiError> {
    let Some(value) = f.get(key) else {
        return Ok(default as usize);
    };
    match value.as_u64() {
        Some(d) if allowed.iter().any(|a| u64::from(*a) == d) => Ok(d as usize),
        Some(_) => Err(schema(
            &f.path_of(key),
            &format!("{value} is not a valid enum value"),
        )),
        None => Err(schema(
            &f.path_of(key),
            &format!(
                "expected type: Integer, found: {}",
                crate::runtime::read::fields::kind(value)
            ),
        )),
    }
}

impl EmbedFamily for TextV1 {
    fn parse(&self, body: &Object, _model: &ModelRef) -> Result<EmbedRequest, ApiError> {
        let f = Fields::new(body, "");
        keys(&f, &["inputText"], &["inputText"])?;
        let text = input_text(&f, true)?.unwrap_or_default();
        Ok(EmbedRequest {
            texts: vec![text.to_string()],
            dimensions: 1536,
            normalize: false,
        })
    }

    fn respond(&self, _: &Object, _: &EmbedRequest, e: &Embeddings, _: &mut Ids) -> Value {
        json!({
            "embedding": e.vectors.first().cloned().unwrap_or_default(),
            "inputTextTokenCount": e.input_tokens,
        })
    }
}

/// The `embeddingTypes` asked for, in the order asked (`float` when absent).
fn embedding_types(body: &Object) -> Vec<String> {
    let types: Vec<String> = body
        .get("embeddingTypes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if types.is_empty() {
        vec!["float".to_string()]
    } else {
        types
    }
}

impl EmbedFamily for TextV2 {
    fn parse(&self, body: &Object, _model: &ModelRef) -> Result<EmbedRequest, ApiError> {
        let f = Fields::new(body, "");
        keys(
            &f,
            &["inputText"],
            &["inputText", "dimensions", "normalize", "embeddingTypes"],
        )?;
        let text = input_text(&f, true)?.unwrap_or_default();
        let dimensions = dimension(&f, "dimensions", &[256, 512, 1024], 1024)?;
        let normalize = f.bool("normalize")?.unwrap_or(true);
        let types = f.strings("embeddingTypes")?;
        for (i, t) in types.iter().enumerate() {
            if t != "float" && t != "binary" {
                return Err(schema(
                    &format!("embeddingTypes.{i}"),
                    &format!("{t} is not a valid enum value"),
                ));
            }
        }
        if f.has("embeddingTypes") && types.is_empty() {
            return Err(schema(
                "embeddingTypes",
                "expected minimum item count: 1, found: 0",
            ));
        }
        Ok(EmbedRequest {
            texts: vec![text.to_string()],
            dimensions,
            normalize,
        })
    }

    fn respond(&self, body: &Object, _: &EmbedRequest, e: &Embeddings, _: &mut Ids) -> Value {
        let vector = e.vectors.first().cloned().unwrap_or_default();
        let mut by_type = Map::new();
        for t in embedding_types(body) {
            // A type asked for twice is answered once (and computed once).
            if by_type.contains_key(&t) {
                continue;
            }
            let value = if t == "binary" {
                json!(vector
                    .iter()
                    .map(|x| u8::from(*x > 0.0))
                    .collect::<Vec<_>>())
            } else {
                json!(vector)
            };
            by_type.insert(t, value);
        }
        json!({
            "embedding": vector,
            "embeddingsByType": by_type,
            "inputTextTokenCount": e.input_tokens,
        })
    }
}

impl EmbedFamily for Multimodal {
    fn parse(&self, body: &Object, _model: &ModelRef) -> Result<EmbedRequest, ApiError> {
        let f = Fields::new(body, "");
        keys(&f, &[], &["inputText", "inputImage", "embeddingConfig"])?;
        let text = input_text(&f, false)?;
        let image = f.str("inputImage")?;
        if image.is_some_and(|img| !is_base64(img)) {
            return Err(schema("inputImage", NOT_BASE64));
        }
        let dimensions = match f.object("embeddingConfig")? {
            Some(cfg) => {
                keys(&cfg, &[], &["outputEmbeddingLength"])?;
                dimension(&cfg, "outputEmbeddingLength", &[256, 384, 1024], 1024)?
            }
            None => 1024,
        };
        // The canned source embeds text; an image joins the seed as a short fingerprint.
        let seed = match (text, image) {
            (None, None) => {
                return Err(ApiError::validation(
                    "Malformed input request: at least one of inputText and inputImage is required, please reformat your input and try again.",
                ))
            }
            (Some(t), None) => t.to_string(),
            (t, Some(img)) => {
                let print = Ids::seeded(&[img.as_bytes()]).short(16);
                format!("{} image{print}", t.unwrap_or_default()).trim().to_string()
            }
        };
        Ok(EmbedRequest {
            texts: vec![seed],
            dimensions,
            normalize: true,
        })
    }

    fn respond(&self, _: &Object, _: &EmbedRequest, e: &Embeddings, _: &mut Ids) -> Value {
        json!({
            "embedding": e.vectors.first().cloned().unwrap_or_default(),
            "inputTextTokenCount": e.input_tokens,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::sources::canned::embed::vectors;

    fn model() -> ModelRef {
        ModelRef::of_id("amazon.titan-embed-text-v2:0")
    }

    fn run(family: &dyn EmbedFamily, body: Value) -> Result<Value, ApiError> {
        let body = body.as_object().unwrap().clone();
        let req = family.parse(&body, &model())?;
        Ok(family.respond(&body, &req, &vectors(&req), &mut Ids::seeded(&[])))
    }

    #[test]
    fn v1_is_1536_floats() {
        let r = run(&TextV1, json!({"inputText": "hello"})).unwrap();
        assert_eq!(r["embedding"].as_array().unwrap().len(), 1536);
        assert_eq!(r["inputTextTokenCount"], 1);
        assert!(run(&TextV1, json!({"inputText": "x", "dimensions": 256}))
            .unwrap_err()
            .message()
            .contains("extraneous key [dimensions]"));
    }

    #[test]
    fn v2_dimensions_normalization_and_types() {
        let r = run(&TextV2, json!({"inputText": "hello world", "dimensions": 256, "embeddingTypes": ["binary", "float", "binary"]})).unwrap();
        let v: Vec<f64> = r["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert_eq!(v.len(), 256);
        assert!((v.iter().map(|x| x * x).sum::<f64>().sqrt() - 1.0).abs() < 1e-3);
        let keys: Vec<&String> = r["embeddingsByType"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["binary", "float"]);
        assert!(r["embeddingsByType"]["binary"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b == 0 || b == 1));
        assert_eq!(
            run(&TextV2, json!({"inputText": "x"})).unwrap()["embedding"]
                .as_array()
                .unwrap()
                .len(),
            1024
        );
        assert!(run(&TextV2, json!({"inputText": "x", "dimensions": 100}))
            .unwrap_err()
            .message()
            .contains("#/dimensions: 100 is not a valid enum value"));
        assert!(run(
            &TextV2,
            json!({"inputText": "x", "embeddingTypes": ["int8"]})
        )
        .unwrap_err()
        .message()
        .contains("#/embeddingTypes/0: int8"));
        assert!(run(&TextV2, json!({"inputText": ""}))
            .unwrap_err()
            .message()
            .contains("#/inputText: expected minLength: 1"));
        assert!(run(&TextV2, json!({"dimensions": 256}))
            .unwrap_err()
            .message()
            .contains("[inputText]"));
    }

    #[test]
    fn multimodal_takes_text_or_image() {
        let a = run(&Multimodal, json!({"inputImage": "iVBORw0KGgo=", "embeddingConfig": {"outputEmbeddingLength": 384}})).unwrap();
        let b = run(
            &Multimodal,
            json!({"inputImage": "R0lGODlh", "embeddingConfig": {"outputEmbeddingLength": 384}}),
        )
        .unwrap();
        assert_eq!(a["embedding"].as_array().unwrap().len(), 384);
        assert_ne!(a["embedding"], b["embedding"]);
        assert!(run(&Multimodal, json!({"inputImage": "!!!notbase64"}))
            .unwrap_err()
            .message()
            .contains("#/inputImage: string is not valid base64"));
        assert!(run(&Multimodal, json!({}))
            .unwrap_err()
            .message()
            .contains("inputText and inputImage"));
        assert!(run(
            &Multimodal,
            json!({"inputText": "x", "embeddingConfig": {"outputEmbeddingLength": 512}})
        )
        .unwrap_err()
        .message()
        .contains("#/embeddingConfig/outputEmbeddingLength: 512"));
    }
}
