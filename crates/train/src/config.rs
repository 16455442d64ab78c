//! The study's cases as TOML files, and the full run configuration saved as `config.json`.

use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::config::Config;
use burn::optim::AdamConfig;
use model::{Activation, AutoencoderConfig, Init};
use serde::Deserialize;

/// The seven case files, embedded so that the binary works from any directory.
const CASES: [&str; 7] = [
    include_str!("../../../configs/case1.toml"),
    include_str!("../../../configs/case2.toml"),
    include_str!("../../../configs/case3.toml"),
    include_str!("../../../configs/case4.toml"),
    include_str!("../../../configs/case5.toml"),
    include_str!("../../../configs/case6.toml"),
    include_str!("../../../configs/case7.toml"),
];

/// Largest case file read: a case file is a few lines, and a device (`/dev/zero`) never ends.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Number of study cases.
pub const CASE_COUNT: usize = CASES.len();

/// Everything that determines a training run; saved as `config.json` beside its artifacts.
#[derive(Config, Debug)]
pub struct TrainingConfig {
    /// Short name of the run (`case7`, or the config file's stem).
    pub name: String,
    /// One-line description of the run.
    pub description: String,
    /// The autoencoder.
    pub model: AutoencoderConfig,
    /// Adam's parameters (the study: β 0.9/0.999, ε 1e-8).
    pub optimizer: AdamConfig,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Fraction of input pixels zeroed per image (`floor(784 × ratio)` pixels); 0 for none.
    pub noise: f64,
    /// Epochs to train.
    pub epochs: usize,
    /// Images per batch.
    pub batch_size: usize,
    /// Seed of data order, noise masks, dropout and initialisation.
    pub seed: u64,
    /// Use only the first `limit` training images (all when absent).
    pub limit: Option<usize>,
    /// The backend the run trains on (`flex`, `wgpu`, …); set by `train`, absent in a case file
    /// and in runs saved before it was recorded.
    pub backend: Option<String>,
}

/// A case file as written in `configs/`: every field but `model.hidden` and
/// `model.activation` has the study's default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[serde(default)]
    description: String,
    model: ModelSection,
    #[serde(default)]
    data: DataSection,
    #[serde(default)]
    training: TrainingSection,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelSection {
    hidden: usize,
    activation: Activation,
    /// A probability, or `false` for none.
    #[serde(default = "default_dropout")]
    dropout: DropoutSetting,
    #[serde(default = "yes")]
    output_dropout: bool,
    #[serde(default = "default_init")]
    init: Init,
}

/// `dropout = 0.3`, `true` (the study's 0.5) or `false` (none).
#[derive(Debug)]
enum DropoutSetting {
    Enabled(bool),
    Ratio(f64),
}

