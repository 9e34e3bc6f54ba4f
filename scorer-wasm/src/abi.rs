//! The host ABI: plain `extern "C"` exports, no imports at all, so a wasmtime
//! host can run the scorer with nothing outside its own memory.
//!
//! | export | does |
//! |---|---|
//! | `rs_abi_version() -> u32` | 2 (the `RSB2` batch of [`crate::wire`]) |
//! | `rs_alloc(len) -> ptr`, `rs_free(ptr, len)` | allocate and free guest memory for the host |
//! | `rs_reserve(len) -> ptr` | a guest-owned input buffer of `len` bytes, reused across calls (what the siem-adapter host uses: no allocation per batch) |
//! | `rs_load(art_ptr, art_len, opt_ptr, opt_len) -> i32` | load an artifact; handle ≥ 0 or an error code < 0 |
//! | `rs_describe(handle) -> i32` | model description JSON into the message buffer |
//! | `rs_set_threshold(handle, f64) -> i32` | override the flag threshold |
//! | `rs_score(handle, ptr, len, explain_k) -> i32` | score one batch (see [`crate::wire`]); the results go to the output buffer |
//! | `rs_track_drift(handle, on) -> i32` | count scored batches into the model's drift window (off at load) |
//! | `rs_take_drift(handle) -> i32` | the drift counts since the last take (JSON [`scorer_core::drift::DriftCounts`]) into the message buffer, and a new window; 1 when the artifact has no baseline |
//! | `rs_score_mouse(handle, ptr, len) -> i32` | score sessions of mouse events with a session model (see [`scorer_core::mouse::batch`]); results to the output buffer |
//! | `rs_output_ptr()`, `rs_output_len()` | the last results |
//! | `rs_message_ptr()`, `rs_message_len()` | the last error message or description |
//! | `rs_unload(handle)` | free a model |
//!
//! Load options (`opt`) are JSON: `{"allow_unsigned": bool, "require_approved": bool,
//! "trusted_keys": ["<base64 Ed25519 public key>", ...]}`.
//! Error codes: -1 malformed artifact, -2 invalid artifact, -3 integrity,
//! -4 not approved, -5 unknown handle, -6 malformed batch, -7 malformed options,
//! -8 bad argument. Nothing panics across the ABI; a trap (which cannot be
//! caught in wasm) is the host's to report.

use std::cell::RefCell;

use base64::Engine as _;
use scorer_core::{Error, LoadOptions, Model};

use crate::session::Session;

