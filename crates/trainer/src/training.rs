//! One training run with Burn's `SupervisedTraining` learner: plan what the run directory allows,
//! build the learner (data, model, checkpoints, logs), run it, then finish the run or say why it
//! stopped.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::tensor::Device;
use burn::train::checkpoint::{CheckpointerError, KeepLastNCheckpoints};
use burn::train::metric::LossMetric;
use burn::train::{Learner, SupervisedTraining, TrainingError};
use data::{EpochLoader, NoisedMnist};

use crate::backend::Backend;
use crate::checkpoint::{self, AtomicFileCheckpointer, CHECKPOINT_DIR, KeepRecentAndBest};
use crate::config::TrainingConfig;
use crate::epochs::{EPOCHS_CSV, EpochRecord};
use crate::error::{Error, Result};
use crate::events::{Event, Sink, no_events};
use crate::files::check_free_space;
use crate::lock::RunLock;
use crate::logs::RunLogs;
use crate::renderer::EpochLines;
use crate::run_dir::{self, Found, Plan, Start};
use crate::stop::Divergence;
pub use crate::stop::Stopped;
/// How a caller stops a run after its current step (Burn's learner's own).
pub use burn::train::Interrupter;

/// Where and how to run a [`TrainingConfig`].
#[derive(Clone)]
pub struct RunOptions {
    /// The run's own directory (`artifacts/case7`).
    pub run_dir: PathBuf,
    /// Directory holding the four MNIST IDX files.
    pub data_dir: PathBuf,
    /// Backend to train on.
    pub backend: Backend,
    /// What to do with a run the directory already holds.
    pub start: Start,
    /// Start from the weights in this model file instead of a fresh initialisation.
    pub initial_model: Option<PathBuf>,
    /// Keep every epoch's checkpoint (default: the last two and the best).
    pub keep_all_checkpoints: bool,
    /// Where the run's events go (its start, its steps and epochs).
    pub events: Sink,
    /// Take over a lock another machine's process left (see [`RunLock::acquire_as`]).
    pub break_lock: bool,
    /// How the caller stops the run after its current step (its message says why: it becomes
    /// the stop's reason).
    pub interrupter: Interrupter,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("run_dir", &self.run_dir)
            .field("backend", &self.backend)
            .field("start", &self.start)
            .finish_non_exhaustive()
    }
}

impl RunOptions {
    /// Options for a fresh run in `run_dir` on `backend`, reading MNIST from `data_dir`.
    pub fn new(run_dir: PathBuf, data_dir: PathBuf, backend: Backend) -> Self {
        Self {
            run_dir,
            data_dir,
            backend,
            start: Start::Fresh,
            initial_model: None,
            keep_all_checkpoints: false,
            events: no_events(),
            break_lock: false,
            interrupter: Interrupter::new(),
        }
    }
}

/// What an invocation of [`train`] did.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// It trained: the epochs of this invocation (not those of a resumed run's earlier part).
    Trained {
        /// The epochs trained now.
        epochs: Vec<EpochRecord>,
        /// The final model file.
        model_path: PathBuf,
        /// Wall-clock seconds of the whole invocation, data loading included.
        seconds: f64,
    },
    /// The run was finished already, with these epochs: nothing to do.
    AlreadyFinished {
        /// Its epochs.
        epochs: usize,
    },
    /// Nothing was left to train: the checkpoint of `epoch` became the final model.
    FinishedAt {
        /// The checkpoint's epoch.
        epoch: usize,
        /// The epochs asked for.
        asked: usize,
    },
}

impl Outcome {
    /// The epochs trained by this invocation (none if it trained nothing).
    pub fn trained(&self) -> &[EpochRecord] {
        match self {
            Outcome::Trained { epochs, .. } => epochs,
            _ => &[],
        }
    }
}

