//! The artifacts directory of a run: atomic writes, checkpoints and the final model.
//!
//! ```text
//! artifacts/case7/
//!   config.json            the TrainingConfig of the run
//!   model.bpk              the final model (Burn's ModuleRecord format)
//!   epochs.csv             one row per finished epoch
//!   checkpoint/            model-, optim-, scheduler-<epoch>.bpk (last two + best), each with
//!                          its SHA-256 in <file>.sha256
//!   train/, valid/         the learner's per-batch metric logs
//!   .lock                  held by the process writing the run (see `run`)
//! ```

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use burn::optim::OptimizerRecord;
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::train::checkpoint::{
    Checkpoint, Checkpointer, CheckpointerError, CheckpointingAction, CheckpointingStrategy,
};
use burn::train::metric::store::EventStoreClient;
use model::Autoencoder;
use sha2::{Digest, Sha256};

use crate::config::TrainingConfig;

/// File name of the final model inside a run directory.
pub const MODEL_FILE: &str = "model.bpk";
/// File name of the run's configuration.
pub const CONFIG_FILE: &str = "config.json";
/// Sub-directory holding the per-epoch checkpoints.
pub const CHECKPOINT_DIR: &str = "checkpoint";

/// Writes `bytes` to `path` through a temporary file and a rename, so a crash or a kill leaves
/// either the old file or the new one, never a truncated one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the rename itself durable; not every file system supports it.
            File::open(dir).and_then(|d| d.sync_all()).ok();
        }
        Ok(())
    })();
    if result.is_err() {
        std::fs::remove_file(&tmp).ok();
    }
    result
}

/// Checks, before any training, that the file system holding `dir` (which exists) has room for
/// `reserve` bytes, by asking it (statvfs): nothing is written.
pub fn check_free_space(dir: &Path, reserve: u64) -> Result<()> {
    let available = fs4::available_space(dir)
        .with_context(|| format!("{}: cannot read the free space", dir.display()))?;
    if available < reserve {
        bail!(
            "{}: not enough free space for this run's checkpoints (needs about {} MB, {} MB free); free some space or choose another --artifacts directory",
            dir.display(),
            reserve.div_ceil(1 << 20),
            available >> 20
        );
    }
    Ok(())
}

/// `error` from a write to `path`, as a user reads it: the file, and "disk full" when it is.
pub fn io_error_at(path: &Path, error: std::io::Error) -> std::io::Error {
    let full = error.kind() == std::io::ErrorKind::StorageFull
        || error.kind() == std::io::ErrorKind::QuotaExceeded
        || error.raw_os_error() == Some(28);
    let what = if full { "disk full" } else { "cannot write" };
    std::io::Error::new(
        error.kind(),
        format!("{}: {what} ({error})", path.display()),
    )
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
}

/// Path of the `name` (`model`, `optim`, `scheduler`) checkpoint of `epoch`.
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
        bail!(
            "{}: checksum mismatch (the file changed after it was written)",
            path.display()
        );
    }
    Ok(())
}