#[derive(Default)]
struct State {
    models: Vec<Option<(Session, bool)>>,
    input: Vec<u8>,
    output: Vec<u8>,
    message: String,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn code(e: &Error) -> i32 {
    match e {
        Error::Parse { .. } | Error::Format(_) => -1,
        Error::Invalid { .. } => -2,
        Error::NotApproved { .. } => -4,
        e if e.is_integrity() => -3,
        _ => -2,
    }
}

/// A host-given memory range, checked against the current memory size.
fn host_slice<'a>(ptr: u32, len: u32) -> Option<&'a [u8]> {
    let end = (ptr as usize).checked_add(len as usize)?;
    let size = core::arch::wasm32::memory_size(0) * 65536;
    if ptr == 0 || end > size {
        return None;
    }
    // SAFETY: the range lies inside this module's linear memory (checked above);
    // the host wrote it before the call and does not touch it during the call.
    Some(unsafe { core::slice::from_raw_parts(ptr as *const u8, len as usize) })
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Options {
    #[serde(default)]
    allow_unsigned: bool,
    #[serde(default)]
    require_approved: bool,
    #[serde(default)]
    trusted_keys: Vec<String>,
}

fn options(bytes: &[u8]) -> Result<LoadOptions, String> {
    let o: Options = if bytes.is_empty() {
        Options::default()
    } else {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())?
    };
    let mut keys = Vec::new();
    for k in &o.trusted_keys {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(k.trim())
            .map_err(|e| e.to_string())?;
        let arr: [u8; 32] = raw
            .try_into()
            .map_err(|_| "a trusted key is not 32 bytes".to_string())?;
        keys.push(
            scorer_core::artifact::parse_public_key(
                &base64::engine::general_purpose::STANDARD.encode(arr),
            )
            .map_err(|e| e.to_string())?,
        );
    }
    Ok(LoadOptions {
        trusted_keys: keys,
        allow_unsigned: o.allow_unsigned,
        require_approved: o.require_approved,
    })
}

/// Run `f` on the loaded model of `handle`, with the message and output
/// buffers; without one, the message says so and the code is -5.
fn with_model(
    handle: i32,
    f: impl FnOnce(&mut (Session, bool), &mut String, &mut Vec<u8>) -> i32,
) -> i32 {
    STATE.with_borrow_mut(|s| {
        let State {
            models,
            message,
            output,
            ..
        } = s;
        match usize::try_from(handle).ok().and_then(|i| models.get_mut(i)) {
            Some(Some(l)) => f(l, message, output),
            _ => {
                *message = format!("no model with handle {handle}");
                -5
            }
        }
    })
}

/// ABI version of this module.
#[no_mangle]
pub extern "C" fn rs_abi_version() -> u32 {
    2
}

/// Allocate `len` bytes for the host to fill; give them back with `rs_free`.
#[no_mangle]
pub extern "C" fn rs_alloc(len: u32) -> u32 {
    let mut v = Vec::<u8>::with_capacity(len as usize);
    let p = v.as_mut_ptr() as u32;
    std::mem::forget(v);
    p
}

/// Free memory from `rs_alloc(len)`.
#[no_mangle]
pub extern "C" fn rs_free(ptr: u32, len: u32) {
    if ptr != 0 {
        // SAFETY: `ptr` and `len` come from `rs_alloc(len)` (the ABI contract);
        // a host breaking it can only corrupt this sandboxed instance.
        unsafe { drop(Vec::from_raw_parts(ptr as *mut u8, 0, len as usize)) }
    }
}

/// A guest-owned input buffer of `len` bytes; valid until the next `rs_reserve`.
#[no_mangle]
pub extern "C" fn rs_reserve(len: u32) -> u32 {
    STATE.with_borrow_mut(|s| {
        // Zero-filled only when it grows: the host overwrites all of it.
        let len = len as usize;
        if s.input.len() < len {
            s.input.resize(len, 0);
        } else {
            s.input.truncate(len);
        }
        s.input.as_mut_ptr() as u32
    })
}

/// Load an artifact; returns a handle ≥ 0 or an error code (message in the message buffer).
#[no_mangle]
pub extern "C" fn rs_load(art_ptr: u32, art_len: u32, opt_ptr: u32, opt_len: u32) -> i32 {
    STATE.with_borrow_mut(|s| {
        let art = host_slice(art_ptr, art_len);
        let opt = if opt_len == 0 {
            Some(&[][..])
        } else {
            host_slice(opt_ptr, opt_len)
        };
        let (Some(art), Some(opt)) = (art, opt) else {
            s.message = "artifact or options pointer out of range".into();
            return -8;
        };
        let options = match options(opt) {
            Ok(o) => o,
            Err(e) => {
                s.message = format!("load options: {e}");
                return -7;
            }
        };
        match Model::load(art, &options) {
            Ok(model) => {
                s.models.push(Some((Session::new(model), false)));
                (s.models.len() - 1) as i32
            }
            Err(e) => {
                s.message = e.to_string();
                code(&e)
            }
        }
    })
}

/// Write the model's description (JSON) to the message buffer.
#[no_mangle]
pub extern "C" fn rs_describe(handle: i32) -> i32 {
    with_model(handle, |l, message, _| {
        let m = &l.0.model;
        let d = serde_json::json!({
            "baseline": m.artifact().baseline,
            "drift": m.drift_policy(),
            "id": m.id(),
            "fields": m.fields(),
            "features": m.features(),
            "width": m.width(),
            "threshold": m.threshold(),
            "signature": m.signature(),
            "metadata": m.metadata(),
        });
        *message = d.to_string();
        0
    })
}

/// Override the flag threshold.
#[no_mangle]
pub extern "C" fn rs_set_threshold(handle: i32, threshold: f64) -> i32 {
    with_model(handle, |l, message, _| {
        match l.0.model.set_threshold(threshold) {
            Ok(()) => 0,
            Err(e) => {
                *message = e.to_string();
                -8
            }
        }
    })
}

/// Score one batch; results in the output buffer.
#[no_mangle]
pub extern "C" fn rs_score(handle: i32, ptr: u32, len: u32, explain_k: u32) -> i32 {
    with_model(handle, |(session, track), message, output| {
        let Some(bytes) = host_slice(ptr, len) else {
            *message = "batch pointer out of range".into();
            return -8;
        };
        match session.score(bytes, explain_k as usize, *track, output) {
            Ok(()) => 0,
            Err(e) => {
                *message = e;
                -6
            }
        }
    })
}

/// Score sessions of mouse events (a session model); results in the output buffer.
#[no_mangle]
pub extern "C" fn rs_score_mouse(handle: i32, ptr: u32, len: u32) -> i32 {
    with_model(handle, |(session, _), message, output| {
        let Some(bytes) = host_slice(ptr, len) else {
            *message = "batch pointer out of range".into();
            return -8;
        };
        match scorer_core::mouse::batch::score_request(&session.model, bytes, output) {
            Ok(()) => 0,
            Err(e) => {
                *message = e;
                -6
            }
        }
    })
}

/// Count scored batches into the drift window (`on` ≠ 0) or not.
#[no_mangle]
pub extern "C" fn rs_track_drift(handle: i32, on: i32) -> i32 {
    with_model(handle, |l, _, _| {
        l.1 = on != 0;
        0
    })
}

/// The drift counts since the last take, as JSON in the message buffer, and
/// a new window. Returns 0, 1 when the artifact has no baseline (empty
/// message), or -5 for an unknown handle.
#[no_mangle]
pub extern "C" fn rs_take_drift(handle: i32) -> i32 {
    with_model(handle, |(session, _), message, _| {
        let Some(counts) = session.drift() else {
            message.clear();
            return 1;
        };
        *message = serde_json::to_string(counts).unwrap_or_default();
        session.reset_drift();
        0
    })
}

/// Address of the last results.
#[no_mangle]
pub extern "C" fn rs_output_ptr() -> u32 {
    STATE.with_borrow(|s| s.output.as_ptr() as u32)
}

/// Length of the last results.
#[no_mangle]
pub extern "C" fn rs_output_len() -> u32 {
    STATE.with_borrow(|s| s.output.len() as u32)
}

/// Address of the last message.
#[no_mangle]
pub extern "C" fn rs_message_ptr() -> u32 {
    STATE.with_borrow(|s| s.message.as_ptr() as u32)
}

/// Length of the last message.
#[no_mangle]
pub extern "C" fn rs_message_len() -> u32 {
    STATE.with_borrow(|s| s.message.len() as u32)
}

/// Free a model.
#[no_mangle]
pub extern "C" fn rs_unload(handle: i32) {
    STATE.with_borrow_mut(|s| {
        if let Some(slot) = s.models.get_mut(handle.max(0) as usize) {
            *slot = None;
        }
    })
}
