//! The validated configuration: what the CLI asked for, checked once at start-up so a bad value stops
//! awsim with a clear message instead of failing a request later.

use crate::cli::{AuthMode, Parsed, StreamFormat};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Where answers come from.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    /// Base URL without a trailing slash, e.g. `http://localhost:11434/v1`.
    pub url: String,
    pub api_key: Option<String>,
    pub first_byte_timeout: Duration,
    pub connect_timeout: Duration,
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
                    &parsed.given("bedrock_backend", format!("'{url}'")),
                )?,
                api_key: cli.bedrock_api_key.clone().filter(|k| !k.is_empty()),
                first_byte_timeout: seconds(
                    "bedrock_backend_timeout",
                    cli.bedrock_backend_timeout,
                )?,
                connect_timeout: seconds(
                    "bedrock_backend_connect_timeout",
                    cli.bedrock_backend_connect_timeout,
                )?,
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
    if trimmed.starts_with("https://") {
        return Err(format!(
            "{given}: https backends are not supported by this build; local servers speak http"
        ));
    }
    // The backend's endpoints are this URL plus a path: refuse now what could never be requested.
    let uri: hyper::Uri = trimmed
        .parse()
        .map_err(|err| format!("{given} is not a valid URL: {err}"))?;
    // `http://[]/v1` has an authority but no host.
    if uri
        .host()
        .is_none_or(|h| h.trim_matches(['[', ']']).is_empty())
    {
        return Err(format!("{given} has no host"));
    }
    Ok(trimmed.to_string())
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
    }
}
