#![no_main]
//! See [`riskscore_fuzz::scpv2`].
libfuzzer_sys::fuzz_target!(|data: &[u8]| riskscore_fuzz::scpv2(data));
