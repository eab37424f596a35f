//! The listener: HTTP/1.1, HTTP/2 prior-knowledge (h2c) and TLS (HTTP/1.1 or HTTP/2 by ALPN) on one
//! port, one task per connection, bounded idle and read times, a cap on open connections, graceful
//! shutdown with a deadline. Each request is routed, its body read (within Bedrock's limit and
//! `--body-read-timeout`), and handed to the admin, runtime or management side with the part of the
//! [`App`] it needs; every response gets an `x-amzn-RequestId`.

mod bare_errors;
pub(crate) mod connections;
pub mod tls;

use crate::app::App;
use crate::aws::abort::{ConnReset, ResettableStream};
use crate::aws::context::{region_of, DEFAULT_REGION};
use crate::aws::http::{check_declared_length, error_response, too_large, Body, MAX_REQUEST_BODY};
use crate::aws::{ApiError, RequestContext};
use crate::call::Call;
use crate::config::Config;
use crate::operations::Operation;
use crate::{admin, management, runtime};
use connections::{Admission, Conn, Due, Ticket, Timeouts, Tracked, Watched};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

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
    let mut config = config;
    let (listener, app) = runtime.block_on(async {
        let listener = bind(config.addr)?.into_std()?;
        config.addr = listener.local_addr()?;
        if let Some(tls) = config.tls.as_mut() {
            tls.write_ca(config.addr.port())
                .map_err(std::io::Error::other)?;
        }
        Ok::<_, std::io::Error>((listener, App::new(config)))
    })?;
    let addr = listener.local_addr()?;
    let deadline = app.config.shutdown_timeout;
    let tls = app.config.tls.clone();
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
    if let Some(tls) = &tls {
        tls.remove_temporary_ca();
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
        // Room above awsim's own header limit, so that awsim (not the HTTP/2 layer) refuses a
        // large header block, in the AWS shape.
        .max_header_list_size(2 * MAX_HEADER_BYTES as u32)
        .keep_alive_interval(None);
    let builder = Arc::new(builder);
    let tls = app
        .config
        .tls
        .as_ref()
        .map(|t| tokio_rustls::TlsAcceptor::from(t.server.clone()));
    // Every connection task holds a receiver: `send(true)` asks them to close, and the sender's
    // `closed()` says they all have.
    let (stop, stopping) = watch::channel(false);
    let mut warned_at: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _peer)) => stream,
                    Err(err) => {
                        let pause = accept_failed(&app, &err, &mut warned_at);
                        tokio::time::sleep(pause).await;
                        continue;
                    }
                };
                // Tokens must leave at once: no Nagle delay on small frames.
                let _ = stream.set_nodelay(true);
                let (ticket, admission) = app.connections.open();
                tokio::spawn(connection(
                    stream,
                    app.clone(),
                    builder.clone(),
                    tls.clone(),
                    ticket,
                    admission,
                    stopping.clone(),
                ));
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    drop(stopping);
    let _ = stop.send(true);
    let deadline = app.config.shutdown_timeout;
    tokio::select! {
        () = stop.closed() => Ended::Drained,
        () = tokio::time::sleep(deadline) => Ended::DeadlinePassed,
    }
}

/// How many idle connections to close when `accept` runs out of descriptors.
const FREE_ON_EXHAUSTION: usize = 16;

/// What to do after `accept` failed: out of descriptors (EMFILE, ENFILE), free idle connections
/// and try again at once; otherwise back off instead of spinning. Warns at most once a second.
fn accept_failed(app: &App, err: &std::io::Error, warned_at: &mut Option<Instant>) -> Duration {
    let freed = if out_of_descriptors(err) {
        app.connections.close_idle(FREE_ON_EXHAUSTION)
    } else {
        0
    };
    if warned_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
        *warned_at = Some(Instant::now());
        if out_of_descriptors(err) {
            tracing::warn!(
                "accept failed: {err}; closing {freed} idle connections of {} open (raise `ulimit -n`, or lower --max-connections below it)",
                app.connections.count()
            );
        } else {
            tracing::warn!("accept failed: {err}");
        }
    }
    if freed > 0 {
        // Long enough for the closed connections' tasks to run and give their descriptors back.
        Duration::from_millis(1)
    } else {
        Duration::from_millis(50)
    }
}

