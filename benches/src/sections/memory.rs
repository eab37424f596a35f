//! Memory: RSS of a fresh awsim at rest, after its first requests, and holding N concurrent open
//! ConverseStream streams. The streams are canned with a 60 s first-token delay, so each one stays
//! open after its headers and `messageStart`; they are held over HTTP/1.1 (one connection each,
//! as SDK connection pools do) and over h2c (1,000 streams per connection, as the JS SDK does).

use super::{at_most, Ctx};
use crate::awsim::Awsim;
use crate::client::{Api, Call, Conn, Endpoint, Format, Proto};
use crate::measure::check;
use crate::procfs;
use crate::report::{table, Report};
use crate::stats::{mib, thousands};
use futures::StreamExt;
use hyper::body::Incoming;
use hyper::Response;
use std::time::{Duration, Instant};

/// Streams per h2c connection (awsim allows 1,024).
const H2_STREAMS_PER_CONN: usize = 1_000;
/// How many streams are being opened at once.
const OPENING: usize = 256;

pub fn run(ctx: &Ctx<'_>, report: &mut Report) -> crate::Result<()> {
    let mut s = String::from("## Memory\n\n");
    s.push_str(&idle(ctx, report)?);
    s.push('\n');
    s.push_str(&streams(ctx, report)?);
    report.sections.push(s);
    Ok(())
}

fn idle(ctx: &Ctx<'_>, report: &mut Report) -> crate::Result<String> {
    let awsim = Awsim::start(ctx.bin()?, &[])?;
    std::thread::sleep(Duration::from_millis(500));
    let fresh = awsim.rss_kib()?;
    let endpoint = Endpoint::from_addr(awsim.addr, "");
    let o = ctx.opts;
    ctx.rt.block_on(async {
        let mut conn = Conn::open(&endpoint, Proto::Http1).await?;
        for api in [Api::Converse, Api::ConverseStream, Api::InvokeStream] {
            let call = Call::new(api, Format::EventStream, &endpoint, &o.model, None)?;
            check(&mut conn, &call).await?;
        }
        Ok::<_, crate::Error>(())
    })?;
    std::thread::sleep(Duration::from_millis(500));
    let warm = awsim.rss_kib()?;
    report.figure(
        "idle RSS",
        format!(
            "{} fresh; {} after its first requests",
            mib(fresh),
            mib(warm)
        ),
        "≤ 10 MB",
        at_most(Some(fresh as f64), 10.0 * 1000.0 * 1000.0 / 1024.0),
    );
    Ok(format!(
        "### Idle\n\n{}\n",
        table(
            &["awsim", "RSS"],
            &[
                vec!["fresh, 500 ms after start".into(), mib(fresh)],
                vec![
                    "after one Converse, ConverseStream and InvokeModelWithResponseStream".into(),
                    mib(warm)
                ],
            ]
        )
    ))
}

/// The responses (heads read, bodies left open) and the connections that carry them.
struct Held {
    _conns: Vec<Conn>,
    _responses: Vec<Response<Incoming>>,
}

/// Opens `n` ConverseStream streams and waits for every response head.
async fn hold(endpoint: &Endpoint, proto: Proto, call: &Call, n: usize) -> crate::Result<Held> {
    let shared = match proto {
        Proto::Http1 => Vec::new(),
        Proto::Http2 => {
            let m = n.div_ceil(H2_STREAMS_PER_CONN);
            crate::measure::connect_all(endpoint, proto, m).await?
        }
    };
    let opened: Vec<crate::Result<(Option<Conn>, Response<Incoming>)>> =
        futures::stream::iter(0..n)
            .map(|i| {
                let shared = shared.get(i % shared.len().max(1)).and_then(Conn::share);
                async move {
                    let (mut conn, own) = match shared {
                        Some(c) => (c, false),
                        None => (Conn::open(endpoint, proto).await?, true),
                    };
                    let resp = conn.send(call.request(proto)).await?;
                    if !resp.status().is_success() {
                        return Err(format!("stream {i}: HTTP {}", resp.status()).into());
                    }
                    Ok((own.then_some(conn), resp))
                }
            })
            .buffer_unordered(OPENING)
            .collect()
            .await;
    let mut conns = shared;
    let mut responses = Vec::with_capacity(n);
    for r in opened {
        let (conn, resp) = r?;
        conns.extend(conn);
        responses.push(resp);
    }
    Ok(Held {
        _conns: conns,
        _responses: responses,
    })
}

