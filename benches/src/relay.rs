//! A bare TCP relay: one blocking thread per direction copies bytes as they come, nothing else.
//! Put between the client and the upstream, it measures the floor any process in the middle pays
//! on this machine (one more thread to wake per write), against which awsim's added latency reads.
//! The bench runs it in a child process of its own ([`crate::floor`]), as awsim runs.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// A running relay on 127.0.0.1; dropping it stops accepting (open connections end with their
/// peers).
pub struct Relay {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Relay {
    pub fn start(target: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("bench-relay".into())
                .spawn(move || {
                    for client in listener.incoming() {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        // Connecting upstream happens off the accept loop: std's backlog is 128
                        // and 256 clients connect at once.
                        if let Ok(client) = client {
                            let _ = std::thread::Builder::new()
                                .name("bench-relay-pair".into())
                                .spawn(move || pair(client, target));
                        }
                    }
                })?
        };
        Ok(Self {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn pair(client: TcpStream, target: SocketAddr) -> std::io::Result<()> {
    let upstream = TcpStream::connect(target)?;
    client.set_nodelay(true)?;
    upstream.set_nodelay(true)?;
    let (c2, u2) = (client.try_clone()?, upstream.try_clone()?);
    std::thread::Builder::new()
        .name("bench-relay-down".into())
        .spawn(move || copy(u2, c2))?;
    copy(client, upstream);
    Ok(())
}

/// Copies until EOF or an error, writing each read at once.
fn copy(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
