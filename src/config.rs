//! The validated configuration: what the CLI asked for, checked once at start-up so a bad value stops
//! awsim with a clear message instead of failing a request later.

use crate::cli::{
    AuthMode, Parsed, StreamFormat, CONNECT_TIMEOUT_SECS, FIRST_BYTE_TIMEOUT_SECS,
    IDLE_TIMEOUT_SECS,
};
use crate::server::tls::TlsSetup;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

/// Where answers come from.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    /// Base URL without a trailing slash, e.g. `http://localhost:11434/v1`. It may hold
    /// `user:password@`: show it only through [`redact_url`].
    pub url: String,
    pub api_key: Option<String>,
    /// The response head and the first event (`--bedrock-backend-timeout`).
    pub first_byte_timeout: Duration,
    /// Silence between events once the answer began (`--bedrock-backend-idle-timeout`); zero: no
    /// limit.
    pub idle_timeout: Duration,
    pub connect_timeout: Duration,
    /// Certificates trusted besides the system's roots (`--bedrock-backend-ca`).
    pub ca: Vec<CertificateDer<'static>>,
    /// The proxy every backend request goes through (`--bedrock-backend-proxy`); unset, the
    /// `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY` variables decide for a backend that is not
    /// on this machine.
    pub proxy: Option<String>,
}

impl BackendConfig {
    /// A backend at `url` with every other setting at its flag's default.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            api_key: None,
            first_byte_timeout: Duration::from_secs_f64(FIRST_BYTE_TIMEOUT_SECS),
            idle_timeout: Duration::from_secs_f64(IDLE_TIMEOUT_SECS),
            connect_timeout: Duration::from_secs_f64(CONNECT_TIMEOUT_SECS),
            ca: Vec::new(),
            proxy: None,
        }
    }

    /// The backend as the start-up log names it: its URL and proxy, credentials redacted.
    pub fn describe(&self) -> String {
        match &self.proxy {
            None => redact_url(&self.url).into_owned(),
            Some(proxy) => format!("{} via proxy {}", redact_url(&self.url), redact_url(proxy)),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub backend: Option<BackendConfig>,
    pub model_map: crate::model_map::ModelMap,
    pub stream_format: StreamFormat,
    pub canned_ttft: Duration,
    pub canned_token_gap: Duration,
    /// Ids seeded from the request and latencies pinned to 0 (`--bedrock-deterministic`).
    pub deterministic: bool,
    pub customization_duration: Duration,
    pub account_id: String,
    pub shutdown_timeout: Duration,
    /// Serving threads, at least 1 (`--workers`, 0 resolved to the number of cores).
    pub workers: usize,
    /// The credentials every request must carry (`--auth sigv4`); `None` accepts anything.
    pub auth: Option<crate::auth::Auth>,
    /// Runtime calls the invocation log keeps; 0 turns it off (`--invocation-log`).
    pub invocation_log: usize,
    /// Time to receive a request's headers (`--header-read-timeout`); `None`: unbounded.
    pub header_read_timeout: Option<Duration>,
    /// Time to receive a request's body (`--body-read-timeout`); `None`: unbounded.
    pub body_read_timeout: Option<Duration>,
    /// Time a connection may stay idle (`--idle-timeout`); `None`: forever.
    pub idle_timeout: Option<Duration>,
    /// Open connections at most, across all threads (`--max-connections`, 0 resolved).
    pub max_connections: usize,
    /// Names besides localhost and IP addresses that `/_awsim/` accepts as Host (`--tls-hostname`).
    pub hostnames: Vec<String>,
    /// HTTPS on the same port; `None`: plain HTTP only.
    pub tls: Option<TlsSetup>,
    /// Rules loaded at start-up (`--scenario`), checked.
    pub scenario: Option<crate::control::scenario::Scenario>,
    /// Requests and tokens per minute per model and region (`--bedrock-quota`).
    pub quota: Option<crate::control::quota::Limit>,
}

impl Default for Config {
    /// Canned mode on an ephemeral loopback port: what tests start from.
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            backend: None,
            model_map: crate::model_map::ModelMap::default(),
            stream_format: StreamFormat::Auto,
            canned_ttft: Duration::ZERO,
            canned_token_gap: Duration::ZERO,
            deterministic: false,
            customization_duration: Duration::from_secs(5),
            account_id: "000000000000".into(),
            shutdown_timeout: Duration::from_secs(5),
            workers: 1,
            auth: None,
            invocation_log: 1000,
            header_read_timeout: Some(Duration::from_secs(30)),
            body_read_timeout: Some(Duration::from_secs(60)),
            idle_timeout: Some(Duration::from_secs(120)),
            max_connections: default_max_connections(),
            hostnames: Vec::new(),
            tls: None,
            scenario: None,
            quota: None,
        }
    }
}

