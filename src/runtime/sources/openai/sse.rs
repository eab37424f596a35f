//! Server-sent events from the backend's body: `eventsource-stream` parses them (WHATWG HTML
//! §9.2.6: lines end in CRLF, LF or CR; `field: value` lines build an event; a blank line dispatches
//! it; `:` lines are comments; a leading BOM is skipped; an event left unfinished at the end of the
//! stream is dropped), held to two limits of awsim's own, checked on each chunk before the parser
//! sees it:
//!
//! - **size**: at most 16 MiB may arrive between two events, so a backend that never ends a line or
//!   an event cannot make awsim hold more;
//! - **UTF-8**: a byte that cannot be UTF-8 ends the stream at once. The parser on its own keeps
//!   such a byte, and everything after it, until the body ends.
//!
//! The parser is given whole lines, one at a time ([`Lines`]): it parses its buffer from the start
//! whenever bytes arrive and copies what follows each line it takes, so a long line arriving in
//! pieces, or many lines arriving at once, would cost time quadratic in their size (a 16 MiB line
//! in 16 KiB reads: seconds of a serving thread).
//!
//! The leading byte-order mark is skipped here too: eventsource-stream 0.2.3 cuts it at byte 1 of
//! its 3 and panics.

use bytes::{Bytes, BytesMut};
use eventsource_stream::{Event, EventStream, EventStreamError};
use futures::{Stream, StreamExt};
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

/// How much may arrive between two events: far beyond any chat-completion chunk.
pub const LIMIT: usize = 16 << 20;

/// Why the events stopped before the body ended.
#[derive(Debug)]
pub enum Failure<E> {
    /// The body could not be read.
    Transport(E),
    /// A byte that is not UTF-8: the stream is not text.
    NotUtf8,
    /// A line or an event over the limit.
    TooLong(usize),
    /// Text the parser refused (its grammar takes any text, so this is not expected).
    NotSse(String),
}

impl<E: std::fmt::Display> std::fmt::Display for Failure<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transport(err) => err.fmt(f),
            Self::NotUtf8 => f.write_str("the stream is not UTF-8"),
            Self::TooLong(limit) => write!(
                f,
                "an event or line of the stream is longer than {} MiB",
                limit >> 20
            ),
            Self::NotSse(why) => write!(f, "the stream is not server-sent events: {why}"),
        }
    }
}

/// The events of `body`, a stream of byte chunks.
pub fn events<S, E>(body: S) -> impl Stream<Item = Result<Event, Failure<E>>>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    events_within(body, LIMIT)
}

fn events_within<S, E>(body: S, limit: usize) -> impl Stream<Item = Result<Event, Failure<E>>>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    // Bytes fed to the parser since it last gave an event: the most it can be holding.
    let fed = Arc::new(AtomicUsize::new(0));
    let mut guard = Guard {
        fed: Arc::clone(&fed),
        limit,
        tail: Utf8Tail::default(),
        start: Start::Bom(0),
    };
    let checked = body.map(move |chunk| guard.check(chunk.map_err(Failure::Transport)?));
    // The parser looks for a byte-order mark in its first character only: a line end goes first
    // (a blank line before any field dispatches nothing), the mark itself is skipped by the guard.
    let first = futures::stream::once(async { Ok(Bytes::from_static(b"\n")) });
    EventStream::new(first.chain(Lines::new(checked))).map(move |event| match event {
        Ok(event) => {
            fed.store(0, Ordering::Relaxed);
            Ok(event)
        }
        Err(EventStreamError::Transport(failure)) => Err(failure),
        Err(EventStreamError::Utf8(_)) => Err(Failure::NotUtf8),
        Err(EventStreamError::Parser(err)) => Err(Failure::NotSse(err.to_string())),
    })
}

/// The lines of a body, each with its line end, one an item; a line's pieces wait for its end. What
/// is left when the body ends goes last, unended, as the parser would have had it.
struct Lines<S> {
    body: Pin<Box<S>>,
    /// The line begun and not yet ended.
    partial: BytesMut,
    /// Lines ended by the last chunk, not yet given.
    ready: VecDeque<Bytes>,
    ended: bool,
}

impl<S> Lines<S> {
    fn new(body: S) -> Self {
        Self {
            body: Box::pin(body),
            partial: BytesMut::new(),
            ready: VecDeque::new(),
            ended: false,
        }
    }

