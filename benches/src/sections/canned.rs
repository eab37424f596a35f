//! Canned throughput: Converse and ConverseStream (canned answers, no pacing) as fast as the load
//! generator goes, at a fixed concurrency for a fixed time; then the soak: RSS after 10,000 and
//! after N requests of both operations on a fresh process.

use super::{at_most, Ctx};
use crate::awsim::Awsim;
use crate::client::{Api, Call, Conn, Endpoint, Format};
use crate::floor::FloorProcess;
use crate::measure::{check, connect_all, load, Until};
use crate::procfs::{self, CpuTimes};
use crate::report::{table, Report};
use crate::stats::{median, mib, thousands, us};
use http_body_util::BodyExt;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SOAK_FIRST: u64 = 10_000;
const FLOOR_LABEL: &str = "fixed-answer hyper server (the floor)";

/// One fixed-duration load run against one server.
struct Measured {
    result: crate::measure::Load,
    /// The server's (user, system) CPU time over the run.
    cpu: Option<(Duration, Duration)>,
    busy: f64,
    rss_before: Option<u64>,
    rss_after: Option<u64>,
}

impl Measured {
    fn secs(&self) -> f64 {
        self.result.elapsed.as_secs_f64()
    }

    fn rps(&self) -> f64 {
        self.result.requests as f64 / self.secs()
    }

    fn per_req(&self, d: Duration) -> f64 {
        d.as_nanos() as f64 / self.result.requests.max(1) as f64
    }

    /// Nanoseconds of server CPU per request.
    fn cpu_per_req(&self) -> Option<f64> {
        self.cpu
            .filter(|_| self.result.requests > 0)
            .map(|(u, s)| self.per_req(u + s))
    }

    fn cpu_label(&self) -> String {
        cpu_label(self.cpu_per_req())
    }

    fn row(&self, label: String, c: usize, target: &str) -> Vec<String> {
        let r = &self.result;
        vec![
            label,
            c.to_string(),
            thousands(r.requests),
            format!("{:.0}", self.rps()),
            us(r.latency.p50()),
            us(r.latency.p99()),
            self.cpu_label(),
            self.cpu
                .filter(|_| r.requests > 0)
                .map_or("–".into(), |(u, s)| {
                    format!(
                        "{:.1} + {:.1} µs",
                        self.per_req(u) / 1e3,
                        self.per_req(s) / 1e3
                    )
                }),
            self.cpu.map_or("–".into(), |(u, s)| {
                format!("{:.0}%", 100.0 * (u + s).as_secs_f64() / self.secs())
            }),
            format!("{:.0}%", self.busy),
            match (self.rss_before, self.rss_after) {
                (Some(b), Some(a)) => format!("{} → {}", mib(b), mib(a)),
                _ => "–".into(),
            },
            match &r.first_error {
                None => "0".into(),
                Some(e) => format!("{} (first: {})", r.errors, short(e)),
            },
            target.into(),
        ]
    }
}

/// `call` on `endpoint` at the canned concurrency for the canned duration. `checked`: first check
/// that one answer per connection decodes (off for the floor, whose answers are fixed bytes).
fn measure(
    ctx: &Ctx<'_>,
    endpoint: &Endpoint,
    pid: Option<u32>,
    call: &Call,
    checked: bool,
) -> crate::Result<Measured> {
    let o = ctx.opts;
    let rss_before = pid.map(procfs::rss_kib).transpose()?;
    let (result, cpu, busy) = ctx.rt.block_on(async {
        let mut conns = connect_all(endpoint, o.proto, o.canned_concurrency).await?;
        if checked {
            for conn in &mut conns {
                check(conn, call).await?;
            }
        }
        let cpu_before = pid.map(procfs::cpu_times).transpose()?;
        let busy_before = CpuTimes::now();
        let result = load(
            endpoint,
            conns,
            Arc::new(vec![call.clone()]),
            Until::Deadline(Instant::now() + o.duration),
            Arc::new(AtomicU64::new(0)),
        )
        .await?;
        let cpu = match (pid, cpu_before) {
            (Some(pid), Some((user, system))) => {
                let (u, s) = procfs::cpu_times(pid)?;
                Some((u.saturating_sub(user), s.saturating_sub(system)))
            }
            _ => None,
        };
        Ok::<_, crate::Error>((result, cpu, CpuTimes::now().busy_since(&busy_before)))
    })?;
    let rss_after = pid.map(procfs::rss_kib).transpose()?;
    Ok(Measured {
        result,
        cpu,
        busy,
        rss_before,
        rss_after,
    })
}

