//! A renderer of Burn's learner that tells the caller of every step and epoch (as
//! [`Event`]s: the program draws them) and appends each epoch's numbers (train loss, test MSE,
//! seconds) to `epochs.csv`.
//!
//! It records only whole epochs: an epoch during which training was stopped (a signal, an error)
//! is neither printed nor logged, since its test pass may be partial and it gets no checkpoint.
//! It also watches every batch's loss and stops training at the first that is not finite.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::train::Interrupter;
use burn::train::checkpoint::CheckpointerError;
use burn::train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining,
};

use crate::epochs::{EpochRecord, append_epoch};
use crate::events::{Event, Phase, Sink};
use crate::stop::Divergence;

/// Every step and epoch as events, `epochs.csv` beside the artifacts.
pub struct EpochLines {
    csv: PathBuf,
    history: Arc<Mutex<Vec<EpochRecord>>>,
    interrupter: Interrupter,
    divergence: Arc<Mutex<Option<Divergence>>>,
    run: String,
    events: Sink,
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
    current_epoch: usize,
}

impl EpochLines {
    /// A renderer appending to `csv` and pushing each epoch into `history`; it stops training
    /// through `interrupter` at a non-finite loss, which it records in `divergence`, and tells
    /// `events` of each step and epoch of run `run`.
    pub fn new(
        csv: PathBuf,
        history: Arc<Mutex<Vec<EpochRecord>>>,
        interrupter: Interrupter,
        divergence: Arc<Mutex<Option<Divergence>>>,
        (run, events): (String, Sink),
    ) -> Self {
        Self {
            csv,
            history,
            interrupter,
            divergence,
            run,
            events,
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

    /// Appends `record`; a failed write stops training with an error naming the file.
    fn append_csv(&self, record: &EpochRecord) {
        if let Err(e) = append_epoch(&self.csv, record) {
            let error = crate::files::io_error_at(&self.csv, e);
            self.interrupter.fail(CheckpointerError::IOError(error));
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
        self.events.event(&Event::Step {
            run: self.run.clone(),
            epoch: self.current_epoch,
            epochs: self.total_epochs,
            phase: self.phase,
            done: items_processed,
            total: self.split_items,
        });
    }

    fn update_epoch(&mut self, epoch: usize) {
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
        self.append_csv(&record);
        self.events.event(&Event::Epoch {
            run: self.run.clone(),
            record: record.clone(),
            epochs: self.total_epochs,
        });
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

    fn end(&mut self) {}

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
