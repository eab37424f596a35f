//! The runner's options, parsed by hand (`cargo bench` adds `--bench`, which is ignored).

use crate::client::{Api, Format, Proto};
use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "\
awsim stream benchmarks

  cargo build --release && cargo bench -p awsim-bench --bench stream -- [OPTIONS]

Sections (default: all):
  --sections LIST          comma-separated: ttft, canned, memory, startup, codec
  --quick                  a short run of every section, for smoke testing (writes no RESULTS.md)

Endpoints:
  --target URL             measure this Bedrock-shaped endpoint instead of a child awsim
                           (ttft and canned sections; plain http:// only)
  --target-pid PID         read the target's CPU time and RSS from /proc/PID
  --baseline URL           OpenAI-compatible base URL (with /v1) for the direct baseline
                           (default: the synthetic upstream)
  --upstream-port PORT     port of the synthetic upstream (default: any free port; fix it to
                           point another emulator at it before a --target run)
  --model ID               model id in the Bedrock requests (default anthropic.claude-3-haiku-20240307-v1:0)
  --http2                  client over h2c (one shared connection) instead of HTTP/1.1 keep-alive

TTFT section (synthetic upstream):
  --concurrency LIST       default 1,16,256
  --streams-of LIST        which streaming calls: converse-stream/eventstream, converse-stream/json,
                           invoke-stream/eventstream, invoke-stream/json (default: all four)
  --requests N             measured requests per row (default 200; at least 4 per worker)
  --rounds N               measure each concurrency's rows in up to N rounds, every row in
                           turn in each, at least 4 requests per worker a round (default 5)
  --first-token-ms MS      upstream delay before the first token (default 20)
  --tokens N               tokens per answer (default 8)
  --token-gap-ms MS        upstream delay between tokens (default 20: 50 tokens/s per stream)
  --token-bytes N          bytes of text per token, at least 13 (default 16)

Canned throughput:
  --canned-concurrency N   default 64
  --canned-ops LIST        converse, converse-stream (default both)
  --duration SECONDS       per operation (default 10)
  --canned-rounds N        measure Converse N times, each run followed by its floor (and, with
                           AWSIM_COMPARE_BIN, the compare build and its floor), and read the
                           medians (default 1)
  --soak N                 requests for the flat-memory check: RSS after 10,000 and after N
                           (default 1000000; 0 skips)

Memory:
  --streams LIST           concurrent open ConverseStream streams (default 1000,10000)

Start-up:
  --startup-runs N         default 20

Output:
  --client-threads N       client runtime threads (default 1: the client then uses one core)
  --out FILE               also write the report here (a full run writes benches/RESULTS.md)
  --no-write               write no file

Environment:
  AWSIM_BIN                the awsim binary to measure (default: target/release/awsim)
  AWSIM_COMPARE_BIN        another awsim build measured in the same TTFT rounds, against the
                           same upstream and floors, and in the same canned rounds, each run
                           against its own floor: its rows are marked [compare]
  AWSIM_COMPARE_ARGS       flags added to the compared awsim's command line; alone, the measured
                           build runs again with them (\"--invocation-log 0\": the log's cost)
";

/// The streaming calls of the TTFT section.
pub const COMBOS: [(Api, Format); 4] = [
    (Api::ConverseStream, Format::EventStream),
    (Api::ConverseStream, Format::JsonArray),
    (Api::InvokeStream, Format::EventStream),
    (Api::InvokeStream, Format::JsonArray),
];

/// A section of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Ttft,
    Canned,
    Memory,
    Startup,
    Codec,
}

pub const ALL: [Section; 5] = [
    Section::Ttft,
    Section::Canned,
    Section::Memory,
    Section::Startup,
    Section::Codec,
];

#[derive(Debug, Clone)]
pub struct Options {
    pub sections: Vec<Section>,
    pub quick: bool,
    pub target: Option<String>,
    pub target_pid: Option<u32>,
    pub baseline: Option<String>,
    pub upstream_port: u16,
    pub model: String,
    pub proto: Proto,
    pub concurrency: Vec<usize>,
    pub combos: Vec<(Api, Format)>,
    pub requests: usize,
    pub rounds: usize,
    pub first_token: Duration,
    pub tokens: u32,
    pub token_gap: Duration,
    pub token_bytes: usize,
    pub canned_concurrency: usize,
    pub canned_ops: Vec<Api>,
    pub canned_rounds: usize,
    pub duration: Duration,
    pub soak: u64,
    pub streams: Vec<usize>,
    pub startup_runs: usize,
    pub client_threads: usize,
    pub out: Option<PathBuf>,
    pub no_write: bool,
    /// The arguments as given, for the report's command line.
    pub given: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            sections: ALL.to_vec(),
            quick: false,
            target: None,
            target_pid: None,
            baseline: None,
            upstream_port: 0,
            model: "anthropic.claude-3-haiku-20240307-v1:0".into(),
            proto: Proto::Http1,
            concurrency: vec![1, 16, 256],
            combos: COMBOS.to_vec(),
            requests: 200,
            rounds: 5,
            first_token: Duration::from_millis(20),
            tokens: 8,
            token_gap: Duration::from_millis(20),
            token_bytes: 16,
            canned_concurrency: 64,
            canned_ops: vec![Api::Converse, Api::ConverseStream],
            canned_rounds: 1,
            duration: Duration::from_secs(10),
            soak: 1_000_000,
            streams: vec![1_000, 10_000],
            startup_runs: 20,
            client_threads: 1,
            out: None,
            no_write: false,
            given: Vec::new(),
        }
    }
}

