//! Open connections across all serving threads: how many there are (`--max-connections`), which of
//! them are idle, and when each must be closed (`--idle-timeout`, `--header-read-timeout`).
//!
//! A connection is *idle* while no request is in progress on it: an HTTP/1.1 connection between
//! requests (or trickling the headers of its next one), an HTTP/2 connection with no open stream.
//! Only idle time is bounded: a response that streams for minutes keeps its connection busy.

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Every open connection of one server, whatever thread serves it.
#[derive(Debug)]
pub(crate) struct Connections {
    max: usize,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Conn>>>,
}

/// Whether a new connection is served or answered `503` and closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    Serve,
    /// At the cap with no idle connection to close: every request on it gets a
    /// `ServiceUnavailableException`, then it is closed.
    Refuse,
}

impl Connections {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// Registers a new connection. At the cap, the connection idle for longest is asked to close
    /// and the new one is served; when none is idle, the new one is refused.
    pub(crate) fn open(self: &Arc<Self>) -> (Ticket, Admission) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn::new());
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        // Connections already asked to close are on their way out: they do not count.
        let staying = open.values().filter(|c| !c.closing()).count();
        let admission = if staying < self.max || close_oldest_idle(&open, 1) == 1 {
            Admission::Serve
        } else {
            conn.closing.store(true, Ordering::Relaxed);
            Admission::Refuse
        };
        open.insert(id, conn.clone());
        drop(open);
        let ticket = Ticket {
            id,
            conn,
            connections: self.clone(),
        };
        (ticket, admission)
    }

    /// Asks up to `n` of the longest-idle connections to close; how many were asked.
    pub(crate) fn close_idle(&self, n: usize) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        close_oldest_idle(&open, n)
    }

    /// How many connections are open now.
    pub(crate) fn count(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

fn close_oldest_idle(open: &HashMap<u64, Arc<Conn>>, n: usize) -> usize {
    let mut idle: Vec<&Arc<Conn>> = open
        .values()
        .filter(|c| !c.closing() && c.active.load(Ordering::Acquire) == 0)
        .collect();
    idle.sort_by_key(|c| c.idle_since.load(Ordering::Relaxed));
    let chosen = idle.len().min(n);
    for conn in &idle[..chosen] {
        conn.ask_to_close();
    }
    chosen
}

/// A connection's place among the open ones; dropping it (when the connection ends) frees it.
#[derive(Debug)]
pub(crate) struct Ticket {
    id: u64,
    pub(crate) conn: Arc<Conn>,
    connections: Arc<Connections>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.connections
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}

/// One connection's state, shared by its task, its requests and the registry.
#[derive(Debug)]
pub(crate) struct Conn {
    /// Requests in progress (HTTP/2: open streams).
    active: AtomicUsize,
    /// When the connection last became idle (opened, or its last request ended); [`now`] units.
    idle_since: AtomicU64,
    /// When the bytes of a request head started to arrive with no request in progress; 0: none.
    head_since: AtomicU64,
    closing: AtomicBool,
    close: Notify,
}

impl Conn {
    fn new() -> Self {
        let now = now();
        Self {
            active: AtomicUsize::new(0),
            idle_since: AtomicU64::new(now),
            // A new connection owes its first request's headers from the start.
            head_since: AtomicU64::new(now),
            closing: AtomicBool::new(false),
            close: Notify::new(),
        }
    }

    fn closing(&self) -> bool {
        self.closing.load(Ordering::Relaxed)
    }

    /// Asks the connection's task to close it gracefully (after the responses in progress).
    pub(crate) fn ask_to_close(&self) {
        self.closing.store(true, Ordering::Relaxed);
        self.close.notify_one();
    }

    /// Resolves once [`Conn::ask_to_close`] was called.
    pub(crate) async fn close_asked(&self) {
        self.close.notified().await;
    }

    /// No request in progress.
    pub(crate) fn is_idle(&self) -> bool {
        self.active.load(Ordering::Acquire) == 0
    }

    /// A request started; the connection is busy until the returned guard is dropped.
    pub(crate) fn begin(self: &Arc<Self>) -> Active {
        self.active.fetch_add(1, Ordering::AcqRel);
        self.head_since.store(0, Ordering::Relaxed);
        Active(self.clone())
    }

    /// Bytes of a request arrived while no request was in progress: the head has started.
    fn head_bytes_arrived(&self) {
        if self.active.load(Ordering::Acquire) == 0 && self.head_since.load(Ordering::Relaxed) == 0
        {
            self.head_since.store(now(), Ordering::Relaxed);
        }
    }

    /// HTTP/2 heads are frames inside a connection whose idle time is already bounded.
    fn is_http2(&self) {
        self.head_since.store(0, Ordering::Relaxed);
    }

    /// What the connection's timeouts say now: close it, or look again at the returned instant
    /// (`None`: no timeout applies).
    pub(crate) fn check(&self, timeouts: &Timeouts) -> Result<Option<Instant>, Due> {
        let now = now();
        let mut next: Option<u64> = None;
        let mut sooner = |at: u64| next = Some(next.map_or(at, |n| n.min(at)));
        if self.active.load(Ordering::Acquire) > 0 {
            // Busy: nothing is due; look again later, when the request may have ended.
            if let Some(period) = timeouts.idle.or(timeouts.header_read) {
                sooner(now + millis(period));
            }
        } else {
            let head_since = self.head_since.load(Ordering::Relaxed);
            if let (Some(limit), true) = (timeouts.header_read, head_since != 0) {
                let due = head_since + millis(limit);
                if now >= due {
                    return Err(Due::HeaderRead);
                }
                sooner(due);
            }
            if let Some(limit) = timeouts.idle {
                let due = self.idle_since.load(Ordering::Relaxed) + millis(limit);
                if now >= due {
                    return Err(Due::Idle);
                }
                sooner(due);
            }
        }
        Ok(next.map(at))
    }
}

/// Which timeout ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    /// A request's headers did not all arrive in time: the connection is dropped.
    HeaderRead,
    /// Nothing happened for too long: the connection is closed gracefully.
    Idle,
}

