//! The full configuration of a run, saved as `config.json` beside its artifacts. Its defaults are
//! the study's, declared once, here and on the model's config.

use std::path::Path;

use burn::config::Config;
use burn::optim::AdamConfig;
use data::{Mnist, NoisedMnist, Split};
use model::{Activation, AutoencoderConfig};
use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, Error, Result};
use crate::files::{file_error, write_atomic};
use crate::wording::count;

pub use crate::layout::CONFIG_FILE;

/// Adam's settings: the study's β 0.9/0.999 and ε 1e-8 (Burn's own default ε is 1e-5).
#[derive(Config, Debug, PartialEq)]
pub struct AdamSettings {
    /// Decay of the first moment.
    #[config(default = 0.9)]
    pub beta_1: f32,
    /// Decay of the second moment.
    #[config(default = 0.999)]
    pub beta_2: f32,
    /// Added to the second moment's root, for numerical stability.
    #[config(default = 1e-8)]
    pub epsilon: f32,
}

impl AdamSettings {
    /// Burn's Adam with these settings (no AMSGrad, no weight decay, no clipping).
    pub fn to_burn(&self) -> AdamConfig {
        AdamConfig::new()
            .with_beta_1(self.beta_1)
            .with_beta_2(self.beta_2)
            .with_epsilon(self.epsilon)
    }
}

/// Everything that determines a training run; saved as `config.json` beside its artifacts.
#[derive(Config, Debug)]
pub struct TrainingConfig {
    /// Short name of the run (`case7`, or the config file's stem).
    pub name: String,
    /// One-line description of the run.
    pub description: String,
    /// The autoencoder.
    pub model: AutoencoderConfig,
    /// Adam's settings.
    #[config(default = "AdamSettings::new()")]
    pub optimizer: AdamSettings,
    /// Adam's learning rate.
    #[config(default = 1e-3)]
    pub learning_rate: f64,
    /// Fraction of input pixels zeroed per image (`floor(784 × ratio)` pixels); 0 for none.
    #[config(default = 0.0)]
    pub noise: f64,
    /// Epochs to train; 0 for an imported run, which trained elsewhere (its `provenance.json`
    /// says where from).
    #[config(default = 20)]
    pub epochs: usize,
    /// Images per batch.
    #[config(default = 100)]
    pub batch_size: usize,
    /// Seed of data order, noise masks, dropout and initialisation.
    #[config(default = 0)]
    pub seed: u64,
    /// Use only the first `limit` training images (all when absent).
    pub limit: Option<usize>,
    /// The backend the run trains on (`flex`, `wgpu`, …); set by training, absent in a case file
    /// and in runs saved before it was recorded.
    pub backend: Option<String>,
}

impl TrainingConfig {
    /// Checks every value a file or a flag could set; the error names the field.
    pub fn validate(&self) -> std::result::Result<(), ConfigError> {
        if self.epochs == 0 {
            return Err(ConfigError::invalid(
                "training.epochs",
                "must be at least 1".into(),
            ));
        }
        self.validate_imported()
    }

    /// [`validate`](Self::validate) for an imported run, whose epochs are 0.
    pub fn validate_imported(&self) -> std::result::Result<(), ConfigError> {
        let invalid = |field: &str, message: String| Err(ConfigError::invalid(field, message));
        if let Err(e) = self.model.validate() {
            let (field, message) = e.split_once(": ").unwrap_or(("", &e));
            return invalid(&format!("model.{field}"), message.to_string());
        }
        if !(0.0..1.0).contains(&self.noise) {
            return invalid(
                "data.noise",
                format!("must be in [0, 1), got {}", self.noise),
            );
        }
        if self.batch_size == 0 {
            return invalid("training.batch_size", "must be at least 1".into());
        }
        let rate = self.learning_rate;
        if !(rate.is_finite() && rate > 0.0) {
            return invalid(
                "training.learning_rate",
                format!("must be positive, got {rate}"),
            );
        }
        if self.limit == Some(0) {
            return invalid("limit", "must be at least 1".into());
        }
        let adam = &self.optimizer;
        for (field, beta) in [
            ("training.beta_1", adam.beta_1),
            ("training.beta_2", adam.beta_2),
        ] {
            if !(0.0..1.0).contains(&beta) {
                return invalid(field, format!("must be in [0, 1), got {beta}"));
            }
        }
        if !(adam.epsilon.is_finite() && adam.epsilon > 0.0) {
            return invalid(
                "training.epsilon",
                format!("must be positive, got {}", adam.epsilon),
            );
        }
        Ok(())
    }

    /// The study's description of the case, as a table row: `ReLU, 1000 hidden, dropout …, 20
    /// epochs`.
    pub fn summary(&self) -> String {
        format!("{}, {}", self.model_summary(), count(self.epochs, "epoch"))
    }

    /// [`summary`](Self::summary) without the epochs: the model and its inputs.
    pub fn model_summary(&self) -> String {
        let m = &self.model;
        let activation = match m.activation {
            Activation::Relu => "ReLU",
            Activation::Sigmoid => "Sigmoid",
        };
        let mut parts = vec![activation.to_string(), format!("{} hidden", m.hidden)];
        if m.dropout > 0.0 {
            let placement = if m.output_dropout {
                "hidden+output"
            } else {
                "hidden only"
            };
            parts.push(format!("dropout {} ({placement})", m.dropout));
        }
        if self.noise > 0.0 {
            parts.push(format!("noise {}", self.noise));
        }
        parts.join(", ")
    }

