//! Canned embeddings: deterministic vectors, seeded from the text, of the requested dimension, unit
//! length when asked.

use crate::runtime::embed::{normalize, EmbedRequest, Embeddings};
use crate::runtime::stream::ids::Ids;
use crate::runtime::stream::tokens;

/// Deterministic vectors: the same text always embeds the same way.
pub fn vectors(request: &EmbedRequest) -> Embeddings {
    let vectors = request
        .texts
        .iter()
        .map(|text| {
            let mut ids = Ids::seeded(&[text.as_bytes()]);
            let mut v: Vec<f32> = (0..request.dimensions)
                .map(|_| ids.unit_f32() * 2.0 - 1.0)
                .collect();
            if request.normalize {
                normalize(&mut v);
            }
            v
        })
        .collect();
    Embeddings {
        vectors,
        input_tokens: request.texts.iter().map(|t| tokens::count(t)).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_vectors_are_seeded_sized_and_normalized() {
        let req = EmbedRequest {
            texts: vec!["a".into(), "b".into()],
            dimensions: 256,
            normalize: true,
        };
        let a = vectors(&req);
        assert_eq!(a, vectors(&req));
        assert_eq!(a.vectors.len(), 2);
        assert_eq!(a.vectors[0].len(), 256);
        assert_ne!(a.vectors[0], a.vectors[1]);
        let norm: f32 = a.vectors[0].iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
    }
}
