//! Time to first token and per-token latency through awsim against the same workload sent straight
//! to the synthetic upstream, for ConverseStream and InvokeModelWithResponseStream (Anthropic body)
//! in both stream formats, at each concurrency; and, in the same rounds, the same calls through a
//! second awsim with the invocation log off, for what recording costs.

use super::{at_most, Ctx};
use crate::awsim::Awsim;
use crate::client::{Api, Call, Endpoint, Format, Proto};
use crate::floor::{Floor, FloorProcess};
use crate::measure::{closed_loop, Run};
use crate::report::{table, Report};
use crate::stats::{added, ms, ratio, signed, us};
use crate::upstream::{Shape, Upstream};
use std::sync::Arc;

struct Row {
    label: String,
    concurrency: usize,
    via: Via,
    /// The row's rounds, pooled.
    through: Run,
}

/// What a row's requests go through.
enum Via {
    /// A relay floor, sent the direct workload: what any process in the middle costs here; no
    /// target applies.
    Floor(Floor),
    /// awsim (or `--target`), sent this call.
    Bedrock(Arc<Call>),
    /// A second awsim started with `--invocation-log 0`, sent this call.
    LogOff(Arc<Call>),
}

impl Row {
    fn floor(&self) -> Option<Floor> {
        match self.via {
            Via::Floor(floor) => Some(floor),
            Via::Bedrock(_) | Via::LogOff(_) => None,
        }
    }

    /// A row the targets judge: awsim as it runs by default (not a floor, not the log off).
    fn judged(&self) -> bool {
        matches!(self.via, Via::Bedrock(_))
    }
}

/// The relay floors, each sent the direct workload, with their row labels.
const FLOORS: [(Floor, &str); 2] = [
    (Floor::Relay, "direct through a bare TCP relay (the floor)"),
    (
        Floor::AsyncRelay,
        "direct through a tokio relay (the floor on awsim's runtime)",
    ),
];

struct Level {
    concurrency: usize,
    rounds: usize,
    per_round: usize,
    direct: Run,
    rows: Vec<Row>,
}

pub fn shape(ctx: &Ctx<'_>) -> Shape {
    Shape {
        first_token: ctx.opts.first_token,
        tokens: ctx.opts.tokens,
        gap: ctx.opts.token_gap,
        token_bytes: ctx.opts.token_bytes,
    }
}

