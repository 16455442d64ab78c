//! The runs as the server sees them: which directories are runs, their status, their files
//! (every one inside the artifacts), their models loaded by content, and their figures.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use study::drawing::{FIGURES_STAMP, FigureOptions, default_place, figures_show, write_figures};
use trainer::backend::Backend;
use trainer::checkpoint::{MODEL_FILE, sha256_hex};
use trainer::config::TrainingConfig;
use trainer::epochs::{EPOCHS_CSV, read_epochs};
use trainer::inference::{ModelChoice, TrainedRun};
use trainer::lock::active_writer;
use trainer::names::check_run_name;
use trainer::run_dir::{RunError, check_finished};

use super::models::Model;
use super::state::{ApiError, AppState, FileStamp};

/// Figures the server hands out, by file name.
pub const FIGURES: [&str; 7] = [
    "loss.png",
    "reconstructions.png",
    "w1.png",
    "w2t.png",
    "codes.png",
    "noised.png",
    "loss-compare.png",
];

/// Where a run stands, as the page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    /// Its final model is there and its files agree.
    Finished,
    /// A live process holds its lock.
    Training,
    /// No final model and no writer: stopped part-way.
    Interrupted,
    /// Its files disagree.
    Inconsistent,
}

/// One run as the page lists it.
#[derive(Serialize)]
pub struct RunInfo {
    name: String,
    summary: String,
    status: Status,
    /// Why, for `inconsistent` (with the way out); since when, for `training`.
    detail: Option<String>,
    epochs_done: usize,
    epochs_target: usize,
    /// Imported from a file: no epochs of its own.
    imported: bool,
    backend: Option<String>,
    figures: Vec<&'static str>,
    /// Whether its model's codes of the training set are built: its nearest digits come at once.
    nearest_ready: bool,
}

/// The run directory `name` inside the artifacts, if the name is a plain component and the
/// directory exists inside them (links resolved).
pub fn run_dir(state: &AppState, name: &str) -> Result<PathBuf, ApiError> {
    check_run_name(name).map_err(|e| ApiError::bad(e.to_string()))?;
    let dir = state.root.join(name);
    let resolved = dir
        .canonicalize()
        .map_err(|_| ApiError::not_found(format!("no run named {name}")))?;
    // A directory without a configuration (the sweep's page, say) holds no run.
    let config = resolved.join(trainer::config::CONFIG_FILE);
    if resolved.starts_with(&state.root) && resolved.is_dir() && config.is_file() {
        Ok(resolved)
    } else {
        Err(ApiError::not_found(format!("no run named {name}")))
    }
}

/// Whether `path`, links followed, is inside `root` (an absent path is: there is nothing to
/// read): the one rule for every file the server reads.
pub fn inside(root: &Path, path: &Path) -> bool {
    path.symlink_metadata().is_err()
        || path
            .canonicalize()
            .is_ok_and(|target| target.starts_with(root))
}

/// Whether every file the server reads to load or draw the model of run `dir` is inside `root`:
/// its configuration, epoch log, final model, checkpoints and metric logs.
fn model_files_inside(root: &Path, dir: &Path) -> bool {
    let mut stack: Vec<PathBuf> = [
        "config.json",
        "epochs.csv",
        MODEL_FILE,
        "checkpoint",
        "train",
        "valid",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    while let Some(path) = stack.pop() {
        if !inside(root, &path) {
            return false;
        }
        let real_dir = path.symlink_metadata().is_ok_and(|m| m.is_dir());
        if real_dir {
            stack.extend(
                std::fs::read_dir(&path)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path()),
            );
        }
    }
    true
}

/// The runs directly inside `root` (sorted) that hold `file`, whose configuration and epoch log
/// are inside `root`.
pub fn run_names(root: &Path, file: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.path().canonicalize().is_ok_and(|p| {
                p.starts_with(root)
                    && p.join(file).is_file()
                    && [trainer::config::CONFIG_FILE, EPOCHS_CSV, file]
                        .iter()
                        .all(|f| inside(root, &p.join(f)))
            })
        })
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| check_run_name(n).is_ok())
        .collect();
    names.sort();
    names
}

/// The run directories inside `root` whose names the program does not take (`café`: names
/// are ASCII, so that none can pass for another), listed so that the page says why they are not
/// usable instead of leaving them out.
pub fn misnamed_runs(root: &Path) -> Vec<RunInfo> {
    let mut runs: Vec<RunInfo> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join(trainer::config::CONFIG_FILE).is_file())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let why = match e.file_name().to_str().map(check_run_name) {
                Some(Ok(())) => return None,
                Some(Err(error)) => error.to_string(),
                None => "not UTF-8".to_string(),
            };
            let config = TrainingConfig::of_run(&e.path()).ok();
            Some(RunInfo {
                summary: config
                    .as_ref()
                    .map_or_else(String::new, TrainingConfig::model_summary),
                status: Status::Inconsistent,
                detail: Some(format!("{why}; rename the directory to use it")),
                epochs_done: 0,
                epochs_target: 0,
                imported: false,
                backend: None,
                figures: Vec::new(),
                nearest_ready: false,
                name,
            })
        })
        .collect();
    runs.sort_by(|a, b| a.name.cmp(&b.name));
    runs
}

