//! A run directory holds one coherent run, written by one process at a time (see [`crate::lock`]).
//!
//! - **Finished means coherent.** `model.bpk` is written last, when a run finishes, and removed
//!   first when a run is replaced or resumed: a directory with `model.bpk` is a finished run whose
//!   `config.json` gives the epochs trained, and [`coherence`] verifies that its epoch log,
//!   metric logs and newest checkpoint agree.
//! - **Nothing is replaced by accident.** [`plan`] decides what an invocation may do with what
//!   the directory holds, refusing (before touching anything) to replace a run of another
//!   configuration unless asked to.

mod coherence;
mod config_diff;

use std::path::Path;

use crate::checkpoint::{self, CHECKPOINT_DIR, MODEL_FILE};
use crate::config::{CONFIG_FILE, TrainingConfig};
use crate::epochs::{EPOCHS_CSV, truncate_epochs};
use crate::error::{Error, Result};
use crate::files::remove;

pub use crate::error::{ConfigDiff, Inconsistency, RunError, Setting};
pub use coherence::{check_finished, coherence, recorded_epochs};
pub use config_diff::config_diff;

/// Files and directories a run writes; a fresh start removes them (`model.bpk` first).
const RUN_ENTRIES: [&str; 10] = [
    MODEL_FILE,
    crate::layout::PROVENANCE_FILE,
    crate::layout::EXPORT_DIR,
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
    /// Newer checkpoints that cannot be continued from, each with why.
    pub skipped: Vec<(usize, String)>,
}

impl Found {
    /// Reads what `dir` holds; checkpoints are loaded (and skipped, saying why, if corrupt)
    /// only when `config.json` is readable.
    pub fn read(dir: &Path) -> Self {
        let config = dir
            .join(CONFIG_FILE)
            .exists()
            .then(|| TrainingConfig::of_run(dir).map_err(|e| e.to_string()));
        let finished = dir.join(MODEL_FILE).exists();
        let (coherent, (checkpoint, skipped)) = match &config {
            Some(Ok(saved)) => (
                if finished {
                    coherence(dir, saved)
                } else {
                    Ok(())
                },
                checkpoint::latest_valid_checkpoint(dir, saved, recorded_epochs(dir)),
            ),
            _ => (Ok(()), (None, Vec::new())),
        };
        Self {
            config,
            finished,
            coherent,
            checkpoint,
            skipped,
        }
    }
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
    let at = || dir.to_path_buf();
    let saved = match (&found.config, start) {
        (_, Start::Overwrite) => return Ok(Plan::Restart),
        (None, Start::Resume { .. }) => return Err(RunError::NothingToResume { dir: at() }),
        (None, _) => return Ok(Plan::Restart),
        (Some(Err(message)), _) => {
            let message = message.clone();
            return Err(RunError::Unreadable { dir: at(), message });
        }
        (Some(Ok(saved)), _) => saved,
    };
    if dir.join(crate::layout::PROVENANCE_FILE).exists() {
        return Err(RunError::Imported {
            dir: dir.to_path_buf(),
        });
    }
    check_identity(dir, found, saved, config, start)?;
    let target = config.epochs;
    if start == Start::Fresh {
        return plan_fresh(dir, found, saved, target);
    }
    if found.finished && found.coherent.is_ok() && target <= saved.epochs {
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

/// Refuses `config` where the saved run is another one: another configuration, epochs included
/// for the report, another backend unless the run is finished and reused as it is.
fn check_identity(
    dir: &Path,
    found: &Found,
    saved: &TrainingConfig,
    config: &TrainingConfig,
    start: Start,
) -> Result<(), RunError> {
    let resuming = matches!(start, Start::Resume { .. });
    let reused = start == Start::Continue
        && found.finished
        && found.coherent.is_ok()
        && saved.epochs == config.epochs;
    let backend_unknown = saved.backend.is_none() || config.backend.is_none();
    let diffs: Vec<ConfigDiff> = config_diff(saved, config)
        .into_iter()
        .filter(|d| d.setting != Setting::Backend || !(backend_unknown || reused))
        .filter(|d| d.setting != Setting::Epochs || !resuming)
        .collect();
    // The epochs are the target of a fresh start or a resume, part of the run for the report.
    let differs = diffs
        .iter()
        .any(|d| d.setting != Setting::Epochs || start == Start::Continue);
    if differs {
        return Err(RunError::Conflict {
            dir: dir.to_path_buf(),
            diffs,
            resuming,
        });
    }
    Ok(())
}

/// A fresh start where the same configuration is there: nothing to do if it is finished as
/// asked, a refusal otherwise.
fn plan_fresh(
    dir: &Path,
    found: &Found,
    saved: &TrainingConfig,
    target: usize,
) -> Result<Plan, RunError> {
    let dir = dir.to_path_buf();
    if !found.finished {
        return Err(RunError::Unfinished {
            dir,
            saved: found.checkpoint.unwrap_or(0),
            target: saved.epochs,
        });
    }
    if let Err(what) = &found.coherent {
        return Err(RunError::Inconsistent {
            dir,
            what: what.clone(),
        });
    }
    if saved.epochs != target {
        return Err(RunError::OtherLength {
            dir,
            saved: saved.epochs,
            target,
        });
    }
    Ok(Plan::Finished(saved.epochs))
}

/// What [`plan`] would decide for `config` in `dir` as it is now (for checking several runs
/// before training any).
pub fn check_start(dir: &Path, config: &TrainingConfig, start: Start) -> Result<Plan, RunError> {
    plan(dir, &Found::read(dir), config, start)
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
    remove(&dir.join(crate::layout::EXPORT_DIR))?;
    config.save_in(dir)?;
    trim_to_epoch(dir, last)
}

/// Drops the epoch-log rows and metric logs of epochs after `last` (left by an interrupted run).
pub fn trim_to_epoch(dir: &Path, last: usize) -> Result<()> {
    let csv = dir.join(EPOCHS_CSV);
    if csv.exists() {
        truncate_epochs(&csv, last).map_err(|e| Error::File {
            path: csv.clone(),
            what: format!("cannot rewrite ({e})"),
        })?;
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
                remove(&entry.path())?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case7() -> TrainingConfig {
        crate::cases::case(7).unwrap()
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
            skipped: Vec::new(),
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
            skipped: Vec::new(),
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
}
