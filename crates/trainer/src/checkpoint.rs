//! A run's checkpoints and final model: Burn's checkpointer writing whole files with their
//! SHA-256, the strategy that keeps the last two epochs and the best, and loading a model file
//! written by any backend.
//!
//! ```text
//! artifacts/case7/
//!   model.bpk              the final model (Burn's ModuleRecord format), written last
//!   checkpoint/            model-, optim-, scheduler-<epoch>.bpk (last two + best), each with
//!                          its SHA-256 in <file>.sha256
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use burn::optim::OptimizerRecord;
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use burn::train::checkpoint::{
    Checkpoint, Checkpointer, CheckpointerError, CheckpointingAction, CheckpointingStrategy,
};
use burn::train::metric::store::EventStoreClient;
use model::Autoencoder;
use sha2::{Digest, Sha256};

use crate::config::TrainingConfig;
use crate::epochs::read_epochs;
use crate::error::{Error, Result};
use crate::files::{file_error, io_error_at, write_atomic};
use crate::layout::EPOCHS_CSV;
pub use crate::layout::{CHECKPOINT_DIR, MODEL_FILE};

/// Path of the `name` (`model`, `optim`, `scheduler`) checkpoint of `epoch` in `directory`.
pub fn checkpoint_path(directory: &Path, name: &str, epoch: usize) -> PathBuf {
    directory.join(format!("{name}-{epoch}.bpk"))
}

/// Path of the file holding `path`'s SHA-256 (hex), beside it.
pub fn checksum_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".sha256");
    path.with_file_name(name)
}

/// The SHA-256 of `bytes` in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Checks `bytes`, read from `path`, against the checksum written beside it. A file without one
/// (written before checksums were) passes unverified.
pub fn verify_checksum(path: &Path, bytes: &[u8]) -> Result<()> {
    let Ok(expected) = std::fs::read_to_string(checksum_path(path)) else {
        return Ok(());
    };
    if expected.trim() != sha256_hex(bytes) {
        return Err(Error::Model {
            path: path.to_path_buf(),
            reason: "checksum mismatch (the file changed after it was written)".into(),
        });
    }
    Ok(())
}

/// Bytes a run keeps on disk at most: the three kept checkpoints (model + Adam's two moments)
/// and the one being written, the final model, and a megabyte of logs.
pub fn disk_reserve(config: &TrainingConfig) -> u64 {
    let params = (2 * model::INPUT_SIZE * config.model.hidden
        + config.model.hidden
        + model::INPUT_SIZE) as u64;
    let checkpoint = params * 4 * 3;
    4 * checkpoint + params * 4 + (1 << 20)
}

/// A Burn checkpointer that writes `<name>-<epoch>.bpk` files atomically, each after its SHA-256
/// (`<name>-<epoch>.bpk.sha256`), and checks that checksum when it restores one.
pub struct AtomicFileCheckpointer {
    directory: PathBuf,
    name: &'static str,
    /// Set by the first failed save of any of a run's checkpointers: deletions stop, so that the
    /// checkpoints already written stay the run's last word (a full disk, say).
    failed: Arc<AtomicBool>,
}

impl AtomicFileCheckpointer {
    /// The model, optimizer and scheduler checkpointers of a run, writing into `directory`.
    pub fn set(directory: &Path) -> (Self, Self, Self) {
        let failed = Arc::new(AtomicBool::new(false));
        let one = |name| Self {
            directory: directory.to_path_buf(),
            name,
            failed: failed.clone(),
        };
        (one("model"), one("optim"), one("scheduler"))
    }

    fn path(&self, epoch: usize) -> PathBuf {
        checkpoint_path(&self.directory, self.name, epoch)
    }

