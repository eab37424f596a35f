//! Command-line flags. Every flag has an `AWSIM_…` environment variable and a help line; this is the
//! list the README documents.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;

/// `--bedrock-backend-timeout`'s default, in seconds.
pub const FIRST_BYTE_TIMEOUT_SECS: f64 = 120.0;
/// `--bedrock-backend-idle-timeout`'s default, in seconds: under the 60 s read timeout of boto3
/// and the other AWS SDKs, so a stalled backend reaches them as a modeled exception, not a bare
/// read timeout.
pub const IDLE_TIMEOUT_SECS: f64 = 30.0;
/// `--bedrock-backend-connect-timeout`'s default, in seconds.
pub const CONNECT_TIMEOUT_SECS: f64 = 5.0;

/// awsim — a local, AWS-compatible emulator of Amazon Bedrock.
// Negative numbers are values (`--bedrock-backend-timeout -1`), so the message is about the value.
#[derive(Debug, Parser)]
#[command(name = "awsim", version, about, long_about = None, allow_negative_numbers = true)]
pub struct Cli {
    /// Address to bind (use 0.0.0.0 in containers).
    #[arg(long, env = "AWSIM_HOST", default_value = "127.0.0.1", global = true)]
    pub host: String,

    /// Port to listen on; 0 picks a free port (the first log line states it).
    #[arg(long, env = "AWSIM_PORT", default_value_t = 4566, global = true)]
    pub port: u16,

    /// OpenAI-compatible base URL, including /v1 (e.g. http://localhost:11434/v1). Unset: canned answers.
    #[arg(long, env = "AWSIM_BEDROCK_BACKEND", value_name = "URL", global = true)]
    pub bedrock_backend: Option<String>,

