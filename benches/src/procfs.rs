//! Figures from `/proc`: a process's CPU time and resident memory, the machine's CPU use, load and
//! identity, the open-files limit.

use std::time::Duration;

/// CPU time (user + system, all threads) of `pid`.
pub fn cpu_time(pid: u32) -> crate::Result<Duration> {
    let (user, system) = cpu_times(pid)?;
    Ok(user + system)
}

/// User and system CPU time (all threads) of `pid`: `utime` and `stime` of `/proc/PID/stat`.
pub fn cpu_times(pid: u32) -> crate::Result<(Duration, Duration)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .ok_or("unreadable /proc/PID/stat")?
        .1
        .split_whitespace()
        .collect();
    // Fields 14 (utime) and 15 (stime), counted from 1 with the pid and name as 1 and 2.
    let ticks = |i: usize| -> crate::Result<u64> {
        Ok(fields
            .get(i)
            .ok_or("short /proc/PID/stat")?
            .parse::<u64>()?)
    };
    let time = |t: u64| Duration::from_nanos(t * 1_000_000_000 / clock_ticks());
    Ok((time(ticks(11)?), time(ticks(12)?)))
}

/// Time on a CPU and the number of times scheduled onto one, summed over the live threads of `pid`
/// (`/proc/PID/task/*/schedstat`: nanosecond run time, then wait time, then timeslices). A thread
/// that sleeps between tokens is scheduled once per wake-up, so the count is its wake-ups.
pub fn sched(pid: u32) -> crate::Result<(Duration, u64)> {
    let mut run_ns = 0u64;
    let mut slices = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        // A thread that exited between the listing and the read is simply not counted.
        let Ok(stat) = std::fs::read_to_string(task?.path().join("schedstat")) else {
            continue;
        };
        let mut fields = stat.split_whitespace().map(str::parse::<u64>);
        run_ns += fields.next().ok_or("empty schedstat")??;
        slices += fields.nth(1).ok_or("short schedstat")??;
    }
    Ok((Duration::from_nanos(run_ns), slices))
}

/// `sysconf(_SC_CLK_TCK)` without libc: `getconf`, else Linux's usual 100.
fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&t| t > 0)
            .unwrap_or(100)
    })
}

/// A `kB` line of `/proc/PID/status` (`VmRSS`, `VmHWM`, `RssAnon`, …).
pub fn status_kib(pid: u32, key: &str) -> crate::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {key} in /proc/{pid}/status").into())
}

/// Resident set size of `pid`, KiB.
pub fn rss_kib(pid: u32) -> crate::Result<u64> {
    status_kib(pid, "VmRSS")
}

/// Open file descriptors of `pid` (sockets included).
pub fn open_fds(pid: u32) -> crate::Result<usize> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))?.count())
}

/// Busy and total jiffies of all CPUs together (`/proc/stat`), for the machine's load during a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTimes {
    busy: u64,
    total: u64,
}

impl CpuTimes {
    pub fn now() -> Self {
        let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
            return Self::default();
        };
        let Some(line) = stat.lines().next() else {
            return Self::default();
        };
        let v: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|x| x.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal (guest time is already in user).
        let total: u64 = v.iter().take(8).sum();
        let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
        Self {
            busy: total - idle,
            total,
        }
    }

    /// The share of all CPUs busy since `earlier`, in percent.
    pub fn busy_since(&self, earlier: &Self) -> f64 {
        let total = self.total.saturating_sub(earlier.total);
        if total == 0 {
            return 0.0;
        }
        100.0 * self.busy.saturating_sub(earlier.busy) as f64 / total as f64
    }
}

/// The 1, 5 and 15 minute load averages.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// What the machine is.
#[derive(Debug, Clone)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub kernel: String,
    pub memory: String,
}

pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':').map(|x| x.1))
        .map_or_else(|| "?".into(), |s| s.trim().to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or_else(|_| "?".into(), |s| s.trim().to_string());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or_else(
            || "?".into(),
            |kib| format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0),
        );
    Machine {
        cpu,
        cores,
        kernel,
        memory,
    }
}

/// The soft and hard limits on open files of this process.
pub fn open_files_limit() -> (u64, u64) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .map(|l| {
            let v: Vec<u64> = l
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            (
                v.first().copied().unwrap_or(0),
                v.get(1).copied().unwrap_or(0),
            )
        })
        .unwrap_or((0, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let me = std::process::id();
        assert!(rss_kib(me).unwrap() > 0);
        cpu_time(me).unwrap();
        assert!(open_files_limit().0 > 0);
        assert!(machine().cores > 0);
    }
}
