//! The study's claims against the report's numbers, judged on every seed: each seed's runs are
//! judged alone, and a verdict holds only where every seed gives it.

use analysis::mean_and_spread;

use super::report_data::{
    CaseReport, Claim, Combined, Report, SeedVerdict, Topic, Verdict, VerdictKind,
};
use super::verdicts::{self, Baselines, Fit, Layers, Structured, Tiles};

/// Every claim of the study judged on every seed of `report`: each seed's runs are judged alone
/// (as a report of that seed), and the verdicts combined.
pub fn claims(report: &Report) -> Vec<Claim> {
    let mut seeds: Vec<u64> = report.cases.iter().map(|c| c.seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    let mut claims: Vec<(Topic, String, String, Vec<SeedVerdict>)> = Vec::new();
    for &seed in &seeds {
        for (topic, (claim, numbers, verdict)) in seed_claims(&seed_view(report, seed)) {
            let judged = SeedVerdict {
                seed,
                numbers: numbers.clone(),
                verdict,
            };
            match claims.iter_mut().find(|c| c.1 == claim) {
                Some(c) => c.3.push(judged),
                None => claims.push((topic, claim, numbers, vec![judged])),
            }
        }
    }
    claims
        .into_iter()
        .map(|(topic, claim, numbers, judged)| Claim {
            topic,
            claim,
            numbers,
            verdict: combined(&judged, seeds.len()),
            seeds: judged,
            sweep: Vec::new(),
        })
        .collect()
}

/// The report as a report of one seed: its runs under their runs' names.
fn seed_view(report: &Report, seed: u64) -> Report {
    let mut view = report.clone();
    if seed != 0 {
        // The fine-tuning comparison runs once, from seed 0's case 1, with seeds of its own.
        view.fine_tune = None;
    }
    view.cases = report
        .cases
        .iter()
        .filter(|c| c.seed == seed)
        .map(|c| CaseReport {
            name: c.run.clone(),
            ..c.clone()
        })
        .collect();
    view
}

/// One verdict for all seeds (`all` of them): the first seed's where every seed agrees in kind,
/// mixed otherwise; a claim judged once keeps its verdict, and a note stays a note.
fn combined(seeds: &[SeedVerdict], all: usize) -> Combined {
    let first = &seeds[0].verdict;
    if seeds.len() == 1 || first.kind == VerdictKind::Note {
        return Combined::Single(first.clone());
    }
    if seeds.iter().all(|s| s.verdict.kind == first.kind) {
        Combined::Agreed {
            verdict: first.clone(),
            seeds: seeds.len(),
            of: all,
        }
    } else {
        let count = |kind| seeds.iter().filter(|s| s.verdict.kind == kind).count();
        let shared = first.shared.clone();
        let alike = seeds.iter().all(|s| s.verdict.shared == shared);
        Combined::Mixed {
            supported: count(VerdictKind::Supported),
            partly: count(VerdictKind::Partly),
            of: seeds.len(),
            shared: shared.filter(|_| alike),
        }
    }
}

/// A claim, the numbers that bear on it, and its verdict.
type Judged = (String, String, Verdict);

/// Every claim of the study, judged on a report of one seed (a claim whose runs are missing is
/// left out).
fn seed_claims(report: &Report) -> Vec<(Topic, Judged)> {
    let mut rows: Vec<(Topic, Judged)> = Vec::new();
    rows.extend(case1_strokes(report).map(|j| (Topic::Strokes, j)));
    rows.extend(case2_overfits(report).map(|j| (Topic::Copying, j)));
    rows.extend(case4_overfits(report).map(|j| (Topic::Copying, j)));
    rows.extend(structure_comparisons(report));
    rows.extend(case7_claims(report));
    rows.extend(fine_tuning(report).map(|j| (Topic::FineTuning, j)));
    rows.extend(output_dropout(report).map(|j| (Topic::OutputDropout, j)));
    rows
}

fn case<'a>(report: &'a Report, name: &str) -> Option<&'a CaseReport> {
    report.cases.iter().find(|c| c.name == name)
}

fn mse(x: f64) -> String {
    format!("{x:.5}")
}

/// A run's first-layer structure, all tiles and the live units' alone.
fn structured(report: &Report, name: &str) -> Option<Structured> {
    let c = case(report, name)?;
    Some(Structured {
        name: name.to_string(),
        all: c.numbers.w1.structured_fraction,
        live: c.numbers.units.live.w1.structured_fraction,
        w2t: c.numbers.w2t.structured_fraction,
        hidden: c.hidden,
        dead_noise_like: {
            let dead = &c.numbers.units.dead;
            ((1.0 - dead.w1.structured_fraction) * dead.units as f64).round() as usize
        },
    })
}

