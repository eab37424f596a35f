//! Floors: what the machinery around awsim's own work costs on this machine, measured in the same
//! run so awsim's figures read against them. Each floor is a child process (this bench binary run
//! again with [`CHILD_FLAG`]), as awsim is: waking another process is what awsim pays too.
//!
//! - [`Floor::Relay`]: the bare TCP relay of [`crate::relay`], blocking threads copying bytes.
//! - [`Floor::AsyncRelay`]: the same relay on tokio (current-thread runtime, one task per
//!   connection, `copy_bidirectional`): what epoll and an async runtime add before any HTTP.
//! - [`Floor::FixedAnswer`]: a hyper HTTP/1.1 server threaded as awsim is (one single-threaded
//!   tokio runtime per core, all accepting from one listening socket) that reads each request body
//!   whole and answers it with fixed bytes: what hyper, tokio and the kernel cost per request
//!   before any Bedrock work.

use crate::relay::Relay;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

/// The first argument that makes the bench binary a floor child: `--floor-child KIND ARG`.
pub const CHILD_FLAG: &str = "--floor-child";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Floor {
    Relay,
    AsyncRelay,
    FixedAnswer,
}

impl Floor {
    fn name(self) -> &'static str {
        match self {
            Self::Relay => "relay",
            Self::AsyncRelay => "async-relay",
            Self::FixedAnswer => "fixed-answer",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Self::Relay, Self::AsyncRelay, Self::FixedAnswer]
            .into_iter()
            .find(|f| f.name() == name)
    }
}

/// A floor running in a child process; dropping it ends the child.
pub struct FloorProcess {
    addr: SocketAddr,
    pub pid: u32,
    child: Child,
}

impl FloorProcess {
    /// A relay to `target`.
    pub fn relay(floor: Floor, target: SocketAddr) -> crate::Result<Self> {
        Self::spawn(floor, &target.to_string())
    }

    /// A server answering every request with `body` (as `application/json`).
    pub fn fixed_answer(body: &[u8]) -> crate::Result<Self> {
        let path = std::env::temp_dir().join(format!("awsim-bench-answer-{}", std::process::id()));
        std::fs::write(&path, body)?;
        let spawned = Self::spawn(Floor::FixedAnswer, &path.to_string_lossy());
        let _ = std::fs::remove_file(&path);
        spawned
    }

    fn spawn(floor: Floor, arg: &str) -> crate::Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .args([CHILD_FLAG, floor.name(), arg])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("floor child has no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let addr = match line.trim().parse() {
            Ok(addr) => addr,
            Err(err) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{} floor child printed {line:?}: {err}", floor.name()).into());
            }
        };
        Ok(Self {
            addr,
            pid: child.id(),
            child,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for FloorProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child's side: serves `kind` with `arg`, prints the listening address on stdout, and runs
/// until the parent closes our stdin.
pub fn child_main(kind: &str, arg: &str) -> crate::Result<()> {
    let floor = Floor::from_name(kind).ok_or_else(|| format!("unknown floor '{kind}'"))?;
    let until_stdin_closes = || {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
    };
    match floor {
        Floor::Relay => {
            let relay = Relay::start(arg.parse()?)?;
            announce(relay.addr())?;
            until_stdin_closes();
        }
        Floor::AsyncRelay => {
            let target: SocketAddr = arg.parse()?;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
            announce(listener.local_addr()?)?;
            rt.spawn(async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    tokio::spawn(async move {
                        let Ok(mut upstream) = tokio::net::TcpStream::connect(target).await else {
                            return;
                        };
                        let _ = client.set_nodelay(true);
                        let _ = upstream.set_nodelay(true);
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    });
                }
            });
            let stdin_closed = rt.spawn_blocking(until_stdin_closes);
            rt.block_on(stdin_closed)?;
        }
        Floor::FixedAnswer => {
            let body = Arc::new(Bytes::from(std::fs::read(Path::new(arg))?));
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            listener.set_nonblocking(true)?;
            announce(listener.local_addr()?)?;
            for _ in 0..threads {
                let listener = listener.try_clone()?;
                let body = body.clone();
                std::thread::Builder::new()
                    .name("bench-floor".into())
                    .spawn(move || {
                        let rt = tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()?;
                        rt.block_on(async move {
                            serve_fixed(tokio::net::TcpListener::from_std(listener)?, body).await;
                            Ok::<_, std::io::Error>(())
                        })
                    })?;
            }
            until_stdin_closes();
        }
    }
    Ok(())
}

fn announce(addr: SocketAddr) -> crate::Result<()> {
    let mut out = std::io::stdout();
    writeln!(out, "{addr}")?;
    out.flush()?;
    Ok(())
}

async fn serve_fixed(listener: tokio::net::TcpListener, body: Arc<Bytes>) {
    while let Ok((stream, _)) = listener.accept().await {
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        let service = service_fn(move |req: Request<hyper::body::Incoming>| {
            let body = body.clone();
            async move {
                // Read the request whole, as awsim does before it parses it.
                let _ = req.into_body().collect().await;
                Ok::<_, Infallible>(
                    Response::builder()
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::clone(&body)))
                        .unwrap_or_default(),
                )
            }
        });
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
