//! The OpenAI-compatible backend (`--bedrock-backend`): Ollama, LM Studio, llama.cpp, vLLM, LocalAI…
//!
//! ```text
//! ChatRequest ─ request::chat_body ─▶ POST {url}/chat/completions (stream, include_usage)
//!   200 ─▶ Delta::Start at once ─ body chunks ─ sse::Parser ─ decode::Decoder ─▶ Delta… Stop
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
use crate::config::BackendConfig;
use crate::model_map::ModelMap;
use crate::model_ref::ModelRef;
use crate::runtime::embed::{EmbedRequest, Embeddings};
use crate::runtime::stream::delta::{Delta, TokenStream};
use crate::runtime::stream::tokens;
use bytes::Bytes;
use decode::Decoder;
use errors::Target;
use http_body_util::BodyExt;
use hyper::Method;
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

/// A configured backend: one pooled HTTP client shared by every request on a serving thread.
#[derive(Debug)]
pub struct Backend {
    client: client::Client,
    url: String,
    /// Parsed once; the configuration already refused a URL they cannot be made from.
    endpoints: Result<Endpoints, String>,
    first_byte_timeout: Duration,
    map: ModelMap,
}

impl Backend {
    pub fn new(config: &BackendConfig, map: ModelMap) -> Self {
        Self {
            client: client::Client::new(config.connect_timeout, config.api_key.as_deref()),
            endpoints: Endpoints::of(&config.url),
            url: config.url.clone(),
            first_byte_timeout: config.first_byte_timeout,
            map,
        }
    }

