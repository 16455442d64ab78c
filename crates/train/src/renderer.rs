//! A renderer that prints one line per epoch (train loss, test MSE, seconds) and appends the
//! same numbers to `epochs.csv`; on a terminal it also redraws a progress line within the epoch.
//!
//! It records only whole epochs: an epoch during which training was stopped (a signal, an error)
//! is neither printed nor logged, since its test pass may be partial and it gets no checkpoint.
//! It also watches every batch's loss and stops training at the first that is not finite.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use burn::train::Interrupter;
use burn::train::checkpoint::CheckpointerError;
use burn::train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining,
};

use crate::progress::RunProgress;

/// File name of a run's epoch log.
pub const EPOCHS_CSV: &str = "epochs.csv";
/// Header of `epochs.csv`.
pub const EPOCHS_CSV_HEADER: &str = "epoch,train_loss,test_mse,train_seconds,test_seconds";

/// The numbers of one finished epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss (with dropout, on noised inputs).
    pub train_loss: f64,
    /// Mean test MSE (no dropout).
    pub test_mse: f64,
    /// Seconds spent in the training split.
    pub train_seconds: f64,
    /// Seconds spent in the test split.
    pub test_seconds: f64,
}

impl EpochRecord {
    fn csv(&self) -> String {
        format!(
            "{},{},{},{:.3},{:.3}",
            self.epoch, self.train_loss, self.test_mse, self.train_seconds, self.test_seconds
        )
    }

    fn parse(line: &str) -> Option<Self> {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 5 {
            return None;
        }
        Some(Self {
            epoch: f[0].parse().ok()?,
            train_loss: f[1].parse().ok()?,
            test_mse: f[2].parse().ok()?,
            train_seconds: f[3].parse().ok()?,
            test_seconds: f[4].parse().ok()?,
        })
    }
}

/// Reads `epochs.csv`; rows that do not parse, and a last row without its newline (being
/// written), are skipped.
pub fn read_epochs(path: &Path) -> Vec<EpochRecord> {
    std::fs::read_to_string(path)
        .map(|text| {
            // Only whole rows: a row still being written has no newline yet.
            text.split_inclusive('\n')
                .filter(|line| line.ends_with('\n'))
                .skip(1)
                .filter_map(|line| EpochRecord::parse(line.trim_end()))
                .collect()
        })
        .unwrap_or_default()
}

/// Rewrites `epochs.csv` keeping only the rows of epochs `1..=last` (for a resumed run).
pub fn truncate_epochs(path: &Path, last: usize) -> std::io::Result<()> {
    let mut text = format!("{EPOCHS_CSV_HEADER}\n");
    for record in read_epochs(path).into_iter().filter(|r| r.epoch <= last) {
        text.push_str(&record.csv());
        text.push('\n');
    }
    crate::artifacts::write_atomic(path, text.as_bytes())
}

/// Whether stderr is a terminal that understands the progress line's cursor codes (`TERM=dumb`
/// does not).
pub fn live_terminal() -> bool {
    std::io::stderr().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

#[derive(Clone, Copy, PartialEq)]
enum Phase {
    Train,
    Test,
}

/// The first batch whose loss was not finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Divergence {
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based step within the epoch's pass.
    pub step: usize,
    /// Whether it happened in the test pass (else in training).
    pub testing: bool,
    /// The loss (NaN or ±inf).
    pub loss: f64,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the loss became {} at epoch {}, {} step {}",
            self.loss,
            self.epoch,
            if self.testing { "test" } else { "training" },
            self.step
        )
    }
}

/// One line per epoch on stdout, `epochs.csv` beside the artifacts, live progress on a terminal.
pub struct EpochLines {
    csv: PathBuf,
    history: Arc<Mutex<Vec<EpochRecord>>>,
    interrupter: Interrupter,
    divergence: Arc<Mutex<Option<Divergence>>>,
    progress: Option<RunProgress>,
    steps: usize,
    names: HashMap<MetricId, String>,
    total_epochs: usize,
    phase: Phase,
    split_started: Instant,
    split_items: usize,
    train_seconds: f64,
    test_seconds: f64,
    train_loss: f64,
    test_mse: f64,
    live: bool,
    last_draw: Instant,
    current_epoch: usize,
}

