//! The study made of many runs: the report (its runs on every seed, measured against the same
//! baselines, its claims judged from the numbers beside them), the sweeps (one setting of a case
//! varied over a list), the backend comparison, a run's figures, and the jobs that train many
//! runs one after the other or one by one for a scheduler.
//!
//! Like the run crate below it ([`trainer`]), it never prints: its progress reaches the caller
//! as events, its failures as values ([`Error`]).

mod batch;
pub mod comparison;
pub mod drawing;
pub mod loss_logs;
mod measuring;
pub mod report;
pub mod study_error;
pub mod sweep;

pub use study_error::{Error, Result};
/// The crates below the study, for its callers: the run, the data set, the model, the
/// measurements, the pictures.
pub use {analysis, data, figures, model, trainer};