impl Config {
    /// Checks the parsed flags and variables; a bad value is named the way it was given
    /// (`--bedrock-backend-timeout -1` or `AWSIM_BEDROCK_BACKEND_TIMEOUT=-1`).
    pub fn from_cli(parsed: &Parsed) -> Result<Self, String> {
        let cli = &parsed.cli;
        let seconds = |id: &str, value: f64| {
            Duration::try_from_secs_f64(value).map_err(|_| {
                format!(
                    "{} must be a non-negative number of seconds",
                    parsed.given(id, value)
                )
            })
        };
        // 0 turns a connection timeout off.
        let limit =
            |id: &str, value: f64| seconds(id, value).map(|d| Some(d).filter(|d| !d.is_zero()));
        let ip: IpAddr = cli.host.parse().map_err(|_| {
            format!(
                "{} is not an IP address (try 127.0.0.1 or 0.0.0.0)",
                parsed.given("host", format!("'{}'", cli.host))
            )
        })?;
        let backend = match &cli.bedrock_backend {
            None => None,
            Some(url) => Some(BackendConfig {
                url: validate_backend_url(
                    url,
                    &parsed.given("bedrock_backend", format!("'{}'", redact_url(url))),
                )?,
                api_key: cli.bedrock_api_key.clone().filter(|k| !k.is_empty()),
                first_byte_timeout: seconds(
                    "bedrock_backend_timeout",
                    cli.bedrock_backend_timeout,
                )?,
                idle_timeout: seconds(
                    "bedrock_backend_idle_timeout",
                    cli.bedrock_backend_idle_timeout,
                )?,
                connect_timeout: seconds(
                    "bedrock_backend_connect_timeout",
                    cli.bedrock_backend_connect_timeout,
                )?,
                ca: match &cli.bedrock_backend_ca {
                    None => Vec::new(),
                    Some(path) => read_ca(path).map_err(|err| {
                        format!(
                            "{}: {err}",
                            parsed.given("bedrock_backend_ca", path.display())
                        )
                    })?,
                },
                proxy: match &cli.bedrock_backend_proxy {
                    None => None,
                    Some(proxy) => Some(validate_proxy_url(
                        proxy,
                        &parsed.given("bedrock_backend_proxy", format!("'{}'", redact_url(proxy))),
                    )?),
                },
            }),
        };
        let model_map = match &cli.bedrock_model_map {
            None => crate::model_map::ModelMap::default(),
            Some(path) => crate::model_map::ModelMap::load(path).map_err(|err| {
                format!(
                    "{}: {err}",
                    parsed.given("bedrock_model_map", path.display())
                )
            })?,
        };
        let scenario =
            match &cli.scenario {
                None => None,
                Some(path) => Some(crate::control::scenario::Scenario::load(path).map_err(
                    |err| format!("{}: {err}", parsed.given("scenario", path.display())),
                )?),
            };
        let quota = match &cli.bedrock_quota {
            None => None,
            Some(value) => Some(parse_quota(value).map_err(|err| {
                format!(
                    "{}: {err}",
                    parsed.given("bedrock_quota", format!("'{value}'"))
                )
            })?),
        };
        let account_ok =
            cli.account_id.len() == 12 && cli.account_id.bytes().all(|b| b.is_ascii_digit());
        if !account_ok {
            return Err(format!(
                "{} must be 12 digits",
                parsed.given("account_id", format!("'{}'", cli.account_id))
            ));
        }
        Ok(Self {
            addr: SocketAddr::new(ip, cli.port),
            backend,
            model_map,
            stream_format: cli.bedrock_stream_format,
            canned_ttft: Duration::from_millis(cli.bedrock_canned_ttft_ms),
            canned_token_gap: Duration::from_millis(cli.bedrock_canned_token_ms),
            deterministic: cli.bedrock_deterministic,
            customization_duration: seconds(
                "bedrock_customization_seconds",
                cli.bedrock_customization_seconds,
            )?,
            account_id: cli.account_id.clone(),
            shutdown_timeout: seconds("shutdown_timeout", cli.shutdown_timeout)?,
            header_read_timeout: limit("header_read_timeout", cli.header_read_timeout)?,
            body_read_timeout: limit("body_read_timeout", cli.body_read_timeout)?,
            idle_timeout: limit("idle_timeout", cli.idle_timeout)?,
            max_connections: match cli.max_connections {
                0 => default_max_connections(),
                n => n,
            },
            hostnames: hostnames(parsed)?,
            tls: Some(tls(parsed)?),
            workers: match cli.workers {
                0 => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
                n if n > MAX_WORKERS => {
                    return Err(format!(
                        "{}: at most {MAX_WORKERS} (0 = one per CPU core)",
                        parsed.given("workers", n)
                    ))
                }
                n => n,
            },
            invocation_log: match cli.invocation_log {
                n if n > MAX_INVOCATION_LOG => {
                    return Err(format!(
                        "{}: at most {MAX_INVOCATION_LOG} (0 turns the log off)",
                        parsed.given("invocation_log", n)
                    ))
                }
                n => n,
            },
            auth: match cli.auth {
                AuthMode::Off => None,
                AuthMode::Sigv4 => {
                    // The value holds secrets: the message names the flag and the faulty pair's
                    // access key id only.
                    let keys = crate::auth::parse_key_pairs(&cli.auth_keys)
                        .map_err(|err| format!("{}: {err}", parsed.given("auth_keys", "…")))?;
                    let api_keys = cli
                        .api_keys
                        .as_deref()
                        .map(crate::auth::parse_api_keys)
                        .unwrap_or_default();
                    Some(crate::auth::Auth::new(keys, api_keys))
                }
            },
            scenario,
            quota,
        })
    }
}

