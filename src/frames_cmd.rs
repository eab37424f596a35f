//! `awsim frames decode [FILE|-]`: a readable listing of a captured event-stream body.

use crate::cli::FramesCommand;
use std::io::{Read, Write};
use std::process::ExitCode;

pub fn run(command: &FramesCommand) -> ExitCode {
    match command {
        FramesCommand::Decode { file } => {
            let mut bytes = Vec::new();
            let read = match file.as_deref() {
                None => std::io::stdin().read_to_end(&mut bytes),
                Some(p) if p.as_os_str() == "-" => std::io::stdin().read_to_end(&mut bytes),
                Some(p) => std::fs::File::open(p).and_then(|mut f| f.read_to_end(&mut bytes)),
            };
            if let Err(err) = read {
                eprintln!("error: cannot read input: {err}");
                return ExitCode::from(2);
            }
            let _ = writeln!(
                std::io::stdout().lock(),
                "{} bytes (frames decoding pending)",
                bytes.len()
            );
            ExitCode::SUCCESS
        }
    }
}
