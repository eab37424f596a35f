//! awsim's own endpoints under `/_awsim/`: health (what is this server, what does it answer with)
//! and state reset for test suites.

use crate::app::App;
use crate::aws::http::{json, Body};
use crate::aws::ApiError;
use crate::operations::AdminOp;
use hyper::Response;
use serde_json::json;

pub async fn handle(op: AdminOp, app: &App) -> Result<Response<Body>, ApiError> {
    match op {
        AdminOp::Health => Ok(json(200, &health(app).await)),
        AdminOp::Reset => {
            app.store.reset();
            Ok(json(200, &json!({ "reset": true })))
        }
    }
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
    });
    if let Some(probe) = app.runtime.source.probe().await {
        body["backendStatus"] = probe;
    }
    body
}
