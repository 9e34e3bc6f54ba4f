#![no_main]
//! See [`riskscore_fuzz::serve`].
libfuzzer_sys::fuzz_target!(|data: &[u8]| riskscore_fuzz::serve(data));
