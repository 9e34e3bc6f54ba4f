//! Splitting a session's mouse events into gestures.
//!
//! A gesture is a movement sequence that ends with a pause, a click or the
//! release of a drag:
//!
//! | kind | ends with |
//! |---|---|
//! | [`GestureKind::Move`] | a pause longer than `pause_s`, a wheel turn, the session's end |
//! | [`GestureKind::PointClick`] | a button press and release without drag events |
//! | [`GestureKind::Drag`] | the release after drag events |
//!
//! The [`Segmenter`] is streaming: it takes one record at a time and hands
//! each finished gesture to a callback as a borrowed view, so a long session
//! costs the memory of its longest gesture, not of the session.

use serde::{Deserialize, Serialize};

use super::record::{OverflowFix, Record, State};

/// Segmentation settings (stored in the artifact so every runtime splits alike).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GestureParams {
    /// A gap between events longer than this (seconds) ends the gesture.
    #[serde(default = "default_pause")]
    pub pause_s: f64,
    /// Gestures with fewer points are dropped (too short to measure).
    #[serde(default = "default_min_points")]
    pub min_points: usize,
    /// A gesture is cut after this many points.
    #[serde(default = "default_max_points")]
    pub max_points: usize,
}

fn default_pause() -> f64 {
    2.0
}
fn default_min_points() -> usize {
    4
}
fn default_max_points() -> usize {
    2000
}

impl Default for GestureParams {
    fn default() -> Self {
        GestureParams {
            pause_s: default_pause(),
            min_points: default_min_points(),
            max_points: default_max_points(),
        }
    }
}

impl GestureParams {
    /// Check the values.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.pause_s.is_finite() && self.pause_s > 0.0) {
            return Err(format!("pause_s must be > 0, got {}", self.pause_s));
        }
        if self.min_points < 3 || self.max_points < self.min_points {
            return Err(format!(
                "need 3 <= min_points <= max_points, got {} and {}",
                self.min_points, self.max_points
            ));
        }
        Ok(())
    }
}

/// What kind of gesture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GestureKind {
    /// Plain movement.
    Move,
    /// Movement ending in a click.
    PointClick,
    /// Drag and drop.
    Drag,
}

/// One point of a gesture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Seconds (client clock).
    pub t: f64,
    /// x, pixels.
    pub x: f64,
    /// y, pixels.
    pub y: f64,
}

/// A finished gesture, borrowed from the segmenter.
#[derive(Debug, Clone, Copy)]
pub struct Gesture<'a> {
    /// Its kind.
    pub kind: GestureKind,
    /// Its points, in time order.
    pub points: &'a [Point],
    /// Seconds since the event before its first point (0 for the first gesture).
    pub pause_before: f64,
}

/// Streaming gesture splitter for one session.
#[derive(Debug, Clone)]
pub struct Segmenter {
    params: GestureParams,
    fix: OverflowFix,
    points: Vec<Point>,
    pressed: bool,
    dragged: bool,
    last_t: Option<f64>,
    pause_before: f64,
}

impl Segmenter {
    /// A splitter for a new session.
    pub fn new(params: GestureParams) -> Self {
        Segmenter {
            params,
            fix: OverflowFix::default(),
            points: Vec::new(),
            pressed: false,
            dragged: false,
            last_t: None,
            pause_before: 0.0,
        }
    }

    /// Forget everything (start a new session), keep the memory.
    pub fn reset(&mut self) {
        self.fix = OverflowFix::default();
        self.points.clear();
        self.pressed = false;
        self.dragged = false;
        self.last_t = None;
        self.pause_before = 0.0;
    }

