//! The report as Markdown and as a self-contained HTML page (figures beside it), both rendered
//! from the same list of blocks.

use std::fmt::Write as _;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{CaseReport, Claim, FineTune, Report, SeedVerdict};

/// A piece of the report.
enum Block {
    Heading(String),
    Text(String),
    Table {
        headers: Vec<&'static str>,
        rows: Vec<Vec<String>>,
    },
    Figures(Vec<(String, String)>),
    /// The claims table: each row with its per-seed numbers and verdicts one click away.
    Claims(Vec<Claim>),
}

fn mean_and_spread(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

/// One table row per run (its seed-0 report; the other seeds enter through [`across`]).
fn per_case(report: &Report, row: impl Fn(&CaseReport) -> Vec<String>) -> Vec<Vec<String>> {
    primary(report).map(row).collect()
}

/// The seed-0 report of every run, in order.
fn primary(report: &Report) -> impl Iterator<Item = &CaseReport> {
    report.cases.iter().filter(|c| c.seed == 0)
}

/// `f` of every seed of `c`'s run, as `value` (one seed) or `mean ± sd` (several).
fn across(
    report: &Report,
    c: &CaseReport,
    f: impl Fn(&CaseReport) -> f64,
    show: fn(f64) -> String,
) -> String {
    let values: Vec<f64> = report
        .cases
        .iter()
        .filter(|o| o.run == c.run)
        .map(f)
        .collect();
    match values.as_slice() {
        [one] => show(*one),
        many => {
            let (mean, sd) = mean_and_spread(many);
            format!("{} ± {}", show(mean), show(sd))
        }
    }
}

/// Seeds of `c`'s run that the report has.
fn seeds_of(report: &Report, c: &CaseReport) -> usize {
    report.cases.iter().filter(|o| o.run == c.run).count()
}

fn ratio1(x: f64) -> String {
    format!("{x:.1}")
}

fn ratio2(x: f64) -> String {
    format!("{x:.2}")
}

fn ratio4(x: f64) -> String {
    format!("{x:.4}")
}

fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

fn mse(x: f64) -> String {
    format!("{x:.5}")
}

fn case<'a>(report: &'a Report, name: &str) -> Option<&'a CaseReport> {
    report.cases.iter().find(|c| c.name == name)
}

