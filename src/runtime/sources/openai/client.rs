//! The backend's HTTP client: reqwest over rustls, one per serving thread, so that the connections a
//! thread opens are driven by that thread's event loop alone (a connection opened by another thread
//! would hand every token across threads).
//!
//! What a backend needs from it, each set here: `TCP_NODELAY`, a connect timeout (TCP, proxy tunnel
//! and TLS), pooled keep-alive connections, a bearer key, the system's roots plus
//! `--bedrock-backend-ca` for https, proxies, and one resend when a pooled connection turns out to be
//! closed. Every request goes to one host, so all of it is decided once, here.

use crate::config::BackendConfig;
use bytes::Bytes;
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, Url};
use rustls::RootCertStore;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// A pooled connection idle this long is closed: servers close idle keep-alive connections on
/// their own timers, and an old one is likelier to be half-closed.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    /// `Bearer {--bedrock-api-key}`, or `Basic` from the URL's `user:password@`, built once.
    authorization: Option<HeaderValue>,
}

impl Client {
    pub fn new(config: &BackendConfig) -> Result<Self, String> {
        let base = Url::parse(&config.url).map_err(|e| e.to_string())?;
        let host = base.host_str().unwrap_or_default().to_string();
        let mut builder = reqwest::Client::builder()
            .http1_only()
            // Tokens must leave at once: no delayed ACK waiting on a Nagle-held request.
            .tcp_nodelay(true)
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            // A redirect is the backend's answer, reported as its error, not followed: a POST
            // would lose its body, and the URL is the user's to fix.
            .redirect(reqwest::redirect::Policy::none())
            .retry(resend_on_closed_connection(host))
            .tls_backend_preconfigured(tls(config)?);
        builder = match &config.proxy {
            Some(proxy) => {
                builder.proxy(reqwest::Proxy::all(proxy.as_str()).map_err(|e| e.to_string())?)
            }
            // A proxy from the environment is for reaching other hosts: one on this machine
            // would have to connect back to it, and most cannot.
            None if is_loopback(&base) => builder.no_proxy(),
            // reqwest reads HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY.
            None => builder,
        };
        Ok(Self {
            http: builder.build().map_err(|e| e.to_string())?,
            authorization: authorization(config, &base),
        })
    }

    /// Sends a request; the response's body is read by the caller, and dropping it mid-way closes
    /// the connection.
    pub async fn send(
        &self,
        method: Method,
        to: &Url,
        accept: &'static str,
        body: Option<Bytes>,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let mut request = reqwest::Request::new(method, to.clone());
        let headers = request.headers_mut();
        headers.insert(ACCEPT, HeaderValue::from_static(accept));
        if body.is_some() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        if let Some(auth) = &self.authorization {
            headers.insert(AUTHORIZATION, auth.clone());
        }
        *request.body_mut() = body.map(reqwest::Body::from);
        self.http.execute(request).await
    }
}

/// `{base}/{path}` without the base's credentials (they travel in the Authorization header).
pub fn endpoint(base: &str, path: &str) -> Result<Url, String> {
    let mut url = Url::parse(&format!("{base}/{path}")).map_err(|e| e.to_string())?;
    // Only fails for URLs that cannot hold credentials, which then have none.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok(url)
}

/// One resend of a request the backend's connection closed on before any answer. Servers such as
/// llama.cpp's close a keep-alive connection right after a streamed answer; a request written to it
/// before that close is seen fails with no answer at all. Nothing was generated, so sending it again
/// is safe — and a real failure fails the second time too. (hyper-util already resends, on a pooled
/// connection, a request it could not write at all; this covers one written and never answered.)
fn resend_on_closed_connection(host: String) -> reqwest::retry::Builder {
    reqwest::retry::for_host(host)
        .no_budget()
        .max_retries_per_request(1)
        .classify_fn(|attempt| match attempt.error() {
            Some(err) if closed_unanswered(err) => {
                tracing::debug!("backend closed the connection without answering; sending again");
                attempt.retryable()
            }
            _ => attempt.success(),
        })
}

