//! One training run with Burn's `SupervisedTraining` learner: data, model, checkpoints, resume.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Result, bail};
use burn::train::checkpoint::{CheckpointerError, KeepLastNCheckpoints};
use burn::train::metric::LossMetric;
use burn::train::{Learner, SupervisedTraining, TrainingError};
use data::{Mnist, NoisedMnist, Split};

use crate::artifacts::{self, AtomicFileCheckpointer, CHECKPOINT_DIR, KeepRecentAndBest};
use crate::backend::Backend;
use crate::config::TrainingConfig;
use crate::loader::EpochLoader;
use crate::logs::RunLogs;
use crate::progress::RunProgress;
use crate::renderer::{Divergence, EPOCHS_CSV, EpochLines, EpochRecord};
use crate::run::{self, Found, Plan, RunLock, Start};

/// Where and how to run a [`TrainingConfig`].
#[derive(Debug, Clone)]
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
    /// The job this run is part of, told after each epoch (the report's progress).
    pub progress: Option<RunProgress>,
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
            progress: None,
        }
    }
}

/// What a finished run produced.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// The epochs trained by this invocation (not those of a resumed run's earlier part).
    pub epochs: Vec<EpochRecord>,
    /// The final model file.
    pub model_path: PathBuf,
    /// Training images per epoch.
    pub train_images: usize,
    /// Wall-clock seconds of the whole invocation, data loading included.
    pub seconds: f64,
}

/// Why a run stopped before its last epoch, and what of it is kept; the program adds how to go on.
#[derive(Debug, thiserror::Error)]
pub enum Stopped {
    /// Ctrl-C, SIGTERM or SIGHUP.
    #[error("stopped by {} during epoch {during}; {}", crate::interrupt::describe(*signal), kept_text(*kept))]
    Signal {
        /// The signal number.
        signal: i32,
        /// The epoch that was cut short.
        during: usize,
        /// The newest epoch whose checkpoint is kept (0: none).
        kept: usize,
    },
    /// A loss became NaN or infinite.
    #[error("training diverged: {divergence} (learning rate {learning_rate:?}); {}", kept_text(*kept))]
    Diverged {
        /// Where.
        divergence: Divergence,
        /// The run's learning rate.
        learning_rate: f64,
        /// The newest epoch whose checkpoint is kept (0: none).
        kept: usize,
    },
    /// Writing a checkpoint or a log failed (a full disk, say), or training failed otherwise.
    #[error("{message}; {}{}", match unsaved { Some(e) => format!("epoch {e} was shown but could not be saved; "), None => String::new() }, kept_text(*kept))]
    Failed {
        /// What failed.
        message: String,
        /// The newest epoch that finished but has no checkpoint, if any.
        unsaved: Option<usize>,
        /// The newest epoch whose checkpoint is kept (0: none).
        kept: usize,
    },
}

impl Stopped {
    /// The process exit code a shell gives this stop: 128 + the signal, else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            Stopped::Signal { signal, .. } => (128 + signal).clamp(0, 255) as u8,
            _ => 1,
        }
    }
}

fn kept_text(kept: usize) -> String {
    match kept {
        0 => "no epoch was saved".to_string(),
        k => format!("the checkpoint of epoch {k} is kept"),
    }
}

/// Seed of the test set's noise masks, distinct from the training set's.
pub fn test_noise_seed(seed: u64) -> u64 {
    seed ^ 0x7e57_7e57_7e57_7e57
}

/// The training and test sets of `config`, noised as the config says.
pub fn datasets(config: &TrainingConfig, data_dir: &Path) -> Result<(NoisedMnist, NoisedMnist)> {
    let mut train = Mnist::load(data_dir, Split::Train)?;
    if let Some(limit) = config.limit {
        if limit > train.len() {
            bail!(
                "limit: {limit} is more than the {} training images",
                train.len()
            );
        }
        train = train.limit(limit);
    }
    let test = Mnist::load(data_dir, Split::Test)?;
    Ok((
        NoisedMnist::new(train, config.noise, config.seed),
        NoisedMnist::new(test, config.noise, test_noise_seed(config.seed)),
    ))
}