fn case1_strokes(report: &Report) -> Option<Judged> {
    let c = case(report, "case1")?;
    let units = &c.numbers.units;
    let tiles = Tiles {
        hidden: c.hidden,
        live: units.live.units,
        structured: c.numbers.w1.structured_fraction,
        structured_live: units.live.w1.structured_fraction,
        structured_dead: units.dead.w1.structured_fraction,
        dead_moved: units.dead.w1_moved,
        live_moved: units.live.w1_moved,
    };
    let (numbers, verdict) = verdicts::thirty_percent(&tiles);
    Some((
        "Case 1: about 30 % of the first-layer tiles show pen strokes, 70 % look like noise."
            .into(),
        numbers,
        verdict,
    ))
}

/// A run's training and test errors and identity test.
fn fit(c: &CaseReport) -> Fit {
    Fit {
        train_mse: c.numbers.train_mse,
        test_mse: c.numbers.test_mse,
        identity_ratio: c.numbers.identity_ratio(),
        constant_ratio: c.numbers.constant_ratio(),
    }
}

/// The study: case 4 "seems to overfit too" ("やはり過学習気味").
fn case4_overfits(report: &Report) -> Option<Judged> {
    let (numbers, verdict) = verdicts::overfits_alone("case4", &fit(case(report, "case4")?));
    Some((
        "Case 4 (400 units, no dropout) overfits too, its error very low.".into(),
        numbers,
        verdict,
    ))
}

fn case2_overfits(report: &Report) -> Option<Judged> {
    let (c1, c2) = (case(report, "case1")?, case(report, "case2")?);
    let (numbers, verdict) = verdicts::overfits(&fit(c2), &fit(c1));
    Some((
        "Case 2 overfits: its error is far lower, and dropout in case 1 prevents that.".into(),
        numbers,
        verdict,
    ))
}

/// The claims that one case's first-layer tiles are more structured than another's.
fn structure_comparisons(report: &Report) -> Vec<(Topic, Judged)> {
    // (topic, claim, the case expected to be more structured, the other case)
    let comparisons = [
        (
            Topic::Dropout,
            "Case 2's weights look like noise; case 1's (dropout) like strokes.",
            "case1",
            "case2",
        ),
        (
            Topic::Activation,
            "Sigmoid (case 5) captures features better than ReLU (case 1): fewer pure-noise tiles.",
            "case5",
            "case1",
        ),
    ];
    let mut rows: Vec<(Topic, Judged)> = comparisons
        .into_iter()
        .filter_map(|(topic, claim, more, less)| {
            let (numbers, verdict) =
                verdicts::more_structured(&structured(report, more)?, &structured(report, less)?);
            Some((topic, (claim.to_string(), numbers, verdict)))
        })
        .collect();
    if let (Some(case4), Some(case3)) = (structured(report, "case4"), structured(report, "case3")) {
        let (numbers, verdict) = verdicts::noise_gone(&case4, &case3);
        let claim = "Case 4 (400 units, no dropout): 'mysterious patterns', and the noise-like tiles (of case 3, with dropout) are gone. The measure tells noise from smooth tiles, not what the patterns are.";
        rows.push((Topic::Dropout, (claim.to_string(), numbers, verdict)));
    }
    rows
}

fn case7_claims(report: &Report) -> Vec<(Topic, Judged)> {
    let Some(c7) = case(report, "case7") else {
        return Vec::new();
    };
    let n = &c7.numbers;
    let efficient = (
        "Case 7 is the most efficient: a faithful reconstruction with only 100 units.".into(),
        format!(
            "case7 test MSE {} vs PCA-100 {} and identity {} on the same noised inputs; {:.0} s of training",
            mse(n.test_mse),
            mse(n.pca_mse),
            mse(n.identity_mse),
            c7.seconds
        ),
        verdicts::faithful(&Baselines {
            hidden: c7.hidden,
            test_mse: n.test_mse,
            pca_mse: n.pca_mse,
            identity_mse: n.identity_mse,
        }),
    );
    let layers = Layers {
        w1_median: n.w1.median_ratio,
        w2t_median: n.w2t.median_ratio,
        w1_structured: n.w1.structured_fraction,
        w2t_structured: n.w2t.structured_fraction,
    };
    let (numbers, verdict) = verdicts::second_layer(&layers);
    let second_layer = (
        "Case 7's features show in the second layer; the first's are somewhat faint, faint dots."
            .into(),
        numbers,
        verdict,
    );
    vec![
        (Topic::Efficiency, efficient),
        (Topic::SecondLayer, second_layer),
    ]
}

