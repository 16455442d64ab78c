//! `train`: one run of a study case, a case file, or (with `--name NAME --resume`) the run a
//! directory holds.

use std::path::Path;

use trainer::backend::Backend;
use trainer::config::TrainingConfig;
use trainer::names::{check_own_name, check_run_name};
use trainer::run_dir::{RunError, Start};
use trainer::training::{Outcome, RunOptions, train};
use trainer::wording::count;

use crate::advice::name_refused;
use crate::cli::{OverrideArgs, TrainArgs};
use crate::exit::usage;

/// Trains the run `args` describe and says what it did.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let mut config = chosen_config(&args)?;
    let by_name = args.case.is_none() && args.config.is_none();
    match &args.name {
        // The run is the directory named, whatever name its config.json was saved under (a
        // copied or moved run).
        Some(name) if by_name => config.name = name.clone(),
        Some(name) => {
            check_own_name(name, args.case, config.seed).map_err(|e| name_refused(e, ""))?;
            config.name = name.clone();
        }
        None if args.config.is_some() => check_own_name(&config.name, None, config.seed)
            .map_err(|e| name_refused(e, "--config: "))?,
        None => {}
    }
    let root = args.artifacts.root();
    let dir = root.join(&config.name);
    let backend = match (args.backend.backend, args.resume) {
        (Some(backend), _) => backend,
        (None, true) => saved_backend(&dir)?,
        (None, false) => Backend::Flex,
    };
    let mut options = RunOptions::new(dir.clone(), args.data.dir(), backend);
    options.events =
        crate::interrupt::routed(options.interrupter.clone(), crate::view::View::new(false));
    options.break_lock = args.break_lock;
    options.start = match (args.resume, args.overwrite) {
        (true, _) => Start::Resume {
            epochs: args.overrides.epochs,
        },
        (false, true) => Start::Overwrite,
        (false, false) => Start::Fresh,
    };
    say(&train(&config, &options)?, &dir);
    Ok(())
}

/// The last line: what was trained, or why nothing was.
fn say(outcome: &Outcome, dir: &Path) {
    match outcome {
        Outcome::Trained {
            epochs,
            model_path,
            seconds,
        } => {
            let Some(last) = epochs.last() else {
                return;
            };
            let epoch_seconds: f64 = epochs.iter().map(|r| r.seconds()).sum();
            crate::output::out!(
                "done: {} in {seconds:.1} s ({:.2} s/epoch); final train loss {:.5}, test MSE {:.5}; model saved to {}",
                count(epochs.len(), "epoch"),
                epoch_seconds / epochs.len() as f64,
                last.train_loss,
                last.test_mse,
                model_path.display()
            );
        }
        Outcome::AlreadyFinished { epochs } => crate::output::out!(
            "{}: this run is finished ({}); nothing to do (--overwrite trains it again)",
            dir.display(),
            count(*epochs, "epoch")
        ),
        Outcome::FinishedAt { epoch, asked } => crate::output::out!(
            "{}: already trained for {} (asked for {asked}); saved the model of epoch {epoch} as {}",
            dir.display(),
            count(*epoch, "epoch"),
            dir.join(trainer::checkpoint::MODEL_FILE).display()
        ),
    }
}

/// The run to train: a study case, a case file, or (`--name NAME --resume`) the run's own
/// `config.json`; the flags' overrides applied.
fn chosen_config(args: &TrainArgs) -> anyhow::Result<TrainingConfig> {
    let overrides = &args.overrides;
    match (args.case, &args.config, &args.name) {
        (Some(case), None, _) => Ok(with_given(overrides, trainer::cases::case(case)?)),
        (None, Some(path), _) => Ok(with_given(overrides, trainer::cases::from_file(path)?)),
        (None, None, Some(name)) if args.resume => {
            check_run_name(name).map_err(|e| name_refused(e, ""))?;
            let dir = args.artifacts.root().join(name);
            if !dir.join(trainer::config::CONFIG_FILE).exists() {
                return Err(study::Error::from(RunError::NothingToResume { dir }).into());
            }
            Ok(with_given(overrides, TrainingConfig::of_run(&dir)?))
        }
        (None, None, Some(_)) => Err(usage(
            "--name NAME alone continues that run with --resume; to train one, give --case N or --config FILE",
        )),
        _ => Err(usage(
            "choose a study case with --case 1..7 or a case file with --config FILE, or a subcommand: visualize, compare, report, serve",
        )),
    }
}

/// `config` with the overrides that were given, and nothing else changed (a case file has no
/// limit, so an absent `--limit` means the whole training set).
pub fn with_given(overrides: &OverrideArgs, mut config: TrainingConfig) -> TrainingConfig {
    config.epochs = overrides.epochs.unwrap_or(config.epochs);
    config.batch_size = overrides.batch_size.unwrap_or(config.batch_size);
    config.seed = overrides.seed.unwrap_or(config.seed);
    config.limit = overrides.limit.or(config.limit);
    config
}

/// The backend the run in `dir` trains on (flex for a run that recorded none, or no run).
fn saved_backend(dir: &Path) -> anyhow::Result<Backend> {
    let saved = TrainingConfig::of_run(dir).ok().and_then(|c| c.backend);
    match saved {
        Some(name) => name.parse().map_err(|e| {
            let advice = crate::cli::values::backend_advice(&e);
            anyhow::anyhow!("{}: the run's backend: {advice}", dir.display())
        }),
        None => Ok(Backend::Flex),
    }
}
