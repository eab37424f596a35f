//! The OpenAI-compatible backend (`--bedrock-backend`): Ollama, LM Studio, llama.cpp, vLLM, LocalAI,
//! and hosted gateways over https.
//!
//! ```text
//! ChatRequest ─ request::chat_body ─▶ POST {url}/chat/completions (stream, include_usage)
//!   200 ─▶ Delta::Start at once ─ reqwest bytes_stream ─ sse::events ─ decode::Decoder ─▶ Delta… Stop
//!   non-2xx / refused / silent ─ errors ─▶ ApiError before the first item (an HTTP error)
//! EmbedRequest ─▶ POST {url}/embeddings ─ embeddings::fit ─▶ Embeddings
//! ```
//!
//! The token stream is lazy and pulled by the HTTP body: nothing runs in a task of its own, so a
//! client that goes away drops the stream, which drops the backend response and closes the
//! backend connection mid-answer.

mod client;
pub(crate) mod decode;
mod embeddings;
pub(crate) mod errors;
pub(crate) mod request;
pub(crate) mod sse;
mod tool_calls;

use crate::runtime::stream::request::ChatRequest;

use crate::aws::ApiError;
use crate::config::{redact_url, BackendConfig};
use crate::model_map::ModelMap;
use crate::model_ref::ModelRef;
use crate::runtime::embed::{EmbedRequest, Embeddings};
use crate::runtime::stream::delta::{Delta, TokenStream};
use crate::runtime::stream::tokens;
use bytes::{Bytes, BytesMut};
use decode::{Decoder, Progress};
use errors::Target;
use futures::StreamExt;
use reqwest::{Method, Url};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::time::{timeout_at, Instant};

/// How long `GET /_awsim/health` waits for `GET {backend}/models`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// After the answer is complete, how long to wait for the rest of the body (`[DONE]`, the chunked
/// terminator): a connection read to its end goes back to the pool instead of being closed.
const DRAIN_GRACE: Duration = Duration::from_millis(100);
/// Error bodies are read up to this size for their message.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// Whole answers (`/embeddings`, `/models`) are read up to this size, as a stream's events are.
const ANSWER_LIMIT: usize = sse::LIMIT;
/// How many of the backend's model ids `/_awsim/health` lists.
const LISTED_MODELS: usize = 20;

/// A configured backend: one pooled HTTP client shared by every request on a serving thread.
#[derive(Debug)]
pub struct Backend {
    /// The client and the endpoints, or why they could not be made (the configuration already
    /// refused what it could check).
    ready: Result<(client::Client, Endpoints), String>,
    /// The URL as messages show it: credentials redacted.
    url: String,
    timeouts: Timeouts,
    map: ModelMap,
}

#[derive(Debug, Clone, Copy)]
struct Timeouts {
    first_byte: Duration,
    /// `None`: silence mid-answer is not bounded (`--bedrock-backend-idle-timeout 0`).
    idle: Option<Duration>,
}

impl Backend {
    pub fn new(config: &BackendConfig, map: ModelMap) -> Self {
        let ready = client::Client::new(config)
            .and_then(|client| Ok((client, Endpoints::of(&config.url)?)));
        if let Err(why) = &ready {
            tracing::error!("backend {}: {why}", redact_url(&config.url));
        }
        Self {
            ready,
            url: redact_url(&config.url).into_owned(),
            timeouts: Timeouts {
                first_byte: config.first_byte_timeout,
                idle: Some(config.idle_timeout).filter(|idle| !idle.is_zero()),
            },
            map,
        }
    }

    /// The client and endpoints, or the ServiceUnavailable error an unusable backend becomes.
    fn ready(&self) -> Result<(&client::Client, &Endpoints), ApiError> {
        match &self.ready {
            Ok((client, endpoints)) => Ok((client, endpoints)),
            Err(why) => Err(ApiError::ServiceUnavailable(format!(
                "The backend URL {} is not usable: {why}. Point --bedrock-backend at a running OpenAI-compatible server.",
                self.url
            ))),
        }
    }