pub fn run(ctx: &Ctx<'_>, report: &mut Report) -> crate::Result<()> {
    let o = ctx.opts;
    let c = o.canned_concurrency;
    let awsim = match &o.target {
        Some(_) => None,
        None => Some(Awsim::start(ctx.bin()?, &[])?),
    };
    let url = o
        .target
        .clone()
        .or_else(|| awsim.as_ref().map(Awsim::url))
        .ok_or("no endpoint")?;
    let pid = o.target_pid.or(awsim.as_ref().map(|a| a.pid));
    let endpoint = ctx.rt.block_on(Endpoint::parse(&url))?;
    let calls = o
        .canned_ops
        .iter()
        .map(|&api| Call::new(api, Format::EventStream, &endpoint, &o.model, None))
        .collect::<crate::Result<Vec<_>>>()?;

    // The compare build (AWSIM_COMPARE_BIN / AWSIM_COMPARE_ARGS) runs beside awsim, measured in
    // the same rounds.
    let compare = match &o.target {
        Some(_) => None,
        None => crate::awsim::compare(ctx.bin()?)?
            .map(|(bin, args)| Awsim::start(&bin, &args))
            .transpose()?,
    };
    let compare_endpoint = compare
        .as_ref()
        .map(|a| ctx.rt.block_on(Endpoint::parse(&a.url())))
        .transpose()?;

    let mut rows = Vec::new();
    let mut rounds = Rounds::default();
    for call in &calls {
        if call.api != Api::Converse {
            eprintln!("canned: {} at c={c} for {:?}", call.label(), o.duration);
            let m = measure(ctx, &endpoint, pid, call, true)?;
            rows.push(m.row(call.label(), c, "–"));
            continue;
        }
        let mut builds = vec![(call.clone(), endpoint.clone(), pid, "")];
        if let (Some(a), Some(e)) = (&compare, &compare_endpoint) {
            let compare_call = Call::new(call.api, Format::EventStream, e, &o.model, None)?;
            builds.push((compare_call, e.clone(), Some(a.pid), " [compare]"));
        }
        for round in 1..=o.canned_rounds {
            let suffix = if o.canned_rounds > 1 {
                format!(" · round {round}")
            } else {
                String::new()
            };
            for (call, endpoint, pid, mark) in &builds {
                let label = format!("{}{mark}{suffix}", call.label());
                eprintln!("canned: {label} at c={c} for {:?}", o.duration);
                let m = measure(ctx, endpoint, *pid, call, true)?;
                rows.push(m.row(label, c, "≥ 60,000 req/s; ≤ 15 µs CPU/request"));
                let f = measure_floor(ctx, endpoint, call)?;
                rows.push(f.row(
                    format!("{FLOOR_LABEL}{suffix}"),
                    c,
                    "(no target: the floor)",
                ));
                rounds.add(mark.is_empty(), &m, &f);
            }
        }
    }
    if let Some(m) = medians(&rounds.measured) {
        report.figure(
            format!("canned Converse, c={c}: server CPU per request"),
            format!(
                "{}; floor: a hyper server answering fixed bytes uses {}",
                cpu_label(m.cpu),
                cpu_label(m.floor_cpu)
            ),
            "≤ 15 µs",
            at_most(m.cpu, 15e3),
        );
        report.figure(
            format!("canned Converse, c={c}: throughput"),
            format!(
                "{:.0} req/s; floor: {:.0} req/s ({:.0}% of it)",
                m.rps,
                m.floor_rps,
                100.0 * m.share
            ),
            "≥ 60,000 req/s",
            Some(m.rps >= 60_000.0),
        );
    }
    let mut s = String::from("## Canned throughput\n\n");
    s.push_str(&format!(
        "awsim in canned mode (no pacing), `{url}`. The **fixed-answer hyper server** row is the floor: a child process running hyper's HTTP/1.1 server threaded as awsim is (a single-threaded tokio runtime per core, all accepting from one socket), that reads each request whole and answers with the bytes awsim gave for the same Converse request, doing nothing else; what hyper, tokio and the kernel cost per request on this machine before any Bedrock work. Load generator: this process, {} client thread(s), {c} kept-alive {} connections, each sending the next request as soon as the last body ended, for {:?} per operation; every body read whole (ConverseStream as event-stream frames, undecoded after one checked answer per connection). **CPU/request** = the server's utime+stime over the run (`/proc/<pid>/stat`) / requests, then split into user and system (kernel: its TCP reads and writes, which on loopback carry the receiver's side of the stack too); **server CPU** = that over wall time (200% = both cores); **busy** = both cores, everything.\n\n",
        o.client_threads,
        o.proto.label(),
        o.duration
    ));
    s.push_str(&table(
        &[
            "operation",
            "c",
            "requests",
            "req/s",
            "latency p50",
            "p99",
            "CPU/request",
            "user + sys",
            "server CPU",
            "busy",
            "RSS before → after",
            "errors",
            "target",
        ],
        &rows,
    ));
    if o.canned_rounds > 1 || compare.is_some() {
        s.push('\n');
        s.push_str(&rounds.table(o.canned_rounds));
    }
    for (a, which) in [(&awsim, "awsim"), (&compare, "the compare build")] {
        for line in a.iter().flat_map(Awsim::notes) {
            report.note(format!(
                "{which} logged during the canned section: `{line}`"
            ));
        }
    }
    drop(awsim);
    drop(compare);

    if o.soak > 0 && (o.target.is_none() || o.target_pid.is_some()) {
        s.push('\n');
        s.push_str(&soak(ctx, report, o.soak)?);
    }
    report.sections.push(s);
    Ok(())
}

