//! The invocation log: every runtime call, recorded in a bounded ring for `GET /_awsim/invocations`.
//!
//! A call is entered when it begins (so a running stream shows as in progress), its model and
//! stream format when the answer starts, and its outcome once, when it ends. The per-token work of
//! a stream stays in the stream's own [`record::Tap`]: no lock until the end. The ring keeps at
//! most `--invocation-log` calls and [`RING_BYTES`] of their bodies and events, the oldest
//! dropped first; each call's share is bounded too (see [`record`]).

pub(crate) mod record;
mod shorten;
pub(crate) mod view;

use crate::call::Call;
use crate::operations::RuntimeOp;
use crate::runtime::stream::body::Format;
use bytes::Bytes;
use record::Recording;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

/// The most the whole ring holds of request bodies, answers and events, in bytes.
pub const RING_BYTES: usize = 64 << 20;

/// The log of one awsim: shared by every serving thread.
#[derive(Debug)]
pub struct InvocationLog {
    capacity: usize,
    ring: Mutex<Ring>,
}

impl InvocationLog {
    /// A log of the last `capacity` calls; 0 records nothing.
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            capacity,
            ring: Mutex::new(Ring::default()),
        })
    }

    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Enters a call; the [`Recording`] completes it.
    pub fn begin(self: &Arc<Self>, op: RuntimeOp, call: &Call) -> Recording {
        if !self.enabled() {
            return Recording::off();
        }
        let (request, request_note) = shorten::request_body(&call.body);
        let head = Arc::new(Head {
            request_id: call.ctx.request_id.clone(),
            time: SystemTime::now(),
            operation: op,
            model_id: call.param(0).to_string(),
            region: call.ctx.region.clone(),
            request,
            request_note,
        });
        let (seq, dropped) = self.lock().enter(head, self.capacity);
        drop(dropped);
        Recording::new(self.clone(), seq, call.arrived)
    }

    /// Calls in the log now.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Forgets every call; returns how many there were.
    pub fn clear(&self) -> usize {
        let dropped = {
            let mut ring = self.lock();
            ring.bytes = 0;
            std::mem::take(&mut ring.entries)
        };
        dropped.len()
    }

    /// The calls numbered `since` or later that pass `keep`, newest first, at most `limit` of them,
    /// and the log's [`Bounds`] at that moment (a reader that polls asks from where it stopped).
    pub(crate) fn snapshot_since(
        &self,
        since: u64,
        limit: usize,
        keep: impl Fn(&Snapshot) -> bool,
    ) -> (Vec<Snapshot>, Bounds) {
        let ring = self.lock();
        let bounds = Bounds {
            oldest: ring.entries.front().map_or(ring.next_seq, |e| e.seq),
            next: ring.next_seq,
        };
        let calls = ring
            .entries
            .iter()
            .rev()
            .take_while(|e| e.seq >= since)
            .map(Entry::snapshot)
            .filter(|s| keep(s))
            .take(limit)
            .collect();
        (calls, bounds)
    }

    /// The newest call with this request id.
    pub(crate) fn find(&self, request_id: &str) -> Option<Snapshot> {
        let ring = self.lock();
        ring.entries
            .iter()
            .rev()
            .find(|e| e.head.request_id == request_id)
            .map(Entry::snapshot)
    }

    fn lock(&self) -> MutexGuard<'_, Ring> {
        // The ring is consistent between statements: a panic elsewhere leaves nothing half-done.
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Publishes what a call knows now: `meta` always, `outcome` once it has ended.
    fn publish(&self, seq: u64, meta: &Meta, outcome: Option<Outcome>) {
        let dropped = self.lock().publish(seq, meta, outcome);
        drop(dropped);
    }
}

/// What a call asked, fixed when it begins.
#[derive(Debug)]
pub(crate) struct Head {
    pub request_id: String,
    pub time: SystemTime,
    pub operation: RuntimeOp,
    /// The model id as sent (the path's label, decoded).
    pub model_id: String,
    pub region: String,
    /// The request body, or its shortened form (see `request_note`).
    pub request: Bytes,
    pub request_note: Option<String>,
}

