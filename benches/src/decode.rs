//! Response bodies → text deltas, incrementally, as bytes arrive in whatever chunks the network
//! makes:
//!
//! - event-stream frames ([`frames::MessageFrameDecoder`]): ConverseStream `contentBlockDelta`
//!   with `delta.text`; InvokeModelWithResponseStream `chunk` whose base64 `bytes` hold an Anthropic
//!   `content_block_delta`; an `exception` message is an error;
//! - the JSON array: each top-level element is cut out by a scanner that tracks strings and depth,
//!   then read (`{"contentBlockDelta":…}`, `{"contentType":…,"body":{…}}`, or an `…Exception`);
//! - OpenAI SSE: `data:` lines with `choices[0].delta.content`.

use crate::workload::{Api, Format};
use base64::Engine;
use bytes::BytesMut;
use frames::{DecodedFrame, MessageFrameDecoder};
use serde::Deserialize;
use std::borrow::Cow;

/// Incremental decoder of one response body.
pub struct BodyDecoder {
    api: Api,
    kind: Kind,
}

enum Kind {
    Frames {
        decoder: MessageFrameDecoder,
        buf: BytesMut,
        scratch: Vec<u8>,
    },
    Array(ArrayScanner),
    Sse {
        line: Vec<u8>,
    },
    /// Converse (not streamed): nothing to decode per chunk.
    Whole,
}

impl BodyDecoder {
    pub fn new(api: Api, format: Format) -> Self {
        let kind = match (api, format) {
            (Api::Converse, _) => Kind::Whole,
            (Api::ChatCompletions, _) => Kind::Sse { line: Vec::new() },
            (_, Format::EventStream) => Kind::Frames {
                decoder: MessageFrameDecoder::new(),
                buf: BytesMut::with_capacity(4096),
                scratch: Vec::new(),
            },
            (_, Format::JsonArray) => Kind::Array(ArrayScanner::default()),
        };
        Self { api, kind }
    }

    /// Feeds one chunk of the body; calls `on_text` with the text of each text delta it completes.
    pub fn feed(&mut self, chunk: &[u8], on_text: &mut dyn FnMut(&str)) -> crate::Result<()> {
        let api = self.api;
        match &mut self.kind {
            Kind::Whole => Ok(()),
            Kind::Frames {
                decoder,
                buf,
                scratch,
            } => {
                buf.extend_from_slice(chunk);
                while let DecodedFrame::Complete(message) = decoder.decode_frame(buf)? {
                    if message.header_str(":message-type") != Some("event") {
                        let kind = message
                            .header_str(":exception-type")
                            .or(message.header_str(":error-code"))
                            .unwrap_or("?");
                        return Err(format!(
                            "{kind} frame: {}",
                            String::from_utf8_lossy(&message.payload)
                        )
                        .into());
                    }
                    match message.header_str(":event-type") {
                        Some("contentBlockDelta") => converse_delta(&message.payload, on_text)?,
                        Some("chunk") => {
                            let chunk: Chunk<'_> = serde_json::from_slice(&message.payload)?;
                            scratch.clear();
                            base64::engine::general_purpose::STANDARD
                                .decode_vec(chunk.bytes.as_bytes(), scratch)?;
                            anthropic_delta(scratch, on_text)?;
                        }
                        _ => {}
                    }
                }
                Ok(())
            }
            Kind::Array(scanner) => scanner.feed(chunk, &mut |element| match api {
                Api::InvokeStream => {
                    let e: InvokeElement<'_> = serde_json::from_slice(element)?;
                    match e.body {
                        Some(body) => anthropic_delta(body.get().as_bytes(), on_text),
                        None => Err(stream_error(element)),
                    }
                }
                _ => {
                    let e: ConverseElement<'_> = serde_json::from_slice(element)?;
                    for (name, value) in e {
                        if name == "contentBlockDelta" {
                            converse_delta(value.get().as_bytes(), on_text)?;
                        } else if name.ends_with("Exception") {
                            return Err(stream_error(element));
                        }
                    }
                    Ok(())
                }
            }),
            Kind::Sse { line } => {
                for &b in chunk {
                    if b != b'\n' {
                        line.push(b);
                        continue;
                    }
                    let text = line.strip_suffix(b"\r").unwrap_or(line);
                    if let Some(data) = text.strip_prefix(b"data:") {
                        let data = data.trim_ascii();
                        if data != b"[DONE]" {
                            let chunk: OpenAiChunk<'_> = serde_json::from_slice(data)?;
                            if let Some(err) = chunk.error {
                                return Err(format!("upstream error: {}", err.get()).into());
                            }
                            for choice in chunk.choices {
                                if let Some(t) = choice.delta.and_then(|d| d.content) {
                                    if !t.is_empty() {
                                        on_text(&t);
                                    }
                                }
                            }
                        }
                    }
                    line.clear();
                }
                Ok(())
            }
        }
    }
}

fn stream_error(element: &[u8]) -> crate::Error {
    format!("error element: {}", String::from_utf8_lossy(element)).into()
}

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow)]
    bytes: Cow<'a, str>,
}

#[derive(Deserialize)]
struct TextDelta<'a> {
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
}

/// `{"contentBlockIndex":0,"delta":{"text":"…"}}`
#[derive(Deserialize)]
struct ConverseDelta<'a> {
    #[serde(borrow)]
    delta: Option<TextDelta<'a>>,
}

/// `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"…"}}`
#[derive(Deserialize)]
struct AnthropicEvent<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    delta: Option<TextDelta<'a>>,
}

