//! The files of a run directory, by name: one place for the layout every module writes and reads.
//!
//! ```text
//! artifacts/case7/
//!   config.json            the run's configuration (TrainingConfig)
//!   model.bpk              the final model, written last: only a finished run has one
//!   epochs.csv             one row per finished epoch
//!   checkpoint/            model-, optim-, scheduler-<epoch>.bpk (last two + best), with .sha256
//!   train/, valid/         the learner's per-batch metric logs
//!   figures/               `visualize`'s figures of the final model, with model.sha256
//!   .lock                  held by the process writing the run
//! ```

/// The run's configuration.
pub const CONFIG_FILE: &str = "config.json";
/// The final model.
pub const MODEL_FILE: &str = "model.bpk";
/// The epoch log.
pub const EPOCHS_CSV: &str = "epochs.csv";
/// The per-epoch checkpoints.
pub const CHECKPOINT_DIR: &str = "checkpoint";
/// The lock of the process writing the run.
pub const LOCK_FILE: &str = ".lock";
/// The run's own figures.
pub const FIGURES_DIR: &str = "figures";
/// Beside the run's own figures: the SHA-256 of the model they show.
pub const FIGURES_STAMP: &str = "model.sha256";
/// An imported run's record of where its model came from (one line of JSON).
pub const PROVENANCE_FILE: &str = "provenance.json";
/// Where `export` writes the run's models by default (`model.safetensors`, and
/// `model-epoch-N.safetensors` for a checkpoint).
pub const EXPORT_DIR: &str = "export";
