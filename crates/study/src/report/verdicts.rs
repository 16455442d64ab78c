//! The verdicts on the study's claims, each computed from the numbers it is given: every word of a
//! verdict and of its explanation follows from a number printed beside it and a line stated
//! here, so that no sentence can contradict the numbers.

use analysis::{COPIES_BELOW, IdentityReading, learned_digits_from};

use super::report_data::Verdict;

/// "About 30 %": within ten points of it.
pub const ABOUT_30: (f64, f64) = (0.20, 0.40);

/// "about 30 % (20–40 %)": the words with the band that decides.
fn about_30() -> String {
    format!(
        "about 30 % ({:.0}–{:.0} %)",
        100.0 * ABOUT_30.0,
        100.0 * ABOUT_30.1
    )
}
/// A test error at least this many times the training error is overfitting.
pub const OVERFITS_FROM: f64 = 1.2;
/// Units whose weights moved less than this from their start (median `‖w − w₀‖ / ‖w₀‖`) still
/// hold their random initial values.
pub const KEPT_START_BELOW: f64 = 0.1;
/// Noise-like tiles are "gone" when fewer than this share of the tiles read as noise.
pub const GONE_BELOW: f64 = 0.1;

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
        let line = pct(KEPT_START_BELOW);
        match self.dead_moved {
            _ if dead == 0 => "no unit is dead".to_string(),
            m if m.is_nan() => format!("how far the {dead} dead units moved is unknown"),
            m if m < KEPT_START_BELOW => format!(
                "the {dead} dead units' tiles are still their random start (their w1 moved {} from it, median; under {line} counts as the start)",
                pct(m)
            ),
            m => format!(
                "the {dead} dead units' w1 moved {} from its random start (median; under {line} would count as the start) before they died: a dead unit's w1 gets no gradient",
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
        [] => format!("no measured share is {}", about_30()),
        found => format!("{} are {}", about_30(), found.join(" and ")),
    };
    let explanation = format!("{which}; {}", t.dead_start());
    let verdict = Verdict::judge(
        about(t.structured),
        &format!(
            "{} of the tiles are structured; {explanation}",
            pct(t.structured)
        ),
        &format!(
            "{} of the tiles are structured, not {}; {explanation}",
            pct(t.structured),
            about_30()
        ),
    );
    (numbers, verdict)
}

/// One run's structured share of w1 tiles, all and live only, and of w2ᵀ tiles.
#[derive(Debug, Clone, PartialEq)]
pub struct Structured {
    /// The run.
    pub name: String,
    /// Share of all its w1 tiles structured.
    pub all: f64,
    /// Share of its live units' w1 tiles structured.
    pub live: f64,
    /// Share of all its w2ᵀ tiles structured.
    pub w2t: f64,
    /// Its hidden units.
    pub hidden: usize,
    /// Its dead units whose w1 tile reads as noise.
    pub dead_noise_like: usize,
}

impl Structured {
    /// Its w1 tiles that read as noise (not structured).
    fn noise_like(&self) -> usize {
        ((1.0 - self.all) * self.hidden as f64).round() as usize
    }
}

