//! The study's experiments as a library: the seven cases and their configuration, training with
//! Burn's learner on a backend chosen at run time, run directories (one run each, one writer at a
//! time), checkpoints, inference, a run's figures, the backend comparison and the report's data.
//!
//! Failures are values ([`Error`]): a refusal names what differs, a stop what is kept, and the
//! program that calls the library adds the ways out in its own words (its flags).

pub mod adam;
pub mod backend;
mod batch;
pub mod cases;
pub mod checkpoint;
pub mod compare;
pub mod config;
pub mod cpu;
pub mod drawing;
pub mod epochs;
pub mod error;
pub mod events;
pub mod files;
pub mod inference;
pub mod interrupt;
pub mod layout;
pub mod lock;
pub mod logs;
mod measuring;
pub mod names;
pub mod origin;
pub mod output;
pub mod progress;
pub mod refusal;
pub mod renderer;
pub mod report;
pub mod run;
pub mod stop;
pub mod sweep;
pub mod training;
pub mod weights;

pub use error::{ConfigError, Error, Result};
/// The crates below the library, for its callers: the data set, the model, the measurements, the
/// pictures.
pub use {analysis, data, figures, model};
