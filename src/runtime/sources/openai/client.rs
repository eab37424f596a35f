//! The backend's HTTP/1.1 client: hyper's connection API under a small pool, one per serving
//! thread, with the few things a local backend needs — TCP_NODELAY, a connect timeout, a bearer
//! key, and one resend when a kept-alive connection turns out to be closed.
//!
//! Every request goes to one host (the `--bedrock-backend` URL), so the pool is a stack of idle
//! connections, not a map: hyper-util's pooled client hashes its key, builds its checkout and
//! connect futures and formats the Host header on every request, and reqwest, which wraps that
//! client, parses URLs besides (`benches/README.md`).

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;

pub type Response = hyper::Response<Body>;

/// A connection kept open this long without a request is closed instead of reused: servers close
/// idle keep-alive connections on their own timers, and an old one is likelier to be half-closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

#[derive(Debug, Clone)]
pub struct Client {
    pool: Arc<Pool>,
}

#[derive(Debug)]
struct Pool {
    /// Idle connections, the most recently used last: taking from the back reuses the warmest and
    /// lets the others reach the idle timeout at the front when fewer are needed. Expired ones are
    /// closed when a connection comes back (no timer task: an idle awsim keeps them open until then).
    idle: Mutex<VecDeque<Idle>>,
    connect_timeout: Duration,
    /// `Bearer {--bedrock-api-key}`, built once.
    authorization: Option<HeaderValue>,
}

#[derive(Debug)]
struct Idle {
    sender: SendRequest<Full<Bytes>>,
    since: Instant,
}

/// Why a request got no response.
#[derive(Debug)]
pub enum Error {
    /// The TCP connection could not be made.
    Connect(std::io::Error),
    /// The TCP connection was not made within the connect timeout.
    ConnectTimeout(Duration),
    /// HTTP failed on the connection.
    Http(hyper::Error),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Connect(_) => f.write_str("cannot connect"),
            Self::ConnectTimeout(after) => {
                write!(f, "no connection within {}s", after.as_secs_f64())
            }
            Self::Http(_) => f.write_str("the HTTP exchange failed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Connect(err) => Some(err),
            Self::Http(err) => Some(err),
            Self::ConnectTimeout(_) => None,
        }
    }
}

impl Error {
    /// No connection was made: nothing listens, or not in time.
    pub fn is_connect(&self) -> bool {
        matches!(self, Self::Connect(_) | Self::ConnectTimeout(_))
    }

    /// Whether the connection could not be made in time (the connect timeout), not refused.
    pub fn is_connect_timeout(&self) -> bool {
        matches!(self, Self::ConnectTimeout(_))
    }

    /// The connection closed after the request went out and before any response head came back,
    /// or before the request could be written.
    fn closed_unanswered(&self) -> bool {
        matches!(self, Self::Http(e) if e.is_incomplete_message() || e.is_canceled())
    }
}

impl Client {
    pub fn new(connect_timeout: Duration, api_key: Option<&str>) -> Self {
        let authorization = api_key.and_then(|key| {
            HeaderValue::from_str(&format!("Bearer {key}"))
                .map(|mut v| {
                    v.set_sensitive(true);
                    v
                })
                .ok()
        });
        Self {
            pool: Arc::new(Pool {
                idle: Mutex::new(VecDeque::new()),
                connect_timeout,
                authorization,
            }),
        }
    }

    /// Sends a request, once more on a fresh connection if a pooled one turns out to be closed.
    ///
    /// Servers such as llama.cpp's close a keep-alive connection right after a streamed answer; when
    /// the next request is written before that close is seen, it fails with no answer at all.
    /// Nothing was generated, so sending it again is safe — and a real failure fails the second
    /// time too.
    pub async fn send(
        &self,
        method: Method,
        to: &Endpoint,
        accept: &'static str,
        body: Option<Bytes>,
    ) -> Result<Response, Error> {
        match self.send_once(&method, to, accept, &body, true).await {
            Err(err) if err.closed_unanswered() => {
                tracing::debug!(%err, "backend closed a pooled connection; sending again");
                self.send_once(&method, to, accept, &body, false).await
            }
            other => other,
        }
    }

