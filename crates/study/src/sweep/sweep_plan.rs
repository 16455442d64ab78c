//! What a sweep varies: one setting of a study case (its axis) over a list of values, each value
//! a point trained as an ordinary run per seed; and the default set of sweeps.

use model::Activation;
use serde::{Deserialize, Serialize};

use crate::study_error::Result;
use trainer::cases::{CASE_COUNT, case};
use trainer::config::{Placement, TrainingConfig, activation_name};

/// The study case a sweep varies when none is named.
pub const DEFAULT_BASE: usize = 7;
/// Epochs of each point when none are given: the default sweep's budget (see BENCHMARKS.md).
pub const DEFAULT_EPOCHS: usize = 10;
/// The study's own training length.
pub const STUDY_EPOCHS: usize = 20;
/// Most hidden units a point may have.
pub use model::MAX_HIDDEN;
/// Dropout probability of a point whose base case has none.
pub const DEFAULT_DROPOUT: f64 = 0.5;
/// Hidden sizes of the default sweep.
pub const DEFAULT_HIDDEN: [usize; 8] = [16, 32, 64, 100, 200, 400, 784, 1000];
/// Noise ratios of the default sweep.
pub const DEFAULT_NOISE: [f64; 6] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5];

/// Which setting an axis varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AxisKind {
    /// Hidden units.
    Hidden,
    /// Masking-noise ratio.
    Noise,
    /// Where dropout acts.
    Dropout,
    /// The hidden layer's activation.
    Activation,
}

impl AxisKind {
    /// Its name in words and file names (`hidden`).
    pub fn name(self) -> &'static str {
        match self {
            AxisKind::Hidden => "hidden",
            AxisKind::Noise => "noise",
            AxisKind::Dropout => "dropout",
            AxisKind::Activation => "activation",
        }
    }

    /// What its values are, for an axis label (`hidden units`).
    pub fn quantity(self) -> &'static str {
        match self {
            AxisKind::Hidden => "hidden units",
            AxisKind::Noise => "masking-noise ratio",
            AxisKind::Dropout => "dropout placement",
            AxisKind::Activation => "activation",
        }
    }
}

/// One setting over a list of values.
#[derive(Debug, Clone, PartialEq)]
pub enum Axis {
    /// Hidden units, each 1–[`MAX_HIDDEN`].
    Hidden(Vec<usize>),
    /// Masking-noise ratios, each in [0, 1).
    Noise(Vec<f64>),
    /// Dropout placements.
    Dropout(Vec<Placement>),
    /// Activations.
    Activation(Vec<Activation>),
}

/// Why a sweep cannot be planned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SweepError {
    /// No values.
    #[error("the {axis} list is empty")]
    Empty {
        /// The axis.
        axis: &'static str,
    },
    /// A value twice.
    #[error("the {axis} list has {value} twice")]
    Duplicate {
        /// The axis.
        axis: &'static str,
        /// The value.
        value: String,
    },
    /// A value outside the axis's range.
    #[error("{axis} {value} is out of range: {range}")]
    OutOfRange {
        /// The axis.
        axis: &'static str,
        /// The value.
        value: String,
        /// The range allowed.
        range: String,
    },
    /// Not a study case.
    #[error("unknown case {0}: the study has cases 1 to {max}", max = CASE_COUNT)]
    UnknownBase(usize),
}

/// A sweep: study case `base` with one setting varied along `axis`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// The study case.
    pub base: usize,
    /// The setting varied and its values.
    pub axis: Axis,
}

/// One value of a sweep: its label, where it sits on the axis, and its run per seed.
#[derive(Debug, Clone)]
pub struct Point {
    /// The value as the axis shows it (`100`, `0.2`, `hidden+output`).
    pub label: String,
    /// Its position on the axis: log₂ of hidden units, the noise ratio, or the value's index.
    pub position: f64,
    /// Whether it is the base case's own value.
    pub is_base: bool,
    /// Its runs, one per seed (seed 0 first).
    pub configs: Vec<TrainingConfig>,
}

