//! AWS conventions shared by the control plane and the runtime: error shapes, request context
//! (region, account, request id), ARNs, timestamps, HTTP plumbing, and responses cut short on purpose.

pub(crate) mod abort;
pub(crate) mod arn;
pub(crate) mod context;
pub(crate) mod error;
pub(crate) mod http;
pub(crate) mod time;

pub use context::RequestContext;
pub use error::ApiError;
