//! The same case trained on several backends with the same seed, data order and initial
//! weights, compared epoch by epoch: losses, speed, and how far the trained weights drift apart.

use std::path::Path;

use burn::prelude::*;
use serde::Serialize;

use crate::study_error::Result;
use trainer::backend::Backend;
use trainer::checkpoint::{self, CHECKPOINT_DIR};
use trainer::config::TrainingConfig;
use trainer::epochs::{EPOCHS_CSV, EpochRecord, read_epochs};
use trainer::events::{Event, Sink};
use trainer::run_dir::Start;
use trainer::training::{RunOptions, train};

/// One backend's run in a comparison.
#[derive(Debug, Clone, Serialize)]
pub struct BackendRun {
    /// Backend name.
    pub backend: String,
    /// The device it ran on (for wgpu: adapter and driver).
    pub device: String,
    /// Per-epoch numbers.
    pub epochs: Vec<EpochRow>,
    /// Weight difference after epoch 1 relative to the first backend: `max |Δw|`.
    pub epoch1_max_abs_weight_diff: Option<f64>,
    /// Weight difference after epoch 1 relative to the first backend: `‖Δw‖₂ / ‖w‖₂`.
    pub epoch1_relative_weight_diff: Option<f64>,
}

/// One epoch of one backend.
#[derive(Debug, Clone, Serialize)]
pub struct EpochRow {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Test MSE.
    pub test_mse: f64,
    /// Seconds of the epoch (train + test).
    pub seconds: f64,
    /// Training images per second of the training pass alone (the test pass not counted).
    pub images_per_second: f64,
}

/// A whole comparison of one case.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The case's name.
    pub case: String,
    /// The case's description (with overrides).
    pub summary: String,
    /// Training images per epoch.
    pub train_images: usize,
    /// One entry per backend, in the order run.
    pub runs: Vec<BackendRun>,
    /// Largest |test MSE difference| between any two backends, over all epochs.
    pub max_test_mse_diff: f64,
    /// The same relative to the smaller of the two values.
    pub max_test_mse_rel_diff: f64,
}

/// Trains `config` on each backend in turn under `out_dir/<backend>/` and compares them. A
/// backend's finished run of the same configuration is reused (an unfinished one resumed); one of
/// another configuration is refused unless `overwrite`.
pub fn compare(
    config: &TrainingConfig,
    backends: &[Backend],
    (out_dir, data_dir): (&Path, &Path),
    overwrite: bool,
    (events, interrupter): (&Sink, &trainer::training::Interrupter),
) -> Result<Comparison> {
    std::fs::create_dir_all(out_dir).map_err(|e| trainer::Error::File {
        path: out_dir.to_path_buf(),
        what: format!("cannot create ({e})"),
    })?;
    // The initial weights are drawn once (on the CPU) and loaded into every backend.
    let initial = out_dir.join("initial.bpk");
    let cpu = Device::flex();
    cpu.seed(config.seed);
    checkpoint::save_model_to(config.model.init(&cpu), &initial)?;
    let mut runs: Vec<BackendRun> = Vec::new();
    let mut reference: Option<Vec<f32>> = None;
    for &backend in backends {
        let name = config.name.clone();
        events.event(&Event::BackendStarting { name, backend });
        let run_dir = out_dir.join(backend.name());
        let mut options = RunOptions::new(run_dir.clone(), data_dir.to_path_buf(), backend);
        options.events = events.clone();
        options.interrupter = interrupter.clone();
        options.start = if overwrite {
            Start::Overwrite
        } else {
            Start::Continue
        };
        options.initial_model = Some(initial.clone());
        options.keep_all_checkpoints = true;
        train(config, &options)?;
        let weights = epoch1_weights(&run_dir, config)?;
        let diff = reference.as_ref().map(|r| weight_diff(r, &weights));
        reference.get_or_insert(weights);
        // The whole run's epochs: a reused or resumed run trained some of them earlier.
        let epochs = read_epochs(&run_dir.join(EPOCHS_CSV));
        runs.push(BackendRun {
            backend: backend.name().to_string(),
            device: backend.describe(),
            epochs: epochs
                .iter()
                .map(|r| row(r, config.train_images()))
                .collect(),
            epoch1_max_abs_weight_diff: diff.map(|d| d.0),
            epoch1_relative_weight_diff: diff.map(|d| d.1),
        });
    }
    let (max_test_mse_diff, max_test_mse_rel_diff) = max_mse_diff(&runs);
    Ok(Comparison {
        case: config.name.clone(),
        summary: config.summary(),
        train_images: config.train_images(),
        runs,
        max_test_mse_diff,
        max_test_mse_rel_diff,
    })
}

/// Every weight of the model of epoch 1 of the run in `run_dir`, flat.
fn epoch1_weights(run_dir: &Path, config: &TrainingConfig) -> Result<Vec<f32>> {
    let epoch1 = checkpoint::checkpoint_path(&run_dir.join(CHECKPOINT_DIR), "model", 1);
    let model = checkpoint::load_model_file(&epoch1, config, &Device::flex())?;
    Ok([model.encoder_filters(), model.decoder_filters()]
        .concat()
        .concat())
}

fn row(r: &EpochRecord, images: usize) -> EpochRow {
    EpochRow {
        epoch: r.epoch,
        train_loss: r.train_loss,
        test_mse: r.test_mse,
        seconds: r.train_seconds + r.test_seconds,
        images_per_second: images as f64 / r.train_seconds.max(1e-9),
    }
}

/// `max |a − b|` and `‖a − b‖₂ / ‖a‖₂`.
pub fn weight_diff(a: &[f32], b: &[f32]) -> (f64, f64) {
    let (mut max_abs, mut diff2, mut norm2) = (0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        let d = (x as f64 - y as f64).abs();
        max_abs = max_abs.max(d);
        diff2 += d * d;
        norm2 += (x as f64) * (x as f64);
    }
    (max_abs, (diff2 / norm2.max(f64::MIN_POSITIVE)).sqrt())
}

fn max_mse_diff(runs: &[BackendRun]) -> (f64, f64) {
    let (mut abs, mut rel) = (0f64, 0f64);
    for (i, a) in runs.iter().enumerate() {
        for b in &runs[i + 1..] {
            for (x, y) in a.epochs.iter().zip(&b.epochs) {
                let d = (x.test_mse - y.test_mse).abs();
                abs = abs.max(d);
                rel = rel.max(d / x.test_mse.min(y.test_mse));
            }
        }
    }
    (abs, rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_difference_is_relative_to_the_reference_norm() {
        let (max_abs, rel) = weight_diff(&[3.0, 4.0], &[3.0, 4.5]);
        assert!((max_abs - 0.5).abs() < 1e-12);
        assert!((rel - 0.1).abs() < 1e-12);
    }
}