    /// Writes the checksum, then the file.
    fn write(&self, epoch: usize, bytes: &[u8]) -> Result<(), CheckpointerError> {
        std::fs::create_dir_all(&self.directory).map_err(CheckpointerError::IOError)?;
        let path = self.path(epoch);
        // The checksum first: a checkpoint file on disk always has its checksum beside it.
        let sum = checksum_path(&path);
        let written = write_atomic(&sum, format!("{}\n", sha256_hex(bytes)).as_bytes())
            .map_err(|e| io_error_at(&sum, e))
            .and_then(|()| write_atomic(&path, bytes).map_err(|e| io_error_at(&path, e)));
        written.map_err(CheckpointerError::IOError)
    }
}

impl<R: Checkpoint> Checkpointer<R> for AtomicFileCheckpointer {
    fn save(&self, epoch: usize, record: R) -> Result<(), CheckpointerError> {
        let result = record
            .checkpoint_into_bytes()
            .map_err(CheckpointerError::Record)
            .and_then(|bytes| self.write(epoch, &bytes));
        if result.is_err() {
            self.failed.store(true, Ordering::SeqCst);
        }
        result
    }

    fn delete(&self, epoch: usize) -> Result<(), CheckpointerError> {
        if self.failed.load(Ordering::SeqCst) {
            return Ok(());
        }
        let path = self.path(epoch);
        for file in [checksum_path(&path), path] {
            match std::fs::remove_file(file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(CheckpointerError::IOError(e));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn restore(&self, epoch: usize) -> Result<R, CheckpointerError> {
        let path = self.path(epoch);
        let bytes = std::fs::read(&path).map_err(CheckpointerError::IOError)?;
        verify_checksum(&path, &bytes).map_err(|e| CheckpointerError::Unknown(e.to_string()))?;
        R::checkpoint_from_bytes(Bytes::from_bytes_vec(bytes)).map_err(CheckpointerError::Record)
    }
}

/// Keeps the checkpoints of the last two epochs and of the epoch with the lowest test MSE so far
/// (from `epochs.csv`, which holds the epoch's row before its checkpoint is written), deleting every
/// other checkpoint in the directory, also those of an earlier invocation of a resumed run.
pub struct KeepRecentAndBest {
    run_dir: PathBuf,
}

impl KeepRecentAndBest {
    /// The strategy for the run in `run_dir`.
    pub fn new(run_dir: &Path) -> Self {
        Self {
            run_dir: run_dir.to_path_buf(),
        }
    }
}

impl CheckpointingStrategy for KeepRecentAndBest {
    fn checkpointing(&mut self, epoch: usize, _: &EventStoreClient) -> Vec<CheckpointingAction> {
        let rows = read_epochs(&self.run_dir.join(EPOCHS_CSV));
        let best = rows
            .iter()
            .filter(|r| r.epoch <= epoch && r.test_mse.is_finite())
            .min_by(|a, b| a.test_mse.total_cmp(&b.test_mse))
            .map(|r| r.epoch);
        let keep = |e: usize| e == epoch || e + 1 == epoch || Some(e) == best;
        let on_disk = checkpoint_epochs(&self.run_dir.join(CHECKPOINT_DIR));
        let stale = on_disk.into_iter().filter(|&e| !keep(e));
        std::iter::once(CheckpointingAction::Save)
            .chain(stale.map(CheckpointingAction::Delete))
            .collect()
    }
}

/// Epochs that have a model checkpoint in `directory`, newest first.
pub fn checkpoint_epochs(directory: &Path) -> Vec<usize> {
    let mut epochs: Vec<usize> = std::fs::read_dir(directory)
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_prefix("model-")?
                .strip_suffix(".bpk")?
                .parse()
                .ok()
        })
        .collect();
    epochs.sort_unstable_by(|a, b| b.cmp(a));
    epochs
}

/// The newest epoch up to `up_to` whose model, optimizer and scheduler checkpoints all load, match
/// their checksums and fit `config`, and the newer ones skipped on the way (corrupt, incomplete,
/// or newer than `up_to`), each with why.
pub fn latest_valid_checkpoint(
    run_dir: &Path,
    config: &TrainingConfig,
    up_to: usize,
) -> (Option<usize>, Vec<(usize, String)>) {
    let mut skipped = Vec::new();
    let directory = run_dir.join(CHECKPOINT_DIR);
    for epoch in checkpoint_epochs(&directory) {
        let checked = if epoch > up_to {
            Err(format!(
                "the run's logs record {} (it was written by a run that stopped before recording it, or a log was changed)",
                match up_to {
                    0 => "no epoch".to_string(),
                    1 => "epoch 1 only".to_string(),
                    n => format!("epochs 1–{n} only"),
                }
            ))
        } else {
            check_checkpoint(&directory, epoch, config).map_err(|e| e.to_string())
        };
        match checked {
            Ok(()) => return (Some(epoch), skipped),
            Err(e) => skipped.push((epoch, e)),
        }
    }
    (None, skipped)
}

/// Checks that the three checkpoint files of `epoch` are there, match their checksums and load.
fn check_checkpoint(directory: &Path, epoch: usize, config: &TrainingConfig) -> Result<()> {
    for name in ["model", "optim", "scheduler"] {
        let path = checkpoint_path(directory, name, epoch);
        let unusable = |reason: String| Error::Model {
            path: path.clone(),
            reason,
        };
        let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => unusable("missing".into()),
            _ => unusable(e.to_string()),
        })?;
        verify_checksum(&path, &bytes)?;
        let bytes = Bytes::from_bytes_vec(bytes);
        match name {
            "model" => {
                let record = ModuleRecord::from_bytes(bytes)
                    .map_err(|e| unusable(format!("not a readable model file ({e})")))?;
                model_from_record(record, config, &Device::flex()).map_err(unusable)?;
            }
            "optim" => {
                OptimizerRecord::from_bytes(bytes).map_err(|e| unusable(e.to_string()))?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn model_from_record(
    record: ModuleRecord,
    config: &TrainingConfig,
    device: &Device,
) -> Result<Autoencoder, String> {
    config
        .model
        .init(device)
        .try_load_record(record)
        .map_err(|e| format!("does not match config.json ({e})"))
}

/// Loads a model file written by any backend onto `device`, checking it against `config`.
pub fn load_model_file(
    path: &Path,
    config: &TrainingConfig,
    device: &Device,
) -> Result<Autoencoder> {
    let unusable = |reason: String| Error::Model {
        path: path.to_path_buf(),
        reason,
    };
    if !path.exists() {
        return Err(unusable("no such model file".into()));
    }
    let record = ModuleRecord::load(path)
        .map_err(|e| unusable(format!("not a readable model file ({e})")))?;
    model_from_record(record, config, device).map_err(unusable)
}

/// Saves the final model atomically as `run_dir/model.bpk`.
pub fn save_model(model: Autoencoder, run_dir: &Path) -> Result<PathBuf> {
    let path = run_dir.join(MODEL_FILE);
    save_model_to(model, &path)?;
    Ok(path)
}

/// Saves a model atomically to `path`.
pub fn save_model_to(model: Autoencoder, path: &Path) -> Result<()> {
    let bytes = model.into_record().into_bytes().map_err(|e| Error::Model {
        path: path.to_path_buf(),
        reason: format!("cannot serialise the model ({e})"),
    })?;
    write_atomic(path, &bytes).map_err(|e| file_error(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_epochs_are_listed_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "model-2.bpk",
            "model-10.bpk",
            "optim-3.bpk",
            "model-x.bpk",
            "model-1.bpk",
            "model-1.bpk.sha256",
        ] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        assert_eq!(checkpoint_epochs(dir.path()), vec![10, 2, 1]);
    }

    #[test]
    fn a_changed_file_fails_its_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model-1.bpk");
        std::fs::write(&path, b"bytes").unwrap();
        std::fs::write(checksum_path(&path), sha256_hex(b"bytes") + "\n").unwrap();
        verify_checksum(&path, b"bytes").unwrap();
        let e = verify_checksum(&path, b"bytez").unwrap_err().to_string();
        assert!(e.contains("checksum mismatch"), "{e}");
        // A file written before checksums were passes unverified.
        std::fs::remove_file(checksum_path(&path)).unwrap();
        verify_checksum(&path, b"bytez").unwrap();
    }
}
