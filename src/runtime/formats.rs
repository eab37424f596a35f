//! Which format speaks for a model: the chat family by the model id's provider prefix (and, where
//! a provider takes two, the body's shape), the family whose native response Converse's field paths
//! read, and the embedding family of an embedding model.

use super::embed::{self, EmbedFamily};
use super::families::{
    anthropic, anthropic_text, cohere, command_r, llama, mistral, nova, openai_chat,
    prompt_completion, titan, Family,
};
use super::read::fields::{self, Object};
use super::stream::request::ChatRequest;
use crate::aws::ApiError;
use crate::model_ref::ModelRef;

/// An InvokeModel body translated, with the family that speaks for it; `Ok(None)` when no family
/// speaks for the model.
pub fn read(
    model: &ModelRef,
    body: &[u8],
) -> Result<Option<(&'static dyn Family, ChatRequest)>, ApiError> {
    read_object(model, &fields::object(body)?)
}

/// [`read`] for a body already parsed.
pub fn read_object(
    model: &ModelRef,
    body: &Object,
) -> Result<Option<(&'static dyn Family, ChatRequest)>, ApiError> {
    match family_for(&model.id, body) {
        Some(family) => Ok(Some((family, family.parse(body, model)?))),
        None => Ok(None),
    }
}

/// The family that speaks for a model id, by the id's provider prefix. Where one provider takes two
/// body formats (Mistral, DeepSeek) the body's shape decides: `messages` is chat, `prompt` is text.
fn family_for(model_id: &str, body: &Object) -> Option<&'static dyn Family> {
    let chat_body = body.contains_key("messages") || !body.contains_key("prompt");
    family_for_shape(model_id, chat_body)
}

/// The family whose native format answers a Converse request on this model: its chat format.
pub fn converse_family(model_id: &str) -> Option<&'static dyn Family> {
    family_for_shape(model_id, true)
}

fn family_for_shape(model_id: &str, chat_body: bool) -> Option<&'static dyn Family> {
    let id = model_id;
    if id.starts_with("anthropic.claude-v2") || id.starts_with("anthropic.claude-instant") {
        return Some(&anthropic_text::Completions);
    }
    if id.starts_with("anthropic.") {
        return Some(&anthropic::Messages);
    }
    if id.starts_with("amazon.titan-text") || id.starts_with("amazon.titan-tg1") {
        return Some(&titan::Text);
    }
    if id.starts_with("amazon.nova-")
        && ![
            "amazon.nova-canvas",
            "amazon.nova-reel",
            "amazon.nova-sonic",
        ]
        .iter()
        .any(|p| id.starts_with(p))
    {
        return Some(&nova::Nova);
    }
    if id.starts_with("meta.llama") {
        return Some(&llama::Llama);
    }
    if id.starts_with("mistral.") {
        return Some(if chat_body {
            &mistral::Chat
        } else {
            &prompt_completion::MISTRAL
        });
    }
    if id.starts_with("cohere.command-r") {
        return Some(&command_r::CommandR);
    }
    if id.starts_with("cohere.command") {
        return Some(&cohere::Command);
    }
    if id.starts_with("deepseek.") && !chat_body {
        return Some(&prompt_completion::DEEPSEEK);
    }
    if OPENAI_STYLE.iter().any(|p| id.starts_with(p)) {
        return Some(&openai_chat::ChatCompletions);
    }
    None
}

/// Providers whose InvokeModel body is an OpenAI chat completion.
const OPENAI_STYLE: &[&str] = &[
    "ai21.jamba",
    "deepseek.",
    "openai.",
    "qwen.",
    "moonshot.",
    "moonshotai.",
    "minimax.",
    "google.gemma",
    "nvidia.",
    "writer.",
    "zai.",
];

