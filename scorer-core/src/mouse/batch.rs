//! The session batch wire: how a host hands sessions of mouse events to a
//! scorer in another runtime (the wasm ABI's `rs_score_mouse`) in one
//! buffer, and gets the session results back. Little-endian throughout.
//!
//! ```text
//! request:  u32 sessions, u32 method (0 the artifact's, 1 gesture_mean, 2 ks),
//!           u32 records per session × sessions,
//!           then per record 5 × f64: t, button code, state code, x, y
//! response: per session: f64 score (NaN when not scored), u8 flag,
//!           u32 gestures, u8 method (1 gesture_mean, 2 ks),
//!           u32 error length, error bytes (UTF-8)
//! ```

use super::record::Record;
use super::session::{SessionMethod, SessionScore};
use crate::Model;

const RECORD_BYTES: usize = 40;

/// Encode sessions and a method choice as a request.
pub fn encode_request(sessions: &[&[Record]], method: Option<SessionMethod>, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&(sessions.len() as u32).to_le_bytes());
    let m: u32 = match method {
        None => 0,
        Some(SessionMethod::GestureMean) => 1,
        Some(SessionMethod::Ks) => 2,
    };
    out.extend_from_slice(&m.to_le_bytes());
    for s in sessions {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    }
    for s in sessions {
        for r in *s {
            for v in [
                r.t,
                f64::from(r.button.code()),
                f64::from(r.state.code()),
                r.x,
                r.y,
            ] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn f64_at(b: &[u8], at: usize) -> Option<f64> {
    Some(f64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Score an encoded request with `model`; the response goes to `out`.
pub fn score_request(model: &Model, request: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let bad = |what: &str| format!("malformed session batch: {what}");
    let n = u32_at(request, 0).ok_or_else(|| bad("no header"))? as usize;
    let method = match u32_at(request, 4).ok_or_else(|| bad("no header"))? {
        0 => None,
        1 => Some(SessionMethod::GestureMean),
        2 => Some(SessionMethod::Ks),
        m => return Err(bad(&format!("unknown method {m}"))),
    };
    let counts_end = n
        .checked_mul(4)
        .and_then(|c| c.checked_add(8))
        .filter(|&e| e <= request.len())
        .ok_or_else(|| bad("session counts past the end"))?;
    let mut total = 0usize;
    for i in 0..n {
        total = total
            .checked_add(u32_at(request, 8 + 4 * i).unwrap_or(0) as usize)
            .ok_or_else(|| bad("too many records"))?;
    }
    if total
        .checked_mul(RECORD_BYTES)
        .and_then(|b| b.checked_add(counts_end))
        != Some(request.len())
    {
        return Err(bad("record bytes do not match the counts"));
    }
    let mut scorer = model.session_scorer().map_err(|e| e.to_string())?;
    if let Some(m) = method {
        scorer.set_method(m).map_err(|e| e.to_string())?;
    }
    out.clear();
    let mut at = counts_end;
    for i in 0..n {
        let count = u32_at(request, 8 + 4 * i).unwrap_or(0) as usize;
        for _ in 0..count {
            let v = |k: usize| f64_at(request, at + 8 * k).unwrap_or(f64::NAN);
            let r = Record::from_codes(v(0), v(1), v(2), v(3), v(4))
                .ok_or_else(|| bad("a record has an unknown button or state code"))?;
            scorer.push(r);
            at += RECORD_BYTES;
        }
        let s = scorer.finish();
        out.extend_from_slice(&s.score.to_le_bytes());
        out.push(s.flag);
        out.extend_from_slice(&(s.gestures as u32).to_le_bytes());
        out.push(match s.method {
            SessionMethod::GestureMean => 1,
            SessionMethod::Ks => 2,
        });
        let e = s.error.unwrap_or_default();
        out.extend_from_slice(&(e.len() as u32).to_le_bytes());
        out.extend_from_slice(e.as_bytes());
    }
    Ok(())
}

/// Decode a response of `n` sessions.
pub fn decode_response(bytes: &[u8], n: usize) -> Result<Vec<SessionScore>, String> {
    let bad = || "malformed session results".to_string();
    let mut out = Vec::with_capacity(n);
    let mut at = 0;
    for _ in 0..n {
        let score = f64_at(bytes, at).ok_or_else(bad)?;
        let flag = *bytes.get(at + 8).ok_or_else(bad)?;
        let gestures = u32_at(bytes, at + 9).ok_or_else(bad)? as usize;
        let method = match bytes.get(at + 13) {
            Some(1) => SessionMethod::GestureMean,
            Some(2) => SessionMethod::Ks,
            _ => return Err(bad()),
        };
        let len = u32_at(bytes, at + 14).ok_or_else(bad)? as usize;
        let text = bytes.get(at + 18..at + 18 + len).ok_or_else(bad)?;
        let error = (len > 0)
            .then(|| String::from_utf8(text.to_vec()).map_err(|_| bad()))
            .transpose()?;
        at += 18 + len;
        out.push(SessionScore {
            score,
            flag,
            gestures,
            error,
            method,
        });
    }
    if at != bytes.len() {
        return Err(bad());
    }
    Ok(out)
}
