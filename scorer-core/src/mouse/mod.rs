//! Mouse dynamics: raw mouse events of a remote session → gestures →
//! gesture features → a session score, for user behaviour analytics
//! (an account used by someone whose mouse behaviour is not the owner's).
//!
//! - [`record`]: one recorded event, and the coordinate-overflow repair;
//! - [`gesture`]: streaming segmentation into moves, point-and-clicks and drags;
//! - [`features`]: per-gesture kinematics and shape, summarised;
//! - [`ks`]: the one-class Kolmogorov–Smirnov session test;
//! - [`session`]: the artifact's `session` section and [`SessionScorer`];
//! - [`batch`]: the one-buffer request/response a host sends across the wasm boundary.
//!
//! Everything here is I/O-free and deterministic, so a per-user artifact
//! scores raw mouse events identically natively, in wasmtime and in a browser.

pub mod batch;
pub mod features;
pub mod gesture;
pub mod ks;
pub mod record;
pub mod session;

pub use features::{feature_index, feature_names, FeatureExtractor, N_FEATURES};
pub use gesture::{Gesture, GestureKind, GestureParams, Point, Segmenter};
pub use ks::{KsCombine, KsProfile};
pub use record::{Button, OverflowFix, Record, RecordError, State};
pub use session::{SessionKind, SessionMethod, SessionScore, SessionScorer, SessionSpec};

#[cfg(test)]
mod tests;
