//! What can go wrong in a run, as values: a refusal of what a run directory holds (nothing was
//! changed), a stop, a configuration that is not valid, a missing GPU, a full disk. The caller
//! puts them into words and adds the ways out.

use std::path::PathBuf;

use crate::layout::{CHECKPOINT_DIR, EPOCHS_CSV, MODEL_FILE};
use crate::stop::Stopped;

/// `From` a run's configuration, data and refusal errors for an error type `$error` that wraps
/// a run's failure as `$error::Run(trainer::Error)` (the study's and the weights' errors), so that
/// `?` works on them as on the run's own.
#[macro_export]
macro_rules! from_run_errors {
    ($error:ty) => {
        impl From<$crate::ConfigError> for $error {
            fn from(e: $crate::ConfigError) -> Self {
                Self::Run(e.into())
            }
        }
        impl From<$crate::data::DataError> for $error {
            fn from(e: $crate::data::DataError) -> Self {
                Self::Run(e.into())
            }
        }
        impl From<$crate::error::RunError> for $error {
            fn from(e: $crate::error::RunError) -> Self {
                Self::Run(e.into())
            }
        }
    };
}

/// A result of a run's library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every failure of a run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A run directory cannot be used as asked (a refusal: nothing was changed).
    #[error(transparent)]
    Run(#[from] RunError),
    /// Training stopped before its last epoch.
    #[error(transparent)]
    Stopped(#[from] Stopped),
    /// A case file or a saved configuration is not valid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// MNIST cannot be read.
    #[error(transparent)]
    Data(#[from] data::DataError),
    /// wgpu finds no GPU adapter (nor a software Vulkan driver).
    #[error(
        "wgpu: no Vulkan, Metal or DirectX 12 adapter ({reason}); on a machine without a GPU install a software Vulkan driver (Debian: mesa-vulkan-drivers) or use a CPU backend"
    )]
    NoAdapter {
        /// What wgpu said.
        reason: String,
    },
    /// The batch is larger than the training set.
    #[error("the batch size ({batch}) is larger than the {images} training image{} this run uses", if *images == 1 { "" } else { "s" })]
    BatchTooLarge {
        /// Images per batch.
        batch: usize,
        /// Training images.
        images: usize,
    },
    /// A limit of more images than the training set has.
    #[error("limit: {limit} is more than the {images} training images")]
    LimitTooLarge {
        /// The limit asked for.
        limit: usize,
        /// Training images there are.
        images: usize,
    },
    /// Not enough free space for a run's checkpoints.
    #[error("{}: not enough free space for this run's checkpoints (needs about {needed_mb} MB, {free_mb} MB free)", dir.display())]
    NoSpace {
        /// The run directory.
        dir: PathBuf,
        /// Megabytes needed.
        needed_mb: u64,
        /// Megabytes free.
        free_mb: u64,
    },
    /// Another process writes the run.
    #[error("{} is in use by {holder}", dir.display())]
    Busy {
        /// The run directory.
        dir: PathBuf,
        /// The lock's record: `pid … on …, started …`.
        holder: String,
    },
    /// The run's lock was left by a process on another machine, which cannot be asked whether
    /// it still runs: the lock is not taken over unless asked.
    #[error("{} is locked by {holder}, a process on another machine that cannot be checked from {here}; nothing was changed", dir.display())]
    LockedElsewhere {
        /// The run directory.
        dir: PathBuf,
        /// The lock's record: `pid … on <host>, started …`.
        holder: String,
        /// The holder's machine.
        host: String,
        /// This machine.
        here: String,
    },
    /// A model file cannot be used: absent, unreadable, or of another shape.
    #[error("{}: {reason}", path.display())]
    Model {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A file or directory cannot be read or written (a full disk says so).
    #[error("{}: {what}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        what: String,
    },
}

/// Why a case file or a saved configuration is not valid: where (the file, the line, the field)
/// and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}{}{message}", origin.as_ref().map(|o| format!("{o}: ")).unwrap_or_default(), line.map(|l| format!("invalid config at line {l}: ")).unwrap_or_default(), field.as_ref().map(|f| format!("{f}: ")).unwrap_or_default())]
pub struct ConfigError {
    /// The file (or case) it comes from.
    pub origin: Option<String>,
    /// The line of the TOML text, for a syntax or type error.
    pub line: Option<usize>,
    /// The field, dotted (`model.dropout`).
    pub field: Option<String>,
    /// What is wrong, and what is allowed.
    pub message: String,
}

impl ConfigError {
    /// A value out of its range.
    pub fn invalid(field: &str, message: String) -> Self {
        Self {
            origin: None,
            line: None,
            field: (!field.is_empty()).then(|| field.to_string()),
            message,
        }
    }

    /// TOML that does not parse or does not fit the case format.
    pub fn syntax(line: Option<usize>, field: Option<String>, message: String) -> Self {
        let message = match line {
            None => format!("invalid config: {message}"),
            Some(_) => message,
        };
        Self {
            origin: None,
            line,
            field,
            message,
        }
    }

    /// A file that cannot be read as a case file at all.
    pub fn unreadable(origin: &str, message: String) -> Self {
        Self {
            origin: Some(origin.to_string()),
            line: None,
            field: None,
            message,
        }
    }

    /// The same error, said of `origin` (a file).
    pub fn in_file(mut self, origin: &str) -> Self {
        self.origin = Some(origin.to_string());
        self
    }
}

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
