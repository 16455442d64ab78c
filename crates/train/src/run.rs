//! A run directory holds one coherent run, written by one process at a time.
//!
//! - **One writer.** [`RunLock`] holds an exclusive lock on `<run>/.lock` (the file records pid,
//!   host and start time) for as long as a process writes the run; a second writer is refused
//!   with the holder's pid, and a lock left by a killed process is reported and taken over.
//! - **Finished means coherent.** `model.bpk` is written last, when a run finishes, and removed
//!   first when a run is replaced or resumed: a directory with `model.bpk` is a finished run whose
//!   `config.json` gives the epochs trained, and [`check_finished`] verifies that its epoch log,
//!   metric logs and newest checkpoint agree.
//! - **Nothing is replaced by accident.** [`plan`] decides what an invocation may do with what
//!   the directory holds, refusing (before touching anything) to replace a run of another
//!   configuration unless asked to.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::artifacts::{self, CHECKPOINT_DIR, CONFIG_FILE, MODEL_FILE};
use crate::config::{CASE_COUNT, TrainingConfig};
use crate::renderer::{EPOCHS_CSV, read_epochs};

/// The lock file inside a run directory.
pub const LOCK_FILE: &str = ".lock";
/// Files and directories a run writes; a fresh start removes them (`model.bpk` first).
const RUN_ENTRIES: [&str; 8] = [
    MODEL_FILE,
    CONFIG_FILE,
    EPOCHS_CSV,
    "experiment.log",
    CHECKPOINT_DIR,
    "train",
    "valid",
    "figures",
];

/// How an invocation treats a run directory that already holds something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Train a new run; refuse if the directory holds another or an unfinished one, do nothing
    /// if it holds this very run, finished.
    Fresh,
    /// Continue the run in the directory from its newest valid checkpoint, to `epochs` if given,
    /// else to the run's own target; a finished run whose files disagree is mended.
    Resume {
        /// The new epoch target, if the user gave one.
        epochs: Option<usize>,
    },
    /// Resume this configuration if it is unfinished (or mend it), reuse it if finished, start
    /// it if absent; refuse any other configuration, other epochs included (the report and the
    /// backend comparison).
    Continue,
    /// Replace whatever the directory holds.
    Overwrite,
}

/// What an invocation will do with a run directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Train from scratch, removing whatever run files are there.
    Restart,
    /// Continue after the checkpoint of this epoch.
    ResumeAfter(usize),
    /// Nothing left to train: the checkpoint of this epoch becomes the final model.
    FinishAt(usize),
    /// The run is finished with these epochs; nothing to do.
    Finished(usize),
}

/// One setting in which two run configurations differ: `seed 0 → 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDiff {
    /// The setting, dotted for nested ones (`model.dropout`).
    pub field: String,
    /// Its value in the saved run (`none` when absent).
    pub old: String,
    /// Its value asked for now.
    pub new: String,
}

impl std::fmt::Display for ConfigDiff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} → {}", self.field, self.old, self.new)
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

