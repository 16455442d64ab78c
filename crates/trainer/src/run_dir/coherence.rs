//! Whether a finished run's files agree: its configuration, epoch log, metric logs, final model
//! and newest checkpoint.

use std::path::Path;

use crate::checkpoint::{self, CHECKPOINT_DIR, MODEL_FILE};
use crate::config::TrainingConfig;
use crate::epochs::{EPOCHS_CSV, read_epochs};
use crate::error::Error;
use crate::layout::PROVENANCE_FILE;

use crate::error::{Inconsistency, RunError};

/// How many epochs the run's logs record completely: the longest `1..=m` such that `epochs.csv`
/// has their rows in order and `train/` their metric logs.
pub fn recorded_epochs(dir: &Path) -> usize {
    let log = |epoch: usize| dir.join(format!("train/epoch-{epoch}/Loss.log"));
    read_epochs(&dir.join(EPOCHS_CSV))
        .iter()
        .enumerate()
        .take_while(|(i, r)| r.epoch == i + 1 && log(i + 1).exists())
        .count()
}

/// Checks that the finished run in `dir` (it has `model.bpk`) is coherent: a `config.json` whose
/// epochs match the epoch log and the metric logs, and a final model equal to the checkpoint of
/// the last epoch when that is kept, else one that loads.
pub fn coherence(dir: &Path, config: &TrainingConfig) -> Result<(), Inconsistency> {
    if let Ok(text) = std::fs::read_to_string(dir.join(PROVENANCE_FILE)) {
        return imported_coherence(dir, &text);
    }
    let epochs = config.epochs;
    let rows = read_epochs(&dir.join(EPOCHS_CSV)).len();
    if recorded_epochs(dir) != epochs || rows != epochs {
        let log = |epoch: usize| dir.join(format!("train/epoch-{epoch}/Loss.log"));
        if rows == epochs && (!log(epochs).exists() || log(epochs + 1).exists()) {
            return Err(Inconsistency::MetricLogs { epochs });
        }
        return Err(Inconsistency::EpochLog { epochs, rows });
    }
    let model = dir.join(MODEL_FILE);
    let newest = checkpoint::checkpoint_path(&dir.join(CHECKPOINT_DIR), "model", epochs);
    if newest.exists() {
        if std::fs::read(&newest).ok() != std::fs::read(&model).ok() {
            return Err(Inconsistency::NotLastCheckpoint { epochs });
        }
    } else if let Err(e) =
        checkpoint::load_model_file(&model, config, &burn::tensor::Device::flex())
    {
        let reason = match e {
            Error::Model { reason, .. } => reason,
            other => other.to_string(),
        };
        return Err(Inconsistency::Unreadable { reason });
    }
    Ok(())
}

/// An imported run is coherent while its `model.bpk` is the one its provenance records (the
/// SHA-256 written there); it has no epoch log.
fn imported_coherence(dir: &Path, provenance: &str) -> Result<(), Inconsistency> {
    let recorded: serde_json::Value = serde_json::from_str(provenance).unwrap_or_default();
    let model = std::fs::read(dir.join(MODEL_FILE)).unwrap_or_default();
    if recorded["model_sha256"].as_str() == Some(checkpoint::sha256_hex(&model).as_str()) {
        Ok(())
    } else {
        Err(Inconsistency::ChangedImport)
    }
}

/// Checks that `dir` holds a finished, coherent run (see [`coherence`]).
pub fn check_finished(dir: &Path, config: &TrainingConfig) -> Result<(), RunError> {
    if !dir.join(MODEL_FILE).exists() {
        return Err(RunError::NotFinished {
            dir: dir.to_path_buf(),
            newest: checkpoint::checkpoint_epochs(&dir.join(CHECKPOINT_DIR))
                .first()
                .copied(),
            target: config.epochs,
        });
    }
    coherence(dir, config).map_err(|what| RunError::Inconsistent {
        dir: dir.to_path_buf(),
        what,
    })
}
