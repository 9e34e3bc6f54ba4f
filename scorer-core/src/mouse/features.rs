//! Per-gesture features: the numbers a mouse-dynamics model reads.
//!
//! From the points of a gesture (points sharing a timestamp are folded into
//! the next one) come seven series over its segments — horizontal,
//! vertical and total velocity, acceleration, jerk, angular velocity and
//! curvature — each summarised by mean, standard deviation, min, max,
//! range, 10th percentile, median and 90th percentile; plus the gesture's
//! shape and timing: kind, duration, distance, straightness, points, turn
//! angles, largest deviation from the straight line, sharp turns, direction,
//! time to peak speed, the pause before it and the pauses inside it.
//!
//! Names are stable ([`feature_names`]): a mouse model's schema reads them
//! as fields. Every value is finite.

use super::gesture::{Gesture, GestureKind};

/// The summarised series, in column order.
pub const SERIES: [&str; 7] = ["vx", "vy", "v", "a", "jerk", "omega", "curvature"];
/// The summary statistics of each series, in column order.
pub const STATS: [&str; 8] = ["mean", "sd", "min", "max", "range", "p10", "median", "p90"];
/// The gesture-level features, in column order (before the series).
pub const SCALARS: [&str; 15] = [
    "is_move",
    "is_click",
    "is_drag",
    "duration",
    "distance",
    "displacement",
    "straightness",
    "points",
    "sum_angles",
    "largest_deviation",
    "sharp_turns",
    "direction",
    "time_to_peak_v",
    "pause_before",
    "max_gap",
];
/// Number of features per gesture.
pub const N_FEATURES: usize = SCALARS.len() + SERIES.len() * STATS.len();

/// A turn between segments sharper than this (radians) is a sharp turn.
const SHARP_TURN: f64 = std::f64::consts::FRAC_PI_2;

/// All feature names, in column order: the scalars, then `<series>_<stat>`.
pub fn feature_names() -> Vec<String> {
    let mut v: Vec<String> = SCALARS.iter().map(|s| (*s).to_string()).collect();
    for s in SERIES {
        for st in STATS {
            v.push(format!("{s}_{st}"));
        }
    }
    v
}

/// Index of a feature name, if it is one.
pub fn feature_index(name: &str) -> Option<usize> {
    if let Some(i) = SCALARS.iter().position(|s| *s == name) {
        return Some(i);
    }
    let (series, stat) = name.rsplit_once('_')?;
    let si = SERIES.iter().position(|s| *s == series)?;
    let ti = STATS.iter().position(|s| *s == stat)?;
    Some(SCALARS.len() + si * STATS.len() + ti)
}

/// Computes gesture features into a caller's row; reuses its scratch space
/// across gestures (no allocation per gesture once warm).
#[derive(Debug, Clone, Default)]
pub struct FeatureExtractor {
    series: [Vec<f64>; 7],
}

fn wrap_angle(d: f64) -> f64 {
    use std::f64::consts::PI;
    let mut d = d;
    while d > PI {
        d -= 2.0 * PI;
    }
    while d <= -PI {
        d += 2.0 * PI;
    }
    d
}

impl FeatureExtractor {
    /// Write the [`N_FEATURES`] features of `g` into `row`.
    pub fn extract(&mut self, g: &Gesture<'_>, row: &mut [f64]) {
        debug_assert_eq!(row.len(), N_FEATURES);
        for s in &mut self.series {
            s.clear();
        }
        let pts = g.points;
        let (first, last) = (pts[0], pts[pts.len() - 1]);
        let mut distance = 0.0;
        let mut sum_angles = 0.0;
        let mut sharp_turns = 0.0;
        let mut max_gap = 0.0f64;
        let (mut peak_v, mut t_peak) = (-1.0, 0.0);
        let (mut prev_v, mut prev_a, mut prev_theta): (Option<f64>, Option<f64>, Option<f64>) =
            (None, None, None);
        let mut anchor = first;
        for &p in &pts[1..] {
            let dt = p.t - anchor.t;
            if dt <= 0.0 {
                continue;
            }
            max_gap = max_gap.max(dt);
            let (dx, dy) = (p.x - anchor.x, p.y - anchor.y);
            let ds = libm::hypot(dx, dy);
            distance += ds;
            let (vx, vy, v) = (dx / dt, dy / dt, ds / dt);
            self.series[0].push(vx);
            self.series[1].push(vy);
            self.series[2].push(v);
            if v > peak_v {
                peak_v = v;
                t_peak = p.t - first.t;
            }
            if let Some(pv) = prev_v {
                let a = (v - pv) / dt;
                self.series[3].push(a);
                if let Some(pa) = prev_a {
                    self.series[4].push((a - pa) / dt);
                }
                prev_a = Some(a);
            }
            prev_v = Some(v);
            if ds > 0.0 {
                let theta = libm::atan2(dy, dx);
                if let Some(pt) = prev_theta {
                    let d = wrap_angle(theta - pt);
                    sum_angles += d.abs();
                    if d.abs() > SHARP_TURN {
                        sharp_turns += 1.0;
                    }
                    self.series[5].push(d / dt);
                    self.series[6].push(d / ds);
                }
                prev_theta = Some(theta);
            }
            anchor = p;
        }
        let duration = last.t - first.t;
        let (ex, ey) = (last.x - first.x, last.y - first.y);
        let displacement = libm::hypot(ex, ey);
        let largest_deviation = if displacement > 0.0 {
            pts.iter()
                .map(|p| ((p.x - first.x) * ey - (p.y - first.y) * ex).abs() / displacement)
                .fold(0.0, f64::max)
        } else {
            pts.iter()
                .map(|p| libm::hypot(p.x - first.x, p.y - first.y))
                .fold(0.0, f64::max)
        };
        let direction = if displacement > 0.0 {
            let a = libm::atan2(ey, ex);
            // Octant 0..7, counter-clockwise from +x (screen y grows downwards).
            (((a + std::f64::consts::PI) / (std::f64::consts::PI / 4.0)).floor() % 8.0).max(0.0)
        } else {
            0.0
        };
        let scalars = [
            f64::from(u8::from(g.kind == GestureKind::Move)),
            f64::from(u8::from(g.kind == GestureKind::PointClick)),
            f64::from(u8::from(g.kind == GestureKind::Drag)),
            duration,
            distance,
            displacement,
            if distance > 0.0 {
                displacement / distance
            } else {
                1.0
            },
            pts.len() as f64,
            sum_angles,
            largest_deviation,
            sharp_turns,
            direction,
            t_peak,
            g.pause_before,
            max_gap,
        ];
        row[..SCALARS.len()].copy_from_slice(&scalars);
        for (si, s) in self.series.iter_mut().enumerate() {
            let at = SCALARS.len() + si * STATS.len();
            summarise(s, &mut row[at..at + STATS.len()]);
        }
        for v in row.iter_mut() {
            if !v.is_finite() {
                *v = 0.0;
            }
        }
    }
}

