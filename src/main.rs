//! The `awsim` binary: flags → config → logging → bind → serve until SIGINT/SIGTERM.

use awsim::cli::{Command, Parsed};
use awsim::Config;
use std::process::ExitCode;

fn main() -> ExitCode {
    let parsed = Parsed::from_args(std::env::args_os()).unwrap_or_else(|err| err.exit());
    match &parsed.cli.command {
        Some(Command::Frames { command }) => awsim::frames_cmd::run(command),
        None | Some(Command::Serve) => serve(&parsed),
    }
}

fn serve(parsed: &Parsed) -> ExitCode {
    let log_level = &parsed.cli.log_level;
    let filter = match tracing_subscriber::EnvFilter::try_new(log_level) {
        Ok(f) => f,
        Err(err) => {
            let given = parsed.given("log_level", format!("'{log_level}'"));
            return usage_error(&format!("{given}: {err}"));
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let config = match Config::from_cli(parsed) {
        Ok(c) => c,
        Err(msg) => return usage_error(&msg),
    };
    let workers = config.workers;
    let addr = config.addr;
    let served = awsim::server::serve(config, shutdown_signal(), |addr, app| {
        let mode = app
            .config
            .backend
            .as_ref()
            .map_or("canned answers".to_string(), |b| {
                format!("backend {}", b.describe())
            });
        let threads = if workers == 1 { "thread" } else { "threads" };
        let tls = if app.config.tls.is_some() {
            " + TLS"
        } else {
            ""
        };
        tracing::info!(
            "awsim listening on http://{addr} (HTTP/1.1 + h2c{tls}, {mode}, {workers} {threads})"
        );
        if let Some(scenario) = &app.config.scenario {
            tracing::info!(
                "--scenario {}: {} rules",
                scenario.path.display(),
                scenario.rules.len()
            );
        }
        if let Some(auth) = &app.config.auth {
            let ids: Vec<&str> = auth.access_key_ids().collect();
            tracing::info!(
                "--auth sigv4: requests must be signed by {} or carry one of {} API keys; /_awsim/ stays open",
                ids.join(", "),
                auth.api_key_count()
            );
        }
        if let Some(tls) = &app.config.tls {
            // The generated certificate names localhost and the loopback addresses.
            let host = if addr.ip().is_loopback() || addr.ip().is_unspecified() {
                format!("localhost:{}", addr.port())
            } else {
                addr.to_string()
            };
            match (tls.ca_file(), tls.cert_file()) {
                (Some(ca), _) => tracing::info!(
                    "https://{host} on the same port; trust the CA certificate {} (AWS_CA_BUNDLE, NODE_EXTRA_CA_CERTS, curl --cacert)",
                    ca.display()
                ),
                (None, Some(cert)) => tracing::info!(
                    "https://{host} on the same port with the certificate {}",
                    cert.display()
                ),
                (None, None) => {}
            }
        }
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("cannot serve on {addr}: {err}");
            ExitCode::FAILURE
        }
    }
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    tracing::info!("shutting down");
}

// Every request allocates many small, short-lived buffers (JSON, tokens, frames); mimalloc's
// per-thread free lists make those cheaper than glibc's malloc (`benches/README.md`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
