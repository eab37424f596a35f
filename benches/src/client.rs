//! The client side: where to connect ([`Endpoint`]), a kept-alive connection over HTTP/1.1 or h2c
//! ([`Conn`]), and what to ask ([`Call`]: one operation, stream format and body, built once).

use crate::decode::BodyDecoder;
pub use crate::workload::{Api, Format};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use tokio::net::TcpStream;

/// A plain-HTTP base URL, resolved: `http://host:port[/prefix]`.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub addr: SocketAddr,
    /// The `Host` header.
    pub authority: String,
    /// Path prefix without a trailing slash (`/v1` for an OpenAI base URL, usually empty).
    pub prefix: String,
}

impl Endpoint {
    pub async fn parse(url: &str) -> crate::Result<Self> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("'{url}': only http:// URLs can be measured"))?;
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let with_port = if authority
            .rsplit(':')
            .next()
            .is_some_and(|p| p.parse::<u16>().is_ok())
            && !authority.ends_with(']')
        {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        let addr = tokio::net::lookup_host(&with_port)
            .await?
            .next()
            .ok_or_else(|| format!("'{authority}' does not resolve"))?;
        Ok(Self {
            addr,
            authority: authority.to_string(),
            prefix: prefix.to_string(),
        })
    }

    pub fn from_addr(addr: SocketAddr, prefix: &str) -> Self {
        Self {
            addr,
            authority: addr.to_string(),
            prefix: prefix.to_string(),
        }
    }
}

/// HTTP version of a client connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Http1,
    /// HTTP/2 with prior knowledge (h2c), as the JS SDK v3 speaks to awsim.
    Http2,
}

impl Proto {
    pub fn label(self) -> &'static str {
        match self {
            Self::Http1 => "HTTP/1.1",
            Self::Http2 => "h2c",
        }
    }
}

