//! One mouse event as an RDP monitor records it, and the clean-up every
//! runtime applies before segmenting: parsing the button and state names,
//! and repairing coordinate overflows.

/// The mouse button of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    /// No button (moves and drags).
    None,
    /// Left button.
    Left,
    /// Right button.
    Right,
    /// Wheel.
    Scroll,
    /// Any other button (X buttons, middle).
    Other,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Pointer moved, no button held.
    Move,
    /// Pointer moved with a button held.
    Drag,
    /// Button went down.
    Pressed,
    /// Button went up.
    Released,
    /// Wheel turned (either way).
    Wheel,
}

impl Button {
    /// Parse the recorder's name (`NoButton`, `Left`, `Right`, `Scroll`, …);
    /// unknown names are `Other`, never an error.
    pub fn parse(s: &str) -> Button {
        match s.trim() {
            "NoButton" | "" => Button::None,
            "Left" => Button::Left,
            "Right" => Button::Right,
            "Scroll" => Button::Scroll,
            _ => Button::Other,
        }
    }

    /// Stable small-integer code (the wasm ABI's column value).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Inverse of [`Button::code`].
    pub fn from_code(c: u8) -> Option<Button> {
        [
            Button::None,
            Button::Left,
            Button::Right,
            Button::Scroll,
            Button::Other,
        ]
        .get(usize::from(c))
        .copied()
    }
}

impl State {
    /// Parse the recorder's name (`Move`, `Drag`, `Pressed`, `Released`,
    /// `Up`/`Down` for the wheel). Unknown names are `None`.
    pub fn parse(s: &str) -> Option<State> {
        Some(match s.trim() {
            "Move" => State::Move,
            "Drag" => State::Drag,
            "Pressed" => State::Pressed,
            "Released" => State::Released,
            "Up" | "Down" => State::Wheel,
            _ => return None,
        })
    }

    /// Stable small-integer code (the wasm ABI's column value).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Inverse of [`State::code`].
    pub fn from_code(c: u8) -> Option<State> {
        [
            State::Move,
            State::Drag,
            State::Pressed,
            State::Released,
            State::Wheel,
        ]
        .get(usize::from(c))
        .copied()
    }
}

/// One mouse event of a session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Record {
    /// Seconds since the session started, by the client's clock.
    pub t: f64,
    /// Button.
    pub button: Button,
    /// State.
    pub state: State,
    /// Pointer x, pixels.
    pub x: f64,
    /// Pointer y, pixels.
    pub y: f64,
}

/// Why a record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// A field is absent.
    #[error("mouse event has no `{0}`")]
    Missing(&'static str),
    /// A field does not parse.
    #[error("mouse event field `{field}` is not valid: `{value}`")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// Its text.
        value: String,
    },
}

/// Coordinates at or above this are the recorder's overflow markers (65535
/// when the pointer left the remote screen), not positions.
pub const COORD_OVERFLOW: f64 = 32768.0;

impl Record {
    /// Read a record from text fields (CSV cells, Splunk fields).
    pub fn parse(
        t: Option<&str>,
        button: Option<&str>,
        state: Option<&str>,
        x: Option<&str>,
        y: Option<&str>,
    ) -> Result<Record, RecordError> {
        let num = |v: Option<&str>, field: &'static str| -> Result<f64, RecordError> {
            let v = v.ok_or(RecordError::Missing(field))?;
            match crate::event::parse_number(v) {
                Some(n) if n.is_finite() => Ok(n),
                _ => Err(RecordError::Invalid {
                    field,
                    value: v.chars().take(40).collect(),
                }),
            }
        };
        let state_text = state.ok_or(RecordError::Missing("state"))?;
        Ok(Record {
            t: num(t, "client_timestamp")?,
            button: Button::parse(button.unwrap_or("")),
            state: State::parse(state_text).ok_or_else(|| RecordError::Invalid {
                field: "state",
                value: state_text.chars().take(40).collect(),
            })?,
            x: num(x, "x")?,
            y: num(y, "y")?,
        })
    }

    /// Build a record from the wasm ABI's numeric columns.
    pub fn from_codes(t: f64, button: f64, state: f64, x: f64, y: f64) -> Option<Record> {
        let code = |v: f64| ((0.0..256.0).contains(&v) && v.fract() == 0.0).then_some(v as u8);
        Some(Record {
            t,
            button: Button::from_code(code(button)?)?,
            state: State::from_code(code(state)?)?,
            x,
            y,
        })
    }
}

/// Repairs coordinate overflows: a position at or beyond
/// [`COORD_OVERFLOW`] (or negative, or not finite) is replaced by the last
/// good one (the origin before any).
#[derive(Debug, Clone, Copy, Default)]
pub struct OverflowFix {
    last: (f64, f64),
}

impl OverflowFix {
    /// The record with its position repaired.
    pub fn apply(&mut self, mut r: Record) -> Record {
        let bad = |v: f64| !v.is_finite() || !(0.0..COORD_OVERFLOW).contains(&v);
        if bad(r.x) || bad(r.y) {
            r.x = self.last.0;
            r.y = self.last.1;
        } else {
            self.last = (r.x, r.y);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_recorder_names_and_rejects_bad_numbers() {
        let r = Record::parse(
            Some("0.016"),
            Some("NoButton"),
            Some("Move"),
            Some("129"),
            Some("337"),
        )
        .unwrap();
        assert_eq!(
            (r.button, r.state, r.x, r.y),
            (Button::None, State::Move, 129.0, 337.0)
        );
        assert_eq!(State::parse("Down"), Some(State::Wheel));
        let e = Record::parse(
            Some("x"),
            Some("Left"),
            Some("Pressed"),
            Some("1"),
            Some("1"),
        );
        assert!(matches!(
            e,
            Err(RecordError::Invalid {
                field: "client_timestamp",
                ..
            })
        ));
        let e = Record::parse(Some("1"), None, Some("Hover"), Some("1"), Some("1"));
        assert!(matches!(
            e,
            Err(RecordError::Invalid { field: "state", .. })
        ));
        assert_eq!(
            Record::parse(Some("1"), None, None, Some("1"), Some("1")),
            Err(RecordError::Missing("state"))
        );
    }

    #[test]
    fn codes_round_trip() {
        for b in [
            Button::None,
            Button::Left,
            Button::Right,
            Button::Scroll,
            Button::Other,
        ] {
            assert_eq!(Button::from_code(b.code()), Some(b));
        }
        for s in [
            State::Move,
            State::Drag,
            State::Pressed,
            State::Released,
            State::Wheel,
        ] {
            assert_eq!(State::from_code(s.code()), Some(s));
        }
        assert!(Record::from_codes(0.0, 9.0, 0.0, 1.0, 1.0).is_none());
        assert!(Record::from_codes(0.0, 0.5, 0.0, 1.0, 1.0).is_none());
    }

    #[test]
    fn overflowed_positions_take_the_last_good_one() {
        let mut fix = OverflowFix::default();
        let r = |x, y| Record {
            t: 0.0,
            button: Button::None,
            state: State::Move,
            x,
            y,
        };
        assert_eq!(fix.apply(r(10.0, 20.0)).x, 10.0);
        let o = fix.apply(r(65535.0, 65535.0));
        assert_eq!((o.x, o.y), (10.0, 20.0));
        let o = fix.apply(r(-3.0, 5.0));
        assert_eq!((o.x, o.y), (10.0, 20.0));
    }
}