pub fn run(ctx: &Ctx<'_>, report: &mut Report) -> crate::Result<()> {
    let o = ctx.opts;
    let upstream = Upstream::start(shape(ctx), o.upstream_port)?;
    eprintln!("ttft: synthetic upstream at {}", upstream.base_url());
    let awsim = match &o.target {
        Some(_) => None,
        None => Some(Awsim::start(
            ctx.bin()?,
            &["--bedrock-backend".into(), upstream.base_url()],
        )?),
    };
    // The same awsim with the invocation log off (the rows above run with it on, the default).
    let awsim_off = match &o.target {
        None if !o.log_off.is_empty() => Some(Awsim::start(
            ctx.bin()?,
            &[
                "--bedrock-backend".into(),
                upstream.base_url(),
                "--invocation-log".into(),
                "0".into(),
            ],
        )?),
        _ => None,
    };
    let bedrock_url = o
        .target
        .clone()
        .or_else(|| awsim.as_ref().map(Awsim::url))
        .ok_or("no endpoint")?;
    let pid = o.target_pid.or(awsim.as_ref().map(|a| a.pid));
    let baseline_url = o.baseline.clone().unwrap_or_else(|| upstream.base_url());
    let (bedrock, baseline, bedrock_off) = ctx.rt.block_on(async {
        let off = match &awsim_off {
            Some(a) => Some(Endpoint::parse(&a.url()).await?),
            None => None,
        };
        Ok::<_, crate::Error>((
            Endpoint::parse(&bedrock_url).await?,
            Endpoint::parse(&baseline_url).await?,
            off,
        ))
    })?;
    let max_tokens = Some(o.tokens);
    // One answer's length: workers start spread over it.
    let stagger = o.first_token + o.token_gap * o.tokens.saturating_sub(1);

    let calls = o
        .combos
        .iter()
        .map(|&(api, format)| Call::new(api, format, &bedrock, &o.model, max_tokens).map(Arc::new))
        .collect::<crate::Result<Vec<_>>>()?;
    let off_calls = match &bedrock_off {
        Some(off) => o
            .log_off
            .iter()
            .map(|&(api, format)| Call::new(api, format, off, &o.model, max_tokens).map(Arc::new))
            .collect::<crate::Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    let direct_call = |to: &Endpoint| {
        Call::new(
            Api::ChatCompletions,
            Format::EventStream,
            to,
            "bench",
            max_tokens,
        )
        .map(Arc::new)
    };

    let mut levels = Vec::new();
    for &c in &o.concurrency {
        let n = o.requests.max(4 * c);
        let rounds = rounds(n, c, o.rounds);
        let per_round = n.div_ceil(rounds);
        let mut direct = Run::default();
        let floors = FLOORS
            .iter()
            .map(|&(floor, label)| (label.to_string(), Via::Floor(floor)));
        let bedrock_rows = calls
            .iter()
            .map(|call| (call.label(), Via::Bedrock(call.clone())));
        let off_rows = off_calls.iter().map(|call| {
            (
                format!("{}{LOG_OFF}", call.label()),
                Via::LogOff(call.clone()),
            )
        });
        let mut rows: Vec<Row> = floors
            .chain(bedrock_rows)
            .chain(off_rows)
            .map(|(label, via)| Row {
                label,
                concurrency: c,
                via,
                through: Run::default(),
            })
            .collect();
        for round in 1..=rounds {
            eprintln!("ttft: c={c}, round {round} of {rounds}, {per_round} requests per row: direct baseline");
            direct.absorb(ctx.rt.block_on(closed_loop(
                &baseline,
                Proto::Http1,
                direct_call(&baseline)?,
                c,
                per_round,
                stagger,
                None,
            ))?);
            for row in &mut rows {
                eprintln!("ttft: c={c}, round {round}: {}", row.label);
                let measured = match &row.via {
                    Via::Floor(floor) => {
                        let relay = FloorProcess::relay(*floor, baseline.addr)?;
                        let relayed = Endpoint::from_addr(relay.addr(), &baseline.prefix);
                        // Its connections end with the client's; the relay with them.
                        ctx.rt.block_on(closed_loop(
                            &relayed,
                            Proto::Http1,
                            direct_call(&relayed)?,
                            c,
                            per_round,
                            stagger,
                            Some(relay.pid),
                        ))?
                    }
                    Via::Bedrock(call) => ctx.rt.block_on(closed_loop(
                        &bedrock,
                        o.proto,
                        call.clone(),
                        c,
                        per_round,
                        stagger,
                        pid,
                    ))?,
                    Via::LogOff(call) => ctx.rt.block_on(closed_loop(
                        bedrock_off.as_ref().ok_or("no log-off endpoint")?,
                        o.proto,
                        call.clone(),
                        c,
                        per_round,
                        stagger,
                        awsim_off.as_ref().map(|a| a.pid),
                    ))?,
                };
                row.through.absorb(measured);
            }
        }
        levels.push(Level {
            concurrency: c,
            rounds,
            per_round,
            direct,
            rows,
        });
    }
    for a in awsim.iter().chain(&awsim_off) {
        for line in a.notes() {
            report.note(format!("awsim logged during the TTFT section: `{line}`"));
        }
    }
    render(ctx, report, &levels, &bedrock_url, &baseline_url, &upstream);
    Ok(())
}

/// The label suffix of a row measured with the invocation log off.
const LOG_OFF: &str = " · log off";

/// Rounds for `n` requests at concurrency `c`: up to `most`, each with at least 4 requests per
/// worker. Every round measures every row in turn, so a drift of the machine over the section's
/// minutes falls on all the rows of a level alike instead of on whichever ran during it.
fn rounds(n: usize, c: usize, most: usize) -> usize {
    (n / (4 * c.max(1))).clamp(1, most.max(1))
}

fn ttft_target(c: usize) -> (&'static str, Option<f64>, Option<f64>) {
    match c {
        1 => ("p50 ≤ 0.2 ms, p99 ≤ 1 ms", Some(0.2e6), Some(1e6)),
        256 => ("p50 ≤ 1 ms", Some(1e6), None),
        _ => ("–", None, None),
    }
}

fn verdict(p50: Option<i64>, p99: Option<i64>, c: usize) -> Option<bool> {
    let (_, b50, b99) = ttft_target(c);
    let check = |v: Option<i64>, b: Option<f64>| match b {
        None => None,
        Some(b) => at_most(v.map(|v| v as f64), b),
    };
    match (check(p50, b50), check(p99, b99)) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(true) && b.unwrap_or(true)),
    }
}

