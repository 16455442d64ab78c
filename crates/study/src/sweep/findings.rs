//! What an axis's numbers say, in sentences: where a curve crosses its baseline (PCA-n, the
//! identity test's lines, the raw pixels' probe and chance, a brightness of 1) and where it is
//! highest and lowest.

use analysis::{CONSTANT_WITHIN, IdentityReading, learned_digits_from};
use data::PIXELS;

use super::sweep_data::{AxisReport, COPYING_RATIO, Finding, Measure, PointReport};
use super::sweep_plan::AxisKind;

/// Where the points of an axis lie against a baseline, in axis order.
#[derive(Debug, Clone, PartialEq)]
enum Side {
    /// Every point below.
    AllBelow,
    /// Every point at or above.
    AllAbove,
    /// Below from this point on (numeric axes), above before it.
    BelowFrom(String),
    /// At or above from this point on, below before it.
    AboveFrom(String),
    /// Below at these points only.
    BelowAt(Vec<String>),
}

/// Where `values` (label, value − baseline) lie against 0; `ordered` axes may cross once.
fn side(values: &[(String, f64)], ordered: bool) -> Side {
    let below: Vec<bool> = values.iter().map(|(_, d)| *d < 0.0).collect();
    let changes = below.windows(2).filter(|w| w[0] != w[1]).count();
    let first_change = below.windows(2).position(|w| w[0] != w[1]).map(|i| i + 1);
    match (
        below.iter().all(|&b| b),
        below.iter().any(|&b| b),
        first_change,
    ) {
        (true, _, _) => Side::AllBelow,
        (false, false, _) => Side::AllAbove,
        (_, _, Some(k)) if ordered && changes == 1 && below[k] => {
            Side::BelowFrom(values[k].0.clone())
        }
        (_, _, Some(k)) if ordered && changes == 1 => Side::AboveFrom(values[k].0.clone()),
        _ => Side::BelowAt(
            values
                .iter()
                .filter(|(_, d)| *d < 0.0)
                .map(|(l, _)| l.clone())
                .collect(),
        ),
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A point's value as a sentence names it: `784 units`, `noise 0.3`, `dropout none`, `relu`.
fn named(axis: AxisKind, label: &str) -> String {
    match axis {
        AxisKind::Hidden => format!("{label} units"),
        AxisKind::Noise => format!("noise {label}"),
        AxisKind::Dropout => format!("dropout {label}"),
        AxisKind::Activation => label.to_string(),
    }
}

/// Every finding of `axis`.
pub(super) fn findings(axis: &AxisReport) -> Vec<Finding> {
    let mut found = vec![against_pca(axis), copying(axis)];
    found.extend(extremes(
        axis,
        Measure::W1Structure,
        "The share of structured w1 tiles is",
    ));
    found.extend(extremes(
        axis,
        Measure::W2tStructure,
        "The share of structured w2ᵀ tiles is",
    ));
    found.push(probe(axis));
    found.push(dead(axis));
    found.extend(extremes(
        axis,
        Measure::Brightness,
        "The output's brightness is",
    ));
    found
}

/// `(label, mean of measure − baseline)` for every point.
fn differences(
    axis: &AxisReport,
    measure: Measure,
    baseline: impl Fn(&PointReport) -> f64,
) -> Vec<(String, f64)> {
    axis.points
        .iter()
        .map(|p| {
            (
                named(axis.axis, &p.label),
                p.mean_and_spread(measure).0 - baseline(p),
            )
        })
        .collect()
}

fn ordered(axis: &AxisReport) -> bool {
    matches!(axis.axis, AxisKind::Hidden | AxisKind::Noise)
}

/// Test MSE against PCA with as many components, and where it is lowest.
fn against_pca(axis: &AxisReport) -> Finding {
    let diffs = differences(axis, Measure::TestMse, PointReport::pca_mse);
    let relation = match side(&diffs, ordered(axis)) {
        Side::AllBelow => "beats PCA with as many components at every point".to_string(),
        Side::AllAbove => "is above PCA's with as many components at every point".to_string(),
        Side::BelowFrom(p) => format!("beats PCA with as many components from {p} on"),
        Side::AboveFrom(p) => {
            format!("beats PCA with as many components below {p}; from {p} on PCA is better")
        }
        Side::BelowAt(p) => format!("beats PCA with as many components at {}", and_list(&p)),
    };
    let (best, value) = lowest(axis, Measure::TestMse);
    let wide = axis
        .points
        .iter()
        .any(|p| p.seeds.iter().any(|n| n.hidden >= PIXELS));
    let note = match wide {
        true => " (PCA with 784 components or more returns its input: the identity map)",
        false => "",
    };
    Finding {
        measure: Measure::TestMse,
        text: format!(
            "The test MSE is lowest at {best} ({}) and {relation}{note}.",
            Measure::TestMse.format(value)
        ),
    }
}

/// The identity test's reading at every point: copies (below [`COPYING_RATIO`]), no better
/// than a constant output, or learned digits; the lines stated.
fn copying(axis: &AxisReport) -> Finding {
    let mut groups: Vec<(IdentityReading, Vec<String>)> = Vec::new();
    for p in &axis.points {
        let reading = p.identity_reading();
        let label = named(axis.axis, &p.label);
        match groups.iter_mut().find(|(r, _)| *r == reading) {
            Some((_, labels)) => labels.push(label),
            None => groups.push((reading, vec![label])),
        }
    }
    let said: Vec<String> = groups
        .iter()
        .map(|(reading, labels)| match groups.len() {
            1 => format!("{} at every point", reading.short()),
            _ => format!("{} at {}", reading.short(), and_list(labels)),
        })
        .collect();
    let constant = axis.constant_ratio();
    let lines = match constant.is_finite() {
        true => format!(
            "below {COPYING_RATIO} a network copies; below {:.2}, {:.0} % above a constant output's {constant:.2}, it is no better than a constant output",
            learned_digits_from(constant),
            100.0 * CONSTANT_WITHIN
        ),
        false => format!(
            "below {COPYING_RATIO} a network copies; a constant output's ratio was not measured by the version that wrote this record"
        ),
    };
    Finding {
        measure: Measure::IdentityRatio,
        text: format!("The identity test reads: {} ({lines}).", said.join("; ")),
    }
}

/// The linear probe against the raw pixels', and the points where it is at chance.
fn probe(axis: &AxisReport) -> Finding {
    let pixels = axis.pixel_probe_accuracy;
    let diffs = differences(axis, Measure::ProbeAccuracy, |_| pixels);
    let raw = format!("the raw pixels' {}", Measure::ProbeAccuracy.format(pixels));
    let text = match side(&diffs, ordered(axis)) {
        Side::AllBelow => format!("A linear probe on the codes stays below {raw} at every point."),
        Side::AllAbove => format!("A linear probe on the codes beats {raw} at every point."),
        Side::BelowFrom(p) => format!("A linear probe on the codes falls below {raw} from {p} on."),
        Side::AboveFrom(p) => format!("A linear probe on the codes beats {raw} from {p} on."),
        Side::BelowAt(p) => format!(
            "A linear probe on the codes is below {raw} at {}.",
            and_list(&p)
        ),
    };
    let chance = axis.chance_accuracy;
    let at_chance: Vec<String> = axis
        .points
        .iter()
        .filter(|p| p.mean_and_spread(Measure::ProbeAccuracy).0 < chance + AT_CHANCE_WITHIN)
        .map(|p| named(axis.axis, &p.label))
        .collect();
    let collapsed = match at_chance.is_empty() {
        true => String::new(),
        false => format!(
            " At {} it is at chance (within {} of {}, the most common digit's share): the codes say nothing of the digit, the network collapsed.",
            and_list(&at_chance),
            Measure::ProbeAccuracy.format(AT_CHANCE_WITHIN),
            Measure::ProbeAccuracy.format(chance)
        ),
    };
    Finding {
        measure: Measure::ProbeAccuracy,
        text: format!("{text}{collapsed}"),
    }
}

/// A probe less than this above chance is at chance.
const AT_CHANCE_WITHIN: f64 = 0.01;

/// The largest share of dead units, or that there are none.
fn dead(axis: &AxisReport) -> Finding {
    let worst = axis
        .points
        .iter()
        .map(|p| (p, p.mean_and_spread(Measure::DeadUnits).0))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let text = match worst {
        Some((p, share)) if share > 0.0 => {
            let dead: Vec<f64> = p.seeds.iter().map(|n| n.dead_units as f64).collect();
            let hidden = p.seeds.first().map_or(0, |n| n.hidden);
            format!(
                "Dead hidden units: the largest share at {} ({}: {:.0} of {hidden}).",
                named(axis.axis, &p.label),
                Measure::DeadUnits.format(share),
                analysis::mean_and_spread(&dead).0
            )
        }
        _ => "No point has a dead hidden unit.".to_string(),
    };
    Finding {
        measure: Measure::DeadUnits,
        text,
    }
}

/// Where `measure` is highest and lowest: `{what} highest at A (x), lowest at B (y)`, or the
/// one value.
fn extremes(axis: &AxisReport, measure: Measure, what: &str) -> Option<Finding> {
    if axis.points.len() < 2 {
        return None;
    }
    let (_, low_value) = lowest(axis, measure);
    let (_, high_value) = highest(axis, measure);
    // Every point that shows the extreme's value (ties named together).
    let at = |value: f64| {
        let shown = measure_text(measure, value);
        let points: Vec<String> = axis
            .points
            .iter()
            .filter(|p| measure_text(measure, p.mean_and_spread(measure).0) == shown)
            .map(|p| named(axis.axis, &p.label))
            .collect();
        and_list(&points)
    };
    let (high, low) = (at(high_value), at(low_value));
    let of = match measure {
        Measure::Brightness => " of the digits'",
        _ => "",
    };
    let (high_text, low_text) = (
        measure_text(measure, high_value),
        measure_text(measure, low_value),
    );
    let text = if high_text == low_text {
        format!("{what} {high_text}{of} at every point.")
    } else {
        format!("{what} highest at {high} ({high_text}{of}), lowest at {low} ({low_text}).")
    };
    Some(Finding { measure, text })
}

fn measure_text(measure: Measure, value: f64) -> String {
    match measure {
        Measure::Brightness => format!("{:.0} %", 100.0 * value),
        _ => measure.format(value),
    }
}

/// The point where `measure`'s mean is lowest, named, and that mean.
fn lowest(axis: &AxisReport, measure: Measure) -> (String, f64) {
    extreme(axis, measure, |a, b| a < b)
}

fn highest(axis: &AxisReport, measure: Measure) -> (String, f64) {
    extreme(axis, measure, |a, b| a > b)
}

fn extreme(axis: &AxisReport, measure: Measure, better: fn(f64, f64) -> bool) -> (String, f64) {
    let mut best: Option<(&PointReport, f64)> = None;
    for p in &axis.points {
        let v = p.mean_and_spread(measure).0;
        // A point without a number (a NaN) is never the extreme.
        if v.is_finite() && best.is_none_or(|(_, b)| better(v, b)) {
            best = Some((p, v));
        }
    }
    best.map_or((String::new(), f64::NAN), |(p, v)| {
        (named(axis.axis, &p.label), v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(diffs: &[f64]) -> Vec<(String, f64)> {
        diffs
            .iter()
            .enumerate()
            .map(|(i, &d)| (format!("p{i}"), d))
            .collect()
    }

    #[test]
    fn a_curve_crosses_its_baseline_once_or_not_at_all() {
        assert_eq!(side(&values(&[-1.0, -2.0]), true), Side::AllBelow);
        assert_eq!(side(&values(&[1.0, 0.0]), true), Side::AllAbove);
        assert_eq!(
            side(&values(&[1.0, 2.0, -1.0, -3.0]), true),
            Side::BelowFrom("p2".into())
        );
        assert_eq!(
            side(&values(&[-1.0, 2.0, 3.0]), true),
            Side::AboveFrom("p1".into())
        );
        assert_eq!(
            side(&values(&[-1.0, 2.0, -3.0]), true),
            Side::BelowAt(vec!["p0".into(), "p2".into()])
        );
        // An unordered axis (dropout placements) has no "from … on".
        assert_eq!(
            side(&values(&[1.0, -1.0]), false),
            Side::BelowAt(vec!["p1".into()])
        );
        let items = |n: usize| (0..n).map(|i| format!("p{i}")).collect::<Vec<_>>();
        assert_eq!(and_list(&items(1)), "p0");
        assert_eq!(and_list(&items(2)), "p0 and p1");
        assert_eq!(and_list(&items(3)), "p0, p1 and p2");
    }

    /// An axis of hidden sizes whose identity ratio and test MSE are given per point.
    fn hidden_axis(points: &[(usize, f64, f64, f64)]) -> AxisReport {
        use crate::sweep::{PointNumbers, PointReport};
        let point =
            |&(hidden, identity_ratio, test_mse, pca_mse): &(usize, f64, f64, f64)| PointReport {
                label: hidden.to_string(),
                position: (hidden as f64).log2(),
                is_base: hidden == 100,
                seeds: vec![PointNumbers {
                    run: format!("h{hidden}"),
                    seed: 0,
                    test_mse,
                    pca_mse,
                    train_loss: test_mse,
                    identity_ratio,
                    constant_ratio: 3.8,
                    w1_structured: 0.5,
                    w2t_structured: 0.5,
                    probe_accuracy: if hidden < 32 { 0.115 } else { 0.9 },
                    dead_units: hidden / 10,
                    hidden,
                    brightness: 1.0,
                    seconds: 1.0,
                }],
            };
        AxisReport {
            id: "case7-hidden-e5-s1".into(),
            machine: String::new(),
            base: 7,
            axis: AxisKind::Hidden,
            epochs: 5,
            train_images: 60000,
            seeds: 1,
            pixel_probe_accuracy: 0.92,
            chance_accuracy: 0.1135,
            points: points.iter().map(point).collect(),
            findings: Vec::new(),
            figures: Vec::new(),
        }
    }

    #[test]
    fn findings_state_where_curves_cross_their_baselines() {
        let axis = hidden_axis(&[
            (16, 3.9, 0.04, 0.03),
            (100, 5.0, 0.01, 0.02),
            (784, 1.5, 0.002, 0.003),
            (1000, 1.2, 0.001, 0.003),
        ]);
        let found = findings(&axis);
        let text = |m: Measure| found.iter().find(|f| f.measure == m).unwrap().text.clone();
        assert_eq!(
            text(Measure::IdentityRatio),
            "The identity test reads: no better than a constant output at 16 units; learned digits at 100 units; copies its input at 784 units and 1000 units (below 2 a network copies; below 4.18, 10 % above a constant output's 3.80, it is no better than a constant output)."
        );
        assert_eq!(
            text(Measure::TestMse),
            "The test MSE is lowest at 1000 units (0.00100) and beats PCA with as many components from 100 units on (PCA with 784 components or more returns its input: the identity map)."
        );
        assert_eq!(
            text(Measure::ProbeAccuracy),
            "A linear probe on the codes stays below the raw pixels' 92.0 % at every point. At 16 units it is at chance (within 1.0 % of 11.3 %, the most common digit's share): the codes say nothing of the digit, the network collapsed."
        );
        assert_eq!(
            text(Measure::DeadUnits),
            "Dead hidden units: the largest share at 1000 units (10.0 %: 100 of 1000)."
        );
        let learned = hidden_axis(&[(16, 9.0, 0.04, 0.03), (100, 5.0, 0.01, 0.02)]);
        let found = findings(&learned);
        assert!(
            found[1]
                .text
                .starts_with("The identity test reads: learned digits at every point ("),
            "{}",
            found[1].text
        );
        let brightness = found
            .iter()
            .find(|f| f.measure == Measure::Brightness)
            .unwrap();
        assert_eq!(
            brightness.text,
            "The output's brightness is 100 % of the digits' at every point."
        );
    }
}
