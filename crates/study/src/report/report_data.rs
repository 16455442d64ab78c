//! The report's data: a row per run, the fine-tuning comparison, the whole report (also written
//! as `report.json`).

use analysis::{CaseNumbers, CodeMapSummary};
use serde::{Serialize, Serializer};

/// One row of the report: a run, its logged losses and the numbers measured on it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseReport {
    /// Run directory name (`case1`, `case1-hidden-dropout`, `case1-seed2`).
    pub name: String,
    /// The run it is a seed of (`case1` for `case1-seed2`).
    pub run: String,
    /// Its seed.
    pub seed: u64,
    /// The case's description.
    pub description: String,
    /// The configuration summary.
    pub summary: String,
    /// Hidden units.
    pub hidden: usize,
    /// Whether dropout follows the output layer in training.
    pub output_dropout: bool,
    /// Dropout probability.
    pub dropout: f64,
    /// Masking-noise ratio.
    pub noise: f64,
    /// Epochs trained.
    pub epochs: usize,
    /// Training images per epoch.
    pub train_images: usize,
    /// The backend that trained it (absent for runs saved before it was recorded).
    pub backend: Option<String>,
    /// Final mean training loss (with dropout active, as logged).
    pub train_loss: f64,
    /// Final test MSE as logged by the learner.
    pub logged_test_mse: f64,
    /// Seconds of training and evaluation, summed over epochs.
    pub seconds: f64,
    /// Measured numbers.
    pub numbers: CaseNumbers,
    /// Linear-probe test accuracy on the frozen hidden codes.
    pub probe_accuracy: f64,
    /// The map of the test images' codes (`codes.png`).
    pub codes: CodeMapSummary,
    /// Figures, relative to the report directory.
    pub figures: Vec<String>,
}

/// Fine-tuning of a `784 → n → 10` network from an autoencoder's first layer vs from random.
#[derive(Debug, Clone, Serialize)]
pub struct FineTune {
    /// The autoencoder whose encoder initialises the pretrained network.
    pub source: String,
    /// Hidden units.
    pub hidden: usize,
    /// Epochs per run.
    pub epochs: usize,
    /// Training images.
    pub train_images: usize,
    /// Test accuracy per seed, from the autoencoder's first layer.
    pub pretrained: Vec<f64>,
    /// Test accuracy per seed, from the study's random initialisation.
    pub random: Vec<f64>,
}

/// The whole report's data, also written as `report.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Quick (smoke-test) mode.
    pub quick: bool,
    /// Seeds per run.
    pub seeds: u64,
    /// The machine that measured.
    pub machine: String,
    /// Pixels counted in the filter-structure measure (see [`analysis::active_pixels`]).
    pub active_pixels: usize,
    /// The structure measure's calibration: its threshold and how known tiles fall against it
    /// (drawn in `structure-calibration.png`).
    pub calibration: analysis::CalibrationSummary,
    /// One row per available run, cases first.
    pub cases: Vec<CaseReport>,
    /// Planned runs that were not available (when only finished runs are reused).
    pub missing: Vec<String>,
    /// Linear-probe accuracy on raw pixels, for reference.
    pub pixel_probe_accuracy: f64,
    /// Probe epochs.
    pub probe_epochs: usize,
    /// Fine-tuning comparison, when case 1 is available.
    pub fine_tune: Option<FineTune>,
    /// The study's claims, judged on every seed.
    pub claims: Vec<Claim>,
    /// Axes swept under the same artifacts directory (their page is `../sweep/index.html`).
    pub sweep_axes: usize,
    /// Seconds of the epochs trained in this invocation.
    pub training_seconds: f64,
    /// Seconds spent measuring and drawing.
    pub analysis_seconds: f64,
}

/// What a verdict says of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictKind {
    /// The numbers support the claim.
    Supported,
    /// They support part of it; the rest they contradict or cannot measure.
    Partly,
    /// They do not.
    NotSupported,
    /// Not judged here (the verdict points to where it is discussed).
    Note,
}

/// A verdict on a claim: its kind, and the words that say it (`supported: case1 is more
/// structured`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Supported, not supported, or a note.
    pub kind: VerdictKind,
    /// The whole verdict as the report prints it.
    pub text: String,
    /// What it says that does not depend on where its numbers fall (a reading of one of them),
    /// kept where seeds disagree on the verdict and agree on this.
    pub shared: Option<String>,
}

