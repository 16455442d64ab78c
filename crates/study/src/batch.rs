//! Runs trained as one job (the report's, a sweep's points): every run checked before the first
//! trains, so that a refusal changes nothing; finished runs reused; progress across the job.

use std::path::{Path, PathBuf};

use crate::backend::Backend;
use crate::config::{TrainingConfig, count};
use crate::error::Result;
use crate::progress::{JobProgress, RunProgress, epoch_units};
use crate::run::{Plan, Start, check_start};
use crate::training::{RunOptions, train};

/// Where and how a job's runs train.
pub(crate) struct Batch<'a> {
    /// Root of the runs: each in `<root>/<name>`.
    pub(crate) root: &'a Path,
    /// Directory of the MNIST files.
    pub(crate) data_dir: &'a Path,
    /// The backend that trains them.
    pub(crate) backend: Backend,
    /// What the job's progress lines start with (`report:`).
    pub(crate) prefix: &'a str,
}

/// Trains what is missing of `configs` (every run is checked before the first one trains: a
/// refusal changes nothing); returns the run directories and the seconds of the epochs trained.
pub(crate) fn train_missing(
    batch: &Batch<'_>,
    configs: &[TrainingConfig],
) -> Result<(Vec<PathBuf>, f64)> {
    // What `train` will check, with the backend it will record.
    let backend = Some(batch.backend.name().to_string());
    let configs: Vec<TrainingConfig> = configs
        .iter()
        .map(|c| c.clone().with_backend(backend.clone()))
        .collect();
    let mut plans = Vec::new();
    for config in &configs {
        plans.push(check_start(
            &batch.root.join(&config.name),
            config,
            Start::Continue,
        )?);
    }
    let job = JobProgress::new(
        batch.prefix,
        configs.len(),
        remaining_units(&configs, &plans),
    );
    let (mut available, mut seconds) = (Vec::new(), 0.0);
    for (config, plan) in configs.iter().zip(&plans) {
        let dir = batch.root.join(&config.name);
        let what = match plan {
            Plan::Restart => format!("training {}", count(config.epochs, "epoch")),
            Plan::ResumeAfter(k) => format!("resuming after epoch {k} of {}", config.epochs),
            Plan::FinishAt(_) | Plan::Finished(_) => "finished, reused".into(),
        };
        crate::out!("{}", job.start_run(&config.name, &format!(": {what}")));
        let mut run = RunOptions::new(dir.clone(), batch.data_dir.to_path_buf(), batch.backend);
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