/// How the files of a finished run disagree.
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
            Inconsistency::Unreadable { reason } => write!(f, "{MODEL_FILE} {reason}"),
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
        /// What differs, sorted by field.
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
    /// Its `config.json` cannot be read.
    #[error("{message}")]
    Unreadable {
        /// The run directory.
        dir: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

/// What a run directory holds, as far as [`plan`] needs to know.
#[derive(Debug, Clone)]
pub struct Found {
    /// Its `config.json`: absent, unreadable (the message), or the saved configuration.
    pub config: Option<Result<TrainingConfig, String>>,
    /// Whether `model.bpk` exists (the run finished).
    pub finished: bool,
    /// For a finished run: whether its files agree.
    pub coherent: Result<(), Inconsistency>,
    /// The newest epoch the run can continue from: its checkpoint loads and the epoch log and
    /// metric logs record every epoch up to it.
    pub checkpoint: Option<usize>,
}

impl Found {
    /// Reads what `dir` holds; checkpoints are loaded (and skipped with a warning if corrupt)
    /// only when `config.json` is readable.
    pub fn read(dir: &Path) -> Self {
        let config = dir
            .join(CONFIG_FILE)
            .exists()
            .then(|| artifacts::load_config(dir).map_err(|e| format!("{e:#}")));
        let finished = dir.join(MODEL_FILE).exists();
        let (coherent, checkpoint) = match &config {
            Some(Ok(saved)) => (
                if finished {
                    coherence(dir, saved)
                } else {
                    Ok(())
                },
                artifacts::latest_valid_checkpoint(dir, saved, recorded_epochs(dir), true),
            ),
            _ => (Ok(()), None),
        };
        Self {
            config,
            finished,
            coherent,
            checkpoint,
        }
    }
}

/// How many epochs the run's logs record completely: the longest `1..=m` such that `epochs.csv`
/// has their rows in order and `train/` their metric logs.
pub fn recorded_epochs(dir: &Path) -> usize {
    let log = |epoch: usize| dir.join(format!("train/epoch-{epoch}/Loss.log"));
    read_epochs(&dir.join(EPOCHS_CSV))
        .iter()
        .enumerate()
        .take_while(|(i, r)| r.epoch == i + 1 && log(i + 1).exists())
        .count()
}

/// Decides what to do with the run in `dir` (described by `found`) for `config`, whose `epochs`
/// is the target; an error is a refusal. Nothing is written: [`check_start`] is this on a
/// directory as it is.
///
/// A run is its configuration and its backend: a run trains on one backend from its first
/// epoch to its last, so another backend is another run for a fresh start and for a resume. Only
/// a finished run may be reused as it is, whatever trained it (the report's measurements).
pub fn plan(
    dir: &Path,
    found: &Found,
    config: &TrainingConfig,
    start: Start,
) -> Result<Plan, RunError> {
    let saved = match (&found.config, start) {
        (_, Start::Overwrite) => return Ok(Plan::Restart),
        (None, Start::Resume { .. }) => {
            return Err(RunError::NothingToResume {
                dir: dir.to_path_buf(),
            });
        }
        (None, _) => return Ok(Plan::Restart),
        (Some(Err(message)), _) => {
            return Err(RunError::Unreadable {
                dir: dir.to_path_buf(),
                message: message.clone(),
            });
        }
        (Some(Ok(saved)), _) => saved,
    };
    let resuming = matches!(start, Start::Resume { .. });
    let usable = found.finished && found.coherent.is_ok();
    let reused = start == Start::Continue && usable && saved.epochs == config.epochs;
    let diffs: Vec<ConfigDiff> = config_diff(saved, config)
        .into_iter()
        .filter(|d| {
            let either_unknown = saved.backend.is_none() || config.backend.is_none();
            d.field != "backend" || !(either_unknown || reused)
        })
        .filter(|d| d.field != "epochs" || !resuming)
        .collect();
    // The epochs are the target of a fresh start or a resume, part of the run for the report.
    if diffs
        .iter()
        .any(|d| d.field != "epochs" || start == Start::Continue)
    {
        return Err(RunError::Conflict {
            dir: dir.to_path_buf(),
            diffs,
            resuming,
        });
    }
    let target = config.epochs;
    if start == Start::Fresh {
        return if !found.finished {
            Err(RunError::Unfinished {
                dir: dir.to_path_buf(),
                saved: found.checkpoint.unwrap_or(0),
                target: saved.epochs,
            })
        } else if let Err(what) = &found.coherent {
            Err(RunError::Inconsistent {
                dir: dir.to_path_buf(),
                what: what.clone(),
            })
        } else if saved.epochs != target {
            Err(RunError::OtherLength {
                dir: dir.to_path_buf(),
                saved: saved.epochs,
                target,
            })
        } else {
            Ok(Plan::Finished(saved.epochs))
        };
    }
    if usable && target <= saved.epochs {
        return Ok(Plan::Finished(saved.epochs));
    }
    // Unfinished, to be continued, or finished with files that disagree: from the newest
    // checkpoint the logs vouch for (this mends a damaged final model or epoch log).
    Ok(match found.checkpoint.unwrap_or(0) {
        0 => Plan::Restart,
        k if k >= target => Plan::FinishAt(k),
        k => Plan::ResumeAfter(k),
    })
}

/// What [`plan`] would decide for `config` in `dir` as it is now (for checking several runs
/// before training any).
pub fn check_start(dir: &Path, config: &TrainingConfig, start: Start) -> Result<Plan, RunError> {
    plan(dir, &Found::read(dir), config, start)
}

/// The settings in which `new` differs from `old`, as `seed 0 → 1` (nested fields dotted:
/// `model.dropout 0.5 → 0.0`; an absent limit reads `none`), sorted by field; the name and
/// description are not compared.
pub fn config_diff(old: &TrainingConfig, new: &TrainingConfig) -> Vec<ConfigDiff> {
    let mut diffs = Vec::new();
    let (a, b) = (
        serde_json::to_value(old).unwrap_or_default(),
        serde_json::to_value(new).unwrap_or_default(),
    );
    diff_values("", &a, &b, &mut diffs);
    diffs.retain(|d| d.field != "name" && d.field != "description");
    diffs
}

fn diff_values(
    path: &str,
    a: &serde_json::Value,
    b: &serde_json::Value,
    out: &mut Vec<ConfigDiff>,
) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                diff_values(
                    &child,
                    x.get(key).unwrap_or(&Value::Null),
                    y.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        _ if a == b => {}
        _ => out.push(ConfigDiff {
            field: path.to_string(),
            old: show(a),
            new: show(b),
        }),
    }
}

fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "none".into(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Removes `path`, a file or a directory; an absent one is fine.
fn remove(path: &Path) -> Result<()> {
    let removed = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    match removed {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("{}: cannot remove", path.display()))
        }
        _ => Ok(()),
    }
}

/// Removes the run files of `dir` (the final model first, so that a kill part-way leaves a
/// clearly unfinished directory), keeping the lock and anything the run did not write.
pub fn clear(dir: &Path) -> Result<()> {
    RUN_ENTRIES
        .iter()
        .try_for_each(|entry| remove(&dir.join(entry)))
}

/// Makes `dir` the run of `config` continued after epoch `last`: the final model and figures
/// go (the run is unfinished again), `config.json` gets the new target, and the epoch log and
/// metric logs lose the epochs after `last`.
pub fn reopen(dir: &Path, config: &TrainingConfig, last: usize) -> Result<()> {
    remove(&dir.join(MODEL_FILE))?;
    remove(&dir.join("figures"))?;
    artifacts::save_config(config, dir)?;
    trim_to_epoch(dir, last)
}

/// Drops the epoch-log rows and metric logs of epochs after `last` (left by an interrupted run).
pub fn trim_to_epoch(dir: &Path, last: usize) -> Result<()> {
    let csv = dir.join(EPOCHS_CSV);
    if csv.exists() {
        crate::renderer::truncate_epochs(&csv, last)
            .with_context(|| format!("{}: cannot rewrite", csv.display()))?;
    }
    for split in ["train", "valid"] {
        let Ok(entries) = std::fs::read_dir(dir.join(split)) else {
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

/// Checks that the finished run in `dir` (it has `model.bpk`) is coherent: a `config.json` whose
/// epochs match the epoch log and the metric logs, and a final model equal to the checkpoint of
/// the last epoch when that is kept, else one that loads.
pub fn coherence(dir: &Path, config: &TrainingConfig) -> Result<(), Inconsistency> {
    let epochs = config.epochs;
    let rows = read_epochs(&dir.join(EPOCHS_CSV)).len();
    if recorded_epochs(dir) != epochs || rows != epochs {
        let log = |epoch: usize| dir.join(format!("train/epoch-{epoch}/Loss.log"));
        if rows == epochs && (!log(epochs).exists() || log(epochs + 1).exists()) {
            return Err(Inconsistency::MetricLogs { epochs });
        }
        return Err(Inconsistency::EpochLog { epochs, rows });
    }
    let model = dir.join(MODEL_FILE);
    let newest = artifacts::checkpoint_path(&dir.join(CHECKPOINT_DIR), "model", epochs);
    if newest.exists() {
        if std::fs::read(&newest).ok() != std::fs::read(&model).ok() {
            return Err(Inconsistency::NotLastCheckpoint { epochs });
        }
    } else if let Err(e) = artifacts::load_model_file(&model, config, &burn::tensor::Device::flex())
    {
        let reason = format!("{e:#}");
        let reason = reason
            .strip_prefix(&format!("{}: ", model.display()))
            .unwrap_or(&reason);
        return Err(Inconsistency::Unreadable {
            reason: reason.to_string(),
        });
    }
    Ok(())
}

/// Checks that `dir` holds a finished, coherent run (see [`coherence`]).
pub fn check_finished(dir: &Path, config: &TrainingConfig) -> Result<(), RunError> {
    if !dir.join(MODEL_FILE).exists() {
        return Err(RunError::NotFinished {
            dir: dir.to_path_buf(),
            newest: artifacts::checkpoint_epochs(&dir.join(CHECKPOINT_DIR))
                .first()
                .copied(),
            target: config.epochs,
        });
    }
    coherence(dir, config).map_err(|what| RunError::Inconsistent {
        dir: dir.to_path_buf(),
        what,
    })
}

/// Checks a run name given by the user: one plain path component.
pub fn check_run_name(name: &str) -> Result<()> {
    let plain = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !plain {
        bail!(
            "run name {name:?}: use letters, digits, '-', '_' and '.' (not first), at most 100 characters"
        );
    }
    Ok(())
}

/// Who a run directory's name belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Study case `case`'s runs: `caseN`, `caseN-seedK`, and the report's variants
    /// `caseN-hidden-dropout[-seedK]`.
    Case {
        /// The study case.
        case: usize,
        /// `K` of a `-seedK` name.
        seed: Option<u64>,
        /// Whether it is the report's hidden-dropout variant.
        variant: bool,
    },
    /// The report (`report`, `quick`).
    Report,
    /// A backend comparison (`compare-…`).
    Compare,
}

impl Owner {
    /// Who owns `name`, if anyone.
    pub fn of(name: &str) -> Option<Owner> {
        match name {
            "report" | "quick" => return Some(Owner::Report),
            _ if name.starts_with("compare-") => return Some(Owner::Compare),
            _ => {}
        }
        let (run, seed) = match name.rsplit_once("-seed") {
            Some((run, k)) if k.parse::<u64>().is_ok() => (run, k.parse().ok()),
            _ => (name, None),
        };
        let (case, variant) = match run.strip_suffix("-hidden-dropout") {
            Some(case) => (case, true),
            None => (run, false),
        };
        let case: usize = case.strip_prefix("case")?.parse().ok()?;
        (1..=CASE_COUNT).contains(&case).then_some(Owner::Case {
            case,
            seed,
            variant,
        })
    }
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::Case {
                case,
                seed: Some(seed),
                ..
            } => write!(f, "study case {case}'s run of seed {seed}"),
            Owner::Case { case, .. } => write!(f, "study case {case}"),
            Owner::Report => f.write_str("the report"),
            Owner::Compare => f.write_str("the backend comparison"),
        }
    }
}