#[derive(Deserialize)]
struct InvokeElement<'a> {
    #[serde(borrow)]
    body: Option<&'a serde_json::value::RawValue>,
}

/// `{"contentBlockDelta":{…}}`, `{"messageStart":{…}}`, … or `{"…Exception":{…}}`.
type ConverseElement<'a> = std::collections::HashMap<&'a str, &'a serde_json::value::RawValue>;

#[derive(Deserialize)]
struct OpenAiChunk<'a> {
    #[serde(default, borrow)]
    choices: Vec<OpenAiChoice<'a>>,
    #[serde(borrow)]
    error: Option<&'a serde_json::value::RawValue>,
}

#[derive(Deserialize)]
struct OpenAiChoice<'a> {
    #[serde(borrow)]
    delta: Option<OpenAiDelta<'a>>,
}

#[derive(Deserialize)]
struct OpenAiDelta<'a> {
    #[serde(borrow)]
    content: Option<Cow<'a, str>>,
}

fn converse_delta(payload: &[u8], on_text: &mut dyn FnMut(&str)) -> crate::Result<()> {
    let d: ConverseDelta<'_> = serde_json::from_slice(payload)?;
    if let Some(text) = d.delta.and_then(|d| d.text) {
        on_text(&text);
    }
    Ok(())
}

fn anthropic_delta(payload: &[u8], on_text: &mut dyn FnMut(&str)) -> crate::Result<()> {
    let e: AnthropicEvent<'_> = serde_json::from_slice(payload)?;
    if e.kind == "content_block_delta" {
        if let Some(text) = e.delta.and_then(|d| d.text) {
            on_text(&text);
        }
    }
    Ok(())
}

/// Cuts top-level elements out of a JSON array that arrives in pieces.
#[derive(Debug, Default)]
pub struct ArrayScanner {
    buf: Vec<u8>,
    /// How far `buf` has been scanned.
    at: usize,
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// Where the element being scanned starts in `buf`.
    start: Option<usize>,
}

impl ArrayScanner {
    /// Appends `chunk` and calls `on_element` with each element it completes.
    pub fn feed(
        &mut self,
        chunk: &[u8],
        on_element: &mut dyn FnMut(&[u8]) -> crate::Result<()>,
    ) -> crate::Result<()> {
        self.buf.extend_from_slice(chunk);
        let mut consumed = 0;
        while self.at < self.buf.len() {
            let b = self.buf[self.at];
            self.at += 1;
            if self.in_string {
                match (self.escaped, b) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'[' | b'{' => {
                    if self.depth == 1 {
                        self.start = Some(self.at - 1);
                    }
                    self.depth += 1;
                }
                b']' | b'}' => {
                    self.depth = self.depth.checked_sub(1).ok_or("unbalanced JSON array")?;
                    if self.depth == 1 {
                        if let Some(start) = self.start.take() {
                            on_element(&self.buf[start..self.at])?;
                            consumed = self.at;
                        }
                    }
                }
                _ => {}
            }
        }
        if consumed > 0 && self.start.is_none() {
            self.buf.drain(..consumed);
            self.at -= consumed;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(api: Api, format: Format, body: &[u8], step: usize) -> Vec<String> {
        let mut d = BodyDecoder::new(api, format);
        let mut out = Vec::new();
        for piece in body.chunks(step) {
            d.feed(piece, &mut |t| out.push(t.to_string())).unwrap();
        }
        out
    }

    #[test]
    fn json_array_converse_in_any_chunking() {
        let body = br#"[{"messageStart":{"role":"assistant"}},{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"text":"a \"}{]"}}},{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"text":"b"}}},{"messageStop":{"stopReason":"end_turn"}}]"#;
        for step in 1..=body.len() {
            assert_eq!(
                texts(Api::ConverseStream, Format::JsonArray, body, step),
                ["a \"}{]", "b"]
            );
        }
    }

    #[test]
    fn json_array_invoke_and_errors() {
        let body = br#"[{"contentType":"application/json","body":{"type":"message_start","message":{}}},{"contentType":"application/json","body":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}}]"#;
        assert_eq!(texts(Api::InvokeStream, Format::JsonArray, body, 7), ["hi"]);
        let mut d = BodyDecoder::new(Api::ConverseStream, Format::JsonArray);
        let err = d.feed(
            br#"[{"modelStreamErrorException":{"message":"x"}}]"#,
            &mut |_| {},
        );
        assert!(err.is_err());
    }

    #[test]
    fn event_stream_both_operations() {
        let mut body = BytesMut::new();
        for (event, payload) in [
            ("messageStart", r#"{"role":"assistant"}"#),
            (
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"text":"one"}}"#,
            ),
        ] {
            frames::write_message_to(&frames::bedrock::event(event, payload), &mut body).unwrap();
        }
        for step in [1, 5, body.len()] {
            assert_eq!(
                texts(Api::ConverseStream, Format::EventStream, &body, step),
                ["one"]
            );
        }
        let inner = br#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"two"}}"#;
        let payload = format!(
            r#"{{"bytes":"{}"}}"#,
            base64::engine::general_purpose::STANDARD.encode(inner)
        );
        let mut body = BytesMut::new();
        frames::write_message_to(&frames::bedrock::event("chunk", payload), &mut body).unwrap();
        assert_eq!(
            texts(Api::InvokeStream, Format::EventStream, &body, 3),
            ["two"]
        );
    }

    #[test]
    fn openai_sse() {
        let body = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\r\n\r\ndata: [DONE]\n\n";
        for step in [1, 9, body.len()] {
            assert_eq!(
                texts(Api::ChatCompletions, Format::EventStream, body, step),
                ["x"]
            );
        }
    }
}
