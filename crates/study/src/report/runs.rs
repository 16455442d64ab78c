//! The report's runs: trains what is missing (after checking every run first), or, with
//! `--reuse`, takes the finished ones; and refuses to pool seeds of different experiments.

use std::path::{Path, PathBuf};

use crate::config::{TrainingConfig, count};
use crate::error::{Error, Result};
use crate::progress::{JobProgress, RunProgress, epoch_units};
use crate::run::{Found, Plan, RunError, Setting, Start, check_start, config_diff, plan};
use crate::training::{RunOptions, train};

use super::plan::{ReportOptions, run_of};

/// Trains what is missing of `configs` (every run is checked before the first one trains: a
/// refusal changes nothing); returns the run directories and the seconds of the epochs trained.
pub(super) fn train_missing(
    options: &ReportOptions,
    configs: &[TrainingConfig],
) -> Result<(Vec<PathBuf>, f64)> {
    // What `train` will check, with the backend it will record.
    let backend = Some(options.backend.name().to_string());
    let configs: Vec<TrainingConfig> = configs
        .iter()
        .map(|c| c.clone().with_backend(backend.clone()))
        .collect();
    let mut plans = Vec::new();
    for config in &configs {
        plans.push(check_start(
            &options.root.join(&config.name),
            config,
            Start::Continue,
        )?);
    }
    let job = JobProgress::new("report:", configs.len(), remaining_units(&configs, &plans));
    let (mut available, mut seconds) = (Vec::new(), 0.0);
    for (config, plan) in configs.iter().zip(&plans) {
        let dir = options.root.join(&config.name);
        let what = match plan {
            Plan::Restart => format!("training {}", count(config.epochs, "epoch")),
            Plan::ResumeAfter(k) => format!("resuming after epoch {k} of {}", config.epochs),
            Plan::FinishAt(_) | Plan::Finished(_) => "finished, reused".into(),
        };
        crate::out!("{}", job.start_run(&config.name, &format!(": {what}")));
        let mut run = RunOptions::new(dir.clone(), options.data_dir.clone(), options.backend);
        run.start = Start::Continue;
        run.progress = Some(RunProgress {
            job: job.clone(),
            epoch_units: epoch_units(config.train_images(), config.model.hidden),
        });
        let outcome = train(config, &run)?;
        seconds += outcome.trained().iter().map(|r| r.seconds()).sum::<f64>();
        available.push(dir);
    }
    Ok((available, seconds))
}

/// The units of training left in the job: each epoch to train, weighed by its arithmetic.
fn remaining_units(configs: &[TrainingConfig], plans: &[Plan]) -> f64 {
    let epochs_left = |config: &TrainingConfig, plan: &Plan| match plan {
        Plan::Restart => config.epochs,
        Plan::ResumeAfter(k) => config.epochs.saturating_sub(*k),
        Plan::FinishAt(_) | Plan::Finished(_) => 0,
    };
    configs
        .iter()
        .zip(plans)
        .map(|(c, p)| epochs_left(c, p) as f64 * epoch_units(c.train_images(), c.model.hidden))
        .sum()
}

/// The finished runs of `configs` under `root` (`--reuse`), and the names of those that are not
/// finished. A run of another configuration, or one whose files disagree, is refused.
pub(super) fn finished_runs(
    root: &Path,
    configs: &[TrainingConfig],
) -> Result<(Vec<PathBuf>, Vec<String>)> {
    let (mut available, mut missing) = (Vec::new(), Vec::new());
    for config in configs {
        let dir = root.join(&config.name);
        let found = Found::read(&dir);
        if !found.finished {
            crate::out!("{}: no finished run; left out (--reuse)", dir.display());
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