/// How every point trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointTraining {
    /// Epochs per run.
    pub epochs: usize,
    /// Seeds per point, 0..seeds.
    pub seeds: u64,
    /// The first `limit` training images only.
    pub limit: Option<usize>,
}

impl Sweep {
    /// A sweep of study case `base` along `axis`, its values checked: none twice, each in range.
    pub fn new(base: usize, axis: Axis) -> std::result::Result<Self, SweepError> {
        if !(1..=CASE_COUNT).contains(&base) {
            return Err(SweepError::UnknownBase(base));
        }
        let kind = axis.kind().name();
        let labels = axis.labels();
        if labels.is_empty() {
            return Err(SweepError::Empty { axis: kind });
        }
        for (i, label) in labels.iter().enumerate() {
            if labels[..i].contains(label) {
                let value = label.clone();
                return Err(SweepError::Duplicate { axis: kind, value });
            }
        }
        axis.check_ranges()?;
        Ok(Self { base, axis })
    }

    /// The default set: hidden units around case 7 and case 1, noise around case 7, dropout
    /// placement around case 5.
    pub fn defaults() -> Vec<Sweep> {
        vec![
            Sweep::new(7, Axis::Hidden(DEFAULT_HIDDEN.to_vec())),
            Sweep::new(1, Axis::Hidden(DEFAULT_HIDDEN.to_vec())),
            Sweep::new(7, Axis::Noise(DEFAULT_NOISE.to_vec())),
            Sweep::new(5, Axis::Dropout(Placement::ALL.to_vec())),
        ]
        .into_iter()
        .map(|s| s.expect("the default sweeps are valid"))
        .collect()
    }

    /// The smoke test's sweep: three hidden sizes around case 7 (its own 100 among them).
    pub fn quick() -> Sweep {
        Sweep::new(7, Axis::Hidden(vec![16, 64, 100])).expect("the quick sweep is valid")
    }

    /// The sweep's points, each with a run per seed trained as `training` says.
    pub fn points(&self, training: PointTraining) -> Result<Vec<Point>> {
        let base = case(self.base)?;
        let mut points = Vec::new();
        for (index, label) in self.axis.labels().into_iter().enumerate() {
            let config = self.axis.apply(index, base.clone());
            let position = match &self.axis {
                Axis::Hidden(values) => (values[index] as f64).log2(),
                Axis::Noise(values) => values[index],
                _ => index as f64,
            };
            let is_base = model_and_noise(&config) == model_and_noise(&base);
            let configs = (0..training.seeds)
                .map(|seed| point_config(self.base, &base, &config, training, seed))
                .collect();
            points.push(Point {
                label,
                position,
                is_base,
                configs,
            });
        }
        Ok(points)
    }

    /// The name of the sweep trained as `training` on its page and in file names
    /// (`case7-hidden-e5-s1`, `case7-hidden-e1-n2000-s1`): an axis swept again with other
    /// epochs, images or seeds is another axis on the page.
    pub fn id(&self, training: PointTraining) -> String {
        let limit = training.limit.map(|n| format!("-n{n}")).unwrap_or_default();
        format!(
            "case{}-{}-e{}{limit}-s{}",
            self.base,
            self.axis.kind().name(),
            training.epochs,
            training.seeds
        )
    }
}

impl Axis {
    /// Which setting it varies.
    pub fn kind(&self) -> AxisKind {
        match self {
            Axis::Hidden(_) => AxisKind::Hidden,
            Axis::Noise(_) => AxisKind::Noise,
            Axis::Dropout(_) => AxisKind::Dropout,
            Axis::Activation(_) => AxisKind::Activation,
        }
    }

    /// Its values as text.
    fn labels(&self) -> Vec<String> {
        match self {
            Axis::Hidden(v) => v.iter().map(|n| n.to_string()).collect(),
            Axis::Noise(v) => v.iter().map(|r| r.to_string()).collect(),
            Axis::Dropout(v) => v.iter().map(|p| p.name().to_string()).collect(),
            Axis::Activation(v) => v.iter().map(|&a| activation_name(a).into()).collect(),
        }
    }