    /// Queues the lines `chunk` ends, each with the blank line that follows it if one does (the end
    /// of an event travels with its last line); keeps the rest as the partial line. A line ends in
    /// LF, CRLF or CR; a CR that ends the chunk goes as it is, and the parser waits for what follows.
    fn queue(&mut self, chunk: Bytes) {
        let mut start = 0;
        let mut at = start;
        while let Some(found) = memchr::memchr2(b'\n', b'\r', &chunk[at..]) {
            let mut end = line_end(&chunk, at + found);
            if chunk.get(end).is_some_and(|b| matches!(b, b'\n' | b'\r')) {
                end = line_end(&chunk, end);
            }
            let line = if self.partial.is_empty() {
                chunk.slice(start..end)
            } else {
                self.partial.extend_from_slice(&chunk[start..end]);
                self.partial.split().freeze()
            };
            self.ready.push_back(line);
            start = end;
            at = end;
        }
        self.partial.extend_from_slice(&chunk[start..]);
    }
}

/// Where the line end at `at` (an LF or a CR) ends: after a CRLF's LF, else after it.
fn line_end(chunk: &[u8], at: usize) -> usize {
    if chunk[at] == b'\r' && chunk.get(at + 1) == Some(&b'\n') {
        at + 2
    } else {
        at + 1
    }
}

impl<S, E> Stream for Lines<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    type Item = Result<Bytes, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(line) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(line)));
            }
            if this.ended {
                return Poll::Ready(None);
            }
            match this.body.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(err))) => return Poll::Ready(Some(Err(err))),
                Poll::Ready(Some(Ok(chunk))) => this.queue(chunk),
                Poll::Ready(None) => {
                    this.ended = true;
                    if !this.partial.is_empty() {
                        return Poll::Ready(Some(Ok(this.partial.split().freeze())));
                    }
                }
            }
        }
    }
}

struct Guard {
    fed: Arc<AtomicUsize>,
    limit: usize,
    tail: Utf8Tail,
    start: Start,
}