/// The connection closed after the request went out and before the response head came back.
pub fn closed_unanswered(err: &(dyn std::error::Error + 'static)) -> bool {
    causes(err).any(|e| {
        e.downcast_ref::<hyper::Error>()
            .is_some_and(|e| e.is_incomplete_message() || e.is_canceled())
    })
}

/// Whether the failure was the TLS handshake (an untrusted or mismatched certificate, a protocol
/// the backend does not speak).
pub fn is_tls(err: &(dyn std::error::Error + 'static)) -> bool {
    causes(err).any(|e| e.is::<rustls::Error>())
}

/// An error and its causes, outermost first. An `io::Error` that wraps another error skips it in
/// its `source()`; here the wrapped one comes next.
fn causes<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(err), |e| match e.downcast_ref::<std::io::Error>() {
        Some(io) => io
            .get_ref()
            .map(|inner| inner as &(dyn std::error::Error + 'static)),
        None => e.source(),
    })
}

fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => {
            let host = host.to_ascii_lowercase();
            host == "localhost" || host.ends_with(".localhost")
        }
    }
}

fn authorization(config: &BackendConfig, base: &Url) -> Option<HeaderValue> {
    let value = match &config.api_key {
        Some(key) => format!("Bearer {key}"),
        None if !base.username().is_empty() || base.password().is_some() => {
            use base64::Engine;
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            let pair = format!(
                "{}:{}",
                decode(base.username()),
                decode(base.password().unwrap_or_default())
            );
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        }
        None => return None,
    };
    let mut value = HeaderValue::from_str(&value).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// TLS toward the backend (and an https proxy): the system's roots, loaded once per process, plus
/// `--bedrock-backend-ca`; HTTP/1.1 by ALPN.
fn tls(config: &BackendConfig) -> Result<rustls::ClientConfig, String> {
    let mut roots = if needs_roots(config) {
        system_roots().clone()
    } else {
        RootCertStore::empty()
    };
    let (added, ignored) = roots.add_parsable_certificates(config.ca.iter().cloned());
    if ignored > 0 {
        tracing::warn!(
            "--bedrock-backend-ca: {ignored} certificate(s) cannot be trust anchors ({added} can)"
        );
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tls)
}

fn needs_roots(config: &BackendConfig) -> bool {
    config.url.starts_with("https://")
        || config
            .proxy
            .as_deref()
            .is_some_and(|p| p.starts_with("https://"))
}

/// The operating system's trust store (`SSL_CERT_FILE` / `SSL_CERT_DIR` when set), read once.
pub fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for err in &found.errors {
            tracing::debug!("system certificates: {err}");
        }
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(found.certs);
        if roots.is_empty() {
            tracing::warn!("no system root certificates found (install ca-certificates, or set SSL_CERT_FILE): an https backend needs --bedrock-backend-ca");
        } else {
            tracing::debug!("https backend: {} system root certificates", roots.len());
        }
        roots
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_drop_the_credentials_which_travel_as_basic_authentication() {
        let url = endpoint("http://me:s%40cret@backend:8080/v1", "chat/completions").unwrap();
        assert_eq!(url.as_str(), "http://backend:8080/v1/chat/completions");
        let base = Url::parse("http://me:s%40cret@backend:8080/v1").unwrap();
        let auth = authorization(
            &BackendConfig::new("http://me:s%40cret@backend:8080/v1"),
            &base,
        );
        // me:s@cret
        assert_eq!(auth.unwrap().to_str().unwrap(), "Basic bWU6c0BjcmV0");
        // An API key wins.
        let mut config = BackendConfig::new("http://me:secret@backend/v1");
        config.api_key = Some("sk-1".into());
        let auth = authorization(&config, &Url::parse(&config.url).unwrap());
        assert_eq!(auth.unwrap().to_str().unwrap(), "Bearer sk-1");
        assert!(authorization(
            &BackendConfig::new("http://b/v1"),
            &Url::parse("http://b/v1").unwrap()
        )
        .is_none());
    }

    #[test]
    fn only_hosts_on_this_machine_are_loopback() {
        for url in [
            "http://localhost:1/v1",
            "http://LOCALHOST/v1",
            "http://api.localhost/v1",
            "http://127.0.0.1/v1",
            "http://127.1.2.3/v1",
            "http://[::1]:8/v1",
        ] {
            assert!(is_loopback(&Url::parse(url).unwrap()), "{url}");
        }
        for url in [
            "http://10.0.0.1/v1",
            "https://api.example.com/v1",
            "http://localhost.example.com/v1",
            "http://[::2]/v1",
        ] {
            assert!(!is_loopback(&Url::parse(url).unwrap()), "{url}");
        }
    }
}
