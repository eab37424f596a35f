//! A Converse / ConverseStream request body (awsim::fuzzing::converse_request).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| awsim::fuzzing::converse_request(data));
