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
    /// else to the run's own target.
    Resume {
        /// The new epoch target, if the user gave one.
        epochs: Option<usize>,
    },
    /// Resume this configuration if it is unfinished, reuse it if finished, start it if absent;
    /// refuse another configuration (the report and the backend comparison).
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
    /// The newest epoch whose checkpoint loads, if any.
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
        let checkpoint = match &config {
            Some(Ok(saved)) => artifacts::latest_valid_checkpoint(dir, saved, true),
            _ => None,
        };
        Self {
            config,
            finished: dir.join(MODEL_FILE).exists(),
            checkpoint,
        }
    }
}

/// Decides what to do with the run in `dir` (described by `found`) for `config`; an error is a
/// refusal that names the differences and `hint`, the ways out. `config.epochs` is the target.
/// Nothing is written: [`check_start`] is this on a directory as it is.
pub fn plan(
    dir: &Path,
    found: &Found,
    config: &TrainingConfig,
    start: Start,
    hint: &str,
) -> Result<Plan> {
    let saved = match (&found.config, start) {
        (_, Start::Overwrite) => return Ok(Plan::Restart),
        (None, Start::Resume { .. }) => bail!(
            "--resume needs a previous run: {} holds none; start one without --resume",
            dir.display()
        ),
        (None, _) => return Ok(Plan::Restart),
        (Some(Err(e)), _) => bail!("{e}; {hint}"),
        (Some(Ok(saved)), _) => saved,
    };
    // The backend tells runs apart only for a fresh start: a run may continue on another device,
    // and the report reuses runs whatever trained them.
    let diffs: Vec<String> = config_diff(saved, config, false)
        .into_iter()
        .filter(|d| {
            !d.starts_with("backend ") || (start == Start::Fresh && saved.backend.is_some())
        })
        .collect();
    let only_epochs = diffs.iter().all(|d| d.starts_with("epochs "));
    if !only_epochs {
        let what = match start {
            Start::Resume { .. } => "--resume: ".to_string(),
            _ => String::new(),
        };
        bail!(
            "{what}{} holds a run with a different configuration ({}); nothing was changed: {hint}",
            dir.display(),
            diffs.join(", ")
        );
    }
    let target = config.epochs;
    let saved_epochs = saved.epochs;
    let checkpoint = found.checkpoint.unwrap_or(0);
    match start {
        Start::Overwrite => unreachable!("handled above"),
        Start::Fresh => {
            if !found.finished {
                bail!(
                    "{} holds an unfinished run of this configuration ({} of {saved_epochs} epochs saved); nothing was changed: continue it with --resume, or start over with --overwrite",
                    dir.display(),
                    found.checkpoint.unwrap_or(0)
                );
            }
            if saved_epochs != target {
                bail!(
                    "{} holds a finished run of this configuration with epochs {saved_epochs} → {target}; nothing was changed: continue it to {target} epochs with --resume, or {hint}",
                    dir.display()
                );
            }
            Ok(Plan::Finished(saved_epochs))
        }
        Start::Resume { .. } | Start::Continue => {
            if found.finished && target <= saved_epochs {
                return Ok(Plan::Finished(saved_epochs));
            }
            if start == Start::Continue && found.finished {
                bail!(
                    "{} holds a finished run of this configuration with epochs {saved_epochs} → {target}; nothing was changed: {hint}",
                    dir.display()
                );
            }
            if checkpoint >= target {
                Ok(Plan::FinishAt(checkpoint))
            } else if checkpoint > 0 {
                Ok(Plan::ResumeAfter(checkpoint))
            } else {
                Ok(Plan::Restart)
            }
        }
    }
}

/// What [`plan`] would decide for `config` in `dir` as it is now, with `hint` as the ways out of
/// a refusal (for checking several runs before training any).
pub fn check_start(dir: &Path, config: &TrainingConfig, start: Start, hint: &str) -> Result<Plan> {
    plan(dir, &Found::read(dir), config, start, hint)
}

/// The fields in which `new` differs from `old`, as `seed 0 → 1` (nested fields dotted:
/// `model.dropout 0.5 → 0.0`; an absent limit reads `none`), sorted; the name and description
/// are not compared, nor `epochs` when `skip_epochs`.
pub fn config_diff(old: &TrainingConfig, new: &TrainingConfig, skip_epochs: bool) -> Vec<String> {
    let mut diffs = Vec::new();
    let (a, b) = (
        serde_json::to_value(old).unwrap_or_default(),
        serde_json::to_value(new).unwrap_or_default(),
    );
    diff_values("", &a, &b, &mut diffs);
    diffs.retain(|d| {
        !(d.starts_with("name ")
            || d.starts_with("description ")
            || (skip_epochs && d.starts_with("epochs ")))
    });
    diffs
}

fn diff_values(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
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
        _ => out.push(format!("{path} {} → {}", show(a), show(b))),
    }
}

fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "none".into(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Removes the run files of `dir` (the final model first, so that a kill part-way leaves a
/// clearly unfinished directory), keeping the lock and anything the run did not write.
pub fn clear(dir: &Path) -> Result<()> {
    for entry in RUN_ENTRIES {
        let path = dir.join(entry);
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match removed {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("{}: cannot remove", path.display()));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Makes `dir` the run of `config` continued after epoch `last`: the final model and figures
/// go (the run is unfinished again), `config.json` gets the new target, and the epoch log and
/// metric logs lose the epochs after `last`.
pub fn reopen(dir: &Path, config: &TrainingConfig, last: usize) -> Result<()> {
    for entry in [MODEL_FILE, "figures"] {
        let path = dir.join(entry);
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        if let Err(e) = removed
            && e.kind() != std::io::ErrorKind::NotFound
        {
            return Err(e).with_context(|| format!("{}: cannot remove", path.display()));
        }
    }
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

/// Checks that `dir` holds a finished, coherent run: its final model, a `config.json` whose
/// epochs match the epoch log and the metric logs, and (when the newest checkpoint is kept) a
/// final model equal to that checkpoint. The error says what disagrees and how to mend it.
pub fn check_finished(dir: &Path, config: &TrainingConfig) -> Result<()> {
    let epochs = config.epochs;
    let model = dir.join(MODEL_FILE);
    if !model.exists() {
        let kept = artifacts::checkpoint_epochs(&dir.join(CHECKPOINT_DIR));
        match kept.first() {
            Some(&newest) => bail!(
                "{}: the run is unfinished (no {MODEL_FILE}; newest checkpoint: epoch {newest} of {epochs}; it may still be training): draw a checkpoint with --epoch {newest}, or finish the run with `train … --resume`",
                dir.display()
            ),
            None => bail!(
                "{}: the run is unfinished (no {MODEL_FILE} and no checkpoint; it may still be training): finish it with `train … --resume` or train it again",
                dir.display()
            ),
        }
    }
    let mend = "mend it with `train … --resume` (it rebuilds the final model from the newest checkpoint) or retrain it with --overwrite";
    let logged: Vec<usize> = read_epochs(&dir.join(EPOCHS_CSV))
        .iter()
        .map(|r| r.epoch)
        .collect();
    if logged != (1..=epochs).collect::<Vec<_>>() {
        bail!(
            "{}: files disagree: config.json says {epochs} epochs, {EPOCHS_CSV} has {} rows; {mend}",
            dir.display(),
            logged.len()
        );
    }
    let log = |epoch: usize| dir.join(format!("train/epoch-{epoch}/Loss.log"));
    if !log(epochs).exists() || log(epochs + 1).exists() {
        bail!(
            "{}: files disagree: config.json says {epochs} epochs, the metric logs in train/ do not; {mend}",
            dir.display()
        );
    }
    let newest = artifacts::checkpoint_path(&dir.join(CHECKPOINT_DIR), "model", epochs);
    if newest.exists() {
        let same = std::fs::read(&newest).ok() == std::fs::read(&model).ok();
        if !same {
            bail!(
                "{}: files disagree: {MODEL_FILE} is not the model of epoch {epochs} ({}); {mend}",
                dir.display(),
                newest.display()
            );
        }
    }
    Ok(())
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

/// Checks that a run of the user's own (a `--name`, or a config file's stem) does not take a
/// directory that a study case, the report or a comparison owns; `case` is the study case being
/// trained, whose own name is allowed.
pub fn check_own_name(name: &str, case: Option<usize>) -> Result<()> {
    check_run_name(name)?;
    let owner = (1..=CASE_COUNT)
        .find(|n| {
            name == format!("case{n}") || name.starts_with(&format!("case{n}-hidden-dropout"))
        })
        .map(|n| (Some(n), format!("study case {n}")))
        .or_else(|| match name {
            "report" | "quick" => Some((None, "the report".to_string())),
            _ if name.starts_with("compare-") => Some((None, "the backend comparison".to_string())),
            _ => None,
        });
    match owner {
        Some((Some(n), _)) if case == Some(n) && name == format!("case{n}") => Ok(()),
        Some((_, who)) => {
            bail!("run name {name:?} belongs to {who}'s directory; choose another with --name NAME")
        }
        None => Ok(()),
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
            checkpoint,
        }
    }

    const HINT: &str = "ways out";

    fn refusal(found: &Found, config: &TrainingConfig, start: Start) -> String {
        format!(
            "{:#}",
            plan(Path::new("runs/case7"), found, config, start, HINT).unwrap_err()
        )
    }

    #[test]
    fn the_differing_fields_are_named() {
        let old = case7();
        let mut new = other();
        new.model.dropout = 0.25;
        new.description = "other words".into();
        assert_eq!(
            config_diff(&old, &new, false),
            vec![
                "epochs 20 → 1",
                "limit none → 1000",
                "model.dropout 0.0 → 0.25",
                "seed 0 → 1"
            ]
        );
        assert_eq!(config_diff(&old, &new, true).len(), 3);
        assert!(config_diff(&old, &old, false).is_empty());
    }

    #[test]
    fn another_configuration_is_refused_naming_fields_and_ways_out() {
        let saved = found(Some(case7()), true, Some(20));
        let new = other();
        let e = refusal(&saved, &new, Start::Fresh);
        assert!(
            e.contains("runs/case7 holds a run with a different configuration"),
            "{e}"
        );
        assert!(
            e.contains("(epochs 20 → 1, limit none → 1000, seed 0 → 1); nothing was changed")
                && e.contains(HINT),
            "{e}"
        );
        let e = refusal(&saved, &new, Start::Resume { epochs: None });
        assert!(
            e.starts_with("--resume: ") && e.contains("seed 0 → 1"),
            "{e}"
        );
        assert!(refusal(&saved, &new, Start::Continue).contains("seed 0 → 1"));
        assert_eq!(
            plan(Path::new("d"), &saved, &new, Start::Overwrite, HINT).unwrap(),
            Plan::Restart
        );
    }

    #[test]
    fn another_backend_is_another_run_only_for_a_fresh_start() {
        let mut flex = case7();
        flex.backend = Some("flex".into());
        let mut wgpu = case7();
        wgpu.backend = Some("wgpu".into());
        let saved = found(Some(flex.clone()), true, Some(20));
        let e = refusal(&saved, &wgpu, Start::Fresh);
        assert!(e.contains("(backend flex → wgpu)"), "{e}");
        let d = Path::new("d");
        assert_eq!(
            plan(d, &saved, &wgpu, Start::Continue, HINT).unwrap(),
            Plan::Finished(20)
        );
        wgpu.epochs = 30;
        let resume = Start::Resume { epochs: Some(30) };
        assert_eq!(
            plan(d, &saved, &wgpu, resume, HINT).unwrap(),
            Plan::ResumeAfter(20)
        );
        // A run saved before the backend was recorded matches any backend.
        let old = found(Some(case7()), true, Some(20));
        assert_eq!(
            plan(d, &old, &flex, Start::Fresh, HINT).unwrap(),
            Plan::Finished(20)
        );
    }

    #[test]
    fn the_same_run_is_finished_resumed_or_refused() {
        let p = |f: &Found, epochs: usize, start: Start| {
            plan(Path::new("d"), f, &with_epochs(epochs), start, HINT)
        };
        let finished = found(Some(case7()), true, Some(20));
        assert_eq!(p(&finished, 20, Start::Fresh).unwrap(), Plan::Finished(20));
        assert_eq!(
            p(&finished, 20, Start::Continue).unwrap(),
            Plan::Finished(20)
        );
        let resume = Start::Resume { epochs: None };
        assert_eq!(p(&finished, 20, resume).unwrap(), Plan::Finished(20));
        assert_eq!(p(&finished, 5, resume).unwrap(), Plan::Finished(20));
        assert_eq!(p(&finished, 30, resume).unwrap(), Plan::ResumeAfter(20));
        let e = format!("{:#}", p(&finished, 30, Start::Fresh).unwrap_err());
        assert!(
            e.contains("epochs 20 → 30") && e.contains("--resume"),
            "{e}"
        );

        let unfinished = found(Some(case7()), false, Some(3));
        let e = format!("{:#}", p(&unfinished, 20, Start::Fresh).unwrap_err());
        assert!(e.contains("unfinished run") && e.contains("3 of 20"), "{e}");
        assert_eq!(p(&unfinished, 20, resume).unwrap(), Plan::ResumeAfter(3));
        assert_eq!(
            p(&unfinished, 20, Start::Continue).unwrap(),
            Plan::ResumeAfter(3)
        );
        assert_eq!(p(&unfinished, 3, resume).unwrap(), Plan::FinishAt(3));
        assert_eq!(p(&unfinished, 1, resume).unwrap(), Plan::FinishAt(3));
        let nothing_saved = found(Some(case7()), false, None);
        assert_eq!(p(&nothing_saved, 20, resume).unwrap(), Plan::Restart);

        let empty = found(None, false, None);
        assert_eq!(p(&empty, 20, Start::Fresh).unwrap(), Plan::Restart);
        assert!(
            format!("{:#}", p(&empty, 20, resume).unwrap_err())
                .contains("--resume needs a previous run")
        );
        let unreadable = Found {
            config: Some(Err("d/config.json: not a valid run config".into())),
            finished: true,
            checkpoint: None,
        };
        let e = format!("{:#}", p(&unreadable, 20, Start::Fresh).unwrap_err());
        assert!(
            e.contains("not a valid run config") && e.contains(HINT),
            "{e}"
        );
    }

    #[test]
    fn names_are_one_plain_component_and_owned_names_are_refused() {
        for good in ["seed1", "case7-seed.2", "my_run"] {
            check_own_name(good, None).unwrap();
        }
        for bad in ["", "..", ".hidden", "a/b", "a b", "/abs", "é"] {
            assert!(check_run_name(bad).is_err(), "{bad:?}");
        }
        check_own_name("case7", Some(7)).unwrap();
        for (owned, case) in [
            ("case1", None),
            ("case7", Some(3)),
            ("case3-hidden-dropout", Some(3)),
            ("report", None),
            ("quick", None),
            ("compare-case7", None),
        ] {
            let e = check_own_name(owned, case).unwrap_err().to_string();
            assert!(e.contains("belongs to") && e.contains("--name"), "{e}");
        }
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