    fn target(&self, model: &str, info: &ModelRef) -> Target {
        Target {
            url: self.url.clone(),
            model: model.to_string(),
            resource: info.id.clone(),
        }
    }

    /// The backend model that answers `model`: a chat model, or an embedding model.
    pub fn model_for(&self, model: &ModelRef, embeddings: bool) -> &str {
        if embeddings {
            self.map.embed_model(&lookup_ids(model))
        } else {
            self.map.chat_model(&lookup_ids(model))
        }
    }

    /// The answer to `request`, token by token.
    pub fn chat(&self, request: &ChatRequest, model: &ModelRef) -> TokenStream {
        let backend_model = self.map.chat_model(&lookup_ids(model)).to_string();
        let prepared = request::chat_body(request, &backend_model).and_then(|body| {
            let (client, endpoints) = self.ready()?;
            Ok((body, client.clone(), endpoints.chat.clone()))
        });
        let (body, client, url) = match prepared {
            Ok(prepared) => prepared,
            Err(err) => return Box::pin(futures::stream::once(async move { Err(err) })),
        };
        tracing::debug!(model = %model.id, backend_model = %backend_model, "chat → backend");
        let send = async move {
            client
                .send(Method::POST, &url, "text/event-stream", Some(body))
                .await
        };
        let decoder = Decoder::new(
            request.stop_sequences.clone(),
            tokens::input_tokens(request),
        )
        .with_budget(request.max_tokens);
        Box::pin(stream(
            send,
            self.target(&backend_model, model),
            self.timeouts,
            decoder,
        ))
    }

    /// The vectors for an embedding request, fitted to the requested dimension.
    pub async fn embed(
        &self,
        request: &EmbedRequest,
        model: &ModelRef,
    ) -> Result<Embeddings, ApiError> {
        let backend_model = self.map.embed_model(&lookup_ids(model)).to_string();
        let target = self.target(&backend_model, model);
        let body = json!({"model": backend_model, "input": request.texts});
        let wait = self.timeouts.first_byte;
        let deadline = Instant::now() + wait;
        let (client, endpoints) = self.ready()?;
        let send = client.send(
            Method::POST,
            &endpoints.embeddings,
            "application/json",
            Some(Bytes::from(body.to_string())),
        );
        let response = match timeout_at(deadline, send).await {
            Err(_) => return Err(errors::first_byte_timeout(&self.url, wait)),
            Ok(Err(err)) => return Err(errors::from_send(&err, &self.url)),
            Ok(Ok(response)) => response,
        };
        let status = response.status().as_u16();
        if !response.status().is_success() {
            let body = read_error_body(response, deadline).await;
            return Err(errors::from_status(status, &body, &target));
        }
        let bytes = match timeout_at(deadline, read_whole(response, ANSWER_LIMIT)).await {
            Err(_) => return Err(errors::first_byte_timeout(&self.url, wait)),
            Ok(Err(Read::Failed(err))) => {
                return Err(errors::broken(&self.url, &errors::root_cause(&err)))
            }
            Ok(Err(Read::TooLarge)) => {
                return Err(embeddings::too_large(&target, ANSWER_LIMIT));
            }
            Ok(Ok(bytes)) => bytes,
        };
        let answer = embeddings::parse(&bytes, request.texts.len(), &target)?;
        let input_tokens = answer
            .prompt_tokens
            .unwrap_or_else(|| request.texts.iter().map(|t| tokens::count(t)).sum());
        let vectors = answer
            .vectors
            .into_iter()
            .map(|v| embeddings::fit(v, request.dimensions, request.normalize))
            .collect();
        Ok(Embeddings {
            vectors,
            input_tokens,
        })
    }

