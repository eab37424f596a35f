//! The validated configuration: what the CLI asked for, checked once at start-up so a bad value stops
//! awsim with a clear message instead of failing a request later.

use crate::cli::{Cli, StreamFormat};
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
        }
    }
}

impl Config {
    pub fn from_cli(cli: &Cli) -> Result<Self, String> {
        let ip: IpAddr = cli.host.parse().map_err(|_| {
            format!(
                "--host '{}' is not an IP address (try 127.0.0.1 or 0.0.0.0)",
                cli.host
            )
        })?;
        let backend = match &cli.bedrock_backend {
            None => None,
            Some(url) => Some(BackendConfig {
                url: validate_backend_url(url)?,
                api_key: cli.bedrock_api_key.clone().filter(|k| !k.is_empty()),
                first_byte_timeout: seconds(
                    "--bedrock-backend-timeout",
                    cli.bedrock_backend_timeout,
                )?,
                connect_timeout: seconds(
                    "--bedrock-backend-connect-timeout",
                    cli.bedrock_backend_connect_timeout,
                )?,
            }),
        };
        let model_map = match &cli.bedrock_model_map {
            None => crate::model_map::ModelMap::default(),
            Some(path) => crate::model_map::ModelMap::load(path)?,
        };
        let account_ok =
            cli.account_id.len() == 12 && cli.account_id.bytes().all(|b| b.is_ascii_digit());
        if !account_ok {
            return Err(format!(
                "--account-id '{}' must be 12 digits",
                cli.account_id
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
                "--bedrock-customization-seconds",
                cli.bedrock_customization_seconds,
            )?,
            account_id: cli.account_id.clone(),
            shutdown_timeout: seconds("--shutdown-timeout", cli.shutdown_timeout)?,
            workers: match cli.workers {
                0 => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
                n if n > MAX_WORKERS => {
                    return Err(format!(
                        "--workers {n}: at most {MAX_WORKERS} (0 = one per CPU core)"
                    ))
                }
                n => n,
            },
        })
    }
}

/// More serving threads than this only costs memory: each holds its own event loop.
const MAX_WORKERS: usize = 1024;

fn seconds(flag: &str, value: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| format!("{flag} {value} must be a non-negative number of seconds"))
}

fn validate_backend_url(url: &str) -> Result<String, String> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or_else(|| format!("--bedrock-backend '{url}' must start with http:// or https:// (e.g. http://localhost:11434/v1)"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("--bedrock-backend '{url}' has no host"));
    }
    if trimmed.starts_with("https://") {
        return Err(format!(
            "--bedrock-backend '{url}': https backends are not supported by this build; local servers speak http"
        ));
    }
    // The backend's endpoints are this URL plus a path: refuse now what could never be requested.
    let uri: hyper::Uri = trimmed
        .parse()
        .map_err(|err| format!("--bedrock-backend '{url}' is not a valid URL: {err}"))?;
    // `http://[]/v1` has an authority but no host.
    if uri
        .host()
        .is_none_or(|h| h.trim_matches(['[', ']']).is_empty())
    {
        return Err(format!("--bedrock-backend '{url}' has no host"));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_urls_are_checked_and_trimmed() {
        assert_eq!(
            validate_backend_url("http://localhost:11434/v1/").unwrap(),
            "http://localhost:11434/v1"
        );
        assert!(validate_backend_url("localhost:11434")
            .unwrap_err()
            .contains("http://"));
        assert!(validate_backend_url("http://").is_err());
        assert!(validate_backend_url("http://[]/v1").is_err());
        assert!(validate_backend_url("http://local host:11434/v1")
            .unwrap_err()
            .contains("not a valid URL"));
    }
}
