//! What every body reader shares: typed field access whose errors name the field as Bedrock does
//! ([`fields`]), the rules provider schemas share ([`rules`]), single-string prompts read back into
//! turns ([`prompt`]), and OpenAI-style `messages` read by more than one family
//! ([`openai_messages`]).

pub(crate) mod fields;
pub(crate) mod openai_messages;
pub(crate) mod prompt;
pub(crate) mod rules;