    /// `GET {backend}/models`, briefly: whether the backend answers and what it serves.
    pub async fn probe(&self) -> Value {
        let started = Instant::now();
        let answer = timeout_at(started + PROBE_TIMEOUT, async {
            let (client, endpoints) = self.ready().map_err(|e| e.message().to_string())?;
            let response = client
                .send(Method::GET, &endpoints.models, "application/json", None)
                .await
                .map_err(|e| errors::root_cause(&e))?;
            let status = response.status().as_u16();
            let body = if response.status().is_success() {
                read_whole(response, ANSWER_LIMIT).await
            } else {
                let message = read_error_body(response, started + PROBE_TIMEOUT).await;
                Ok(Bytes::from(message))
            };
            Ok::<_, String>((status, body))
        })
        .await;
        let latency = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut report = json!({"url": self.url, "latencyMs": latency});
        let (status, body) = match answer {
            Err(_) => {
                report["reachable"] = json!(false);
                report["error"] = json!(format!(
                    "no answer to GET /models within {}s",
                    PROBE_TIMEOUT.as_secs()
                ));
                return report;
            }
            Ok(Err(err)) => {
                report["reachable"] = json!(false);
                report["error"] = json!(err);
                return report;
            }
            Ok(Ok(answer)) => answer,
        };
        report["reachable"] = json!(true);
        let body = match body {
            Ok(body) => body,
            Err(Read::Failed(err)) => {
                report["error"] = json!(errors::root_cause(&err));
                return report;
            }
            Err(Read::TooLarge) => {
                report["error"] = json!(format!(
                    "GET /models answered with more than {} MiB",
                    ANSWER_LIMIT >> 20
                ));
                return report;
            }
        };
        if !(200..300).contains(&status) {
            report["status"] = json!(status);
            report["error"] = json!(errors::body_message(
                status,
                &String::from_utf8_lossy(&body)
            ));
            return report;
        }
        let models = embeddings::model_ids(&body);
        // The mapped models the backend does not list: what `ollama pull` would fix.
        let missing: Vec<&str> = self
            .map
            .targets()
            .into_iter()
            .filter(|m| !models.iter().any(|have| have == m))
            .collect();
        report["modelCount"] = json!(models.len());
        report["models"] = json!(models[..models.len().min(LISTED_MODELS)]);
        report["missingModels"] = json!(missing);
        report
    }
}

/// The ids to look a model up by: as sent, then what it resolved through, then the foundation id.
fn lookup_ids(model: &ModelRef) -> Vec<&str> {
    let mut ids: Vec<&str> = model.via.iter().map(String::as_str).collect();
    if !ids.contains(&model.id.as_str()) {
        ids.push(&model.id);
    }
    ids
}

