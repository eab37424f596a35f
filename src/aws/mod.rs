//! AWS conventions shared by the control plane and the runtime: error shapes, request context
//! (region, account, request id), ARNs, timestamps and HTTP plumbing.

pub mod arn;
pub mod context;
pub mod error;
pub mod http;
pub mod time;

pub use context::RequestContext;
pub use error::ApiError;