#[cfg(unix)]
fn out_of_descriptors(err: &std::io::Error) -> bool {
    use rustix::io::Errno;
    let code = err.raw_os_error();
    code == Some(Errno::MFILE.raw_os_error()) || code == Some(Errno::NFILE.raw_os_error())
}

#[cfg(not(unix))]
fn out_of_descriptors(_err: &std::io::Error) -> bool {
    false
}

/// How long an idle connection asked to close gracefully may take to do so before it is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// One connection, start to end: TLS if its first byte is a handshake, then HTTP until it closes,
/// its timeouts expire, the registry asks it to close (the cap), or the server stops.
async fn connection(
    stream: TcpStream,
    app: Arc<App>,
    builder: Arc<auto::Builder<TokioExecutor>>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    ticket: Ticket,
    admission: Admission,
    stopping: watch::Receiver<bool>,
) {
    let conn = ticket.conn.clone();
    let timeouts = Timeouts::of(&app.config);
    let (stream, reset) = ResettableStream::new(stream);
    if let Some(acceptor) = tls {
        let first = tokio::select! {
            first = first_byte(stream.tcp(), timeouts.header_read) => first,
            () = conn.close_asked() => None,
        };
        match first {
            None => return,
            Some(tls::HANDSHAKE) => {
                // Boxed: the TLS state is large, and plain connections should not carry its room.
                let handshake = async {
                    match timeouts.header_read {
                        Some(limit) => tokio::time::timeout(limit, acceptor.accept(stream))
                            .await
                            .map_err(|_| std::io::ErrorKind::TimedOut.into())
                            .and_then(|r| r),
                        None => acceptor.accept(stream).await,
                    }
                };
                let secure = Box::pin(async move {
                    let stream = tokio::select! {
                        stream = handshake => stream,
                        () = conn.close_asked() => return,
                    };
                    match stream {
                        Ok(stream) => {
                            serve_http(stream, app, &builder, conn, admission, stopping, reset)
                                .await
                        }
                        Err(err) => tracing::debug!("TLS handshake failed: {err}"),
                    }
                });
                secure.await;
                drop(ticket);
                return;
            }
            Some(_) => {}
        }
    }
    serve_http(stream, app, &builder, conn, admission, stopping, reset).await;
    drop(ticket);
}

/// The connection's first byte, left unread; `None` if it closed or sent nothing in time.
async fn first_byte(stream: &TcpStream, limit: Option<Duration>) -> Option<u8> {
    let mut byte = [0u8; 1];
    let peek = stream.peek(&mut byte);
    let peeked = match limit {
        Some(limit) => tokio::time::timeout(limit, peek).await.ok()?,
        None => peek.await,
    };
    match peeked {
        Ok(1) => Some(byte[0]),
        _ => None,
    }
}