    fn check_ranges(&self) -> std::result::Result<(), SweepError> {
        let out = |value: String, range: &str| SweepError::OutOfRange {
            axis: self.kind().name(),
            value,
            range: range.to_string(),
        };
        match self {
            Axis::Hidden(v) => match v.iter().find(|&&n| !(1..=MAX_HIDDEN).contains(&n)) {
                Some(n) => Err(out(
                    n.to_string(),
                    &format!("hidden units are 1 to {MAX_HIDDEN}"),
                )),
                None => Ok(()),
            },
            Axis::Noise(v) => match v.iter().find(|&&r| !(0.0..1.0).contains(&r)) {
                Some(r) => Err(out(
                    r.to_string(),
                    "a noise ratio is at least 0 and below 1",
                )),
                None => Ok(()),
            },
            Axis::Dropout(_) | Axis::Activation(_) => Ok(()),
        }
    }

    /// `config` with this axis's value number `index`.
    fn apply(&self, index: usize, mut config: TrainingConfig) -> TrainingConfig {
        match self {
            Axis::Hidden(v) => config.model.hidden = v[index],
            Axis::Noise(v) => config.noise = v[index],
            Axis::Activation(v) => config.model.activation = v[index],
            Axis::Dropout(v) => {
                let p = config.model.dropout;
                let p = if p > 0.0 { p } else { DEFAULT_DROPOUT };
                // Without dropout, `output_dropout` means nothing: the base case's is kept, so
                // that the point is the base case itself where the case has no dropout.
                (config.model.dropout, config.model.output_dropout) = match v[index] {
                    Placement::None => (0.0, config.model.output_dropout),
                    Placement::Hidden => (p, false),
                    Placement::HiddenOutput => (p, true),
                };
            }
        }
        config
    }
}

/// What a point changes of its base case, as compared for `is_base`.
fn model_and_noise(config: &TrainingConfig) -> (usize, Activation, Placement, u64, String) {
    let m = &config.model;
    let dropout = if m.dropout > 0.0 { m.dropout } else { 0.0 };
    (
        m.hidden,
        m.activation,
        Placement::of(config),
        dropout.to_bits(),
        config.noise.to_string(),
    )
}

