//! Seeded synthetic mouse sessions for the mouse-dynamics tests: each hand
//! has a speed and a sway, and moves to random targets with point-and-click
//! gestures and the odd drag. Written as the CSV stream `mouse score` reads
//! (`user, session, client_timestamp, button, state, x, y`).

use std::io::Write;
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How a person moves the mouse.
#[derive(Debug, Clone, Copy)]
pub struct Hand {
    /// Pixels per second.
    pub speed: f64,
    /// Sideways sway, pixels.
    pub sway: f64,
    /// Seconds between events.
    pub step: f64,
}

/// A slow, steady hand.
pub const STEADY: Hand = Hand {
    speed: 300.0,
    sway: 2.0,
    step: 0.04,
};
/// A fast, wavering hand.
pub const QUICK: Hand = Hand {
    speed: 900.0,
    sway: 12.0,
    step: 0.02,
};
/// In between.
pub const MIDDLE: Hand = Hand {
    speed: 550.0,
    sway: 6.0,
    step: 0.03,
};

/// One session to write.
pub struct SessionSpec<'a> {
    /// Account.
    pub user: &'a str,
    /// Session id.
    pub session: &'a str,
    /// Who is really moving the mouse.
    pub hand: Hand,
    /// Gestures.
    pub gestures: usize,
    /// Seed.
    pub seed: u64,
}

/// CSV rows (without header) of one session.
pub fn session_rows(s: &SessionSpec<'_>) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed);
    let (mut t, mut x, mut y) = (0.0f64, 800.0f64, 500.0f64);
    let mut out = Vec::new();
    let mut row = |t: f64, b: &str, st: &str, x: f64, y: f64| {
        out.push(format!(
            "{},{},{t:.3},{b},{st},{:.0},{:.0}",
            s.user, s.session, x, y
        ));
    };
    for g in 0..s.gestures {
        let angle: f64 = rng.gen_range(0.0..std::f64::consts::TAU);
        let steps = rng.gen_range(8..20);
        let drag = g % 7 == 6;
        if drag {
            row(t, "Left", "Pressed", x, y);
        }
        for k in 0..steps {
            let speed = s.hand.speed * rng.gen_range(0.8..1.2);
            let sway = s.hand.sway * (k as f64).sin();
            x = (x + speed * s.hand.step * angle.cos() + sway * angle.sin()).clamp(0.0, 1900.0);
            y = (y + speed * s.hand.step * angle.sin() + sway * angle.cos()).clamp(0.0, 1000.0);
            t += s.hand.step;
            row(t, "NoButton", if drag { "Drag" } else { "Move" }, x, y);
        }
        t += 0.1;
        if !drag {
            row(t, "Left", "Pressed", x, y);
            t += 0.08;
        }
        row(t, "Left", "Released", x, y);
        t += rng.gen_range(0.3..1.5);
    }
    out
}

/// Write sessions as one CSV stream.
pub fn write_sessions(path: &Path, sessions: &[SessionSpec<'_>]) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, "user,session,client_timestamp,button,state,x,y").unwrap();
    for s in sessions {
        for r in session_rows(s) {
            writeln!(f, "{r}").unwrap();
        }
    }
}
