//! Converse and ConverseStream, Bedrock's one format for every chat model: the [`request`], the
//! [`stream`] of events and the collected response, and the [`field_paths`] answered from the
//! model family's native response.

pub(crate) mod field_paths;
pub(crate) mod request;
pub(crate) mod stream;