impl<R: Checkpoint> Checkpointer<R> for AtomicFileCheckpointer {
    fn save(&self, epoch: usize, record: R) -> Result<(), CheckpointerError> {
        let result = (|| {
            std::fs::create_dir_all(&self.directory).map_err(CheckpointerError::IOError)?;
            let bytes = record
                .checkpoint_into_bytes()
                .map_err(CheckpointerError::Record)?;
            let path = self.path(epoch);
            // The checksum first: a checkpoint file on disk always has its checksum beside it.
            let sum = checksum_path(&path);
            write_atomic(&sum, format!("{}\n", sha256_hex(&bytes)).as_bytes())
                .map_err(|e| CheckpointerError::IOError(io_error_at(&sum, e)))?;
            write_atomic(&path, &bytes)
                .map_err(|e| CheckpointerError::IOError(io_error_at(&path, e)))
        })();
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
        for file in [path.clone(), checksum_path(&path)] {
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
        R::checkpoint_from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
            .map_err(CheckpointerError::Record)
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
        let rows = crate::renderer::read_epochs(&self.run_dir.join(crate::renderer::EPOCHS_CSV));
        let best = rows
            .iter()
            .filter(|r| r.epoch <= epoch && r.test_mse.is_finite())
            .min_by(|a, b| a.test_mse.total_cmp(&b.test_mse))
            .map(|r| r.epoch);
        let keep = |e: usize| e == epoch || e + 1 == epoch || Some(e) == best;
        let mut actions = vec![CheckpointingAction::Save];
        let on_disk = checkpoint_epochs(&self.run_dir.join(CHECKPOINT_DIR));
        actions.extend(
            on_disk
                .into_iter()
                .filter(|&e| !keep(e))
                .map(CheckpointingAction::Delete),
        );
        actions
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
/// their checksums and fit `config`; skipped checkpoints (corrupt, incomplete, or newer than
/// `up_to`) are reported on stderr when `warn`.
pub fn latest_valid_checkpoint(
    run_dir: &Path,
    config: &TrainingConfig,
    up_to: usize,
    warn: bool,
) -> Option<usize> {
    let directory = run_dir.join(CHECKPOINT_DIR);
    for epoch in checkpoint_epochs(&directory) {
        let checked = if epoch > up_to {
            Err(anyhow::anyhow!(
                "the run's logs record {} (it was written by a run that stopped before recording it, or a log was changed)",
                match up_to {
                    0 => "no epoch".to_string(),
                    1 => "epoch 1 only".to_string(),
                    n => format!("epochs 1–{n} only"),
                }
            ))
        } else {
            check_checkpoint(&directory, epoch, config)
        };
        match checked {
            Ok(()) => return Some(epoch),
            Err(e) if warn => crate::err!("warning: skipping checkpoint of epoch {epoch}: {e:#}"),
            Err(_) => {}
        }
    }
    None
}

fn check_checkpoint(directory: &Path, epoch: usize, config: &TrainingConfig) -> Result<()> {
    for name in ["model", "optim", "scheduler"] {
        let path = checkpoint_path(directory, name, epoch);
        let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => anyhow::anyhow!("{}: missing", path.display()),
            _ => anyhow::anyhow!("{}: {e}", path.display()),
        })?;
        verify_checksum(&path, &bytes)?;
        let bytes = burn::tensor::Bytes::from_bytes_vec(bytes);
        match name {
            "model" => {
                let record = ModuleRecord::from_bytes(bytes).map_err(|e| {
                    anyhow::anyhow!("{}: not a readable model file ({e})", path.display())
                })?;
                model_from_record(record, config, &Device::flex())
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            }
            "optim" => {
                OptimizerRecord::from_bytes(bytes)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
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
) -> Result<Autoencoder> {
    config
        .model
        .init(device)
        .try_load_record(record)
        .map_err(|e| anyhow::anyhow!("does not match config.json ({e})"))
}

/// Loads a model file written by any backend onto `device`, checking it against `config`.
pub fn load_model_file(
    path: &Path,
    config: &TrainingConfig,
    device: &Device,
) -> Result<Autoencoder> {
    if !path.exists() {
        bail!("{}: no such model file", path.display());
    }
    let record = ModuleRecord::load(path)
        .map_err(|e| anyhow::anyhow!("{}: not a readable model file ({e})", path.display()))?;
    model_from_record(record, config, device)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Saves the final model atomically as `run_dir/model.bpk`.
pub fn save_model(model: Autoencoder, run_dir: &Path) -> Result<PathBuf> {
    let path = run_dir.join(MODEL_FILE);
    save_model_to(model, &path)?;
    Ok(path)
}

/// Saves a model atomically to `path`.
pub fn save_model_to(model: Autoencoder, path: &Path) -> Result<()> {
    let bytes = model
        .into_record()
        .into_bytes()
        .map_err(|e| anyhow::anyhow!("cannot serialise the model: {e}"))?;
    write_atomic(path, &bytes).map_err(|e| io_error_at(path, e).into())
}

/// Saves `config` atomically as `run_dir/config.json`.
pub fn save_config(config: &TrainingConfig, run_dir: &Path) -> Result<()> {
    let path = run_dir.join(CONFIG_FILE);
    let json = serde_json::to_vec_pretty(config)?;
    write_atomic(&path, &json).map_err(|e| io_error_at(&path, e).into())
}

/// Reads `run_dir/config.json`.
pub fn load_config(run_dir: &Path) -> Result<TrainingConfig> {
    let path = run_dir.join(CONFIG_FILE);
    if !path.exists() {
        bail!("{}: not found (has this run been trained?)", path.display());
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let config: TrainingConfig = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: not a valid run config ({e})", path.display()))?;
    config
        .validate()
        .map_err(|e| anyhow::anyhow!("{}: not a valid run config ({e})", path.display()))?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_files() {
        let dir = std::env::temp_dir().join(format!("atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.bin");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new contents").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new contents");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    }

    #[test]
    fn checkpoint_epochs_are_listed_newest_first() {
        let dir = std::env::temp_dir().join(format!("ckpt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "model-2.bpk",
            "model-10.bpk",
            "optim-3.bpk",
            "model-x.bpk",
            "model-1.bpk",
        ] {
            std::fs::write(dir.join(name), b"").unwrap();
        }
        assert_eq!(checkpoint_epochs(&dir), vec![10, 2, 1]);
    }
}
