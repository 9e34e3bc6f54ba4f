#![no_main]
//! See [`riskscore_fuzz::wire`].
libfuzzer_sys::fuzz_target!(|data: &[u8]| riskscore_fuzz::wire(data));