/// Every block of the report, in order.
fn blocks(report: &Report) -> Vec<Block> {
    let mut b = Vec::new();
    b.push(Block::Text(header(report)));
    if !report.missing.is_empty() {
        b.push(Block::Text(format!(
            "Not available (no finished run): {}.",
            report.missing.join(", ")
        )));
    }

    b.push(Block::Heading("1. The seven cases".into()));
    b.push(Block::Text(format!(
        "Every run was trained with {} (its seed fixes data order, noise masks, dropout and initialisation); every number below is the mean ± standard deviation over the seeds (a single value where one seed ran), and every figure is seed 0's. Train loss is the last epoch's mean over its images with dropout active, as logged. Test MSE is recomputed from the saved model on the 10 000 test images (noised inputs where the case adds noise, clean targets), without dropout and with dropout active as in training. Rows named `-hidden-dropout` are the corrected variants of section 7.",
        match report.seeds {
            1 => "seed 0".to_string(),
            n => format!("seeds 0 to {}", n - 1),
        }
    )));
    b.push(Block::Table {
        headers: vec![
            "run",
            "configuration",
            "seeds",
            "epochs",
            "train images",
            "train loss",
            "test MSE (no dropout)",
            "test MSE (dropout on)",
            "seconds (seed 0)",
        ],
        rows: per_case(report, |c| {
            vec![
                c.name.clone(),
                c.summary.clone(),
                seeds_of(report, c).to_string(),
                c.epochs.to_string(),
                c.train_images.to_string(),
                across(report, c, |c| c.train_loss, mse),
                across(report, c, |c| c.numbers.test_mse, mse),
                across(report, c, |c| c.numbers.test_mse_dropout_on, mse),
                seconds(c.seconds),
            ]
        }),
    });

    b.push(Block::Heading("2. Figures".into()));
    b.push(Block::Figures(vec![(
        "loss-all.png".into(),
        "All seven cases: training and test loss per epoch (log scale)".into(),
    )]));
    for c in primary(report) {
        b.push(Block::Text(format!(
            "**{}** — {}. Code map (`codes.png`): the first two principal components of the hidden codes of the 10 000 test images hold {} of the codes' variance, and a nearest-digit-mean classifier in that plane (means over the same images) is right for {} of them.",
            c.name,
            c.summary,
            across(report, c, |c| c.codes.variance_explained, pct),
            across(report, c, |c| c.codes.nearest_mean_accuracy, pct),
        )));
        b.push(Block::Figures(
            c.figures
                .iter()
                .map(|f| {
                    let caption = figure_caption(f, c.noise > 0.0);
                    (f.clone(), format!("{}: {caption}", c.name))
                })
                .collect(),
        ));
    }

    b.push(Block::Heading("3. Baselines at the same width".into()));
    b.push(Block::Text(
        "PCA keeps as many components as the case has hidden units (at most 784, where it is the identity), fitted on the clean training images and applied to the same test inputs. The mean image predicts the training mean for every input; the identity returns the (noised) input — what a denoiser must beat.".into(),
    ));
    b.push(Block::Table {
        headers: vec![
            "run",
            "autoencoder",
            "PCA components",
            "PCA",
            "mean image",
            "identity",
        ],
        rows: per_case(report, |c| {
            vec![
                c.name.clone(),
                across(report, c, |c| c.numbers.test_mse, mse),
                c.numbers.pca_components.to_string(),
                mse(c.numbers.pca_mse),
                mse(c.numbers.mean_image_mse),
                across(report, c, |c| c.numbers.identity_mse, mse),
            ]
        }),
    });

    b.push(Block::Heading(
        "4. Identity test: features or copying?".into(),
    ));
    b.push(Block::Text(format!(
        "Reconstruction MSE (input = target, no dropout) on {} clean test digits, on as many uniform-noise images and on the same digits with each image's pixels shuffled. A network that copies its input reconstructs anything (ratio near 1); one that learned digit features fails on non-digits (large ratio).",
        super::IDENTITY_TEST_IMAGES
    )));
    b.push(Block::Table {
        headers: vec![
            "run",
            "digits",
            "uniform noise",
            "shuffled digits",
            "noise / digits",
            "shuffled / digits",
        ],
        rows: per_case(report, |c| {
            vec![
                c.name.clone(),
                across(report, c, |c| c.numbers.digit_mse, mse),
                across(report, c, |c| c.numbers.noise_mse, mse),
                across(report, c, |c| c.numbers.shuffled_mse, mse),
                across(
                    report,
                    c,
                    |c| c.numbers.noise_mse / c.numbers.digit_mse,
                    ratio1,
                ),
                across(
                    report,
                    c,
                    |c| c.numbers.shuffled_mse / c.numbers.digit_mse,
                    ratio1,
                ),
            ]
        }),
    });

    b.push(Block::Heading("5. Filter structure".into()));
    b.push(Block::Text(format!(
        "For each unit's 28×28 tile: its roughness (mean squared difference of neighbouring pixels) divided by the expected roughness of the same values shuffled. Noise gives ≈ 1, smooth strokes or blobs give values near 0; a tile counts as structured below {}. Only the {} pixels lit in at least {} % of the training images count: the weights of the others (the border) hardly train and keep their random initial values, a speckled frame that the eye ignores but a whole-tile measure would not.",
        analysis::STRUCTURED_BELOW,
        report.active_pixels,
        100.0 * super::ACTIVE_PIXEL_SHARE
    )));
    b.push(Block::Table {
        headers: vec![
            "run",
            "w1 median ratio",
            "w1 structured",
            "w2ᵀ median ratio",
            "w2ᵀ structured",
        ],
        rows: per_case(report, |c| {
            vec![
                c.name.clone(),
                across(report, c, |c| c.numbers.w1.median_ratio, ratio2),
                across(report, c, |c| c.numbers.w1.structured_fraction, pct),
                across(report, c, |c| c.numbers.w2t.median_ratio, ratio2),
                across(report, c, |c| c.numbers.w2t.structured_fraction, pct),
            ]
        }),
    });

    b.push(Block::Heading("6. Features for classification".into()));
    b.push(Block::Text(format!(
        "Linear probe: softmax regression on the frozen hidden codes of the clean training images ({}, Adam 1e-3, batch 100), test accuracy. On raw pixels the same probe reaches {}.",
        super::count(report.probe_epochs, "epoch"),
        pct(report.pixel_probe_accuracy)
    )));
    b.push(Block::Table {
        headers: vec!["run", "hidden units", "probe accuracy"],
        rows: per_case(report, |c| {
            vec![
                c.name.clone(),
                c.hidden.to_string(),
                across(report, c, |c| c.probe_accuracy, pct),
            ]
        }),
    });
    if let Some(ft) = &report.fine_tune {
        b.push(Block::Text(fine_tune_text(ft)));
    }

    b.push(Block::Heading("7. The output-dropout effect".into()));
    b.push(Block::Text(
        "With dropout after the output layer, training minimises the error of a randomly halved-and-doubled output, which is smallest when the network's dropout-free output is about half the target: at evaluation the reconstructions are about half as bright. The study's per-image colour scaling hid this. The `-hidden-dropout` rows train the same cases with dropout on the hidden layer only. 'Rescaled' multiplies the outputs by mean target / mean output.".into(),
    ));
    b.push(Block::Table {
        headers: vec![
            "run",
            "output dropout",
            "mean output",
            "mean target",
            "output / target",
            "test MSE",
            "test MSE rescaled",
        ],
        rows: primary(report)
            .filter(|c| c.dropout > 0.0)
            .map(|c| {
                vec![
                    c.name.clone(),
                    if c.output_dropout { "yes" } else { "no" }.into(),
                    across(report, c, |c| c.numbers.mean_output, ratio4),
                    ratio4(c.numbers.mean_target),
                    across(
                        report,
                        c,
                        |c| c.numbers.mean_output / c.numbers.mean_target,
                        ratio2,
                    ),
                    across(report, c, |c| c.numbers.test_mse, mse),
                    across(report, c, |c| c.numbers.test_mse_rescaled, mse),
                ]
            })
            .collect(),
    });
    let pairs: Vec<(String, String)> = primary(report)
        .filter(|c| c.name.ends_with("-hidden-dropout"))
        .flat_map(|c| {
            let base = c.name.trim_end_matches("-hidden-dropout");
            [
                (
                    format!("{base}/reconstructions.png"),
                    format!("{base} (output dropout): inputs and outputs on a fixed 0–1 scale"),
                ),
                (
                    format!("{}/reconstructions.png", c.name),
                    format!("{}: the same, dropout on the hidden layer only", c.name),
                ),
            ]
        })
        .filter(|(path, _)| report.cases.iter().any(|c| c.figures.contains(path)))
        .collect();
    if !pairs.is_empty() {
        b.push(Block::Figures(pairs));
    }

    b.push(Block::Heading(
        "8. The study's claims against the numbers".into(),
    ));
    b.push(Block::Text(format!(
        "Each claim is judged on every seed ({}): a verdict holds only where every seed gives it, \"mixed\" where the seeds disagree. The numbers are seed 0's; each seed's numbers and verdict follow.",
        report.seeds
    )));
    b.push(Block::Claims(report.claims.clone()));
    b
}