    /// Feed one record; finished gestures go to `emit`.
    pub fn push(&mut self, r: Record, emit: &mut impl FnMut(Gesture<'_>)) {
        let r = self.fix.apply(r);
        if let Some(last) = self.last_t {
            // A pause (or the clock going backwards) ends what was going on.
            if r.t - last > self.params.pause_s || r.t < last {
                let kind = if self.dragged {
                    GestureKind::Drag
                } else {
                    GestureKind::Move
                };
                self.end(kind, emit);
                self.pressed = false;
                self.dragged = false;
            }
        }
        if self.points.is_empty() {
            self.pause_before = self.last_t.map_or(0.0, |l| (r.t - l).max(0.0));
        }
        self.last_t = Some(r.t);
        let p = Point {
            t: r.t,
            x: r.x,
            y: r.y,
        };
        match r.state {
            State::Wheel => {
                let kind = if self.dragged {
                    GestureKind::Drag
                } else {
                    GestureKind::Move
                };
                self.end(kind, emit);
            }
            State::Move | State::Drag => {
                self.dragged |= r.state == State::Drag;
                self.points.push(p);
                if self.points.len() >= self.params.max_points {
                    let kind = if self.dragged {
                        GestureKind::Drag
                    } else {
                        GestureKind::Move
                    };
                    self.end(kind, emit);
                }
            }
            State::Pressed => {
                self.pressed = true;
                self.points.push(p);
            }
            State::Released => {
                self.points.push(p);
                let kind = if self.dragged {
                    GestureKind::Drag
                } else {
                    GestureKind::PointClick
                };
                self.end(kind, emit);
                self.pressed = false;
                self.dragged = false;
            }
        }
    }

    /// End of the session: emit what is pending.
    pub fn finish(&mut self, emit: &mut impl FnMut(Gesture<'_>)) {
        let kind = if self.dragged {
            GestureKind::Drag
        } else {
            GestureKind::Move
        };
        self.end(kind, emit);
    }

    fn end(&mut self, kind: GestureKind, emit: &mut impl FnMut(Gesture<'_>)) {
        if self.points.len() >= self.params.min_points {
            emit(Gesture {
                kind,
                points: &self.points,
                pause_before: self.pause_before,
            });
        }
        self.points.clear();
        if !self.pressed {
            self.dragged = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mouse::record::Button;

    fn rec(t: f64, button: Button, state: State, x: f64) -> Record {
        Record {
            t,
            button,
            state,
            x,
            y: 0.0,
        }
    }

    fn kinds(records: &[Record], params: GestureParams) -> Vec<(GestureKind, usize)> {
        let mut seg = Segmenter::new(params);
        let mut out = Vec::new();
        for r in records {
            seg.push(*r, &mut |g| out.push((g.kind, g.points.len())));
        }
        seg.finish(&mut |g| out.push((g.kind, g.points.len())));
        out
    }

    #[test]
    fn splits_moves_clicks_and_drags() {
        use Button::*;
        use State::*;
        let mut rs = Vec::new();
        // Five moves, then a click: one point-and-click of 7 points.
        for i in 0..5 {
            rs.push(rec(f64::from(i) * 0.02, None, Move, f64::from(i)));
        }
        rs.push(rec(0.12, Left, Pressed, 5.0));
        rs.push(rec(0.2, Left, Released, 5.0));
        // A drag: press, four drags, release.
        rs.push(rec(0.5, Left, Pressed, 5.0));
        for i in 0..4 {
            rs.push(rec(
                0.52 + f64::from(i) * 0.02,
                Button::None,
                Drag,
                6.0 + f64::from(i),
            ));
        }
        rs.push(rec(0.7, Left, Released, 10.0));
        // Moves, a long pause, moves: two plain moves.
        for i in 0..4 {
            rs.push(rec(
                1.0 + f64::from(i) * 0.02,
                Button::None,
                Move,
                f64::from(i),
            ));
        }
        for i in 0..5 {
            rs.push(rec(
                10.0 + f64::from(i) * 0.02,
                Button::None,
                Move,
                f64::from(i),
            ));
        }
        let k = kinds(&rs, GestureParams::default());
        assert_eq!(
            k,
            [
                (GestureKind::PointClick, 7),
                (GestureKind::Drag, 6),
                (GestureKind::Move, 4),
                (GestureKind::Move, 5)
            ]
        );
    }

    #[test]
    fn short_gestures_are_dropped_and_long_ones_cut() {
        let rs: Vec<Record> = (0..10)
            .map(|i| rec(f64::from(i) * 0.01, Button::None, State::Move, f64::from(i)))
            .collect();
        let p = GestureParams {
            max_points: 4,
            ..GestureParams::default()
        };
        // 4 + 4 + 2 (dropped).
        assert_eq!(
            kinds(&rs, p),
            [(GestureKind::Move, 4), (GestureKind::Move, 4)]
        );
        let wheel = [
            rec(0.0, Button::None, State::Move, 0.0),
            rec(0.1, Button::Scroll, State::Wheel, 0.0),
        ];
        assert!(kinds(&wheel, GestureParams::default()).is_empty());
    }
}
