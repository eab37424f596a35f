//! awsim's own endpoints under `/_awsim/`: health (what is this server, what does it answer with),
//! state reset for test suites, and the rules that steer answers (`crate::control::api`).

use crate::app::App;
use crate::aws::http::{json, Body};
use crate::aws::ApiError;
use crate::call::Call;
use crate::control::api as rules;
use crate::operations::AdminOp;
use hyper::Response;
use serde_json::json;

pub async fn handle(op: AdminOp, app: &App, call: &Call) -> Result<Response<Body>, ApiError> {
    match op {
        AdminOp::Health => Ok(json(200, &health(app).await)),
        AdminOp::Reset => {
            app.store.reset();
            app.control.reset();
            Ok(json(200, &json!({ "reset": true })))
        }
        AdminOp::AddRules => rules::add(&app.control, call),
        AdminOp::ListRules => Ok(rules::list(&app.control)),
        AdminOp::DeleteRules => Ok(rules::clear(&app.control)),
        AdminOp::DeleteRule => rules::delete(&app.control, call),
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
    });
    if let Some(probe) = app.runtime.source.probe().await {
        body["backendStatus"] = probe;
    }
    body
}
