//! One training run with Burn's `SupervisedTraining` learner: data, model, checkpoints, resume.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::train::checkpoint::KeepLastNCheckpoints;
use burn::train::metric::LossMetric;
use burn::train::{Learner, SupervisedTraining};
use data::{Mnist, NoisedMnist, Split};

use crate::artifacts::{self, AtomicFileCheckpointer, CHECKPOINT_DIR};
use crate::backend::Backend;
use crate::config::TrainingConfig;
use crate::loader::EpochLoader;
use crate::renderer::{EpochLines, EpochRecord, truncate_epochs};

/// Where and how to run a [`TrainingConfig`].
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The run's own directory (`artifacts/case7`).
    pub run_dir: PathBuf,
    /// Directory holding the four MNIST IDX files.
    pub data_dir: PathBuf,
    /// Backend to train on.
    pub backend: Backend,
    /// Continue from the newest valid checkpoint in `run_dir`.
    pub resume: bool,
    /// Start from the weights in this model file instead of a fresh initialisation.
    pub initial_model: Option<PathBuf>,
    /// Keep every epoch's checkpoint (default: the last two and the best).
    pub keep_all_checkpoints: bool,
}

impl RunOptions {
    /// Options for a fresh run in `run_dir` on `backend`, reading MNIST from `data_dir`.
    pub fn new(run_dir: PathBuf, data_dir: PathBuf, backend: Backend) -> Self {
        Self {
            run_dir,
            data_dir,
            backend,
            resume: false,
            initial_model: None,
            keep_all_checkpoints: false,
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

/// Seed of the test set's noise masks, distinct from the training set's.
pub fn test_noise_seed(seed: u64) -> u64 {
    seed ^ 0x7e57_7e57_7e57_7e57
}

/// The training and test sets of `config`, noised as the config says.
pub fn datasets(config: &TrainingConfig, data_dir: &Path) -> Result<(NoisedMnist, NoisedMnist)> {
    let mut train = Mnist::load(data_dir, Split::Train)?;
    if let Some(limit) = config.limit {
        train = train.limit(limit);
    }
    let test = Mnist::load(data_dir, Split::Test)?;
    Ok((
        NoisedMnist::new(train, config.noise, config.seed),
        NoisedMnist::new(test, config.noise, test_noise_seed(config.seed)),
    ))
}

/// Trains `config` as `options` say, printing one line per epoch, and saves the final model
/// and `config.json` into the run directory.
pub fn train(config: &TrainingConfig, options: &RunOptions) -> Result<RunSummary> {
    let started = Instant::now();
    config.validate()?;
    let run_dir = &options.run_dir;
    artifacts::ensure_writable(run_dir, artifacts::disk_reserve(config))?;
    let (train_set, test_set) = datasets(config, &options.data_dir)?;
    if config.batch_size > train_set.len() {
        bail!(
            "training.batch_size: {} is larger than the {} training images",
            config.batch_size,
            train_set.len()
        );
    }
    let device = options.backend.device()?;
    let start_epoch = prepare_run_dir(config, options)?;
    if start_epoch >= config.epochs {
        println!(
            "{}: already trained for {} epochs (asked for {}); nothing to do",
            run_dir.display(),
            start_epoch,
            config.epochs
        );
        let model_path = run_dir.join(artifacts::MODEL_FILE);
        if !model_path.exists() {
            let epoch_model =
                artifacts::checkpoint_path(&run_dir.join(CHECKPOINT_DIR), "model", start_epoch);
            let model =
                artifacts::load_model_file(&epoch_model, config, &burn::tensor::Device::flex())?;
            artifacts::save_model(model, run_dir)?;
        }
        return Ok(RunSummary {
            epochs: Vec::new(),
            model_path,
            train_images: 0,
            seconds: 0.0,
        });
    }

    println!("{}: {}", config.name, config.summary());
    println!(
        "device: {}; {} training / {} test images; artifacts in {}",
        options.backend.describe(),
        train_set.len(),
        test_set.len(),
        run_dir.display()
    );
    if let Some(note) = options.backend.startup_note() {
        println!("{note}");
    }
    device.seed(config.seed);
    let train_device = device.clone().autodiff();
    let mut model = config.model.init(&train_device);
    if let Some(path) = &options.initial_model {
        model = artifacts::load_model_file(path, config, &train_device)?;
    }

    let train_images = train_set.len();
    let loader_train = Arc::new(EpochLoader::shuffled(
        train_set,
        config.batch_size,
        train_device,
        config.seed,
        start_epoch + 1,
    ));
    let loader_test = Arc::new(EpochLoader::sequential(test_set, config.batch_size, device));

    let history = Arc::new(Mutex::new(Vec::new()));
    let checkpoints = run_dir.join(CHECKPOINT_DIR);
    let mut training = SupervisedTraining::new(run_dir, loader_train, loader_test)
        .metric_train_numeric(LossMetric::new())
        .metric_valid_numeric(LossMetric::new())
        .with_custom_checkpointers(
            AtomicFileCheckpointer::new(&checkpoints, "model"),
            AtomicFileCheckpointer::new(&checkpoints, "optim"),
            AtomicFileCheckpointer::new(&checkpoints, "scheduler"),
        )
        .renderer(Box::new(EpochLines::new(
            run_dir.join("epochs.csv"),
            history.clone(),
        )))
        .num_epochs(config.epochs);
    if options.keep_all_checkpoints {
        training = training.with_checkpointing_strategy(KeepLastNCheckpoints::new(usize::MAX));
    }
    if start_epoch > 0 {
        println!(
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
    let signals = crate::interrupt::stop_on_signal(training.interrupter());
    let result = training.launch(learner);
    drop(signals);
    if let Some(error) = result.error {
        bail!("training failed: {error}");
    }
    let epochs = history.lock().unwrap().clone();
    if let Some(stop) = result.interrupted {
        let last = epochs.last().map_or(start_epoch, |r| r.epoch);
        bail!(
            "training stopped after epoch {last} ({}); continue with --resume",
            stop.reason.as_deref().unwrap_or("interrupted")
        );
    }
    let model_path = artifacts::save_model(result.model, run_dir)?;
    artifacts::save_config(config, run_dir)?;
    Ok(RunSummary {
        epochs,
        model_path,
        train_images,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Readies the run directory and returns the epoch to continue after (0 for a fresh run).
fn prepare_run_dir(config: &TrainingConfig, options: &RunOptions) -> Result<usize> {
    let run_dir = &options.run_dir;
    let epochs_csv = run_dir.join("epochs.csv");
    if options.resume {
        let saved = artifacts::load_config(run_dir).context("--resume needs a previous run")?;
        let (mut a, mut b) = (serde_json::to_value(&saved)?, serde_json::to_value(config)?);
        for v in [&mut a, &mut b] {
            v.as_object_mut().map(|o| o.remove("epochs"));
        }
        if a != b {
            bail!(
                "--resume: {} was trained with a different configuration; resume with the same case and flags (only --epochs may change)",
                run_dir.join(artifacts::CONFIG_FILE).display()
            );
        }
        match artifacts::latest_valid_checkpoint(run_dir, config) {
            Some(epoch) => {
                truncate_epochs(&epochs_csv, epoch)
                    .with_context(|| format!("{}: cannot rewrite", epochs_csv.display()))?;
                remove_metric_logs_after(run_dir, epoch)?;
                return Ok(epoch);
            }
            None => println!(
                "--resume: no valid checkpoint in {}; starting from epoch 1",
                run_dir.display()
            ),
        }
    } else if run_dir.join(artifacts::CONFIG_FILE).exists() {
        println!(
            "note: starting a new run in {} (its previous checkpoints and logs are replaced; --resume continues them instead)",
            run_dir.display()
        );
    }
    for stale in [CHECKPOINT_DIR, "train", "valid"] {
        let path = run_dir.join(stale);
        if path.exists() {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("{}: cannot clear", path.display()))?;
        }
    }
    std::fs::remove_file(&epochs_csv).ok();
    artifacts::save_config(config, run_dir)?;
    Ok(0)
}

/// Deletes the learner's metric logs of epochs after `last`, left by a run that went further.
fn remove_metric_logs_after(run_dir: &Path, last: usize) -> Result<()> {
    for split in ["train", "valid"] {
        let Ok(entries) = std::fs::read_dir(run_dir.join(split)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let epoch = name
                .to_str()
                .and_then(|n| n.strip_prefix("epoch-"))
                .and_then(|n| n.parse::<usize>().ok());
            if epoch.is_some_and(|e| e > last) {
                std::fs::remove_dir_all(entry.path())
                    .with_context(|| format!("{}: cannot clear", entry.path().display()))?;
            }
        }
    }
    Ok(())
}
