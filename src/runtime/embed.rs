//! Embeddings: the normalized request every embedding family translates into, and the canned
//! vectors (deterministic, seeded from the text, of the requested dimension, unit length when asked).

use super::ids::Ids;
use super::tokens;

/// What an embedding family asks of a source.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedRequest {
    /// One vector per text (Titan sends one, Cohere up to 96).
    pub texts: Vec<String>,
    /// The dimension the caller expects back.
    pub dimensions: usize,
    /// Scale each vector to unit length.
    pub normalize: bool,
}

/// What a source returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    pub vectors: Vec<Vec<f32>>,
    pub input_tokens: u32,
}

/// Deterministic vectors: the same text always embeds the same way.
pub fn canned(request: &EmbedRequest) -> Embeddings {
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

/// Scales `v` to unit length (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
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
        let a = canned(&req);
        assert_eq!(a, canned(&req));
        assert_eq!(a.vectors.len(), 2);
        assert_eq!(a.vectors[0].len(), 256);
        assert_ne!(a.vectors[0], a.vectors[1]);
        let norm: f32 = a.vectors[0].iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
    }
}
