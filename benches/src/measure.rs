//! Timing requests. [`timed`] measures one streamed request: time to the first text delta, every
//! gap between deltas, each token's one-way latency from the upstream's write (its stamp), the
//! request's way to the upstream, and the total. [`closed_loop`] runs `concurrency` workers, one
//! kept-alive connection each, until a request count is reached; [`load`] runs them as fast as
//! they go until a deadline or a count, reading bodies whole.

use crate::client::{Call, Conn, Endpoint, Proto};
use crate::procfs::{self, CpuTimes};
use crate::stamp;
use crate::stats::Dist;
use http_body_util::BodyExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// One streamed request, measured.
#[derive(Debug, Default, Clone)]
pub struct Sample {
    /// Request sent → first text delta decoded.
    pub ttft: Option<u64>,
    /// Request sent → body ended.
    pub total: u64,
    /// Between consecutive text deltas, as the client decoded them.
    pub gaps: Vec<u64>,
    /// Per stamped token: upstream wrote it → client decoded it.
    pub token_latency: Vec<u64>,
    /// Request sent → the upstream had it (stamped in the first token).
    pub request_leg: Option<u64>,
    pub tokens: u32,
    last: Option<Instant>,
}

impl Sample {
    fn on_text(&mut self, text: &str, sent: Instant, now: Instant) {
        self.tokens += 1;
        if self.ttft.is_none() {
            self.ttft = Some(ns(now - sent));
        }
        if let Some(prev) = self.last {
            self.gaps.push(ns(now - prev));
        }
        self.last = Some(now);
        let stamps = stamp::parse(text);
        if let Some(written) = stamps.written {
            self.token_latency
                .push(stamp::nanos_of(now).saturating_sub(written));
        }
        if let Some(arrived) = stamps.arrived {
            self.request_leg = Some(arrived.saturating_sub(stamp::nanos_of(sent)));
        }
    }
}

/// Sends `call` on `conn` and decodes the streamed answer as it arrives.
pub async fn timed(conn: &mut Conn, call: &Call) -> crate::Result<Sample> {
    let req = call.request(conn.proto());
    let mut decoder = call.decoder();
    let sent = Instant::now();
    let resp = conn.send(req).await?;
    let status = resp.status();
    let mut body = resp.into_body();
    if !status.is_success() {
        let bytes = body.collect().await?.to_bytes();
        return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes)).into());
    }
    let mut sample = Sample::default();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        let now = Instant::now();
        decoder.feed(&data, &mut |text| sample.on_text(text, sent, now))?;
    }
    sample.total = ns(sent.elapsed());
    if sample.tokens == 0 {
        return Err(format!("{}: the answer had no text delta", call.label()).into());
    }
    Ok(sample)
}