fn streams(ctx: &Ctx<'_>, report: &mut Report) -> crate::Result<String> {
    let o = ctx.opts;
    let (soft, hard) = procfs::open_files_limit();
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    let mut per_stream_at_10k = None;
    for &n in &o.streams {
        for proto in [Proto::Http1, Proto::Http2] {
            // Each side holds one descriptor per HTTP/1.1 stream; awsim inherits this limit.
            if proto == Proto::Http1 && (n as u64) + 200 > soft {
                skipped.push(format!(
                    "{} streams over HTTP/1.1 need {} open files per process; the soft limit is {soft} (hard {hard}): raise it with `ulimit -n` before `cargo bench`",
                    thousands(n as u64),
                    n + 200
                ));
                continue;
            }
            eprintln!(
                "memory: {} open ConverseStream streams over {}",
                thousands(n as u64),
                proto.label()
            );
            let awsim = Awsim::start(
                ctx.bin()?,
                &["--bedrock-canned-ttft-ms".into(), "60000".into()],
            )?;
            std::thread::sleep(Duration::from_millis(300));
            let idle = awsim.rss_kib()?;
            let endpoint = Endpoint::from_addr(awsim.addr, "");
            let call = Call::new(
                Api::ConverseStream,
                Format::EventStream,
                &endpoint,
                &o.model,
                None,
            )?;
            let t = Instant::now();
            let held = ctx.rt.block_on(hold(&endpoint, proto, &call, n))?;
            let opened_in = t.elapsed();
            std::thread::sleep(Duration::from_millis(500));
            let rss = awsim.rss_kib()?;
            let cpu = awsim.cpu_time()?;
            let fds = procfs::open_fds(awsim.pid)?;
            // The client's connection tasks must run to close their sockets.
            ctx.rt.block_on(async {
                drop(held);
                tokio::time::sleep(Duration::from_millis(1000)).await;
            });
            let after = awsim.rss_kib()?;
            let fds_after = procfs::open_fds(awsim.pid)?;
            let per_stream = (rss.saturating_sub(idle)) as f64 / n as f64;
            if n == 10_000 {
                per_stream_at_10k =
                    Some(per_stream_at_10k.map_or(per_stream, |p: f64| p.max(per_stream)));
            }
            rows.push(vec![
                thousands(n as u64),
                match proto {
                    Proto::Http1 => format!("HTTP/1.1, {} connections", thousands(n as u64)),
                    Proto::Http2 => {
                        format!("h2c, {} connection(s)", n.div_ceil(H2_STREAMS_PER_CONN))
                    }
                },
                format!("{:.2} s", opened_in.as_secs_f64()),
                mib(idle),
                mib(rss),
                format!("{per_stream:.1} KiB"),
                mib(after),
                format!("{fds} → {fds_after}"),
                format!("{:.0} ms", cpu.as_secs_f64() * 1e3),
            ]);
            for line in awsim.notes() {
                report.note(format!("awsim logged while holding streams: `{line}`"));
            }
        }
    }
    if let Some(p) = per_stream_at_10k {
        report.figure(
            "concurrent open streams",
            format!("10,000 held, {p:.1} KiB each (worse of HTTP/1.1 and h2c)"),
            "10,000 held, ≤ 32 KB each",
            at_most(Some(p), 32.0 * 1000.0 / 1024.0),
        );
    }
    let mut s = String::from("### Concurrent open streams\n\nA fresh awsim per row with `--bedrock-canned-ttft-ms 60000`: each ConverseStream gets its headers and `messageStart` at once, then waits. All streams opened (256 at a time), RSS read 500 ms after the last head arrived; **per stream** = (RSS with streams − RSS before) / streams; **after close** = 1 s after the client dropped them all; **CPU** = awsim's CPU time from start to holding them all.\n\n");
    s.push_str(&table(
        &[
            "streams",
            "client",
            "opened in",
            "RSS before",
            "RSS holding",
            "per stream",
            "RSS after close",
            "awsim fds holding → after close",
            "CPU",
        ],
        &rows,
    ));
    for note in skipped {
        s.push_str(&format!("\n- skipped: {note}\n"));
    }
    Ok(s)
}