    /// API key sent to the backend as `Authorization: Bearer <key>`.
    #[arg(
        long,
        env = "AWSIM_BEDROCK_API_KEY",
        value_name = "KEY",
        global = true,
        hide_env_values = true
    )]
    pub bedrock_api_key: Option<String>,

    /// TOML file with [invoke] and [embed] tables mapping Bedrock model ids to backend model names.
    #[arg(
        long,
        env = "AWSIM_BEDROCK_MODEL_MAP",
        value_name = "FILE",
        global = true
    )]
    pub bedrock_model_map: Option<PathBuf>,

    /// Seconds to wait for the backend's answer to begin (its response head and first event) before ModelTimeoutException.
    #[arg(
        long,
        env = "AWSIM_BEDROCK_BACKEND_TIMEOUT",
        default_value_t = FIRST_BYTE_TIMEOUT_SECS,
        value_name = "SECONDS",
        global = true
    )]
    pub bedrock_backend_timeout: f64,

    /// Seconds of silence between the backend's events, once its answer began, before the stream ends with modelStreamErrorException (keep it under the client's read timeout, 60 s in the AWS SDKs); 0 = no limit.
    #[arg(
        long,
        env = "AWSIM_BEDROCK_BACKEND_IDLE_TIMEOUT",
        default_value_t = IDLE_TIMEOUT_SECS,
        value_name = "SECONDS",
        global = true
    )]
    pub bedrock_backend_idle_timeout: f64,

    /// Seconds to wait for a connection to the backend (TCP, and TLS for https).
    #[arg(
        long,
        env = "AWSIM_BEDROCK_BACKEND_CONNECT_TIMEOUT",
        default_value_t = CONNECT_TIMEOUT_SECS,
        value_name = "SECONDS",
        global = true
    )]
    pub bedrock_backend_connect_timeout: f64,

    /// PEM file of CA certificates to trust for an https backend, besides the system's roots (a private or corporate CA).
    #[arg(
        long,
        env = "AWSIM_BEDROCK_BACKEND_CA",
        value_name = "FILE",
        global = true
    )]
    pub bedrock_backend_ca: Option<PathBuf>,

    /// Proxy for every backend request, a backend on this machine included; unset, HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY apply to a backend on another host.
    #[arg(
        long,
        env = "AWSIM_BEDROCK_BACKEND_PROXY",
        value_name = "URL",
        global = true,
        hide_env_values = true
    )]
    pub bedrock_backend_proxy: Option<String>,

    /// Body format of the streaming operations: `auto` sends event-stream frames to AWS SDKs and a JSON array to everyone else.
    #[arg(long, env = "AWSIM_BEDROCK_STREAM_FORMAT", value_enum, default_value_t = StreamFormat::Auto, global = true)]
    pub bedrock_stream_format: StreamFormat,

    /// Canned mode: milliseconds before the first token of each answer.
    #[arg(
        long,
        env = "AWSIM_BEDROCK_CANNED_TTFT_MS",
        default_value_t = 0,
        value_name = "MS",
        global = true
    )]
    pub bedrock_canned_ttft_ms: u64,

    /// Canned mode: milliseconds between tokens.
    #[arg(
        long,
        env = "AWSIM_BEDROCK_CANNED_TOKEN_MS",
        default_value_t = 0,
        value_name = "MS",
        global = true
    )]
    pub bedrock_canned_token_ms: u64,

    /// Pin ids and latencies: the same request always streams byte-identical frames (for golden tests).
    #[arg(long, env = "AWSIM_BEDROCK_DETERMINISTIC", global = true)]
    pub bedrock_deterministic: bool,

    /// Seconds a model customization job stays InProgress before it completes.
    #[arg(
        long,
        env = "AWSIM_BEDROCK_CUSTOMIZATION_SECONDS",
        default_value_t = 5.0,
        value_name = "SECONDS",
        global = true
    )]
    pub bedrock_customization_seconds: f64,

    /// Account id used in the ARNs awsim creates.
    #[arg(
        long,
        env = "AWSIM_ACCOUNT_ID",
        default_value = "000000000000",
        global = true
    )]
    pub account_id: String,

    /// Seconds to let open requests finish after SIGINT/SIGTERM before closing them.
    #[arg(
        long,
        env = "AWSIM_SHUTDOWN_TIMEOUT",
        default_value_t = 5.0,
        value_name = "SECONDS",
        global = true
    )]
    pub shutdown_timeout: f64,

    /// Threads serving requests, each running its own single-threaded event loop; a connection
    /// stays on the thread that accepted it. 0 = one per CPU core.
    #[arg(
        long,
        env = "AWSIM_WORKERS",
        default_value_t = 0,
        value_name = "N",
        global = true
    )]
    pub workers: usize,

    /// Check each request's credentials: `off` accepts anything; `sigv4` requires a valid SigV4 signature by one of --auth-keys, or a bearer API key from --api-keys (`/_awsim/` stays open).
    #[arg(long, env = "AWSIM_AUTH", value_enum, default_value_t = AuthMode::Off, global = true)]
    pub auth: AuthMode,

    /// With `--auth sigv4`: the access key pairs whose signatures are accepted, `AKID:SECRET` separated by commas.
    #[arg(
        long,
        env = "AWSIM_AUTH_KEYS",
        default_value = "test:test",
        value_name = "AKID:SECRET,…",
        global = true,
        hide_env_values = true
    )]
    pub auth_keys: String,

    /// With `--auth sigv4`: Bedrock API keys accepted as `Authorization: Bearer <key>`, separated by commas.
    #[arg(
        long,
        env = "AWSIM_API_KEYS",
        value_name = "KEY,…",
        global = true,
        hide_env_values = true
    )]
    pub api_keys: Option<String>,
    /// Seconds a client has to send a request's headers, from their first byte (and a new
    /// connection, from its opening); 0 = no limit.
    #[arg(
        long,
        env = "AWSIM_HEADER_READ_TIMEOUT",
        default_value_t = 30.0,
        value_name = "SECONDS",
        global = true
    )]
    pub header_read_timeout: f64,

    /// Seconds a client has to send a request's whole body once its headers arrived; 0 = no limit.
    #[arg(
        long,
        env = "AWSIM_BODY_READ_TIMEOUT",
        default_value_t = 60.0,
        value_name = "SECONDS",
        global = true
    )]
    pub body_read_timeout: f64,

    /// Seconds a connection may stay idle (no request in progress; HTTP/2: no open stream) before
    /// awsim closes it; 0 = never.
    #[arg(
        long,
        env = "AWSIM_IDLE_TIMEOUT",
        default_value_t = 120.0,
        value_name = "SECONDS",
        global = true
    )]
    pub idle_timeout: f64,

    /// Open connections at most, across all threads; above it the longest-idle one is closed, or
    /// the new one answered 503. 0 = from the open-files limit (`ulimit -n`).
    #[arg(
        long,
        env = "AWSIM_MAX_CONNECTIONS",
        default_value_t = 0,
        value_name = "N",
        global = true
    )]
    pub max_connections: usize,

    /// Another name clients reach awsim by (repeat, or separate with commas): added to the
    /// generated TLS certificate and accepted as the Host of /_awsim/ requests.
    #[arg(
        long,
        env = "AWSIM_TLS_HOSTNAME",
        value_name = "NAME",
        value_delimiter = ',',
        global = true
    )]
    pub tls_hostname: Vec<String>,

    /// Where to write the generated CA certificate (PEM) for clients to trust. Default:
    /// awsim-<port>-ca.pem in the OS temp directory.
    #[arg(long, env = "AWSIM_TLS_CA_OUT", value_name = "FILE", global = true)]
    pub tls_ca_out: Option<PathBuf>,

    /// Serve this certificate chain (PEM) instead of a generated one; needs --tls-key.
    #[arg(long, env = "AWSIM_TLS_CERT", value_name = "FILE", global = true)]
    pub tls_cert: Option<PathBuf>,

    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "AWSIM_TLS_KEY", value_name = "FILE", global = true)]
    pub tls_key: Option<PathBuf>,

    /// Rules loaded at start-up: a TOML file of [[rules]] tables or a JSON array of rules (the objects POST /_awsim/rules takes).
    #[arg(long, env = "AWSIM_SCENARIO", value_name = "FILE", global = true)]
    pub scenario: Option<PathBuf>,

    /// Requests (and optionally tokens) per minute per model and region; a call over it gets ThrottlingException.
    #[arg(
        long,
        env = "AWSIM_BEDROCK_QUOTA",
        value_name = "RPM[,TPM]",
        global = true
    )]
    pub bedrock_quota: Option<String>,

    /// Runtime calls the invocation log keeps (`GET /_awsim/invocations`), the oldest dropped first; 0 turns it off.
    #[arg(
        long,
        env = "AWSIM_INVOCATION_LOG",
        default_value_t = 1000,
        value_name = "N",
        global = true
    )]
    pub invocation_log: usize,

    /// Log filter: error, warn, info, debug, trace, or a tracing directive such as `awsim=debug`.
    #[arg(long, env = "AWSIM_LOG_LEVEL", default_value = "info", global = true)]
    pub log_level: String,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the emulator (the default when no command is given).
    #[command(allow_negative_numbers = true)]
    Serve,
    /// Tools for application/vnd.amazon.eventstream bodies.
    Frames {
        #[command(subcommand)]
        command: FramesCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum FramesCommand {
    /// Print a readable listing of a captured event-stream body (e.g. from `curl --output body.bin`), frame by frame.
    Decode {
        /// File to read; `-` or nothing reads standard input.
        file: Option<PathBuf>,
    },
}

/// Body format of InvokeModelWithResponseStream and ConverseStream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StreamFormat {
    /// Event-stream frames for AWS SDK requests, the JSON array otherwise.
    Auto,
    /// Always the accumulated JSON array.
    Json,
    /// Always application/vnd.amazon.eventstream frames.
    Eventstream,
}

