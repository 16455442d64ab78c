//! The run crate from another program, as a notebook would use it: train study case 7, keep
//! what the library tells (its events) in a recorder instead of printing it, then read the
//! epochs back. The library itself writes nothing to the terminal; what is printed here is this
//! program's choice.
//!
//! ```sh
//! cargo run --release -p trainer --example notebook -- /tmp/notebook-runs 1 1000
//! ```
//! (the run's root, its epochs and its training images; defaults: a temporary root, the case's
//! 20 epochs, all 60 000 images). `--quiet` prints nothing at all (a test runs it so).

use std::path::PathBuf;
use std::sync::Arc;

use trainer::backend::Backend;
use trainer::cases::case;
use trainer::events::{Event, Recorder};
use trainer::training::{Outcome, RunOptions, train};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quiet = args.iter().any(|a| a == "--quiet");
    let mut args = args.iter().filter(|a| *a != "--quiet");
    let scratch = tempfile::tempdir()?;
    let root = args
        .next()
        .map_or_else(|| scratch.path().to_path_buf(), PathBuf::from);
    let mut config = case(7)?;
    if let Some(epochs) = args.next() {
        config.epochs = epochs.parse()?;
    }
    config.limit = args.next().map(|n| n.parse()).transpose()?;

    // The run goes where we say, on the CPU, its events into a recorder.
    let recorder = Arc::new(Recorder::default());
    let mut options = RunOptions::new(root.join("case7"), data::default_dir(), Backend::Flex);
    options.events = recorder.clone();
    let outcome = train(&config, &options)?;

    // Read what happened: the epochs from the events, the final model from the outcome.
    let epochs: Vec<_> = recorder
        .events()
        .into_iter()
        .filter_map(|event| match event {
            Event::Epoch { record, .. } => Some(record),
            _ => None,
        })
        .collect();
    if !quiet {
        for e in &epochs {
            println!(
                "epoch {}: train loss {:.5}, test MSE {:.5}",
                e.epoch, e.train_loss, e.test_mse
            );
        }
        if let Outcome::Trained { model_path, .. } = outcome {
            println!("model: {}", model_path.display());
        }
    }
    Ok(())
}
