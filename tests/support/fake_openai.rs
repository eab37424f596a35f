//! A scripted fake OpenAI-compatible upstream on 127.0.0.1:0, written on raw TCP so every byte,
//! delay, cut and disconnect is under the test's control.
//!
//! A handler maps each recorded request to a [`Reply`]: an SSE script (chunks, delays, `[DONE]`, a
//! mid-stream cut, a hold that waits for the client to leave), an HTTP error, a JSON body, or no
//! answer at all. Connections are kept alive (chunked bodies) so pooling shows in
//! [`FakeOpenAi::connections`]; a client that closes its connection mid-answer is counted in
//! [`FakeOpenAi::disconnects`]. [`FakeOpenAi::start_tls`] serves the same over TLS.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The path, e.g. `/v1/chat/completions`.
    pub path: String,
    /// Header names lowercased.
    pub headers: HashMap<String, String>,
    /// The body as JSON (`Null` when empty or not JSON).
    pub body: Value,
}

/// What to answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 `text/event-stream`, chunked, one write per step.
    Sse(Vec<Step>),
    /// An error status with this body.
    Status(u16, String),
    /// 200 with a JSON body.
    Json(Value),
    /// 200 with a JSON body of `len` bytes (an embedding of that size), written piece by piece so
    /// the fake never holds it whole; its length announced in `content-length`, or not (chunked).
    /// A client that stops reading and hangs up is counted in [`FakeOpenAi::disconnects`].
    Huge { len: usize, announced: bool },
    /// Read the request, never answer.
    Hang,
    /// Read the request, close the connection without a word (a kept-alive connection the server
    /// dropped just as the client reused it).
    Close,
}

#[derive(Debug, Clone)]
pub enum Step {
    /// `data: {json}\n\n`
    Data(Value),
    /// Bytes as they are (for odd framings).
    Raw(String),
    /// Bytes as they are, not necessarily UTF-8 on their own (a piece of a recorded stream cut
    /// anywhere, even inside a character).
    Bytes(Vec<u8>),
    /// `data: [DONE]\n\n`
    Done,
    Delay(Duration),
    /// Close the connection now, with no chunked terminator: a truncated answer.
    Cut,
    /// Stay silent until the client goes away.
    Hold,
}

type Handler = dyn Fn(&Recorded) -> Reply + Send + Sync;

struct State {
    handler: Box<Handler>,
    requests: Mutex<Vec<Recorded>>,
    connections: AtomicUsize,
    disconnects: AtomicUsize,
    changed: Notify,
}

/// A running fake; dropping it stops accepting.
pub struct FakeOpenAi {
    /// The base URL to configure as the backend (ends in `/v1`).
    pub url: String,
    pub addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeOpenAi {
    pub async fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        Self::listen(handler, None, "127.0.0.1").await
    }

    /// The same over TLS with `tls`'s certificate; the URL names the upstream `host` (which the
    /// client must resolve to 127.0.0.1, or reach through a proxy that does).
    pub async fn start_tls(
        handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
        tls: tokio_rustls::TlsAcceptor,
        host: &str,
    ) -> Self {
        Self::listen(handler, Some(tls), host).await
    }

