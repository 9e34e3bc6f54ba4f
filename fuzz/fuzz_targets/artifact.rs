#![no_main]
//! See [`riskscore_fuzz::artifact`].
libfuzzer_sys::fuzz_target!(|data: &[u8]| riskscore_fuzz::artifact(data));
