//! Live and dead hidden units measured apart: each unit's tiles (its w1 and w2ᵀ weights as 28 × 28
//! images), whether it is ever active on a set of inputs, and how far its weights moved from
//! their initial values during training.

use model::Autoencoder;
use serde::Serialize;

use crate::image_sets::Images;
use crate::structure::{FilterStructure, FilterSummary, median, ratios};

/// Every hidden unit of a model: live or dead, its tiles' structure ratios, and how far they
/// moved from the start.
#[derive(Debug, Clone, Default)]
pub struct UnitTiles {
    /// Whether the unit is active (code > 0) on at least one input.
    pub live: Vec<bool>,
    /// Its w1 tile's structure ratio.
    pub w1_ratio: Vec<f64>,
    /// Its w2ᵀ tile's structure ratio.
    pub w2t_ratio: Vec<f64>,
    /// `‖w1 − w1₀‖ / ‖w1₀‖` of its 784 input weights (NaN where the start is unknown).
    pub w1_moved: Vec<f64>,
    /// The same of its 784 output weights.
    pub w2t_moved: Vec<f64>,
}

/// One group of units (the live or the dead ones).
#[derive(Debug, Clone, Serialize)]
pub struct UnitGroup {
    /// How many units.
    pub units: usize,
    /// Their w1 tiles' structure.
    pub w1: FilterSummary,
    /// Their w2ᵀ tiles' structure.
    pub w2t: FilterSummary,
    /// The median relative change of their w1 weights from the start.
    pub w1_moved: f64,
    /// The same of their w2ᵀ weights.
    pub w2t_moved: f64,
}

/// The live and the dead units of a model, apart.
#[derive(Debug, Clone, Serialize)]
pub struct LiveAndDead {
    /// Units active on at least one test input.
    pub live: UnitGroup,
    /// Units never active on a test input.
    pub dead: UnitGroup,
}

impl UnitTiles {
    /// The units of `model` (trained from `initial`, when known: else how far they moved is NaN)
    /// on `inputs`, their tiles measured over the `active` pixels.
    pub fn of(
        model: &Autoencoder,
        initial: Option<&Autoencoder>,
        inputs: &Images,
        active: &[bool],
    ) -> Self {
        let peaks = unit_peaks(model, inputs);
        let (w1, w2t) = (model.encoder_filters(), model.decoder_filters());
        let moved = |now: &[Vec<f32>], start: Option<Vec<Vec<f32>>>| -> Vec<f64> {
            match start {
                Some(start) => now
                    .iter()
                    .zip(&start)
                    .map(|(a, b)| relative_change(a, b))
                    .collect(),
                None => vec![f64::NAN; now.len()],
            }
        };
        Self {
            live: peaks.iter().map(|&peak| peak > 0.0).collect(),
            w1_ratio: ratios(&w1, data::SIDE, active),
            w2t_ratio: ratios(&w2t, data::SIDE, active),
            w1_moved: moved(&w1, initial.map(Autoencoder::encoder_filters)),
            w2t_moved: moved(&w2t, initial.map(Autoencoder::decoder_filters)),
        }
    }

    /// The units that are live (`true`) or dead (`false`), summarised; tiles below `threshold`
    /// count as structured.
    pub fn group(&self, live: bool, threshold: f64) -> UnitGroup {
        let pick = |values: &[f64]| -> Vec<f64> {
            values
                .iter()
                .zip(&self.live)
                .filter(|(_, l)| **l == live)
                .map(|(v, _)| *v)
                .collect()
        };
        UnitGroup {
            units: self.live.iter().filter(|l| **l == live).count(),
            w1: FilterStructure::from_ratios(&pick(&self.w1_ratio), threshold).into(),
            w2t: FilterStructure::from_ratios(&pick(&self.w2t_ratio), threshold).into(),
            w1_moved: median(&pick(&self.w1_moved)),
            w2t_moved: median(&pick(&self.w2t_moved)),
        }
    }

    /// Live and dead units apart.
    pub fn live_and_dead(&self, threshold: f64) -> LiveAndDead {
        LiveAndDead {
            live: self.group(true, threshold),
            dead: self.group(false, threshold),
        }
    }
}

/// `‖a − b‖ / ‖b‖` (infinite when `b` is zero and `a` is not).
pub fn relative_change(a: &[f32], b: &[f32]) -> f64 {
    let squares = |v: &mut dyn Iterator<Item = f64>| v.map(|x| x * x).sum::<f64>().sqrt();
    let change = squares(&mut a.iter().zip(b).map(|(x, y)| f64::from(*x) - f64::from(*y)));
    let start = squares(&mut b.iter().map(|&y| f64::from(y)));
    match (change, start) {
        (c, _) if c == 0.0 => 0.0,
        (c, s) => c / s,
    }
}

/// Each hidden unit's largest code over `inputs`: above 0 for a unit that is ever active.
pub fn unit_peaks(model: &Autoencoder, inputs: &Images) -> Vec<f32> {
    model
        .codes(&inputs.pixels)
        .max_dim(0)
        .into_data()
        .try_to_vec()
        .expect("f32 codes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::prelude::*;
    use model::{Activation, AutoencoderConfig};

    #[test]
    fn units_never_active_are_dead_and_unmoved_weights_moved_nothing() {
        let device = Device::flex();
        device.seed(3);
        let model = AutoencoderConfig::new(6, Activation::Relu).init(&device);
        // Units 0 and 1 can never fire on inputs in [0, 1]: their weights and biases are ≤ 0.
        let mut initial = model.clone();
        let weight: Vec<f32> = initial
            .encoder
            .weight
            .val()
            .into_data()
            .try_to_vec()
            .unwrap();
        let dead: Vec<f32> = weight
            .iter()
            .enumerate()
            .map(|(i, &w)| {
                if i % 6 < 2 {
                    -w.abs() - 0.1
                } else {
                    w.abs() + 0.1
                }
            })
            .collect();
        initial.encoder.weight = burn::module::Param::from_tensor(Tensor::from_data(
            TensorData::new(dead, [784, 6]),
            &device,
        ));
        let inputs = Images::new(vec![0.5; 3 * 784], &device);
        let units = UnitTiles::of(&initial, Some(&initial), &inputs, &[true; 784]);
        assert_eq!(units.live, [false, false, true, true, true, true]);
        assert!(units.w1_moved.iter().all(|&m| m == 0.0));
        let groups = units.live_and_dead(0.9);
        assert_eq!((groups.live.units, groups.dead.units), (4, 2));
        // Against the other start, every unit moved.
        let units = UnitTiles::of(&initial, Some(&model), &inputs, &[true; 784]);
        assert!(
            units.w1_moved.iter().all(|&m| m > 0.1),
            "{:?}",
            units.w1_moved
        );
        let unknown = UnitTiles::of(&initial, None, &inputs, &[true; 784]);
        assert!(unknown.live_and_dead(0.9).live.w1_moved.is_nan());
        assert_eq!(relative_change(&[2.0, 0.0], &[1.0, 0.0]), 1.0);
    }
}
