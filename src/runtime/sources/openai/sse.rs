//! Server-sent events, as the WHATWG HTML standard parses them (§9.2.6 "Interpreting an event
//! stream"): lines end in CRLF, LF or CR; `field: value` lines build an event; a blank line
//! dispatches it; `:` lines are comments; a leading BOM is skipped; an event left unfinished at the
//! end of the stream is dropped.
//!
//! Hand-written rather than the `eventsource-stream` crate, whose parser was most of what a streamed
//! token cost through awsim (`benches/README.md`): this one finds line ends and colons with `memchr`
//! (already in the tree through `futures`) and copies each data line once.

/// One dispatched event. `kind` is the `event:` field, `message` when the event had none.
#[derive(Debug, PartialEq, Eq)]
pub struct Event<'a> {
    pub kind: &'a str,
    pub data: &'a str,
}

/// How far an event or an unfinished line may grow: far beyond any chat-completion chunk, and a
/// bound on what a backend that never ends a line can make awsim hold.
const LIMIT: usize = 16 << 20;

/// A stream that is not server-sent events.
#[derive(Debug, PartialEq, Eq)]
pub enum Malformed {
    /// A line that is not UTF-8: the stream is not text.
    NotUtf8,
    /// A line or an event over the limit.
    TooLong(usize),
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotUtf8 => f.write_str("the stream is not UTF-8"),
            Self::TooLong(limit) => write!(
                f,
                "an event or line of the stream is longer than {} MiB",
                limit >> 20
            ),
        }
    }
}

/// Incremental parser: [`feed`](Parser::feed) bytes as they arrive, then take events with
/// [`next_event`](Parser::next_event) until it returns `None`.
#[derive(Debug)]
pub struct Parser {
    /// Bytes received and not yet consumed; `at` is where consumption stopped.
    buf: Vec<u8>,
    at: usize,
    /// The event being built. Every data line appends at least a newline, so an event has data
    /// exactly when `data` is not empty.
    kind: String,
    data: String,
    /// An event was handed out (borrowing `kind` and `data`): clear them before the next line.
    dispatched: bool,
    /// The last line ended in CR at the end of a chunk: an LF that starts the next one belongs to it.
    after_cr: bool,
    started: bool,
    limit: usize,
}

impl Default for Parser {
    fn default() -> Self {
        Self::with_limit(LIMIT)
    }
}

