//! The Markdown report: a heading with the machine and the command, a summary of every figure next
//! to the target, then each section's tables.

use crate::procfs::Machine;

/// One line of the summary table.
#[derive(Debug, Clone)]
pub struct Figure {
    pub name: String,
    pub measured: String,
    pub target: String,
    /// `None` when the figure has no target or could not be judged.
    pub met: Option<bool>,
}

/// The report being assembled.
#[derive(Debug, Default)]
pub struct Report {
    pub summary: Vec<Figure>,
    pub sections: Vec<String>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn figure(
        &mut self,
        name: impl Into<String>,
        measured: impl Into<String>,
        target: impl Into<String>,
        met: Option<bool>,
    ) {
        self.summary.push(Figure {
            name: name.into(),
            measured: measured.into(),
            target: target.into(),
            met,
        });
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// The whole document.
    pub fn render(&self, head: &Head) -> String {
        let mut out = String::new();
        out.push_str("# awsim benchmarks\n\n");
        out.push_str(&format!(
            "- **date**: {}\n- **machine**: {}, {} cores, {} RAM, Linux {}\n- **load average** (1/5/15 min): {} at start, {} at end; both cores {:.0}% busy in the second before the run\n- **awsim**: `{}`{}\n- **command**: `{}`\n- **took**: {:.0} s\n\n",
            head.date,
            head.machine.cpu,
            head.machine.cores,
            head.machine.memory,
            head.machine.kernel,
            head.load_start,
            head.load_end,
            head.busy_before,
            head.binary,
            head.commit.as_deref().map(|c| format!(" (commit {c})")).unwrap_or_default(),
            head.command,
            head.took_secs,
        ));
        out.push_str(&head.workload);
        out.push_str("\n\n");
        if !self.summary.is_empty() {
            out.push_str("## Summary against the targets\n\n");
            let rows: Vec<Vec<String>> = self
                .summary
                .iter()
                .map(|f| {
                    vec![
                        f.name.clone(),
                        f.measured.clone(),
                        f.target.clone(),
                        match f.met {
                            Some(true) => "yes".into(),
                            Some(false) => "**no**".into(),
                            None => "–".into(),
                        },
                    ]
                })
                .collect();
            out.push_str(&table(&["figure", "measured", "target", "met"], &rows));
            out.push('\n');
        }
        for s in &self.sections {
            out.push_str(s);
            out.push('\n');
        }
        if !self.notes.is_empty() {
            out.push_str("## Notes\n\n");
            for n in &self.notes {
                out.push_str(&format!("- {n}\n"));
            }
        }
        out
    }
}

/// The facts at the top of the report.
#[derive(Debug, Clone)]
pub struct Head {
    pub date: String,
    pub machine: Machine,
    pub load_start: String,
    pub load_end: String,
    /// Share of the CPUs busy in the second before the run (other work on the machine).
    pub busy_before: f64,
    pub binary: String,
    pub commit: Option<String>,
    pub command: String,
    pub workload: String,
    pub took_secs: f64,
}

/// A Markdown table.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n|", headers.join(" | "));
    for _ in headers {
        out.push_str("---|");
    }
    out.push('\n');
    for row in rows {
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out
}

/// `2026-04-21 13:05 UTC` from the system clock, without a date library.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_tables() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_564), (2026, 4, 21));
        assert_eq!(
            table(&["a", "b"], &[vec!["1".into(), "2".into()]]),
            "| a | b |\n|---|---|\n| 1 | 2 |\n"
        );
    }
}