/// `RPM[,TPM]`: positive whole numbers, per minute.
fn parse_quota(value: &str) -> Result<crate::control::quota::Limit, String> {
    let number = |s: &str, what: &str| match s.trim().parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "{what} must be a whole number of at least 1, as RPM or RPM,TPM (e.g. 60 or 60,100000)"
        )),
    };
    let (rpm, tpm) = match value.split_once(',') {
        None => (number(value, "requests per minute")?, None),
        Some((rpm, tpm)) => (
            number(rpm, "requests per minute")?,
            Some(number(tpm, "tokens per minute")?),
        ),
    };
    Ok(crate::control::quota::Limit {
        rpm: Some(rpm),
        tpm,
        window: crate::control::quota::Limit::MINUTE,
    })
}

/// More serving threads than this only costs memory: each holds its own event loop.
const MAX_WORKERS: usize = 1024;

/// Every kept call costs memory even when its bodies are small.
const MAX_INVOCATION_LOG: usize = 1_000_000;

/// `--tls-hostname`: DNS names or IP addresses, without a port.
fn hostnames(parsed: &Parsed) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for name in &parsed.cli.tls_hostname {
        let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        let dns_ok = name.split('.').all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'*')
        });
        if !dns_ok && name.parse::<IpAddr>().is_err() {
            return Err(format!(
                "{} is not a host name or IP address (give names without scheme or port, e.g. awsim or awsim.local)",
                parsed.given("tls_hostname", format!("'{name}'"))
            ));
        }
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

