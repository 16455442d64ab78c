//! Using a trained run without retraining: loading its model, reconstructing images, reading
//! its weights and its logged losses.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use data::{NoisedMnist, PIXELS};
use figures::LossCurves;
use model::Autoencoder;

use crate::checkpoint::{self, CHECKPOINT_DIR, MODEL_FILE};
use crate::config::TrainingConfig;
use crate::error::{Error, Result};
use crate::layout::PROVENANCE_FILE;
use crate::origin::Origin;
use crate::run::{RunError, check_finished};

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

/// Reads the losses the learner logged in `dir/train` and `dir/valid`.
pub fn logged_losses(dir: &Path, label: &str) -> Result<LossCurves> {
    let mut curves = LossCurves {
        label: label.to_string(),
        ..Default::default()
    };
    for epoch in 1.. {
        let train = dir.join(format!("train/epoch-{epoch}/Loss.log"));
        let valid = dir.join(format!("valid/epoch-{epoch}/Loss.log"));
        if !train.exists() {
            break;
        }
        let (batches, train_final) = read_loss_log(&train)?;
        let n = batches.len().max(1) as f64;
        for (i, loss) in batches.iter().enumerate() {
            curves
                .batches
                .push(((epoch - 1) as f64 + (i + 1) as f64 / n, *loss));
        }
        let mean = train_final.unwrap_or_else(|| batches.iter().sum::<f64>() / n);
        curves.train.push((epoch as f64, mean));
        if valid.exists() {
            let (batches, valid_final) = read_loss_log(&valid)?;
            let mean = valid_final
                .unwrap_or_else(|| batches.iter().sum::<f64>() / batches.len().max(1) as f64);
            curves.test.push((epoch as f64, mean));
        }
    }
    if curves.train.is_empty() {
        return Err(Error::File {
            path: dir.to_path_buf(),
            what: "no training logs (train/epoch-1/Loss.log is missing)".into(),
        });
    }
    Ok(curves)
}

/// Per-batch values and the epoch's final value of one `Loss.log`.
fn read_loss_log(path: &Path) -> Result<(Vec<f64>, Option<f64>)> {
    let unreadable = |what: String| Error::File {
        path: path.to_path_buf(),
        what,
    };
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(e.to_string()))?;
    let mut batches = Vec::new();
    let mut last = None;
    for line in text.lines().filter(|l| !l.is_empty()) {
        let mut fields = line.split(',');
        let value: f64 = fields
            .next()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| unreadable(format!("unreadable line {line:?}")))?;
        match fields.next() {
            Some("final") => last = Some(value),
            _ => batches.push(value),
        }
    }
    Ok((batches, last))
}
