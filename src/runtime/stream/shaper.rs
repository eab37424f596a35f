//! What sits between a token stream and the wire: the [`Shaper`] trait each operation's event
//! encoder implements, the [`Event`]s it writes, the block bookkeeping shapers share, and the
//! [`Clock`] that times a stream.

use super::delta::Delta;
use std::time::Instant;

/// One event of an operation's stream: its union member name (`chunk`, `contentBlockDelta`, …)
/// and its JSON payload (for `chunk`, the model-native JSON before base64).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: &'static str,
    pub payload: Vec<u8>,
}

impl Event {
    pub fn new(name: &'static str, payload: Vec<u8>) -> Self {
        Self { name, payload }
    }

    pub fn json(name: &'static str, value: &serde_json::Value) -> Self {
        Self::new(name, value.to_string().into_bytes())
    }

    /// A `chunk` whose payload is `head`, then `text` as a JSON string, then `tail`: the per-token
    /// chunk of the families that stream text inside one fixed JSON shape.
    pub fn text_chunk(head: &[&str], text: &str, tail: &str) -> Self {
        let head_len: usize = head.iter().map(|h| h.len()).sum();
        let mut p = Vec::with_capacity(head_len + text.len() + tail.len() + 8);
        for h in head {
            p.extend_from_slice(h.as_bytes());
        }
        push_json_str(&mut p, text);
        p.extend_from_slice(tail.as_bytes());
        Self::new("chunk", p)
    }

    /// An event from a typed payload: no `Value` tree on the stream path.
    pub fn typed(name: &'static str, payload: &impl serde::Serialize) -> Self {
        // Serializing plain structs of strings and numbers into a Vec cannot fail.
        Self::new(name, serde_json::to_vec(payload).unwrap_or_default())
    }
}

/// Latencies reported at the end of a stream, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timing {
    pub invocation_ms: u64,
    pub first_byte_ms: u64,
}

/// Measures [`Timing`] from the request's arrival; pinned to zero in deterministic mode.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    started: Instant,
    first_byte: Option<Instant>,
    pinned: bool,
}

impl Clock {
    pub fn new(started: Instant, pinned: bool) -> Self {
        Self {
            started,
            first_byte: None,
            pinned,
        }
    }

    /// Notes the first content from the model.
    pub fn saw(&mut self, delta: &Delta) {
        if self.first_byte.is_none() && !matches!(delta, Delta::Start { .. }) {
            self.first_byte = Some(Instant::now());
        }
    }

    pub fn timing(&self) -> Timing {
        if self.pinned {
            return Timing::default();
        }
        let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let now = Instant::now();
        Timing {
            invocation_ms: ms(now - self.started),
            first_byte_ms: ms(self.first_byte.unwrap_or(now) - self.started),
        }
    }
}

/// A stateful, per-stream encoder from deltas to one operation's events.
pub trait Shaper: Send {
    /// Appends the events for `delta` to `out`. `timing` is current as of this delta.
    fn on_delta(&mut self, delta: &Delta, timing: &Timing, out: &mut Vec<Event>);
}

/// The kind of content block currently open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    Text,
    Reasoning,
    Tool,
}

/// Block indices as the model emits them: a change of kind (or a new tool call) closes the open
/// block and opens the next index.
#[derive(Debug, Default)]
pub struct Blocks {
    open: Option<(BlockKind, u32)>,
    next: u32,
}

/// What entering a block did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entered {
    /// The block that had to be closed first, if any.
    pub closed: Option<(BlockKind, u32)>,
    /// Whether this delta opened a new block.
    pub opened: bool,
    pub index: u32,
}

impl Blocks {
    /// Routes a delta of `kind` to a block; `fresh` forces a new block (a new tool call).
    pub fn enter(&mut self, kind: BlockKind, fresh: bool) -> Entered {
        if let Some((open, index)) = self.open {
            if open == kind && !fresh {
                return Entered {
                    closed: None,
                    opened: false,
                    index,
                };
            }
        }
        let closed = self.open.take();
        let index = self.next;
        self.next += 1;
        self.open = Some((kind, index));
        Entered {
            closed,
            opened: true,
            index,
        }
    }

    /// Closes the open block at the end of the message.
    pub fn close(&mut self) -> Option<(BlockKind, u32)> {
        self.open.take()
    }

    pub fn current(&self) -> Option<(BlockKind, u32)> {
        self.open
    }
}

/// Appends `s` as a JSON string literal (with quotes) — the per-token hot path avoids building
/// `serde_json::Value` trees.
pub fn push_json_str(out: &mut Vec<u8>, s: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_open_close_and_number_in_order() {
        let mut b = Blocks::default();
        let e = b.enter(BlockKind::Reasoning, false);
        assert_eq!((e.closed, e.opened, e.index), (None, true, 0));
        assert!(!b.enter(BlockKind::Reasoning, false).opened);
        let e = b.enter(BlockKind::Text, false);
        assert_eq!((e.closed, e.index), (Some((BlockKind::Reasoning, 0)), 1));
        let e = b.enter(BlockKind::Tool, true);
        assert_eq!((e.closed, e.index), (Some((BlockKind::Text, 1)), 2));
        let e = b.enter(BlockKind::Tool, true);
        assert_eq!((e.closed, e.index), (Some((BlockKind::Tool, 2)), 3));
        assert_eq!(b.close(), Some((BlockKind::Tool, 3)));
        assert_eq!(b.close(), None);
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut out = Vec::new();
        push_json_str(&mut out, "a \"q\"\n");
        assert_eq!(out, br#""a \"q\"\n""#);
    }
}