    async fn listen(
        handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
        tls: Option<tokio_rustls::TlsAcceptor>,
        host: &str,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            handler: Box::new(handler),
            requests: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            disconnects: AtomicUsize::new(0),
            changed: Notify::new(),
        });
        let accept_state = state.clone();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                socket.set_nodelay(true).ok();
                let state = accept_state.clone();
                match &tls {
                    None => {
                        state.connections.fetch_add(1, Ordering::SeqCst);
                        tokio::spawn(serve(socket, state));
                    }
                    Some(tls) => {
                        let tls = tls.clone();
                        tokio::spawn(async move {
                            // A client that refuses the certificate ends here.
                            if let Ok(stream) = tls.accept(socket).await {
                                state.connections.fetch_add(1, Ordering::SeqCst);
                                serve(stream, state).await;
                            }
                        });
                    }
                }
            }
        });
        Self {
            url: format!("{scheme}://{host}:{}/v1", addr.port()),
            addr,
            state,
            task,
        }
    }

    /// Every chat request answered with the same script.
    pub async fn always(reply: Reply) -> Self {
        Self::start(move |_| reply.clone()).await
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The body of the last request.
    pub fn last_body(&self) -> Value {
        self.requests()
            .last()
            .expect("no request reached the fake")
            .body
            .clone()
    }

    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Requests the client abandoned before their answer was complete (or had begun).
    pub fn disconnects(&self) -> usize {
        self.state.disconnects.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` answers were abandoned; false after `within`.
    pub async fn wait_disconnects(&self, n: usize, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.state.changed.notified();
            if self.disconnects() >= n {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.disconnects() >= n;
            }
        }
    }
}

async fn serve(socket: impl AsyncRead + AsyncWrite + Send, state: Arc<State>) {
    let (read, mut write) = tokio::io::split(socket);
    let mut reader = BufReader::new(read);
    while let Some(request) = read_request(&mut reader).await {
        state.requests.lock().unwrap().push(request.clone());
        state.changed.notify_waiters();
        let keep = match (state.handler)(&request) {
            Reply::Status(code, body) => respond(&mut write, code, "application/json", &body).await,
            Reply::Json(v) => respond(&mut write, 200, "application/json", &v.to_string()).await,
            Reply::Huge { len, announced } => {
                let sent = huge(&mut write, len, announced).await;
                if !sent {
                    state.disconnects.fetch_add(1, Ordering::SeqCst);
                    state.changed.notify_waiters();
                }
                sent
            }
            Reply::Close => false,
            Reply::Hang => {
                watch_close(&mut reader).await;
                state.disconnects.fetch_add(1, Ordering::SeqCst);
                state.changed.notify_waiters();
                false
            }
            Reply::Sse(steps) => {
                let outcome = tokio::select! {
                    outcome = play(&mut write, &steps) => outcome,
                    () = watch_close(&mut reader) => Outcome::ClientLeft,
                };
                if outcome == Outcome::ClientLeft {
                    state.disconnects.fetch_add(1, Ordering::SeqCst);
                    state.changed.notify_waiters();
                }
                outcome == Outcome::Complete
            }
        };
        if !keep {
            break;
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Complete,
    Cut,
    ClientLeft,
}

async fn play(write: &mut (impl AsyncWrite + Unpin), steps: &[Step]) -> Outcome {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n";
    if write.write_all(head.as_bytes()).await.is_err() || write.flush().await.is_err() {
        return Outcome::ClientLeft;
    }
    for step in steps {
        let bytes = match step {
            Step::Data(v) => format!("data: {v}\n\n").into_bytes(),
            Step::Raw(s) => s.clone().into_bytes(),
            Step::Bytes(b) => b.clone(),
            Step::Done => b"data: [DONE]\n\n".to_vec(),
            Step::Delay(d) => {
                tokio::time::sleep(*d).await;
                continue;
            }
            Step::Cut => {
                write.shutdown().await.ok();
                return Outcome::Cut;
            }
            Step::Hold => std::future::pending().await,
        };
        // One HTTP chunk per step, so the client reads the pieces as they were cut.
        let mut chunk = format!("{:x}\r\n", bytes.len()).into_bytes();
        chunk.extend_from_slice(&bytes);
        chunk.extend_from_slice(b"\r\n");
        // Flushed each time: over TLS a write may otherwise wait in the session's buffer.
        if write.write_all(&chunk).await.is_err() || write.flush().await.is_err() {
            return Outcome::ClientLeft;
        }
    }
    if write.write_all(b"0\r\n\r\n").await.is_err() || write.flush().await.is_err() {
        return Outcome::ClientLeft;
    }
    Outcome::Complete
}

/// Resolves when the client closes its side (EOF or reset); a pipelined byte is left unread.
async fn watch_close(reader: &mut BufReader<impl AsyncRead + Unpin>) {
    match reader.fill_buf().await {
        Ok([]) | Err(_) => {}
        Ok(_) => std::future::pending().await,
    }
}

async fn respond(write: &mut (impl AsyncWrite + Unpin), code: u16, kind: &str, body: &str) -> bool {
    let head = format!(
        "HTTP/1.1 {code} Fake\r\ncontent-type: {kind}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    write.write_all(head.as_bytes()).await.is_ok()
        && write.write_all(body.as_bytes()).await.is_ok()
        && write.flush().await.is_ok()
}

/// `{"data":[{"embedding":[0.5,0.5,…]}]}` of exactly `len` bytes; false when the client hung up
/// before it was all written.
async fn huge(write: &mut (impl AsyncWrite + Unpin), len: usize, announced: bool) -> bool {
    const OPEN: &[u8] = br#"{"data":[{"embedding":["#;
    const CLOSE: &[u8] = br#"0.5]}]}"#;
    const PIECE: usize = 64 * 1024;
    let framing = if announced {
        format!("content-length: {len}")
    } else {
        "transfer-encoding: chunked".to_string()
    };
    let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{framing}\r\n\r\n");
    if write.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    let frame = |bytes: &[u8]| {
        if announced {
            return bytes.to_vec();
        }
        let mut chunk = format!("{:x}\r\n", bytes.len()).into_bytes();
        chunk.extend_from_slice(bytes);
        chunk.extend_from_slice(b"\r\n");
        chunk
    };
    if write.write_all(&frame(OPEN)).await.is_err() {
        return false;
    }
    let numbers = b"0.5,".repeat(PIECE / 4);
    let mut padding = len - OPEN.len() - CLOSE.len();
    while padding > 0 {
        // Whole "0.5," groups, then spaces (JSON whitespace) for the rest.
        let n = padding.min(PIECE);
        let mut piece = numbers[..n - n % 4].to_vec();
        piece.resize(n, b' ');
        padding -= n;
        if write.write_all(&frame(&piece)).await.is_err() {
            return false;
        }
    }
    let mut end = frame(CLOSE);
    if !announced {
        end.extend_from_slice(b"0\r\n\r\n");
    }
    write.write_all(&end).await.is_ok() && write.flush().await.is_ok()
}

async fn read_request(reader: &mut BufReader<impl AsyncRead + Unpin>) -> Option<Recorded> {
    let mut line = String::new();
    if reader.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).await.ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).await.ok()?;
    Some(Recorded {
        method,
        path,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    })
}

// ----- chunk builders: what real servers send --------------------------------------------------

fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    })
}

/// The first chunk: the role and an empty content.
pub fn role() -> Step {
    Step::Data(chunk(json!({"role": "assistant", "content": ""}), None))
}

pub fn text(t: &str) -> Step {
    Step::Data(chunk(json!({"content": t}), None))
}

pub fn reasoning(t: &str) -> Step {
    Step::Data(chunk(json!({"reasoning_content": t}), None))
}

/// A tool-call fragment; the first of a call carries its id and name.
pub fn tool(index: u32, id_and_name: Option<(&str, &str)>, args: &str) -> Step {
    let mut call = json!({"index": index, "function": {"arguments": args}});
    if let Some((id, name)) = id_and_name {
        call["id"] = json!(id);
        call["type"] = json!("function");
        call["function"]["name"] = json!(name);
    }
    Step::Data(chunk(json!({"tool_calls": [call]}), None))
}

pub fn finish(reason: &str) -> Step {
    Step::Data(chunk(json!({}), Some(reason)))
}

/// The `include_usage` chunk: no choices, the counts.
pub fn usage(prompt: u32, completion: u32) -> Step {
    Step::Data(json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "choices": [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    }))
}

/// A whole answer the way llama.cpp and OpenAI stream it.
pub fn answer(tokens: &[&str], reason: &str, prompt: u32) -> Vec<Step> {
    let mut steps = vec![role()];
    steps.extend(tokens.iter().map(|t| text(t)));
    steps.push(finish(reason));
    steps.push(usage(prompt, tokens.len() as u32));
    steps.push(Step::Done);
    steps
}

/// The same answer with a pause before every token.
pub fn paced(tokens: &[&str], gap: Duration) -> Vec<Step> {
    let mut steps = vec![role()];
    for t in tokens {
        steps.push(Step::Delay(gap));
        steps.push(text(t));
    }
    steps.extend([finish("stop"), usage(5, tokens.len() as u32), Step::Done]);
    steps
}

/// A recorded stream replayed verbatim, one write per piece: `cuts` are the byte offsets where one
/// write ends and the next begins (anywhere: inside a line, inside a UTF-8 character).
pub fn replay(sse: &[u8], cuts: &[usize]) -> Vec<Step> {
    let mut steps = Vec::with_capacity(cuts.len() + 1);
    let mut from = 0;
    for &cut in cuts.iter().chain([&sse.len()]) {
        let cut = cut.clamp(from, sse.len());
        if cut > from {
            steps.push(Step::Bytes(sse[from..cut].to_vec()));
        }
        from = cut;
    }
    steps
}

/// Where each event of a recorded stream ends (after its blank line, LF or CRLF): the cuts of a
/// server that flushes once per event.
pub fn event_ends(sse: &[u8]) -> Vec<usize> {
    (1..sse.len())
        .filter(|&i| sse[i] == b'\n' && (sse[i - 1] == b'\n' || sse[..i].ends_with(b"\r\n\r")))
        .map(|i| i + 1)
        .collect()
}

/// An `/embeddings` answer: vector `i` is `[i + 1, 1, 1, …]` (unnormalized on purpose; its first
/// component grows with `i`, normalized or not), listed in reverse order to test reordering.
pub fn embeddings(inputs: usize, dim: usize) -> Value {
    let data: Vec<Value> = (0..inputs)
        .rev()
        .map(|i| {
            let mut v = vec![1.0_f32; dim];
            v[0] = (i + 1) as f32;
            json!({"object": "embedding", "index": i, "embedding": v})
        })
        .collect();
    json!({"object": "list", "data": data, "model": "fake-embed", "usage": {"prompt_tokens": 3 * inputs, "total_tokens": 3 * inputs}})
}

/// A handler for the usual routes: chat answers with `steps`, embeddings with `dim`-sized vectors,
/// `/models` lists `fake-chat` and `fake-embed`.
pub fn routes(steps: Vec<Step>, dim: usize) -> impl Fn(&Recorded) -> Reply + Send + Sync {
    move |req| match req.path.as_str() {
        "/v1/chat/completions" => Reply::Sse(steps.clone()),
        "/v1/embeddings" => {
            let n = req.body["input"].as_array().map_or(1, Vec::len);
            Reply::Json(embeddings(n, dim))
        }
        "/v1/models" => Reply::Json(
            json!({"object": "list", "data": [{"id": "fake-chat"}, {"id": "fake-embed"}]}),
        ),
        other => Reply::Status(
            404,
            json!({"error": format!("no route {other}")}).to_string(),
        ),
    }
}
