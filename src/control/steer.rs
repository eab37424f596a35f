//! What the rules decided for one call, and how a runtime operation applies it: an HTTP error or
//! a transport fault before the first byte, a scripted source, a fault stage after N tokens, and
//! the output tokens a quota bucket is charged when the answer stops.

use super::fault::{self, Class, Fault, Kind};
use super::invocations::record::Recording;
use super::quota::{Buckets, Key};
use super::rule::Action;
use crate::aws::abort::{abortable, aborted_response, Abort, ConnReset};
use crate::aws::http::{error_response, Body};
use crate::aws::ApiError;
use crate::runtime::sources::scripted::Script;
use crate::runtime::stream::delta::{Delta, TokenStream};
use crate::runtime::stream::fault::{inject, MidStream};
use futures::StreamExt;
use hyper::header::HeaderValue;
use hyper::Response;
use std::sync::Arc;

/// The decision for one call.
#[derive(Debug)]
pub struct Steered {
    rule_id: Option<String>,
    reason: Option<String>,
    fired: Fired,
    /// Quota buckets that admitted the call: they are charged its output tokens.
    charges: Vec<Key>,
    buckets: Arc<Buckets>,
    /// The call's HTTP/1.1 connection, reset by a `disconnect`.
    conn: Option<ConnReset>,
    /// Set once a mid-stream `disconnect` is staged: the response body must obey it.
    abort: Option<Abort>,
}

#[derive(Debug)]
enum Fired {
    Nothing,
    Respond(Arc<Script>),
    Fault(Fault),
    Throttled,
}

impl Steered {
    pub(super) fn new(conn: Option<ConnReset>, buckets: Arc<Buckets>) -> Self {
        Self {
            rule_id: None,
            reason: None,
            fired: Fired::Nothing,
            charges: Vec::new(),
            buckets,
            conn,
            abort: None,
        }
    }

    pub(super) fn fire(&mut self, rule_id: String, action: &Action) {
        self.rule_id = Some(rule_id);
        self.fired = match action {
            Action::Respond(script) => Fired::Respond(script.clone()),
            Action::Fault(fault) => Fired::Fault(fault.clone()),
            Action::Quota(_) => Fired::Nothing,
        };
    }

    pub(super) fn throttle(&mut self, rule_id: Option<String>, reason: String) {
        self.rule_id = rule_id;
        self.reason = Some(reason);
        self.fired = Fired::Throttled;
    }

    pub(super) fn charge(&mut self, key: Key) {
        self.charges.push(key);
    }

    /// The id of the rule that fired, if one did.
    pub fn rule_id(&self) -> Option<&str> {
        self.rule_id.as_deref()
    }

    /// Why the call was refused when no rule says it: a quota, and which.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// The scripted answer, when a `respond` rule fired: it takes the place of the source.
    pub fn script(&self) -> Option<&Script> {
        match &self.fired {
            Fired::Respond(script) => Some(script),
            _ => None,
        }
    }

    /// What happens before the first byte: `Err` for an AWS error, `Ok(Some)` for a response of
    /// its own (an error with retry headers, an aborted connection), `Ok(None)` to go on — after
    /// a `delay` or a timed `stall`. An operation that does not stream (`streamed` false) meets
    /// a mid-stream fault here, as the matching error; `model_id` names the model in errors. A
    /// response of its own is recorded in `rec` here (an `Err` is recorded by the caller).
    pub async fn before_first_byte(
        &self,
        streamed: bool,
        model_id: &str,
        rec: &mut Recording,
    ) -> Result<Option<Response<Body>>, ApiError> {
        let fault = match &self.fired {
            Fired::Throttled => return Err(fault::throttled()),
            Fired::Fault(fault) => fault,
            Fired::Nothing | Fired::Respond(_) => return Ok(None),
        };
        let now = fault.after_tokens.is_none() || !streamed;
        match (fault.kind, now) {
            (Kind::Delay, _) | (Kind::Stall, true) => {
                match fault.pause {
                    Some(pause) => tokio::time::sleep(pause).await,
                    // Until the client gives up: hyper drops this future when it leaves.
                    None => futures::future::pending::<()>().await,
                }
                Ok(None)
            }
            (Kind::Disconnect, true) => {
                rec.aborted();
                Ok(Some(aborted_response(self.conn.clone())))
            }
            (_, false) => Ok(None),
            (kind, true) => {
                let Some(err) = fault.error(model_id) else {
                    return Ok(None);
                };
                if kind.class() == Class::Stream {
                    return Err(err.into_collected_error(model_id));
                }
                match fault.retry_after {
                    None => Err(err),
                    Some(after) => {
                        rec.failed(&err);
                        let mut resp = error_response(&err);
                        let h = resp.headers_mut();
                        // The standard header in whole seconds (the JS SDK reads it), and the
                        // AWS one in milliseconds (botocore, the JS and Rust SDKs read it).
                        let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
                        h.insert("retry-after", HeaderValue::from(seconds));
                        let ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX);
                        h.insert("x-amz-retry-after", HeaderValue::from(ms));
                        Ok(Some(resp))
                    }
                }
            }
        }
    }

    /// The stages a streamed answer passes through: the fault after N tokens, and the quota
    /// charge of its output tokens.
    pub fn stage(&mut self, stream: TokenStream, streamed: bool, model_id: &str) -> TokenStream {
        let mut stream = stream;
        if let (Fired::Fault(fault), true) = (&self.fired, streamed) {
            if let Some(after) = fault.after_tokens {
                let what = match fault.kind {
                    Kind::Stall => Some(MidStream::Stall(fault.pause)),
                    Kind::Disconnect => {
                        let abort = Abort::new(self.conn.clone());
                        self.abort = Some(abort.clone());
                        Some(MidStream::Disconnect(abort))
                    }
                    _ => fault
                        .error(model_id)
                        .map(|err| MidStream::Fail(err.into_stream_error())),
                };
                if let Some(what) = what {
                    stream = inject(stream, after, what);
                }
            }
        }
        if !self.charges.is_empty() {
            let charges = std::mem::take(&mut self.charges);
            let buckets = self.buckets.clone();
            stream = Box::pin(stream.inspect(move |item| {
                if let Ok(Delta::Stop(stop)) = item {
                    for key in &charges {
                        buckets.charge(key, stop.usage.output_tokens);
                    }
                }
            }));
        }
        stream
    }

    /// The staged mid-stream `disconnect`, if any: a recording tells a cut it made from a client
    /// that left.
    pub fn abort(&self) -> Option<&Abort> {
        self.abort.as_ref()
    }

    /// The streaming response, bound to a staged `disconnect`.
    pub fn finish(&self, resp: Response<Body>) -> Response<Body> {
        match &self.abort {
            Some(abort) => resp.map(|body| abortable(body, abort.clone())),
            None => resp,
        }
    }
}