/// One kept-alive connection. An h2c connection can be shared between streams ([`Conn::share`]).
pub enum Conn {
    H1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

impl Conn {
    /// Connects (with `TCP_NODELAY`) and spawns the connection's driver task.
    pub async fn open(endpoint: &Endpoint, proto: Proto) -> crate::Result<Self> {
        let tcp = TcpStream::connect(endpoint.addr).await?;
        tcp.set_nodelay(true)?;
        let io = TokioIo::new(tcp);
        Ok(match proto {
            Proto::Http1 => {
                let (sender, conn) = hyper::client::conn::http1::handshake(io).await?;
                tokio::spawn(conn);
                Self::H1(sender)
            }
            Proto::Http2 => {
                let (sender, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
                    .initial_stream_window_size(1 << 20)
                    .initial_connection_window_size(16 << 20)
                    .handshake(io)
                    .await?;
                tokio::spawn(conn);
                Self::H2(sender)
            }
        })
    }

    /// Another handle on the same h2c connection; `None` for HTTP/1.1 (one request at a time).
    pub fn share(&self) -> Option<Self> {
        match self {
            Self::H1(_) => None,
            Self::H2(s) => Some(Self::H2(s.clone())),
        }
    }

    pub fn proto(&self) -> Proto {
        match self {
            Self::H1(_) => Proto::Http1,
            Self::H2(_) => Proto::Http2,
        }
    }

    /// Sends one request and returns the response head; the body streams after.
    pub async fn send(&mut self, req: Request<Full<Bytes>>) -> crate::Result<Response<Incoming>> {
        Ok(match self {
            Self::H1(s) => {
                s.ready().await?;
                s.send_request(req).await?
            }
            Self::H2(s) => {
                s.ready().await?;
                s.send_request(req).await?
            }
        })
    }
}

/// A request, prepared once and sent many times.
#[derive(Debug, Clone)]
pub struct Call {
    pub api: Api,
    pub format: Format,
    /// Origin form (`/model/…/converse`), as HTTP/1.1 sends it.
    origin: hyper::Uri,
    /// Absolute form, whose scheme and authority h2 sends as pseudo-headers.
    absolute: hyper::Uri,
    body: Bytes,
    authority: HeaderValue,
}

/// A signature-shaped `Authorization` header; awsim does not verify it, other emulators may want one.
const AUTH: &str = "AWS4-HMAC-SHA256 Credential=test/20260421/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=fake";

impl Call {
    /// `max_tokens` bounds the answer (and tells the synthetic upstream how many tokens to send).
    pub fn new(
        api: Api,
        format: Format,
        endpoint: &Endpoint,
        model: &str,
        max_tokens: Option<u32>,
    ) -> crate::Result<Self> {
        let prompt = "Benchmark: answer in many short tokens.";
        let model_path = |op: &str| {
            format!(
                "{}/model/{}/{op}",
                endpoint.prefix,
                model.replace(':', "%3A").replace('/', "%2F")
            )
        };
        let (path, body) = match api {
            Api::Converse | Api::ConverseStream => {
                let mut body = serde_json::json!({
                    "messages": [{"role": "user", "content": [{"text": prompt}]}],
                });
                if let Some(n) = max_tokens {
                    body["inferenceConfig"] = serde_json::json!({ "maxTokens": n });
                }
                let op = if api == Api::Converse {
                    "converse"
                } else {
                    "converse-stream"
                };
                (model_path(op), body)
            }
            Api::InvokeStream => (
                model_path("invoke-with-response-stream"),
                serde_json::json!({
                    "anthropic_version": "bedrock-2023-05-31",
                    "max_tokens": max_tokens.unwrap_or(1024),
                    "messages": [{"role": "user", "content": prompt}],
                }),
            ),
            Api::ChatCompletions => {
                let mut body = serde_json::json!({
                    "model": model,
                    "stream": true,
                    "stream_options": {"include_usage": true},
                    "messages": [{"role": "user", "content": prompt}],
                });
                if let Some(n) = max_tokens {
                    body["max_tokens"] = serde_json::json!(n);
                }
                (format!("{}/chat/completions", endpoint.prefix), body)
            }
        };
        let absolute = hyper::Uri::builder()
            .scheme("http")
            .authority(endpoint.authority.as_str())
            .path_and_query(path.as_str())
            .build()?;
        Ok(Self {
            api,
            format,
            origin: path.parse()?,
            absolute,
            body: Bytes::from(serde_json::to_vec(&body)?),
            authority: HeaderValue::from_str(&endpoint.authority)?,
        })
    }

    pub fn label(&self) -> String {
        match self.api {
            Api::ConverseStream | Api::InvokeStream => {
                format!("{} · {}", self.api.label(), self.format.label())
            }
            _ => self.api.label().to_string(),
        }
    }

    pub fn request(&self, proto: Proto) -> Request<Full<Bytes>> {
        let mut req = Request::new(Full::new(self.body.clone()));
        *req.method_mut() = Method::POST;
        *req.uri_mut() = match proto {
            Proto::Http1 => self.origin.clone(),
            Proto::Http2 => self.absolute.clone(),
        };
        let h = req.headers_mut();
        if proto == Proto::Http1 {
            h.insert(HOST, self.authority.clone());
        }
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        match self.api {
            Api::ChatCompletions => {
                h.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
            }
            Api::Converse => {
                h.insert(AUTHORIZATION, HeaderValue::from_static(AUTH));
            }
            Api::ConverseStream | Api::InvokeStream => {
                h.insert(AUTHORIZATION, HeaderValue::from_static(AUTH));
                let (format, accept) = match self.format {
                    Format::EventStream => ("eventstream", "application/vnd.amazon.eventstream"),
                    Format::JsonArray => ("json", "application/json"),
                };
                h.insert("x-awsim-stream-format", HeaderValue::from_static(format));
                h.insert(ACCEPT, HeaderValue::from_static(accept));
            }
        }
        req
    }

    /// A decoder for this call's response body.
    pub fn decoder(&self) -> BodyDecoder {
        BodyDecoder::new(self.api, self.format)
    }
}