/// The run of a point for `seed`: `config` trained as `training` says, named after what it
/// changes of its base case, so that two sweeps share a point they both have
/// (`sweep-case7-e10` for case 7 itself, `sweep-case7-h400-e10-seed1`).
fn point_config(
    base_case: usize,
    base: &TrainingConfig,
    config: &TrainingConfig,
    training: PointTraining,
    seed: u64,
) -> TrainingConfig {
    let mut name = format!("sweep-case{base_case}");
    let (m, b) = (&config.model, &base.model);
    if m.hidden != b.hidden {
        name += &format!("-h{}", m.hidden);
    }
    if m.activation != b.activation {
        name += &format!("-{}", activation_name(m.activation));
    }
    if Placement::of(config) != Placement::of(base) {
        name += &format!(
            "-dropout-{}",
            Placement::of(config).name().replace('+', "-")
        );
    }
    if config.noise != base.noise {
        name += &format!("-noise{}", config.noise);
    }
    name += &format!("-e{}", training.epochs);
    if let Some(limit) = training.limit {
        name += &format!("-n{limit}");
    }
    if seed > 0 {
        name += &format!("-seed{seed}");
    }
    let mut config = config.clone().with_seed(seed).with_epochs(training.epochs);
    config.limit = training.limit;
    config.description = format!("sweep point: {}", config.model_summary());
    config.name = name;
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRAINING: PointTraining = PointTraining {
        epochs: 3,
        seeds: 2,
        limit: Some(500),
    };

    #[test]
    fn points_are_named_after_what_they_change_and_shared_between_sweeps() {
        let hidden = Sweep::new(7, Axis::Hidden(vec![16, 100])).unwrap();
        let noise = Sweep::new(7, Axis::Noise(vec![0.2, 0.5])).unwrap();
        let h = hidden.points(TRAINING).unwrap();
        let n = noise.points(TRAINING).unwrap();
        assert_eq!(h[0].configs[0].name, "sweep-case7-h16-e3-n500");
        assert_eq!(h[0].configs[1].name, "sweep-case7-h16-e3-n500-seed1");
        assert_eq!(h[0].configs[1].seed, 1);
        assert_eq!(h[1].configs[0].name, "sweep-case7-e3-n500");
        assert_eq!(n[0].configs[0].name, h[1].configs[0].name);
        assert_eq!(n[1].configs[0].name, "sweep-case7-noise0.5-e3-n500");
        assert_eq!(
            (h[0].is_base, h[1].is_base, n[0].is_base),
            (false, true, true)
        );
        assert_eq!(h[0].position, 4.0);
        let config = &n[1].configs[0];
        assert_eq!(
            (config.noise, config.epochs, config.limit),
            (0.5, 3, Some(500))
        );
        for point in h.iter().chain(&n) {
            trainer::names::check_run_name(&point.configs[0].name).unwrap();
        }
    }

    #[test]
    fn dropout_placements_keep_the_base_probability_or_take_one_half() {
        let sweep = Sweep::new(7, Axis::Dropout(Placement::ALL.to_vec())).unwrap();
        let points = sweep.points(TRAINING).unwrap();
        let placement: Vec<(f64, bool)> = points
            .iter()
            .map(|p| {
                (
                    p.configs[0].model.dropout,
                    p.configs[0].model.output_dropout,
                )
            })
            .collect();
        // Case 7's file says output_dropout = true with no dropout; "none" keeps it.
        assert_eq!(placement, [(0.0, true), (0.5, false), (0.5, true)]);
        assert!(points[0].is_base && !points[2].is_base);
        assert_eq!(
            points[2].configs[0].name,
            "sweep-case7-dropout-hidden-output-e3-n500"
        );
        let case5 = Sweep::new(5, Axis::Dropout(Placement::ALL.to_vec())).unwrap();
        assert!(case5.points(TRAINING).unwrap()[2].is_base);
    }

    #[test]
    fn points_of_one_name_are_one_configuration() {
        let axes = [
            Axis::Hidden(DEFAULT_HIDDEN.to_vec()),
            Axis::Noise(DEFAULT_NOISE.to_vec()),
            Axis::Dropout(Placement::ALL.to_vec()),
            Axis::Activation(vec![Activation::Relu, Activation::Sigmoid]),
        ];
        let mut seen: Vec<TrainingConfig> = Vec::new();
        for base in 1..=CASE_COUNT {
            for axis in &axes {
                let sweep = Sweep::new(base, axis.clone()).unwrap();
                for point in sweep.points(TRAINING).unwrap() {
                    for config in point.configs {
                        let json = |c: &TrainingConfig| serde_json::to_value(c).unwrap();
                        match seen.iter().find(|c| c.name == config.name) {
                            Some(other) => {
                                assert_eq!(json(other), json(&config), "{}", config.name)
                            }
                            None => seen.push(config),
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn bad_lists_are_refused() {
        let refused = |axis| Sweep::new(7, axis).unwrap_err().to_string();
        assert_eq!(refused(Axis::Hidden(vec![])), "the hidden list is empty");
        assert_eq!(
            refused(Axis::Hidden(vec![16, 32, 16])),
            "the hidden list has 16 twice"
        );
        assert!(refused(Axis::Hidden(vec![0])).contains("hidden 0 is out of range"));
        assert!(refused(Axis::Hidden(vec![4097])).contains("out of range"));
        assert!(refused(Axis::Noise(vec![1.0])).contains("noise 1 is out of range"));
        assert!(refused(Axis::Noise(vec![f64::NAN])).contains("out of range"));
        let twice = Axis::Activation(vec![Activation::Relu, Activation::Relu]);
        assert_eq!(refused(twice), "the activation list has relu twice");
        assert!(Sweep::new(8, Axis::Hidden(vec![16])).is_err());
        assert_eq!("hidden+output".parse(), Ok(Placement::HiddenOutput));
        assert!("output".parse::<Placement>().is_err());
        assert_eq!(Sweep::defaults().len(), 4);
    }
}