/// Checks that a run of the user's own (a `--name`, or a config file's stem) does not take a
/// directory that a study case, the report or a comparison owns. `case` and `seed` are the
/// study case and seed being trained: case N's own names (`caseN`, and `caseN-seedK` for seed K)
/// are theirs.
pub fn check_own_name(name: &str, case: Option<usize>, seed: u64) -> Result<()> {
    check_run_name(name)?;
    match Owner::of(name) {
        None => Ok(()),
        Some(Owner::Case {
            case: n,
            seed: k,
            variant: false,
        }) if case == Some(n) && k.is_none_or(|k| k == seed) => Ok(()),
        Some(owner) => {
            bail!(
                "run name {name:?} belongs to {owner}'s directory; choose another with --name NAME"
            )
        }
    }
}

/// An exclusive lock on a run directory, released when dropped (and by the OS when the process
/// dies, however it dies).
#[derive(Debug)]
pub struct RunLock {
    file: File,
    path: PathBuf,
    dir: PathBuf,
    created_dir: bool,
}

impl RunLock {
    /// Creates `dir` if needed and locks it, or says which process holds it. A lock file left
    /// by a process that died is reported on stderr and taken over.
    pub fn acquire(dir: &Path) -> Result<Self> {
        let created_dir = !dir.exists();
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create the artifacts directory", dir.display()))?;
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("{}: cannot open the lock file", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = read_holder(&mut file);
                bail!(
                    "{} is in use by {}; wait for it to finish or stop it, or choose another --name or --artifacts",
                    dir.display(),
                    holder.as_deref().unwrap_or("another process")
                );
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("{}: cannot lock", path.display()));
            }
        }
        if let Some(stale) = read_holder(&mut file) {
            crate::err!(
                "note: {}: taking over the lock of {stale}, which is no longer running",
                dir.display()
            );
        }
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "this host".into());
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let record = format!(
            "pid {} on {host}, started {}",
            std::process::id(),
            utc(since)
        );
        file.set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| file.write_all(record.as_bytes()))
            .and_then(|_| file.sync_all())
            .with_context(|| format!("{}: cannot write", path.display()))?;
        Ok(Self {
            file,
            path,
            dir: dir.to_path_buf(),
            created_dir,
        })
    }
}