pub fn run_info(state: &AppState, dir: &Path, name: &str) -> Option<RunInfo> {
    let config = TrainingConfig::of_run(dir).ok()?;
    let epochs_done = read_epochs(&dir.join(EPOCHS_CSV)).len();
    let (status, detail) = if dir.join(MODEL_FILE).exists() {
        match check_finished(dir, &config) {
            Ok(()) => (Status::Finished, None),
            Err(RunError::Inconsistent { what, .. }) => (
                Status::Inconsistent,
                Some(format!(
                    "files disagree: {what}; mend it with `{}`",
                    state.resume_command.replace("{name}", name)
                )),
            ),
            Err(e) => (Status::Inconsistent, Some(e.to_string())),
        }
    } else if let Some(writer) = active_writer(dir) {
        (
            Status::Training,
            writer.since.map(|t| format!("training since {t}")),
        )
    } else {
        (Status::Interrupted, None)
    };
    // A finished run's figures are drawn on request when it has none of its own.
    let figures = if status == Status::Finished {
        FIGURES
            .into_iter()
            .filter(|&f| offered(dir, &config, f))
            .collect()
    } else {
        Vec::new()
    };
    // An imported run trained elsewhere: its model, where it came from, no epochs of its own.
    let origin = trainer::origin::Origin::of_run(dir, &config);
    let summary = origin.summary(&config);
    let imported = matches!(origin, trainer::origin::Origin::Imported(_));
    Some(RunInfo {
        name: name.to_string(),
        summary,
        status,
        detail,
        epochs_done,
        epochs_target: if imported { 0 } else { config.epochs },
        imported,
        backend: config.backend.clone(),
        figures,
        nearest_ready: status == Status::Finished && nearest_ready(state, name, dir),
    })
}

/// Whether the model of run `name` now in `dir` has its codes of the training set built.
fn nearest_ready(state: &AppState, name: &str, dir: &Path) -> bool {
    let Some(hash) = model_hash(state, dir) else {
        return false;
    };
    let model = (state.models.lock().unwrap_or_else(|e| e.into_inner()))
        .get(name)
        .cloned();
    model.is_some_and(|m| m.hash == hash && m.codes_ready())
}

/// Whether a finished run has figure `file`: noised inputs only with noise, a loss curve only
/// with training logs, the loss comparison only when `visualize --compare` drew one.
fn offered(dir: &Path, config: &TrainingConfig, file: &str) -> bool {
    match file {
        "noised.png" => config.noise > 0.0,
        // An imported run has no training logs.
        "loss.png" => dir.join("train").is_dir(),
        "loss-compare.png" => dir.join("figures").join(file).is_file(),
        _ => true,
    }
}

/// Where figure `file` of run `name` is: the run's own, drawn by `train visualize` from the model
/// it has now (their stamp says so), else drawn once by the server into its cache with
/// `visualize`'s defaults. A checkpoint's figures are never taken for the final model's.
pub fn figure_path(
    state: &AppState,
    name: &str,
    dir: &Path,
    file: &str,
) -> Result<PathBuf, ApiError> {
    let missing = || ApiError::not_found(format!("{name} has no {file}"));
    let config = TrainingConfig::of_run(dir).map_err(|_| missing())?;
    let hash = model_hash(state, dir).ok_or_else(|| {
        ApiError::not_found(format!(
            "{name} has no model yet: figures come when it finishes"
        ))
    })?;
    if !offered(dir, &config, file) {
        return Err(missing());
    }
    let own = dir.join("figures");
    if !inside(&state.root, &own.join(file)) || !inside(&state.root, &own.join(FIGURES_STAMP)) {
        return Err(missing());
    }
    if figures_show(&own, &hash) && own.join(file).is_file() {
        return Ok(own.join(file));
    }
    if file == "loss-compare.png" {
        return Err(missing());
    }
    let mut drawn = state.drawn.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((seen, out)) = drawn.get(name)
        && *seen == hash
    {
        return Ok(out.join(file));
    }
    let model = loaded(state, name, dir)
        .ok_or_else(|| ApiError::not_found(format!("{name}: its files disagree; no figures")))?;
    let out = state.cache.path().join(format!("{name}-{}", drawn.len()));
    let (_, label, _) = default_place(&model.run, &ModelChoice::Final);
    let options = FigureOptions::new(state.data_dir.clone(), out.clone(), label);
    let started = Instant::now();
    write_figures(&model.run, &options)
        .map_err(|e| ApiError::internal(format!("{name}: cannot draw its figures: {e}")))?;
    crate::output::out!(
        "{name}: figures drawn in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drawn.insert(name.to_string(), (hash, out.clone()));
    Ok(out.join(file))
}

/// The SHA-256 of `dir`'s `model.bpk`, if it has one: read again only when the file changed.
pub fn model_hash(state: &AppState, dir: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    if !model_files_inside(&state.root, dir) {
        return None;
    }
    let path = dir.join(MODEL_FILE);
    let meta = std::fs::metadata(&path).ok()?;
    let stamp: FileStamp = (
        meta.ino(),
        meta.len(),
        meta.modified().ok(),
        meta.ctime(),
        meta.ctime_nsec(),
    );
    let mut hashes = state.hashes.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((seen, hash)) = hashes.get(&path)
        && *seen == stamp
    {
        return Some(hash.clone());
    }
    let hash = sha256_hex(&std::fs::read(&path).ok()?);
    hashes.insert(path, (stamp, hash.clone()));
    Some(hash)
}

/// The finished run `name`, loaded once and reloaded when its model file's content changes. A
/// file replaced while it was being loaded is loaded again, so the hash is the model's.
pub fn loaded(state: &AppState, name: &str, dir: &Path) -> Option<Arc<Model>> {
    let mut models = state.models.lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..3 {
        let hash = model_hash(state, dir)?;
        if let Some(model) = models.get(name)
            && model.hash == hash
        {
            return Some(model.clone());
        }
        let device = Backend::Flex.device().ok()?;
        let run = TrainedRun::load(dir, &ModelChoice::Final, device).ok()?;
        if model_hash(state, dir)? != hash {
            continue;
        }
        let model = Arc::new(Model::new(hash, run));
        models.insert(name.to_string(), model.clone());
        return Some(model);
    }
    None
}
