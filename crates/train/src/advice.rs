//! The library's failures in the program's words: each refusal or stop with the ways out that
//! the command offers, naming its flags, and the exit code a stop gets.

use std::path::Path;

use trainer::config::TrainingConfig;
use trainer::layout::PROVENANCE_FILE;
use trainer::names::NameError;
use trainer::run_dir::{RunError, Setting};
use trainer::training::Stopped;
use weights::OutputError;
use weights::Provenance;

use crate::exit::{Signalled, Usage};

/// How a command is continued or redone, for the ways out of a refusal or a stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// `train`: `--resume`, `--overwrite`, `--name`.
    Train,
    /// `visualize`: draws a run that `train` made.
    Visualize,
    /// `compare`: the same command again, `--overwrite`, `--name`.
    Compare,
    /// `report`: the same command again, `--reuse`, `--artifacts`.
    Report,
    /// `import`: another `--name`, `--overwrite`.
    Import,
    /// `sweep`: the same command again, `--artifacts`.
    Sweep,
}

/// `error` with the ways out that `way`'s command offers, on one line: a run's failure (from
/// the run crate, or through the study's or an import's), the study's, or an import's or export's.
pub fn explain(error: anyhow::Error, way: Way) -> anyhow::Error {
    if let Some(e) = error.downcast_ref::<study::Error>() {
        return match e {
            study::Error::Run(run) => run_advice(run, way),
            other => study_advice(other).unwrap_or(error),
        };
    }
    if let Some(e) = error.downcast_ref::<weights::Error>() {
        return match e {
            weights::Error::Run(run) => run_advice(run, way),
            other => weights_advice(other).unwrap_or(error),
        };
    }
    match error.downcast_ref::<trainer::Error>() {
        Some(run) => run_advice(run, way),
        None => error,
    }
}

/// A run's failure with its ways out.
fn run_advice(e: &trainer::Error, way: Way) -> anyhow::Error {
    use trainer::Error;
    match e {
        Error::Run(refusal) => anyhow::anyhow!("{}", refusal_advice(refusal, way)),
        Error::Stopped(stop) => stopped(stop, way),
        Error::BatchTooLarge { images, .. } => anyhow::anyhow!(
            "{e}: choose a batch size of at most {images} (--batch-size) or more images (--limit)"
        ),
        Error::NoSpace { .. } => {
            anyhow::anyhow!("{e}; free some space or choose another --artifacts directory")
        }
        Error::Busy { .. } => {
            // The report's and the sweeps' runs have fixed names: only the directory can change.
            let elsewhere = match way {
                Way::Report | Way::Sweep => "--artifacts directory",
                _ => "--name or --artifacts",
            };
            anyhow::anyhow!("{e}; wait for it to finish or stop it, or choose another {elsewhere}")
        }
        Error::LockedElsewhere { host, .. } => anyhow::anyhow!(
            "{e}: if no process on {host} writes it any more (the machine went down, the job was killed), take the lock over by running the same command with --break-lock"
        ),
        Error::NoAdapter { .. } => anyhow::anyhow!("{e}: --backend flex"),
        Error::Data(data) if data.missing_dir => {
            anyhow::anyhow!("{e} (set --data-dir or MNIST_DIR)")
        }
        other => anyhow::anyhow!("{other}"),
    }
}

/// The study's own failures with their ways out (none: said as they are).
fn study_advice(e: &study::Error) -> Option<anyhow::Error> {
    use study::Error;
    Some(match e {
        Error::FigureTooLarge { fits, zoom, .. } => anyhow::anyhow!(
            "{}: {}",
            e.to_string()
                .replace(&format!("at zoom {zoom}"), &format!("at --zoom {zoom}")),
            match fits {
                Some(z) => format!("use --zoom {z} or less (or fewer --samples)"),
                None => "draw fewer --samples".to_string(),
            }
        ),
        Error::NothingToReport { .. } => {
            anyhow::anyhow!("{e} (run without --reuse to train them)")
        }
        Error::NotInJob { .. } => Usage(format!("--run: {e}")).into(),
        _ => return None,
    })
}

/// An import's or an export's own failures with their ways out.
fn weights_advice(e: &weights::Error) -> Option<anyhow::Error> {
    let weights::Error::Output { error, .. } = e else {
        return None;
    };
    Some(match error {
        OutputError::Exists => {
            anyhow::anyhow!("{e}: replace it with --overwrite, or choose another --out")
        }
        OutputError::Appeared => anyhow::anyhow!("{e}: run the same command again to compare it"),
        _ => Usage(format!("{e}: choose another --out")).into(),
    })
}

/// A name that cannot be used, as a usage error naming `flag`.
pub fn name_refused(error: NameError, flag: &str) -> anyhow::Error {
    let way_out = match error {
        NameError::NotPlain { .. } => "",
        NameError::Owned { .. } => "; choose another with --name NAME",
    };
    Usage(format!("{flag}{error}{way_out}")).into()
}