async fn serve_http<I>(
    io: I,
    app: Arc<App>,
    builder: &auto::Builder<TokioExecutor>,
    conn: Arc<Conn>,
    admission: Admission,
    mut stopping: watch::Receiver<bool>,
    reset: ConnReset,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let timeouts = Timeouts::of(&app.config);
    let state = conn.clone();
    let service = service_fn(move |req| {
        let active = state.begin();
        let app = app.clone();
        let state = state.clone();
        let reset = reset.clone();
        async move {
            let resp = match admission {
                Admission::Serve => handle(app, req, reset).await,
                Admission::Refuse => {
                    // One answer, then the connection closes.
                    state.ask_to_close();
                    refused(&app)
                }
            };
            Ok::<_, Infallible>(resp.map(|body| Tracked::new(body, active)))
        }
    });
    let http = builder.serve_connection(TokioIo::new(Watched::new(io, conn.clone())), service);
    tokio::pin!(http);
    // When a graceful close began: an HTTP/2 client that never acknowledges the GOAWAY's PING
    // would otherwise keep an idle connection open forever.
    let mut closing: Option<Instant> = None;
    loop {
        let mut wake = match conn.check(&timeouts) {
            Err(Due::HeaderRead) => {
                tracing::debug!("closing a connection: its request headers did not arrive within --header-read-timeout");
                return;
            }
            Err(Due::Idle) => {
                if closing.is_none() {
                    http.as_mut().graceful_shutdown();
                    closing = Some(Instant::now());
                }
                None
            }
            Ok(wake) => wake,
        };
        if let Some(since) = closing {
            if conn.is_idle() {
                let end = since + CLOSE_GRACE;
                if Instant::now() >= end {
                    return;
                }
                wake = Some(wake.map_or(end, |w| w.min(end)));
            }
        }
        let sleep = async {
            match wake {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ended = http.as_mut() => {
                if let Err(err) = ended {
                    tracing::debug!("connection ended: {err}");
                }
                return;
            }
            _ = stopping.wait_for(|stop| *stop), if closing.is_none() => {
                http.as_mut().graceful_shutdown();
                closing = Some(Instant::now());
            }
            () = conn.close_asked(), if closing.is_none() => {
                http.as_mut().graceful_shutdown();
                closing = Some(Instant::now());
            }
            () = sleep => {}
        }
    }
}

/// The answer on a connection over `--max-connections` when no idle one could make room.
fn refused(app: &App) -> Response<Body> {
    let max = app.connections.max();
    let err = ApiError::ServiceUnavailable(format!(
        "awsim has {max} connections open (--max-connections {max}) and none is idle; this \
         connection is closed. Retry, reuse connections, or raise --max-connections."
    ));
    let mut resp = error_response(&err);
    if let Ok(value) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        resp.headers_mut().insert("x-amzn-requestid", value);
    }
    resp
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

/// awsim's limit on a request's header block (names and values, 32 bytes more a field as HTTP/2
/// counts), for HTTP/1.1 and HTTP/2 alike.
const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Refuses a request whose headers pass hyper's limits but not awsim's, in the AWS shape.
fn check_headers(headers: &hyper::HeaderMap) -> Result<(), ApiError> {
    let count = headers.len();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 32)
        .sum();
    if count > bare_errors::MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return Err(ApiError::HeadersTooLarge(format!(
            "The request has {count} headers in {bytes} bytes; awsim reads at most {} headers and \
             {} KiB of them. Send fewer or smaller headers.",
            bare_errors::MAX_HEADERS,
            MAX_HEADER_BYTES / 1024
        )));
    }
    Ok(())
}

async fn dispatch(
    app: &Arc<App>,
    req: Request<Incoming>,
    request_id: &str,
    reset: ConnReset,
) -> Result<Response<Body>, ApiError> {
    check_headers(req.headers())?;
    let route = app.router.route(req.method(), req.uri().path())?;
    let (parts, body) = req.into_parts();
    if let Operation::Admin(_) = route.operation {
        admin::check_caller(&app.config, &parts)?;
    }
    check_declared_length(&parts.headers)?;
    let read = Limited::new(body, MAX_REQUEST_BODY).collect();
    let read = match app.config.body_read_timeout {
        Some(limit) => tokio::time::timeout(limit, read).await.map_err(|_| {
            ApiError::RequestTimeout(format!(
                "The request body did not arrive within {} s (--body-read-timeout). Send it \
                 faster, or start awsim with a longer --body-read-timeout.",
                limit.as_secs_f64()
            ))
        })?,
        None => read.await,
    };
    let body = match read {
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
        arrived: Instant::now(),
    };
    match call.route.operation {
        Operation::Admin(op) => admin::handle(op, app, &call).await,
        Operation::Runtime(op) => runtime::ops::handle(op, &app.runtime, &app.store, call).await,
        Operation::Management(op) => management::handle(op, &app.store, &call),
        Operation::NotEmulated(name) => Err(call.route.not_implemented(name)),
    }
}