/// Trains `config` as `options` say, printing one line per epoch, and saves the final model
/// and `config.json` into the run directory. The directory is locked while it is written, and a
/// run of another configuration in it is refused (see [`crate::run`]).
pub fn train(config: &TrainingConfig, options: &RunOptions) -> Result<RunSummary> {
    let started = Instant::now();
    let mut config = config.clone();
    config.backend = Some(options.backend.name().to_string());
    config.validate()?;
    // Everything that can fail without touching the run directory fails first.
    let (train_set, test_set) = datasets(&config, &options.data_dir)?;
    if config.batch_size > train_set.len() {
        bail!(
            "the batch size ({}) is larger than the {} training image{} this run uses: choose a batch size of at most {} (--batch-size) or more images (--limit)",
            config.batch_size,
            train_set.len(),
            plural(train_set.len()),
            train_set.len()
        );
    }
    let train_images = train_set.len();
    let device = options.backend.device()?;
    let run_dir = &options.run_dir;
    let _lock = RunLock::acquire(run_dir)?;
    let found = Found::read(run_dir);
    if let (Start::Resume { epochs: None }, Some(Ok(saved))) = (options.start, &found.config) {
        config.epochs = saved.epochs;
    }
    let model_path = run_dir.join(artifacts::MODEL_FILE);
    let nothing_to_do = || RunSummary {
        epochs: Vec::new(),
        model_path: model_path.clone(),
        train_images,
        seconds: started.elapsed().as_secs_f64(),
    };
    let start_epoch = match run::plan(run_dir, &found, &config, options.start)? {
        Plan::Finished(epochs) => {
            crate::out!(
                "{}: this run is finished ({epochs} epoch{}); nothing to do (--overwrite trains it again)",
                run_dir.display(),
                plural(epochs)
            );
            return Ok(nothing_to_do());
        }
        Plan::FinishAt(epoch) => {
            say_mending(run_dir, &found, epoch);
            finish_at_checkpoint(&config, run_dir, epoch)?;
            crate::out!(
                "{}: already trained for {epoch} epoch{} (asked for {}); saved the model of epoch {epoch} as {}",
                run_dir.display(),
                plural(epoch),
                config.epochs,
                model_path.display()
            );
            return Ok(nothing_to_do());
        }
        Plan::Restart => {
            artifacts::check_free_space(run_dir, artifacts::disk_reserve(&config))?;
            match (options.start, &found.config) {
                (_, None) => {}
                (Start::Overwrite, Some(_)) => crate::out!(
                    "{}: replacing the run it held (--overwrite)",
                    run_dir.display()
                ),
                (_, Some(_)) => crate::out!(
                    "{}: no valid checkpoint to continue from; starting from epoch 1",
                    run_dir.display()
                ),
            }
            run::clear(run_dir)?;
            artifacts::save_config(&config, run_dir)?;
            0
        }
        Plan::ResumeAfter(epoch) => {
            say_mending(run_dir, &found, epoch);
            artifacts::check_free_space(run_dir, artifacts::disk_reserve(&config))?;
            run::reopen(run_dir, &config, epoch)?;
            epoch
        }
    };

    crate::out!("{}: {}", config.name, config.summary());
    crate::out!(
        "device: {}; {} training / {} test images; artifacts in {}",
        options.backend.describe(),
        train_set.len(),
        test_set.len(),
        run_dir.display()
    );
    if let Some(note) = options.backend.startup_note() {
        crate::out!("{note}");
    }
    device.seed(config.seed);
    let train_device = device.clone().autodiff();
    let mut model = config.model.init(&train_device);
    if let Some(path) = &options.initial_model {
        model = artifacts::load_model_file(path, &config, &train_device)?;
    }

    let loader_train = Arc::new(EpochLoader::shuffled(
        train_set,
        config.batch_size,
        train_device,
        config.seed,
        start_epoch + 1,
    ));
    let loader_test = Arc::new(EpochLoader::sequential(test_set, config.batch_size, device));

    let history = Arc::new(Mutex::new(Vec::new()));
    let divergence = Arc::new(Mutex::new(None));
    let checkpoints = run_dir.join(CHECKPOINT_DIR);
    let (model_checkpoints, optim_checkpoints, scheduler_checkpoints) =
        AtomicFileCheckpointer::set(&checkpoints);
    let mut training = SupervisedTraining::new(run_dir, loader_train, loader_test)
        .metric_train_numeric(LossMetric::new())
        .metric_valid_numeric(LossMetric::new())
        .with_custom_checkpointers(model_checkpoints, optim_checkpoints, scheduler_checkpoints)
        .with_checkpointing_strategy(KeepRecentAndBest::new(run_dir))
        .num_epochs(config.epochs);
    let interrupter = training.interrupter();
    training = training
        .with_metric_logger(RunLogs::new(run_dir, interrupter.clone()))
        .renderer(Box::new(EpochLines::new(
            run_dir.join(EPOCHS_CSV),
            history.clone(),
            interrupter.clone(),
            divergence.clone(),
            options.progress.clone(),
        )));
    if options.keep_all_checkpoints {
        training = training.with_checkpointing_strategy(KeepLastNCheckpoints::new(usize::MAX));
    }
    if start_epoch > 0 {
        crate::out!(
            "resuming after epoch {start_epoch} from {}",
            checkpoints.display()
        );
        training = training.checkpoint(start_epoch);
    }

    let learner = Learner::new(
        model,
        crate::adam::optimizer(&config.optimizer, options.backend),
        config.learning_rate,
    );
    let signals = crate::interrupt::stop_on_signal(interrupter);
    let result = training.launch(learner);
    drop(signals);
    // Burn's learner wraps the panic hook with a banner naming the first run's experiment.log,
    // which would then blame that run for any later failure (the report's measuring): ours again.
    crate::install_panic_hook();
    let epochs = history.lock().unwrap().clone();
    let divergence = *divergence.lock().unwrap();
    let stopped = result.error.is_some() || divergence.is_some() || result.interrupted.is_some();
    if stopped {
        let error = result.error.as_deref();
        return Err(explain_stop(&config, run_dir, error, divergence, &epochs, start_epoch).into());
    }
    // config.json first, the final model last: a run with model.bpk is a finished one.
    artifacts::save_config(&config, run_dir)?;
    let model_path = artifacts::save_model(result.model, run_dir)?;
    Ok(RunSummary {
        epochs,
        model_path,
        train_images,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// What stopped a run, after keeping only its whole, checkpointed epochs on record.
fn explain_stop(
    config: &TrainingConfig,
    run_dir: &Path,
    error: Option<&TrainingError>,
    divergence: Option<Divergence>,
    epochs: &[EpochRecord],
    start_epoch: usize,
) -> Stopped {
    let kept = artifacts::latest_valid_checkpoint(run_dir, config, usize::MAX, false).unwrap_or(0);
    run::trim_to_epoch(run_dir, kept).ok();
    let shown = epochs.last().map_or(start_epoch, |r| r.epoch);
    if let Some(error) = error {
        let message = match error {
            TrainingError::Checkpoint(CheckpointerError::IOError(e)) => e.to_string(),
            other => format!("training failed: {other}"),
        };
        return Stopped::Failed {
            message,
            unsaved: (shown > kept).then_some(shown),
            kept,
        };
    }
    if let Some(divergence) = divergence {
        return Stopped::Diverged {
            divergence,
            learning_rate: config.learning_rate,
            kept,
        };
    }
    Stopped::Signal {
        signal: crate::interrupt::received().unwrap_or(2),
        during: shown + 1,
        kept,
    }
}

/// Says that a finished run whose files disagree is being mended from the checkpoint of `epoch`.
fn say_mending(run_dir: &Path, found: &Found, epoch: usize) {
    if let (true, Err(what)) = (found.finished, &found.coherent) {
        crate::err!(
            "note: {}: files disagree ({what}); mending the run from the checkpoint of epoch {epoch}",
            run_dir.display()
        );
    }
}

/// Finishes a run that has nothing left to train: its newest checkpoint (of `epoch`) becomes the
/// final model, and `config.json`, the epoch log and the metric logs say `epoch` epochs.
fn finish_at_checkpoint(config: &TrainingConfig, run_dir: &Path, epoch: usize) -> Result<()> {
    let checkpoint = artifacts::checkpoint_path(&run_dir.join(CHECKPOINT_DIR), "model", epoch);
    let model = artifacts::load_model_file(&checkpoint, config, &burn::tensor::Device::flex())?;
    let mut trained = config.clone();
    trained.epochs = epoch;
    artifacts::save_config(&trained, run_dir)?;
    run::trim_to_epoch(run_dir, epoch)?;
    artifacts::save_model(model, run_dir)?;
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