/// "`more`'s first-layer tiles are more stroke-like than `less`'s", judged on all w1 tiles (the
/// tiles the study describes); the explanation says whether the live units alone and the
/// second layer give the same order.
pub fn more_structured(more: &Structured, less: &Structured) -> (String, Verdict) {
    let numbers = format!(
        "w1 structured: {} {}, {} {}; among live units: {} {}, {} {}; w2ᵀ structured: {} {}, {} {}",
        more.name,
        pct(more.all),
        less.name,
        pct(less.all),
        more.name,
        pct(more.live),
        less.name,
        pct(less.live),
        more.name,
        pct(more.w2t),
        less.name,
        pct(less.w2t)
    );
    let live_order = match (more.live > less.live, more.all > less.all) {
        (true, true) | (false, false) => "the live units alone give the same order",
        (true, false) => "but among live units alone it is more structured",
        (false, true) => "but among live units alone it is not",
    };
    let w2t_order = match (more.w2t > less.w2t) == (more.all > less.all) {
        true => "so do the w2ᵀ tiles".to_string(),
        false => format!(
            "the w2ᵀ tiles give the opposite order ({} {}, {} {})",
            more.name,
            pct(more.w2t),
            less.name,
            pct(less.w2t)
        ),
    };
    let all_agree = (more.live > less.live) && (more.w2t > less.w2t);
    let verdict = match (more.all > less.all, all_agree) {
        (true, true) => Verdict::supported(&format!(
            "supported: {}'s w1 is more structured; {live_order}; {w2t_order}",
            more.name
        )),
        (true, false) => Verdict::partly(&format!(
            "partly supported: {}'s w1 is more structured; {live_order}; {w2t_order}",
            more.name
        )),
        (false, _) => Verdict::not_supported(&format!(
            "not supported: {}'s w1 is at least as structured; {live_order}; {w2t_order}",
            less.name
        )),
    };
    (numbers, verdict)
}

/// "`noisy`'s noise-like tiles are gone in `clean`": fewer of `clean`'s w1 tiles read as noise
/// than of `noisy`'s, and fewer than [`GONE_BELOW`] of them; the explanation says how many of
/// the noise-like tiles that remain are dead units'.
pub fn noise_gone(clean: &Structured, noisy: &Structured) -> (String, Verdict) {
    let (numbers, _) = more_structured(clean, noisy);
    let noise = |s: &Structured| 1.0 - s.all;
    let remaining = format!(
        "{} of {}'s tiles still read as noise, {} of those {} the dead units'",
        pct(noise(clean)),
        clean.name,
        clean.dead_noise_like,
        clean.noise_like()
    );
    let verdict = match (noise(clean) < noise(noisy), noise(clean) < GONE_BELOW) {
        (true, true) => Verdict::supported(&format!(
            "supported: fewer than {} of {}'s w1 tiles read as noise ({}), against {} of {}'s",
            pct(GONE_BELOW),
            clean.name,
            pct(noise(clean)),
            pct(noise(noisy)),
            noisy.name
        )),
        (true, false) => Verdict::partly(&format!(
            "partly supported: fewer of {}'s w1 tiles read as noise than of {}'s ({} against {}), but not gone (under {}): {remaining}",
            clean.name,
            noisy.name,
            pct(noise(clean)),
            pct(noise(noisy)),
            pct(GONE_BELOW)
        )),
        (false, _) => Verdict::not_supported(&format!(
            "not supported: {} of {}'s w1 tiles read as noise, against {} of {}'s",
            pct(noise(clean)),
            clean.name,
            pct(noise(noisy)),
            noisy.name
        )),
    };
    (numbers, verdict)
}

/// One run's errors and identity test, for the claim that case 2 overfits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// MSE of the saved model on training images (no dropout).
    pub train_mse: f64,
    /// Its test MSE (no dropout).
    pub test_mse: f64,
    /// The identity test's noise ÷ digit error.
    pub identity_ratio: f64,
    /// A constant output's ratio on the same images.
    pub constant_ratio: f64,
}

impl Fit {
    fn gap(&self) -> f64 {
        self.test_mse / self.train_mse
    }

    fn overfits(&self) -> bool {
        self.gap() >= OVERFITS_FROM
    }
}

