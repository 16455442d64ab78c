//! The study's seven cases as TOML files (`configs/`), and case files of one's own in the same
//! format: only what differs from [`TrainingConfig`]'s defaults is written.

use std::path::Path;

use model::{Activation, AutoencoderConfig, Init};
use serde::Deserialize;

use crate::config::{AdamSettings, TrainingConfig};
use crate::error::ConfigError;

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

/// Number of study cases.
pub const CASE_COUNT: usize = CASES.len();

/// Largest case file read: a case file is a few lines, and a device (`/dev/zero`) never ends.
pub const MAX_CASE_FILE_BYTES: u64 = 1 << 20;

/// A case file as written: every field but `model.hidden` and `model.activation` may be left out.
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
    /// A probability, or `true` (the default probability) or `false` (none).
    dropout: Option<DropoutSetting>,
    output_dropout: Option<bool>,
    init: Option<Init>,
}

/// `dropout = 0.3`, `true` or `false`.
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
                f.write_str("a probability in [0, 1), or true or false")
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
    noise: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrainingSection {
    epochs: Option<usize>,
    batch_size: Option<usize>,
    learning_rate: Option<f64>,
    seed: Option<u64>,
    beta_1: Option<f32>,
    beta_2: Option<f32>,
    epsilon: Option<f32>,
}

/// The run name of study case `number` (`case7`), if there is such a case.
pub fn case_name(number: usize) -> Option<String> {
    (1..=CASE_COUNT)
        .contains(&number)
        .then(|| format!("case{number}"))
}

/// Study case `number` (1–7).
pub fn case(number: usize) -> Result<TrainingConfig, ConfigError> {
    let (Some(name), Some(text)) = (
        case_name(number),
        number.checked_sub(1).and_then(|i| CASES.get(i)),
    ) else {
        return Err(ConfigError::invalid(
            "case",
            format!("unknown case {number}: the study has cases 1 to {CASE_COUNT}"),
        ));
    };
    parse(text, &name).map_err(|e| e.in_file(&format!("configs/{name}.toml")))
}

/// Reads a case file (TOML); the run is named after the file's stem.
pub fn from_file(path: &Path) -> Result<TrainingConfig, ConfigError> {
    use std::io::Read;
    let shown = path.display().to_string();
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CASE_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| ConfigError::unreadable(&shown, format!("cannot read config ({e})")))?;
    if bytes.len() as u64 > MAX_CASE_FILE_BYTES {
        let message = format!(
            "larger than {} MB; a case file is a few lines of TOML",
            MAX_CASE_FILE_BYTES >> 20
        );
        return Err(ConfigError::unreadable(&shown, message));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        ConfigError::unreadable(&shown, "not UTF-8 text; a case file is TOML".into())
    })?;
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("custom");
    parse(&text, name).map_err(|e| e.in_file(&shown))
}

/// Parses and validates TOML case text as the run `name`.
pub fn parse(text: &str, name: &str) -> Result<TrainingConfig, ConfigError> {
    let file: CaseFile = read_toml(text)?;
    let m = file.model;
    let mut model = AutoencoderConfig::new(m.hidden, m.activation);
    match m.dropout {
        Some(DropoutSetting::Enabled(false)) => model.dropout = 0.0,
        Some(DropoutSetting::Ratio(ratio)) => model.dropout = ratio,
        Some(DropoutSetting::Enabled(true)) | None => {}
    }
    model.output_dropout = m.output_dropout.unwrap_or(model.output_dropout);
    model.init = m.init.unwrap_or(model.init);
    let mut config = TrainingConfig::new(name.to_string(), file.description, model);
    let t = file.training;
    let set = |value: &mut f32, given: Option<f32>| *value = given.unwrap_or(*value);
    let mut adam = AdamSettings::new();
    set(&mut adam.beta_1, t.beta_1);
    set(&mut adam.beta_2, t.beta_2);
    set(&mut adam.epsilon, t.epsilon);
    config.optimizer = adam;
    config.noise = file.data.noise.unwrap_or(config.noise);
    config.epochs = t.epochs.unwrap_or(config.epochs);
    config.batch_size = t.batch_size.unwrap_or(config.batch_size);
    config.learning_rate = t.learning_rate.unwrap_or(config.learning_rate);
    config.seed = t.seed.unwrap_or(config.seed);
    config.validate()?;
    Ok(config)
}