/// The streaming half of [`Backend::chat`]. The first-byte timeout covers the response head and
/// the first event; after that the idle timeout bounds the silence between events.
fn stream(
    send: impl std::future::Future<Output = Result<reqwest::Response, reqwest::Error>> + Send,
    target: Target,
    timeouts: Timeouts,
    mut decoder: Decoder,
) -> impl futures::Stream<Item = Result<Delta, ApiError>> + Send {
    async_stream::stream! {
        let deadline = Instant::now() + timeouts.first_byte;
        let response = match timeout_at(deadline, send).await {
            Err(_) => {
                yield Err(errors::first_byte_timeout(&target.url, timeouts.first_byte));
                return;
            }
            Ok(Err(err)) => {
                yield Err(errors::from_send(&err, &target.url));
                return;
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status().as_u16();
        if !response.status().is_success() {
            let body = read_error_body(response, deadline).await;
            yield Err(errors::from_status(status, &body, &target));
            return;
        }
        yield Ok(Delta::Start { input_tokens: decoder.input_estimate() });

        let events = sse::events(response.bytes_stream());
        let mut events = std::pin::pin!(events);
        let mut out = Vec::with_capacity(4);
        // One timer for the whole stream, moved on only when it fires: `until` moves with every
        // event, and re-arming a timer per token would insert into and remove from the timer wheel
        // on every token's path.
        let watchdog = tokio::time::sleep_until(deadline);
        tokio::pin!(watchdog);
        let mut until = deadline;
        let mut first = true;
        // Off once the answer began when silence mid-answer is not bounded.
        let mut watching = true;
        loop {
            let next = tokio::select! {
                biased;
                next = events.next() => next,
                () = &mut watchdog, if watching => {
                    if Instant::now() < until {
                        watchdog.as_mut().reset(until);
                        continue;
                    }
                    yield Err(if first {
                        errors::first_byte_timeout(&target.url, timeouts.first_byte)
                    } else {
                        errors::stalled(&target.url, timeouts.idle.unwrap_or_default())
                    });
                    return;
                }
            };
            let event = match next {
                None => {
                    let end = decoder.at_eof(&mut out);
                    for delta in out.drain(..) {
                        yield Ok(delta);
                    }
                    yield end.map(Delta::Stop);
                    return;
                }
                Some(Err(failure)) => {
                    let cause = match &failure {
                        sse::Failure::Transport(err) => errors::root_cause(err),
                        other => other.to_string(),
                    };
                    yield Err(errors::broken(&target.url, &cause));
                    return;
                }
                Some(Ok(event)) => event,
            };
            let progress = decoder.event(&event.event, &event.data, &mut out);
            if let Some(idle) = timeouts.idle {
                until = Instant::now() + idle;
            }
            if first {
                first = false;
                watching = timeouts.idle.is_some();
                // The idle timeout is usually the shorter: the timer moves back to it once.
                watchdog.as_mut().reset(until);
            }
            // One delta per item, forwarded as it came: no batching between backend and client.
            for delta in out.drain(..) {
                yield Ok(delta);
            }
            match progress {
                Err(err) => {
                    yield Err(err);
                    return;
                }
                Ok(Progress::More) => {}
                Ok(Progress::Complete) => {
                    let grace = Instant::now() + DRAIN_GRACE;
                    while let Ok(Some(Ok(_))) = timeout_at(grace, events.next()).await {}
                    let stop = decoder.stop(&mut out);
                    for delta in out.drain(..) {
                        yield Ok(delta);
                    }
                    yield Ok(Delta::Stop(stop));
                    return;
                }
                Ok(Progress::OverBudget) => {
                    // Returning drops the unread response, which closes the backend connection.
                    tracing::debug!(url = %target.url, "backend went past maxTokens; answer cut");
                    let stop = decoder.cut(&mut out);
                    for delta in out.drain(..) {
                        yield Ok(delta);
                    }
                    yield Ok(Delta::Stop(stop));
                    return;
                }
            }
        }
    }
}

/// Why a whole body was not read.
enum Read {
    Failed(reqwest::Error),
    TooLarge,
}

/// The whole body, refused past `limit` bytes (before reading, when its length is announced).
async fn read_whole(mut response: reqwest::Response, limit: usize) -> Result<Bytes, Read> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(Read::TooLarge);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(Read::Failed)? {
        if body.len() + chunk.len() > limit {
            return Err(Read::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The body of an error answer, as far as it arrives before `deadline` and within the size limit.
async fn read_error_body(mut response: reqwest::Response, deadline: Instant) -> String {
    let mut body = Vec::new();
    while body.len() < ERROR_BODY_LIMIT {
        match timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(ERROR_BODY_LIMIT);
    String::from_utf8_lossy(&body).into_owned()
}

/// `{url}/chat/completions`, `{url}/embeddings` and `{url}/models`.
#[derive(Debug)]
struct Endpoints {
    chat: Url,
    embeddings: Url,
    models: Url,
}

impl Endpoints {
    fn of(base: &str) -> Result<Self, String> {
        Ok(Self {
            chat: client::endpoint(base, "chat/completions")?,
            embeddings: client::endpoint(base, "embeddings")?,
            models: client::endpoint(base, "models")?,
        })
    }
}