impl EpochLines {
    /// A renderer appending to `csv` and pushing each epoch into `history`; it stops training
    /// through `interrupter` at a non-finite loss, which it records in `divergence`, and tells
    /// `progress` (a longer job's) of each epoch.
    pub fn new(
        csv: PathBuf,
        history: Arc<Mutex<Vec<EpochRecord>>>,
        interrupter: Interrupter,
        divergence: Arc<Mutex<Option<Divergence>>>,
        progress: Option<RunProgress>,
    ) -> Self {
        Self {
            csv,
            history,
            interrupter,
            divergence,
            progress,
            steps: 0,
            names: HashMap::new(),
            total_epochs: 0,
            phase: Phase::Train,
            split_started: Instant::now(),
            split_items: 0,
            train_seconds: 0.0,
            test_seconds: 0.0,
            train_loss: f64::NAN,
            test_mse: f64::NAN,
            live: live_terminal(),
            last_draw: Instant::now(),
            current_epoch: 1,
        }
    }

    fn record(&mut self, state: MetricState, phase: Phase) {
        let MetricState::Numeric(entry, Some(value)) = state else {
            return;
        };
        if self.names.get(&entry.metric_id).map(String::as_str) != Some("Loss") {
            return;
        }
        let NumericEntry::Final(value) = value else {
            self.steps += 1;
            self.check_finite(value.current(), phase);
            return;
        };
        match phase {
            Phase::Train => self.train_loss = value,
            Phase::Test => self.test_mse = value,
        }
    }

    fn check_finite(&mut self, loss: f64, phase: Phase) {
        if loss.is_finite() {
            return;
        }
        let mut divergence = self.divergence.lock().unwrap();
        if divergence.is_none() {
            *divergence = Some(Divergence {
                epoch: self.current_epoch,
                step: self.steps,
                testing: phase == Phase::Test,
                loss,
            });
            self.interrupter.stop(Some("non-finite loss"));
        }
    }

    fn clear_live(&self) {
        if self.live {
            crate::output::err_text(format_args!("\r\x1b[2K"));
        }
    }

    /// Appends `record`; a failed write stops training with an error naming the file.
    fn append_csv(&self, record: &EpochRecord) {
        let new = !self.csv.exists();
        let written = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.csv)
            .and_then(|mut f| {
                // One write per row: a reader (`train serve`) sees a whole row or none of it.
                let header = if new {
                    format!("{EPOCHS_CSV_HEADER}\n")
                } else {
                    String::new()
                };
                f.write_all(format!("{header}{}\n", record.csv()).as_bytes())
            });
        if let Err(e) = written {
            self.interrupter
                .fail(CheckpointerError::IOError(crate::artifacts::io_error_at(
                    &self.csv, e,
                )));
        }
    }
}

impl MetricsRendererTraining for EpochLines {
    fn update_train(&mut self, state: MetricState) {
        self.record(state, Phase::Train);
    }

    fn update_valid(&mut self, state: MetricState) {
        self.record(state, Phase::Test);
    }

    fn on_train_end(
        &mut self,
        _summary: Option<burn::train::LearnerSummary>,
    ) -> Result<(), Box<dyn std::error::Error>> {
        Ok(())
    }
}

impl TrainingProgressLogger for EpochLines {
    fn start(
        &mut self,
        total_epochs: usize,
        starting_epoch: usize,
        _items: Option<usize>,
        _label: Option<&str>,
    ) {
        self.total_epochs = total_epochs;
        self.current_epoch = starting_epoch.max(1);
    }