/// What a call learns as it goes: published when the answer starts and when it ends.
#[derive(Debug, Clone, Default)]
pub(crate) struct Meta {
    pub resolved: Option<String>,
    pub backend_model: Option<String>,
    /// The id of the rule that decided the answer (or the quota rule that refused the call).
    pub rule: Option<String>,
    /// Why a quota refused the call: which limit, for which model and region.
    pub reason: Option<String>,
    /// The HTTP status sent, once the response has started.
    pub status: Option<u16>,
    /// The body format of a streaming answer.
    pub format: Option<Format>,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The answer (or error) was written whole.
    Complete,
    /// The client went away before the answer was written whole.
    Disconnected,
    /// awsim cut the connection (a rule's `disconnect` fault).
    Aborted,
}

/// A call's answer as far as it was recorded; see [`record`] for what each field holds.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub end: End,
    /// `(code, message)`: the HTTP error, or the exception that ended a stream.
    pub error: Option<(&'static str, String)>,
    pub answer: Option<record::Summary>,
    pub frames: u32,
    pub first_token_us: Option<u32>,
    pub total_us: u32,
    pub events: record::Events,
    /// The guardrail's action and trace (JSON), when the call had a guardrail.
    pub guardrail: Option<Bytes>,
}

impl Outcome {
    fn bytes(&self) -> usize {
        self.answer.as_ref().map_or(0, record::Summary::bytes)
            + self.events.bytes()
            + self.guardrail.as_ref().map_or(0, Bytes::len)
    }
}

/// Where the log's numbering stands: every call gets the next sequence number as it begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    /// The oldest call still kept (`next` when none is).
    pub oldest: u64,
    /// The number the next call will get.
    pub next: u64,
}

/// One call, as read out of the ring.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    /// Its sequence number: calls are numbered as they begin, from 0 when awsim starts.
    pub seq: u64,
    pub head: Arc<Head>,
    pub meta: Meta,
    pub outcome: Option<Arc<Outcome>>,
}

#[derive(Debug)]
struct Entry {
    seq: u64,
    head: Arc<Head>,
    meta: Meta,
    outcome: Option<Arc<Outcome>>,
    /// What this entry counts against [`RING_BYTES`].
    bytes: usize,
}

impl Entry {
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            seq: self.seq,
            head: self.head.clone(),
            meta: self.meta.clone(),
            outcome: self.outcome.clone(),
        }
    }
}

/// Entries in the order their calls began; their sequence numbers are consecutive, so a call
/// finds its own entry by arithmetic. Entries dropped from the ring are handed back, to be freed
/// after the lock is released.
#[derive(Debug, Default)]
struct Ring {
    entries: VecDeque<Entry>,
    next_seq: u64,
    bytes: usize,
}

/// Entries that left the ring, freed by whoever took them out, outside the lock.
type Dropped = Vec<Entry>;