/// The floor for `call`: a hyper server that answers with the very bytes `endpoint` just sent for
/// it, measured like the build.
fn measure_floor(ctx: &Ctx<'_>, endpoint: &Endpoint, call: &Call) -> crate::Result<Measured> {
    let o = ctx.opts;
    let body = ctx.rt.block_on(async {
        let mut conn = Conn::open(endpoint, o.proto).await?;
        let resp = conn.send(call.request(conn.proto())).await?;
        Ok::<_, crate::Error>(resp.into_body().collect().await?.to_bytes())
    })?;
    let floor = FloorProcess::fixed_answer(&body)?;
    let floor_endpoint = Endpoint::from_addr(floor.addr(), "");
    let floor_call = Call::new(
        call.api,
        Format::EventStream,
        &floor_endpoint,
        &o.model,
        None,
    )?;
    eprintln!(
        "canned: {FLOOR_LABEL} at c={} for {:?}",
        o.canned_concurrency, o.duration
    );
    measure(ctx, &floor_endpoint, Some(floor.pid), &floor_call, false)
}

fn cpu_label(ns: Option<f64>) -> String {
    ns.map_or("–".into(), |n| format!("{:.1} µs", n / 1e3))
}

/// One canned Converse run and the floor run right after it.
#[derive(Clone, Copy)]
struct Pair {
    rps: f64,
    floor_rps: f64,
    share: f64,
    /// Server CPU per request, ns: all of it, and user time alone.
    cpu: Option<f64>,
    user: Option<f64>,
    floor_cpu: Option<f64>,
}

/// Every round's pairs, for awsim and the compare build: the machine drifts between rounds, so a
/// build is read by its medians, each run against the floor measured right after it.
#[derive(Default)]
struct Rounds {
    measured: Vec<Pair>,
    compared: Vec<Pair>,
}

impl Rounds {
    fn add(&mut self, measured: bool, m: &Measured, floor: &Measured) {
        let pairs = if measured {
            &mut self.measured
        } else {
            &mut self.compared
        };
        pairs.push(Pair {
            rps: m.rps(),
            floor_rps: floor.rps(),
            share: m.rps() / floor.rps().max(1.0),
            cpu: m.cpu_per_req(),
            user: m.cpu.map(|(u, _)| m.per_req(u)),
            floor_cpu: floor.cpu_per_req(),
        });
    }

    fn table(&self, rounds: usize) -> String {
        let mut rows = Vec::new();
        for (label, pairs) in [
            ("Converse", &self.measured),
            ("Converse [compare]", &self.compared),
        ] {
            let Some(m) = medians(pairs) else {
                continue;
            };
            let each = |f: fn(&Pair) -> String| pairs.iter().map(f).collect::<Vec<_>>().join(" · ");
            rows.push(vec![
                label.to_string(),
                each(|p| thousands(p.rps as u64)),
                thousands(m.rps as u64),
                each(|p| format!("{:.0}%", 100.0 * p.share)),
                format!("{:.0}%", 100.0 * m.share),
                format!(
                    "{} ({})",
                    cpu_label(m.cpu),
                    cpu_label(m.user).trim_end_matches(" µs")
                ),
            ]);
        }
        let mut s = format!(
            "### Rounds\n\nConverse measured in {rounds} round(s), each run followed by the floor for the bytes it answered; the floor itself moves between runs, so each run is read against its own. Medians over the rounds:\n\n"
        );
        s.push_str(&table(
            &[
                "build",
                "req/s, each round",
                "median",
                "% of its floor, each round",
                "median",
                "CPU/request, median (user)",
            ],
            &rows,
        ));
        s
    }
}

