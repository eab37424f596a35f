//! An InvokeModel body; the first byte picks the model family (awsim::fuzzing::invoke_request).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| awsim::fuzzing::invoke_request(data));
