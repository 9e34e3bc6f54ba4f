//! # siem-adapter
//!
//! The native host of riskscore. It owns everything around scorer-core that
//! touches the outside world: reading training tables and exported alert
//! batches, writing scored events, keys and signatures, and the command line.
//!
//! ## Brief overview
//! - [`tables`]: training tables from CSV or JSON lines (gzip or plain).
//! - [`sources`]: exported alert batches as a stream of events, in order,
//!   with a per-line error for anything unreadable (JSON lines, Splunk's
//!   export stream and results document, CSV).
//! - [`sinks`]: scored events to JSON lines or CSV.
//! - [`engine`]: the scoring engine — the embedded scorer .wasm run by
//!   wasmtime (sandboxed) or scorer-core linked natively — shared by every command.
//! - [`drift`]: the drift monitor of a run — the sliding window judged by
//!   the artifact's policy, event marks, summary events.
//! - [`keys`]: signing keys and trusted public keys from files or the
//!   environment — never from the command line.
//! - [`commands`]: `train` (and `train --champion`), `keygen`, `sign`, `verify`,
//!   `inspect`, `score`, `evaluate` (with the comparison against training).
//! - [`serve`]: `serve`, the HTTP scoring service (axum on tokio): events in,
//!   scored events out, a pool of engines, hot model reload, `/metrics`.
//! - [`report_svg`]: the score histogram of `evaluate --svg`, as hand-written SVG.
//!
//! Errors here are `anyhow` at the edges (the binary) and typed inside
//! scorer-core; logs go through `tracing` to stderr.
#![deny(missing_docs)]

pub mod commands;
pub mod drift;
pub mod engine;
pub mod extract;
pub mod hec;
pub mod keys;
pub mod metrics;
pub mod pipeline;
pub mod render;
pub mod report_svg;
pub mod serve;
pub mod sinks;
pub mod sources;
pub mod tables;
