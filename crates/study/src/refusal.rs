//! Why a run directory cannot be used as asked, as values: what differs, what disagrees, what is
//! there. Each says that nothing was changed; the ways out (which flags) are the program's to add.

use std::path::PathBuf;

use crate::layout::{CHECKPOINT_DIR, EPOCHS_CSV, MODEL_FILE};

/// A setting of a run, as far as decisions about it go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    /// The epochs: a target for a resume, part of the run for the report.
    Epochs,
    /// The backend that trains the run.
    Backend,
    /// The seed.
    Seed,
    /// Any other, by its dotted name (`model.dropout`).
    Other(String),
}

impl Setting {
    /// The setting at `path` of a configuration's JSON (`model.dropout`).
    pub fn of(path: &str) -> Self {
        match path {
            "epochs" => Setting::Epochs,
            "backend" => Setting::Backend,
            "seed" => Setting::Seed,
            other => Setting::Other(other.to_string()),
        }
    }
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Setting::Epochs => "epochs",
            Setting::Backend => "backend",
            Setting::Seed => "seed",
            Setting::Other(name) => name,
        })
    }
}

/// One setting in which two run configurations differ: `seed 0 → 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDiff {
    /// The setting.
    pub setting: Setting,
    /// Its value in the saved run (`none` when absent).
    pub old: String,
    /// Its value asked for now.
    pub new: String,
}

impl std::fmt::Display for ConfigDiff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} → {}", self.setting, self.old, self.new)
    }
}

/// `a, b, c` of displayable items.
fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// How the files of a finished run disagree (named relative to the run directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inconsistency {
    /// `epochs.csv` does not hold exactly the rows 1..=epochs.
    EpochLog {
        /// Epochs in `config.json`.
        epochs: usize,
        /// Rows in `epochs.csv`.
        rows: usize,
    },
    /// The metric logs in `train/` do not end at the run's last epoch.
    MetricLogs {
        /// Epochs in `config.json`.
        epochs: usize,
    },
    /// `model.bpk` differs from the checkpoint of the run's last epoch.
    NotLastCheckpoint {
        /// Epochs in `config.json`.
        epochs: usize,
    },
    /// An imported run's `model.bpk` is not the model its provenance records.
    ChangedImport,
    /// `model.bpk` does not load as this configuration's model.
    Unreadable {
        /// Why.
        reason: String,
    },
}

impl std::fmt::Display for Inconsistency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Inconsistency::EpochLog { epochs, rows } => {
                write!(
                    f,
                    "config.json says {epochs} epochs, {EPOCHS_CSV} has {rows} rows"
                )
            }
            Inconsistency::MetricLogs { epochs } => write!(
                f,
                "config.json says {epochs} epochs, the metric logs in train/ do not"
            ),
            Inconsistency::NotLastCheckpoint { epochs } => write!(
                f,
                "{MODEL_FILE} is not the model of epoch {epochs} ({CHECKPOINT_DIR}/model-{epochs}.bpk)"
            ),
            Inconsistency::Unreadable { reason } => write!(f, "{MODEL_FILE}: {reason}"),
            Inconsistency::ChangedImport => write!(
                f,
                "{MODEL_FILE} is not the model its provenance.json records"
            ),
        }
    }
}

/// Why a run directory cannot be used as asked. Each says what is there and that nothing was
/// changed; the ways out (which flags) are for the program to add.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RunError {
    /// It holds a run of another configuration.
    #[error("{} holds a run with a different configuration ({}); nothing was changed", dir.display(), list(diffs))]
    Conflict {
        /// The run directory.
        dir: PathBuf,
        /// What differs, sorted by setting.
        diffs: Vec<ConfigDiff>,
        /// Whether the refused start was a resume.
        resuming: bool,
    },
    /// It holds this configuration, unfinished (a fresh start was asked for).
    #[error("{} holds an unfinished run of this configuration ({saved} of {target} epochs saved); nothing was changed", dir.display())]
    Unfinished {
        /// The run directory.
        dir: PathBuf,
        /// The newest resumable checkpoint's epoch (0: none).
        saved: usize,
        /// The run's target.
        target: usize,
    },
    /// It holds this configuration, finished with another number of epochs.
    #[error("{} holds a finished run of this configuration with epochs {saved} → {target}; nothing was changed", dir.display())]
    OtherLength {
        /// The run directory.
        dir: PathBuf,
        /// Epochs the run trained.
        saved: usize,
        /// Epochs asked for.
        target: usize,
    },
    /// Its files disagree (a fresh start was asked for, or the run was to be used).
    #[error("{}: files disagree: {what}", dir.display())]
    Inconsistent {
        /// The run directory.
        dir: PathBuf,
        /// What disagrees.
        what: Inconsistency,
    },
    /// It holds no finished run (to draw or measure).
    #[error("{}: the run is unfinished (no {MODEL_FILE}{}; it may still be training)", dir.display(), match newest { Some(n) => format!("; newest checkpoint: epoch {n} of {target}"), None => " and no checkpoint".into() })]
    NotFinished {
        /// The run directory.
        dir: PathBuf,
        /// The newest kept checkpoint, if any.
        newest: Option<usize>,
        /// The run's target.
        target: usize,
    },
    /// A resume was asked for where there is no run.
    #[error("{} holds no run to resume", dir.display())]
    NothingToResume {
        /// The run directory.
        dir: PathBuf,
    },
    /// A run, or something a run wrote, is where an import would go.
    #[error("{} holds a run; nothing was changed", dir.display())]
    Occupied {
        /// The run directory.
        dir: PathBuf,
    },
    /// It holds an imported model, which has no training to continue or compare.
    #[error("{} holds an imported model (provenance.json), not a trained run; nothing was changed", dir.display())]
    Imported {
        /// The run directory.
        dir: PathBuf,
    },
    /// There is no run directory.
    #[error("{}: no such run directory (train it first)", dir.display())]
    NoRun {
        /// The run directory.
        dir: PathBuf,
    },
    /// Its `config.json` cannot be read.
    #[error("{message}")]
    Unreadable {
        /// The run directory.
        dir: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}