    fn start_split(&mut self, split: &str, total_items: usize) {
        self.phase = if split == "train" {
            Phase::Train
        } else {
            Phase::Test
        };
        self.split_started = Instant::now();
        self.split_items = total_items;
        self.steps = 0;
    }

    fn update_split(&mut self, items_processed: usize) {
        if !self.live || self.last_draw.elapsed() < Duration::from_millis(100) {
            return;
        }
        self.last_draw = Instant::now();
        let what = match self.phase {
            Phase::Train => "training",
            Phase::Test => "testing",
        };
        let total = self.split_items.max(1);
        let done = (items_processed * 30 / total).min(30);
        crate::output::err_text(format_args!(
            "\r\x1b[2K  epoch {}/{} {what} [{}{}] {:>3}%",
            self.current_epoch,
            self.total_epochs,
            "=".repeat(done),
            " ".repeat(30 - done),
            items_processed * 100 / total
        ));
    }

    fn update_epoch(&mut self, epoch: usize) {
        self.clear_live();
        if self.interrupter.should_stop() {
            // Stopped during this epoch: its test pass may be partial, and the learner will not
            // checkpoint it. Record nothing.
            return;
        }
        let record = EpochRecord {
            epoch,
            train_loss: self.train_loss,
            test_mse: self.test_mse,
            train_seconds: self.train_seconds,
            test_seconds: self.test_seconds,
        };
        crate::out!(
            "epoch {:>2}/{}  train loss {:.5}  test MSE {:.5}  {:.1} s (train {:.1} s, test {:.1} s)",
            epoch,
            self.total_epochs,
            record.train_loss,
            record.test_mse,
            record.train_seconds + record.test_seconds,
            record.train_seconds,
            record.test_seconds,
        );
        self.append_csv(&record);
        if let Some(progress) = &self.progress {
            crate::out!("{}", progress.epoch_done());
        }
        self.history.lock().unwrap().push(record);
        self.current_epoch = epoch + 1;
        self.train_loss = f64::NAN;
        self.test_mse = f64::NAN;
    }

    fn end_split(&mut self) {
        let seconds = self.split_started.elapsed().as_secs_f64();
        match self.phase {
            Phase::Train => self.train_seconds = seconds,
            Phase::Test => self.test_seconds = seconds,
        }
    }

    fn end(&mut self) {
        self.clear_live();
    }

    fn log_event_training(&mut self, _event: String) {}
}

impl EvaluationProgressLogger for EpochLines {
    fn start_global_progress(&mut self, _total_tests: usize) {}
    fn start_test(&mut self, _name: &str, _total_items: usize) {}
    fn update_test_progress(&mut self, _items_processed: usize) {}
    fn end_test(&mut self) {}
    fn end_global_progress(&mut self) {}
    fn log_event_evaluation(&mut self, _event: String) {}
}

impl MetricsRendererEvaluation for EpochLines {
    fn update_test(&mut self, _name: EvaluationName, _state: MetricState) {}
}

impl MetricsRenderer for EpochLines {
    fn manual_close(&mut self) {}

    fn register_metric(&mut self, definition: MetricDefinition) {
        self.names
            .insert(definition.metric_id, definition.name.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_being_written_is_not_read() {
        let dir = std::env::temp_dir().join(format!("renderer-rows-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(EPOCHS_CSV);
        // The third row is cut inside its last number: "0.1" of "0.15" would parse.
        let text = format!(
            "{EPOCHS_CSV_HEADER}\n1,0.2,0.1,3.5,0.2\n2,0.1,0.09,3.4,0.2\n3,0.09,0.08,3.3,0.1"
        );
        std::fs::write(&path, &text).unwrap();
        let rows = read_epochs(&path);
        assert_eq!(rows.iter().map(|r| r.epoch).collect::<Vec<_>>(), [1, 2]);
        std::fs::write(&path, text + "5\n").unwrap();
        assert_eq!(read_epochs(&path).len(), 3);
        std::fs::remove_dir_all(&dir).ok();
    }
}
