//! The sections of a run. Each measures, adds its tables to the [`Report`] and its figures to
//! the summary, and says on stderr what it is doing.
//!
//! [`Report`]: crate::report::Report

pub mod canned;
pub mod codec;
pub mod memory;
pub mod startup;
pub mod ttft;

use crate::args::Options;
use std::path::PathBuf;

/// What every section gets.
pub struct Ctx<'a> {
    pub opts: &'a Options,
    /// The awsim binary (`None` with `--target`).
    pub bin: Option<PathBuf>,
    /// The client's runtime.
    pub rt: &'a tokio::runtime::Runtime,
}

impl Ctx<'_> {
    pub fn bin(&self) -> crate::Result<&std::path::Path> {
        self.bin
            .as_deref()
            .ok_or_else(|| "this section needs the awsim binary".into())
    }
}

/// `yes`/`no` against an upper bound.
pub fn at_most(value: Option<f64>, bound: f64) -> Option<bool> {
    value.map(|v| v <= bound)
}