/// `seconds` after the Unix epoch as `2026-11-29 08:58:22 UTC` (days to civil date: H. Hinnant's
/// algorithm).
fn utc(seconds: u64) -> String {
    let (days, rest) = ((seconds / 86_400) as i64, seconds % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Who is writing run `dir` now: its lock record (`pid … on …, started …`) while that process
/// lives; no one for a cleanly released lock (empty record) or one left by a process that died.
/// Read without locking, so that a reader never makes a starting writer's `try_lock` fail.
pub fn active_writer(dir: &Path) -> Option<String> {
    let record = std::fs::read_to_string(dir.join(LOCK_FILE)).ok()?;
    let record = record.trim();
    let pid = record
        .strip_prefix("pid ")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    process_alive(pid).then(|| record.to_string())
}

/// Whether process `pid` exists on this machine (Linux: `/proc/<pid>`).
pub fn process_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

fn read_holder(file: &mut File) -> Option<String> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    let text = text.trim().to_string();
    (!text.is_empty()).then_some(text)
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // An empty record means "released cleanly"; the OS drops the lock with the file.
        self.file.set_len(0).ok();
        // A directory this process created and wrote nothing else into (a failed start) goes.
        if self.created_dir {
            let only_lock = std::fs::read_dir(&self.dir)
                .map(|entries| {
                    entries
                        .flatten()
                        .all(|e| e.file_name() == std::ffi::OsStr::new(LOCK_FILE))
                })
                .unwrap_or(false);
            if only_lock {
                std::fs::remove_file(&self.path).ok();
                std::fs::remove_dir(&self.dir).ok();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_active_writer_is_a_live_lock_holder() {
        let dir = std::env::temp_dir().join(format!("run-writer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(active_writer(&dir), None, "no lock file");
        {
            let _lock = RunLock::acquire(&dir).unwrap();
            let writer = active_writer(&dir).expect("this process holds the lock");
            assert!(writer.starts_with(&format!("pid {} on ", std::process::id())));
        }
        assert_eq!(active_writer(&dir), None, "released cleanly");
        // A record left by a process that is gone (pid 0 never names one in /proc).
        std::fs::write(dir.join(LOCK_FILE), "pid 0 on vm, started 2026-01-01").unwrap();
        assert_eq!(active_writer(&dir), None);
        std::fs::remove_dir_all(&dir).ok();
    }

    fn case7() -> TrainingConfig {
        TrainingConfig::case(7).unwrap()
    }

    /// Case 7 with seed 1, 1 epoch, 1000 images.
    fn other() -> TrainingConfig {
        let mut c = case7().with_limit(Some(1000));
        c.seed = 1;
        c.epochs = 1;
        c
    }

    fn with_epochs(epochs: usize) -> TrainingConfig {
        let mut c = case7();
        c.epochs = epochs;
        c
    }

    fn found(config: Option<TrainingConfig>, finished: bool, checkpoint: Option<usize>) -> Found {
        Found {
            config: config.map(Ok),
            finished,
            coherent: Ok(()),
            checkpoint,
        }
    }

    fn p(found: &Found, config: &TrainingConfig, start: Start) -> Result<Plan, RunError> {
        plan(Path::new("runs/case7"), found, config, start)
    }

    fn refusal(found: &Found, config: &TrainingConfig, start: Start) -> String {
        p(found, config, start).unwrap_err().to_string()
    }

    #[test]
    fn the_differing_fields_are_named() {
        let old = case7();
        let mut new = other();
        new.model.dropout = 0.25;
        new.description = "other words".into();
        let diffs: Vec<String> = config_diff(&old, &new)
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(
            diffs,
            vec![
                "epochs 20 → 1",
                "limit none → 1000",
                "model.dropout 0.0 → 0.25",
                "seed 0 → 1"
            ]
        );
        assert!(config_diff(&old, &old).is_empty());
    }

    #[test]
    fn another_configuration_is_refused_naming_fields() {
        let saved = found(Some(case7()), true, Some(20));
        let new = other();
        let e = refusal(&saved, &new, Start::Fresh);
        assert_eq!(
            e,
            "runs/case7 holds a run with a different configuration (epochs 20 → 1, limit none → 1000, seed 0 → 1); nothing was changed"
        );
        let resume = Start::Resume { epochs: None };
        assert!(matches!(
            p(&saved, &new, resume),
            Err(RunError::Conflict { resuming: true, .. })
        ));
        // The report and the comparison take the epochs as part of the run.
        assert!(
            refusal(&saved, &new, Start::Continue)
                .contains("epochs 20 → 1, limit none → 1000, seed 0 → 1")
        );
        assert_eq!(p(&saved, &new, Start::Overwrite).unwrap(), Plan::Restart);
    }

    #[test]
    fn a_run_trains_on_one_backend_but_a_finished_one_is_reused_by_any() {
        let mut flex = case7();
        flex.backend = Some("flex".into());
        let mut ndarray = case7();
        ndarray.backend = Some("ndarray".into());
        let finished = found(Some(flex.clone()), true, Some(20));
        assert!(refusal(&finished, &ndarray, Start::Fresh).contains("(backend flex → ndarray)"));
        assert_eq!(
            p(&finished, &ndarray, Start::Continue).unwrap(),
            Plan::Finished(20)
        );
        let mut more = ndarray.clone();
        more.epochs = 30;
        let resume = Start::Resume { epochs: Some(30) };
        assert!(refusal(&finished, &more, resume).contains("(backend flex → ndarray)"));
        // Unfinished: continuing on another backend would mix two in one run.
        let unfinished = found(Some(flex.clone()), false, Some(3));
        assert!(refusal(&unfinished, &ndarray, Start::Continue).contains("backend flex → ndarray"));
        assert!(refusal(&unfinished, &ndarray, resume).contains("backend flex → ndarray"));
        // A run saved before the backend was recorded matches any backend.
        let old = found(Some(case7()), true, Some(20));
        assert_eq!(p(&old, &flex, Start::Fresh).unwrap(), Plan::Finished(20));
    }

    #[test]
    fn the_same_run_is_finished_resumed_or_refused() {
        let q = |f: &Found, epochs: usize, start: Start| p(f, &with_epochs(epochs), start);
        let finished = found(Some(case7()), true, Some(20));
        assert_eq!(q(&finished, 20, Start::Fresh).unwrap(), Plan::Finished(20));
        assert_eq!(
            q(&finished, 20, Start::Continue).unwrap(),
            Plan::Finished(20)
        );
        assert!(refusal(&finished, &with_epochs(30), Start::Continue).contains("epochs 20 → 30"));
        assert!(refusal(&finished, &with_epochs(5), Start::Continue).contains("epochs 20 → 5"));
        let resume = Start::Resume { epochs: None };
        assert_eq!(q(&finished, 20, resume).unwrap(), Plan::Finished(20));
        assert_eq!(q(&finished, 5, resume).unwrap(), Plan::Finished(20));
        assert_eq!(q(&finished, 30, resume).unwrap(), Plan::ResumeAfter(20));
        assert!(matches!(
            q(&finished, 30, Start::Fresh),
            Err(RunError::OtherLength {
                saved: 20,
                target: 30,
                ..
            })
        ));
        assert!(matches!(
            q(&finished, 2, Start::Fresh),
            Err(RunError::OtherLength {
                saved: 20,
                target: 2,
                ..
            })
        ));

        let unfinished = found(Some(case7()), false, Some(3));
        let e = refusal(&unfinished, &with_epochs(20), Start::Fresh);
        assert!(e.contains("unfinished run") && e.contains("3 of 20"), "{e}");
        assert_eq!(q(&unfinished, 20, resume).unwrap(), Plan::ResumeAfter(3));
        assert_eq!(
            q(&unfinished, 20, Start::Continue).unwrap(),
            Plan::ResumeAfter(3)
        );
        assert_eq!(q(&unfinished, 3, resume).unwrap(), Plan::FinishAt(3));
        assert_eq!(q(&unfinished, 1, resume).unwrap(), Plan::FinishAt(3));
        let nothing_saved = found(Some(case7()), false, None);
        assert_eq!(q(&nothing_saved, 20, resume).unwrap(), Plan::Restart);

        let empty = found(None, false, None);
        assert_eq!(q(&empty, 20, Start::Fresh).unwrap(), Plan::Restart);
        assert!(matches!(
            q(&empty, 20, resume),
            Err(RunError::NothingToResume { .. })
        ));
        let unreadable = Found {
            config: Some(Err("d/config.json: not a valid run config".into())),
            finished: true,
            coherent: Ok(()),
            checkpoint: None,
        };
        let e = refusal(&unreadable, &with_epochs(20), Start::Fresh);
        assert!(e.contains("not a valid run config"), "{e}");
    }

    #[test]
    fn a_finished_run_whose_files_disagree_is_mended_by_a_resume_and_refused_otherwise() {
        let mut damaged = found(Some(case7()), true, Some(19));
        damaged.coherent = Err(Inconsistency::EpochLog {
            epochs: 20,
            rows: 19,
        });
        assert!(matches!(
            p(&damaged, &with_epochs(20), Start::Fresh),
            Err(RunError::Inconsistent { .. })
        ));
        let resume = Start::Resume { epochs: None };
        assert_eq!(
            p(&damaged, &with_epochs(20), resume).unwrap(),
            Plan::ResumeAfter(19)
        );
        assert_eq!(
            p(&damaged, &with_epochs(20), Start::Continue).unwrap(),
            Plan::ResumeAfter(19)
        );
        damaged.checkpoint = Some(20);
        damaged.coherent = Err(Inconsistency::NotLastCheckpoint { epochs: 20 });
        assert_eq!(
            p(&damaged, &with_epochs(20), resume).unwrap(),
            Plan::FinishAt(20)
        );
    }

    #[test]
    fn names_are_one_plain_component_and_owned_names_are_refused() {
        for good in ["seed1", "case7x", "my_run", "case8", "case7-seedling"] {
            check_own_name(good, None, 0).unwrap();
        }
        for bad in ["", "..", ".hidden", "a/b", "a b", "/abs", "é"] {
            assert!(check_run_name(bad).is_err(), "{bad:?}");
        }
        check_own_name("case7", Some(7), 0).unwrap();
        check_own_name("case7-seed2", Some(7), 2).unwrap();
        for (owned, case, seed) in [
            ("case1", None, 0),
            ("case7", Some(3), 0),
            ("case1-seed2", Some(7), 2),
            ("case7-seed2", Some(7), 1),
            ("case3-hidden-dropout", Some(3), 0),
            ("case3-hidden-dropout-seed1", Some(3), 1),
            ("report", None, 0),
            ("quick", None, 0),
            ("compare-case7", None, 0),
        ] {
            let e = check_own_name(owned, case, seed).unwrap_err().to_string();
            assert!(e.contains("belongs to") && e.contains("--name"), "{e}");
        }
        assert_eq!(
            Owner::of("case1-hidden-dropout-seed2"),
            Some(Owner::Case {
                case: 1,
                seed: Some(2),
                variant: true
            })
        );
    }

    #[test]
    fn lock_times_read_as_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_795_943_502), "2026-11-29 09:11:42 UTC");
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("runlock-{}-{name}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        dir
    }

    #[test]
    fn a_second_lock_is_refused_and_a_failed_start_leaves_no_directory() {
        let dir = scratch("second");
        let lock = RunLock::acquire(&dir).unwrap();
        let e = format!("{:#}", RunLock::acquire(&dir).unwrap_err());
        assert!(
            e.contains("is in use by pid ") && e.contains(&std::process::id().to_string()),
            "{e}"
        );
        drop(lock);
        assert!(!dir.exists(), "the empty run directory should go");

        // A directory with run files stays, and its lock is free again.
        let lock = RunLock::acquire(&dir).unwrap();
        std::fs::write(dir.join(CONFIG_FILE), "{}").unwrap();
        drop(lock);
        assert!(dir.join(CONFIG_FILE).exists());
        drop(RunLock::acquire(&dir).unwrap());
        assert_eq!(std::fs::read(dir.join(LOCK_FILE)).unwrap(), b"");
    }
}