/// Where the numbers come from: the command, the machine, the backends and lengths of the runs
/// (read from the runs themselves), and the time spent.
fn header(report: &Report) -> String {
    let seconds: f64 = report.cases.iter().map(|c| c.seconds).sum();
    format!(
        "Generated by `train report{}` from the runs' artifacts, measured on {}. {}; trained on {}. Training: {} over the {} (their epochs' own seconds, whenever they ran), {} of it in this invocation; measuring and drawing: {:.0} s.{}",
        if report.quick { " --quick" } else { "" },
        report.machine,
        lengths(report),
        tally(report.cases.iter().map(|c| {
            c.backend
                .clone()
                .unwrap_or_else(|| "an unrecorded backend".into())
        })),
        crate::progress::clock(std::time::Duration::from_secs_f64(seconds.max(0.0))),
        super::count(report.cases.len(), "run"),
        crate::progress::clock(std::time::Duration::from_secs_f64(
            report.training_seconds.max(0.0)
        )),
        report.analysis_seconds,
        if report.quick {
            " **Quick mode**: a smoke test, not the study."
        } else {
            ""
        }
    )
}

/// How long the runs trained, from the runs: `every run saw 2000 training images for 1 epoch`,
/// or each length with its number of runs.
fn lengths(report: &Report) -> String {
    let runs: Vec<String> = report
        .cases
        .iter()
        .map(|c| {
            format!(
                "{} training images for {}",
                c.train_images,
                super::count(c.epochs, "epoch")
            )
        })
        .collect();
    let mut distinct = runs.clone();
    distinct.dedup();
    distinct.sort();
    distinct.dedup();
    match distinct.as_slice() {
        [one] => format!("Every run saw {one}"),
        _ => format!("The runs saw {}", tally(runs.into_iter())),
    }
}