/// The certificate: the user's (`--tls-cert` and `--tls-key`) or a generated one.
fn tls(parsed: &Parsed) -> Result<TlsSetup, String> {
    let cli = &parsed.cli;
    let hostnames = hostnames(parsed)?;
    let setup = match (&cli.tls_cert, &cli.tls_key) {
        (Some(cert), Some(key)) => TlsSetup::from_files(cert, key, &hostnames).map_err(|err| {
            format!(
                "{} / {}: {err}",
                parsed.given("tls_cert", cert.display()),
                parsed.given("tls_key", key.display())
            )
        })?,
        (None, None) => TlsSetup::generate(&hostnames)?,
        (Some(cert), None) => {
            return Err(format!(
                "{} needs --tls-key, the certificate's private key",
                parsed.given("tls_cert", cert.display())
            ))
        }
        (None, Some(key)) => {
            return Err(format!(
                "{} needs --tls-cert, the certificate it belongs to",
                parsed.given("tls_key", key.display())
            ))
        }
    };
    Ok(setup.with_ca_out(cli.tls_ca_out.clone()))
}

/// The open-files limit less a reserve for listening sockets, backend connections and files, so
/// that the cap is met before `accept` fails for lack of descriptors.
pub fn default_max_connections() -> usize {
    match open_files_limit() {
        Some(limit) => {
            let reserve = (limit / 8).clamp(16, 256);
            limit.saturating_sub(reserve).max(16)
        }
        None => 65_536,
    }
}

#[cfg(unix)]
fn open_files_limit() -> Option<usize> {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    limit.current.and_then(|n| usize::try_from(n).ok())
}

#[cfg(not(unix))]
fn open_files_limit() -> Option<usize> {
    None
}

/// The backend URL without a trailing slash; `given` is how the user gave it, for messages.
fn validate_backend_url(url: &str, given: &str) -> Result<String, String> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or_else(|| {
            format!("{given} must start with http:// or https:// (e.g. http://localhost:11434/v1)")
        })?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("{given} has no host"));
    }
    // The backend's endpoints are this URL plus a path: refuse now what could never be requested.
    let parsed =
        reqwest::Url::parse(trimmed).map_err(|err| format!("{given} is not a valid URL: {err}"))?;
    // `http://[]/v1` has an authority but no host.
    if parsed
        .host_str()
        .is_none_or(|h| h.trim_matches(['[', ']']).is_empty())
    {
        return Err(format!("{given} has no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!(
            "{given} has a query or fragment; give the base URL the paths /chat/completions, /embeddings and /models follow"
        ));
    }
    Ok(trimmed.to_string())
}

/// A `--bedrock-backend-proxy` URL, as reqwest takes it.
fn validate_proxy_url(url: &str, given: &str) -> Result<String, String> {
    let url = url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!(
            "{given} must start with http:// or https:// (e.g. http://proxy.example.com:3128)"
        ));
    }
    reqwest::Proxy::all(url).map_err(|err| format!("{given} is not a valid proxy URL: {err}"))?;
    Ok(url.to_string())
}

/// The certificates of a PEM file (`--bedrock-backend-ca`): at least one, or why not.
pub fn read_ca(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = std::fs::read(path).map_err(|err| format!("cannot read the file: {err}"))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| format!("not a PEM file of certificates: {err}"))?;
    if certs.is_empty() {
        return Err(
            "no certificate in the file (expected PEM: -----BEGIN CERTIFICATE-----)".into(),
        );
    }
    Ok(certs)
}

