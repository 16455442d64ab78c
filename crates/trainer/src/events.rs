//! What the library tells its caller while it works, as values: a run starting, resuming or
//! mended, each step and epoch, a job's runs and its measuring, a checkpoint skipped. The library
//! never prints; the program that passes an [`Events`] in chooses the words and where they go
//! (lines, progress bars, or nothing).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::backend::Backend;
use crate::epochs::EpochRecord;

/// Receives the library's events.
pub trait Events: Send + Sync {
    /// One event, as it happens.
    fn event(&self, event: &Event);
}

/// The events of a caller that wants none.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEvents;

impl Events for NoEvents {
    fn event(&self, _event: &Event) {}
}

/// Keeps every event (for a caller that reads them afterwards, and for tests).
#[derive(Debug, Default)]
pub struct Recorder {
    events: Mutex<Vec<Event>>,
}

impl Recorder {
    /// The events so far.
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }
}

impl Events for Recorder {
    fn event(&self, event: &Event) {
        self.events.lock().unwrap().push(event.clone());
    }
}

/// A shared sink of events.
pub type Sink = Arc<dyn Events>;

/// A sink that drops every event.
pub fn no_events() -> Sink {
    Arc::new(NoEvents)
}

/// Which part of an epoch a step belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The training pass.
    Train,
    /// The test pass.
    Test,
}

/// A job of several runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// The report's runs.
    Report,
    /// A sweep's points.
    Sweep,
}

/// What is left of one run of a job.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Left {
    /// Every epoch, from the first.
    Train {
        /// Its epochs.
        epochs: usize,
    },
    /// The epochs after its newest checkpoint.
    Resume {
        /// The checkpoint's epoch.
        after: usize,
        /// Its epochs.
        of: usize,
    },
    /// Nothing: it is finished (or only its final model is to be written).
    Nothing,
}

/// One run of a job, checked before the job starts.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRun {
    /// Its name (its directory under the artifacts).
    pub name: String,
    /// What is left of it.
    pub left: Left,
    /// The work of one of its epochs, in units proportional to its arithmetic.
    pub epoch_units: f64,
}

impl JobRun {
    /// The epochs left to train.
    pub fn epochs_left(&self) -> usize {
        match self.left {
            Left::Train { epochs } => epochs,
            Left::Resume { after, of } => of.saturating_sub(after),
            Left::Nothing => 0,
        }
    }

    /// The work left, in units.
    pub fn units_left(&self) -> f64 {
        self.epochs_left() as f64 * self.epoch_units
    }
}

/// Work units of one epoch of a model with `hidden` units on `images` images.
pub fn epoch_units(images: usize, hidden: usize) -> f64 {
    images as f64 * (hidden as f64 + 1.0)
}

/// Something the library did or is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A run is about to train.
    RunStarting {
        /// Its name.
        name: String,
        /// Its configuration in a line.
        summary: String,
        /// The device, in words (`flex on CPU (2 threads)`).
        device: String,
        /// Training images per epoch.
        train_images: usize,
        /// Test images.
        test_images: usize,
        /// Its directory.
        dir: PathBuf,
        /// What the backend has to say first (wgpu compiles its kernels).
        note: Option<String>,
    },
    /// A run's training ended (finished, stopped or failed).
    RunEnded {
        /// Its name.
        name: String,
    },
    /// The directory held a run, which is replaced as asked.
    Replacing {
        /// The directory.
        dir: PathBuf,
    },
    /// The directory held no checkpoint to continue from: the run starts from epoch 1.
    StartingOver {
        /// The directory.
        dir: PathBuf,
    },
    /// The run continues after `epoch`, from the checkpoints in `from`.
    Resuming {
        /// The checkpoint's epoch.
        epoch: usize,
        /// The checkpoint directory.
        from: PathBuf,
    },
    /// A finished run whose files disagree is mended from the checkpoint of `epoch`.
    Mending {
        /// The run directory.
        dir: PathBuf,
        /// What disagrees.
        what: String,
        /// The checkpoint's epoch.
        epoch: usize,
    },
    /// A checkpoint that cannot be continued from is skipped for an older one.
    CheckpointSkipped {
        /// Its epoch.
        epoch: usize,
        /// Why.
        why: String,
    },
    /// The lock of a process that is no longer running was taken over.
    LockTakenOver {
        /// The run directory.
        dir: PathBuf,
        /// Its record (`pid … on …, started …`).
        holder: String,
    },
    /// Progress within an epoch of run `run`.
    Step {
        /// The run.
        run: String,
        /// The epoch (1-based).
        epoch: usize,
        /// The run's epochs.
        epochs: usize,
        /// Which pass.
        phase: Phase,
        /// Items of the pass done.
        done: usize,
        /// Items of the pass.
        total: usize,
    },
    /// An epoch of run `run` finished and was recorded.
    Epoch {
        /// The run.
        run: String,
        /// Its numbers.
        record: EpochRecord,
        /// The run's epochs.
        epochs: usize,
    },
    /// A job's runs, each checked, with what is left of each.
    JobPlanned {
        /// Which job.
        job: Job,
        /// Its runs, in order.
        runs: Vec<JobRun>,
    },
    /// Run `index` (0-based) of the job starts (or is found finished).
    JobRunStarted {
        /// Which job.
        job: Job,
        /// The run's index in [`Event::JobPlanned`]'s list.
        index: usize,
    },
    /// The job's measuring starts.
    MeasuringStarted {
        /// Which job.
        job: Job,
        /// Runs to measure.
        runs: usize,
        /// Training images the measurements use.
        train_images: usize,
        /// Test images.
        test_images: usize,
    },
    /// Run `index` (1-based) of `of` is measured.
    Measuring {
        /// Which job.
        job: Job,
        /// Its place.
        index: usize,
        /// Runs measured.
        of: usize,
        /// The run.
        name: String,
    },
    /// The report's fine-tuning comparison, seed `seed`.
    FineTuning {
        /// The autoencoder whose first layer starts the network.
        source: String,
        /// The seed.
        seed: u64,
    },
    /// A run the report leaves out: it is not finished (reusing only finished runs).
    LeftOut {
        /// The run directory.
        dir: PathBuf,
    },
    /// What a sweep trains.
    SweepPlanned {
        /// Axes.
        axes: usize,
        /// Points.
        points: usize,
        /// Seeds per point.
        seeds: u64,
        /// Distinct runs.
        runs: usize,
        /// Epochs per point.
        epochs: usize,
    },
    /// The sweeps recorded before cannot be read: the page starts afresh.
    SweepRecordUnreadable {
        /// Why.
        why: String,
    },
    /// A comparison trains its case on `backend`.
    BackendStarting {
        /// The case.
        name: String,
        /// The backend.
        backend: Backend,
    },
}
