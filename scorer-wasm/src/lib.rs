//! # scorer-wasm
//!
//! scorer-core compiled to WebAssembly — the one scorer that the adapter, the
//! Splunk command and the browser all run.
//!
//! - [`wire`]: the batch and result wire format of the host ABI. It is plain
//!   Rust and also compiles natively, so hosts encode batches and decode
//!   results with the very code the guest uses.
//! - [`session`]: a loaded model scoring wire batches — the one code path
//!   behind both the ABI's `rs_score` and the browser's `scoreColumns`.
//! - `abi` (wasm32 only): the `extern "C"` exports a wasmtime host calls; the
//!   module imports nothing. Build it with
//!   `cargo build -p scorer-wasm --target wasm32-unknown-unknown --release`
//!   (with `simd128`, from the workspace's `.cargo/config.toml`: the
//!   forests' crowns use it).
//!
//! - [`browser`] (feature `browser`): the wasm-bindgen API for browsers and
//!   Node — `Scorer.fromArtifact`, `score`, `scoreBatch`, `explain`,
//!   `metadata`, `verify`, and the batch-shaped `scoreColumns`,
//!   `explainColumns` and drift counts the dashboard uses — packaged by `make browser` into `scorer-wasm/npm/`.
//!
//! The scorer holds no logic of its own: it converts inputs and calls scorer-core.
#![deny(missing_docs)]

#[cfg(target_arch = "wasm32")]
mod abi;
#[cfg(feature = "browser")]
pub mod browser;
pub mod session;
pub mod wire;
