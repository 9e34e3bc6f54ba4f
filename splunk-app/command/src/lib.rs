//! # riskscore-command
//!
//! The `| riskscore` Splunk search command: a streaming, distributable
//! command that speaks Splunk's chunked search-command protocol (version 2)
//! on stdin/stdout and scores every record with the same engine as
//! `siem-adapter` — by default the same embedded scorer .wasm, sandboxed by
//! wasmtime.
//!
//! ```text
//! index=alerts | riskscore model=threat_rf explain=3 | where anomaly_flag=1
//! ```
//!
//! - [`scpv2`]: the protocol's framing (chunks in, chunks out).
//! - [`args`]: the command's arguments (`model=`, `threshold=`, `explain=`, ...).
//! - [`app`]: where the app folder, its models and keys, the log and the cache are.
//! - [`buffers`]: the chunk body and reply buffers (huge pages on Linux).
//! - [`records`]: an execute chunk's CSV body, read into the engine's columnar batch.
//! - [`reply`]: the reply body — input rows untouched, the scorer's columns appended.
//! - [`command`]: the conversation: getinfo, then one reply per execute chunk.
//! - [`windows`]: a chunk's records read, scored and written window by
//!   window, on one thread or overlapped on two (`threads=`).
//! - [`drift`]: `| riskdrift model=<name>`, the same executable run as a
//!   reporting command (commands.conf `command.arg.1 = riskdrift`): drift
//!   counts per chunk on the indexers, merged and judged on the search head.
//!
//! The command holds no state between chunks beyond the loaded model, so
//! Splunk can run it on every indexer of a distributed search.
#![deny(missing_docs)]

pub mod app;
pub mod args;
pub mod buffers;
pub mod command;
pub mod drift;
pub mod records;
pub mod reply;
pub mod scpv2;
pub mod windows;
