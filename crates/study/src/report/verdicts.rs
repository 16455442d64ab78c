//! The verdicts on the study's claims, each computed from the numbers it is given: every word of a
//! verdict and of its explanation follows from a number printed beside it and a line stated
//! here, so that no sentence can contradict the numbers.

use analysis::IdentityReading;

use super::report_data::Verdict;

/// "About 30 %": within ten points of it.
pub const ABOUT_30: (f64, f64) = (0.20, 0.40);
/// A test error at least this many times the training error is overfitting.
pub const OVERFITS_FROM: f64 = 1.2;
/// Units whose weights moved less than this from their start (median `‖w − w₀‖ / ‖w₀‖`) still
/// hold their random initial values.
pub const KEPT_START_BELOW: f64 = 0.1;
/// "Hardly" structured: fewer than this share of the tiles.
pub const HARDLY_BELOW: f64 = 0.2;

/// A share as the report prints it: `32.2 %`.
pub fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

/// The first layer's tiles of one run, live and dead units apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tiles {
    /// Hidden units.
    pub hidden: usize,
    /// Units active on at least one test image.
    pub live: usize,
    /// Share of all w1 tiles counted as structured.
    pub structured: f64,
    /// The same among the live units' tiles.
    pub structured_live: f64,
    /// The same among the dead units' tiles.
    pub structured_dead: f64,
    /// Median relative change of the dead units' w1 weights from their start (NaN if unknown).
    pub dead_moved: f64,
    /// The same of the live units'.
    pub live_moved: f64,
}

impl Tiles {
    fn live_share(&self) -> f64 {
        self.live as f64 / self.hidden.max(1) as f64
    }

    /// What became of the dead units' weights, from how far they moved.
    fn dead_start(&self) -> String {
        let dead = self.hidden - self.live;
        match self.dead_moved {
            _ if dead == 0 => "no unit is dead".to_string(),
            m if m.is_nan() => format!("how far the {dead} dead units moved is unknown"),
            m if m < KEPT_START_BELOW => format!(
                "the {dead} dead units' tiles are still their random start (median change {})",
                pct(m)
            ),
            m => format!(
                "the {dead} dead units moved from their start (median change {})",
                pct(m)
            ),
        }
    }
}

/// The study's "about 30 % of case 1's first-layer tiles show pen strokes, 70 % look like noise",
/// judged on the structured share of all tiles; the explanation says which measured share is
/// about 30 %: the live units', the structured tiles', or neither.
pub fn thirty_percent(t: &Tiles) -> (String, Verdict) {
    let about = |x: f64| (ABOUT_30.0..=ABOUT_30.1).contains(&x);
    let shares = [
        ("the live units", t.live_share()),
        ("the structured tiles", t.structured),
        (
            "the structured tiles among the live units",
            t.structured_live,
        ),
    ];
    let matching: Vec<String> = shares
        .iter()
        .filter(|(_, x)| about(*x))
        .map(|(what, x)| format!("{what} ({})", pct(*x)))
        .collect();
    let numbers = format!(
        "case1 w1 structured: {} of all tiles; {} of {} units live ({}); structured among live {}, among dead {}; median change from the start: live {}, dead {}",
        pct(t.structured),
        t.live,
        t.hidden,
        pct(t.live_share()),
        pct(t.structured_live),
        pct(t.structured_dead),
        pct(t.live_moved),
        pct(t.dead_moved),
    );
    let which = match matching.as_slice() {
        [] => "no measured share is about 30 %".to_string(),
        found => format!("about 30 % are {}", found.join(" and ")),
    };
    let explanation = format!("{which}; {}", t.dead_start());
    let verdict = Verdict::judge(
        about(t.structured),
        &format!(
            "{} of the tiles are structured; {explanation}",
            pct(t.structured)
        ),
        &format!(
            "{} of the tiles are structured, not about 30 %; {explanation}",
            pct(t.structured)
        ),
    );
    (numbers, verdict)
}

/// One run's structured share of w1 tiles, all and live only.
#[derive(Debug, Clone, PartialEq)]
pub struct Structured {
    /// The run.
    pub name: String,
    /// Share of all its w1 tiles structured.
    pub all: f64,
    /// Share of its live units' w1 tiles structured.
    pub live: f64,
}

