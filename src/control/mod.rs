//! Observing (and steering) awsim from a test: the [`invocations`] log records every runtime
//! call, what it asked and what went back, for `GET /_awsim/invocations`.

pub(crate) mod invocations;
