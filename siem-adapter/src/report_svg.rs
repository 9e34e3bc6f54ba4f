//! A score histogram as a standalone SVG document, written by hand (no
//! plotting dependency): used by `siem-adapter evaluate --svg`.
//!
//! Scores (0..1) are binned into equal-width bins. Positives and negatives
//! are drawn as two overlaid, semi-transparent bar series, each as the
//! **share of its own class** in the bin: with alerts, negatives usually
//! outnumber positives a hundred to one, and on a count axis the positives
//! would be a flat line. Each bar's tooltip (`<title>`) gives the count too,
//! and the legend gives each class's size. A dashed vertical line marks the
//! flag threshold (`class="threshold"`); the title names the model and its
//! ROC AUC (the caller writes it).
//!
//! The output is deterministic (fixed decimals) and self-contained: it opens
//! in any browser and can be embedded in an HTML report.

use std::fmt::Write as _;

/// What to draw.
#[derive(Debug, Clone, Copy)]
pub struct Histogram<'a> {
    /// Scores, 0..1 (values outside are clamped to the end bins; NaN is skipped).
    pub scores: &'a [f64],
    /// Labels, 1 = positive, anything else = negative; same length as `scores`.
    pub labels: &'a [u8],
    /// The flag threshold, drawn as a vertical line.
    pub threshold: f64,
    /// Number of equal-width bins on 0..1 (at least 1).
    pub bins: usize,
    /// The chart title, e.g. `threat_rf@1.0.0 — ROC AUC 0.901` (escaped here).
    pub title: &'a str,
}

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 440.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;
const POS_COLOUR: &str = "#d62728";
const NEG_COLOUR: &str = "#1f77b4";

/// Counts per bin, for positives and negatives.
fn bin_counts(h: &Histogram) -> (Vec<u64>, Vec<u64>) {
    let bins = h.bins.max(1);
    let (mut pos, mut neg) = (vec![0u64; bins], vec![0u64; bins]);
    for (s, l) in h.scores.iter().zip(h.labels) {
        if s.is_nan() {
            continue;
        }
        let b = ((s.clamp(0.0, 1.0) * bins as f64) as usize).min(bins - 1);
        if *l == 1 {
            pos[b] += 1;
        } else {
            neg[b] += 1;
        }
    }
    (pos, neg)
}

/// The smallest "nice" axis maximum (1, 2 or 5 × 10^k, in percent) at or above `max`,
/// and its tick step.
fn nice_axis(max: f64) -> (f64, f64) {
    let max = max.max(1.0);
    let mut step = 10f64.powf(max.log10().floor() - 1.0);
    loop {
        for m in [1.0, 2.0, 5.0] {
            let s = step * m;
            if (max / s).ceil() <= 6.0 {
                return ((max / s).ceil() * s, s);
            }
        }
        step *= 10.0;
    }
}

