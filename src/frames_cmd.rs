//! `awsim frames decode [FILE|-]`: a readable listing of a captured event-stream body, frame by frame;
//! a framing error is reported with its byte offset and exit code 1.

use crate::cli::FramesCommand;
use std::io::{Read, Write};
use std::process::ExitCode;

pub fn run(command: &FramesCommand) -> ExitCode {
    match command {
        FramesCommand::Decode { file } => {
            let mut bytes = Vec::new();
            let read = match file.as_deref() {
                Some(p) if p.as_os_str() != "-" => {
                    std::fs::File::open(p).and_then(|mut f| f.read_to_end(&mut bytes))
                }
                _ => std::io::stdin().read_to_end(&mut bytes),
            };
            if let Err(err) = read {
                eprintln!("error: cannot read input: {err}");
                return ExitCode::from(2);
            }
            let listing = frames::render_stream(&bytes);
            let _ = write!(std::io::stdout().lock(), "{listing}");
            match listing.error() {
                None => ExitCode::SUCCESS,
                Some((offset, err)) => {
                    eprintln!("error: framing failed at byte {offset}: {err}");
                    ExitCode::from(1)
                }
            }
        }
    }
}
