//! awsim's own endpoints under `/_awsim/`: health (what is this server, what does it answer with),
//! state reset for test suites, and the invocation log.

use crate::app::App;
use crate::aws::http::{json, Body};
use crate::aws::ApiError;
use crate::call::Call;
use crate::control::invocations::view;
use crate::operations::AdminOp;
use hyper::Response;
use serde_json::json;

pub async fn handle(op: AdminOp, app: &App, call: &Call) -> Result<Response<Body>, ApiError> {
    let log = &app.runtime.invocations;
    match op {
        AdminOp::Health => Ok(json(200, &health(app).await)),
        AdminOp::Reset => {
            app.store.reset();
            // A test suite's reset starts each test from an empty log too.
            log.clear();
            Ok(json(200, &json!({ "reset": true })))
        }
        AdminOp::ListInvocations => Ok(json(200, &view::list(log, &call.query_params()?)?)),
        AdminOp::GetInvocation => Ok(json(200, &view::detail(log, call.param(0))?)),
        AdminOp::ClearInvocations => Ok(json(200, &view::clear(log))),
    }
}

async fn health(app: &App) -> serde_json::Value {
    let config = &app.config;
    let backend = match &config.backend {
        None => json!("canned"),
        Some(b) => json!(b.url),
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
    if let Some(probe) = app.runtime.source.probe().await {
        body["backendStatus"] = probe;
    }
    body
}