/// "`more`'s first-layer tiles are more stroke-like than `less`'s", judged on all tiles; the
/// explanation says whether the live units alone give the same order.
pub fn more_structured(more: &Structured, less: &Structured) -> (String, Verdict) {
    let numbers = format!(
        "w1 structured: {} {}, {} {}; among live units: {} {}, {} {}",
        more.name,
        pct(more.all),
        less.name,
        pct(less.all),
        more.name,
        pct(more.live),
        less.name,
        pct(less.live)
    );
    let live_order = match (more.live > less.live, more.all > less.all) {
        (true, true) | (false, false) => "the live units alone give the same order",
        (true, false) => "but among live units alone it is more structured",
        (false, true) => "but among live units alone it is not",
    };
    let verdict = Verdict::judge(
        more.all > less.all,
        &format!("{} is more structured; {live_order}", more.name),
        &format!("{} is at least as structured; {live_order}", less.name),
    );
    (numbers, verdict)
}

/// One run's errors and identity test, for the claim that case 2 overfits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// Final training loss.
    pub train_loss: f64,
    /// Test MSE.
    pub test_mse: f64,
    /// The identity test's noise ÷ digit error.
    pub identity_ratio: f64,
}

/// "Case 2 overfits: its error is far lower, and dropout in case 1 prevents that": overfitting
/// is a test error [`OVERFITS_FROM`] times the training error or more; the explanation reads
/// the identity test with its one line, [`analysis::COPIES_BELOW`].
pub fn overfits(case2: &Fit, case1: &Fit) -> (String, Verdict) {
    let gap = case2.test_mse / case2.train_loss;
    let reading = IdentityReading::of(case2.identity_ratio);
    let numbers = format!(
        "case2 train loss {:.5} vs test MSE {:.5} (test/train {gap:.2}); case1 test MSE {:.5}; identity test (noise ÷ digit error): case2 {:.1}, case1 {:.1}",
        case2.train_loss,
        case2.test_mse,
        case1.test_mse,
        case2.identity_ratio,
        case1.identity_ratio
    );
    let low = match reading {
        IdentityReading::Copies => "its low error is a copy of its input",
        IdentityReading::LearnedDigits => "its low error is not a copy: it learned digits",
    };
    let why = format!(
        "{low} (noise ÷ digit error {:.1}; copying is below {})",
        case2.identity_ratio,
        analysis::COPIES_BELOW
    );
    let verdict = Verdict::judge(
        gap >= OVERFITS_FROM,
        &format!(
            "test error {gap:.2}× the training error ({OVERFITS_FROM}× or more is overfitting); {why}"
        ),
        &format!(
            "the test error is {gap:.2}× the training error, below the {OVERFITS_FROM}× of overfitting; {why}"
        ),
    );
    (numbers, verdict)
}

/// Structure of both layers of one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layers {
    /// Median structure ratio of the w1 tiles (lower = smoother).
    pub w1_median: f64,
    /// The same of the w2ᵀ tiles.
    pub w2t_median: f64,
    /// Share of w1 tiles structured.
    pub w1_structured: f64,
    /// Share of w2ᵀ tiles structured.
    pub w2t_structured: f64,
}