/// Whether the body's first bytes were looked at for a byte-order mark.
enum Start {
    /// How many bytes of a mark arrived so far (held back).
    Bom(usize),
    Past,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl Guard {
    fn check<E>(&mut self, chunk: Bytes) -> Result<Bytes, Failure<E>> {
        let chunk = match self.start {
            Start::Past => chunk,
            Start::Bom(held) => self.skip_bom(held, chunk),
        };
        let fed = self.fed.fetch_add(chunk.len(), Ordering::Relaxed) + chunk.len();
        if fed > self.limit {
            return Err(Failure::TooLong(self.limit));
        }
        self.tail.check(&chunk).map_err(|()| Failure::NotUtf8)?;
        Ok(chunk)
    }

    /// The chunk without a leading byte-order mark (which may come a byte at a time).
    fn skip_bom(&mut self, held: usize, chunk: Bytes) -> Bytes {
        let matched = chunk
            .iter()
            .zip(&BOM[held..])
            .take_while(|(a, b)| a == b)
            .count();
        if held + matched == BOM.len() {
            self.start = Start::Past;
            chunk.slice(matched..)
        } else if matched == chunk.len() {
            self.start = Start::Bom(held + matched);
            Bytes::new()
        } else {
            // Not a mark after all: the bytes held back go first.
            self.start = Start::Past;
            if held == 0 {
                chunk
            } else {
                [&BOM[..held], &chunk[..]].concat().into()
            }
        }
    }
}

/// UTF-8 validation across chunk boundaries: the bytes of a character cut by the end of a chunk
/// wait for the next one.
#[derive(Default)]
struct Utf8Tail {
    pending: [u8; 4],
    len: usize,
}

impl Utf8Tail {
    fn check(&mut self, mut bytes: &[u8]) -> Result<(), ()> {
        if self.len > 0 {
            // Complete the cut character with the first bytes of this chunk (a character is at most
            // four bytes, so three more always suffice).
            let take = bytes.len().min(4 - self.len);
            let mut joined = self.pending;
            joined[self.len..self.len + take].copy_from_slice(&bytes[..take]);
            let joined = &joined[..self.len + take];
            match std::str::from_utf8(joined) {
                Ok(_) => bytes = &bytes[take..],
                Err(e) if e.valid_up_to() >= self.len => {
                    bytes = &bytes[e.valid_up_to() - self.len..]
                }
                Err(e) if e.error_len().is_none() => {
                    // Still cut: this chunk was shorter than the rest of the character.
                    self.pending[..joined.len()].copy_from_slice(joined);
                    self.len = joined.len();
                    return Ok(());
                }
                Err(_) => return Err(()),
            }
            self.len = 0;
        }
        match std::str::from_utf8(bytes) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_none() => {
                let cut = &bytes[e.valid_up_to()..];
                self.pending[..cut.len()].copy_from_slice(cut);
                self.len = cut.len();
                Ok(())
            }
            Err(_) => Err(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    type Events = Vec<(String, String)>;

    /// Every event in `stream`, fed in pieces of `step` bytes, as (kind, data).
    fn events_of(stream: &[u8], step: usize) -> Result<Events, String> {
        collect(stream, step, LIMIT)
    }

    fn collect(stream: &[u8], step: usize, limit: usize) -> Result<Events, String> {
        let pieces: Vec<Result<Bytes, Infallible>> = stream
            .chunks(step)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let parsed = events_within(futures::stream::iter(pieces), limit);
        futures::executor::block_on(parsed.collect::<Vec<_>>())
            .into_iter()
            .map(|e| e.map(|e| (e.event, e.data)).map_err(|e| e.to_string()))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Events {
        list.iter()
            .map(|(k, d)| (k.to_string(), d.to_string()))
            .collect()
    }

    /// The same events whatever the chunking, down to one byte at a time.
    fn check(stream: &str, expected: &[(&str, &str)]) {
        for step in 1..=stream.len().max(1) {
            assert_eq!(
                events_of(stream.as_bytes(), step),
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
        check("\u{feff}data: \u{feff}\n\n", &[("message", "\u{feff}")]);
        // A character that begins as the mark does is not one.
        check("\u{fec0}\ndata: x\n\n", &[("message", "x")]);
    }

    #[test]
    fn an_unfinished_event_at_the_end_is_dropped() {
        check("data: complete\n\ndata: cut", &[("message", "complete")]);
        check("data: cut\n", &[]);
    }

    #[test]
    fn text_split_inside_a_character_arrives_whole() {
        check(
            "data: héllo → 日本 🦀\n\n",
            &[("message", "héllo → 日本 🦀")],
        );
    }

    #[test]
    fn a_byte_that_is_not_utf8_ends_the_stream_at_once() {
        for step in 1..8 {
            assert_eq!(
                events_of(b"data: \xff\n\n", step),
                Err("the stream is not UTF-8".into())
            );
        }
        // A character cut short by another one's first byte.
        assert!(events_of(
            "data: \u{e9}".as_bytes()[..7]
                .iter()
                .chain(b"x\n\n")
                .copied()
                .collect::<Vec<_>>()
                .as_slice(),
            3
        )
        .is_err());
        // At once: the events before it arrive, then the error, though more follows that the
        // parser alone would have held until the end of the body.
        let mut stream = b"data: ok\n\ndata: \xff\n\n".to_vec();
        for _ in 0..100 {
            stream.extend_from_slice(b"data: more\n\n");
        }
        let pieces: Vec<Result<Bytes, Infallible>> = stream
            .chunks(12)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let parsed = events(futures::stream::iter(pieces).chain(futures::stream::pending()));
        let first_two = futures::executor::block_on(parsed.take(2).collect::<Vec<_>>());
        assert_eq!(first_two[0].as_ref().unwrap().data, "ok");
        assert!(matches!(first_two[1], Err(Failure::NotUtf8)));
    }

    #[test]
    fn the_parser_is_given_whole_lines_one_at_a_time() {
        // A line in pieces goes once it ends, an event's last line with the blank line after it;
        // many lines in one chunk go one by one. The parser then reads each byte about once.
        let chunks = [
            "data: a",
            "bc\n\nda",
            "ta: x\r",
            "\n\r\n",
            "data: 1\ndata: 2\n\n\n\n",
            "tail",
        ];
        let body = futures::stream::iter(
            chunks.map(|c| Ok::<_, Infallible>(Bytes::from_static(c.as_bytes()))),
        );
        let given: Vec<String> = futures::executor::block_on(Lines::new(body).collect::<Vec<_>>())
            .into_iter()
            .map(|line| String::from_utf8(line.unwrap().to_vec()).unwrap())
            .collect();
        assert_eq!(
            given,
            [
                "data: abc\n\n",
                "data: x\r",
                "\n\r\n",
                "data: 1\n",
                "data: 2\n\n",
                "\n\n",
                "tail"
            ]
        );
    }

    #[test]
    fn a_line_or_an_event_over_the_limit_is_an_error_not_held_forever() {
        let fits = "data: 0123456789\n\n";
        assert_eq!(collect(fits.as_bytes(), 4, 18).unwrap().len(), 1);
        let endless = "data: 0123456789abcdef and never a newline";
        assert_eq!(
            collect(endless.as_bytes(), 4, 16),
            Err("an event or line of the stream is longer than 0 MiB".into())
        );
        let many_lines = "data: 0123456789\ndata: 0123456789\n\n";
        assert!(collect(many_lines.as_bytes(), 4, 16).is_err());
        // The count starts again at each event: many events pass, each under the limit.
        let many_events = "data: 0123456789\n\n".repeat(100);
        assert_eq!(collect(many_events.as_bytes(), 18, 18).unwrap().len(), 100);
    }
}
