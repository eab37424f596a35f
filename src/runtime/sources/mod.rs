//! Where answers come from: the [`canned`] generator (the default) or an OpenAI-compatible backend
//! ([`openai`], `--bedrock-backend`).

pub(crate) mod canned;
pub(crate) mod openai;
