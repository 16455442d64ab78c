//! What an exported file says of its model, in its safetensors metadata: written by `export`,
//! read back by `import`, which takes the model's settings from it and refuses flags that
//! contradict it.

use std::collections::HashMap;

use model::{Activation, AutoencoderConfig};

use trainer::config::{Placement, TrainingConfig, activation_name};
use trainer::error::{ConfigDiff, Setting};

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

    /// The description in a file's metadata: none when the file does not describe itself (not
    /// in PyTorch's layout, or settings missing or unreadable in a file that does not say this
    /// program exported it); an error naming what is wrong when a file that says so carries a
    /// setting no run can have (a damaged or edited file).
    pub fn from_metadata(metadata: &HashMap<String, String>) -> Result<Option<Self>, String> {
        let get = |key: &str| metadata.get(key).map(String::as_str);
        if get("layout") != Some("pytorch") {
            return Ok(None);
        }
        match (Self::parse(&get), get("exported_by") == Some(EXPORTED_BY)) {
            (Ok(described), _) => Ok(Some(described)),
            (Err(_), false) => Ok(None),
            (Err(reason), true) => Err(reason),
        }
    }

    /// Every setting read and checked: what no run can have is named.
    fn parse<'a>(get: &impl Fn(&str) -> Option<&'a str>) -> Result<Self, String> {
        let text = |key: &str| get(key).ok_or_else(|| format!("it has no {key}"));
        let number = |key: &str| -> Result<f64, String> {
            let value = text(key)?;
            match value.parse::<f64>() {
                Ok(v) if (0.0..1.0).contains(&v) => Ok(v),
                _ => Err(format!("{key} {value:?} is not in [0, 1)")),
            }
        };
        let run = text("run")?;
        trainer::names::check_run_name(run)
            .map_err(|_| format!("run {run:?} is not a run name"))?;
        let activation = match text("activation")? {
            "relu" => Activation::Relu,
            "sigmoid" => Activation::Sigmoid,
            other => return Err(format!("activation {other:?} is neither relu nor sigmoid")),
        };
        let hidden = text("hidden")?;
        let hidden = hidden
            .parse::<usize>()
            .ok()
            .filter(|h| (1..=model::MAX_HIDDEN).contains(h));
        let hidden = hidden.ok_or("hidden is not 1 to 4096 units")?;
        let (dropout, noise) = (number("dropout")?, number("noise")?);
        let placement: Placement = text("dropout_placement")?.parse()?;
        if (dropout > 0.0) != (placement != Placement::None) {
            return Err(format!(
                "dropout {dropout} and placement {} disagree",
                placement.name()
            ));
        }
        let seed = text("seed")?
            .parse()
            .map_err(|_| "its seed is not a number".to_string())?;
        Ok(Self {
            run: run.to_string(),
            activation,
            hidden,
            dropout,
            placement,
            noise,
            seed,
            epochs: get("epochs")
                .and_then(|v| v.parse().ok())
                .filter(|&e: &usize| e > 0),
            test_mse: get("test_mse")
                .and_then(|v| v.parse().ok())
                .filter(|m: &f64| m.is_finite()),
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
            .filter(|((key, _), _)| {
                *key != "dropout_placement" || self.dropout == config.model.dropout
            })
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
        let case7 = trainer::cases::case(7).unwrap();
        let described = Described::of(&case7, Some(20), Some(0.0115));
        let metadata: HashMap<String, String> = described
            .entries()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let back = Described::from_metadata(&metadata).unwrap().unwrap();
        assert_eq!(back, described);
        assert!(back.contradictions(&case7).is_empty());
        let mut relu = case7.clone();
        relu.model.activation = Activation::Relu;
        let said: Vec<String> = back
            .contradictions(&relu)
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(said, ["activation sigmoid → relu"]);
        let case1 = trainer::cases::case(1).unwrap();
        let said: Vec<String> = back
            .contradictions(&case1)
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(
            said,
            [
                "activation sigmoid → relu",
                "dropout 0 → 0.5",
                "noise 0.2 → 0"
            ]
        );
        // Someone else's safetensors describes nothing.
        assert_eq!(Described::from_metadata(&HashMap::new()), Ok(None));
        // A file that says this program exported it but holds what no run can have is damaged.
        for (key, value, said) in [
            ("noise", "NaN", "noise \"NaN\" is not in [0, 1)"),
            ("dropout", "2", "dropout \"2\" is not in [0, 1)"),
            ("dropout", "0.5", "dropout 0.5 and placement none disagree"),
            ("run", "../x\n\u{1b}[31m", "is not a run name"),
        ] {
            let mut damaged = metadata.clone();
            damaged.insert(key.into(), value.into());
            let e = Described::from_metadata(&damaged).unwrap_err();
            assert!(e.contains(said), "{key}: {e}");
            damaged.remove("exported_by");
            assert_eq!(Described::from_metadata(&damaged), Ok(None), "{key}");
        }
    }
}
