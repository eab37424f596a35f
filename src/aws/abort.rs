//! Ending a response the way a broken network does (a rule's `disconnect` fault): the response
//! body fails, on which hyper resets an HTTP/2 stream (`RST_STREAM`) or gives up an HTTP/1.1
//! connection — and that connection's socket, closed with `SO_LINGER` 0, sends the client a TCP
//! reset rather than a clean FIN.

use super::http::{full, Aborted, Body};
use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use hyper::Response;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Asks that one HTTP/1.1 connection's socket close with a TCP reset.
#[derive(Debug, Clone, Default)]
pub struct ConnReset(Arc<AtomicBool>);

impl ConnReset {
    pub fn request(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn requested(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// An accepted socket that closes with a TCP reset once a response on it asked for one.
#[derive(Debug)]
pub struct ResettableStream {
    inner: TcpStream,
    reset: ConnReset,
}

impl ResettableStream {
    pub fn new(inner: TcpStream) -> (Self, ConnReset) {
        let reset = ConnReset::default();
        (
            Self {
                inner,
                reset: reset.clone(),
            },
            reset,
        )
    }
}

impl ResettableStream {
    /// The socket itself (to peek at the first byte).
    pub fn tcp(&self) -> &TcpStream {
        &self.inner
    }
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.reset.requested() {
            // A zero linger time never blocks: close() discards what is unsent and sends RST.
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The trigger one response holds: once fired, its body fails at the next poll and, on HTTP/1.1,
/// its connection closes with a reset.
#[derive(Debug, Clone, Default)]
pub struct Abort {
    fired: Arc<AtomicBool>,
    conn: Option<ConnReset>,
}

impl Abort {
    /// `conn` is the connection to reset, for HTTP/1.1 (an HTTP/2 connection carries other
    /// streams: only this one is reset).
    pub fn new(conn: Option<ConnReset>) -> Self {
        Self {
            fired: Arc::default(),
            conn,
        }
    }

    pub fn fire(&self) {
        if let Some(conn) = &self.conn {
            conn.request();
        }
        self.fired.store(true, Ordering::Relaxed);
    }

    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::Relaxed)
    }
}

/// `body`, failing instead of yielding whatever it yields once `abort` has fired.
pub fn abortable(body: Body, abort: Abort) -> Body {
    http_body_util::BodyExt::boxed_unsync(AbortableBody {
        inner: body,
        abort,
        done: false,
    })
}

/// A response that is nothing but an abort: the client gets no status line (HTTP/1.1) or a reset
/// stream (HTTP/2).
pub fn aborted_response(conn: Option<ConnReset>) -> Response<Body> {
    let abort = Abort::new(conn);
    abort.fire();
    Response::new(abortable(full(Bytes::new()), abort))
}

struct AbortableBody {
    inner: Body,
    abort: Abort,
    done: bool,
}

impl hyper::body::Body for AbortableBody {
    type Data = Bytes;
    type Error = Aborted;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Aborted>>> {
        if self.done {
            return Poll::Ready(None);
        }
        if self.abort.fired() {
            self.done = true;
            return Poll::Ready(Some(Err(Aborted)));
        }
        // The stage that fires the abort runs inside this poll; whatever the body then yields is
        // replaced by the failure.
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if self.abort.fired() {
            self.done = true;
            return Poll::Ready(Some(Err(Aborted)));
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.done || (!self.abort.fired() && self.inner.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        // Never an exact length: a body that may fail must not be sent as a complete one.
        SizeHint::default()
    }
}