/// Opens `n` connections, `parallel` at a time. For h2c, `n` connections of its own are opened too
/// (one per worker) unless the caller shares one.
pub async fn connect_all(endpoint: &Endpoint, proto: Proto, n: usize) -> crate::Result<Vec<Conn>> {
    use futures::StreamExt;
    futures::stream::iter((0..n).map(|_| Conn::open(endpoint, proto)))
        .buffer_unordered(128)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// What a closed-loop run measured, across all its requests.
#[derive(Debug, Default)]
pub struct Run {
    pub ttft: Dist,
    pub total: Dist,
    pub gaps: Dist,
    pub token_latency: Dist,
    /// The first token's latency from the upstream's write.
    pub first_token_latency: Dist,
    pub request_leg: Dist,
    pub requests: usize,
    pub tokens: u64,
    pub errors: usize,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// CPU time of the server process during the run, if its pid is known.
    pub server_cpu: Option<Duration>,
    /// The server's threads' time on a CPU and times scheduled onto one during the run.
    pub server_sched: Option<(Duration, u64)>,
    /// Share of all the machine's CPUs busy during the run.
    pub machine_busy: f64,
}

impl Run {
    /// Pools the figures of another run of the same workload (a later round) into this one.
    pub fn absorb(&mut self, round: Run) {
        let busy_time = |r: &Run| r.machine_busy * r.elapsed.as_secs_f64();
        let elapsed = self.elapsed + round.elapsed;
        if !elapsed.is_zero() {
            self.machine_busy = (busy_time(self) + busy_time(&round)) / elapsed.as_secs_f64();
        }
        self.elapsed = elapsed;
        self.ttft.absorb(round.ttft);
        self.total.absorb(round.total);
        self.gaps.absorb(round.gaps);
        self.token_latency.absorb(round.token_latency);
        self.first_token_latency.absorb(round.first_token_latency);
        self.request_leg.absorb(round.request_leg);
        self.requests += round.requests;
        self.tokens += round.tokens;
        self.errors += round.errors;
        self.first_error = self.first_error.take().or(round.first_error);
        self.server_cpu = match (self.server_cpu, round.server_cpu) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        self.server_sched = match (self.server_sched, round.server_sched) {
            (Some((t, n)), Some((u, m))) => Some((t + u, n + m)),
            (a, b) => a.or(b),
        };
    }
}

/// Workers on connections of their own (HTTP/1.1), or sharing one h2c connection, each sending
/// `call` again as soon as its last answer ended, until `requests` answers are measured. One
/// request per worker first warms the connections (and the server's pool toward its upstream);
/// then worker `i` waits `i/concurrency` of `stagger` before its first request, so that requests
/// arrive spread out as in a steady state rather than all at once.
pub async fn closed_loop(
    endpoint: &Endpoint,
    proto: Proto,
    call: Arc<Call>,
    concurrency: usize,
    requests: usize,
    stagger: Duration,
    server_pid: Option<u32>,
) -> crate::Result<Run> {
    let conns = match proto {
        Proto::Http1 => connect_all(endpoint, proto, concurrency).await?,
        Proto::Http2 => {
            let shared = Conn::open(endpoint, proto).await?;
            (0..concurrency).filter_map(|_| shared.share()).collect()
        }
    };
    let warm: Vec<_> = conns
        .into_iter()
        .map(|mut conn| {
            let call = call.clone();
            tokio::spawn(async move {
                timed(&mut conn, &call).await?;
                Ok::<_, crate::Error>(conn)
            })
        })
        .collect();
    let mut conns = Vec::with_capacity(concurrency);
    for w in warm {
        conns.push(w.await??);
    }

    let next = Arc::new(AtomicU64::new(0));
    let endpoint = Arc::new(endpoint.clone());
    let cpu_before = server_pid.map(procfs::cpu_time).transpose()?;
    let sched_before = server_pid.map(procfs::sched).transpose()?;
    let busy_before = CpuTimes::now();
    let started = Instant::now();
    let workers: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, mut conn)| {
            let call = call.clone();
            let next = next.clone();
            let endpoint = endpoint.clone();
            let delay = stagger.mul_f64(i as f64 / concurrency as f64);
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let mut samples = Vec::new();
                let mut errors = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < requests as u64 {
                    match timed(&mut conn, &call).await {
                        Ok(s) => samples.push(s),
                        Err(e) => {
                            errors.push(e.to_string());
                            // A broken connection is replaced, not retried forever.
                            if let Ok(fresh) = Conn::open(&endpoint, conn.proto()).await {
                                conn = fresh;
                            }
                        }
                    }
                }
                // The connection outlives the worker until the server's figures are read: a relay's
                // per-connection threads would otherwise exit and take their counts with them.
                (samples, errors, conn)
            })
        })
        .collect();
    let mut samples = Vec::with_capacity(requests);
    let mut errors = Vec::new();
    let mut open = Vec::with_capacity(concurrency);
    for w in workers {
        let (s, e, conn) = w.await?;
        samples.extend(s);
        errors.extend(e);
        open.push(conn);
    }
    let elapsed = started.elapsed();
    let server_cpu = match (server_pid, cpu_before) {
        (Some(pid), Some(before)) => Some(procfs::cpu_time(pid)?.saturating_sub(before)),
        _ => None,
    };
    let server_sched = match (server_pid, sched_before) {
        (Some(pid), Some((run, slices))) => {
            let (run_after, slices_after) = procfs::sched(pid)?;
            Some((
                run_after.saturating_sub(run),
                slices_after.saturating_sub(slices),
            ))
        }
        _ => None,
    };
    drop(open);
    let machine_busy = CpuTimes::now().busy_since(&busy_before);

    let mut run = Run {
        requests: samples.len(),
        errors: errors.len(),
        first_error: errors.into_iter().next(),
        elapsed,
        server_cpu,
        server_sched,
        machine_busy,
        ..Run::default()
    };
    let mut ttft = Vec::with_capacity(samples.len());
    let mut total = Vec::with_capacity(samples.len());
    let mut gaps = Vec::new();
    let mut token_latency = Vec::new();
    let mut first_token_latency = Vec::new();
    let mut request_leg = Vec::new();
    for s in samples {
        run.tokens += u64::from(s.tokens);
        ttft.extend(s.ttft);
        total.push(s.total);
        gaps.extend(s.gaps);
        first_token_latency.extend(s.token_latency.first().copied());
        token_latency.extend(s.token_latency);
        request_leg.extend(s.request_leg);
    }
    run.ttft = Dist::new(ttft);
    run.total = Dist::new(total);
    run.gaps = Dist::new(gaps);
    run.token_latency = Dist::new(token_latency);
    run.first_token_latency = Dist::new(first_token_latency);
    run.request_leg = Dist::new(request_leg);
    Ok(run)
}

