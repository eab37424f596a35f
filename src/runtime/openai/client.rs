//! The backend's HTTP/1.1 client: hyper-util's pooled client, one per serving thread, with the few
//! things a local backend needs — TCP_NODELAY, a connect timeout, a bearer key, and one resend when
//! a kept-alive connection turns out to be closed.
//!
//! hyper-util directly rather than reqwest (which wraps this same client): reqwest's own layers
//! cost ~26,000 instructions per streamed request (callgrind), a sixth of awsim's cost for it; half
//! of that was parsing the URL twice, in its redirect layer (even with redirects off) and for the
//! response.

use super::errors::causes;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::time::Duration;

pub type Response = hyper::Response<Incoming>;
pub type Error = hyper_util::client::legacy::Error;

#[derive(Debug, Clone)]
pub struct Client {
    inner: hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>,
    /// `Bearer {--bedrock-api-key}`, built once.
    authorization: Option<HeaderValue>,
}

impl Client {
    pub fn new(connect_timeout: Duration, api_key: Option<&str>) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(connect_timeout));
        let inner = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            // Keep a connection per concurrent stream: a smaller pool closes connections under load
            // and the next request pays a reconnect on its first-token path.
            .pool_max_idle_per_host(usize::MAX)
            .build(connector);
        let authorization = api_key.and_then(|key| {
            HeaderValue::from_str(&format!("Bearer {key}"))
                .map(|mut v| {
                    v.set_sensitive(true);
                    v
                })
                .ok()
        });
        Self {
            inner,
            authorization,
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
        uri: &Uri,
        accept: &'static str,
        body: Option<Bytes>,
    ) -> Result<Response, Error> {
        match self
            .inner
            .request(self.build(&method, uri, accept, &body))
            .await
        {
            Err(err) if closed_unanswered(&err) => {
                tracing::debug!(%err, "backend closed a pooled connection; sending again");
                self.inner
                    .request(self.build(&method, uri, accept, &body))
                    .await
            }
            other => other,
        }
    }

    fn build(
        &self,
        method: &Method,
        uri: &Uri,
        accept: &'static str,
        body: &Option<Bytes>,
    ) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(body.clone().unwrap_or_default()));
        *request.method_mut() = method.clone();
        *request.uri_mut() = uri.clone();
        let headers = request.headers_mut();
        headers.insert(ACCEPT, HeaderValue::from_static(accept));
        if body.is_some() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        if let Some(auth) = &self.authorization {
            headers.insert(AUTHORIZATION, auth.clone());
        }
        request
    }
}

/// The connection closed after the request went out and before any response head came back.
fn closed_unanswered(err: &Error) -> bool {
    causes(err).any(|e| {
        e.downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_incomplete_message)
    })
}

/// Whether the connection could not be made in time (the connect timeout), not refused.
pub fn connect_timed_out(err: &Error) -> bool {
    causes(err).any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
    })
}

/// The next piece of a body; `None` at its end (trailers are skipped).
pub async fn chunk(body: &mut Incoming) -> Result<Option<Bytes>, hyper::Error> {
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            return Ok(Some(data));
        }
    }
    Ok(None)
}
