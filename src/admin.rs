//! awsim's own endpoints under `/_awsim/`: health (what is this server, what does it answer with)
//! state reset for test suites, the rules that steer answers (`crate::control::api`), the
//! invocation log (`crate::control::invocations::view`), the inspector page
//! (`crate::control::inspector`) — and who may call them.
//!
//! A web page the developer visits can send requests to localhost too: a cross-site form `POST`
//! (`text/plain`, no preflight), or — through DNS rebinding — any request under a name that
//! resolves to 127.0.0.1. So `/_awsim/` answers only requests addressed to this machine (the Host is
//! localhost, an IP address, or a `--tls-hostname`), and refuses a state-changing request from a
//! web page on another host (`Origin`) or with a body that is not JSON.

use crate::app::App;
use crate::aws::http::{json, Body};
use crate::aws::ApiError;
use crate::call::Call;
use crate::config::Config;
use crate::control::api as rules;
use crate::control::inspector;
use crate::control::invocations::view;
use crate::operations::AdminOp;
use hyper::http::request::Parts;
use hyper::{header, Method, Response};
use serde_json::json;

pub async fn handle(op: AdminOp, app: &App, call: &Call) -> Result<Response<Body>, ApiError> {
    let log = &app.runtime.invocations;
    match op {
        AdminOp::Health => Ok(json(200, &health(app).await)),
        AdminOp::Reset => {
            app.store.reset();
            app.control.reset();
            // A test suite's reset starts each test from an empty log too.
            log.clear();
            Ok(json(200, &json!({ "reset": true })))
        }
        AdminOp::AddRules => rules::add(&app.control, call),
        AdminOp::ListRules => Ok(rules::list(&app.control)),
        AdminOp::DeleteRules => Ok(rules::clear(&app.control)),
        AdminOp::DeleteRule => rules::delete(&app.control, call),
        AdminOp::ListInvocations => Ok(json(200, &view::list(log, &call.query_params()?)?)),
        AdminOp::GetInvocation => Ok(json(200, &view::detail(log, call.param(0))?)),
        AdminOp::ClearInvocations => Ok(json(200, &view::clear(log))),
        AdminOp::InvocationFrames => inspector::frames::listing(log, call.param(0)),
        AdminOp::Inspector => Ok(inspector::page(&call.headers)),
        AdminOp::InspectorAsset => inspector::asset(call.param(0), &call.headers),
    }
}

/// Refuses a `/_awsim/` request that a web page could have sent on the user's behalf.
pub fn check_caller(config: &Config, parts: &Parts) -> Result<(), ApiError> {
    let host = parts
        .uri
        .authority()
        .map(|a| a.as_str())
        .or_else(|| parts.headers.get(header::HOST)?.to_str().ok());
    if let Some(host) = host {
        if !names_this_machine(host, &config.hostnames) {
            return Err(ApiError::AccessDenied(format!(
                "awsim's /_awsim/ endpoints answer only requests addressed to this machine \
                 (localhost, an IP address, or a name given with --tls-hostname); this request's \
                 Host is '{host}'. If clients reach awsim by that name (a container's name, say), \
                 start awsim with --tls-hostname {}.",
                host_name(host)
            )));
        }
    }
    let changes_state = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !changes_state {
        return Ok(());
    }
    if let Some(origin) = parts.headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("(not text)");
        let host = origin.split_once("://").map(|(_, rest)| rest);
        if !host.is_some_and(|h| names_this_machine(h, &config.hostnames)) {
            return Err(ApiError::AccessDenied(format!(
                "{} {} from a web page at '{origin}' is refused: awsim's own endpoints take \
                 state-changing requests from pages on this machine only. Tools such as curl \
                 and the AWS SDKs send no Origin header.",
                parts.method,
                parts.uri.path()
            )));
        }
    }
    if let Some(content_type) = parts.headers.get(header::CONTENT_TYPE) {
        let content_type = content_type.to_str().unwrap_or("(not text)");
        if !is_json(content_type) {
            return Err(ApiError::AccessDenied(format!(
                "{} {} with Content-Type '{content_type}' is refused: awsim's own endpoints take \
                 JSON. Send -H 'content-type: application/json' with a body, or neither a body \
                 nor a Content-Type.",
                parts.method,
                parts.uri.path()
            )));
        }
    }
    Ok(())
}

/// `host[:port]` without the port (and without an IPv6 literal's brackets).
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(ip, _)| ip);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Whether `host` (`name[:port]`) names this machine: localhost or a name under it, an IP address
/// (a browser sends one only when the page itself was loaded from that address), or one of
/// `extra`. DNS rebinding gives the attacker's own name, never one of these.
fn names_this_machine(host: &str, extra: &[String]) -> bool {
    let name = host_name(host).trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<std::net::IpAddr>().is_ok()
        || extra.contains(&name)
}

/// `application/json`, or any `…+json`, with or without parameters.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

async fn health(app: &App) -> serde_json::Value {
    let config = &app.config;
    let backend = match &config.backend {
        None => json!("canned"),
        Some(b) => json!(crate::config::redact_url(&b.url)),
    };
    let mut body = json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptimeSeconds": app.started.elapsed().as_secs_f64(),
        "backend": backend,
        "streamFormat": config.stream_format.as_str(),
        "accountId": config.account_id,
        "invocationLog": {
            "capacity": app.runtime.invocations.capacity(),
            "size": app.runtime.invocations.len(),
        },
    });
    // Which credentials requests need; the access key ids, never a secret.
    body["auth"] = match &config.auth {
        None => json!({"mode": "off"}),
        Some(auth) => json!({
            "mode": "sigv4",
            "accessKeyIds": auth.access_key_ids().collect::<Vec<_>>(),
            "apiKeys": auth.api_key_count(),
        }),
    };
    if let Some(tls) = &config.tls {
        body["tls"] = json!({
            "certificate": if tls.cert_file().is_some() { "given" } else { "generated" },
            "certificateFile": tls.cert_file(),
            "caCertificate": tls.ca_file(),
            "hostnames": tls.hostnames,
        });
    }
    body["limits"] = json!({
        "maxConnections": config.max_connections,
        "openConnections": app.connections.count(),
        "headerReadTimeoutSeconds": config.header_read_timeout.map(|d| d.as_secs_f64()),
        "bodyReadTimeoutSeconds": config.body_read_timeout.map(|d| d.as_secs_f64()),
        "idleTimeoutSeconds": config.idle_timeout.map(|d| d.as_secs_f64()),
    });
    if let Some(probe) = app.runtime.source.probe().await {
        body["backendStatus"] = probe;
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_this_machine() {
        let extra = vec!["awsim".to_string()];
        for host in [
            "localhost",
            "localhost:4566",
            "LOCALHOST.",
            "app.localhost:3000",
            "127.0.0.1:4566",
            "[::1]:4566",
            "172.17.0.2",
            "awsim:4566",
        ] {
            assert!(names_this_machine(host, &extra), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:4566",
            "localhost.evil.example",
            "awsim.evil",
        ] {
            assert!(!names_this_machine(host, &extra), "{host}");
        }
    }

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/problem+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json("multipart/form-data; boundary=x"));
    }
}
