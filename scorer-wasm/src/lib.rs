//! # scorer-wasm
//!
//! scorer-core compiled to WebAssembly: a small batch C ABI for wasmtime hosts
//! (siem-adapter, the Splunk command) and a wasm-bindgen API for browsers.
//!
//! Status: only the crate exists. The ABI, the browser API and their parity
//! tests are issue [2/8]; nothing here is exported yet, and no host uses it.