/// "Case 7's features show in the second layer, hardly in the first": the second layer's tiles
/// smoother than the first's, and fewer than [`HARDLY_BELOW`] of the first's structured.
pub fn second_layer(l: &Layers) -> (String, Verdict) {
    let numbers = format!(
        "case7 median structure ratio (lower = smoother): w2ᵀ {:.2}, w1 {:.2}; structured: w2ᵀ {}, w1 {}",
        l.w2t_median,
        l.w1_median,
        pct(l.w2t_structured),
        pct(l.w1_structured)
    );
    let smoother = match l.w2t_median < l.w1_median {
        true => "w2ᵀ is smoother than w1",
        false => "w1 is at least as smooth as w2ᵀ",
    };
    let hardly = l.w1_structured < HARDLY_BELOW;
    let first = match hardly {
        true => format!(
            "fewer than {} of the w1 tiles are structured",
            pct(HARDLY_BELOW)
        ),
        false => format!(
            "{} of the w1 tiles are structured, not 'hardly'",
            pct(l.w1_structured)
        ),
    };
    let verdict = Verdict::judge(
        l.w2t_median < l.w1_median && hardly,
        &format!("{smoother} and {first}"),
        &format!("{smoother}; {first}"),
    );
    (numbers, verdict)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::report_data::VerdictKind;

    fn tiles(live: usize, structured: f64, dead_moved: f64) -> Tiles {
        Tiles {
            hidden: 1000,
            live,
            structured,
            structured_live: structured * 1000.0 / live as f64,
            structured_dead: 0.0,
            dead_moved,
            live_moved: 1.05,
        }
    }

    #[test]
    fn thirty_percent_is_judged_on_the_tiles_and_explained_by_the_share_that_matches() {
        let (_, v) = thirty_percent(&tiles(322, 0.0, 0.05));
        assert_eq!(v.kind, VerdictKind::NotSupported);
        assert!(
            v.text.contains("about 30 % are the live units (32.2 %)"),
            "{v}"
        );
        assert!(
            v.text.contains(
                "678 dead units' tiles are still their random start (median change 5.0 %)"
            ),
            "{v}"
        );
        let (_, v) = thirty_percent(&tiles(900, 0.31, 0.5));
        assert_eq!(v.kind, VerdictKind::Supported);
        assert!(
            v.text.contains("the structured tiles (31.0 %)")
                && v.text.contains("moved from their start"),
            "{v}"
        );
        let (_, v) = thirty_percent(&tiles(1000, 0.9, f64::NAN));
        assert!(
            v.text.contains("no measured share is about 30 %")
                && v.text.contains("no unit is dead"),
            "{v}"
        );
        // The edges of "about 30 %".
        assert_eq!(
            thirty_percent(&tiles(1000, 0.199, 0.0)).1.kind,
            VerdictKind::NotSupported
        );
        assert_eq!(
            thirty_percent(&tiles(1000, 0.2, 0.0)).1.kind,
            VerdictKind::Supported
        );
        assert_eq!(
            thirty_percent(&tiles(1000, 0.401, 0.0)).1.kind,
            VerdictKind::NotSupported
        );
    }

    #[test]
    fn copying_and_overfitting_are_read_from_their_ratios() {
        let case1 = Fit {
            train_loss: 0.068,
            test_mse: 0.044,
            identity_ratio: 7.3,
        };
        let learned = Fit {
            train_loss: 0.00033,
            test_mse: 0.00034,
            identity_ratio: 550.0,
        };
        let (numbers, v) = overfits(&learned, &case1);
        assert_eq!(v.kind, VerdictKind::NotSupported);
        assert!(v.text.contains("not a copy: it learned digits"), "{v}");
        assert!(!v.text.contains("a copy of its input"), "{v}");
        assert!(numbers.contains("case2 550.0"), "{numbers}");
        let copying = Fit {
            identity_ratio: 1.1,
            ..learned
        };
        assert!(
            overfits(&copying, &case1)
                .1
                .text
                .contains("a copy of its input")
        );
        let overfitting = Fit {
            test_mse: 0.00066,
            ..learned
        };
        assert_eq!(
            overfits(&overfitting, &case1).1.kind,
            VerdictKind::Supported
        );
        let edge = Fit {
            test_mse: 1.2 * learned.train_loss,
            ..learned
        };
        assert_eq!(overfits(&edge, &case1).1.kind, VerdictKind::Supported);
    }

    #[test]
    fn comparisons_and_layers_say_what_their_numbers_say() {
        let a = Structured {
            name: "case1".into(),
            all: 0.1,
            live: 0.3,
        };
        let b = Structured {
            name: "case2".into(),
            all: 0.2,
            live: 0.2,
        };
        let (_, v) = more_structured(&a, &b);
        assert_eq!(v.kind, VerdictKind::NotSupported);
        assert!(
            v.text.contains(
                "case2 is at least as structured; but among live units alone it is more structured"
            ),
            "{v}"
        );
        let (_, v) = more_structured(&b, &a);
        assert!(
            v.text
                .contains("case2 is more structured; but among live units alone it is not"),
            "{v}"
        );
        let layers = Layers {
            w1_median: 0.6,
            w2t_median: 0.3,
            w1_structured: 0.1,
            w2t_structured: 0.9,
        };
        assert_eq!(second_layer(&layers).1.kind, VerdictKind::Supported);
        let both = Layers {
            w1_structured: 1.0,
            ..layers
        };
        let (_, v) = second_layer(&both);
        assert_eq!(v.kind, VerdictKind::NotSupported);
        assert!(
            v.text.contains(
                "w2ᵀ is smoother than w1; 100.0 % of the w1 tiles are structured, not 'hardly'"
            ),
            "{v}"
        );
    }
}