/// What the command line asks for: a run, or the usage text.
#[derive(Debug)]
pub enum Parsed {
    Run(Box<Options>),
    Help,
}

impl Options {
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
        let mut o = Options::default();
        let args: Vec<String> = args.into_iter().filter(|a| a != "--bench").collect();
        o.given = args.clone();
        // Options given explicitly win over --quick's smaller defaults.
        let mut set = Vec::new();
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (arg.clone(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| it.next())
                    .ok_or_else(|| format!("{flag} needs a value"))
            };
            match flag.as_str() {
                "-h" | "--help" => return Ok(Parsed::Help),
                "--quick" => o.quick = true,
                "--http2" => o.proto = Proto::Http2,
                "--no-write" => o.no_write = true,
                "--sections" => o.sections = sections(&value()?)?,
                "--target" => o.target = Some(value()?),
                "--target-pid" => o.target_pid = Some(number(&flag, &value()?)?),
                "--baseline" => o.baseline = Some(value()?),
                "--upstream-port" => o.upstream_port = number(&flag, &value()?)?,
                "--model" => o.model = value()?,
                "--concurrency" => o.concurrency = list(&flag, &value()?)?,
                "--streams-of" => o.combos = combos(&value()?)?,
                "--requests" => o.requests = number(&flag, &value()?)?,
                "--rounds" => o.rounds = number(&flag, &value()?)?,
                "--first-token-ms" => o.first_token = millis(&flag, &value()?)?,
                "--tokens" => o.tokens = number(&flag, &value()?)?,
                "--token-gap-ms" => o.token_gap = millis(&flag, &value()?)?,
                "--token-bytes" => o.token_bytes = number(&flag, &value()?)?,
                "--canned-concurrency" => o.canned_concurrency = number(&flag, &value()?)?,
                "--canned-ops" => o.canned_ops = canned_ops(&value()?)?,
                "--canned-rounds" => o.canned_rounds = number::<usize>(&flag, &value()?)?.max(1),
                "--duration" => o.duration = Duration::from_secs_f64(number(&flag, &value()?)?),
                "--soak" => o.soak = number(&flag, &value()?)?,
                "--streams" => o.streams = list(&flag, &value()?)?,
                "--startup-runs" => o.startup_runs = number(&flag, &value()?)?,
                "--client-threads" => o.client_threads = number(&flag, &value()?)?,
                "--out" => o.out = Some(PathBuf::from(value()?)),
                other => return Err(format!("unknown option '{other}' (try --help)")),
            }
            set.push(flag);
        }
        if o.quick {
            let unset = |f: &str| !set.iter().any(|s| s == f);
            if unset("--requests") {
                o.requests = 40;
            }
            if unset("--duration") {
                o.duration = Duration::from_secs(2);
            }
            if unset("--soak") {
                o.soak = 30_000;
            }
            if unset("--streams") {
                o.streams = vec![200, 1_000];
            }
            if unset("--startup-runs") {
                o.startup_runs = 5;
            }
        }
        if o.target.is_some() {
            o.sections
                .retain(|s| matches!(s, Section::Ttft | Section::Canned));
        }
        if o.concurrency.contains(&0) || o.canned_concurrency == 0 || o.client_threads == 0 {
            return Err("concurrency and thread counts must be at least 1".into());
        }
        if o.tokens == 0 {
            return Err("--tokens must be at least 1".into());
        }
        Ok(Parsed::Run(Box::new(o)))
    }

    /// Whether this run is the full default one, whose report belongs in `benches/RESULTS.md`.
    pub fn is_full_run(&self) -> bool {
        !self.quick && self.target.is_none() && self.sections.len() == ALL.len()
    }

    pub fn runs(&self, section: Section) -> bool {
        self.sections.contains(&section)
    }
}

