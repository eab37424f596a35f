//! awsim's stream benchmark runner: time to first token and per-token latency through awsim against
//! a direct baseline, canned throughput and server CPU per request, memory at rest, under load and
//! with thousands of open streams, and start-up time. Prints a Markdown report and, for a full run,
//! writes it to `benches/RESULTS.md`.
//!
//! ```sh
//! cargo build --release && cargo bench -p awsim-bench --bench stream -- [--quick] [--help]
//! ```

#![allow(
    clippy::print_stdout,
    reason = "a bench binary: the report goes to stdout"
)]

use awsim_bench::args::{Options, Parsed, Section, USAGE};
use awsim_bench::report::{Head, Report};
use awsim_bench::sections::{self, Ctx};
use awsim_bench::{awsim, floor, procfs, report, stamp};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, kind, arg] = args.as_slice() {
        if flag == floor::CHILD_FLAG {
            return match floor::child_main(kind, arg) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("floor child: {err}");
                    ExitCode::FAILURE
                }
            };
        }
    }
    let opts = match Options::parse(std::env::args().skip(1)) {
        Ok(Parsed::Run(o)) => *o,
        Ok(Parsed::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("error: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(opts: &Options) -> awsim_bench::Result<()> {
    stamp::epoch();
    let started = Instant::now();
    let load_start = procfs::loadavg();
    // Other work on the machine skews every figure: say how busy it was just before.
    let idle_check = procfs::CpuTimes::now();
    std::thread::sleep(std::time::Duration::from_secs(1));
    let busy_before = procfs::CpuTimes::now().busy_since(&idle_check);
    if busy_before > 20.0 {
        eprintln!(
            "warning: the machine was {busy_before:.0}% busy before the run; figures will be noisy"
        );
    }
    let bin = match &opts.target {
        Some(_) => None,
        None => Some(awsim::binary()?),
    };
    if let Some(warning) = bin.as_deref().and_then(awsim::staleness) {
        eprintln!("warning: {warning}");
    }
    let rt = if opts.client_threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(opts.client_threads)
            .enable_all()
            .build()?
    };
    let ctx = Ctx {
        opts,
        bin: bin.clone(),
        rt: &rt,
    };
    let mut report = Report::default();
    for section in &opts.sections {
        match section {
            Section::Ttft => sections::ttft::run(&ctx, &mut report)?,
            Section::Canned => sections::canned::run(&ctx, &mut report)?,
            Section::Memory => sections::memory::run(&ctx, &mut report)?,
            Section::Startup => sections::startup::run(&ctx, &mut report)?,
            Section::Codec => sections::codec::run(&mut report)?,
        }
    }
    let head = Head {
        date: report::utc_now(),
        machine: procfs::machine(),
        load_start,
        load_end: procfs::loadavg(),
        busy_before,
        binary: bin.map_or_else(
            || format!("--target {}", opts.target.as_deref().unwrap_or("?")),
            |b| b.display().to_string(),
        ),
        commit: commit(),
        command: format!(
            "cargo build --release && cargo bench -p awsim-bench --bench stream --{}",
            opts.given
                .iter()
                .map(|a| format!(" {a}"))
                .collect::<String>()
        ),
        workload: workload(opts),
        took_secs: started.elapsed().as_secs_f64(),
    };
    let text = report.render(&head);
    println!("{text}");
    let out = match (&opts.out, opts.no_write) {
        (_, true) => None,
        (Some(path), false) => Some(path.clone()),
        (None, false) if opts.is_full_run() => {
            Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("RESULTS.md"))
        }
        (None, false) => None,
    };
    if let Some(path) = out {
        std::fs::write(&path, text)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn workload(o: &Options) -> String {
    format!(
        "Synthetic upstream: first token {:?} after the request arrives, {} tokens of {} bytes, {:?} apart (a precise timer thread paces them). Client: {} client thread(s) in this process; upstream: one thread; awsim: its own process (a single-threaded tokio runtime per core).",
        o.first_token, o.tokens, o.token_bytes.max(stamp::STAMP_LEN), o.token_gap, o.client_threads
    )
}

/// `abc1234` (or `abc1234-dirty`) of the work tree, if git is there.
fn commit() -> Option<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .current_dir(dir)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let head = git(&["rev-parse", "--short", "HEAD"])?;
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{head}-dirty") } else { head })
}
