//! What an exported file says of its model, in its safetensors metadata: written by `export`,
//! read back by `import`, which takes the model's settings from it and refuses flags that
//! contradict it.

use std::collections::HashMap;

use model::{Activation, AutoencoderConfig};

use crate::config::{Placement, TrainingConfig, activation_name};
use crate::refusal::{ConfigDiff, Setting};

/// The value of the metadata key `exported_by` in this program's files.
pub const EXPORTED_BY: &str = "burn-autoencoder";

/// A model as an exported file describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Described {
    /// The run it was exported from.
    pub run: String,
    /// The hidden layer's activation.
    pub activation: Activation,
    /// Hidden units.
    pub hidden: usize,
    /// Dropout probability.
    pub dropout: f64,
    /// Where dropout acted.
    pub placement: Placement,
    /// Masking-noise ratio of its inputs.
    pub noise: f64,
    /// The seed of its run (its test inputs' noise masks come from it).
    pub seed: u64,
    /// The epochs it trained, when the run trained it (not for an import).
    pub epochs: Option<usize>,
    /// Its test MSE as the run recorded it.
    pub test_mse: Option<f64>,
}

impl Described {
    /// The description of the model of `config` (its epochs and test MSE as known).
    pub fn of(config: &TrainingConfig, epochs: Option<usize>, test_mse: Option<f64>) -> Self {
        Self {
            run: config.name.clone(),
            activation: config.model.activation,
            hidden: config.model.hidden,
            dropout: config.model.dropout,
            placement: Placement::of(config),
            noise: config.noise,
            seed: config.seed,
            epochs,
            test_mse,
        }
    }

    /// The metadata entries, as `export` writes them.
    pub fn entries(&self) -> Vec<(&'static str, String)> {
        let known = |v: Option<String>| v.unwrap_or_else(|| "unknown".into());
        vec![
            ("exported_by", EXPORTED_BY.into()),
            ("layout", "pytorch".into()),
            ("run", self.run.clone()),
            ("activation", activation_name(self.activation).into()),
            ("hidden", self.hidden.to_string()),
            ("dropout", self.dropout.to_string()),
            ("dropout_placement", self.placement.name().into()),
            ("noise", self.noise.to_string()),
            ("epochs", known(self.epochs.map(|v| v.to_string()))),
            ("seed", self.seed.to_string()),
            ("test_mse", known(self.test_mse.map(|v| v.to_string()))),
        ]
    }

    /// The description in a file's metadata, when every setting is there and readable (this
    /// program's exports, also those made before `exported_by` was written).
    pub fn from_metadata(metadata: &HashMap<String, String>) -> Option<Self> {
        let get = |key: &str| metadata.get(key).map(String::as_str);
        if get("layout") != Some("pytorch") {
            return None;
        }
        let activation = match get("activation")? {
            "relu" => Activation::Relu,
            "sigmoid" => Activation::Sigmoid,
            _ => return None,
        };
        Some(Self {
            run: get("run")?.to_string(),
            activation,
            hidden: get("hidden")?.parse().ok()?,
            dropout: get("dropout")?.parse().ok()?,
            placement: get("dropout_placement")?.parse().ok()?,
            noise: get("noise")?.parse().ok()?,
            seed: get("seed")?.parse().ok()?,
            epochs: get("epochs").and_then(|v| v.parse().ok()),
            test_mse: get("test_mse").and_then(|v| v.parse().ok()),
        })
    }

    /// A configuration of the described model (the study's defaults for the rest).
    pub fn config(&self) -> TrainingConfig {
        let model = AutoencoderConfig::new(self.hidden, self.activation)
            .with_dropout(self.dropout)
            .with_output_dropout(self.placement == Placement::HiddenOutput);
        TrainingConfig::new(self.run.clone(), String::new(), model)
            .with_noise(self.noise)
            .with_seed(self.seed)
    }

    /// The settings of the model in which `config` contradicts this description: activation,
    /// dropout, its placement and the noise (`old` is the file's, `new` the configuration's).
    pub fn contradictions(&self, config: &TrainingConfig) -> Vec<ConfigDiff> {
        let ours = [
            ("activation", activation_name(self.activation).to_string()),
            ("dropout", self.dropout.to_string()),
            ("dropout_placement", self.placement.name().to_string()),
            ("noise", self.noise.to_string()),
        ];
        let theirs = [
            activation_name(config.model.activation).to_string(),
            config.model.dropout.to_string(),
            Placement::of(config).name().to_string(),
            config.noise.to_string(),
        ];
        ours.into_iter()
            .zip(theirs)
            .filter(|((_, a), b)| a != b)
            // A placement follows from the dropout: name it only when the dropout agrees.
            .filter(|((key, _), _)| *key != "dropout_placement" || self.dropout == config.model.dropout)
            .map(|((key, old), new)| ConfigDiff {
                setting: Setting::Other(key.to_string()),
                old,
                new,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_description_round_trips_and_names_what_contradicts_it() {
        let case7 = crate::cases::case(7).unwrap();
        let described = Described::of(&case7, Some(20), Some(0.0115));
        let metadata: HashMap<String, String> = described
            .entries()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let back = Described::from_metadata(&metadata).unwrap();
        assert_eq!(back, described);
        assert!(back.contradictions(&case7).is_empty());
        let mut relu = case7.clone();
        relu.model.activation = Activation::Relu;
        let said: Vec<String> = back.contradictions(&relu).iter().map(|d| d.to_string()).collect();
        assert_eq!(said, ["activation sigmoid → relu"]);
        let case1 = crate::cases::case(1).unwrap();
        let said: Vec<String> = back.contradictions(&case1).iter().map(|d| d.to_string()).collect();
        assert_eq!(said, ["activation sigmoid → relu", "dropout 0 → 0.5", "noise 0.2 → 0"]);
        // Someone else's safetensors describes nothing.
        assert_eq!(Described::from_metadata(&HashMap::new()), None);
    }
}
