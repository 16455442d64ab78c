//! The report's sections on what the weights hold: the identity test (copying or digits) and the
//! filter structure, calibrated on tiles of known nature, live and dead units apart.

use study::analysis::{
    ACTIVE_PIXEL_SHARE, CALIBRATION_COMPONENTS, CONSTANT_WITHIN, COPIES_BELOW,
    IDENTITY_TEST_IMAGES, KnownTiles, NOISE_BELOW_THRESHOLD, mean_and_spread,
};
use study::report::{CaseReport, Report};

use super::markdown::{Page, across, mse, pct, per_case, primary, ratio1, ratio2};

/// Section 4: the identity test, each run's reading of it from its ratio and the one line.
pub fn identity_test(report: &Report, page: &mut Page) {
    page.heading("4. Identity test: features or copying?");
    let constants: Vec<f64> = report
        .cases
        .iter()
        .map(|c| c.numbers.constant_ratio())
        .collect();
    let (constant, _) = mean_and_spread(&constants);
    page.text(&format!(
        "Reconstruction MSE (input = target, no dropout) on {IDENTITY_TEST_IMAGES} clean test digits, on as many uniform-noise images and on the same digits with each image's pixels shuffled. A network that copies its input reconstructs anything about as well as digits: its noise ÷ digit error is near 1. A network that ignores its input is no better: a constant output (the training mean image) has a ratio of its own on the same images, {constant:.2}, measured beside every run. **The lines: below {COPIES_BELOW} it copies; below {:.0} % above the constant output's ratio it is no better than a constant output; from there on it learned what digits look like** (the same lines in the sweeps). The reading is seed 0's; the ratio's mean ± sd covers every seed.",
        100.0 * CONSTANT_WITHIN
    ));
    let headers = [
        "run",
        "digits",
        "uniform noise",
        "shuffled digits",
        "noise / digits",
        "shuffled / digits",
        "constant output's noise / digits",
        "reading",
    ];
    let rows = per_case(report, |c| {
        vec![
            c.name.clone(),
            across(report, c, |c| c.numbers.digit_mse, mse),
            across(report, c, |c| c.numbers.noise_mse, mse),
            across(report, c, |c| c.numbers.shuffled_mse, mse),
            across(report, c, |c| c.numbers.identity_ratio(), ratio1),
            across(
                report,
                c,
                |c| c.numbers.shuffled_mse / c.numbers.digit_mse,
                ratio1,
            ),
            ratio2(c.numbers.constant_ratio()),
            c.numbers.identity_reading().short().to_string(),
        ]
    });
    page.table(&headers, &rows);
}

/// Section 5: the calibration, the structure of both layers, and live and dead units apart.
pub fn filter_structure(report: &Report, page: &mut Page) {
    page.heading("5. Filter structure");
    let c = &report.calibration;
    let known = |k: &KnownTiles, what: &str| {
        format!(
            "{} of {} {what} (median ratio {})",
            pct(k.structured_fraction),
            k.tiles,
            ratio2(k.median_ratio)
        )
    };
    page.text(&format!(
        "For each unit's 28×28 tile: its roughness (mean squared difference of neighbouring pixels) divided by the expected roughness of the same values shuffled: ≈ 1 for noise, near 0 for smooth strokes or blobs. Only the {} pixels lit in at least {} % of the training images count (the first layer's weights from the others hardly train and keep their random start; the second layer's weights to them only learn to output nothing there). The ratio does not depend on a tile's scale, so one threshold serves both layers. **Calibration**: a tile counts as structured below **{:.3}**, the ratio that only {} of tiles known to be noise fall below — the initial w1 and w2ᵀ tiles of case 1 (seed 0), drawn as every run draws them. Below it fall {}, {} and {}; of noise that did not set it (the same tiles of seed 1), {}.",
        report.active_pixels,
        100.0 * ACTIVE_PIXEL_SHARE,
        c.threshold,
        pct(NOISE_BELOW_THRESHOLD),
        known(&c.noise, "noise tiles"),
        known(&c.components, &format!("principal components 1–{CALIBRATION_COMPONENTS} of the training digits")),
        known(&c.digits, "test digits"),
        known(&c.held_out, "tiles"),
    ));
    page.figures(&[(
        "structure-calibration.png".into(),
        "the structure ratio of tiles known to be noise (the initial weights) and known to be structured (principal components of the digits, the digits), with the threshold".into(),
    )]);
    let rows = per_case(report, |c| {
        vec![
            c.name.clone(),
            across(report, c, |c| c.numbers.w1.median_ratio, ratio2),
            across(report, c, |c| c.numbers.w1.structured_fraction, pct),
            across(report, c, |c| c.numbers.w2t.median_ratio, ratio2),
            across(report, c, |c| c.numbers.w2t.structured_fraction, pct),
        ]
    });
    let headers = [
        "run",
        "w1 median ratio",
        "w1 structured",
        "w2ᵀ median ratio",
        "w2ᵀ structured",
    ];
    page.table(&headers, &rows);
    live_and_dead(report, page);
}

/// The live and dead units apart: how many, how structured, how far they moved from the start.
fn live_and_dead(report: &Report, page: &mut Page) {
    page.text("**Live and dead units apart.** A unit is dead when its code is above 0 on no test image (a ReLU unit can die; a Sigmoid unit cannot). How far a unit moved is the median over the group of ‖w − w₀‖ ÷ ‖w₀‖ of its 784 weights, against the initial weights its run's seed gives (recomputed exactly for runs trained on flex). The numbers are seed 0's.");
    let rows: Vec<Vec<String>> = primary(report)
        .map(|c| {
            let u = &c.numbers.units;
            let group = |g: &study::analysis::UnitGroup,
                         f: fn(&study::analysis::UnitGroup) -> String| {
                if g.units == 0 {
                    "–".to_string()
                } else {
                    f(g)
                }
            };
            vec![
                c.name.clone(),
                format!("{} / {}", u.live.units, u.dead.units),
                group(&u.live, |g| pct(g.w1.structured_fraction)),
                group(&u.dead, |g| pct(g.w1.structured_fraction)),
                group(&u.live, |g| pct(g.w2t.structured_fraction)),
                group(&u.dead, |g| pct(g.w2t.structured_fraction)),
                group(&u.live, |g| {
                    format!("{} / {}", moved(g.w1_moved), moved(g.w2t_moved))
                }),
                group(&u.dead, |g| {
                    format!("{} / {}", moved(g.w1_moved), moved(g.w2t_moved))
                }),
            ]
        })
        .collect();
    let headers = [
        "run",
        "live / dead",
        "w1 structured, live",
        "w1 structured, dead",
        "w2ᵀ structured, live",
        "w2ᵀ structured, dead",
        "w1 / w2ᵀ moved, live",
        "w1 / w2ᵀ moved, dead",
    ];
    page.table(&headers, &rows);
    let figures: Vec<(String, String)> = primary(report)
        .filter_map(|c| structure_figure(c))
        .collect();
    page.figures(&figures);
}

/// A run's live and dead structure figure, with its caption.
fn structure_figure(c: &CaseReport) -> Option<(String, String)> {
    let path = c.figures.iter().find(|f| f.ends_with("/structure.png"))?;
    let caption = format!(
        "{}: structure ratios of the w1 tiles of its live and dead units, beside noise",
        c.name
    );
    Some((path.clone(), caption))
}

/// A relative change as a percentage, or `unknown`.
fn moved(x: f64) -> String {
    if x.is_nan() { "unknown".into() } else { pct(x) }
}