/// The connection timeouts; `None` turns one off.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub(crate) header_read: Option<Duration>,
    pub(crate) idle: Option<Duration>,
}

impl Timeouts {
    pub(crate) fn of(config: &crate::config::Config) -> Self {
        Self {
            header_read: config.header_read_timeout,
            idle: config.idle_timeout,
        }
    }
}

/// Keeps its connection busy while alive: held by a request's handler, then by its response body
/// until hyper has sent (or dropped) the last byte.
#[derive(Debug)]
pub(crate) struct Active(Arc<Conn>);

impl Drop for Active {
    fn drop(&mut self) {
        if self.0.active.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle_since.store(now(), Ordering::Relaxed);
        }
    }
}

/// A response body that keeps its connection busy until it is finished.
pub(crate) struct Tracked<B> {
    body: B,
    _active: Active,
}

impl<B> Tracked<B> {
    pub(crate) fn new(body: B, active: Active) -> Self {
        Self {
            body,
            _active: active,
        }
    }
}

impl<B: HttpBody<Data = Bytes> + Unpin> HttpBody for Tracked<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Milliseconds on a process-wide clock, from 1 (0 means "unset" in the atomics above).
fn now() -> u64 {
    let elapsed = epoch().elapsed();
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX) + 1
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn at(ms: u64) -> Instant {
    epoch() + Duration::from_millis(ms.saturating_sub(1))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX / 2)
}

/// Watches a connection's reads for the start of a request head (HTTP/1.1), so that
/// `--header-read-timeout` counts from the first byte of a request, not from the end of the one
/// before: an idle keep-alive connection is `--idle-timeout`'s business.
pub(crate) struct Watched<I> {
    io: I,
    conn: Arc<Conn>,
    /// How many bytes of the HTTP/2 preface's start ("PRI") the connection began with; 3 or more:
    /// HTTP/2; `u8::MAX`: HTTP/1.1.
    preface: u8,
    /// hyper's own refusal of a request head, being written in the AWS shape instead.
    rewrite: Option<Rewrite>,
}

const H2_START: &[u8] = b"PRI";

impl<I> Watched<I> {
    pub(crate) fn new(io: I, conn: Arc<Conn>) -> Self {
        Self {
            io,
            conn,
            preface: 0,
            rewrite: None,
        }
    }

    fn saw(&mut self, bytes: &[u8]) {
        let mut bytes = bytes;
        while usize::from(self.preface) < H2_START.len() {
            let Some((&b, rest)) = bytes.split_first() else {
                break;
            };
            if b == H2_START[usize::from(self.preface)] {
                self.preface += 1;
                if usize::from(self.preface) == H2_START.len() {
                    self.conn.is_http2();
                    return;
                }
            } else {
                self.preface = u8::MAX;
            }
            bytes = rest;
        }
        if self.preface == u8::MAX && !bytes.is_empty() {
            self.conn.head_bytes_arrived();
        }
    }

    pub(crate) fn is_http2(&self) -> bool {
        usize::from(self.preface) == H2_START.len()
    }
}

impl<I: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Watched<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            if !self.is_http2() {
                let new = &buf.filled()[before..];
                // Only the first bytes decide the protocol; after that, whether any arrived.
                let new = if self.preface == u8::MAX {
                    &new[..new.len().min(1)]
                } else {
                    new
                };
                self.saw(new);
            }
        }
        polled
    }
}

impl<I: tokio::io::AsyncWrite + Unpin> Watched<I> {
    /// Writes the AWS-shaped replacement of a bare refusal; `Ready(n)` once all of it is out,
    /// `n` being what hyper handed over.
    fn poll_rewrite(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        let Some(rewrite) = self.rewrite.as_mut() else {
            return Poll::Ready(Ok(0));
        };
        while rewrite.written < rewrite.bytes.len() {
            let n = std::task::ready!(
                Pin::new(&mut self.io).poll_write(cx, &rewrite.bytes[rewrite.written..])
            )?;
            if n == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            rewrite.written += n;
        }
        Poll::Ready(Ok(rewrite.reported))
    }

    fn start_rewrite(&mut self, first: &[u8], total: usize) -> bool {
        if self.preface != u8::MAX || self.rewrite.is_some() {
            return false;
        }
        match super::bare_errors::aws_shaped(first) {
            Some(bytes) => {
                self.rewrite = Some(Rewrite {
                    bytes,
                    written: 0,
                    reported: total,
                });
                true
            }
            None => false,
        }
    }
}

/// An AWS-shaped response written in place of hyper's bare one.
struct Rewrite {
    bytes: Vec<u8>,
    written: usize,
    /// How many of hyper's bytes the replacement stands for.
    reported: usize,
}

impl<I: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Watched<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.rewrite.is_some() || self.start_rewrite(buf, buf.len()) {
            return self.poll_rewrite(cx).map_ok(|n| n.min(buf.len()));
        }
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        let first = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &b[..]);
        if self.rewrite.is_some() || self.start_rewrite(first, total) {
            return self.poll_rewrite(cx).map_ok(|n| n.min(total));
        }
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