/// Deserializes TOML text; an error names the line and the field (`model.dropout`), in words a
/// user reads ("a whole number ≥ 0", not "usize").
fn read_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ConfigError> {
    let line_of = |span: Option<std::ops::Range<usize>>| {
        span.map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
    };
    let document = toml::Deserializer::parse(text)
        .map_err(|e| ConfigError::syntax(line_of(e.span()), None, words(e.message())))?;
    serde_path_to_error::deserialize(document).map_err(|e| {
        let path = e.path().to_string();
        let field = (path != "." && !path.is_empty()).then_some(path);
        let inner = e.into_inner();
        ConfigError::syntax(line_of(inner.span()), field, words(inner.message()))
    })
}

/// The first line of a TOML error, with Rust's type names in words.
fn words(message: &str) -> String {
    message
        .lines()
        .next()
        .unwrap_or("invalid TOML")
        .replace("expected usize", "expected a whole number ≥ 0")
        .replace("expected u64", "expected a whole number ≥ 0")
        .replace("expected f64", "expected a number")
        .replace("expected f32", "expected a number")
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
            let c = case(i + 1).unwrap();
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
            assert_eq!(c.optimizer.epsilon, 1e-8);
            assert_eq!(c.optimizer.beta_2, 0.999);
            assert!(!c.description.is_empty());
        }
        assert!(case(0).is_err());
        assert!(case(8).unwrap_err().to_string().contains("unknown case 8"));
    }

    fn err(text: &str) -> String {
        parse(text, "t").unwrap_err().to_string()
    }

    #[test]
    fn bad_configs_are_rejected_naming_the_field() {
        let ok = "[model]\nhidden = 10\nactivation = \"relu\"\n";
        assert!(parse(ok, "t").is_ok());
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
        let no_dropout = "[model]\nhidden = 10\nactivation = \"relu\"\ndropout = false\n";
        assert_eq!(parse(no_dropout, "t").unwrap().model.dropout, 0.0);
        let study_dropout = "[model]\nhidden = 10\nactivation = \"relu\"\ndropout = true\n";
        assert_eq!(parse(study_dropout, "t").unwrap().model.dropout, 0.5);
        assert!(
            err("[model]\nhidden = 10\nactivation = \"relu\"\ndropout = 1.5\n")
                .contains("model.dropout")
        );
    }

    #[test]
    fn errors_name_the_line_and_the_field() {
        let e = err("[model]\nhidden = 10\nactivation = \"relu\"\n[training]\nbeta_1 = \"x\"\n");
        assert!(e.contains("line 5") && e.contains("training.beta_1"), "{e}");
        let e = err("[model]\nhidden = \"ten\"\nactivation = \"relu\"\n");
        assert!(e.contains("line 2") && e.contains("model.hidden"), "{e}");
        assert!(err("[model\nhidden = 10").contains("line 1"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 1000, ..Default::default() })]

        /// Arbitrary text never panics the parser; whatever it accepts is valid.
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            if let Ok(config) = parse(&text, "fuzz") {
                proptest::prop_assert!(config.validate().is_ok());
            }
        }

        /// Any numbers in a well-formed file are accepted only when valid, naming the field otherwise.
        #[test]
        fn numeric_fields_are_validated(hidden in 0usize..10_000, dropout in -1.0f64..2.0, noise in -1.0f64..2.0,
                                        epochs in 0usize..5, batch in 0usize..5) {
            let text = format!(
                "[model]\nhidden = {hidden}\nactivation = \"relu\"\ndropout = {dropout:?}\n[data]\nnoise = {noise:?}\n[training]\nepochs = {epochs}\nbatch_size = {batch}\n"
            );
            let valid = (1..=model::MAX_HIDDEN).contains(&hidden) && (0.0..1.0).contains(&dropout)
                && (0.0..1.0).contains(&noise) && epochs > 0 && batch > 0;
            match parse(&text, "fuzz") {
                Ok(_) => proptest::prop_assert!(valid, "accepted {text}"),
                Err(e) => {
                    let e = e.to_string();
                    proptest::prop_assert!(!valid, "rejected {text}: {e}");
                    proptest::prop_assert!(["model.hidden", "model.dropout", "data.noise", "training.epochs", "training.batch_size"]
                        .iter().any(|f| e.contains(f)), "{e}");
                }
            }
        }
    }
}