/// The median of each figure over one build's rounds.
fn medians(pairs: &[Pair]) -> Option<Pair> {
    let of = |f: fn(&Pair) -> f64| median(pairs.iter().map(f).collect());
    let opt = |f: fn(&Pair) -> Option<f64>| {
        let values: Vec<f64> = pairs.iter().filter_map(f).collect();
        (!values.is_empty()).then(|| median(values))
    };
    (!pairs.is_empty()).then(|| Pair {
        rps: of(|p| p.rps),
        floor_rps: of(|p| p.floor_rps),
        share: of(|p| p.share),
        cpu: opt(|p| p.cpu),
        user: opt(|p| p.user),
        floor_cpu: opt(|p| p.floor_cpu),
    })
}

/// RSS after 10,000 and after `total` requests (Converse and ConverseStream in turn) on a fresh
/// process.
fn soak(ctx: &Ctx<'_>, report: &mut Report, total: u64) -> crate::Result<String> {
    let o = ctx.opts;
    let c = o.canned_concurrency;
    let awsim = match &o.target {
        Some(_) => None,
        None => Some(Awsim::start(ctx.bin()?, &[])?),
    };
    let url = o
        .target
        .clone()
        .or_else(|| awsim.as_ref().map(Awsim::url))
        .ok_or("no endpoint")?;
    let pid = o
        .target_pid
        .or(awsim.as_ref().map(|a| a.pid))
        .ok_or("the soak needs the server's pid")?;
    let endpoint = ctx.rt.block_on(Endpoint::parse(&url))?;
    let calls = Arc::new(vec![
        Call::new(
            Api::Converse,
            Format::EventStream,
            &endpoint,
            &o.model,
            None,
        )?,
        Call::new(
            Api::ConverseStream,
            Format::EventStream,
            &endpoint,
            &o.model,
            None,
        )?,
    ]);
    let rss_idle = procfs::rss_kib(pid)?;
    let started = Arc::new(AtomicU64::new(0));
    let mut phases = Vec::new();
    let t0 = Instant::now();
    for upto in [SOAK_FIRST.min(total), total] {
        eprintln!("canned: soak to {} requests", thousands(upto));
        let t = Instant::now();
        let result = ctx.rt.block_on(async {
            let conns = connect_all(&endpoint, o.proto, c).await?;
            load(
                &endpoint,
                conns,
                calls.clone(),
                Until::Count(upto),
                started.clone(),
            )
            .await
        })?;
        // Let the connections close and the server settle before reading its memory.
        std::thread::sleep(Duration::from_millis(300));
        phases.push((upto, result, t.elapsed(), procfs::rss_kib(pid)?));
    }
    let took = t0.elapsed();
    let hwm = procfs::status_kib(pid, "VmHWM").ok();
    let mut rows = vec![vec![
        "0 (idle)".to_string(),
        mib(rss_idle),
        "".into(),
        "".into(),
    ]];
    let mut served = 0;
    for (_, result, elapsed, rss) in &phases {
        served += result.requests;
        rows.push(vec![
            thousands(served),
            mib(*rss),
            format!("{:.1} s", elapsed.as_secs_f64()),
            match &result.first_error {
                None => "0".into(),
                Some(e) => format!("{} (first: {})", result.errors, short(e)),
            },
        ]);
    }
    let mut s = format!(
        "### Memory under sustained load\n\nA fresh awsim, Converse and ConverseStream in turn at c={c}, RSS (`VmRSS`) read 300 ms after each phase; the whole soak took {:.0} s; peak RSS (`VmHWM`) {}.\n\n",
        took.as_secs_f64(),
        hwm.map_or("–".into(), mib)
    );
    s.push_str(&table(
        &["requests served", "RSS", "phase took", "errors"],
        &rows,
    ));
    if let [(_, _, _, first), (_, _, _, last)] = phases.as_slice() {
        let growth = 100.0 * (*last as f64 - *first as f64) / *first as f64;
        report.figure(
            "memory under sustained load",
            format!(
                "RSS {} after 10,000 → {} after {} ({growth:+.1}%)",
                mib(*first),
                mib(*last),
                thousands(served)
            ),
            "within 10% of RSS after 10,000",
            Some(growth.abs() <= 10.0),
        );
    }
    if let Some(a) = &awsim {
        for line in a.notes() {
            report.note(format!("awsim logged during the soak: `{line}`"));
        }
    }
    Ok(s)
}

/// An error message cut to fit a table cell.
pub fn short(e: &str) -> String {
    let e = e.replace('|', "\\|").replace('\n', " ");
    match e.char_indices().nth(160) {
        Some((i, _)) => format!("{}…", &e[..i]),
        None => e,
    }
}
