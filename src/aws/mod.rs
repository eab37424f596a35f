//! AWS conventions shared by the control plane and the runtime: error shapes, request context
//! (region, account, request id), ARNs, timestamps and HTTP plumbing.

pub(crate) mod arn;
pub(crate) mod context;
pub(crate) mod error;
pub(crate) mod http;
pub(crate) mod time;

pub use context::RequestContext;
pub use error::ApiError;