    async fn send_once(
        &self,
        method: &Method,
        to: &Endpoint,
        accept: &'static str,
        body: &Option<Bytes>,
        reuse: bool,
    ) -> Result<Response, Error> {
        let request = self.build(method, to, accept, body);
        let pooled = if reuse { self.pool.take().await } else { None };
        let mut sender = match pooled {
            Some(sender) => sender,
            None => self.pool.connect(to).await?,
        };
        let response = sender.send_request(request).await.map_err(Error::Http)?;
        let pool = Arc::clone(&self.pool);
        Ok(response.map(|incoming| Body {
            incoming,
            lease: Some(Lease { sender, pool }),
        }))
    }

    fn build(
        &self,
        method: &Method,
        to: &Endpoint,
        accept: &'static str,
        body: &Option<Bytes>,
    ) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(body.clone().unwrap_or_default()));
        *request.method_mut() = method.clone();
        *request.uri_mut() = to.path.clone();
        let headers = request.headers_mut();
        headers.insert(HOST, to.host_header.clone());
        headers.insert(ACCEPT, HeaderValue::from_static(accept));
        if body.is_some() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        if let Some(auth) = &self.pool.authorization {
            headers.insert(AUTHORIZATION, auth.clone());
        }
        request
    }
}

/// Where a request goes, parsed once from a URL: what to connect to and what to send.
#[derive(Debug, Clone)]
pub struct Endpoint {
    host: String,
    port: u16,
    /// hyper's connection API sends the URI as given, and HTTP/1.1 wants the path with the host in
    /// its own header.
    host_header: HeaderValue,
    path: Uri,
}

impl Endpoint {
    /// An `http://host[:port]/path` URL, or why it cannot be requested.
    pub fn parse(url: &str) -> Result<Self, String> {
        let uri: Uri = url
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| e.to_string())?;
        if uri.scheme_str() != Some("http") {
            return Err("only http:// URLs can be requested".into());
        }
        let authority = uri.authority().ok_or("the URL has no host")?;
        // `[::1]` in a URL is `::1` to the resolver.
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            return Err("the URL has no host".into());
        }
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        Ok(Self {
            host: host.to_string(),
            port: authority.port_u16().unwrap_or(80),
            // Without any `user:password@`: that is not part of the Host header.
            host_header: HeaderValue::from_str(authority.as_str().rsplit('@').next().unwrap_or(""))
                .map_err(|e| e.to_string())?,
            path: Uri::try_from(path).map_err(|e| e.to_string())?,
        })
    }
}

impl Pool {
    /// An idle connection ready for a request, if one is still open.
    async fn take(&self) -> Option<SendRequest<Full<Bytes>>> {
        loop {
            let idle = self.lock().pop_back()?;
            if idle.sender.is_closed() || idle.expired(Instant::now()) {
                continue;
            }
            let mut sender = idle.sender;
            // Its last answer was read to the end; the connection's task only has to notice.
            if sender.ready().await.is_ok() {
                return Some(sender);
            }
        }
    }