impl Verdict {
    /// `supported: {yes}` when `holds`, else `not supported: {no}`.
    pub(super) fn judge(holds: bool, yes: &str, no: &str) -> Self {
        if holds {
            Self::supported(&format!("supported: {yes}"))
        } else {
            Self::not_supported(&format!("not supported: {no}"))
        }
    }

    pub(super) fn supported(text: &str) -> Self {
        Self {
            kind: VerdictKind::Supported,
            text: text.into(),
            shared: None,
        }
    }

    pub(super) fn partly(text: &str) -> Self {
        Self {
            kind: VerdictKind::Partly,
            text: text.into(),
            shared: None,
        }
    }

    pub(super) fn not_supported(text: &str) -> Self {
        Self {
            kind: VerdictKind::NotSupported,
            text: text.into(),
            shared: None,
        }
    }

    pub(super) fn note(text: &str) -> Self {
        Self {
            kind: VerdictKind::Note,
            text: text.into(),
            shared: None,
        }
    }
}

impl Verdict {
    /// The same verdict, with what it says whatever its numbers (see [`Verdict::shared`]).
    pub(super) fn sharing(self, shared: &str) -> Self {
        Self {
            shared: Some(shared.into()),
            ..self
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Verdict {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One verdict for every seed of a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Combined {
    /// Every seed gives a verdict of the same kind: the first seed's, for `seeds` of `of` seeds.
    Agreed {
        /// Seed 0's verdict.
        verdict: Verdict,
        /// Seeds that judged it.
        seeds: usize,
        /// Seeds of the report.
        of: usize,
    },
    /// The seeds disagree.
    Mixed {
        /// Seeds that support it.
        supported: usize,
        /// Seeds that support part of it.
        partly: usize,
        /// Seeds that judged it.
        of: usize,
        /// What every seed's verdict says alike, if anything.
        shared: Option<String>,
    },
    /// Judged once (the fine-tuning, which has seeds of its own), or a note: as it is.
    Single(Verdict),
}

impl std::fmt::Display for Combined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Combined::Agreed { verdict, seeds, of } => {
                write!(
                    f,
                    "{verdict} (the verdict of {seeds} of {of} seeds; seed 0's numbers)"
                )
            }
            Combined::Mixed {
                supported,
                partly,
                of,
                shared,
            } => {
                write!(f, "mixed: supported in {supported} of {of} seeds")?;
                if *partly > 0 {
                    write!(f, ", partly in {partly}")?;
                }
                match shared {
                    Some(shared) => write!(f, "; in every seed, {shared}"),
                    None => Ok(()),
                }
            }
            Combined::Single(verdict) => write!(f, "{verdict}"),
        }
    }
}

impl Serialize for Combined {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What a claim is about: which sweeps bear on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Topic {
    /// Case 1's share of stroke-like first-layer tiles.
    Strokes,
    /// Dropout and stroke-like first-layer tiles.
    Dropout,
    /// A wide network copying its input.
    Copying,
    /// Sigmoid against ReLU.
    Activation,
    /// A good reconstruction from few units.
    Efficiency,
    /// Denoising features in the second layer.
    SecondLayer,
    /// Pretraining for a classifier.
    FineTuning,
    /// Output dropout and the output's brightness.
    OutputDropout,
}

/// One of the study's claims, judged on every seed.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    /// What it is about.
    pub topic: Topic,
    /// The claim, in the study's words.
    pub claim: String,
    /// The numbers that bear on it, for seed 0.
    pub numbers: String,
    /// The verdict over all seeds.
    pub verdict: Combined,
    /// Each seed's numbers and verdict.
    pub seeds: Vec<SeedVerdict>,
    /// What the sweeps under the same artifacts say of it (`hidden units around case 1: …`).
    pub sweep: Vec<String>,
}

/// A claim's numbers and verdict for one seed.
#[derive(Debug, Clone, Serialize)]
pub struct SeedVerdict {
    /// The seed.
    pub seed: u64,
    /// The numbers.
    pub numbers: String,
    /// The verdict.
    pub verdict: Verdict,
}