/// Escape text for XML content and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Render `h` as an SVG document.
pub fn histogram_svg(h: &Histogram) -> String {
    let bins = h.bins.max(1);
    let (pos, neg) = bin_counts(h);
    let (n_pos, n_neg) = (pos.iter().sum::<u64>(), neg.iter().sum::<u64>());
    let share = |c: u64, n: u64| {
        if n == 0 {
            0.0
        } else {
            100.0 * c as f64 / n as f64
        }
    };
    let top_share = pos
        .iter()
        .map(|c| share(*c, n_pos))
        .chain(neg.iter().map(|c| share(*c, n_neg)))
        .fold(0.0, f64::max);
    let (y_max, y_step) = nice_axis(top_share);
    let (pw, ph) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let x = |v: f64| LEFT + v.clamp(0.0, 1.0) * pw;
    let y = |pct: f64| TOP + ph - pct / y_max * ph;

    let mut s = String::new();
    let _ = writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="28" text-anchor="middle" font-size="15" font-weight="bold">{}</text>"#,
        WIDTH / 2.0,
        escape(h.title)
    );

    // Grid and y axis (share of class, %).
    let _ = writeln!(s, r##"<g class="y-axis" stroke="#ccc">"##);
    for i in 0..=(y_max / y_step).round() as usize {
        let tick = i as f64 * y_step;
        let ty = y(tick);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT:.1}" y1="{ty:.1}" x2="{:.1}" y2="{ty:.1}"/><text x="{:.1}" y="{:.1}" text-anchor="end" stroke="none" fill="#000">{}%</text>"##,
            LEFT + pw,
            LEFT - 6.0,
            ty + 4.0,
            trim_number(tick)
        );
    }
    let _ = writeln!(s, "</g>");
    let _ = writeln!(
        s,
        r#"<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">share of class (%)</text>"#,
        TOP + ph / 2.0
    );

    // Bars: negatives first, positives on top; both semi-transparent.
    let bw = pw / bins as f64;
    for (class, counts, n, colour, name) in [
        ("neg", &neg, n_neg, NEG_COLOUR, "negatives"),
        ("pos", &pos, n_pos, POS_COLOUR, "positives"),
    ] {
        let _ = writeln!(
            s,
            r#"<g class="bars {class}" fill="{colour}" fill-opacity="0.55" stroke="{colour}">"#
        );
        for (b, c) in counts.iter().enumerate() {
            let pct = share(*c, n);
            let (lo, hi) = (b as f64 / bins as f64, (b + 1) as f64 / bins as f64);
            let top = y(pct);
            // An empty bin stays in the document (one rect per bin) but draws nothing.
            let stroke = if *c == 0 { r#" stroke="none""# } else { "" };
            let _ = writeln!(
                s,
                r#"<rect class="bar {class}" x="{:.2}" y="{top:.2}" width="{bw:.2}" height="{:.2}"{stroke}><title>{lo:.2}–{hi:.2}: {c} {name} ({pct:.1}%)</title></rect>"#,
                x(lo),
                TOP + ph - top,
            );
        }
        let _ = writeln!(s, "</g>");
    }

    // X axis: 0..1, ticks every 0.1.
    let _ = writeln!(s, r##"<g class="x-axis" stroke="#000">"##);
    let _ = writeln!(
        s,
        r#"<line x1="{LEFT:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/>"#,
        TOP + ph,
        LEFT + pw,
        TOP + ph
    );
    let _ = writeln!(
        s,
        r#"<line x1="{LEFT:.1}" y1="{TOP:.1}" x2="{LEFT:.1}" y2="{:.1}"/>"#,
        TOP + ph
    );
    for i in 0..=10 {
        let v = i as f64 / 10.0;
        let tx = x(v);
        let _ = writeln!(
            s,
            r##"<line x1="{tx:.1}" y1="{:.1}" x2="{tx:.1}" y2="{:.1}"/><text x="{tx:.1}" y="{:.1}" text-anchor="middle" stroke="none" fill="#000">{v:.1}</text>"##,
            TOP + ph,
            TOP + ph + 5.0,
            TOP + ph + 18.0
        );
    }
    let _ = writeln!(s, "</g>");
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">model_output_risk_score</text>"#,
        LEFT + pw / 2.0,
        HEIGHT - 14.0
    );

    // Threshold.
    let tx = x(h.threshold);
    let _ = writeln!(
        s,
        r##"<g class="threshold"><line x1="{tx:.2}" y1="{TOP:.1}" x2="{tx:.2}" y2="{:.1}" stroke="#000" stroke-width="1.5" stroke-dasharray="6 4"/><text x="{:.1}" y="{:.1}" text-anchor="{}">threshold {:.4}</text></g>"##,
        TOP + ph,
        if h.threshold > 0.8 {
            tx - 4.0
        } else {
            tx + 4.0
        },
        TOP + 12.0,
        if h.threshold > 0.8 { "end" } else { "start" },
        h.threshold
    );

    // Legend, top right of the plot.
    let lx = LEFT + pw - 170.0;
    for (i, (colour, text)) in [
        (POS_COLOUR, format!("positives (n = {n_pos})")),
        (NEG_COLOUR, format!("negatives (n = {n_neg})")),
    ]
    .iter()
    .enumerate()
    {
        let ly = TOP + 24.0 + 18.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<g class="legend"><rect x="{lx:.1}" y="{:.1}" width="12" height="12" fill="{colour}" fill-opacity="0.55" stroke="{colour}"/><text x="{:.1}" y="{:.1}">{}</text></g>"#,
            ly - 10.0,
            lx + 18.0,
            ly,
            escape(text)
        );
    }
    let _ = writeln!(s, "</svg>");
    s
}

