//! The synthetic OpenAI-compatible upstream: `POST /v1/chat/completions` answers with a paced SSE
//! stream, `GET /v1/models` lists one model. It runs on its own thread with its own
//! single-threaded tokio runtime; sockets get `TCP_NODELAY` and every token is its own write.
//!
//! ```text
//! data: {"id":…,"object":"chat.completion.chunk",…,"choices":[{"index":0,"delta":{"role":"assistant","content":""},…}]}   at once
//! data: {…"choices":[{"index":0,"delta":{"content":"~stamp…"},"finish_reason":null}]}   at arrival + first_token + k·gap
//! data: {…"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{…}}          right after the last token
//! data: [DONE]
//! ```
//!
//! Token text carries [`crate::stamp`]s: when it was written, and for the first token when the
//! request arrived.

use crate::pacer::Pacer;
use crate::stamp;
use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use std::convert::Infallible;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The shape of every answer.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// From the request's arrival to the first token.
    pub first_token: Duration,
    /// Tokens per answer (fewer if the request's `max_tokens` says so).
    pub tokens: u32,
    /// Between consecutive tokens.
    pub gap: Duration,
    /// Bytes of text per token (at least the stamps).
    pub token_bytes: usize,
}

/// A running upstream; dropping it stops the thread.
pub struct Upstream {
    addr: SocketAddr,
    requests: Arc<AtomicU64>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

struct Ctx {
    shape: Shape,
    pacer: Pacer,
    requests: Arc<AtomicU64>,
}

impl Upstream {
    /// Binds 127.0.0.1:`port` (0 picks one) and serves until dropped.
    pub fn start(shape: Shape, port: u16) -> crate::Result<Self> {
        let requests = Arc::new(AtomicU64::new(0));
        let ctx = Arc::new(Ctx {
            shape,
            pacer: Pacer::start()?,
            requests: requests.clone(),
        });
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("bench-upstream".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(err) => {
                        let _ = ready_tx.send(Err(err));
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = match listen(port) {
                        Ok(l) => l,
                        Err(err) => {
                            let _ = ready_tx.send(Err(err));
                            return;
                        }
                    };
                    let _ = ready_tx.send(listener.local_addr());
                    tokio::select! {
                        () = accept_loop(listener, ctx) => {}
                        _ = stopped => {}
                    }
                });
            })?;
        let addr = ready_rx
            .recv()
            .map_err(|_| "the upstream thread ended before it listened")??;
        Ok(Self {
            addr,
            requests,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The base URL to give awsim's `--bedrock-backend`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Chat completions answered so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A listener with a deep backlog: 256 clients connect at once.
fn listen(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    socket.listen(4096)
}

async fn accept_loop(listener: tokio::net::TcpListener, ctx: Arc<Ctx>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| serve(req, ctx.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The fields of a chat-completions request the upstream reads.
#[derive(Debug, Default, Deserialize)]
struct Ask {
    max_tokens: Option<u32>,
    max_completion_tokens: Option<u32>,
    stream: Option<bool>,
}

async fn serve(req: Request<Incoming>, ctx: Arc<Ctx>) -> Result<Response<Body>, Infallible> {
    let arrived = Instant::now();
    let path = req.uri().path();
    if req.method() == Method::GET && path.ends_with("/models") {
        return Ok(json(
            StatusCode::OK,
            r#"{"object":"list","data":[{"id":"bench","object":"model","owned_by":"awsim-bench"}]}"#,
        ));
    }
    if req.method() != Method::POST || !path.ends_with("/chat/completions") {
        return Ok(json(
            StatusCode::NOT_FOUND,
            r#"{"error":{"message":"not found","type":"invalid_request_error"}}"#,
        ));
    }
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(json(
                StatusCode::BAD_REQUEST,
                r#"{"error":{"message":"unreadable body"}}"#,
            ))
        }
    };
    let ask: Ask = serde_json::from_slice(&body).unwrap_or_default();
    ctx.requests.fetch_add(1, Ordering::Relaxed);
    let limit = ask
        .max_completion_tokens
        .or(ask.max_tokens)
        .unwrap_or(u32::MAX);
    let answer = Answer {
        ctx: ctx.clone(),
        arrived,
        tokens: ctx.shape.tokens.min(limit),
        next: 0,
        phase: Phase::Role,
    };
    if ask.stream == Some(true) {
        let stream = futures::stream::unfold(answer, |mut a| async move {
            let bytes = a.step().await?;
            Some((Ok::<_, Infallible>(Frame::data(bytes)), a))
        });
        let mut resp = Response::new(StreamBody::new(stream).boxed_unsync());
        let h = resp.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return Ok(resp);
    }
    Ok(json(StatusCode::OK, answer.whole().await))
}

fn json(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut resp = Response::new(Full::new(body.into()).boxed_unsync());
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

enum Phase {
    Role,
    Tokens,
    Done,
}

/// One answer being streamed.
struct Answer {
    ctx: Arc<Ctx>,
    arrived: Instant,
    tokens: u32,
    next: u32,
    phase: Phase,
}

const ID: &str = r#""id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench""#;

impl Answer {
    /// The next write, or `None` after `[DONE]`.
    async fn step(&mut self) -> Option<Bytes> {
        let mut out = String::with_capacity(256);
        match self.phase {
            Phase::Role => {
                self.phase = Phase::Tokens;
                let _ = write!(
                    out,
                    "data: {{{ID},\"choices\":[{{\"index\":0,\"delta\":{{\"role\":\"assistant\",\"content\":\"\"}},\"finish_reason\":null}}]}}\n\n"
                );
            }
            Phase::Tokens if self.next < self.tokens => {
                let text = self.token().await;
                let _ = write!(
                    out,
                    "data: {{{ID},\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{text}\"}},\"finish_reason\":null}}]}}\n\n"
                );
            }
            Phase::Tokens => {
                self.phase = Phase::Done;
                let _ = write!(
                    out,
                    "data: {{{ID},\"choices\":[{{\"index\":0,\"delta\":{{}},\"finish_reason\":\"stop\"}}],\"usage\":{{\"prompt_tokens\":8,\"completion_tokens\":{n},\"total_tokens\":{t}}}}}\n\ndata: [DONE]\n\n",
                    n = self.tokens,
                    t = self.tokens + 8
                );
            }
            Phase::Done => return None,
        }
        Some(Bytes::from(out))
    }

    /// Waits for the next token's instant and returns its stamped text.
    async fn token(&mut self) -> String {
        let shape = &self.ctx.shape;
        let due = self.arrived + shape.first_token + shape.gap * self.next;
        self.ctx.pacer.until(due).await;
        let mut text = String::with_capacity(shape.token_bytes.max(2 * stamp::STAMP_LEN));
        let arrived = (self.next == 0).then(|| stamp::nanos_of(self.arrived));
        stamp::token_text(
            stamp::nanos_of(Instant::now()),
            arrived,
            shape.token_bytes,
            &mut text,
        );
        self.next += 1;
        text
    }

    /// The non-streaming answer (`stream` absent or false), after the whole answer's time.
    async fn whole(mut self) -> String {
        let mut content = String::new();
        while self.next < self.tokens {
            content.push_str(&self.token().await);
        }
        format!(
            "{{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"bench\",\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":\"{content}\"}},\"finish_reason\":\"stop\"}}],\"usage\":{{\"prompt_tokens\":8,\"completion_tokens\":{n},\"total_tokens\":{t}}}}}",
            n = self.tokens,
            t = self.tokens + 8
        )
    }
}
