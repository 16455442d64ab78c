//! A sweep's results: per axis, per point, per seed the report's measurements; also written as
//! `sweep.json`, which later sweeps and the report read back.

use serde::{Deserialize, Serialize};

use super::sweep_plan::AxisKind;

/// The report's measurements of one run of a point.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PointNumbers {
    /// The run directory's name.
    pub run: String,
    /// Its seed.
    pub seed: u64,
    /// Test MSE (no dropout), on the run's own (noised) test inputs.
    pub test_mse: f64,
    /// Test MSE of PCA with as many components as hidden units, on the same inputs.
    pub pca_mse: f64,
    /// The last epoch's mean training loss, as logged (dropout active).
    pub train_loss: f64,
    /// The identity test: reconstruction error on uniform noise ÷ on digits (low: it copies).
    pub identity_ratio: f64,
    /// A constant output's (the training mean image's) ratio on the same images (NaN in a
    /// record written before it was measured).
    #[serde(default = "not_measured")]
    pub constant_ratio: f64,
    /// Share of structured first-layer tiles (w1).
    pub w1_structured: f64,
    /// Share of structured second-layer tiles (w2ᵀ).
    pub w2t_structured: f64,
    /// Linear-probe test accuracy on the codes.
    pub probe_accuracy: f64,
    /// Hidden units never active on the test set.
    pub dead_units: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Mean output ÷ mean target intensity on the test set.
    pub brightness: f64,
    /// Seconds of training and evaluation, summed over epochs.
    pub seconds: f64,
}

fn not_measured() -> f64 {
    f64::NAN
}

/// One value of an axis: its runs' numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PointReport {
    /// The value as the axis shows it.
    pub label: String,
    /// Its position on the axis.
    pub position: f64,
    /// Whether it is the base case's own value.
    pub is_base: bool,
    /// One entry per seed.
    pub seeds: Vec<PointNumbers>,
}

/// One sentence a sweep states from its numbers, and what it measures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    /// The measurement it is about.
    pub measure: Measure,
    /// The sentence.
    pub text: String,
}

/// One axis of a sweep: its points, how they trained, and what the numbers say.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AxisReport {
    /// `case7-hidden-e5-s1` (also the folder of its figures).
    pub id: String,
    /// The machine that measured it.
    pub machine: String,
    /// The study case it varies.
    pub base: usize,
    /// The setting varied.
    pub axis: AxisKind,
    /// Epochs per run.
    pub epochs: usize,
    /// Training images per epoch.
    pub train_images: usize,
    /// Seeds per point.
    pub seeds: u64,
    /// Linear-probe accuracy on raw pixels, for reference.
    pub pixel_probe_accuracy: f64,
    /// A probe's accuracy by chance: the most common test digit's share (NaN in a record
    /// written before it was measured).
    #[serde(default = "not_measured")]
    pub chance_accuracy: f64,
    /// The points, in the order given.
    pub points: Vec<PointReport>,
    /// What the numbers say.
    pub findings: Vec<Finding>,
    /// Figures, relative to the sweep directory, one per measurement in [`Measure::ALL`] order.
    pub figures: Vec<String>,
}

/// Every axis swept so far under one artifacts directory (`sweep.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SweepReport {
    /// The axes, in the order they were first swept.
    pub axes: Vec<AxisReport>,
}

/// What a sweep's figure and table show of each point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Measure {
    /// Test MSE, beside PCA's with as many components.
    TestMse,
    /// Final training loss.
    TrainLoss,
    /// The identity test's ratio.
    IdentityRatio,
    /// Structured w1 tiles.
    W1Structure,
    /// Structured w2ᵀ tiles.
    W2tStructure,
    /// Linear-probe accuracy.
    ProbeAccuracy,
    /// Dead hidden units, as a share of the hidden units.
    DeadUnits,
    /// Output ÷ target brightness.
    Brightness,
    /// Training seconds.
    Seconds,
}

/// Below this identity-test ratio a network reconstructs noise about as well as digits: it
/// copies. The report's line, the same constant.
pub use analysis::COPIES_BELOW as COPYING_RATIO;
use analysis::{IdentityReading, learned_digits_from};

impl Measure {
    /// Every measurement, in the page's order.
    pub const ALL: [Measure; 9] = [
        Measure::TestMse,
        Measure::TrainLoss,
        Measure::IdentityRatio,
        Measure::W1Structure,
        Measure::W2tStructure,
        Measure::ProbeAccuracy,
        Measure::DeadUnits,
        Measure::Brightness,
        Measure::Seconds,
    ];