impl Parser {
    fn with_limit(limit: usize) -> Self {
        Self {
            buf: Vec::new(),
            at: 0,
            kind: String::new(),
            data: String::new(),
            dispatched: false,
            after_cr: false,
            started: false,
            limit,
        }
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        if self.at == self.buf.len() {
            self.buf.clear();
            self.at = 0;
        } else if self.at > 0 {
            self.buf.drain(..self.at);
            self.at = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete event in what was fed so far.
    pub fn next_event(&mut self) -> Result<Option<Event<'_>>, Malformed> {
        if !self.started {
            // The BOM may only be skipped once three bytes (or fewer that differ) have arrived.
            const BOM: &[u8] = b"\xEF\xBB\xBF";
            let head = &self.buf[..self.buf.len().min(3)];
            if !BOM.starts_with(head) || head.len() == 3 {
                self.started = true;
                if head == BOM {
                    self.at = 3;
                }
            } else {
                return Ok(None);
            }
        }
        if self.dispatched {
            self.dispatched = false;
            self.kind.clear();
            self.data.clear();
        }
        loop {
            if self.after_cr && self.at < self.buf.len() {
                self.after_cr = false;
                if self.buf[self.at] == b'\n' {
                    self.at += 1;
                }
            }
            let rest = &self.buf[self.at..];
            let Some(end) = memchr::memchr2(b'\n', b'\r', rest) else {
                return if rest.len() > self.limit {
                    Err(Malformed::TooLong(self.limit))
                } else {
                    Ok(None)
                };
            };
            let line_start = self.at;
            self.at += end + 1;
            if rest[end] == b'\r' {
                self.after_cr = true;
            }
            let line = &self.buf[line_start..line_start + end];
            if line.is_empty() {
                if self.data.is_empty() {
                    self.kind.clear();
                    continue;
                }
                self.dispatched = true;
                // Every data line appended a newline; the last one is not part of the data.
                self.data.pop();
                return Ok(Some(Event {
                    kind: if self.kind.is_empty() {
                        "message"
                    } else {
                        &self.kind
                    },
                    data: &self.data,
                }));
            }
            let (field, value) = match memchr::memchr(b':', line) {
                Some(0) => continue,
                Some(colon) => {
                    let value = &line[colon + 1..];
                    (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
                }
                None => (line, &b""[..]),
            };
            match field {
                b"data" => {
                    if self.data.len() + value.len() > self.limit {
                        return Err(Malformed::TooLong(self.limit));
                    }
                    self.data
                        .push_str(std::str::from_utf8(value).map_err(|_| Malformed::NotUtf8)?);
                    self.data.push('\n');
                }
                b"event" => {
                    let value = std::str::from_utf8(value).map_err(|_| Malformed::NotUtf8)?;
                    self.kind.clear();
                    self.kind.push_str(value);
                }
                // `id` and `retry` steer a browser's reconnection; a completion is never resumed.
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event in `stream`, fed in pieces of `step` bytes, as (kind, data).
    fn events(stream: &[u8], step: usize) -> Result<Vec<(String, String)>, Malformed> {
        events_within(stream, step, LIMIT)
    }

    fn events_within(
        stream: &[u8],
        step: usize,
        limit: usize,
    ) -> Result<Vec<(String, String)>, Malformed> {
        let mut parser = Parser::with_limit(limit);
        let mut out = Vec::new();
        for piece in stream.chunks(step) {
            parser.feed(piece);
            while let Some(e) = parser.next_event()? {
                out.push((e.kind.to_string(), e.data.to_string()));
            }
        }
        Ok(out)
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, d)| (k.to_string(), d.to_string()))
            .collect()
    }

    /// The same events whatever the chunking, down to one byte at a time.
    fn check(stream: &str, expected: &[(&str, &str)]) {
        for step in 1..=stream.len().max(1) {
            assert_eq!(
                events(stream.as_bytes(), step),
                Ok(pairs(expected)),
                "{stream:?} in pieces of {step}"
            );
        }
    }

    #[test]
    fn a_blank_line_dispatches_the_data_lines_before_it() {
        check(
            "data: {\"a\":1}\n\ndata: [DONE]\n\n",
            &[("message", "{\"a\":1}"), ("message", "[DONE]")],
        );
    }

    #[test]
    fn lines_end_in_lf_crlf_or_cr() {
        let expected = [("message", "one"), ("message", "two"), ("message", "three")];
        check("data: one\r\n\r\ndata: two\r\rdata: three\n\r\n", &expected);
    }

    #[test]
    fn several_data_lines_join_with_newlines_and_one_space_after_the_colon_is_dropped() {
        check(
            "data:a\ndata:  b\ndata\ndata:\n\n",
            &[("message", "a\n b\n\n")],
        );
    }

    #[test]
    fn event_names_the_kind_until_the_event_is_dispatched() {
        check(
            "event: error\ndata: {\"error\":\"x\"}\n\ndata: after\n\n",
            &[("error", "{\"error\":\"x\"}"), ("message", "after")],
        );
        // A kind with no data dispatches nothing and does not leak into the next event.
        check("event: ping\n\ndata: d\n\n", &[("message", "d")]);
    }

    #[test]
    fn comments_ids_retries_and_unknown_fields_are_ignored() {
        check(
            ": keep-alive\nid: 7\nretry: 100\nfoo: bar\ndata: x\n\n",
            &[("message", "x")],
        );
    }

    #[test]
    fn a_leading_bom_is_skipped_once() {
        check("\u{feff}data: x\n\n", &[("message", "x")]);
        check("\u{feff}\u{feff}data: x\n\n", &[]);
    }

    #[test]
    fn an_unfinished_event_at_the_end_is_dropped() {
        check("data: complete\n\ndata: cut", &[("message", "complete")]);
        check("data: cut\n", &[]);
    }

    #[test]
    fn text_split_inside_a_character_arrives_whole() {
        check("data: héllo → 日本\n\n", &[("message", "héllo → 日本")]);
    }

    #[test]
    fn a_line_that_is_not_utf8_is_an_error() {
        assert_eq!(events(b"data: \xff\n\n", 64), Err(Malformed::NotUtf8));
    }

    #[test]
    fn a_line_or_an_event_over_the_limit_is_an_error_not_held_forever() {
        let fits = "data: 0123456789\n\n";
        assert_eq!(events_within(fits.as_bytes(), 4, 16).unwrap().len(), 1);
        let endless = "data: 0123456789abcdef and never a newline";
        assert_eq!(
            events_within(endless.as_bytes(), 4, 16),
            Err(Malformed::TooLong(16))
        );
        let many_lines = "data: 0123456789\ndata: 0123456789\n\n";
        assert_eq!(
            events_within(many_lines.as_bytes(), 4, 16),
            Err(Malformed::TooLong(16))
        );
    }
}