impl Ring {
    fn enter(&mut self, head: Arc<Head>, capacity: usize) -> (u64, Dropped) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let bytes = head.request.len();
        self.entries.push_back(Entry {
            seq,
            head,
            meta: Meta::default(),
            outcome: None,
            bytes,
        });
        self.bytes += bytes;
        let mut dropped = Dropped::new();
        while self.entries.len() > capacity {
            self.drop_oldest(&mut dropped);
        }
        self.trim(&mut dropped);
        (seq, dropped)
    }

    fn publish(&mut self, seq: u64, meta: &Meta, outcome: Option<Outcome>) -> Dropped {
        let mut dropped = Dropped::new();
        let Some(front) = self.entries.front().map(|e| e.seq) else {
            return dropped;
        };
        // Gone when the ring moved past it or was cleared: the call is simply not kept.
        let Some(entry) = seq
            .checked_sub(front)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.entries.get_mut(i))
        else {
            return dropped;
        };
        entry.meta.clone_from(meta);
        if let Some(outcome) = outcome {
            let added = outcome.bytes();
            entry.outcome = Some(Arc::new(outcome));
            entry.bytes += added;
            self.bytes += added;
            self.trim(&mut dropped);
        }
        dropped
    }

    /// Drops the oldest calls while the ring holds more than its byte budget (keeping the newest).
    fn trim(&mut self, dropped: &mut Dropped) {
        while self.bytes > RING_BYTES && self.entries.len() > 1 {
            self.drop_oldest(dropped);
        }
    }

    fn drop_oldest(&mut self, dropped: &mut Dropped) {
        if let Some(old) = self.entries.pop_front() {
            self.bytes -= old.bytes;
            dropped.push(old);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::record::{Events, Summary};
    use super::*;
    use crate::aws::ApiError;
    use crate::runtime::stream::delta::{Delta, Stop, StopReason, Usage};
    use std::time::Instant;

    fn head(id: &str) -> Arc<Head> {
        Arc::new(Head {
            request_id: id.into(),
            time: SystemTime::now(),
            operation: RuntimeOp::ConverseStream,
            model_id: "m".into(),
            region: "us-east-1".into(),
            request: Bytes::from_static(b"{}"),
            request_note: None,
        })
    }

    fn begin(log: &Arc<InvocationLog>, id: &str) -> Recording {
        let (seq, _) = log.lock().enter(head(id), log.capacity);
        Recording::new(log.clone(), seq, Instant::now())
    }

    fn ids(log: &InvocationLog) -> Vec<String> {
        log.snapshot_since(0, usize::MAX, |_| true)
            .0
            .iter()
            .map(|s| s.head.request_id.clone())
            .collect()
    }

    fn outcome(events: usize, each: usize) -> Outcome {
        Outcome {
            end: End::Complete,
            error: None,
            answer: Some(Summary::default()),
            frames: 0,
            first_token_us: None,
            total_us: 0,
            events: {
                let mut e = Events::default();
                for i in 0..events {
                    e.push(u32::try_from(i).unwrap(), &Bytes::from(vec![b'x'; each]));
                }
                e
            },
            guardrail: None,
        }
    }

    #[test]
    fn a_poller_reads_only_the_calls_since_its_cursor() {
        let log = InvocationLog::new(3);
        let (calls, bounds) = log.snapshot_since(0, usize::MAX, |_| true);
        assert!(calls.is_empty());
        assert_eq!(bounds, Bounds { oldest: 0, next: 0 });
        for id in ["a", "b", "c", "d"] {
            drop(begin(&log, id));
        }
        let (calls, bounds) = log.snapshot_since(2, usize::MAX, |_| true);
        let seen: Vec<(u64, &str)> = calls
            .iter()
            .map(|c| (c.seq, c.head.request_id.as_str()))
            .collect();
        assert_eq!(seen, [(3, "d"), (2, "c")]);
        // "a" left the ring (it keeps 3).
        assert_eq!(bounds, Bounds { oldest: 1, next: 4 });
        log.clear();
        let (calls, bounds) = log.snapshot_since(4, usize::MAX, |_| true);
        assert!(calls.is_empty());
        assert_eq!(bounds, Bounds { oldest: 4, next: 4 });
    }

    #[test]
    fn the_ring_keeps_the_newest_calls_and_a_call_that_fell_out_is_not_kept() {
        let log = InvocationLog::new(2);
        let mut first = begin(&log, "a");
        let _second = begin(&log, "b");
        let _third = begin(&log, "c");
        assert_eq!(ids(&log), ["c", "b"]);
        first.failed(&ApiError::validation("late"));
        assert_eq!(ids(&log), ["c", "b"], "a call that fell out stays out");
    }

    #[test]
    fn a_call_that_ends_after_a_clear_is_not_kept() {
        let log = InvocationLog::new(10);
        let mut rec = begin(&log, "a");
        assert_eq!(log.clear(), 1);
        assert_eq!(log.lock().bytes, 0);
        rec.failed(&ApiError::validation("x"));
        let b = begin(&log, "b");
        assert_eq!(ids(&log), ["b"]);
        assert!(log.find("b").unwrap().outcome.is_none(), "in progress");
        drop(b);
        let b = log.find("b").unwrap().outcome.unwrap();
        assert_eq!(b.end, End::Disconnected, "dropped before an answer");
    }

    #[test]
    fn the_ring_drops_the_oldest_calls_past_its_byte_budget() {
        let log = InvocationLog::new(1000);
        let per_call = RING_BYTES / 4;
        for i in 0..6 {
            let (seq, _) = log.lock().enter(head(&i.to_string()), 1000);
            log.publish(seq, &Meta::default(), Some(outcome(1, per_call)));
        }
        let kept = ids(&log);
        assert!(kept.len() < 6 && kept[0] == "5", "{kept:?}");
        assert!(log.lock().bytes <= RING_BYTES);
    }

    #[test]
    fn a_stream_is_published_once_it_ends_or_is_dropped() {
        let log = InvocationLog::new(10);
        let mut rec = begin(&log, "s");
        let mut tap = rec
            .streaming(crate::runtime::stream::body::Format::EventStream, None)
            .unwrap();
        let running = log.find("s").unwrap();
        assert!(running.outcome.is_none());
        assert_eq!(running.meta.status, Some(200));
        tap.delta(&Delta::Start { input_tokens: 3 });
        tap.wrote(&Bytes::from_static(b"start"), 1);
        tap.delta(&Delta::Text("Hi".into()));
        tap.wrote(&Bytes::from_static(b"hi"), 2);
        tap.delta(&Delta::Stop(Stop {
            reason: StopReason::EndTurn,
            usage: Usage {
                input_tokens: 3,
                output_tokens: 1,
            },
        }));
        tap.wrote(&Bytes::from_static(b"stop"), 4);
        tap.ended();
        drop(tap);
        let done = log.find("s").unwrap();
        let outcome = done.outcome.unwrap();
        assert_eq!(
            outcome.end,
            End::Complete,
            "dropping after the end changes nothing"
        );
        assert_eq!(outcome.frames, 4);
        assert_eq!(outcome.events.kept.len(), 3);
        let answer = outcome.answer.as_ref().unwrap();
        assert_eq!(answer.text, "Hi");
        assert_eq!(answer.stop_reason, Some("end_turn"));
        assert_eq!(outcome.first_token_us, Some(outcome.events.kept[1].0));

        let mut rec = begin(&log, "gone");
        let mut tap = rec
            .streaming(crate::runtime::stream::body::Format::JsonArray, None)
            .unwrap();
        tap.delta(&Delta::Text("Hel".into()));
        tap.wrote(&Bytes::from_static(b"[..."), 1);
        drop(tap);
        let gone = log.find("gone").unwrap().outcome.unwrap();
        assert_eq!(gone.end, End::Disconnected);
        assert_eq!(gone.answer.as_ref().unwrap().text, "Hel");
    }

    #[test]
    fn a_stream_a_rule_cut_is_aborted_without_what_the_writer_made_after_the_cut() {
        let log = InvocationLog::new(10);
        let abort = crate::aws::abort::Abort::new(None);
        let mut rec = begin(&log, "cut");
        let mut tap = rec
            .streaming(
                crate::runtime::stream::body::Format::EventStream,
                Some(&abort),
            )
            .unwrap();
        tap.delta(&Delta::Text("Hel".into()));
        tap.wrote(&Bytes::from_static(b"hel"), 1);
        abort.fire();
        // The writer sees the stream end without a stop, and writes a truncation no one gets.
        tap.exception(&ApiError::InternalServer("truncated".into()));
        tap.wrote(&Bytes::from_static(b"exception"), 2);
        tap.ended();
        let cut = log.find("cut").unwrap().outcome.unwrap();
        assert_eq!(cut.end, End::Aborted);
        assert_eq!(cut.error, None);
        assert_eq!(cut.events.kept.len(), 1);
        assert_eq!(cut.answer.as_ref().unwrap().text, "Hel");
    }

    #[test]
    fn a_call_keeps_its_first_writes_and_its_last() {
        let o = outcome(record::MAX_EVENTS + 3, 1);
        assert_eq!(o.events.kept.len(), record::MAX_EVENTS);
        assert_eq!(o.events.omitted, 2);
        let last = o.events.iter().last().unwrap().0;
        assert_eq!(last, u32::try_from(record::MAX_EVENTS + 2).unwrap());
        let big = outcome(3, record::EVENT_BYTES / 2);
        assert_eq!(big.events.kept.len(), 2, "then the byte limit");
        assert!(big.events.last.is_some());
    }

    #[test]
    fn an_answer_is_kept_up_to_its_limit() {
        let mut s = Summary::default();
        let token = "x".repeat(1000);
        for _ in 0..100 {
            s.push(&Delta::Text(token.as_str().into()));
        }
        assert!(s.shortened);
        assert!(s.text.len() <= record::ANSWER_BYTES);
    }
}