    /// Its title on the page and its axis label.
    pub fn title(self) -> &'static str {
        match self {
            Measure::TestMse => "test MSE (PCA-n dashed)",
            Measure::TrainLoss => "final training loss",
            Measure::IdentityRatio => "identity test: noise ÷ digit error",
            Measure::W1Structure => "structured w1 tiles",
            Measure::W2tStructure => "structured w2ᵀ tiles",
            Measure::ProbeAccuracy => "linear-probe accuracy",
            Measure::DeadUnits => "dead hidden units (share)",
            Measure::Brightness => "output ÷ target brightness",
            Measure::Seconds => "training seconds",
        }
    }

    /// Its file name stem (`test-mse`).
    pub fn file_stem(self) -> &'static str {
        match self {
            Measure::TestMse => "test-mse",
            Measure::TrainLoss => "train-loss",
            Measure::IdentityRatio => "identity-ratio",
            Measure::W1Structure => "w1-structure",
            Measure::W2tStructure => "w2t-structure",
            Measure::ProbeAccuracy => "probe-accuracy",
            Measure::DeadUnits => "dead-units",
            Measure::Brightness => "brightness",
            Measure::Seconds => "seconds",
        }
    }

    /// Its value for one run.
    pub fn value(self, n: &PointNumbers) -> f64 {
        match self {
            Measure::TestMse => n.test_mse,
            Measure::TrainLoss => n.train_loss,
            Measure::IdentityRatio => n.identity_ratio,
            Measure::W1Structure => n.w1_structured,
            Measure::W2tStructure => n.w2t_structured,
            Measure::ProbeAccuracy => n.probe_accuracy,
            Measure::DeadUnits => n.dead_units as f64 / n.hidden.max(1) as f64,
            Measure::Brightness => n.brightness,
            Measure::Seconds => n.seconds,
        }
    }

    /// The constants it is read against on its figure (dotted lines), and those lines' names.
    pub fn references(self, axis: &AxisReport) -> Vec<(f64, String)> {
        match self {
            Measure::IdentityRatio => {
                let mut lines = vec![(COPYING_RATIO, format!("{COPYING_RATIO}: copies"))];
                let learned = learned_digits_from(axis.constant_ratio());
                if learned.is_finite() {
                    lines.push((
                        learned,
                        format!("{learned:.2}: learned digits (a constant output + 10 %)"),
                    ));
                }
                lines
            }
            Measure::ProbeAccuracy => {
                let pixels = axis.pixel_probe_accuracy;
                vec![(pixels, format!("raw pixels {:.1} %", 100.0 * pixels))]
            }
            Measure::Brightness => vec![(1.0, "1: as bright as the digits".into())],
            _ => Vec::new(),
        }
    }

    /// Whether it is a share, shown in per cent.
    pub fn is_share(self) -> bool {
        matches!(
            self,
            Measure::W1Structure
                | Measure::W2tStructure
                | Measure::ProbeAccuracy
                | Measure::DeadUnits
        )
    }

    /// `value` as the page shows it.
    pub fn format(self, value: f64) -> String {
        match self {
            _ if self.is_share() => format!("{:.1} %", 100.0 * value),
            Measure::TestMse | Measure::TrainLoss => format!("{value:.5}"),
            Measure::Seconds => format!("{value:.0}"),
            _ => format!("{value:.2}"),
        }
    }
}

impl AxisReport {
    /// A constant output's identity ratio: the mean over every run of the axis (the same images
    /// for all; NaN where not measured).
    pub fn constant_ratio(&self) -> f64 {
        let ratios: Vec<f64> = self
            .points
            .iter()
            .flat_map(|p| p.seeds.iter().map(|n| n.constant_ratio))
            .collect();
        match ratios.is_empty() {
            true => f64::NAN,
            false => analysis::mean_and_spread(&ratios).0,
        }
    }
}

impl PointReport {
    /// What the identity test says of the point: its mean ratio against its runs' constant
    /// output's.
    pub fn identity_reading(&self) -> IdentityReading {
        let constant: Vec<f64> = self.seeds.iter().map(|n| n.constant_ratio).collect();
        IdentityReading::of(
            self.mean_and_spread(Measure::IdentityRatio).0,
            analysis::mean_and_spread(&constant).0,
        )
    }

    /// The mean of `measure` over the seeds, and its standard deviation.
    pub fn mean_and_spread(&self, measure: Measure) -> (f64, f64) {
        let values: Vec<f64> = self.seeds.iter().map(|n| measure.value(n)).collect();
        analysis::mean_and_spread(&values)
    }

    /// The mean PCA-n test MSE over the seeds (PCA-n sees the same inputs as the point).
    pub fn pca_mse(&self) -> f64 {
        let values: Vec<f64> = self.seeds.iter().map(|n| n.pca_mse).collect();
        analysis::mean_and_spread(&values).0
    }
}