/// Trains `config` as `options` say, telling `options.events` of each step and epoch, and saves
/// the final model
/// and `config.json` into the run directory. The directory is locked while it is written, and a
/// run of another configuration in it is refused (see [`crate::run_dir`]).
pub fn train(config: &TrainingConfig, options: &RunOptions) -> Result<Outcome> {
    let started = Instant::now();
    let mut config = config
        .clone()
        .with_backend(Some(options.backend.name().to_string()));
    config.validate()?;
    // Everything that can fail without touching the run directory fails first.
    let (train_set, test_set) = config.datasets(&options.data_dir)?;
    if config.batch_size > train_set.len() {
        return Err(Error::BatchTooLarge {
            batch: config.batch_size,
            images: train_set.len(),
        });
    }
    let device = options.backend.device()?;
    let run_dir = &options.run_dir;
    let lock = RunLock::acquire_as(run_dir, options.break_lock)?;
    if let Some(holder) = &lock.took_over {
        let (dir, holder) = (run_dir.clone(), holder.clone());
        options.events.event(&Event::LockTakenOver { dir, holder });
    }
    let found = Found::read(run_dir);
    for (epoch, why) in &found.skipped {
        let (epoch, why) = (*epoch, why.clone());
        options
            .events
            .event(&Event::CheckpointSkipped { epoch, why });
    }
    if let (Start::Resume { epochs: None }, Some(Ok(saved))) = (options.start, &found.config) {
        config.epochs = saved.epochs;
    }
    let start_epoch = match run_dir::plan(run_dir, &found, &config, options.start)? {
        Plan::Finished(epochs) => return Ok(Outcome::AlreadyFinished { epochs }),
        Plan::FinishAt(epoch) => {
            say_mending(options, &found, epoch);
            finish_at_checkpoint(&config, run_dir, epoch)?;
            let asked = config.epochs;
            return Ok(Outcome::FinishedAt { epoch, asked });
        }
        Plan::Restart => start_over(&config, options, &found)?,
        Plan::ResumeAfter(epoch) => {
            say_mending(options, &found, epoch);
            check_free_space(run_dir, checkpoint::disk_reserve(&config))?;
            run_dir::reopen(run_dir, &config, epoch)?;
            epoch
        }
    };
    announce(&config, options, &train_set, &test_set);
    let sets = (train_set, test_set);
    let trained = run_learner(&config, options, sets, device, start_epoch);
    options.events.event(&Event::RunEnded {
        name: config.name.clone(),
    });
    let (epochs, model) = trained?;
    // config.json first, the final model last: a run with model.bpk is a finished one.
    config.save_in(run_dir)?;
    let model_path = checkpoint::save_model(model, run_dir)?;
    Ok(Outcome::Trained {
        epochs,
        model_path,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Clears the run directory for a run from epoch 1 (saying why when it held one); returns 0, the
/// epoch the run starts after.
fn start_over(config: &TrainingConfig, options: &RunOptions, found: &Found) -> Result<usize> {
    let run_dir = &options.run_dir;
    check_free_space(run_dir, checkpoint::disk_reserve(config))?;
    let dir = run_dir.clone();
    match (options.start, &found.config) {
        (_, None) => {}
        (Start::Overwrite, Some(_)) => options.events.event(&Event::Replacing { dir }),
        (_, Some(_)) => options.events.event(&Event::StartingOver { dir }),
    }
    run_dir::clear(run_dir)?;
    config.save_in(run_dir)?;
    Ok(0)
}

/// The run's first lines: what it trains, on which device, with how many images, where.
fn announce(
    config: &TrainingConfig,
    options: &RunOptions,
    train: &NoisedMnist,
    test: &NoisedMnist,
) {
    options.events.event(&Event::RunStarting {
        name: config.name.clone(),
        summary: config.summary(),
        device: options.backend.describe(),
        train_images: train.len(),
        test_images: test.len(),
        dir: options.run_dir.clone(),
        note: options.backend.startup_note(),
    });
}

/// A run's initial weights on `device`'s autodiff device: the first draws after seeding it with
/// the run's seed. The same call gives the same weights again, so the start of a run trained on
/// `device`'s backend can be recomputed exactly (how far each unit moved).
pub fn initial_model(config: &TrainingConfig, device: &Device) -> model::Autoencoder {
    device.seed(config.seed);
    config.model.init(&device.clone().autodiff())
}

/// What the renderer records while the learner runs.
#[derive(Clone, Default)]
struct Watch {
    history: Arc<Mutex<Vec<EpochRecord>>>,
    divergence: Arc<Mutex<Option<Divergence>>>,
}

/// Builds Burn's learner for the run (data loaders, model, checkpointers, logs, renderer) and
/// runs it from `start_epoch`; returns the epochs trained and the final model, or why it stopped.
fn run_learner(
    config: &TrainingConfig,
    options: &RunOptions,
    (train_set, test_set): (NoisedMnist, NoisedMnist),
    device: Device,
    start_epoch: usize,
) -> Result<(Vec<EpochRecord>, model::Autoencoder)> {
    let train_device = device.clone().autodiff();
    let model = match &options.initial_model {
        Some(path) => {
            device.seed(config.seed);
            checkpoint::load_model_file(path, config, &train_device)?
        }
        None => initial_model(config, &device),
    };
    let batch = config.batch_size;
    let loader_train =
        EpochLoader::shuffled(train_set, batch, train_device, config.seed, start_epoch + 1);
    let loader_test = EpochLoader::sequential(test_set, batch, device);
    let watch = Watch::default();
    let training = supervised(
        config,
        options,
        (loader_train, loader_test),
        &watch,
        start_epoch,
    );
    let learner = Learner::new(
        model,
        crate::adam::optimizer(&config.optimizer, options.backend),
        config.learning_rate,
    );
    let result = training.launch(learner);
    let epochs = watch.history.lock().unwrap().clone();
    let divergence = *watch.divergence.lock().unwrap();
    if result.error.is_some() || divergence.is_some() || result.interrupted.is_some() {
        let error = result.error.as_deref();
        let stop = explain_stop(config, options, error, divergence, &epochs, start_epoch);
        return Err(stop.into());
    }
    Ok((epochs, result.model))
}

/// Burn's `SupervisedTraining` of the run: loss metrics, checkpointers and their strategy, the
/// metric logs, the epoch renderer, and the checkpoint to resume from.
fn supervised(
    config: &TrainingConfig,
    options: &RunOptions,
    (train, test): (EpochLoader, EpochLoader),
    watch: &Watch,
    start_epoch: usize,
) -> SupervisedTraining<model::Autoencoder> {
    let run_dir = &options.run_dir;
    let checkpoints = run_dir.join(CHECKPOINT_DIR);
    let (model_files, optim_files, scheduler_files) = AtomicFileCheckpointer::set(&checkpoints);
    let log = crate::logs::ExperimentLog::new(run_dir.join("experiment.log"));
    let mut training = SupervisedTraining::new(run_dir, Arc::new(train), Arc::new(test))
        .with_interrupter(options.interrupter.clone())
        .with_application_logger(Some(Box::new(log)))
        .metric_train_numeric(LossMetric::new())
        .metric_valid_numeric(LossMetric::new())
        .with_custom_checkpointers(model_files, optim_files, scheduler_files)
        .num_epochs(config.epochs);
    training = if options.keep_all_checkpoints {
        training.with_checkpointing_strategy(KeepLastNCheckpoints::new(usize::MAX))
    } else {
        training.with_checkpointing_strategy(KeepRecentAndBest::new(run_dir))
    };
    let interrupter = training.interrupter();
    training = training
        .with_metric_logger(RunLogs::new(run_dir, interrupter.clone()))
        .renderer(Box::new(EpochLines::new(
            run_dir.join(EPOCHS_CSV),
            watch.history.clone(),
            interrupter,
            watch.divergence.clone(),
            (config.name.clone(), options.events.clone()),
        )));
    if start_epoch > 0 {
        let from = checkpoints.clone();
        options.events.event(&Event::Resuming {
            epoch: start_epoch,
            from,
        });
        training = training.checkpoint(start_epoch);
    }
    training
}

/// What stopped a run, after keeping only its whole, checkpointed epochs on record.
fn explain_stop(
    config: &TrainingConfig,
    options: &RunOptions,
    error: Option<&TrainingError>,
    divergence: Option<Divergence>,
    epochs: &[EpochRecord],
    start_epoch: usize,
) -> Stopped {
    let run_dir = &options.run_dir;
    let kept = checkpoint::latest_valid_checkpoint(run_dir, config, usize::MAX)
        .0
        .unwrap_or(0);
    run_dir::trim_to_epoch(run_dir, kept).ok();
    let shown = epochs.last().map_or(start_epoch, |r| r.epoch);
    if let Some(error) = error {
        let message = match error {
            TrainingError::Checkpoint(CheckpointerError::IOError(e)) => e.to_string(),
            other => format!("training failed: {other}"),
        };
        let unsaved = (shown > kept).then_some(shown);
        return Stopped::Failed {
            message,
            unsaved,
            kept,
        };
    }
    if let Some(divergence) = divergence {
        let learning_rate = config.learning_rate;
        return Stopped::Diverged {
            divergence,
            learning_rate,
            kept,
        };
    }
    Stopped::Asked {
        reason: options.interrupter.get_message(),
        during: (shown < config.epochs).then_some(shown + 1),
        kept,
    }
}

/// Says that a finished run whose files disagree is being mended from the checkpoint of `epoch`.
fn say_mending(options: &RunOptions, found: &Found, epoch: usize) {
    if let (true, Err(what)) = (found.finished, &found.coherent) {
        options.events.event(&Event::Mending {
            dir: options.run_dir.clone(),
            what: what.to_string(),
            epoch,
        });
    }
}

/// Finishes a run that has nothing left to train: its newest checkpoint (of `epoch`) becomes the
/// final model, and `config.json`, the epoch log and the metric logs say `epoch` epochs.
fn finish_at_checkpoint(config: &TrainingConfig, run_dir: &Path, epoch: usize) -> Result<()> {
    let checkpoint = checkpoint::checkpoint_path(&run_dir.join(CHECKPOINT_DIR), "model", epoch);
    let model = checkpoint::load_model_file(&checkpoint, config, &Device::flex())?;
    let trained = config.clone().with_epochs(epoch);
    trained.save_in(run_dir)?;
    run_dir::trim_to_epoch(run_dir, epoch)?;
    checkpoint::save_model(model, run_dir)?;
    Ok(())
}
