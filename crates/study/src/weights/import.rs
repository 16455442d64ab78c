//! A foreign model turned into a finished run: `config.json`, `model.bpk` and a one-line
//! `provenance.json` (the source file, its SHA-256 and format, and the test MSE measured here).

use std::path::{Path, PathBuf};

use analysis::{Images, mse};
use burn::prelude::*;
use model::Autoencoder;
use serde::{Deserialize, Serialize};

use super::read::{Format, read_foreign};
use crate::checkpoint::{MODEL_FILE, sha256_hex};
use crate::config::TrainingConfig;
use crate::error::{Error, Result};
use crate::files::{file_error, write_atomic};
use crate::lock::RunLock;
use crate::refusal::RunError;
use crate::run;

pub use crate::layout::PROVENANCE_FILE;

/// Where an imported run's model came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The file it was imported from (its absolute path, so that the import can be repeated).
    pub source: String,
    /// That file's SHA-256.
    pub sha256: String,
    /// Its format.
    pub format: String,
    /// The model's test MSE, measured when it was imported (noised inputs where the run's
    /// configuration adds noise).
    pub test_mse: f64,
    /// The SHA-256 of the `model.bpk` written: the run is coherent while it matches.
    pub model_sha256: String,
}

impl Provenance {
    /// The source file's name, without its directory (what figures and the page show).
    pub fn file_name(&self) -> String {
        Path::new(&self.source)
            .file_name()
            .map_or_else(|| self.source.clone(), |n| n.to_string_lossy().into_owned())
    }

    /// The provenance of the imported run in `dir`, if it is one.
    pub fn of_run(dir: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(dir.join(PROVENANCE_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }
}

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

/// Imports the model in `path` as the run `run_dir`, with `template`'s activation, dropout and
/// noise (its hidden size comes from the file). Everything is checked before the directory is
/// touched; an existing run there is refused unless `overwrite`.
pub fn import(
    path: &Path,
    template: &TrainingConfig,
    run_dir: &Path,
    data_dir: &Path,
    overwrite: bool,
) -> Result<Imported> {
    let weights_error = |error| Error::Weights {
        path: path.to_path_buf(),
        error,
    };
    let foreign = read_foreign(path).map_err(weights_error)?;
    let mut config = template.clone().with_backend(None).with_limit(None);
    config.model.hidden = foreign.weights.hidden;
    config.validate()?;
    let model = foreign
        .weights
        .clone()
        .into_model(&config.model, &Device::flex());
    let test_mse = test_mse(&model, &config, data_dir)?;
    let model_bytes = model.into_record().into_bytes().map_err(|e| Error::Model {
        path: run_dir.join(MODEL_FILE),
        reason: format!("cannot serialise the model ({e})"),
    })?;
    let provenance = Provenance {
        source: std::fs::canonicalize(path)
            .unwrap_or_else(|_| path.to_path_buf())
            .to_string_lossy()
            .into_owned(),
        sha256: foreign.sha256.clone(),
        format: foreign.format.to_string(),
        test_mse,
        model_sha256: sha256_hex(&model_bytes),
    };
    write_run(run_dir, &config, &provenance, &model_bytes, overwrite)?;
    Ok(Imported {
        run_dir: run_dir.to_path_buf(),
        format: foreign.format,
        hidden: config.model.hidden,
        converted: foreign.converted,
        test_mse,
    })
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
    let occupied =
        run_dir.join(crate::config::CONFIG_FILE).exists() || run_dir.join(MODEL_FILE).exists();
    if occupied && !overwrite {
        let dir = run_dir.to_path_buf();
        return Err(RunError::Occupied { dir }.into());
    }
    run::clear(run_dir)?;
    config.save_in(run_dir)?;
    let record = run_dir.join(PROVENANCE_FILE);
    let line = serde_json::to_string(provenance).expect("a provenance serialises") + "\n";
    write_atomic(&record, line.as_bytes()).map_err(|e| file_error(&record, e))?;
    let model = run_dir.join(MODEL_FILE);
    write_atomic(&model, model_bytes).map_err(|e| file_error(&model, e))
}

/// `model`'s MSE on the test set of `config` (noised inputs where it adds noise, clean targets).
pub fn test_mse(model: &Autoencoder, config: &TrainingConfig, data_dir: &Path) -> Result<f64> {
    let (_, test) = config.datasets(data_dir)?;
    let device = Device::flex();
    let n = test.len();
    let inputs = Images::new((0..n).flat_map(|i| test.input(i)).collect(), &device);
    let targets = Images::new(
        (0..n).flat_map(|i| test.clean().pixels(i)).collect(),
        &device,
    );
    Ok(mse(model.reconstruct(&inputs.pixels), targets.pixels))
}
