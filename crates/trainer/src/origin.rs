//! How a run's model came to be: trained here for its epochs, or imported from a file trained
//! elsewhere (its `provenance.json`). Whatever shows a run says which, and never shows an
//! imported run's `config.json` epochs (0) as training.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::TrainingConfig;
use crate::layout::PROVENANCE_FILE;
use crate::wording::count;

/// Where an imported run's model came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The file it was imported from (its absolute path, so that the import can be repeated).
    pub source: String,
    /// That file's SHA-256.
    pub sha256: String,
    /// Its format.
    pub format: String,
    /// The model's test MSE, measured when it was imported (noised inputs where the run's
    /// configuration adds noise).
    pub test_mse: f64,
    /// The SHA-256 of the `model.bpk` written: the run is coherent while it matches.
    pub model_sha256: String,
}

impl Provenance {
    /// The source file's name, without its directory (what figures and the page show).
    pub fn file_name(&self) -> String {
        Path::new(&self.source)
            .file_name()
            .map_or_else(|| self.source.clone(), |n| n.to_string_lossy().into_owned())
    }

    /// The provenance of the imported run in `dir`, if it is one.
    pub fn of_run(dir: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(dir.join(PROVENANCE_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }
}

/// How a run's model came to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// Trained here, for its configuration's epochs.
    Trained {
        /// The epochs.
        epochs: usize,
    },
    /// Imported from a file.
    Imported(Provenance),
}

impl Origin {
    /// The origin of the run in `dir` of configuration `config`.
    pub fn of_run(dir: &Path, config: &TrainingConfig) -> Self {
        match Provenance::of_run(dir) {
            Some(provenance) => Origin::Imported(provenance),
            None => Origin::Trained {
                epochs: config.epochs,
            },
        }
    }

    /// `20 epochs`, or `imported from tiny.pt (pytorch)`.
    pub fn short(&self) -> String {
        match self {
            Origin::Trained { epochs } => count(*epochs, "epoch"),
            Origin::Imported(p) => format!("imported from {} ({})", p.file_name(), p.format),
        }
    }

    /// The run in one line: `Sigmoid, 100 hidden, noise 0.2, 20 epochs`, or for an import
    /// `Sigmoid, 8 hidden, imported from tiny.pt (pytorch), test MSE 0.05601`.
    pub fn summary(&self, config: &TrainingConfig) -> String {
        match self {
            Origin::Trained { .. } => format!("{}, {}", config.model_summary(), self.short()),
            Origin::Imported(p) => format!(
                "{}, {}, test MSE {:.5}",
                config.model_summary(),
                self.short(),
                p.test_mse
            ),
        }
    }
}
