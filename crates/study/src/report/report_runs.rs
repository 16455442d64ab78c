//! The report's runs: trains what is missing (after checking every run first), or, with
//! reuse only, takes the finished ones; and refuses to pool seeds of different experiments.

use std::path::{Path, PathBuf};

use crate::batch::{Batch, train_missing};
use crate::study_error::{Error, Result};
use trainer::config::TrainingConfig;
use trainer::events::{Event, Job, Sink};
use trainer::run_dir::{Found, RunError, Setting, Start, config_diff, plan};

use super::report_plan::{ReportOptions, run_of};

/// The report's runs as a job.
pub(super) fn batch(options: &ReportOptions) -> Batch<'_> {
    Batch {
        root: &options.root,
        data_dir: &options.data_dir,
        backend: options.backend,
        job: Job::Report,
        events: &options.events,
        break_lock: options.break_lock,
        interrupter: &options.interrupter,
    }
}

/// Trains what is missing of `configs` as one job (every run checked before the first trains);
/// returns the run directories and the seconds of the epochs trained.
pub(super) fn train_report_runs(
    options: &ReportOptions,
    configs: &[TrainingConfig],
) -> Result<(Vec<PathBuf>, f64)> {
    train_missing(&batch(options), configs)
}

/// The finished runs of `configs` under `root` (reusing only those), and the names of those that
/// are not finished (each told to `events`). A run of another configuration, or one whose files
/// disagree, is refused.
pub(super) fn finished_runs(
    root: &Path,
    configs: &[TrainingConfig],
    events: &Sink,
) -> Result<(Vec<PathBuf>, Vec<String>)> {
    let (mut available, mut missing) = (Vec::new(), Vec::new());
    for config in configs {
        let dir = root.join(&config.name);
        let found = Found::read(&dir);
        if !found.finished {
            events.event(&Event::LeftOut { dir });
            missing.push(config.name.clone());
            continue;
        }
        plan(&dir, &found, config, Start::Continue)?;
        if let Err(what) = found.coherent {
            return Err(RunError::Inconsistent { dir, what }.into());
        }
        available.push(dir);
    }
    Ok((available, missing))
}

/// Refuses to pool the seeds of a run whose configurations differ in anything but the seed (and
/// the backend that trained them): their mean ± sd would mix two experiments.
pub(super) fn check_pooled(runs: &[PathBuf]) -> Result<()> {
    let mut first: Vec<TrainingConfig> = Vec::new();
    for dir in runs {
        let config = TrainingConfig::of_run(dir)?;
        let Some(base) = first
            .iter()
            .find(|c| run_of(&c.name) == run_of(&config.name))
        else {
            first.push(config);
            continue;
        };
        let diffs: Vec<String> = config_diff(base, &config)
            .into_iter()
            .filter(|d| !matches!(d.setting, Setting::Seed | Setting::Backend))
            .map(|d| d.to_string())
            .collect();
        if !diffs.is_empty() {
            return Err(Error::Pooling {
                runs: (base.name.clone(), config.name.clone()),
                diffs: diffs.join(", "),
            });
        }
    }
    Ok(())
}
