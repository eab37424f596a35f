//! The Bedrock control plane (`bedrock`): a small side module with in-memory, region-scoped state.

pub mod operations;

use crate::aws::http::Body;
use crate::aws::ApiError;
use crate::call::Call;
use crate::config::Config;
use crate::server::App;
use hyper::Response;
use std::sync::Arc;

/// All control-plane state.
#[derive(Debug, Default)]
pub struct Store {}

impl Store {
    pub fn new(_config: &Config) -> Self {
        Self::default()
    }

    /// Forgets everything (`POST /_awsim/reset`).
    pub fn reset(&self) {}
}

pub async fn handle(app: &Arc<App>, call: Call) -> Result<Response<Body>, ApiError> {
    Err(not_implemented(app, &call))
}

/// A real Bedrock operation that awsim does not emulate: a 501 that names it.
pub fn not_implemented(app: &App, call: &Call) -> ApiError {
    let op = call.route.operation;
    let path = app
        .router
        .template_of(op)
        .map(|(m, p)| format!(" ({m} {p})"))
        .unwrap_or_default();
    ApiError::NotImplemented(format!(
        "awsim does not implement the Bedrock operation {op}{path}; see the README for the list of supported operations"
    ))
}