/// `a` when every item is `a`, else `a (3 runs), b (1 run)`, in order of first appearance.
fn tally(items: impl Iterator<Item = String>) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for item in items {
        match counts.iter_mut().find(|(i, _)| *i == item) {
            Some((_, n)) => *n += 1,
            None => counts.push((item, 1)),
        }
    }
    match counts.as_slice() {
        [(one, _)] => one.clone(),
        _ => counts
            .iter()
            .map(|(item, n)| format!("{item} ({})", super::count(*n, "run")))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn figure_caption(file: &str, noised: bool) -> &'static str {
    match file.rsplit('/').next().unwrap_or(file) {
        "loss.png" => "loss per batch and epoch",
        "reconstructions.png" if noised => {
            "blocks of three rows: noised test inputs, their reconstructions, the clean targets; fixed 0–1 scale"
        }
        "reconstructions.png" => {
            "test inputs (odd rows) and reconstructions (even rows), fixed 0–1 scale"
        }
        "w1.png" => "first-layer weights, one 28×28 tile per hidden unit",
        "w2t.png" => "second-layer weights transposed, one tile per hidden unit",
        "codes.png" => {
            "hidden codes of the test images on their first two principal components, coloured by digit"
        }
        "noised.png" => "noised training inputs",
        _ => "figure",
    }
}

/// Seconds as a whole number, or with two decimals below 10 s (quick runs take a fraction).
fn seconds(s: f64) -> String {
    // `+ 0.0` turns a negative zero into a positive one ("-0" in a table of seconds).
    let s = s + 0.0;
    if s < 10.0 {
        format!("{s:.2}")
    } else {
        format!("{s:.0}")
    }
}

fn fine_tune_text(ft: &FineTune) -> String {
    let (pm, ps) = mean_and_spread(&ft.pretrained);
    let (rm, rs) = mean_and_spread(&ft.random);
    format!(
        "Fine-tuning a 784–{h}–10 ReLU network on the labels of {n} training images for {e} (Adam 1e-3, batch 100, {s} seeds; the output layer and data order are the same for both starts in each seed): from the first layer of {src}, test accuracy {pm:.2} ± {ps:.2} % (seeds: {pa}); from the study's random initialisation {rm:.2} ± {rs:.2} % (seeds: {ra}).",
        h = ft.hidden,
        n = ft.train_images,
        e = super::count(ft.epochs, "epoch"),
        s = ft.pretrained.len(),
        src = ft.source,
        pm = 100.0 * pm,
        ps = 100.0 * ps,
        rm = 100.0 * rm,
        rs = 100.0 * rs,
        pa = list_pct(&ft.pretrained),
        ra = list_pct(&ft.random),
    )
}