    /// A new connection to `to`'s host, driven by a task of its own on this thread's runtime.
    async fn connect(&self, to: &Endpoint) -> Result<SendRequest<Full<Bytes>>, Error> {
        let address = (to.host.as_str(), to.port);
        let stream = tokio::time::timeout(self.connect_timeout, TcpStream::connect(address))
            .await
            .map_err(|_| Error::ConnectTimeout(self.connect_timeout))?
            .map_err(Error::Connect)?;
        // Tokens must arrive at once: no delayed ACK waiting on a Nagle-held request.
        let _ = stream.set_nodelay(true);
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(Error::Http)?;
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!("backend connection ended: {err}");
            }
        });
        Ok(sender)
    }

    fn put(&self, sender: SendRequest<Full<Bytes>>) {
        let now = Instant::now();
        let mut idle = self.lock();
        while idle
            .front()
            .is_some_and(|oldest| oldest.expired(now) || oldest.sender.is_closed())
        {
            idle.pop_front();
        }
        if !sender.is_closed() {
            idle.push_back(Idle { sender, since: now });
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Idle>> {
        // The list stays whole whatever panicked while holding it.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Idle {
    fn expired(&self, now: Instant) -> bool {
        now.duration_since(self.since) > IDLE_TIMEOUT
    }
}

/// A connection lent to one response: back to the pool when its body was read to the end, closed
/// when the body is dropped before that.
#[derive(Debug)]
struct Lease {
    sender: SendRequest<Full<Bytes>>,
    pool: Arc<Pool>,
}

/// A response body from the backend.
#[derive(Debug)]
pub struct Body {
    incoming: Incoming,
    lease: Option<Lease>,
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.incoming).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            if let Some(lease) = self.lease.take() {
                lease.pool.put(lease.sender);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming.size_hint()
    }
}

/// The next piece of a body; `None` at its end (trailers are skipped).
pub async fn chunk(body: &mut Body) -> Result<Option<Bytes>, hyper::Error> {
    use http_body_util::BodyExt;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            return Ok(Some(data));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(url: &str) -> (String, u16, String, String) {
        let e = Endpoint::parse(url).unwrap();
        let host = e.host_header.to_str().unwrap().to_string();
        (e.host, e.port, host, e.path.to_string())
    }

    #[test]
    fn an_endpoint_is_where_to_connect_and_what_to_send() {
        assert_eq!(
            parts("http://localhost:11434/v1/chat/completions"),
            (
                "localhost".into(),
                11434,
                "localhost:11434".into(),
                "/v1/chat/completions".into()
            )
        );
        assert_eq!(
            parts("http://[::1]:8080/v1/models?x=1"),
            (
                "::1".into(),
                8080,
                "[::1]:8080".into(),
                "/v1/models?x=1".into()
            )
        );
        assert_eq!(
            parts("http://me:secret@backend/v1/embeddings"),
            (
                "backend".into(),
                80,
                "backend".into(),
                "/v1/embeddings".into()
            )
        );
        assert!(Endpoint::parse("https://api.example.com/v1/models").is_err());
        assert!(Endpoint::parse("http:///v1/models").is_err());
        assert!(Endpoint::parse("http://bad host/v1").is_err());
    }

    #[tokio::test]
    async fn idle_connections_older_than_the_idle_timeout_are_closed_not_reused() {
        // The kernel completes the TCP handshake from the backlog: nothing has to answer.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1/models", listener.local_addr().unwrap());
        let to = Endpoint::parse(&url).unwrap();
        let pool = Pool {
            idle: Mutex::new(VecDeque::new()),
            connect_timeout: Duration::from_secs(5),
            authorization: None,
        };
        // Connected before the clock is paused: a paused clock would let the connect timeout fire.
        let mut senders = Vec::new();
        for _ in 0..4 {
            senders.push(pool.connect(&to).await.unwrap());
        }
        let (old, fresh) = (senders.pop().unwrap(), senders.pop().unwrap());
        for sender in senders {
            pool.put(sender);
        }
        assert_eq!(pool.lock().len(), 2);

        // One that comes back closes the expired ones before it.
        tokio::time::pause();
        tokio::time::advance(IDLE_TIMEOUT + Duration::from_secs(1)).await;
        pool.put(fresh);
        assert_eq!(pool.lock().len(), 1);
        assert!(pool.take().await.is_some(), "the fresh one is reused");

        // And one found expired when a request needs a connection is closed, not used.
        pool.put(old);
        tokio::time::advance(IDLE_TIMEOUT + Duration::from_secs(1)).await;
        assert!(pool.take().await.is_none());
        assert!(pool.lock().is_empty());
    }
}