    /// The endpoints, or the ServiceUnavailable error a URL that is not one becomes.
    fn endpoints(&self) -> Result<&Endpoints, ApiError> {
        self.endpoints.as_ref().map_err(|why| {
            ApiError::ServiceUnavailable(format!(
                "The backend URL {} is not usable: {why}. Point --bedrock-backend at a running OpenAI-compatible server.",
                self.url
            ))
        })
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
        let prepared = request::chat_body(request, &backend_model)
            .and_then(|body| Ok((body, self.endpoints()?.chat.clone())));
        let (body, uri) = match prepared {
            Ok(prepared) => prepared,
            Err(err) => return Box::pin(futures::stream::once(async move { Err(err) })),
        };
        tracing::debug!(model = %model.id, backend_model = %backend_model, "chat → backend");
        let send = {
            let client = self.client.clone();
            async move {
                client
                    .send(Method::POST, &uri, "text/event-stream", Some(body))
                    .await
            }
        };
        let decoder = Decoder::new(
            request.stop_sequences.clone(),
            tokens::input_tokens(request),
        );
        Box::pin(stream(
            send,
            self.target(&backend_model, model),
            self.first_byte_timeout,
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
        let deadline = Instant::now() + self.first_byte_timeout;
        let uri = &self.endpoints()?.embeddings;
        let send = self.client.send(
            Method::POST,
            uri,
            "application/json",
            Some(Bytes::from(body.to_string())),
        );
        let response = match timeout_at(deadline, send).await {
            Err(_) => {
                return Err(errors::first_byte_timeout(
                    &self.url,
                    self.first_byte_timeout,
                ))
            }
            Ok(Err(err)) => return Err(errors::from_send(&err, &self.url)),
            Ok(Ok(response)) => response,
        };
        let status = response.status().as_u16();
        if !response.status().is_success() {
            let body = read_error_body(response, deadline).await;
            return Err(errors::from_status(status, &body, &target));
        }
        let bytes = match timeout_at(deadline, response.into_body().collect()).await {
            Err(_) => {
                return Err(errors::first_byte_timeout(
                    &self.url,
                    self.first_byte_timeout,
                ))
            }
            Ok(Err(err)) => return Err(errors::broken(&self.url, &errors::root_cause(&err))),
            Ok(Ok(collected)) => collected.to_bytes(),
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
            let uri = &self.endpoints().map_err(|e| e.to_string())?.models;
            let response = self
                .client
                .send(Method::GET, uri, "application/json", None)
                .await
                .map_err(|e| errors::root_cause(&e))?;
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| errors::root_cause(&e))?
                .to_bytes();
            Ok::<_, String>((status, body))
        })
        .await;
        let latency = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut report = json!({"url": self.url, "latencyMs": latency});
        match answer {
            Err(_) => {
                report["reachable"] = json!(false);
                report["error"] = json!(format!(
                    "no answer to GET /models within {}s",
                    PROBE_TIMEOUT.as_secs()
                ));
            }
            Ok(Err(err)) => {
                report["reachable"] = json!(false);
                report["error"] = json!(err);
            }
            Ok(Ok((status, body))) if !(200..300).contains(&status) => {
                report["reachable"] = json!(true);
                report["status"] = json!(status);
                report["error"] = json!(errors::body_message(
                    status,
                    &String::from_utf8_lossy(&body)
                ));
            }
            Ok(Ok((_, body))) => {
                let models = embeddings::model_ids(&body);
                report["reachable"] = json!(true);
                // The mapped models the backend does not list: what `ollama pull` would fix.
                let missing: Vec<&str> = self
                    .map
                    .targets()
                    .into_iter()
                    .filter(|m| !models.iter().any(|have| have == m))
                    .collect();
                report["models"] = json!(models);
                report["missingModels"] = json!(missing);
            }
        }
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
/// the first event; after that it bounds the silence between events.
fn stream(
    send: impl std::future::Future<Output = Result<client::Response, client::Error>> + Send,
    target: Target,
    wait: Duration,
    mut decoder: Decoder,
) -> impl futures::Stream<Item = Result<Delta, ApiError>> + Send {
    async_stream::stream! {
        let deadline = Instant::now() + wait;
        let response = match timeout_at(deadline, send).await {
            Err(_) => {
                yield Err(errors::first_byte_timeout(&target.url, wait));
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

        let mut body = response.into_body();
        let mut events = sse::Parser::default();
        let mut out = Vec::with_capacity(4);
        // One timer for the whole stream, moved on only when it fires: `until` moves with every
        // event, and re-arming a timer per token would insert into and remove from the timer wheel
        // on every token's path.
        let watchdog = tokio::time::sleep_until(deadline);
        tokio::pin!(watchdog);
        let mut until = deadline;
        let mut first = true;
        loop {
            let chunk = tokio::select! {
                biased;
                chunk = client::chunk(&mut body) => chunk,
                () = &mut watchdog => {
                    if Instant::now() < until {
                        watchdog.as_mut().reset(until);
                        continue;
                    }
                    yield Err(if first {
                        errors::first_byte_timeout(&target.url, wait)
                    } else {
                        errors::stalled(&target.url, wait)
                    });
                    return;
                }
            };
            match chunk {
                Err(err) => {
                    yield Err(errors::broken(&target.url, &errors::root_cause(&err)));
                    return;
                }
                Ok(None) => {
                    let end = decoder.at_eof(&mut out);
                    for delta in out.drain(..) {
                        yield Ok(delta);
                    }
                    yield end.map(Delta::Stop);
                    return;
                }
                Ok(Some(bytes)) => events.feed(&bytes),
            }
            loop {
                let complete = match events.next_event() {
                    Ok(None) => break,
                    Ok(Some(event)) => decoder.event(event.kind, event.data, &mut out),
                    Err(malformed) => {
                        yield Err(errors::broken(&target.url, &malformed.to_string()));
                        return;
                    }
                };
                first = false;
                until = Instant::now() + wait;
                // One delta per item, forwarded as it came: no batching between backend and client.
                for delta in out.drain(..) {
                    yield Ok(delta);
                }
                match complete {
                    Err(err) => {
                        yield Err(err);
                        return;
                    }
                    Ok(false) => {}
                    Ok(true) => {
                        let grace = Instant::now() + DRAIN_GRACE;
                        while let Ok(Ok(Some(_))) = timeout_at(grace, client::chunk(&mut body)).await {}
                        let stop = decoder.stop(&mut out);
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
}

/// The body of an error answer, as far as it arrives before `deadline` and within the size limit.
async fn read_error_body(response: client::Response, deadline: Instant) -> String {
    let mut response = response.into_body();
    let mut body = Vec::new();
    while body.len() < ERROR_BODY_LIMIT {
        match timeout_at(deadline, client::chunk(&mut response)).await {
            Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// `{url}/chat/completions`, `{url}/embeddings` and `{url}/models`.
#[derive(Debug)]
struct Endpoints {
    chat: client::Endpoint,
    embeddings: client::Endpoint,
    models: client::Endpoint,
}

impl Endpoints {
    fn of(base: &str) -> Result<Self, String> {
        let at = |path: &str| client::Endpoint::parse(&format!("{base}/{path}"));
        Ok(Self {
            chat: at("chat/completions")?,
            embeddings: at("embeddings")?,
            models: at("models")?,
        })
    }
}
