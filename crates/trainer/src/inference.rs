//! Using a trained run without retraining: loading its model, describing it, encoding and
//! reconstructing images.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use data::{NoisedMnist, PIXELS};
use model::Autoencoder;

use crate::checkpoint::{self, CHECKPOINT_DIR, MODEL_FILE};
use crate::config::TrainingConfig;
use crate::error::{Error, Result};
use crate::layout::PROVENANCE_FILE;
use crate::origin::Origin;
use crate::run_dir::{RunError, check_finished};

/// Which saved weights of a run to use.
#[derive(Debug, Clone)]
pub enum ModelChoice {
    /// The final `model.bpk`.
    Final,
    /// The checkpoint of an epoch (`checkpoint/model-<N>.bpk`).
    Epoch(usize),
    /// Any model file.
    File(PathBuf),
}

/// A trained run: its directory, configuration and model.
pub struct TrainedRun {
    /// The run directory.
    pub dir: PathBuf,
    /// Its `config.json`.
    pub config: TrainingConfig,
    /// The model file that was loaded.
    pub model_path: PathBuf,
    /// The model, in inference mode (no dropout).
    pub model: Autoencoder,
    /// The device it lives on.
    pub device: Device,
    /// Whether it trained here or was imported.
    pub origin: Origin,
}

impl TrainedRun {
    /// Loads the run in `dir` with the chosen weights onto `device`.
    pub fn load(dir: &Path, choice: &ModelChoice, device: Device) -> Result<Self> {
        if !dir.is_dir() {
            return Err(RunError::NoRun {
                dir: dir.to_path_buf(),
            }
            .into());
        }
        let config = TrainingConfig::of_run(dir)?;
        let model_path = match choice {
            ModelChoice::Final => {
                check_finished(dir, &config)?;
                dir.join(MODEL_FILE)
            }
            ModelChoice::Epoch(epoch) => {
                let directory = dir.join(CHECKPOINT_DIR);
                let path = checkpoint::checkpoint_path(&directory, "model", *epoch);
                if !path.exists() {
                    let kept = checkpoint::checkpoint_epochs(&directory);
                    let kept = match kept.as_slice() {
                        [] if dir.join(PROVENANCE_FILE).exists() => {
                            "none: an imported model has only its final weights".into()
                        }
                        [] => "none".into(),
                        _ => format!("kept epochs: {kept:?}"),
                    };
                    return Err(Error::Model {
                        path,
                        reason: format!("no checkpoint of epoch {epoch} ({kept})"),
                    });
                }
                path
            }
            ModelChoice::File(path) => path.clone(),
        };
        let model = checkpoint::load_model_file(&model_path, &config, &device)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            origin: Origin::of_run(dir, &config),
            config,
            model_path,
            model,
            device,
        })
    }

    /// The run in one line: its model, and its epochs or the file it was imported from.
    pub fn summary(&self) -> String {
        self.origin.summary(&self.config)
    }

    /// The hidden code of one image (784 pixels): the activations after the first layer.
    pub fn encode(&self, input: &[f32]) -> Vec<f32> {
        let x = Tensor::<2>::from_data(TensorData::new(input.to_vec(), [1, PIXELS]), &self.device);
        self.model
            .encode(x)
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32 code")
    }

    /// Reconstructions of `inputs` (each 784 pixels), in the same order.
    pub fn reconstruct(&self, inputs: &[Vec<f32>]) -> Vec<Vec<f32>> {
        if inputs.is_empty() {
            return Vec::new();
        }
        let flat: Vec<f32> = inputs.iter().flatten().copied().collect();
        let x = Tensor::<2>::from_data(TensorData::new(flat, [inputs.len(), PIXELS]), &self.device);
        let out = self
            .model
            .forward(x)
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32 output");
        out.chunks(PIXELS).map(<[f32]>::to_vec).collect()
    }
}

/// Indices of `count` test images spread evenly over a set of `len`: the same every time.
pub fn sample_indices(len: usize, count: usize) -> Vec<usize> {
    let count = count.min(len);
    (0..count).map(|i| i * len / count).collect()
}

/// `(input, clean target)` of the given images of a (possibly noised) set.
pub fn pairs(set: &NoisedMnist, indices: &[usize]) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    indices
        .iter()
        .map(|&i| (set.input(i), set.clean().pixels(i)))
        .unzip()
}