impl<'de> Deserialize<'de> for DropoutSetting {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = DropoutSetting;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a probability in [0, 1), or true (0.5) or false (none)")
            }
            fn visit_bool<E>(self, v: bool) -> Result<DropoutSetting, E> {
                Ok(DropoutSetting::Enabled(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<DropoutSetting, E> {
                Ok(DropoutSetting::Ratio(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<DropoutSetting, E> {
                Ok(DropoutSetting::Ratio(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<DropoutSetting, E> {
                Ok(DropoutSetting::Ratio(v as f64))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataSection {
    #[serde(default)]
    noise: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrainingSection {
    #[serde(default = "default_epochs")]
    epochs: usize,
    #[serde(default = "default_batch_size")]
    batch_size: usize,
    #[serde(default = "default_learning_rate")]
    learning_rate: f64,
    #[serde(default)]
    seed: u64,
    #[serde(default = "default_beta_1")]
    beta_1: f32,
    #[serde(default = "default_beta_2")]
    beta_2: f32,
    #[serde(default = "default_epsilon")]
    epsilon: f32,
}

impl Default for TrainingSection {
    fn default() -> Self {
        toml::from_str("").expect("all training fields have defaults")
    }
}

fn default_dropout() -> DropoutSetting {
    DropoutSetting::Ratio(0.5)
}
fn yes() -> bool {
    true
}
fn default_init() -> Init {
    Init::Study
}
fn default_epochs() -> usize {
    20
}
fn default_batch_size() -> usize {
    100
}
fn default_learning_rate() -> f64 {
    1e-3
}
fn default_beta_1() -> f32 {
    0.9
}
fn default_beta_2() -> f32 {
    0.999
}
fn default_epsilon() -> f32 {
    1e-8
}

/// The run name of study case `number` (`case7`), or an error if there is no such case.
pub fn case_name(number: usize) -> Result<String> {
    if !(1..=CASE_COUNT).contains(&number) {
        bail!("unknown case {number}: the study has cases 1 to {CASE_COUNT}");
    }
    Ok(format!("case{number}"))
}

/// A TOML error as a user reads it: the line, the field (`model.dropout`) and what is allowed.
fn toml_error(text: &str, error: &toml::de::Error) -> anyhow::Error {
    let message = error.message().lines().next().unwrap_or("invalid TOML");
    let message = message
        .replace("expected usize", "expected a whole number ≥ 0")
        .replace("expected u64", "expected a whole number ≥ 0")
        .replace("expected f64", "expected a number")
        .replace("expected f32", "expected a number");
    let Some(span) = error.span() else {
        return anyhow::anyhow!("invalid config: {message}");
    };
    let start = span.start.min(text.len());
    let line = text[..start].matches('\n').count() + 1;
    match field_at(text, start) {
        Some(field) => anyhow::anyhow!("invalid config at line {line}: {field}: {message}"),
        None => anyhow::anyhow!("invalid config at line {line}: {message}"),
    }
}

/// The dotted name of the key on the line holding byte `at` (`model.dropout`), from the key
/// before `=` and the nearest `[table]` header above; the table alone on a header line.
fn field_at(text: &str, at: usize) -> Option<String> {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    let header = |l: &str| {
        l.strip_prefix('[')
            .and_then(|l| l.split(']').next())
            .map(|t| t.trim().to_string())
    };
    if let Some(table) = header(line) {
        return Some(table);
    }
    let key = line.split('=').next()?.trim();
    if key.is_empty() || line == key {
        return None;
    }
    let table = text[..line_start]
        .lines()
        .rev()
        .find_map(|l| header(l.trim()));
    Some(match table {
        Some(table) => format!("{table}.{key}"),
        None => key.to_string(),
    })
}

impl TrainingConfig {
    /// Study case `number` (1–7).
    pub fn case(number: usize) -> Result<Self> {
        let Some(text) = number.checked_sub(1).and_then(|i| CASES.get(i)) else {
            bail!("unknown case {number}: the study has cases 1 to {CASE_COUNT}");
        };
        Self::parse(text, &format!("case{number}"))
            .with_context(|| format!("configs/case{number}.toml"))
    }

    /// Reads a case file (TOML); the run is named after the file's stem.
    pub fn from_file(path: &Path) -> Result<Self> {
        use std::io::Read;
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes))
            .with_context(|| format!("{}: cannot read config", path.display()))?;
        if bytes.len() as u64 > MAX_CONFIG_BYTES {
            bail!(
                "{}: larger than {} MB; a case file is a few lines of TOML",
                path.display(),
                MAX_CONFIG_BYTES >> 20
            );
        }
        let text = String::from_utf8(bytes).map_err(|_| {
            anyhow::anyhow!("{}: not UTF-8 text; a case file is TOML", path.display())
        })?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("custom");
        Self::parse(&text, name).with_context(|| path.display().to_string())
    }

    /// Parses and validates TOML case text.
    pub fn parse(text: &str, name: &str) -> Result<Self> {
        let file: CaseFile = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
        let dropout = match file.model.dropout {
            DropoutSetting::Enabled(true) => 0.5,
            DropoutSetting::Enabled(false) => 0.0,
            DropoutSetting::Ratio(ratio) => ratio,
        };
        let model = AutoencoderConfig::new(file.model.hidden, file.model.activation)
            .with_dropout(dropout)
            .with_output_dropout(file.model.output_dropout)
            .with_init(file.model.init);
        let t = file.training;
        let optimizer = AdamConfig::new()
            .with_beta_1(t.beta_1)
            .with_beta_2(t.beta_2)
            .with_epsilon(t.epsilon);
        let config = Self::new(
            name.to_string(),
            file.description,
            model,
            optimizer,
            t.learning_rate,
            file.data.noise,
            t.epochs,
            t.batch_size,
            t.seed,
        );
        config.validate()?;
        Ok(config)
    }

    /// Checks every value a file or a flag could set; the error names the field.
    pub fn validate(&self) -> Result<()> {
        self.model
            .validate()
            .map_err(|e| anyhow::anyhow!("model.{e}"))?;
        if !(0.0..1.0).contains(&self.noise) {
            bail!("data.noise: must be in [0, 1), got {}", self.noise);
        }
        if self.epochs == 0 {
            bail!("training.epochs: must be at least 1");
        }
        if self.batch_size == 0 {
            bail!("training.batch_size: must be at least 1");
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            bail!(
                "training.learning_rate: must be positive, got {}",
                self.learning_rate
            );
        }
        if self.limit == Some(0) {
            bail!("limit: must be at least 1");
        }
        // AdamConfig keeps its fields private; serde sees them (a NaN becomes null).
        let adam = serde_json::to_value(&self.optimizer).unwrap_or_default();
        let field = |name: &str| adam[name].as_f64().unwrap_or(f64::NAN);
        for name in ["beta_1", "beta_2"] {
            let beta = field(name);
            if !(0.0..1.0).contains(&beta) {
                bail!("training.{name}: must be in [0, 1), got {beta}");
            }
        }
        let epsilon = field("epsilon");
        if !(epsilon.is_finite() && epsilon > 0.0) {
            bail!("training.epsilon: must be positive, got {epsilon}");
        }
        Ok(())
    }

    /// The study's description of the case, as a table row: `ReLU, 1000 units, dropout, …`.
    pub fn summary(&self) -> String {
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
        parts.push(match self.epochs {
            1 => "1 epoch".to_string(),
            n => format!("{n} epochs"),
        });
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seven_cases_match_the_study() {
        // (activation, hidden, dropout, noise, epochs)
        let expected = [
            (Activation::Relu, 1000, 0.5, 0.0, 20),
            (Activation::Relu, 1000, 0.0, 0.0, 20),
            (Activation::Relu, 400, 0.5, 0.0, 30),
            (Activation::Relu, 400, 0.0, 0.0, 20),
            (Activation::Sigmoid, 1000, 0.5, 0.0, 20),
            (Activation::Sigmoid, 1000, 0.5, 0.2, 20),
            (Activation::Sigmoid, 100, 0.0, 0.2, 20),
        ];
        for (i, (activation, hidden, dropout, noise, epochs)) in expected.into_iter().enumerate() {
            let c = TrainingConfig::case(i + 1).unwrap();
            assert_eq!(c.name, format!("case{}", i + 1));
            assert_eq!(c.model.activation, activation, "case {}", i + 1);
            assert_eq!(c.model.hidden, hidden, "case {}", i + 1);
            assert_eq!(c.model.dropout, dropout, "case {}", i + 1);
            assert!(c.model.output_dropout);
            assert_eq!(c.model.init, Init::Study);
            assert_eq!(c.noise, noise, "case {}", i + 1);
            assert_eq!(c.epochs, epochs, "case {}", i + 1);
            assert_eq!(c.batch_size, 100);
            assert_eq!(c.learning_rate, 1e-3);
            assert_eq!(c.seed, 0);
            let adam = serde_json::to_value(&c.optimizer).unwrap();
            assert_eq!(adam["epsilon"].as_f64().unwrap() as f32, 1e-8);
            assert_eq!(adam["beta_2"].as_f64().unwrap() as f32, 0.999);
            assert!(!c.description.is_empty());
        }
        assert!(TrainingConfig::case(0).is_err());
        assert!(
            TrainingConfig::case(8)
                .unwrap_err()
                .to_string()
                .contains("unknown case 8")
        );
    }

    fn err(text: &str) -> String {
        format!("{:#}", TrainingConfig::parse(text, "t").unwrap_err())
    }

    #[test]
    fn bad_configs_are_rejected_naming_the_field() {
        let ok = "[model]\nhidden = 10\nactivation = \"relu\"\n";
        assert!(TrainingConfig::parse(ok, "t").is_ok());
        assert!(err("[model]\nhidden = 10\n").contains("activation"));
        assert!(err("[model]\nhidden = 10\nactivation = \"tanh\"\n").contains("tanh"));
        assert!(err(&format!("{ok}colour = 3\n")).contains("colour"));
        assert!(err("[model]\nhidden = \"ten\"\nactivation = \"relu\"\n").contains("invalid type"));
        assert!(err("[model]\nhidden = 0\nactivation = \"relu\"\n").contains("model.hidden"));
        assert!(err("[model]\nhidden = 1000000\nactivation = \"relu\"\n").contains("model.hidden"));
        assert!(err(&format!("{ok}[data]\nnoise = 1.0\n")).contains("data.noise"));
        assert!(err(&format!("{ok}[training]\nepochs = 0\n")).contains("training.epochs"));
        assert!(err(&format!("{ok}[training]\nbatch_size = 0\n")).contains("training.batch_size"));
        assert!(err(&format!("{ok}[training]\nepoch = 3\n")).contains("epoch"));
        let no_dropout = format!("[model]\nhidden = 10\nactivation = \"relu\"\ndropout = false\n");
        assert_eq!(
            TrainingConfig::parse(&no_dropout, "t")
                .unwrap()
                .model
                .dropout,
            0.0
        );
        assert!(
            err("[model]\nhidden = 10\nactivation = \"relu\"\ndropout = 1.5\n")
                .contains("model.dropout")
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 1000, ..Default::default() })]

        /// Arbitrary text never panics the parser; whatever it accepts is valid.
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            if let Ok(config) = TrainingConfig::parse(&text, "fuzz") {
                proptest::prop_assert!(config.validate().is_ok());
            }
        }

        /// Any numbers in a well-formed file are accepted only when valid, naming the field otherwise.
        #[test]
        fn numeric_fields_are_validated(hidden in 0usize..2_000_000, dropout in -1.0f64..2.0, noise in -1.0f64..2.0,
                                        epochs in 0usize..5, batch in 0usize..5) {
            let text = format!(
                "[model]\nhidden = {hidden}\nactivation = \"relu\"\ndropout = {dropout:?}\n[data]\nnoise = {noise:?}\n[training]\nepochs = {epochs}\nbatch_size = {batch}\n"
            );
            let valid = (1..1_000_000).contains(&hidden) && (0.0..1.0).contains(&dropout)
                && (0.0..1.0).contains(&noise) && epochs > 0 && batch > 0;
            match TrainingConfig::parse(&text, "fuzz") {
                Ok(_) => proptest::prop_assert!(valid, "accepted {text}"),
                Err(e) => {
                    let e = format!("{e:#}");
                    proptest::prop_assert!(!valid, "rejected {text}: {e}");
                    proptest::prop_assert!(["model.hidden", "model.dropout", "data.noise", "training.epochs", "training.batch_size"]
                        .iter().any(|f| e.contains(f)), "{e}");
                }
            }
        }
    }

    #[test]
    fn config_json_round_trips() {
        let c = TrainingConfig::case(6).unwrap().with_limit(Some(500));
        let dir = std::env::temp_dir().join(format!("cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.json");
        c.save(&path).unwrap();
        let back = TrainingConfig::load(&path).unwrap();
        assert_eq!(back.model.hidden, 1000);
        assert_eq!(back.noise, 0.2);
        assert_eq!(back.limit, Some(500));
        assert_eq!(
            serde_json::to_value(&back.optimizer).unwrap()["epsilon"]
                .as_f64()
                .unwrap() as f32,
            1e-8
        );
    }
}
