#![no_main]
//! See [`riskscore_fuzz::signature`].
libfuzzer_sys::fuzz_target!(|data: &[u8]| riskscore_fuzz::signature(data));
