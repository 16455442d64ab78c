//! One training run of the study's MNIST autoencoder: its configuration (and the seven cases),
//! the backend chosen at run time, Burn's learner with the study's Adam, the run directory (one
//! run each, one writer at a time), checkpoints and the epoch log, and inference from a finished
//! run.
//!
//! It never prints, installs no signal handler or panic hook and names no flag of any program:
//! what happens reaches the caller as [`events`] through the sink it passes in, a stop is asked
//! through the run's interrupter, and failures are values ([`Error`]): a refusal names what
//! differs, a stop what is kept, and the caller adds the ways out in its own words.

pub mod adam;
pub mod backend;
pub mod cases;
pub mod checkpoint;
pub mod config;
pub mod cpu;
pub mod epochs;
pub mod error;
pub mod events;
pub mod files;
pub mod inference;
pub mod layout;
pub mod lock;
pub mod logs;
pub mod names;
pub mod origin;
pub mod renderer;
pub mod run_dir;
pub mod stop;
pub mod training;
pub mod wording;

pub use error::{ConfigError, Error, Result};
/// The crates below: the data set and the model.
pub use {data, model};
