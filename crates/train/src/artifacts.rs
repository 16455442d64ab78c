//! The artifacts directory of a run: atomic writes, checkpoints and the final model.
//!
//! ```text
//! artifacts/case7/
//!   config.json            the TrainingConfig of the run
//!   model.bpk              the final model (Burn's ModuleRecord format)
//!   epochs.csv             one row per finished epoch
//!   checkpoint/            model-, optim-, scheduler-<epoch>.bpk (last two + best)
//!   train/, valid/         the learner's per-batch metric logs
//!   .lock                  held by the process writing the run (see `run`)
//! ```

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::optim::OptimizerRecord;
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::train::checkpoint::{Checkpoint, Checkpointer, CheckpointerError};
use model::Autoencoder;

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

/// A Burn checkpointer that writes `<name>-<epoch>.bpk` files atomically.
pub struct AtomicFileCheckpointer {
    directory: PathBuf,
    name: &'static str,
}

impl AtomicFileCheckpointer {
    /// Checkpoints named `<name>-<epoch>.bpk` in `directory`.
    pub fn new(directory: &Path, name: &'static str) -> Self {
        Self {
            directory: directory.to_path_buf(),
            name,
        }
    }

    fn path(&self, epoch: usize) -> PathBuf {
        checkpoint_path(&self.directory, self.name, epoch)
    }
}

/// Path of the `name` (`model`, `optim`, `scheduler`) checkpoint of `epoch`.
pub fn checkpoint_path(directory: &Path, name: &str, epoch: usize) -> PathBuf {
    directory.join(format!("{name}-{epoch}.bpk"))
}

impl<R: Checkpoint> Checkpointer<R> for AtomicFileCheckpointer {
    fn save(&self, epoch: usize, record: R) -> Result<(), CheckpointerError> {
        std::fs::create_dir_all(&self.directory).map_err(CheckpointerError::IOError)?;
        let bytes = record
            .checkpoint_into_bytes()
            .map_err(CheckpointerError::Record)?;
        let path = self.path(epoch);
        write_atomic(&path, &bytes).map_err(|e| CheckpointerError::IOError(io_error_at(&path, e)))
    }

    fn delete(&self, epoch: usize) -> Result<(), CheckpointerError> {
        match std::fs::remove_file(self.path(epoch)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(CheckpointerError::IOError(e))
            }
            _ => Ok(()),
        }
    }

    fn restore(&self, epoch: usize) -> Result<R, CheckpointerError> {
        R::load(self.path(epoch))
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

/// The newest epoch whose model, optimizer and scheduler checkpoints all load and fit
/// `config`; skipped (corrupt or incomplete) checkpoints are reported on stderr when `warn`.
pub fn latest_valid_checkpoint(
    run_dir: &Path,
    config: &TrainingConfig,
    warn: bool,
) -> Option<usize> {
    let directory = run_dir.join(CHECKPOINT_DIR);
    for epoch in checkpoint_epochs(&directory) {
        match check_checkpoint(&directory, epoch, config) {
            Ok(()) => return Some(epoch),
            Err(e) if warn => crate::err!("warning: skipping checkpoint of epoch {epoch}: {e:#}"),
            Err(_) => {}
        }
    }
    None
}

fn check_checkpoint(directory: &Path, epoch: usize, config: &TrainingConfig) -> Result<()> {
    let model_path = checkpoint_path(directory, "model", epoch);
    load_model_file(&model_path, config, &Device::flex())?;
    let optim_path = checkpoint_path(directory, "optim", epoch);
    OptimizerRecord::load(&optim_path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", optim_path.display()))?;
    let scheduler_path = checkpoint_path(directory, "scheduler", epoch);
    if !scheduler_path.exists() {
        bail!("{}: missing", scheduler_path.display());
    }
    Ok(())
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
    config
        .model
        .init(device)
        .try_load_record(record)
        .map_err(|e| anyhow::anyhow!("{}: does not match config.json ({e})", path.display()))
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
