//! Start-up: from `exec` of the binary to the first accepted TCP connection (connects polled in a
//! tight loop) and to the first answered request (`GET /_awsim/health`), over N runs.

use super::{at_most, Ctx};
use crate::awsim::clear_awsim_env;
use crate::report::{table, Report};
use crate::stats::{ms, Dist};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn run(ctx: &Ctx<'_>, report: &mut Report) -> crate::Result<()> {
    let bin = ctx.bin()?;
    let runs = ctx.opts.startup_runs.max(1);
    eprintln!("startup: {runs} runs");
    let mut connect = Vec::with_capacity(runs);
    let mut answer = Vec::with_capacity(runs);
    for _ in 0..runs {
        // A port that was free a moment ago: awsim needs to know it before it starts.
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut cmd = Command::new(bin);
        cmd.args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--log-level",
            "warn",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        clear_awsim_env(&mut cmd);
        let t0 = Instant::now();
        let mut child = cmd.spawn()?;
        let result = (|| -> crate::Result<(Duration, Duration)> {
            let mut stream = loop {
                match TcpStream::connect(addr) {
                    Ok(s) => break s,
                    Err(_) if t0.elapsed() < Duration::from_secs(10) => std::thread::yield_now(),
                    Err(e) => return Err(format!("awsim did not listen within 10 s: {e}").into()),
                }
            };
            let connected = t0.elapsed();
            stream.write_all(
                b"GET /_awsim/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            )?;
            let mut first = [0u8; 12];
            stream.read_exact(&mut first)?;
            let answered = t0.elapsed();
            if !first.starts_with(b"HTTP/1.1 200") {
                return Err(format!("health answered {}", String::from_utf8_lossy(&first)).into());
            }
            Ok((connected, answered))
        })();
        let _ = child.kill();
        let _ = child.wait();
        let (c, a) = result?;
        connect.push(u64::try_from(c.as_nanos()).unwrap_or(u64::MAX));
        answer.push(u64::try_from(a.as_nanos()).unwrap_or(u64::MAX));
    }
    let connect = Dist::new(connect);
    let answer = Dist::new(answer);
    let row = |name: &str, d: &Dist| {
        vec![
            name.to_string(),
            ms(d.p50()),
            ms(d.pct(0.0)),
            ms(d.p90()),
            ms(d.max()),
        ]
    };
    let mut s = String::from("## Start-up\n\n");
    s.push_str(&format!("{runs} runs of `awsim --port P` (canned, `--log-level warn`, output discarded), clock started just before `spawn`; the page cache is warm after the first run.\n\n"));
    s.push_str(&table(
        &["from exec to", "median", "min", "p90", "max"],
        &[
            row("first accepted TCP connection", &connect),
            row("first answered request (`GET /_awsim/health`)", &answer),
        ],
    ));
    report.sections.push(s);
    report.figure(
        "start-up to first accepted connection",
        format!("median {}", ms(connect.p50())),
        "≤ 20 ms",
        at_most(connect.p50().map(|v| v as f64), 20e6),
    );
    Ok(())
}