/// "Case 2 overfits: its error is far lower, and dropout in case 1 prevents that": case 2's
/// test error below case 1's, [`OVERFITS_FROM`] times its training error or more (both from
/// the saved model, dropout off), and case 1's under that line. The explanation reads case 2's
/// identity test with its lines, the same in every seed whatever the verdict.
pub fn overfits(case2: &Fit, case1: &Fit) -> (String, Verdict) {
    let (gap2, gap1) = (case2.gap(), case1.gap());
    let numbers = format!(
        "saved model, no dropout: case2 train MSE {:.5}, test MSE {:.5} (test/train {gap2:.2}); case1 train MSE {:.5}, test MSE {:.5} (test/train {gap1:.2}); identity test (noise ÷ digit error): case2 {:.1}, case1 {:.1}",
        case2.train_mse,
        case2.test_mse,
        case1.train_mse,
        case1.test_mse,
        case2.identity_ratio,
        case1.identity_ratio
    );
    let reading = match IdentityReading::of(case2.identity_ratio, case2.constant_ratio) {
        IdentityReading::Copies => "case2's low error is a copy of its input",
        IdentityReading::LikeAConstant => "case2 is no better than a constant output",
        IdentityReading::LearnedDigits => "case2's low error is not a copy: it learned digits",
    };
    let why = format!(
        "{reading} (noise ÷ digit error {:.1}: below {COPIES_BELOW} copies, below {:.2} is no better than a constant output)",
        case2.identity_ratio,
        learned_digits_from(case2.constant_ratio)
    );
    let mut against = Vec::new();
    if case2.test_mse >= case1.test_mse {
        against.push("case2's test error is not below case1's".to_string());
    }
    if !case2.overfits() {
        against.push(format!(
            "case2's test error is {gap2:.2}× its training error, below the {OVERFITS_FROM}× of overfitting"
        ));
    }
    if case1.overfits() {
        against.push(format!(
            "case1 overfits too ({gap1:.2}×): dropout does not prevent it"
        ));
    }
    let verdict = Verdict::judge(
        against.is_empty(),
        &format!(
            "case2's test error is {gap2:.2}× its training error ({OVERFITS_FROM}× or more is overfitting), case1's {gap1:.2}×; {why}"
        ),
        &format!("{}; {why}", against.join("; ")),
    );
    (numbers, verdict.sharing(reading))
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

/// "Case 7's features show in the second layer; the first's are somewhat faint, faint dots": the
/// roughness measure can judge the first part (the second layer's tiles smoother than the
/// first's), not faintness (it does not depend on a tile's scale), so at best it is partly
/// supported.
pub fn second_layer(l: &Layers) -> (String, Verdict) {
    let numbers = format!(
        "case7 median structure ratio (lower = smoother): w2ᵀ {:.2}, w1 {:.2}; structured: w2ᵀ {}, w1 {}",
        l.w2t_median,
        l.w1_median,
        pct(l.w2t_structured),
        pct(l.w1_structured)
    );
    let first = format!(
        "{} of the w1 tiles are structured too; how faint they are, the measure (blind to a tile's scale) cannot say",
        pct(l.w1_structured)
    );
    let verdict = match l.w2t_median < l.w1_median {
        true => Verdict::partly(&format!(
            "partly supported: w2ᵀ is smoother than w1; {first}"
        )),
        false => Verdict::not_supported(&format!(
            "not supported: w1 is at least as smooth as w2ᵀ; {first}"
        )),
    };
    (numbers, verdict)
}

/// Case 7's errors against its baselines on the same noised inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Baselines {
    /// Its hidden units.
    pub hidden: usize,
    /// Its test MSE.
    pub test_mse: f64,
    /// PCA with as many components.
    pub pca_mse: f64,
    /// The noised input returned unchanged.
    pub identity_mse: f64,
}

/// "Case 7 is the most efficient: a faithful reconstruction with only 100 units": faithful when
/// it beats PCA with as many components and leaving the noise in; "the most efficient" of the
/// cases is not a measured quantity here, so at best it is partly supported.
pub fn faithful(b: &Baselines) -> Verdict {
    let beats = b.test_mse < b.pca_mse && b.test_mse < b.identity_mse;
    match beats {
        true => Verdict::partly(&format!(
            "partly supported: faithful with {} units, beating PCA with as many components and leaving the noise in; 'the most efficient' of the cases is not measured here",
            b.hidden
        )),
        false => Verdict::not_supported(
            "not supported: it does not beat both PCA with as many components and leaving the noise in",
        ),
    }
}

