//! Session models end to end inside scorer-core: an artifact with a
//! `session` section, scored from raw records, and its checks.

use super::*;
use crate::artifact::Artifact;
use crate::Model;

/// A synthetic session: `n` point-and-click gestures at `speed` px/s with
/// `wobble` px of sideways sway, 40 ms between events.
pub(crate) fn session(n: usize, speed: f64, wobble: f64, seed: u64) -> Vec<Record> {
    let mut out = Vec::new();
    let mut t = 0.0;
    let (mut x, mut y) = (500.0, 400.0);
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut rnd = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    for _ in 0..n {
        let angle = rnd() * std::f64::consts::TAU;
        let steps = 8 + (rnd() * 8.0) as usize;
        for k in 0..steps {
            let sway = wobble * libm::sin(k as f64);
            x = (x + speed * 0.04 * libm::cos(angle) + sway * libm::sin(angle)).clamp(0.0, 1900.0);
            y = (y + speed * 0.04 * libm::sin(angle) + sway * libm::cos(angle)).clamp(0.0, 1000.0);
            t += 0.04;
            out.push(Record {
                t,
                button: Button::None,
                state: State::Move,
                x,
                y,
            });
        }
        t += 0.1;
        out.push(Record {
            t,
            button: Button::Left,
            state: State::Pressed,
            x,
            y,
        });
        t += 0.08;
        out.push(Record {
            t,
            button: Button::Left,
            state: State::Released,
            x,
            y,
        });
        t += 0.5 + rnd();
    }
    out
}

fn rows(records: &[Record]) -> Vec<Vec<f64>> {
    let mut seg = Segmenter::new(GestureParams::default());
    let mut ex = FeatureExtractor::default();
    let mut out = Vec::new();
    let mut emit = |g: Gesture<'_>| {
        let mut r = vec![0.0; N_FEATURES];
        ex.extract(&g, &mut r);
        out.push(r);
    };
    for r in records {
        seg.push(*r, &mut emit);
    }
    seg.finish(&mut emit);
    out
}

/// A session model: a linear score of mean speed (no training needed) and a
/// KS profile of the owner's slow gestures.
fn artifact(method: &str) -> Artifact {
    let owner = rows(&session(200, 300.0, 2.0, 1));
    let names = feature_names();
    let cols: Vec<Vec<f64>> = (0..N_FEATURES)
        .map(|c| owner.iter().map(|r| r[c]).collect())
        .collect();
    let ks = KsProfile::fit(names, cols, KsCombine::MeanD);
    let doc = serde_json::json!({
        "format": "riskscore-model", "format_version": 1,
        "metadata": {"name": "mouse-owner", "version": "1", "created": "2026-11-22T00:00:00Z", "approval": "draft"},
        "schema": {"features": [{"field": "v_mean", "transform": {"kind": "number"}}]},
        "estimator": {"type": "logistic_regression", "weights": [0.01], "intercept": -6.0},
        "output": {"score": {"kind": "sigmoid"}, "threshold": 0.5},
        "session": {"kind": "mouse_dynamics", "method": method, "threshold": 0.5, "ks": ks},
    });
    Artifact::from_document(&doc).unwrap()
}

#[test]
fn sessions_of_another_hand_score_higher_by_both_methods() {
    for method in ["gesture_mean", "ks"] {
        let model = Model::compile(artifact(method)).unwrap();
        let mut scorer = model.session_scorer().unwrap();
        let mut score = |recs: Vec<Record>| {
            for r in recs {
                scorer.push(r);
            }
            scorer.finish()
        };
        let own = score(session(30, 300.0, 2.0, 7));
        let other = score(session(30, 900.0, 15.0, 8));
        assert_eq!(own.gestures, 30, "{method}");
        assert!(own.error.is_none() && other.error.is_none());
        assert!(
            other.score > own.score + 0.2,
            "{method}: {} vs {}",
            other.score,
            own.score
        );
        assert_eq!(other.flag, 1, "{method}");
        // The scorer is reusable: the same session again gives the same score.
        assert_eq!(score(session(30, 300.0, 2.0, 7)).score, own.score);
        // No gestures: not scored, and says why.
        let empty = score(Vec::new());
        assert!(empty.score.is_nan() && empty.error.unwrap().contains("0 gesture"));
    }
}

#[test]
fn the_batch_wire_gives_what_the_scorer_gives() {
    let model = Model::compile(artifact("gesture_mean")).unwrap();
    let a = session(12, 300.0, 2.0, 3);
    let b = session(9, 800.0, 10.0, 4);
    let mut req = Vec::new();
    batch::encode_request(&[&a, &b, &[]], Some(SessionMethod::Ks), &mut req);
    let mut resp = Vec::new();
    batch::score_request(&model, &req, &mut resp).unwrap();
    let got = batch::decode_response(&resp, 3).unwrap();
    let mut scorer = model.session_scorer().unwrap();
    scorer.set_method(SessionMethod::Ks).unwrap();
    for (recs, g) in [&a, &b].iter().zip(&got) {
        for r in recs.iter() {
            scorer.push(*r);
        }
        let want = scorer.finish();
        assert_eq!(want.score.to_bits(), g.score.to_bits());
        assert_eq!(
            (want.flag, want.gestures, want.method),
            (g.flag, g.gestures, g.method)
        );
    }
    assert!(got[2].error.is_some());
    // Truncated or inconsistent requests are refused, never misread.
    assert!(batch::score_request(&model, &req[..req.len() - 1], &mut resp).is_err());
    assert!(batch::score_request(&model, &[1, 0, 0, 0], &mut resp).is_err());
    let mut bad = req.clone();
    bad[4] = 9;
    assert!(batch::score_request(&model, &bad, &mut resp).is_err());
}

#[test]
fn session_sections_are_checked_at_load() {
    let mut a = artifact("ks");
    a.session.as_mut().unwrap().ks = None;
    let e = Model::compile(a).unwrap_err().to_string();
    assert!(e.contains("needs a `ks` section"), "{e}");
    let mut a = artifact("gesture_mean");
    a.schema.features[0].field = "failed_logins".into();
    let e = Model::compile(a).unwrap_err().to_string();
    assert!(e.contains("not a gesture feature"), "{e}");
    let mut a = artifact("gesture_mean");
    a.session.as_mut().unwrap().ks.as_mut().unwrap().quantiles[3].reverse();
    assert!(Model::compile(a).is_err());
    let mut a = artifact("gesture_mean");
    a.session.as_mut().unwrap().gestures.pause_s = 0.0;
    assert!(Model::compile(a).is_err());
    // A model without a session section scores events, not sessions.
    let mut a = artifact("gesture_mean");
    a.session = None;
    assert!(Model::compile(a).unwrap().session_scorer().is_err());
}