/// `20` rather than `20.0`, `2.5` as is.
fn trim_number(v: f64) -> String {
    let t = format!("{v:.2}");
    t.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small XML well-formedness check: every tag is closed in order,
    /// attribute quotes balance, and `&` only starts an entity.
    fn assert_well_formed(doc: &str) {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = doc;
        while let Some(open) = rest.find('<') {
            let text = &rest[..open];
            assert!(!text.contains('>'), "stray `>` in text: {text:?}");
            check_entities(text);
            let close = rest[open..].find('>').expect("unclosed tag") + open;
            let tag = &rest[open + 1..close];
            rest = &rest[close + 1..];
            assert!(!tag.contains('<'), "`<` inside tag {tag:?}");
            assert_eq!(
                tag.matches('"').count() % 2,
                0,
                "unbalanced quotes: {tag:?}"
            );
            check_entities(tag);
            if tag.starts_with('?') {
                assert!(tag.ends_with('?'));
                continue;
            }
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(
                    stack.pop().as_deref(),
                    Some(name.trim()),
                    "mismatched </{name}>"
                );
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().unwrap().to_string();
                stack.push(name);
            }
        }
        assert!(rest.trim().is_empty(), "text after the root: {rest:?}");
        assert!(stack.is_empty(), "unclosed: {stack:?}");
    }

    fn check_entities(s: &str) {
        for (i, _) in s.match_indices('&') {
            let ent = &s[i..s[i..].find(';').map_or(s.len(), |e| i + e + 1)];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].contains(&ent),
                "bad entity {ent:?}"
            );
        }
    }

    fn sample() -> (Vec<f64>, Vec<u8>) {
        let mut scores = Vec::new();
        let mut labels = Vec::new();
        for i in 0..100 {
            scores.push(i as f64 / 400.0); // negatives: 0..0.25
            labels.push(0);
        }
        for i in 0..10 {
            scores.push(0.6 + i as f64 / 40.0); // positives: 0.6..0.85
            labels.push(1);
        }
        scores.push(1.0); // the top edge falls in the last bin
        labels.push(1);
        (scores, labels)
    }

    #[test]
    fn document_is_well_formed_with_bars_threshold_axes_and_title() {
        let (scores, labels) = sample();
        let svg = histogram_svg(&Histogram {
            scores: &scores,
            labels: &labels,
            threshold: 0.5,
            bins: 20,
            title: "m<1>@1.0 & co — ROC AUC 1.000",
        });
        assert_well_formed(&svg);
        assert!(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert_eq!(svg.matches(r#"<rect class="bar pos""#).count(), 20);
        assert_eq!(svg.matches(r#"<rect class="bar neg""#).count(), 20);
        assert!(
            svg.contains(r#"<g class="threshold"><line x1="405.00""#),
            "{svg}"
        );
        assert!(svg.contains("threshold 0.5000"));
        assert!(svg.contains("m&lt;1&gt;@1.0 &amp; co — ROC AUC 1.000"));
        assert!(svg.contains("share of class (%)"));
        assert!(svg.contains(">0.5</text>") && svg.contains(">1.0</text>"));
        assert!(svg.contains("positives (n = 11)") && svg.contains("negatives (n = 100)"));
    }

    #[test]
    fn bins_count_each_class_with_edges_clamped() {
        let (scores, labels) = sample();
        let h = Histogram {
            scores: &scores,
            labels: &labels,
            threshold: 0.5,
            bins: 20,
            title: "",
        };
        let (pos, neg) = bin_counts(&h);
        assert_eq!(neg.iter().sum::<u64>(), 100);
        assert_eq!(neg[..5].iter().sum::<u64>(), 100);
        assert_eq!(pos.iter().sum::<u64>(), 11);
        assert_eq!(pos[19], 1, "score 1.0 goes to the last bin");
        // Out-of-range and NaN.
        let h = Histogram {
            scores: &[-0.5, 1.5, f64::NAN],
            labels: &[0, 1, 1],
            ..h
        };
        let (pos, neg) = bin_counts(&h);
        assert_eq!((neg[0], pos[19], pos.iter().sum::<u64>()), (1, 1, 1));
    }

    #[test]
    fn empty_and_one_class_inputs_still_render() {
        for (scores, labels) in [(vec![], vec![]), (vec![0.2, 0.3], vec![0, 0])] {
            let svg = histogram_svg(&Histogram {
                scores: &scores,
                labels: &labels,
                threshold: 0.9,
                bins: 10,
                title: "t",
            });
            assert_well_formed(&svg);
            assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
            assert_eq!(svg.matches("<rect class=\"bar").count(), 20);
        }
    }

    #[test]
    fn nice_axis_rounds_up_to_1_2_5() {
        assert_eq!(nice_axis(0.0), (1.0, 0.2));
        assert_eq!(nice_axis(37.0), (40.0, 10.0));
        assert_eq!(nice_axis(100.0), (100.0, 20.0));
        assert_eq!(nice_axis(7.3), (8.0, 2.0));
        assert_eq!(trim_number(20.0), "20");
        assert_eq!(trim_number(2.5), "2.5");
    }
}