/// `url` as it may be shown — in logs, in `/_awsim/health`, in errors sent to clients: any
/// `user:password@` replaced by `***@`. Every place that shows a backend or proxy URL goes through
/// here.
pub fn redact_url(url: &str) -> Cow<'_, str> {
    // Without a scheme (a URL mistyped, refused with it shown), the authority starts the text.
    let scheme_end = url
        .find("://")
        .filter(|&i| {
            i > 0
                && url[..i]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        })
        .map_or(0, |i| i + 3);
    let rest = &url[scheme_end..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_len].rfind('@') {
        None => Cow::Borrowed(url),
        Some(at) => Cow::Owned(format!("{}***{}", &url[..scheme_end], &rest[at..])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_are_requests_and_tokens_per_minute() {
        let q = parse_quota("3").unwrap();
        assert_eq!((q.rpm, q.tpm), (Some(3), None));
        let q = parse_quota("60,100000").unwrap();
        assert_eq!((q.rpm, q.tpm), (Some(60), Some(100_000)));
        assert!(parse_quota("0").unwrap_err().contains("at least 1"));
        assert!(parse_quota("60,x")
            .unwrap_err()
            .starts_with("tokens per minute"));
    }

    #[test]
    fn backend_urls_are_checked_and_trimmed() {
        assert_eq!(
            validate_backend_url("http://localhost:11434/v1/", "--bedrock-backend").unwrap(),
            "http://localhost:11434/v1"
        );
        assert_eq!(
            validate_backend_url("https://api.example.com/v1", "--bedrock-backend").unwrap(),
            "https://api.example.com/v1"
        );
        assert!(validate_backend_url("localhost:11434", "--bedrock-backend")
            .unwrap_err()
            .contains("http://"));
        assert!(validate_backend_url("http://", "--bedrock-backend").is_err());
        assert!(validate_backend_url("http://[]/v1", "--bedrock-backend").is_err());
        assert!(
            validate_backend_url("http://local host:11434/v1", "--bedrock-backend")
                .unwrap_err()
                .contains("not a valid URL")
        );
        assert!(
            validate_backend_url("http://localhost:11434/v1?x=1", "--bedrock-backend")
                .unwrap_err()
                .contains("query")
        );
    }

    #[test]
    fn proxy_urls_are_checked() {
        assert_eq!(
            validate_proxy_url("http://proxy:3128", "--bedrock-backend-proxy").unwrap(),
            "http://proxy:3128"
        );
        assert!(validate_proxy_url("proxy:3128", "--bedrock-backend-proxy").is_err());
    }

    #[test]
    fn credentials_in_urls_are_never_shown() {
        assert_eq!(
            redact_url("http://me:s3cret@backend:8080/v1"),
            "http://***@backend:8080/v1"
        );
        assert_eq!(
            redact_url("https://token@gateway/v1"),
            "https://***@gateway/v1"
        );
        // The last `@` of the authority ends the credentials, whatever they hold.
        assert_eq!(redact_url("http://me:p@ss@backend"), "http://***@backend");
        assert_eq!(
            redact_url("http://localhost:11434/v1"),
            "http://localhost:11434/v1"
        );
        // An `@` after the host is not a credential.
        assert_eq!(
            redact_url("http://backend/v1/@models?a=b@c"),
            "http://backend/v1/@models?a=b@c"
        );
        assert_eq!(redact_url("not a url"), "not a url");
        assert_eq!(redact_url("me:s3cret@backend/v1"), "***@backend/v1");
        assert_eq!(
            redact_url("me:s3cret@backend/v1?next=http://x"),
            "***@backend/v1?next=http://x"
        );
    }

    #[test]
    fn a_ca_file_must_hold_pem_certificates() {
        let dir = std::env::temp_dir().join(format!("awsim-ca-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        assert!(read_ca(&empty).unwrap_err().contains("no certificate"));
        assert!(read_ca(&dir.join("missing.pem"))
            .unwrap_err()
            .contains("cannot read"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