    /// The training and test sets of this run: the first `limit` training images, all test
    /// images, noised as the configuration says (the test set with its own masks).
    pub fn datasets(&self, data_dir: &Path) -> Result<(NoisedMnist, NoisedMnist)> {
        let mut train = Mnist::load(data_dir, Split::Train)?;
        if let Some(limit) = self.limit {
            if limit > train.len() {
                let images = train.len();
                return Err(Error::LimitTooLarge { limit, images });
            }
            train = train.limit(limit);
        }
        Ok((
            NoisedMnist::new(train, self.noise, self.seed),
            self.test_set(data_dir)?,
        ))
    }

    /// The test set of this run alone (noised with its own masks), without the training set.
    pub fn test_set(&self, data_dir: &Path) -> Result<NoisedMnist> {
        let test = Mnist::load(data_dir, Split::Test)?;
        Ok(NoisedMnist::new(
            test,
            self.noise,
            data::test_noise_seed(self.seed),
        ))
    }

    /// Training images per epoch: the limit, or the whole training split.
    pub fn train_images(&self) -> usize {
        self.limit
            .unwrap_or(data::TRAIN_IMAGES)
            .min(data::TRAIN_IMAGES)
    }

    /// Saves this configuration atomically as `run_dir/config.json`.
    pub fn save_in(&self, run_dir: &Path) -> Result<()> {
        let path = run_dir.join(CONFIG_FILE);
        let json = serde_json::to_vec_pretty(self).expect("a config serialises");
        write_atomic(&path, &json).map_err(|e| file_error(&path, e))
    }

    /// Reads and checks `run_dir/config.json`.
    pub fn of_run(run_dir: &Path) -> Result<Self> {
        let path = run_dir.join(CONFIG_FILE);
        let invalid = |reason: String| Error::File {
            path: path.clone(),
            what: format!("not a valid run config ({reason})"),
        };
        if !path.exists() {
            return Err(Error::File {
                path,
                what: "not found (has this run been trained?)".into(),
            });
        }
        let text = std::fs::read_to_string(&path).map_err(|e| Error::File {
            path: path.clone(),
            what: format!("cannot read ({e})"),
        })?;
        let config: Self = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        let imported = run_dir.join(crate::layout::PROVENANCE_FILE).exists();
        match imported {
            true => config.validate_imported(),
            false => config.validate(),
        }
        .map_err(|e| invalid(e.to_string()))?;
        Ok(config)
    }
}

/// Where dropout acts in training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Placement {
    /// No dropout.
    None,
    /// After the hidden activation only.
    Hidden,
    /// After the hidden activation and after the output layer (the study's).
    HiddenOutput,
}

impl Placement {
    /// Every placement, in the order of the default sweep.
    pub const ALL: [Placement; 3] = [Placement::None, Placement::Hidden, Placement::HiddenOutput];

    /// `none`, `hidden`, `hidden+output`.
    pub fn name(self) -> &'static str {
        match self {
            Placement::None => "none",
            Placement::Hidden => "hidden",
            Placement::HiddenOutput => "hidden+output",
        }
    }

    /// The placement of `config`'s dropout.
    pub fn of(config: &TrainingConfig) -> Self {
        match (config.model.dropout > 0.0, config.model.output_dropout) {
            (false, _) => Placement::None,
            (true, false) => Placement::Hidden,
            (true, true) => Placement::HiddenOutput,
        }
    }
}

impl std::str::FromStr for Placement {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Placement::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| format!("{s:?} is none of none, hidden, hidden+output"))
    }
}

/// `relu`, `sigmoid`.
pub fn activation_name(activation: Activation) -> &'static str {
    match activation {
        Activation::Relu => "relu",
        Activation::Sigmoid => "sigmoid",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_json_round_trips() {
        let c = crate::cases::case(6).unwrap().with_limit(Some(500));
        let dir = tempfile::tempdir().unwrap();
        c.save_in(dir.path()).unwrap();
        let back = TrainingConfig::of_run(dir.path()).unwrap();
        assert_eq!(back.model.hidden, 1000);
        assert_eq!(back.noise, 0.2);
        assert_eq!(back.limit, Some(500));
        assert_eq!(back.optimizer.epsilon, 1e-8);
    }

    #[test]
    fn a_config_json_of_burns_adam_settings_still_loads() {
        // Runs saved before AdamSettings wrote Burn's AdamConfig, with its other fields.
        let dir = tempfile::tempdir().unwrap();
        let mut json = serde_json::to_value(crate::cases::case(7).unwrap()).unwrap();
        json["optimizer"] = serde_json::json!({
            "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8,
            "amsgrad": false, "weight_decay": null, "grad_clipping": null
        });
        std::fs::write(dir.path().join(CONFIG_FILE), json.to_string()).unwrap();
        let back = TrainingConfig::of_run(dir.path()).unwrap();
        assert_eq!(back.optimizer, AdamSettings::new());
    }
}