/// The embedding family of a model id, if it is an embedding model.
pub fn embed_family_for(model_id: &str) -> Option<&'static dyn EmbedFamily> {
    let id = model_id;
    if id.starts_with("amazon.titan-embed-text-v1") || id.starts_with("amazon.titan-embed-g1-text")
    {
        return Some(&embed::titan::TextV1);
    }
    if id.starts_with("amazon.titan-embed-text-v2") {
        return Some(&embed::titan::TextV2);
    }
    if id.starts_with("amazon.titan-embed-image") {
        return Some(&embed::titan::Multimodal);
    }
    if id.starts_with("cohere.embed-v4") {
        return Some(&embed::cohere::EmbedV4);
    }
    if id.starts_with("cohere.embed") {
        return Some(&embed::cohere::EmbedV3);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::stream::ids::Ids;
    use crate::runtime::stream::shaper::Timing;
    use serde_json::json;

    /// The type name of the family a model id and body pick.
    fn picked(model_id: &str, body: serde_json::Value) -> Option<String> {
        let body = body.as_object().cloned().unwrap_or_default();
        family_for(model_id, &body).map(|f| {
            let probe = ModelRef::of_id(model_id);
            // Families are unit structs: name them by what their shaper emits first.
            let mut shaper = f.shaper(&probe, &ChatRequest::default(), Ids::seeded(&[b"0"]));
            let mut out = Vec::new();
            shaper.on_delta(
                &crate::runtime::stream::delta::Delta::Text("x".into()),
                &Timing::default(),
                &mut out,
            );
            String::from_utf8(out.last().map(|e| e.payload.clone()).unwrap_or_default())
                .unwrap_or_default()
        })
    }

    #[test]
    fn provider_prefixes_pick_the_family() {
        let prompt = json!({"prompt": "hi"});
        let chat = json!({"messages": []});
        assert!(picked("anthropic.claude-v2:1", prompt.clone())
            .unwrap()
            .starts_with("{\"completion\""));
        assert!(picked("anthropic.claude-instant-v1", prompt.clone())
            .unwrap()
            .starts_with("{\"completion\""));
        assert!(picked("amazon.nova-lite-v1:0", chat.clone())
            .unwrap()
            .starts_with("{\"contentBlockDelta\""));
        assert_eq!(picked("amazon.nova-canvas-v1:0", chat.clone()), None);
        assert!(picked("meta.llama3-8b-instruct-v1:0", prompt.clone())
            .unwrap()
            .starts_with("{\"generation\""));
        assert!(picked("mistral.mistral-7b-instruct-v0:2", prompt.clone())
            .unwrap()
            .starts_with("{\"outputs\""));
        assert!(picked("mistral.mistral-large-2407-v1:0", chat.clone())
            .unwrap()
            .starts_with("{\"choices\":[{\"index\""));
        assert!(picked("cohere.command-text-v14", prompt.clone())
            .unwrap()
            .starts_with("{\"text\""));
        assert!(
            picked("cohere.command-r-plus-v1:0", json!({"message": "x"}))
                .unwrap()
                .contains("text-generation")
        );
        assert!(picked("deepseek.r1-v1:0", prompt.clone())
            .unwrap()
            .starts_with("{\"choices\":[{\"text\""));
        for id in [
            "deepseek.v3-v1:0",
            "openai.gpt-oss-20b-1:0",
            "ai21.jamba-1-5-mini-v1:0",
            "qwen.qwen3-32b-v1:0",
        ] {
            assert!(
                picked(id, chat.clone())
                    .unwrap()
                    .contains("chat.completion.chunk"),
                "{id}"
            );
        }
        assert_eq!(picked("stability.sd3-5-large-v1:0", prompt), None);
    }

    #[test]
    fn embedding_models_have_an_embedding_family() {
        for id in [
            "amazon.titan-embed-text-v1",
            "amazon.titan-embed-g1-text-02",
            "amazon.titan-embed-text-v2:0",
            "amazon.titan-embed-image-v1",
            "cohere.embed-english-v3",
            "cohere.embed-multilingual-v3",
            "cohere.embed-v4:0",
        ] {
            assert!(embed_family_for(id).is_some(), "{id}");
        }
        assert!(embed_family_for("amazon.titan-text-express-v1").is_none());
        assert!(embed_family_for("cohere.command-r-v1:0").is_none());
    }
}
