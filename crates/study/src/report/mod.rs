//! The study report's data: trains what is missing of the seven cases (and the corrected variants
//! with dropout on the hidden layer only), measures every run, draws its figures, and judges the
//! study's claims on every seed. The program writes it as Markdown, HTML and JSON.

mod analyse;
mod citations;
mod claims;
mod report_data;
mod report_plan;
mod report_runs;
mod verdicts;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::study_error::{Error, Result};
use trainer::events::JobRun;
use trainer::training::Outcome;

pub use analysis::mean_and_spread;
pub use claims::claims;
pub use report_data::{
    CaseReport, Claim, Combined, FineTune, Report, SeedVerdict, Topic, Verdict, VerdictKind,
};
pub use report_plan::{
    CORRECTED_CASES, FINE_TUNE_SEEDS, MAX_SEEDS, QUICK_IMAGES, ReportOptions, planned_configs,
    run_of,
};
pub use verdicts::{ABOUT_30, GONE_BELOW, KEPT_START_BELOW, OVERFITS_FROM};

/// The report's runs, each checked, with what is left of each (nothing is trained).
pub fn job_runs(options: &ReportOptions) -> Result<Vec<JobRun>> {
    let configs = planned_configs(options.quick, options.seeds)?;
    report_runs::batch(options).check(&configs)
}

/// Trains the report's run `name` alone: a scheduler's task, or one of several at once.
pub fn train_run(options: &ReportOptions, name: &str) -> Result<Outcome> {
    let configs = planned_configs(options.quick, options.seeds)?;
    crate::batch::train_named(&report_runs::batch(options), &configs, name)
}

/// The report directory under `root`.
pub fn report_dir(root: &Path) -> PathBuf {
    root.join("report")
}

/// Trains what is missing (unless `reuse`), measures every run, draws its figures into the
/// report directory and judges the claims.
pub fn build_report(options: &ReportOptions) -> Result<Report> {
    let configs = planned_configs(options.quick, options.seeds)?;
    let (available, missing, training_seconds) = if options.reuse {
        let (available, missing) =
            report_runs::finished_runs(&options.root, &configs, &options.events)?;
        (available, missing, 0.0)
    } else {
        let (available, seconds) = report_runs::train_report_runs(options, &configs)?;
        (available, Vec::new(), seconds)
    };
    if available.is_empty() {
        let root = options.root.clone();
        return Err(Error::NothingToReport { root });
    }
    report_runs::check_pooled(&available)?;
    let started = Instant::now();
    let out = report_dir(&options.root);
    let mut report = analyse::analyse(options, &available, &out)?;
    report.missing = missing;
    report.training_seconds = training_seconds;
    report.claims = claims(&report);
    if let Some(sweeps) = crate::sweep::recorded(&options.root) {
        citations::cite(&mut report.claims, &sweeps);
        report.sweep_axes = sweeps.axes.len();
    }
    report.analysis_seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