/// Whether requests must prove who sent them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// Any request is accepted, signed or not.
    Off,
    /// A valid SigV4 signature or a configured Bedrock API key is required.
    Sigv4,
}

/// The flags and `AWSIM_…` variables as parsed, and where each value came from.
#[derive(Debug)]
pub struct Parsed {
    pub cli: Cli,
    matches: ArgMatches,
}

impl Parsed {
    /// Parses `args` (the program name first) and the environment. A value clap refuses from an
    /// environment variable is named by that variable, not by the flag it stands for.
    pub fn from_args(
        args: impl IntoIterator<Item = impl Into<OsString>>,
    ) -> Result<Self, clap::Error> {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let matches = Cli::command()
            .try_get_matches_from(&args)
            .map_err(|err| from_environment(err, &args))?;
        let cli = Cli::from_arg_matches(&matches)?;
        Ok(Self { cli, matches })
    }

    /// `--flag value` or `AWSIM_FLAG=value`, the way the user gave the flag `id` (its field
    /// name), for messages about a bad value.
    pub fn given(&self, id: &str, value: impl std::fmt::Display) -> String {
        let command = Cli::command();
        let Some(arg) = command.get_arguments().find(|a| a.get_id() == id) else {
            return value.to_string();
        };
        let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
        match (self.matches.value_source(id), env) {
            (Some(ValueSource::EnvVariable), Some(env)) => format!("{env}={value}"),
            _ => format!("--{} {value}", arg.get_long().unwrap_or(id)),
        }
    }
}

