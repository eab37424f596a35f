//! A backend's streamed answer, decoded, shaped and written as frames or a JSON array
//! (awsim::fuzzing::backend_stream).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| awsim::fuzzing::backend_stream(data));