/// A stop with how to go on: `--resume` for `train`, the same command for the others.
fn stopped(stop: &Stopped, way: Way) -> anyhow::Error {
    let again = match (stop, way) {
        (Stopped::Diverged { .. }, Way::Train) => {
            "lower the learning rate and start again with --overwrite"
        }
        (Stopped::Diverged { .. }, _) => "the study's settings should not diverge: report it",
        (Stopped::Failed { .. }, Way::Train) => "fix the cause, then continue with --resume",
        (Stopped::Failed { .. }, _) => "fix the cause, then run the same command again",
        (Stopped::Asked { .. }, Way::Train) => "continue with --resume",
        (Stopped::Asked { .. }, _) => "run the same command again to continue",
    };
    let message = format!("{stop}: {again}");
    match stop.asked() {
        true => Signalled {
            signal: crate::interrupt::received().unwrap_or(libc::SIGINT),
            message: Some(message),
        }
        .into(),
        false => anyhow::anyhow!("{message}"),
    }
}

/// ` --artifacts DIR` when `dir` is not the default `artifacts` (empty otherwise); `DIR` itself
/// when `hide_absolute` and the path is absolute (the page must not show the machine's paths).
pub fn artifacts_flag(dir: &Path, hide_absolute: bool) -> String {
    if dir == Path::new("artifacts") {
        String::new()
    } else if hide_absolute && dir.is_absolute() {
        " --artifacts DIR".into()
    } else {
        format!(" --artifacts {}", dir.display())
    }
}

/// The `train` command that continues (or mends) the run in `dir`, from its own `config.json`.
pub fn resume_command(dir: &Path) -> String {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let root = dir.parent().unwrap_or(Path::new(""));
    format!(
        "train --name {name} --resume{}",
        artifacts_flag(root, false)
    )
}

/// The `train import` command that replaces the imported run in `dir` with the file its
/// provenance names (as it was given) and the model options its `config.json` holds.
fn import_command(dir: &Path) -> String {
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    let root = dir.parent().unwrap_or(Path::new(""));
    let source = Provenance::of_run(dir).map_or_else(|| "FILE".into(), |p| p.source);
    let options = TrainingConfig::of_run(dir).map_or_else(
        |_| "--activation relu|sigmoid".into(),
        |c| {
            let activation = trainer::config::activation_name(c.model.activation);
            let dropout =
                (c.model.dropout > 0.0).then(|| format!(" --dropout {}", c.model.dropout));
            let noise = (c.noise > 0.0).then(|| format!(" --noise {}", c.noise));
            format!(
                "--activation {activation}{}{}",
                dropout.unwrap_or_default(),
                noise.unwrap_or_default()
            )
        },
    );
    format!(
        "train import {source} --name {name} {options} --overwrite{}",
        artifacts_flag(root, false)
    )
}

/// What a refusal says, and the ways out of it for `way`'s command.
fn refusal_advice(refusal: &RunError, way: Way) -> String {
    let other_run = match way {
        Way::Train | Way::Visualize => {
            "keep both with --name NAME or --artifacts DIR, or replace it with --overwrite"
        }
        Way::Compare => {
            "replace it with --overwrite, or keep both with --name NAME or --artifacts DIR"
        }
        Way::Report => {
            "move it away, report on the runs that exist with --reuse, or choose another --artifacts directory"
        }
        Way::Import => "choose another --name, or replace it with --overwrite",
        Way::Sweep => {
            "move it away (or delete it) to train the point again, or choose another --artifacts directory"
        }
    };
    match (refusal, way) {
        // An imported run has nothing to resume from: the way out is the import again.
        (RunError::Inconsistent { dir, .. } | RunError::NotFinished { dir, .. }, _)
            if dir.join(PROVENANCE_FILE).exists() =>
        {
            format!("{refusal}; import it again with `{}`", import_command(dir))
        }
        (
            RunError::Conflict {
                diffs,
                resuming: true,
                ..
            },
            Way::Train,
        ) if diffs.iter().all(|d| d.setting == Setting::Backend) => {
            format!(
                "--resume: {refusal}: a run trains on one backend; resume it with --backend {} (or without --backend), or keep both with --name NAME",
                diffs[0].old
            )
        }
        (RunError::Conflict { resuming: true, .. }, Way::Train) => {
            format!("--resume: {refusal}: {other_run}")
        }
        (RunError::Unfinished { .. }, Way::Train) => {
            format!("{refusal}: continue it with --resume, or start over with --overwrite")
        }
        (RunError::OtherLength { saved, target, .. }, Way::Train) if saved < target => {
            format!("{refusal}: continue it to {target} epochs with --resume, or {other_run}")
        }
        (RunError::Inconsistent { dir, .. }, _) => format!(
            "{refusal}; mend it with `{}` (it rebuilds the run from its newest checkpoint) or retrain it with --overwrite",
            resume_command(dir)
        ),
        (
            RunError::NotFinished {
                dir,
                newest: Some(n),
                ..
            },
            _,
        ) => format!(
            "{refusal}: draw a checkpoint with --epoch {n}, or finish the run with `{}`",
            resume_command(dir)
        ),
        (
            RunError::NotFinished {
                dir, newest: None, ..
            },
            _,
        ) => format!(
            "{refusal}: finish it with `{}` or train it again",
            resume_command(dir)
        ),
        (RunError::NothingToResume { dir }, _) => format!(
            "--resume needs a previous run: {} holds none; start one without --resume",
            dir.display()
        ),
        (RunError::NoRun { .. }, _) => refusal.to_string(),
        (RunError::Occupied { .. } | RunError::Imported { .. }, Way::Import | Way::Train) => {
            format!("{refusal}: choose another --name, or replace it with --overwrite")
        }
        _ => format!("{refusal}: {other_run}"),
    }
}
