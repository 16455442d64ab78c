//! The report in a few lines, for the README: a table of five runs and every claim's verdict,
//! all written from the report's numbers (`highlights.md`; the README quotes it whole, and a
//! test checks that it does).

use study::report::{CaseReport, Report};

use super::markdown::{Page, across, mse, pct, ratio1, ratio2};

/// The runs of the table: the copying and dropout questions' cases and a corrected variant.
const RUNS: [&str; 5] = ["case1", "case2", "case5", "case7", "case1-hidden-dropout"];

/// The highlights as Markdown.
pub fn markdown(report: &Report) -> String {
    let mut page = Page::default();
    let rows: Vec<Vec<String>> = RUNS
        .iter()
        .filter_map(|name| report.cases.iter().find(|c| c.seed == 0 && c.name == *name))
        .map(|c| row(report, c))
        .collect();
    let headers = [
        "run",
        "test MSE",
        "output ÷ target brightness",
        "PCA, same width",
        "noise ÷ digit error (identity test)",
        "w1 / w2ᵀ structured",
        "live units (seed 0)",
        "linear probe",
    ];
    page.table(&headers, &rows);
    page.text(&format!(
        "Mean ± sd over {}; the identity test's reading is seed 0's. Each claim's verdict holds where every seed gives it (\"mixed\" where they disagree; \"partly supported\" where the numbers support part of it), with seed 0's numbers.",
        seeds(report)
    ));
    let verdicts: Vec<String> = report
        .claims
        .iter()
        .map(|c| format!("*{}* — {}", c.claim, c.verdict))
        .collect();
    page.list(&verdicts);
    page.into_markdown()
}

/// `3 seeds`, or `1 seed`.
fn seeds(report: &Report) -> String {
    trainer::wording::count(report.seeds as usize, "seed")
}

/// One run's row: mean ± sd over its seeds, the reading and the units from seed 0.
fn row(report: &Report, c: &CaseReport) -> Vec<String> {
    let units = &c.numbers.units;
    vec![
        format!("{} ({})", c.name, c.summary),
        across(report, c, |c| c.numbers.test_mse, mse),
        across(
            report,
            c,
            |c| c.numbers.mean_output / c.numbers.mean_target,
            ratio2,
        ),
        across(report, c, |c| c.numbers.pca_mse, mse),
        format!(
            "{}: {}",
            across(report, c, |c| c.numbers.identity_ratio(), ratio1),
            c.numbers.identity_reading().short()
        ),
        format!(
            "{} / {}",
            across(report, c, |c| c.numbers.w1.structured_fraction, pct),
            across(report, c, |c| c.numbers.w2t.structured_fraction, pct)
        ),
        format!("{} of {}", units.live.units, c.hidden),
        across(report, c, |c| c.probe_accuracy, pct),
    ]
}