/// mean, sd, min, max, range, p10, median, p90 of `s` (all 0 when empty).
/// Sorts `s` in place.
fn summarise(s: &mut [f64], out: &mut [f64]) {
    if s.is_empty() {
        out.fill(0.0);
        return;
    }
    let n = s.len() as f64;
    let mean = s.iter().sum::<f64>() / n;
    let var = s.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    s.sort_unstable_by(f64::total_cmp);
    let q = |p: f64| {
        // Linear interpolation between closest ranks (numpy's default).
        let h = p * (s.len() - 1) as f64;
        let lo = h.floor() as usize;
        let hi = (lo + 1).min(s.len() - 1);
        s[lo] + (h - lo as f64) * (s[hi] - s[lo])
    };
    let (min, max) = (s[0], s[s.len() - 1]);
    out.copy_from_slice(&[
        mean,
        var.sqrt(),
        min,
        max,
        max - min,
        q(0.1),
        q(0.5),
        q(0.9),
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mouse::gesture::Point;

    fn row_of(points: &[Point], kind: GestureKind) -> Vec<f64> {
        let mut row = vec![0.0; N_FEATURES];
        FeatureExtractor::default().extract(
            &Gesture {
                kind,
                points,
                pause_before: 1.5,
            },
            &mut row,
        );
        row
    }

    fn f(row: &[f64], name: &str) -> f64 {
        row[feature_index(name).unwrap()]
    }

    #[test]
    fn names_and_indices_agree() {
        let names = feature_names();
        assert_eq!(names.len(), N_FEATURES);
        for (i, n) in names.iter().enumerate() {
            assert_eq!(feature_index(n), Some(i), "{n}");
        }
        assert_eq!(feature_index("v_bogus"), None);
        assert_eq!(feature_index("nope"), None);
    }

    #[test]
    fn a_straight_constant_speed_move() {
        // 100 px/s along +x, 5 points 0.1 s apart.
        let pts: Vec<Point> = (0..5)
            .map(|i| Point {
                t: f64::from(i) * 0.1,
                x: f64::from(i) * 10.0,
                y: 0.0,
            })
            .collect();
        let row = row_of(&pts, GestureKind::Move);
        assert_eq!(f(&row, "is_move"), 1.0);
        assert!((f(&row, "duration") - 0.4).abs() < 1e-12);
        assert!((f(&row, "distance") - 40.0).abs() < 1e-12);
        assert!((f(&row, "straightness") - 1.0).abs() < 1e-12);
        assert!((f(&row, "v_mean") - 100.0).abs() < 1e-9);
        assert!(f(&row, "v_sd").abs() < 1e-9);
        assert!(f(&row, "a_max").abs() < 1e-6);
        assert_eq!(f(&row, "sum_angles"), 0.0);
        assert_eq!(f(&row, "largest_deviation"), 0.0);
        assert_eq!(f(&row, "pause_before"), 1.5);
        assert_eq!(f(&row, "points"), 5.0);
    }

    #[test]
    fn turns_duplicates_and_degenerate_gestures_stay_finite() {
        // An L shape with a repeated timestamp.
        let pts = [
            Point {
                t: 0.0,
                x: 0.0,
                y: 0.0,
            },
            Point {
                t: 0.1,
                x: 10.0,
                y: 0.0,
            },
            Point {
                t: 0.1,
                x: 12.0,
                y: 0.0,
            },
            Point {
                t: 0.2,
                x: 20.0,
                y: 0.0,
            },
            Point {
                t: 0.3,
                x: 20.0,
                y: 10.0,
            },
        ];
        let row = row_of(&pts, GestureKind::PointClick);
        assert!((f(&row, "sum_angles") - std::f64::consts::FRAC_PI_2).abs() < 1e-12);
        assert!(f(&row, "largest_deviation") > 0.0);
        assert_eq!(f(&row, "is_click"), 1.0);
        // All points at one instant and place.
        let still = [Point {
            t: 1.0,
            x: 5.0,
            y: 5.0,
        }; 4];
        let row = row_of(&still, GestureKind::Move);
        assert!(row.iter().all(|v| v.is_finite()));
        assert_eq!(f(&row, "straightness"), 1.0);
    }
}