fn fine_tuning(report: &Report) -> Option<Judged> {
    let ft = report.fine_tune.as_ref()?;
    let (pm, ps) = mean_and_spread(&ft.pretrained);
    let (rm, rs) = mean_and_spread(&ft.random);
    let sds = format!(
        "{:.2} points apart, the sum of the sds {:.2} + {:.2}",
        100.0 * (pm - rm).abs(),
        100.0 * ps,
        100.0 * rs
    );
    // A start with dead ReLU units: they get no gradient in fine-tuning either.
    let dead = case(report, &ft.source)
        .map(|c| c.numbers.dead_units)
        .filter(|&d| d > 0)
        .map_or(String::new(), |d| {
            format!(
                "; {d} of the start's {} units are dead (never active on a test image) and get no gradient",
                ft.hidden
            )
        });
    let verdict = if pm - rm > ps + rs {
        Verdict::supported(&format!(
            "supported at this budget: the means differ by more than their sds ({sds}){dead}"
        ))
    } else if rm - pm > ps + rs {
        Verdict::not_supported(&format!(
            "not supported at this budget: random starts do better by more than the sds ({sds}){dead}"
        ))
    } else {
        Verdict::not_supported(&format!(
            "not supported at this budget: the difference is within the sds ({sds}){dead}"
        ))
    };
    Some((
        "An autoencoder's weights are a better initialisation than random values for a deeper network.".into(),
        format!(
            "{} (seed 0) as the start: {:.2} ± {:.2} % vs random {:.2} ± {:.2} % (mean ± sd over {} fine-tuning seeds, {} epochs)",
            ft.source,
            100.0 * pm,
            100.0 * ps,
            100.0 * rm,
            100.0 * rs,
            ft.pretrained.len(),
            ft.epochs
        ),
        verdict,
    ))
}

fn output_dropout(report: &Report) -> Option<Judged> {
    let brightness = |keep: fn(&CaseReport) -> bool| -> Vec<String> {
        report
            .cases
            .iter()
            .filter(|c| keep(c))
            .map(|c| {
                format!(
                    "{} {:.2}",
                    c.name,
                    c.numbers.mean_output / c.numbers.mean_target
                )
            })
            .collect()
    };
    let halved = brightness(|c| c.output_dropout);
    let corrected = brightness(|c| c.dropout > 0.0 && !c.output_dropout);
    if halved.is_empty() {
        return None;
    }
    let corrected = if corrected.is_empty() {
        "not run".to_string()
    } else {
        corrected.join(", ")
    };
    Some((
        "(The study saw faint, 'hazy', 'foggy' outputs and named no cause.) Output dropout halves the reconstructions' intensity.".into(),
        format!(
            "mean output / mean target: {}; hidden-only dropout: {corrected}",
            halved.join(", ")
        ),
        Verdict::note("see the report's section 7"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(seed: u64, verdict: Verdict) -> SeedVerdict {
        SeedVerdict {
            seed,
            numbers: format!("n{seed}"),
            verdict,
        }
    }

    #[test]
    fn a_verdict_holds_only_where_every_seed_gives_it() {
        let all = |v: &[Verdict]| {
            let seeds: Vec<SeedVerdict> = v
                .iter()
                .enumerate()
                .map(|(i, v)| judged(i as u64, v.clone()))
                .collect();
            combined(&seeds, v.len()).to_string()
        };
        let yes = |t: &str| Verdict::supported(&format!("supported: {t}"));
        let no = |t: &str| Verdict::not_supported(&format!("not supported: {t}"));
        assert_eq!(
            all(&[yes("a"), yes("b"), yes("c")]),
            "supported: a (the verdict of 3 of 3 seeds; seed 0's numbers)"
        );
        assert_eq!(
            all(&[no("x"), no("y")]),
            "not supported: x (the verdict of 2 of 2 seeds; seed 0's numbers)"
        );
        assert_eq!(
            all(&[yes("a"), no("b"), yes("c")]),
            "mixed: supported in 2 of 3 seeds"
        );
        let read = |v: Verdict, r: &str| v.sharing(r);
        assert_eq!(
            all(&[read(yes("a"), "it learned"), read(no("b"), "it learned")]),
            "mixed: supported in 1 of 2 seeds; in every seed, it learned"
        );
        assert_eq!(
            all(&[read(yes("a"), "it learned"), read(no("b"), "it copies")]),
            "mixed: supported in 1 of 2 seeds"
        );
        let note = Verdict::note("see section 7");
        assert_eq!(all(&[note.clone(), note]), "see section 7");
        // Judged once (the fine-tuning has seeds of its own): its own verdict.
        assert_eq!(
            combined(&[judged(0, yes("z"))], 3).to_string(),
            "supported: z"
        );
    }
}