/// When a [`load`] run stops.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    Deadline(Instant),
    /// When this many requests (counted in the shared counter) have been started.
    Count(u64),
}

/// What a load run measured.
#[derive(Debug, Default)]
pub struct Load {
    pub requests: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub latency: Dist,
    pub elapsed: Duration,
}

/// Every worker sends the calls in turn (worker `i` starts at call `i`), reading each body whole, as
/// fast as it can, until `until`. `started` counts requests across runs (for [`Until::Count`]).
pub async fn load(
    endpoint: &Endpoint,
    conns: Vec<Conn>,
    calls: Arc<Vec<Call>>,
    until: Until,
    started: Arc<AtomicU64>,
) -> crate::Result<Load> {
    let t0 = Instant::now();
    let endpoint = Arc::new(endpoint.clone());
    let workers: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, mut conn)| {
            let calls = calls.clone();
            let started = started.clone();
            let endpoint = endpoint.clone();
            tokio::spawn(async move {
                let mut latency = Vec::new();
                let mut errors = Vec::new();
                let mut k = i;
                loop {
                    match until {
                        Until::Deadline(at) if Instant::now() >= at => break,
                        Until::Count(n) if started.fetch_add(1, Ordering::Relaxed) >= n => break,
                        _ => {}
                    }
                    let call = &calls[k % calls.len()];
                    k += 1;
                    let t = Instant::now();
                    match whole(&mut conn, call).await {
                        Ok(()) => latency.push(ns(t.elapsed())),
                        Err(e) => {
                            errors.push(e.to_string());
                            if let Ok(fresh) = Conn::open(&endpoint, conn.proto()).await {
                                conn = fresh;
                            }
                        }
                    }
                }
                (latency, errors)
            })
        })
        .collect();
    let mut latency = Vec::new();
    let mut errors = Vec::new();
    for w in workers {
        let (l, e) = w.await?;
        latency.extend(l);
        errors.extend(e);
    }
    Ok(Load {
        requests: latency.len() as u64,
        errors: errors.len() as u64,
        first_error: errors.into_iter().next(),
        latency: Dist::new(latency),
        elapsed: t0.elapsed(),
    })
}

/// Sends `call` and reads the body to its end without decoding it.
async fn whole(conn: &mut Conn, call: &Call) -> crate::Result<()> {
    let resp = conn.send(call.request(conn.proto())).await?;
    let status = resp.status();
    let bytes = resp.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes)).into());
    }
    Ok(())
}

/// Sends `call` once and checks the answer decodes (text deltas for the streams, a JSON document
/// for Converse): a load run must not measure errors.
pub async fn check(conn: &mut Conn, call: &Call) -> crate::Result<()> {
    if call.api != crate::client::Api::Converse {
        return timed(conn, call).await.map(|_| ());
    }
    let resp = conn.send(call.request(conn.proto())).await?;
    let status = resp.status();
    let bytes = resp.into_body().collect().await?.to_bytes();
    let doc: serde_json::Value = serde_json::from_slice(&bytes)?;
    if !status.is_success() || doc.pointer("/output/message/content/0/text").is_none() {
        return Err(format!(
            "Converse answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        )
        .into());
    }
    Ok(())
}