/// clap's error for a bad value, reworded when the value came from the flag's environment
/// variable (the flag is not on the command line and the variable holds that value).
fn from_environment(err: clap::Error, args: &[OsString]) -> clap::Error {
    if !matches!(
        err.kind(),
        ErrorKind::ValueValidation | ErrorKind::InvalidValue
    ) {
        return err;
    }
    let (Some(ContextValue::String(invalid_arg)), Some(ContextValue::String(value))) = (
        err.get(ContextKind::InvalidArg),
        err.get(ContextKind::InvalidValue),
    ) else {
        return err;
    };
    let command = Cli::command();
    let Some(arg) = command.get_arguments().find(|a| {
        a.get_long()
            .is_some_and(|l| invalid_arg.split_whitespace().next() == Some(&format!("--{l}")))
    }) else {
        return err;
    };
    let (Some(long), Some(env)) = (arg.get_long(), arg.get_env()) else {
        return err;
    };
    let flag = format!("--{long}");
    let on_command_line = args.iter().skip(1).any(|a| {
        a.to_str()
            .is_some_and(|a| a == flag || a.starts_with(&format!("{flag}=")))
    });
    if on_command_line || std::env::var_os(env).as_deref() != Some(value.as_ref()) {
        return err;
    }
    let why = match (
        std::error::Error::source(&err),
        err.get(ContextKind::ValidValue),
    ) {
        (Some(source), _) => source.to_string(),
        (None, Some(ContextValue::Strings(valid))) => {
            format!("expected one of {}", valid.join(", "))
        }
        _ => "not a valid value".to_string(),
    };
    clap::Error::raw(
        ErrorKind::ValueValidation,
        format!(
            "invalid value '{value}' in the environment variable {} (for {flag}): {why}\n",
            env.to_string_lossy()
        ),
    )
}

impl StreamFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Json => "json",
            Self::Eventstream => "eventstream",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::{ArgAction, CommandFactory};

    /// README's configuration row for `--long`, as its cells: flag, variable, default, meaning.
    fn readme_row(readme: &str, long: &str) -> Option<Vec<String>> {
        let flag = format!("`--{long}");
        let line = readme.lines().find(|l| {
            l.strip_prefix("| ")
                .and_then(|l| l.strip_prefix(&flag))
                .is_some_and(|rest| rest.starts_with('`') || rest.starts_with(' '))
        })?;
        let cells = line.replace("\\|", "\u{0}");
        let cells = cells.trim().trim_matches('|').split('|');
        Some(cells.map(|c| c.trim().replace('\u{0}', "|")).collect())
    }

    /// README's flag table is the user's reference: every flag has its row, with its variable and
    /// its default as clap applies it.
    #[test]
    fn every_flag_its_variable_and_its_default_are_documented_in_the_readme() {
        let readme = include_str!("../README.md");
        for arg in Cli::command().get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if long == "help" || long == "version" {
                continue;
            }
            let row = readme_row(readme, long)
                .unwrap_or_else(|| panic!("README's configuration table has no row for --{long}"));
            let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
            let env = env.unwrap_or_else(|| panic!("--{long} has no environment variable"));
            assert_eq!(
                row[1],
                format!("`{env}`"),
                "README names another variable for --{long}"
            );
            let default = match arg.get_default_values() {
                _ if matches!(arg.get_action(), ArgAction::SetTrue) => "off".to_string(),
                [] => continue,
                [value] => format!("`{}`", value.to_string_lossy()),
                values => panic!("--{long} has several defaults: {values:?}"),
            };
            assert!(
                row[2].starts_with(&default),
                "README gives --{long} the default {:?}, clap {default}",
                row[2]
            );
        }
    }
}
