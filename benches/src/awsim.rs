//! The awsim child process: the release binary started on 127.0.0.1:0, its port read from its
//! first log line, its CPU time and RSS read from `/proc/<pid>` (this process alone, not the
//! bench), its warnings kept for the report, stopped by SIGKILL (or SIGTERM, to let a profiler
//! write its data).

use crate::procfs;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

/// How to build the binary the runner measures.
pub const BUILD_HINT: &str = "build it first with `cargo build --release` (or set AWSIM_BIN)";

/// Where the awsim binary is: `$AWSIM_BIN`, else `awsim` in the profile directory this bench was
/// built into (`target/release/deps/stream-… → target/release/awsim`).
pub fn binary() -> crate::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("AWSIM_BIN") {
        let bin = PathBuf::from(bin);
        return if bin.is_file() {
            Ok(bin)
        } else {
            Err(format!("AWSIM_BIN={} does not exist", bin.display()).into())
        };
    }
    let exe = std::env::current_exe()?;
    let candidate = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("awsim"))
        .filter(|p| p.is_file());
    let fallback = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/awsim");
    candidate
        .or_else(|| fallback.is_file().then_some(fallback))
        .ok_or_else(|| {
            format!(
                "no release awsim binary next to {}: {BUILD_HINT}",
                exe.display()
            )
            .into()
        })
}

/// A second awsim to measure next to [`binary`] in the TTFT section: `$AWSIM_COMPARE_BIN` (another
/// build), and `$AWSIM_COMPARE_ARGS` (flags added to its command line; with no other build, the
/// measured one runs again with them, e.g. `--invocation-log 0` for what the log costs). `None`
/// when neither is set.
pub fn compare(measured: &Path) -> crate::Result<Option<(PathBuf, Vec<String>)>> {
    let args: Vec<String> = std::env::var("AWSIM_COMPARE_ARGS")
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect();
    match std::env::var_os("AWSIM_COMPARE_BIN") {
        None if args.is_empty() => Ok(None),
        None => Ok(Some((measured.to_path_buf(), args))),
        Some(bin) if Path::new(&bin).is_file() => Ok(Some((PathBuf::from(bin), args))),
        Some(bin) => Err(format!(
            "AWSIM_COMPARE_BIN={} does not exist",
            Path::new(&bin).display()
        )
        .into()),
    }
}

/// A warning when the binary is older than the newest source file (a stale build measures old code).
pub fn staleness(bin: &Path) -> Option<String> {
    let built = std::fs::metadata(bin).and_then(|m| m.modified()).ok()?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    let newest = newest_mtime(&root.join("src"))
        .into_iter()
        .chain(newest_mtime(&root.join("frames/src")))
        .max()?;
    (newest > built).then(|| {
        format!(
            "{} is older than the newest file in src/ or frames/src/: {BUILD_HINT}",
            bin.display()
        )
    })
}

fn newest_mtime(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let t = if path.is_dir() {
            newest_mtime(&path)
        } else {
            entry.metadata().and_then(|m| m.modified()).ok()
        };
        newest = newest.max(t);
    }
    newest
}

/// A running awsim.
pub struct Awsim {
    child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
    notes: Arc<Mutex<Vec<String>>>,
}

impl Awsim {
    /// Starts `bin` with `args` on an ephemeral loopback port and waits until it listens.
    pub fn start(bin: &Path, args: &[String]) -> crate::Result<Self> {
        let mut cmd = Command::new(bin);
        cmd.args(["--host", "127.0.0.1", "--port", "0", "--log-level", "info"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        clear_awsim_env(&mut cmd);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let pid = child.id();
        let stderr = child.stderr.take().ok_or("no stderr pipe")?;
        let notes = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let notes = notes.clone();
            std::thread::spawn(move || {
                let mut tx = Some(tx);
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Some(addr) = line
                        .split_once("listening on http://")
                        .and_then(|(_, rest)| rest.split_whitespace().next())
                        .and_then(|a| a.parse::<SocketAddr>().ok())
                    {
                        if let Some(tx) = tx.take() {
                            let _ = tx.send(addr);
                        }
                    } else if line.contains("WARN") || line.contains("ERROR") {
                        let mut notes = notes.lock().unwrap_or_else(PoisonError::into_inner);
                        if notes.len() < 20 {
                            notes.push(line);
                        }
                    }
                }
            });
        }
        let addr = match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{} did not say where it listens", bin.display()).into());
            }
        };
        Ok(Self {
            child,
            pid,
            addr,
            notes,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn cpu_time(&self) -> crate::Result<Duration> {
        procfs::cpu_time(self.pid)
    }

    pub fn rss_kib(&self) -> crate::Result<u64> {
        procfs::rss_kib(self.pid)
    }

    /// Warnings and errors awsim logged so far (the first 20).
    pub fn notes(&self) -> Vec<String> {
        self.notes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// SIGTERM (awsim shuts down gracefully; a profiler wrapping it writes its data), then SIGKILL
    /// after `grace`.
    pub fn terminate(mut self, grace: Duration) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Awsim {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The bench decides every setting: no `AWSIM_*` from the environment reaches the child.
pub fn clear_awsim_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWSIM_") {
            cmd.env_remove(key);
        }
    }
}
