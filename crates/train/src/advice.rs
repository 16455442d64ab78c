//! The library's failures in the program's words: each refusal or stop with the ways out that
//! the command offers, naming its flags, and the exit code a stop gets.

use std::path::Path;

use study::Error;
use study::error::OutputError;
use study::config::TrainingConfig;
use study::layout::PROVENANCE_FILE;
use study::names::NameError;
use study::run::{RunError, Setting};
use study::training::Stopped;
use study::weights::Provenance;

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

/// `error` with the ways out that `way`'s command offers, on one line.
pub fn explain(error: anyhow::Error, way: Way) -> anyhow::Error {
    let Some(study_error) = error.downcast_ref::<Error>() else {
        return error;
    };
    match study_error {
        Error::Run(refusal) => anyhow::anyhow!("{}", refusal_advice(refusal, way)),
        Error::Stopped(stop) => stopped(stop, way),
        Error::BatchTooLarge { images, .. } => anyhow::anyhow!(
            "{study_error}: choose a batch size of at most {images} (--batch-size) or more images (--limit)"
        ),
        Error::NoSpace { .. } => {
            anyhow::anyhow!(
                "{study_error}; free some space or choose another --artifacts directory"
            )
        }
        Error::Busy { .. } => {
            // The report's and the sweeps' runs have fixed names: only the directory can change.
            let elsewhere = match way {
                Way::Report | Way::Sweep => "--artifacts directory",
                _ => "--name or --artifacts",
            };
            anyhow::anyhow!(
                "{study_error}; wait for it to finish or stop it, or choose another {elsewhere}"
            )
        }
        Error::LockedElsewhere { host, .. } => anyhow::anyhow!(
            "{study_error}: if no process on {host} writes it any more (the machine went down, the job was killed), take the lock over by running the same command with --break-lock"
        ),
        Error::NoAdapter { .. } => anyhow::anyhow!("{study_error}: --backend flex"),
        Error::FigureTooLarge { fits, zoom, .. } => anyhow::anyhow!(
            "{}: {}",
            study_error
                .to_string()
                .replace(&format!("at zoom {zoom}"), &format!("at --zoom {zoom}")),
            match fits {
                Some(z) => format!("use --zoom {z} or less (or fewer --samples)"),
                None => "draw fewer --samples".to_string(),
            }
        ),
        Error::Output { error, .. } => match error {
            OutputError::Exists => anyhow::anyhow!(
                "{study_error}: replace it with --overwrite, or choose another --out"
            ),
            OutputError::Appeared => {
                anyhow::anyhow!("{study_error}: run the same command again to compare it")
            }
            _ => Usage(format!("{study_error}: choose another --out")).into(),
        },
        Error::NothingToReport { .. } => {
            anyhow::anyhow!("{study_error} (run without --reuse to train them)")
        }
        _ => error,
    }
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
        (Stopped::Signal { .. }, Way::Train) => "continue with --resume",
        (Stopped::Signal { .. }, _) => "run the same command again to continue",
    };
    let message = format!("{stop}: {again}");
    match stop.signal() {
        Some(signal) => Signalled {
            signal,
            message: Some(message),
        }
        .into(),
        None => anyhow::anyhow!("{message}"),
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
            let activation = study::config::activation_name(c.model.activation);
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
