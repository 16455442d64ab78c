//! The learner's per-batch metric logs, `<run>/train/epoch-N/Loss.log` and `valid/…`, in Burn's
//! own format (one serialized entry per line). Burn's `FileMetricLogger` panics when a write
//! fails; this one stops training with an error naming the file (a full disk, say), so that the
//! checkpoints written so far stay the run's last word and a resume continues once there is room.
//! Also the learner's application log (`experiment.log`), installed without Burn's panic hook.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::train::Interrupter;
use burn::train::checkpoint::CheckpointerError;
use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};

use crate::files::io_error_at;

/// Writes the metric logs of a run directory.
pub struct RunLogs {
    dir: PathBuf,
    interrupter: Interrupter,
    names: HashMap<MetricId, String>,
    /// Open log files by path; closed at each epoch's end.
    files: HashMap<PathBuf, File>,
    failed: bool,
}

impl RunLogs {
    /// Logs under `dir`; a failed write stops training through `interrupter`.
    pub fn new(dir: &Path, interrupter: Interrupter) -> Self {
        Self {
            dir: dir.to_path_buf(),
            interrupter,
            names: HashMap::new(),
            files: HashMap::new(),
            failed: false,
        }
    }

    fn path(&self, name: &str, epoch: usize, split: &Split) -> PathBuf {
        self.dir
            .join(split.to_string())
            .join(format!("epoch-{epoch}"))
            .join(format!("{}.log", name.replace(' ', "_")))
    }

    fn write(&mut self, path: &Path, line: &str) -> std::io::Result<()> {
        if !self.files.contains_key(path) {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            self.files.insert(path.to_path_buf(), File::create(path)?);
        }
        let file = self.files.get_mut(path).expect("opened above");
        writeln!(file, "{line}")
    }
}

impl MetricLogger for RunLogs {
    fn log(&mut self, update: MetricsUpdate, epoch: usize, split: &Split) {
        let entries = update
            .entries
            .iter()
            .chain(update.entries_numeric.iter().map(|u| &u.entry));
        for entry in entries {
            if self.failed || entry.serialized_entry.is_not_available() {
                continue;
            }
            let Some(name) = self.names.get(&entry.metric_id) else {
                continue;
            };
            let path = self.path(name, epoch, split);
            if let Err(e) = self.write(&path, &entry.serialized_entry.serialized) {
                self.failed = true;
                self.interrupter
                    .fail(CheckpointerError::IOError(io_error_at(&path, e)));
            }
        }
    }

    fn read_numeric(
        &mut self,
        name: &str,
        epoch: usize,
        split: &Split,
    ) -> Result<Vec<NumericEntry>, String> {
        let text = std::fs::read_to_string(self.path(name, epoch, split)).unwrap_or_default();
        text.lines()
            .filter(|line| !line.is_empty())
            .map(NumericEntry::deserialize)
            .collect()
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        self.names
            .insert(definition.metric_id, definition.name.to_string());
    }

    fn log_epoch_summary(&mut self, _summary: EpochSummary) {
        self.files.clear();
    }
}

/// The learner's application log, `<run>/experiment.log`, as Burn's own installer writes it, but
/// without the panic hook Burn's installs with it: a library leaves the panic hook to the program.
pub struct ExperimentLog {
    path: PathBuf,
}

impl ExperimentLog {
    /// The log at `path`.
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }
}

impl burn::train::ApplicationLoggerInstaller for ExperimentLog {
    fn install(&self) -> Result<(), String> {
        use tracing_subscriber::prelude::*;
        let dir = self.path.parent().unwrap_or_else(|| Path::new("."));
        let name = self.path.file_name().unwrap_or_default();
        let writer = tracing_appender::rolling::never(dir, name);
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(writer)
            .with_filter(tracing_subscriber::filter::LevelFilter::INFO)
            .with_filter(tracing_subscriber::filter::filter_fn(|m| {
                // wgpu says too much at the info level.
                !(m.module_path().is_some_and(|p| p.starts_with("wgpu"))
                    && *m.level() >= tracing_core::Level::INFO)
            }));
        tracing_subscriber::registry()
            .with(layer)
            .try_init()
            .map_err(|_| "the application log is already installed".to_string())
    }
}
