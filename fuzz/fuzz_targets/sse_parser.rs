//! The backend's server-sent events parser, fed whole and in pieces (awsim::fuzzing::sse_parser).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| awsim::fuzzing::sse_parser(data));
