//! The listener: HTTP/1.1 and HTTP/2 prior-knowledge (h2c) on one port, one task per connection,
//! graceful shutdown with a deadline. Each request is routed, its body read (within Bedrock's limit),
//! and handed to the admin, runtime or management side with the part of the [`App`] it needs; every
//! response gets an `x-amzn-RequestId`.

use crate::app::App;
use crate::aws::abort::{ConnReset, ResettableStream};
use crate::aws::context::{region_of, DEFAULT_REGION};
use crate::aws::http::{check_declared_length, error_response, too_large, Body, MAX_REQUEST_BODY};
use crate::aws::{ApiError, RequestContext};
use crate::call::Call;
use crate::config::Config;
use crate::operations::Operation;
use crate::{admin, management, runtime};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Binds `addr` with a deep accept backlog: std's default of 128 drops SYNs when many clients connect
/// at once, and a dropped SYN costs the client a one-second retransmit.
pub fn bind(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

/// Serves `config.addr` on `config.workers` threads, each with its own single-threaded tokio
/// runtime accepting from the one listening socket, until `shutdown` resolves. `on_listening` gets
/// the bound address once every thread is ready to accept. How the shutdown went is logged once,
/// for all threads.
///
/// Why not tokio's multi-thread runtime: on a small machine its work stealing moves tokens and
/// requests between threads (a futex wake and a cold cache each time); with a connection pinned to
/// one thread, a token is read, shaped and written without leaving it (`benches/README.md`).
pub fn serve(
    config: Config,
    shutdown: impl Future<Output = ()>,
    on_listening: impl FnOnce(std::net::SocketAddr, &App),
) -> std::io::Result<()> {
    let runtime = single_threaded_runtime()?;
    let workers = config.workers.max(1);
    let (listener, app) = runtime.block_on(async {
        let listener = bind(config.addr)?.into_std()?;
        Ok::<_, std::io::Error>((listener, App::new(config)))
    })?;
    let addr = listener.local_addr()?;
    let deadline = app.config.shutdown_timeout;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut threads = Vec::with_capacity(workers - 1);
    for i in 1..workers {
        let listener = listener.try_clone()?;
        let app = app.for_another_thread();
        let mut stopped = stopped.clone();
        let thread = std::thread::Builder::new()
            .name(format!("awsim-worker-{i}"))
            .spawn(move || {
                let runtime = single_threaded_runtime()?;
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener)?;
                    let ended = run(listener, app, async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    })
                    .await;
                    Ok::<_, std::io::Error>(ended)
                })
            })?;
        threads.push(thread);
    }
    on_listening(addr, &app);
    let served = runtime.block_on(async move {
        let listener = TcpListener::from_std(listener)?;
        let ended = run(listener, app, async move {
            shutdown.await;
            let _ = stop.send(true);
        })
        .await;
        Ok::<_, std::io::Error>(ended)
    });
    let mut drained = matches!(served, Ok(Ended::Drained));
    for thread in threads {
        match thread.join() {
            Ok(Ok(ended)) => drained &= ended == Ended::Drained,
            Ok(Err(err)) => tracing::warn!("a worker thread failed: {err}"),
            Err(_) => tracing::warn!("a worker thread panicked"),
        }
    }
    served?;
    if drained {
        tracing::info!("all connections closed");
    } else {
        tracing::warn!("shutdown deadline of {deadline:?} passed; open connections were closed");
    }
    Ok(())
}

/// How serving one listener ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Every open connection finished within the shutdown deadline.
    Drained,
    /// The deadline passed; the connections still open were closed.
    DeadlinePassed,
}

fn single_threaded_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Serves `listener` until `shutdown` resolves, then lets open requests finish for up to
/// `config.shutdown_timeout` before closing them. Logs nothing of its own end: [`serve`] runs one
/// per thread and says once how they ended.
pub async fn run(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()>,
) -> Ended {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http2()
        .max_concurrent_streams(1024)
        .keep_alive_interval(None);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _peer)) => stream,
                    Err(err) => {
                        // EMFILE and friends: back off instead of spinning.
                        tracing::warn!("accept failed: {err}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // Tokens must leave at once: no Nagle delay on small frames.
                let _ = stream.set_nodelay(true);
                let (stream, reset) = ResettableStream::new(stream);
                let app = app.clone();
                let service = service_fn(move |req| {
                    let app = app.clone();
                    let reset = reset.clone();
                    async move { Ok::<_, Infallible>(handle(app, req, reset).await) }
                });
                let conn = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(err) = conn.await {
                        tracing::debug!("connection ended: {err}");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let deadline = app.config.shutdown_timeout;
    tokio::select! {
        () = graceful.shutdown() => Ended::Drained,
        () = tokio::time::sleep(deadline) => Ended::DeadlinePassed,
    }
}

async fn handle(app: Arc<App>, req: Request<Incoming>, reset: ConnReset) -> Response<Body> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let mut resp = match dispatch(&app, req, &request_id, reset).await {
        Ok(resp) => resp,
        Err(err) => {
            if err.status() >= 500 {
                tracing::warn!(%method, %path, "{err}");
            } else {
                tracing::debug!(%method, %path, "{err}");
            }
            error_response(&err)
        }
    };
    tracing::debug!(%method, %path, status = resp.status().as_u16(), "request");
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-amzn-requestid", value);
    }
    resp
}

async fn dispatch(
    app: &Arc<App>,
    req: Request<Incoming>,
    request_id: &str,
    reset: ConnReset,
) -> Result<Response<Body>, ApiError> {
    let route = app.router.route(req.method(), req.uri().path())?;
    let (parts, body) = req.into_parts();
    check_declared_length(&parts.headers)?;
    let body = match Limited::new(body, MAX_REQUEST_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => {
            return Err(too_large(format!("more than {MAX_REQUEST_BODY}")))
        }
        Err(err) => {
            return Err(ApiError::validation(format!(
                "could not read the request body: {err}"
            )))
        }
    };
    crate::auth::check(app.config.auth.as_ref(), &route.operation, &parts, &body)?;
    let query = parts.uri.query().map(str::to_string);
    let region =
        region_of(&parts.headers, query.as_deref()).unwrap_or_else(|| DEFAULT_REGION.to_string());
    let ctx = RequestContext::new(
        request_id.to_string(),
        region,
        app.config.account_id.clone(),
    );
    let call = Call {
        route,
        ctx,
        headers: parts.headers,
        query,
        body,
        // An HTTP/2 connection carries other streams: a disconnect resets this one alone.
        conn_reset: (parts.version < hyper::Version::HTTP_2).then_some(reset),
    };
    match call.route.operation {
        Operation::Admin(op) => admin::handle(op, app, &call).await,
        Operation::Runtime(op) => runtime::ops::handle(op, &app.runtime, &app.store, call).await,
        Operation::Management(op) => management::handle(op, &app.store, &call),
        Operation::NotEmulated(name) => Err(call.route.not_implemented(name)),
    }
}