fn render(
    ctx: &Ctx<'_>,
    report: &mut Report,
    levels: &[Level],
    bedrock_url: &str,
    baseline_url: &str,
    upstream: &Upstream,
) {
    let o = ctx.opts;
    let mut s = String::from("## Time to first token: through awsim vs direct\n\n");
    s.push_str(&format!(
        "Client: {} ({}), one worker per concurrent request sending again as soon as its answer ends, the workers' first requests spread over one answer's length (a steady state, not a burst); measured requests per row: {} (at least 4 per worker), after one warm-up request per worker; each level's rows are measured in rounds ({}), every row in turn in each round and its rounds pooled, so that a drift of the machine over the minutes a level takes falls on its rows alike. Through: `{bedrock_url}`; direct: `{baseline_url}` (OpenAI SSE, time to the first non-empty `delta.content`). The synthetic upstream answered {} chat completions in this section.\n\n",
        o.proto.label(),
        if o.proto == Proto::Http1 { "a kept-alive connection per worker" } else { "one shared connection" },
        o.requests,
        levels
            .iter()
            .map(|l| format!("c={}: {} × {}", l.concurrency, l.rounds, l.per_round))
            .collect::<Vec<_>>()
            .join(", "),
        upstream.requests(),
    ));
    s.push_str("Two floors send the direct workload through a process that does nothing but copy bytes, each a child process as awsim is: the **bare TCP relay** (two blocking threads per connection: one more thread to wake per write, the least any process in the middle pays on this machine) and the **tokio relay** (tokio's current-thread runtime, one task per connection, `copy_bidirectional`: what epoll and an async runtime add before any HTTP, JSON or Bedrock work). awsim's added latency reads against them.

**TTFT** = request sent → first text delta decoded by the client (ConverseStream `contentBlockDelta`, InvokeModelWithResponseStream `content_block_delta` inside the base64 `chunk`). *Added* = through − direct, per percentile; ratio = through / direct at p50.\n\n");
    let mut rows = Vec::new();
    for level in levels {
        let d = &level.direct;
        rows.push(vec![
            "direct (baseline)".into(),
            level.concurrency.to_string(),
            d.requests.to_string(),
            ms(d.ttft.p50()),
            ms(d.ttft.p90()),
            ms(d.ttft.p99()),
            "".into(),
            "".into(),
            "".into(),
            "".into(),
            "".into(),
            errors(d),
        ]);
        for r in &level.rows {
            let t = &r.through;
            let a50 = added(t.ttft.p50(), d.ttft.p50());
            let a99 = added(t.ttft.p99(), d.ttft.p99());
            let (target, _, _) = ttft_target(r.concurrency);
            let target = if r.floor().is_some() {
                "(no target: the floor)".to_string()
            } else if !r.judged() {
                "(no target: the log off)".to_string()
            } else {
                format!("{target}{}", mark(verdict(a50, a99, r.concurrency)))
            };
            rows.push(vec![
                r.label.clone(),
                r.concurrency.to_string(),
                t.requests.to_string(),
                ms(t.ttft.p50()),
                ms(t.ttft.p90()),
                ms(t.ttft.p99()),
                signed(a50),
                ratio(t.ttft.p50(), d.ttft.p50()),
                signed(added(t.ttft.p90(), d.ttft.p90())),
                signed(a99),
                target,
                errors(t),
            ]);
        }
    }
    s.push_str(&table(
        &[
            "operation · format",
            "c",
            "n",
            "TTFT p50",
            "p90",
            "p99",
            "added p50",
            "ratio p50",
            "added p90",
            "added p99",
            "target (added)",
            "errors",
        ],
        &rows,
    ));

    s.push_str("\n### Where the added TTFT goes\n\nFrom the stamps the upstream writes into the first token: **request leg** = client sent → upstream received the request (awsim: routing, parsing, translation, the pooled connection to the upstream); **first-token leg** = upstream wrote the first token → client decoded it (awsim: SSE decode, shaping, framing, the write).\n\n");
    let mut rows = Vec::new();
    for level in levels {
        let d = &level.direct;
        for r in &level.rows {
            let t = &r.through;
            rows.push(vec![
                r.label.clone(),
                r.concurrency.to_string(),
                us(d.request_leg.p50()),
                us(t.request_leg.p50()),
                signed(added(t.request_leg.p50(), d.request_leg.p50())),
                signed(added(t.request_leg.p99(), d.request_leg.p99())),
                us(d.first_token_latency.p50()),
                us(t.first_token_latency.p50()),
                signed(added(
                    t.first_token_latency.p50(),
                    d.first_token_latency.p50(),
                )),
                signed(added(
                    t.first_token_latency.p99(),
                    d.first_token_latency.p99(),
                )),
            ]);
        }
    }
    s.push_str(&table(
        &[
            "operation · format",
            "c",
            "request leg direct p50",
            "through p50",
            "added p50",
            "added p99",
            "first-token leg direct p50",
            "through p50",
            "added p50",
            "added p99",
        ],
        &rows,
    ));

    s.push_str(&format!("\n### Per token\n\n**Token latency** = upstream wrote the token → client decoded it (one clock: upstream and client share the process), every token; its added p50 is the issue's *added inter-token latency*. **Gap** = time between consecutive text deltas at the client (the upstream paces them {} apart). **server CPU** = CPU time of the process in the middle (awsim, or the relay of a floor row; its threads' schedstat run time) over the row / tokens streamed (includes each request's own cost); **wake-ups / token** = times the middle process's threads were scheduled onto a CPU (`/proc/PID/task/*/schedstat`) over the tokens streamed, and **CPU / wake-up** their time on a CPU per scheduling: on this kind of machine a process that sleeps between tokens pays a fixed cost each time it wakes, whatever little it then does, and the relays show what it is; **busy** = share of both cores in use during the row (client, upstream and awsim together).\n\n", us(Some(u64::try_from(o.token_gap.as_nanos()).unwrap_or(0)))));
    let mut rows = Vec::new();
    for level in levels {
        let d = &level.direct;
        rows.push(vec![
            "direct (baseline)".into(),
            level.concurrency.to_string(),
            us(d.token_latency.p50()),
            us(d.token_latency.p99()),
            "".into(),
            "".into(),
            us(d.gaps.p50()),
            us(d.gaps.p99()),
            "".into(),
            "".into(),
            "".into(),
            format!("{:.0}%", d.machine_busy),
        ]);
        for r in &level.rows {
            let t = &r.through;
            let a50 = added(t.token_latency.p50(), d.token_latency.p50());
            let cpu_per_token = cpu_per_token(t);
            let (wakeups, per_wakeup) = match t.server_sched {
                Some((run, slices)) if slices > 0 && t.tokens > 0 => (
                    format!("{:.1}", slices as f64 / t.tokens as f64),
                    us(Some(
                        u64::try_from(run.as_nanos()).unwrap_or(u64::MAX) / slices,
                    )),
                ),
                _ => ("–".into(), "–".into()),
            };
            rows.push(vec![
                r.label.clone(),
                r.concurrency.to_string(),
                us(t.token_latency.p50()),
                us(t.token_latency.p99()),
                format!(
                    "{}{}",
                    signed(a50),
                    if r.judged() {
                        mark(at_most(a50.map(|v| v as f64), 50e3))
                    } else {
                        ""
                    }
                ),
                signed(added(t.token_latency.p99(), d.token_latency.p99())),
                us(t.gaps.p50()),
                us(t.gaps.p99()),
                us(cpu_per_token),
                wakeups,
                per_wakeup,
                format!("{:.0}%", t.machine_busy),
            ]);
        }
    }
    s.push_str(&table(
        &[
            "operation · format",
            "c",
            "token latency p50",
            "p99",
            "added p50 (target ≤ 50 µs)",
            "added p99",
            "gap p50",
            "gap p99",
            "server CPU / token",
            "wake-ups / token",
            "CPU / wake-up",
            "busy",
        ],
        &rows,
    ));
    log_cost(report, &mut s, levels);
    report.sections.push(s);

    // Summary: the worst combination at each target.
    for (c, name) in [(1, "added TTFT, c=1"), (256, "added TTFT, c=256")] {
        let Some(level) = levels.iter().find(|l| l.concurrency == c) else {
            continue;
        };
        let d = &level.direct;
        let worst = |p: fn(&crate::stats::Dist) -> Option<u64>| {
            level
                .rows
                .iter()
                .filter(|r| r.judged())
                .filter_map(|r| added(p(&r.through.ttft), p(&d.ttft)).map(|a| (a, &r.label)))
                .max_by_key(|(a, _)| *a)
        };
        let w50 = worst(crate::stats::Dist::p50);
        let w99 = worst(crate::stats::Dist::p99);
        let (target, _, _) = ttft_target(c);
        let floor = |which: Floor| {
            level
                .rows
                .iter()
                .find(|r| r.floor() == Some(which))
                .and_then(|r| added(r.through.ttft.p50(), d.ttft.p50()))
        };
        let measured = match c {
            1 => format!(
                "worst p50 {} ({}), worst p99 {} ({})",
                signed(w50.map(|w| w.0)),
                w50.map_or("–", |w| w.1.as_str()),
                signed(w99.map(|w| w.0)),
                w99.map_or("–", |w| w.1.as_str()),
            ),
            _ => format!(
                "worst p50 {} ({})",
                signed(w50.map(|w| w.0)),
                w50.map_or("–", |w| w.1.as_str())
            ),
        };
        let measured = format!(
            "{measured}; floors: a bare TCP relay adds p50 {}, a tokio relay {}",
            signed(floor(Floor::Relay)),
            signed(floor(Floor::AsyncRelay))
        );
        report.figure(
            name,
            measured,
            target,
            verdict(w50.map(|w| w.0), w99.map(|w| w.0), c),
        );
    }
    let token_added =
        |l: &Level, r: &Row| added(r.through.token_latency.p50(), l.direct.token_latency.p50());
    let worst_token = levels
        .iter()
        .flat_map(|l| {
            l.rows
                .iter()
                .filter(|r| r.judged())
                .filter_map(move |r| token_added(l, r).map(|a| (a, l, r)))
        })
        .max_by_key(|(a, _, _)| *a);
    let floor_token = |which: Floor| {
        levels
            .iter()
            .flat_map(|l| {
                l.rows
                    .iter()
                    .filter(move |r| r.floor() == Some(which))
                    .filter_map(move |r| token_added(l, r))
            })
            .max()
    };
    if let Some((a, level, row)) = worst_token {
        // The tokio relay measured in the same rounds as the worst row: what is awsim's own.
        let over_relay = level
            .rows
            .iter()
            .find(|r| r.floor() == Some(Floor::AsyncRelay))
            .and_then(|r| token_added(level, r))
            .map_or_else(String::new, |relay| {
                format!(", {} over the tokio relay's", signed(Some(a - relay)))
            });
        report.figure(
            "added inter-token latency",
            format!(
                "worst p50 {} ({}, c={}{over_relay}); floors: a bare TCP relay adds up to {}, a tokio relay up to {}",
                signed(Some(a)),
                row.label,
                level.concurrency,
                signed(floor_token(Floor::Relay)),
                signed(floor_token(Floor::AsyncRelay))
            ),
            "p50 ≤ 50 µs",
            at_most(Some(a as f64), 50e3),
        );
    }
}

/// Server CPU time per streamed token. schedstat's run time counts to the nanosecond;
/// /proc/PID/stat's to the 10 ms tick, which a row's rounds would each round off.
fn cpu_per_token(t: &Run) -> Option<u64> {
    t.server_sched
        .map(|(run, _)| run)
        .or(t.server_cpu)
        .filter(|_| t.tokens > 0)
        .map(|c| u64::try_from(c.as_nanos()).unwrap_or(0) / t.tokens)
}

/// What the invocation log costs: each log-off row against the row with the log on (the default)
/// measured in the same rounds.
fn log_cost(report: &mut Report, s: &mut String, levels: &[Level]) {
    let pairs: Vec<(&Level, &Row, &Row)> = levels
        .iter()
        .flat_map(|l| {
            l.rows
                .iter()
                .filter(|r| matches!(r.via, Via::LogOff(_)))
                .filter_map(move |off| {
                    let label = off.label.strip_suffix(LOG_OFF)?;
                    let on = l.rows.iter().find(|r| r.judged() && r.label == label)?;
                    Some((l, on, off))
                })
        })
        .collect();
    if pairs.is_empty() {
        return;
    }
    s.push_str("\n### The invocation log's cost\n\nThe same call through the default awsim (invocation log on, `--invocation-log 1000`) and through a second awsim started with `--invocation-log 0`, measured in the same rounds against the same upstream. *On − off* is what recording adds: per percentile of the time to first token and of every token's latency, and in server CPU per streamed token. Differences of a few µs either way are within the noise of a run.\n\n");
    let one_call = pairs.iter().all(|(_, on, _)| on.label == pairs[0].1.label);
    let mut rows = Vec::new();
    let mut summary = Vec::new();
    for (level, on, off) in &pairs {
        let (a, b) = (&on.through, &off.through);
        let ttft50 = added(a.ttft.p50(), b.ttft.p50());
        let token50 = added(a.token_latency.p50(), b.token_latency.p50());
        let cpu = added(cpu_per_token(a), cpu_per_token(b));
        rows.push(vec![
            on.label.clone(),
            level.concurrency.to_string(),
            us(a.ttft.p50()),
            us(b.ttft.p50()),
            signed(ttft50),
            signed(added(a.ttft.p99(), b.ttft.p99())),
            us(a.token_latency.p50()),
            us(b.token_latency.p50()),
            signed(token50),
            signed(added(a.token_latency.p99(), b.token_latency.p99())),
            us(cpu_per_token(a)),
            us(cpu_per_token(b)),
            signed(cpu),
        ]);
        summary.push(format!(
            "{}c={}: TTFT p50 {}, token p50 {}, CPU/token {}",
            if one_call {
                String::new()
            } else {
                format!("{} ", on.label)
            },
            level.concurrency,
            signed(ttft50),
            signed(token50),
            signed(cpu)
        ));
    }
    s.push_str(&table(
        &[
            "operation · format",
            "c",
            "TTFT p50 on",
            "off",
            "on − off",
            "p99 on − off",
            "token latency p50 on",
            "off",
            "on − off",
            "p99 on − off",
            "server CPU / token on",
            "off",
            "on − off",
        ],
        &rows,
    ));
    let name = if one_call {
        format!("invocation log's cost ({}, on − off)", pairs[0].1.label)
    } else {
        "invocation log's cost (on − off)".to_string()
    };
    report.figure(name, summary.join("; "), "–", None);
}

fn errors(run: &Run) -> String {
    match &run.first_error {
        None => "0".into(),
        Some(e) => format!("{} (first: {})", run.errors, super::canned::short(e)),
    }
}

fn mark(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => " ✓",
        Some(false) => " ✗",
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::rounds;

    #[test]
    fn rounds_keep_four_requests_per_worker() {
        assert_eq!(rounds(200, 1, 5), 5);
        assert_eq!(rounds(200, 16, 5), 3);
        assert_eq!(rounds(1024, 256, 5), 1);
        assert_eq!(rounds(10, 1, 5), 2);
        assert_eq!(rounds(200, 1, 0), 1, "at least one round");
    }
}