/// "`name` overfits": its test error [`OVERFITS_FROM`] times its training error or more.
pub fn overfits_alone(name: &str, fit: &Fit) -> (String, Verdict) {
    let gap = fit.gap();
    let numbers = format!(
        "saved model, no dropout: {name} train MSE {:.5}, test MSE {:.5} (test/train {gap:.2})",
        fit.train_mse, fit.test_mse
    );
    let verdict = Verdict::judge(
        fit.overfits(),
        &format!(
            "{name}'s test error is {gap:.2}× its training error ({OVERFITS_FROM}× or more is overfitting)"
        ),
        &format!(
            "{name}'s test error is {gap:.2}× its training error, below the {OVERFITS_FROM}× of overfitting"
        ),
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
            v.text
                .contains("about 30 % (20–40 %) are the live units (32.2 %)"),
            "{v}"
        );
        assert!(
            v.text.contains(
                "678 dead units' tiles are still their random start (their w1 moved 5.0 % from it, median; under 10.0 % counts as the start)"
            ),
            "{v}"
        );
        let (_, v) = thirty_percent(&tiles(900, 0.31, 0.5));
        assert_eq!(v.kind, VerdictKind::Supported);
        assert!(
            v.text.contains("the structured tiles (31.0 %)")
                && v.text.contains("w1 moved 50.0 % from its random start")
                && v.text.contains("before they died"),
            "{v}"
        );
        let (_, v) = thirty_percent(&tiles(1000, 0.9, f64::NAN));
        assert!(
            v.text.contains("no measured share is about 30 % (20–40 %)")
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
            train_mse: 0.044,
            test_mse: 0.044,
            identity_ratio: 7.3,
            constant_ratio: 3.8,
        };
        let learned = Fit {
            train_mse: 0.00033,
            test_mse: 0.00034,
            identity_ratio: 550.0,
            constant_ratio: 3.8,
        };
        let (numbers, v) = overfits(&learned, &case1);
        assert_eq!(v.kind, VerdictKind::NotSupported);
        assert!(v.text.contains("not a copy: it learned digits"), "{v}");
        assert!(
            v.text.contains("1.03× its training error, below the 1.2×"),
            "{v}"
        );
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
        let constant = Fit {
            identity_ratio: 3.9,
            ..learned
        };
        assert!(
            overfits(&constant, &case1)
                .1
                .text
                .contains("no better than a constant output")
        );
        let overfitting = Fit {
            test_mse: 0.00066,
            ..learned
        };
        let (_, v) = overfits(&overfitting, &case1);
        assert_eq!(v.kind, VerdictKind::Supported, "{v}");
        // Whatever the verdict, the identity reading is shared.
        assert_eq!(
            v.shared.as_deref(),
            overfits(&learned, &case1).1.shared.as_deref()
        );
        let edge = Fit {
            test_mse: 1.2 * learned.train_mse,
            ..learned
        };
        assert_eq!(overfits(&edge, &case1).1.kind, VerdictKind::Supported);
        // Case 1 overfitting as well: dropout does not prevent it.
        let case1_overfits = Fit {
            test_mse: 0.06,
            ..case1
        };
        let (_, v) = overfits(&overfitting, &case1_overfits);
        assert_eq!(v.kind, VerdictKind::NotSupported);
        assert!(v.text.contains("case1 overfits too (1.36×)"), "{v}");
    }

    #[test]
    fn comparisons_and_layers_say_what_their_numbers_say() {
        let a = Structured {
            name: "case1".into(),
            all: 0.1,
            live: 0.3,
            w2t: 0.5,
            hidden: 1000,
            dead_noise_like: 600,
        };
        let b = Structured {
            name: "case2".into(),
            all: 0.2,
            live: 0.2,
            w2t: 0.4,
            ..a.clone()
        };
        let (_, v) = more_structured(&a, &b);
        assert_eq!(v.kind, VerdictKind::NotSupported);
        assert!(
            v.text.contains(
                "case2's w1 is at least as structured; but among live units alone it is more structured; the w2ᵀ tiles give the opposite order (case1 50.0 %, case2 40.0 %)"
            ),
            "{v}"
        );
        // The w1 order holds, the live units' and w2ᵀ's do not: partly.
        let (_, v) = more_structured(&b, &a);
        assert_eq!(v.kind, VerdictKind::Partly);
        assert!(
            v.text.contains(
                "partly supported: case2's w1 is more structured; but among live units alone it is not; the w2ᵀ tiles give the opposite order"
            ),
            "{v}"
        );
        let all_three = Structured {
            live: 0.4,
            w2t: 0.6,
            ..b.clone()
        };
        let (_, v) = more_structured(&all_three, &a);
        assert_eq!(v.kind, VerdictKind::Supported);
        assert!(v.text.ends_with("so do the w2ᵀ tiles"), "{v}");
        let layers = Layers {
            w1_median: 0.6,
            w2t_median: 0.3,
            w1_structured: 1.0,
            w2t_structured: 0.9,
        };
        let (_, v) = second_layer(&layers);
        assert_eq!(v.kind, VerdictKind::Partly);
        assert!(
            v.text
                .contains("w2ᵀ is smoother than w1; 100.0 % of the w1 tiles are structured too"),
            "{v}"
        );
        let rougher = Layers {
            w2t_median: 0.7,
            ..layers
        };
        assert_eq!(second_layer(&rougher).1.kind, VerdictKind::NotSupported);
    }

    #[test]
    fn noise_is_gone_below_its_line_and_partly_gone_when_only_fewer() {
        let noisy = Structured {
            name: "case3".into(),
            all: 0.14,
            live: 0.4,
            w2t: 0.17,
            hidden: 400,
            dead_noise_like: 286,
        };
        let fewer = Structured {
            name: "case4".into(),
            all: 0.55,
            live: 0.88,
            w2t: 0.53,
            hidden: 400,
            dead_noise_like: 151,
        };
        let (_, v) = noise_gone(&fewer, &noisy);
        assert_eq!(v.kind, VerdictKind::Partly);
        assert!(
            v.text.contains(
                "45.0 % of case4's tiles still read as noise, 151 of those 180 the dead units'"
            ),
            "{v}"
        );
        let gone = Structured {
            all: 0.95,
            ..fewer.clone()
        };
        assert_eq!(noise_gone(&gone, &noisy).1.kind, VerdictKind::Supported);
        // Just over the line of "gone" (11 % noise-like): fewer, not gone.
        let edge = Structured {
            all: 0.89,
            ..fewer.clone()
        };
        assert_eq!(noise_gone(&edge, &noisy).1.kind, VerdictKind::Partly);
        assert_eq!(noise_gone(&noisy, &fewer).1.kind, VerdictKind::NotSupported);
    }

    #[test]
    fn faithful_and_overfitting_alone_are_read_from_their_errors() {
        let b = Baselines {
            hidden: 100,
            test_mse: 0.0115,
            pca_mse: 0.015,
            identity_mse: 0.0227,
        };
        assert_eq!(faithful(&b).kind, VerdictKind::Partly);
        let worse = Baselines {
            test_mse: 0.016,
            ..b
        };
        assert_eq!(faithful(&worse).kind, VerdictKind::NotSupported);
        let fit = Fit {
            train_mse: 0.002,
            test_mse: 0.0021,
            identity_ratio: 90.0,
            constant_ratio: 3.8,
        };
        let (_, v) = overfits_alone("case4", &fit);
        assert_eq!(v.kind, VerdictKind::NotSupported);
        assert!(
            v.text.contains("1.05× its training error, below the 1.2×"),
            "{v}"
        );
        let over = Fit {
            test_mse: 0.0024,
            ..fit
        };
        assert_eq!(
            overfits_alone("case4", &over).1.kind,
            VerdictKind::Supported
        );
    }
}