fn list_pct(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| format!("{:.2}", 100.0 * v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every claim of the study judged on every seed of `report`: each seed's runs are judged alone
/// (as a report of that seed), and the verdicts combined.
pub fn claims(report: &Report) -> Vec<Claim> {
    let seeds: Vec<u64> = {
        let mut s: Vec<u64> = report.cases.iter().map(|c| c.seed).collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    let mut claims: Vec<Claim> = Vec::new();
    for &seed in &seeds {
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
        for [claim, numbers, verdict] in seed_claims(&view) {
            let judged = SeedVerdict {
                seed,
                numbers: numbers.clone(),
                verdict,
            };
            match claims.iter_mut().find(|c| c.claim == claim) {
                Some(c) => c.seeds.push(judged),
                None => claims.push(Claim {
                    claim,
                    numbers,
                    verdict: String::new(),
                    seeds: vec![judged],
                }),
            }
        }
    }
    for claim in &mut claims {
        claim.verdict = combined_verdict(&claim.seeds, seeds.len());
    }
    claims
}

/// One verdict for all seeds: the first seed's where every seed (of `all`) agrees in kind
/// (supported / not supported), "mixed" otherwise; a claim judged once (the fine-tuning, which
/// has seeds of its own) keeps its verdict.
fn combined_verdict(seeds: &[SeedVerdict], all: usize) -> String {
    let kind = |v: &str| {
        if v.starts_with("supported") {
            1
        } else if v.starts_with("not supported") {
            -1
        } else {
            0
        }
    };
    let first = &seeds[0].verdict;
    if seeds.len() == 1 || kind(first) == 0 {
        return first.clone();
    }
    let n = seeds.len();
    if seeds.iter().all(|s| kind(&s.verdict) == kind(first)) {
        format!("{first} ({n} of {all} seeds)")
    } else {
        let supported = seeds.iter().filter(|s| kind(&s.verdict) == 1).count();
        format!("mixed: supported in {supported} of {n} seeds")
    }
}

/// One row per claim of the study for a report of one seed: the claim, the numbers that bear on
/// it, a verdict.
fn seed_claims(report: &Report) -> Vec<[String; 3]> {
    let mut rows = Vec::new();
    let w1 = |name: &str| case(report, name).map(|c| c.numbers.w1.structured_fraction);
    let mut row = |claim: &str, numbers: String, verdict: String| {
        rows.push([claim.to_string(), numbers, verdict])
    };
    if let Some(f) = w1("case1") {
        row(
            "Case 1: about 30 % of the first-layer tiles show pen strokes, 70 % look like noise.",
            format!("case1 w1 structured: {}", pct(f)),
            if (0.15..=0.45).contains(&f) {
                "supported (roughly the study's share)".into()
            } else {
                format!("not supported: {} structured", pct(f))
            },
        );
    }
    if let (Some(c1), Some(c2)) = (case(report, "case1"), case(report, "case2")) {
        let gap = c2.numbers.test_mse / c2.train_loss;
        row(
            "Case 2 overfits: its error is far lower, and dropout in case 1 prevents that.",
            format!(
                "case2 train loss {} vs test MSE {} (test/train {:.2}); case1 test MSE {}; case2 copies non-digits: noise/digit MSE ratio {:.1} (case1 {:.1})",
                mse(c2.train_loss),
                mse(c2.numbers.test_mse),
                gap,
                mse(c1.numbers.test_mse),
                c2.numbers.noise_mse / c2.numbers.digit_mse,
                c1.numbers.noise_mse / c1.numbers.digit_mse,
            ),
            if gap < 1.2 {
                "not supported as overfitting: the test error is as low as the training error; the low error is the identity map an overcomplete network can learn without dropout (see the identity test)".into()
            } else {
                format!("supported: test error {gap:.2}× the training error")
            },
        );
    }
    // (claim, the case expected to be more structured, the other case)
    let comparisons = [
        (
            "Case 2's weights look like noise; case 1's (dropout) like strokes.",
            "case1",
            "case2",
        ),
        (
            "With 400 units, dropout (case 3) again gives stroke-like tiles; without it (case 4) 'mysterious patterns'.",
            "case3",
            "case4",
        ),
        (
            "Sigmoid (case 5) captures features better than ReLU (case 1): fewer pure-noise tiles.",
            "case5",
            "case1",
        ),
    ];
    for (claim, more, less) in comparisons {
        if let (Some(a), Some(b)) = (w1(more), w1(less)) {
            row(
                claim,
                format!("w1 structured: {more} {}, {less} {}", pct(a), pct(b)),
                verdict(
                    a > b,
                    &format!("{more} is more structured"),
                    &format!("{less} is at least as structured"),
                ),
            );
        }
    }
    if let Some(c7) = case(report, "case7") {
        let n = &c7.numbers;
        row(
            "Case 7 is the most efficient: a faithful reconstruction with only 100 units.",
            format!(
                "case7 test MSE {} vs PCA-100 {} and identity {} on the same noised inputs; {:.0} s of training",
                mse(n.test_mse),
                mse(n.pca_mse),
                mse(n.identity_mse),
                c7.seconds
            ),
            verdict(
                n.test_mse < n.pca_mse && n.test_mse < n.identity_mse,
                "it beats both PCA with 100 components and leaving the noise in",
                "it does not beat the baselines",
            ),
        );
        row(
            "Case 7's features show in the second layer, hardly in the first.",
            format!(
                "case7 median roughness ratio (lower = smoother): w2ᵀ {:.2}, w1 {:.2}; structured: w2ᵀ {}, w1 {}",
                n.w2t.median_ratio,
                n.w1.median_ratio,
                pct(n.w2t.structured_fraction),
                pct(n.w1.structured_fraction)
            ),
            verdict(
                n.w2t.median_ratio < n.w1.median_ratio,
                "w2ᵀ is smoother, though by this measure w1 is structured too",
                "w1 is at least as smooth as w2ᵀ by this measure",
            ),
        );
    }
    if let Some(ft) = &report.fine_tune {
        let (pm, ps) = mean_and_spread(&ft.pretrained);
        let (rm, rs) = mean_and_spread(&ft.random);
        row(
            "An autoencoder's weights are a better initialisation than random values for a deeper network.",
            format!(
                "{}: {:.2} ± {:.2} % vs random {:.2} ± {:.2} %",
                ft.source,
                100.0 * pm,
                100.0 * ps,
                100.0 * rm,
                100.0 * rs
            ),
            if pm - rm > ps + rs {
                "supported at this budget".into()
            } else if rm - pm > ps + rs {
                "not supported: random starts do better".into()
            } else {
                "not supported: the difference is within the seeds' spread".into()
            },
        );
    }
    let halved: Vec<String> = report
        .cases
        .iter()
        .filter(|c| c.output_dropout)
        .map(|c| {
            format!(
                "{} {:.2}",
                c.name,
                c.numbers.mean_output / c.numbers.mean_target
            )
        })
        .collect();
    let corrected: Vec<String> = report
        .cases
        .iter()
        .filter(|c| c.dropout > 0.0 && !c.output_dropout)
        .map(|c| {
            format!(
                "{} {:.2}",
                c.name,
                c.numbers.mean_output / c.numbers.mean_target
            )
        })
        .collect();
    if !halved.is_empty() {
        row(
            "(Not in the study) Output dropout halves the reconstructions' intensity.",
            format!(
                "mean output / mean target: {}; hidden-only dropout: {}",
                halved.join(", "),
                if corrected.is_empty() {
                    "not run".into()
                } else {
                    corrected.join(", ")
                }
            ),
            "see section 7".into(),
        );
    }
    rows
}

fn verdict(holds: bool, yes: &str, no: &str) -> String {
    if holds {
        format!("supported: {yes}")
    } else {
        format!("not supported: {no}")
    }
}

/// The report as Markdown.
pub fn markdown(report: &Report) -> String {
    let mut s = String::from("# The study report: seven MNIST autoencoders\n\n");
    s.push_str(&render_markdown(&blocks(report)));
    s
}

/// `blocks` as Markdown.
fn render_markdown(blocks: &[Block]) -> String {
    let mut s = String::new();
    for block in blocks {
        match block {
            Block::Heading(text) => {
                let _ = writeln!(s, "## {text}\n");
            }
            Block::Text(text) => {
                let _ = writeln!(s, "{text}\n");
            }
            Block::Table { headers, rows } => {
                let _ = writeln!(s, "| {} |", headers.join(" | "));
                let _ = writeln!(s, "|{}", "---|".repeat(headers.len()));
                for row in rows {
                    let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
                    let _ = writeln!(s, "| {} |", cells.join(" | "));
                }
                s.push('\n');
            }
            Block::Figures(figures) => {
                for (src, caption) in figures {
                    let _ = writeln!(s, "![{caption}]({src})\n");
                }
            }
            Block::Claims(claims) => {
                let _ = writeln!(s, "| claim (study) | numbers (seed 0) | verdict |");
                let _ = writeln!(s, "|---|---|---|");
                let cell = |c: &str| c.replace('|', "\\|");
                for c in claims {
                    let _ = writeln!(
                        s,
                        "| {} | {} | {} |",
                        cell(&c.claim),
                        cell(&c.numbers),
                        cell(&c.verdict)
                    );
                }
                s.push('\n');
                for c in claims.iter().filter(|c| c.seeds.len() > 1) {
                    let _ = writeln!(s, "<details><summary>Per seed: {}</summary>\n", c.claim);
                    for seed in &c.seeds {
                        let _ = writeln!(
                            s,
                            "- seed {}: {} → {}",
                            seed.seed, seed.numbers, seed.verdict
                        );
                    }
                    s.push_str("\n</details>\n\n");
                }
            }
        }
    }
    s
}

/// Spans of inline Markdown: `**bold**` and `` `code` `` (the page's only inline markup).
#[derive(Debug, PartialEq)]
struct Span {
    text: String,
    bold: bool,
    code: bool,
}

fn spans(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let (mut bold, mut code) = (false, false);
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    let mut flush = |current: &mut String, bold: bool, code: bool| {
        if !current.is_empty() {
            spans.push(Span {
                text: std::mem::take(current),
                bold,
                code,
            });
        }
    };
    while let Some(c) = chars.next() {
        if c == '*' && chars.peek() == Some(&'*') {
            chars.next();
            flush(&mut current, bold, code);
            bold = !bold;
        } else if c == '`' {
            flush(&mut current, bold, code);
            code = !code;
        } else {
            current.push(c);
        }
    }
    flush(&mut current, bold, code);
    spans
}

/// Inline Markdown as markup; every piece of text is escaped by maud.
fn inline(text: &str) -> Markup {
    html! {
        @for span in spans(text) {
            @match (span.bold, span.code) {
                (true, true) => strong { code { (span.text) } },
                (true, false) => strong { (span.text) },
                (false, true) => code { (span.text) },
                (false, false) => (span.text),
            }
        }
    }
}

const STYLE: &str = concat!(
    "body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\n",
    "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}\n",
    "th,td{border:1px solid #ccc;padding:0.3em 0.6em;text-align:left;vertical-align:top}\n",
    "th{background:#f3f3f3}\nfigure{display:inline-block;margin:0.5em;vertical-align:top;max-width:100%}\n",
    "figure img{max-width:100%;border:1px solid #ddd}\nfigcaption{font-size:0.85em;color:#555;max-width:600px}\n",
    "code{background:#f6f6f6;padding:0 0.2em}\ndetails{margin-top:0.3em}\n"
);

/// Lets a headless browser check that every figure loaded: the body gets
/// `data-images="<loaded>/<total>"` once the page has finished loading.
const IMAGES_LOADED: &str = concat!(
    "window.addEventListener('load',()=>{const i=[...document.images];",
    "document.body.dataset.images=i.filter(x=>x.complete&&x.naturalWidth>0).length+'/'+i.length;});"
);

/// The report as one HTML page that loads only the PNG files beside it.
pub fn html(report: &Report) -> String {
    let title = "The study report: seven MNIST autoencoders";
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (title) }
                (render_html(&blocks(report)))
                script { (PreEscaped(IMAGES_LOADED)) }
            }
        }
    }
    .into_string()
}

