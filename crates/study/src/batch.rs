//! Runs trained as one job (the report's, a sweep's points): every run checked before the first
//! trains, so that a refusal changes nothing; finished runs reused; each run's progress told as
//! events. A run of the job can also be trained alone, by name (what a scheduler's task does).

use std::path::{Path, PathBuf};

use crate::study_error::{Error, Result};
use trainer::backend::Backend;
use trainer::config::TrainingConfig;
use trainer::events::{Event, Job, JobRun, Left, Sink, epoch_units};
use trainer::run_dir::{Plan, Start, check_start};
use trainer::training::{Outcome, RunOptions, train};

/// Where and how a job's runs train.
pub(crate) struct Batch<'a> {
    /// Root of the runs: each in `<root>/<name>`.
    pub(crate) root: &'a Path,
    /// Directory of the MNIST files.
    pub(crate) data_dir: &'a Path,
    /// The backend that trains them.
    pub(crate) backend: Backend,
    /// Which job.
    pub(crate) job: Job,
    /// Where its events go.
    pub(crate) events: &'a Sink,
    /// Take over a lock another machine's process left.
    pub(crate) break_lock: bool,
    /// How the caller stops the job's runs.
    pub(crate) interrupter: &'a trainer::training::Interrupter,
}

impl Batch<'_> {
    /// `configs` with the backend that trains them, as `train` will record it.
    fn with_backend(&self, configs: &[TrainingConfig]) -> Vec<TrainingConfig> {
        let backend = Some(self.backend.name().to_string());
        configs
            .iter()
            .map(|c| c.clone().with_backend(backend.clone()))
            .collect()
    }

    /// What is left of each of `configs`, every run checked first (a refusal changes nothing).
    pub(crate) fn check(&self, configs: &[TrainingConfig]) -> Result<Vec<JobRun>> {
        self.with_backend(configs)
            .iter()
            .map(|config| {
                let plan = check_start(&self.root.join(&config.name), config, Start::Continue)?;
                Ok(job_run(config, &plan))
            })
            .collect()
    }

    /// Trains run `config` of the job in this process.
    fn train_one(&self, config: &TrainingConfig) -> Result<Outcome> {
        let dir = self.root.join(&config.name);
        let mut run = RunOptions::new(dir, self.data_dir.to_path_buf(), self.backend);
        run.start = Start::Continue;
        run.events = self.events.clone();
        run.break_lock = self.break_lock;
        run.interrupter = self.interrupter.clone();
        Ok(train(config, &run)?)
    }
}

/// What is left of run `config`, as `plan` says.
fn job_run(config: &TrainingConfig, plan: &Plan) -> JobRun {
    let left = match plan {
        Plan::Restart => Left::Train {
            epochs: config.epochs,
        },
        Plan::ResumeAfter(k) => Left::Resume {
            after: *k,
            of: config.epochs,
        },
        Plan::FinishAt(_) | Plan::Finished(_) => Left::Nothing,
    };
    JobRun {
        name: config.name.clone(),
        left,
        epoch_units: epoch_units(config.train_images(), config.model.hidden),
    }
}

/// Trains what is missing of `configs` in this process, one run after the other (every run is
/// checked before the first one trains: a refusal changes nothing); returns the run directories
/// and the seconds of the epochs trained.
pub(crate) fn train_missing(
    batch: &Batch<'_>,
    configs: &[TrainingConfig],
) -> Result<(Vec<PathBuf>, f64)> {
    let runs = batch.check(configs)?;
    let job = batch.job;
    batch.events.event(&Event::JobPlanned { job, runs });
    let (mut available, mut seconds) = (Vec::new(), 0.0);
    for (index, config) in batch.with_backend(configs).iter().enumerate() {
        batch.events.event(&Event::JobRunStarted { job, index });
        let outcome = batch.train_one(config)?;
        seconds += outcome.trained().iter().map(|r| r.seconds()).sum::<f64>();
        available.push(batch.root.join(&config.name));
    }
    Ok((available, seconds))
}

/// Trains run `name` of the job `configs` alone (a scheduler's task, or one of several at once):
/// it continues from its checkpoint, or does nothing if it is finished.
pub(crate) fn train_named(
    batch: &Batch<'_>,
    configs: &[TrainingConfig],
    name: &str,
) -> Result<Outcome> {
    let config = batch
        .with_backend(configs)
        .into_iter()
        .find(|c| c.name == name)
        .ok_or_else(|| Error::NotInJob {
            name: name.to_string(),
            runs: configs.iter().map(|c| c.name.clone()).collect(),
        })?;
    batch.train_one(&config)
}
