//! Reading a stream of mouse events (CSV or JSON lines, as a SIEM exports
//! them) grouped into sessions: consecutive events with the same user and
//! session id form one session. Events of a session must be contiguous
//! (`| sort 0 user session _time` in Splunk); a session id seen again after
//! another session is scored again as a separate part (and logged).

use std::path::Path;

use anyhow::Result;
use scorer_core::mouse::Record;
use serde_json::{Map, Value};

use crate::sources::{read_events, InputFormat};

/// Names of the event fields read.
#[derive(Debug, Clone, clap::Args)]
pub struct FieldArgs {
    /// Field with the account name.
    #[arg(long, default_value = "user")]
    pub user_field: String,
    /// Field with the session id.
    #[arg(long, default_value = "session")]
    pub session_field: String,
    /// Field with the client timestamp (seconds).
    #[arg(long, default_value = "client_timestamp")]
    pub time_field: String,
    /// Field with the button (NoButton, Left, Right, Scroll).
    #[arg(long, default_value = "button")]
    pub button_field: String,
    /// Field with the state (Move, Drag, Pressed, Released, Up, Down).
    #[arg(long, default_value = "state")]
    pub state_field: String,
    /// Fields with the pointer position, `x,y`.
    #[arg(long, default_value = "x,y", value_delimiter = ',', num_args = 2)]
    pub position_fields: Vec<String>,
}

/// One session's events.
#[derive(Debug, Default)]
pub struct Session {
    /// Account.
    pub user: String,
    /// Session id.
    pub session: String,
    /// Events read (valid or not).
    pub events: u64,
    /// Valid records, in input order.
    pub records: Vec<Record>,
    /// Events that could not be read, and the first reason.
    pub invalid: u64,
    /// Why the first invalid event was invalid.
    pub first_error: Option<String>,
    /// 2 and up when this session id came back after another session.
    pub part: u32,
}

fn text(m: &Map<String, Value>, name: &str) -> Option<String> {
    match m.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(a) => a.first().and_then(|v| v.as_str()).map(str::to_string),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Sessions of `path`, one at a time.
pub fn sessions(
    path: &Path,
    format: InputFormat,
    fields: &FieldArgs,
) -> Result<impl Iterator<Item = Session>> {
    let mut events = read_events(path, format)?.peekable();
    let fields = fields.clone();
    let mut parts: std::collections::HashMap<(String, String), u32> = Default::default();
    Ok(std::iter::from_fn(move || {
        let mut current: Option<Session> = None;
        loop {
            let key = match events.peek() {
                None => break,
                Some(r) => match &r.event {
                    Ok(m) => (
                        text(m, &fields.user_field).unwrap_or_default(),
                        text(m, &fields.session_field).unwrap_or_default(),
                    ),
                    // An unreadable line belongs to the session being read.
                    Err(_) => current
                        .as_ref()
                        .map(|s| (s.user.clone(), s.session.clone()))
                        .unwrap_or_default(),
                },
            };
            if let Some(s) = &current {
                if (s.user.as_str(), s.session.as_str()) != (key.0.as_str(), key.1.as_str()) {
                    break;
                }
            }
            let r = events.next().expect("peeked");
            let s = current.get_or_insert_with(|| {
                let part = parts.entry(key.clone()).or_insert(0);
                *part += 1;
                if *part > 1 {
                    tracing::warn!(user = %key.0, session = %key.1, part = *part,
                        "session id seen again after another session: scored as a separate part (sort the input by user, session, time)");
                }
                Session {
                    user: key.0.clone(),
                    session: key.1.clone(),
                    part: *part,
                    ..Session::default()
                }
            });
            s.events += 1;
            let parsed = match &r.event {
                Err(u) => Err(format!("line {}: {}", r.line, u.error)),
                Ok(m) => Record::parse(
                    text(m, &fields.time_field).as_deref(),
                    text(m, &fields.button_field).as_deref(),
                    text(m, &fields.state_field).as_deref(),
                    text(m, &fields.position_fields[0]).as_deref(),
                    text(m, &fields.position_fields[1]).as_deref(),
                )
                .map_err(|e| format!("line {}: {e}", r.line)),
            };
            match parsed {
                Ok(rec) => s.records.push(rec),
                Err(e) => {
                    s.invalid += 1;
                    s.first_error.get_or_insert(e);
                }
            }
        }
        current
    }))
}
