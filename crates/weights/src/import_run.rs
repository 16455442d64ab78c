//! A foreign model turned into a finished run: `config.json`, `model.bpk` and a one-line
//! `provenance.json` (the source file, its SHA-256 and format, and the test MSE measured here).

use std::path::{Path, PathBuf};

use analysis::Images;
use burn::prelude::*;
use data::NoisedMnist;
use model::Autoencoder;

use crate::read::{Foreign, Format};
use crate::weights_error::{Error, Result};
use trainer::checkpoint::{MODEL_FILE, sha256_hex};
use trainer::config::TrainingConfig;
use trainer::error::RunError;
use trainer::files::{file_error, write_atomic};
use trainer::lock::RunLock;

pub use trainer::layout::PROVENANCE_FILE;
pub use trainer::origin::Provenance;

/// What an import did.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The run directory written.
    pub run_dir: PathBuf,
    /// The format read.
    pub format: Format,
    /// Hidden units, from the shapes.
    pub hidden: usize,
    /// Tensors converted to float32, with their type in the file.
    pub converted: Vec<(String, String)>,
    /// The test MSE measured.
    pub test_mse: f64,
}

/// An import checked and measured, its files built, nothing written yet.
pub struct Prepared {
    /// What the import did.
    pub imported: Imported,
    config: TrainingConfig,
    provenance: Provenance,
    model_bytes: burn::tensor::Bytes,
}

impl Prepared {
    /// Writes the run (a few small files, quickly): `config.json`, the provenance and
    /// `model.bpk`, refusing an existing run unless `overwrite`.
    pub fn write(&self, overwrite: bool) -> Result<()> {
        write_run(
            &self.imported.run_dir,
            &self.config,
            &self.provenance,
            &self.model_bytes,
            overwrite,
        )
    }
}

/// Prepares the import of `foreign`, read from `path`, as the run `run_dir` with `template`'s
/// activation, dropout, noise and seed: its hidden size comes from the file, and its epochs are
/// 0 (it trained elsewhere; its `provenance.json` says where from). Measures its test MSE on
/// `test`, the template's test set ([`TrainingConfig::test_set`]).
pub fn import(
    path: &Path,
    foreign: Foreign,
    template: &TrainingConfig,
    run_dir: &Path,
    test: &NoisedMnist,
) -> Result<Prepared> {
    let mut config = template
        .clone()
        .with_backend(None)
        .with_limit(None)
        .with_epochs(0);
    config.model.hidden = foreign.weights.hidden;
    config.validate_imported()?;
    let Foreign {
        weights,
        format,
        converted,
        sha256,
        ..
    } = foreign;
    let model = weights.into_model(&config.model, &Device::flex());
    let test_mse = test_mse(&model, test);
    let model_bytes = model
        .into_record()
        .into_bytes()
        .map_err(|e| trainer::Error::Model {
            path: run_dir.join(MODEL_FILE),
            reason: format!("cannot serialise the model ({e})"),
        })?;
    let provenance = Provenance {
        source: std::fs::canonicalize(path)
            .unwrap_or_else(|_| path.to_path_buf())
            .to_string_lossy()
            .into_owned(),
        sha256,
        format: format.to_string(),
        test_mse,
        model_sha256: sha256_hex(&model_bytes),
    };
    let imported = Imported {
        run_dir: run_dir.to_path_buf(),
        format,
        hidden: config.model.hidden,
        converted,
        test_mse,
    };
    Ok(Prepared {
        imported,
        config,
        provenance,
        model_bytes,
    })
}

/// Refuses a directory that holds a run (trained or imported) unless `overwrite`.
pub fn check_vacant(run_dir: &Path, overwrite: bool) -> Result<()> {
    let occupied =
        run_dir.join(trainer::config::CONFIG_FILE).exists() || run_dir.join(MODEL_FILE).exists();
    if occupied && !overwrite {
        let dir = run_dir.to_path_buf();
        return Err(RunError::Occupied { dir }.into());
    }
    Ok(())
}

/// Writes the imported run: `config.json`, the provenance, and `model.bpk` last (a run with
/// `model.bpk` is a finished one), in a directory locked for the while.
fn write_run(
    run_dir: &Path,
    config: &TrainingConfig,
    provenance: &Provenance,
    model_bytes: &[u8],
    overwrite: bool,
) -> Result<()> {
    let _lock = RunLock::acquire(run_dir)?;
    check_vacant(run_dir, overwrite)?;
    trainer::run_dir::clear(run_dir)?;
    config.save_in(run_dir)?;
    let record = run_dir.join(PROVENANCE_FILE);
    let line = serde_json::to_string(provenance).expect("a provenance serialises") + "\n";
    write_atomic(&record, line.as_bytes()).map_err(|e| Error::from(file_error(&record, e)))?;
    let model = run_dir.join(MODEL_FILE);
    write_atomic(&model, model_bytes).map_err(|e| Error::from(file_error(&model, e)))
}

/// `model`'s MSE on `test` (its inputs, noised where the run adds noise, against the clean
/// targets), a thousand images at a time, summed in f64 in order.
pub fn test_mse(model: &Autoencoder, test: &NoisedMnist) -> f64 {
    const CHUNK: usize = 1000;
    let device = Device::flex();
    let n = test.len();
    let mut sum = 0.0;
    for start in (0..n).step_by(CHUNK) {
        let rows = start..(start + CHUNK).min(n);
        let inputs = Images::new(rows.clone().flat_map(|i| test.input(i)).collect(), &device);
        let outputs: Vec<f32> = model
            .reconstruct(&inputs.pixels)
            .into_data()
            .try_to_vec()
            .expect("f32 outputs");
        let targets = rows.flat_map(|i| test.clean().pixels(i));
        sum += outputs
            .iter()
            .zip(targets)
            .map(|(o, t)| f64::from(o - t).powi(2))
            .sum::<f64>();
    }
    sum / (n * model::INPUT_SIZE).max(1) as f64
}