/// `blocks` as HTML elements.
fn render_html(blocks: &[Block]) -> Markup {
    html! {
        @for block in blocks {
            @match block {
                Block::Heading(text) => h2 { (text) },
                Block::Text(text) => p { (inline(text)) },
                Block::Table { headers, rows } => table {
                    tr { @for h in headers { th { (h) } } }
                    @for row in rows {
                        tr { @for cell in row { td { (inline(cell)) } } }
                    }
                },
                Block::Claims(claims) => table {
                    tr { th { "claim (study)" } th { "numbers (seed 0)" } th { "verdict" } }
                    @for c in claims {
                        tr {
                            td { (inline(&c.claim)) }
                            td { (inline(&c.numbers)) }
                            td {
                                (inline(&c.verdict))
                                @if c.seeds.len() > 1 {
                                    details {
                                        summary { "per seed" }
                                        ul {
                                            @for seed in &c.seeds {
                                                li {
                                                    "seed " (seed.seed) ": " (inline(&seed.numbers))
                                                    " → " (inline(&seed.verdict))
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                },
                Block::Figures(figures) => div {
                    @for (src, caption) in figures {
                        figure {
                            img src=(src) alt=(caption);
                            figcaption { (caption) }
                        }
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(seed: u64, verdict: &str) -> SeedVerdict {
        SeedVerdict {
            seed,
            numbers: format!("n{seed}"),
            verdict: verdict.into(),
        }
    }

    #[test]
    fn a_verdict_holds_only_where_every_seed_gives_it() {
        let all = |v: &[&str]| {
            let seeds: Vec<SeedVerdict> = v
                .iter()
                .enumerate()
                .map(|(i, v)| judged(i as u64, v))
                .collect();
            combined_verdict(&seeds, v.len())
        };
        assert_eq!(
            all(&["supported: a", "supported: b", "supported: c"]),
            "supported: a (3 of 3 seeds)"
        );
        assert_eq!(
            all(&["not supported: x", "not supported: y"]),
            "not supported: x (2 of 2 seeds)"
        );
        assert_eq!(
            all(&["supported: a", "not supported: b", "supported: c"]),
            "mixed: supported in 2 of 3 seeds"
        );
        assert_eq!(all(&["see section 7", "see section 7"]), "see section 7");
        // Judged once (the fine-tuning has seeds of its own): its own verdict.
        assert_eq!(
            combined_verdict(&[judged(0, "supported: z")], 3),
            "supported: z"
        );
    }

    #[test]
    fn per_seed_verdicts_are_one_click_away() {
        let claims = vec![Claim {
            claim: "Case <7> is best".into(),
            numbers: "n0".into(),
            verdict: "mixed: supported in 1 of 2 seeds".into(),
            seeds: vec![judged(0, "supported: yes"), judged(1, "not supported: no")],
        }];
        let html = render_html(&[Block::Claims(claims.clone())]).into_string();
        let md = render_markdown(&[Block::Claims(claims)]);
        assert!(html.contains("<details><summary>per seed</summary><ul><li>seed 0: n0 → supported: yes</li><li>seed 1: n1 → not supported: no</li></ul></details>"), "{html}");
        assert!(html.contains("Case &lt;7&gt; is best"), "{html}");
        assert!(
            md.contains("<details><summary>Per seed: Case <7> is best</summary>"),
            "{md}"
        );
        assert!(md.contains("- seed 1: n1 → not supported: no"), "{md}");
    }

    #[test]
    fn captions_and_seconds_say_what_the_figures_and_runs_are() {
        assert!(figure_caption("case7/reconstructions.png", true).starts_with("blocks of three"));
        assert!(figure_caption("case1/reconstructions.png", false).contains("odd rows"));
        assert_eq!(seconds(-0.0), "0.00");
        assert_eq!(seconds(0.234), "0.23");
        assert_eq!(seconds(123.4), "123");
    }

    #[test]
    fn inline_markup_is_escaped_and_converted() {
        assert_eq!(
            inline("**a** <b> `x`").into_string(),
            "<strong>a</strong> &lt;b&gt; <code>x</code>"
        );
    }

    #[test]
    fn mean_and_spread_of_three_values() {
        let (m, s) = mean_and_spread(&[1.0, 2.0, 3.0]);
        assert_eq!(m, 2.0);
        assert!((s - 1.0).abs() < 1e-12);
    }
}
