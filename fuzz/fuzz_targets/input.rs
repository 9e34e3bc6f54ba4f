#![no_main]
//! See [`riskscore_fuzz::input`].
libfuzzer_sys::fuzz_target!(|data: &[u8]| riskscore_fuzz::input(data));