fn sections(v: &str) -> Result<Vec<Section>, String> {
    v.split(',')
        .map(|s| match s.trim() {
            "ttft" => Ok(Section::Ttft),
            "canned" => Ok(Section::Canned),
            "memory" => Ok(Section::Memory),
            "startup" => Ok(Section::Startup),
            "codec" => Ok(Section::Codec),
            other => Err(format!(
                "unknown section '{other}' (ttft, canned, memory, startup, codec)"
            )),
        })
        .collect()
}

fn combos(v: &str) -> Result<Vec<(Api, Format)>, String> {
    v.split(',')
        .map(|s| {
            let (op, format) = s.trim().split_once('/').unwrap_or((s.trim(), ""));
            let api = match op {
                "converse-stream" => Api::ConverseStream,
                "invoke-stream" => Api::InvokeStream,
                _ => {
                    return Err(format!(
                        "'{s}': the operation is converse-stream or invoke-stream"
                    ))
                }
            };
            let format = match format {
                "eventstream" => Format::EventStream,
                "json" => Format::JsonArray,
                _ => return Err(format!("'{s}': the format is eventstream or json")),
            };
            Ok((api, format))
        })
        .collect()
}

fn canned_ops(v: &str) -> Result<Vec<Api>, String> {
    v.split(',')
        .map(|s| match s.trim() {
            "converse" => Ok(Api::Converse),
            "converse-stream" => Ok(Api::ConverseStream),
            other => Err(format!("'{other}': converse or converse-stream")),
        })
        .collect()
}

fn number<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.replace('_', "")
        .parse()
        .map_err(|_| format!("{flag}: '{v}' is not a number"))
}

fn millis(flag: &str, v: &str) -> Result<Duration, String> {
    let ms: f64 = number(flag, v)?;
    if !(0.0..=3_600_000.0).contains(&ms) {
        return Err(format!("{flag}: '{v}' is out of range"));
    }
    Ok(Duration::from_secs_f64(ms / 1000.0))
}

fn list(flag: &str, v: &str) -> Result<Vec<usize>, String> {
    v.split(',').map(|x| number(flag, x.trim())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Options {
        match Options::parse(args.iter().map(|s| s.to_string())).unwrap() {
            Parsed::Run(o) => *o,
            Parsed::Help => panic!("help"),
        }
    }

    #[test]
    fn defaults_quick_and_explicit_values() {
        let o = parse(&["--bench"]);
        assert!(o.is_full_run());
        assert_eq!(o.concurrency, [1, 16, 256]);
        let o = parse(&["--quick", "--requests=77", "--sections", "ttft,startup"]);
        assert_eq!(o.requests, 77);
        assert_eq!(o.startup_runs, 5);
        assert_eq!(o.sections, [Section::Ttft, Section::Startup]);
        assert!(!o.is_full_run());
        let o = parse(&["--target", "http://127.0.0.1:4566", "--token-gap-ms", "0.5"]);
        assert_eq!(o.sections, [Section::Ttft, Section::Canned]);
        assert_eq!(o.token_gap, Duration::from_micros(500));
        let o = parse(&["--streams-of", "invoke-stream/json"]);
        assert_eq!(o.combos, [(Api::InvokeStream, Format::JsonArray)]);
        assert!(Options::parse(["--streams-of=converse/json".to_string()]).is_err());
        assert!(Options::parse(["--nope".to_string()]).is_err());
        assert!(matches!(
            Options::parse(["--help".to_string()]),
            Ok(Parsed::Help)
        ));
    }
}
