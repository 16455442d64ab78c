//! Each hidden unit over a set of images: how its activation is distributed, which images excite
//! it most, and what the decoder draws from it alone.

use burn::prelude::*;
use model::Autoencoder;
use rayon::prelude::*;
use serde::Serialize;

use crate::code_map::code_rows;

/// Images listed per unit as the ones that excite it most.
pub const TOP_IMAGES: usize = 9;
/// Bins of a unit's activation histogram.
pub const HISTOGRAM_BINS: usize = 24;
/// The percentile of a unit's activations it is switched on at, alone, to draw what it means.
pub const ALONE_PERCENTILE: f64 = 99.0;

/// One hidden unit's activations over a set of images.
#[derive(Debug, Clone, Serialize)]
pub struct UnitActivity {
    /// Whether no image lifts it above 0 (a dead ReLU unit; as `dead_units` counts).
    pub dead: bool,
    /// Smallest activation.
    pub min: f32,
    /// Largest activation.
    pub max: f32,
    /// The [`ALONE_PERCENTILE`]th percentile (nearest rank).
    pub p99: f32,
    /// Share of the images with an activation above 0.
    pub active_share: f64,
    /// Image counts in [`HISTOGRAM_BINS`] equal bins from `min` to `max`.
    pub histogram: Vec<usize>,
    /// The [`TOP_IMAGES`] images with the largest activations, largest first (ties: lower index
    /// first), with their activations.
    pub top: Vec<(usize, f32)>,
}

/// Every hidden unit's activations over a set of images (`[N, 784]`, no dropout).
pub fn unit_activity(model: &Autoencoder, images: &Tensor<2>) -> Vec<UnitActivity> {
    let codes = code_rows(model, images);
    let units = model.hidden();
    (0..units)
        .into_par_iter()
        .map(|k| {
            let column: Vec<f32> = codes.iter().skip(k).step_by(units).copied().collect();
            activity(&column)
        })
        .collect()
}

/// The summary of one unit's activations `values` (one per image).
fn activity(values: &[f32]) -> UnitActivity {
    let n = values.len().max(1);
    let (min, max) = values
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let mut sorted = values.to_vec();
    let rank = ((ALONE_PERCENTILE / 100.0 * n as f64).ceil() as usize).clamp(1, n) - 1;
    let p99 = if values.is_empty() {
        0.0
    } else {
        *sorted.select_nth_unstable_by(rank, f32::total_cmp).1
    };
    let mut histogram = vec![0; HISTOGRAM_BINS];
    let width = (max - min) / HISTOGRAM_BINS as f32;
    for &v in values {
        let bin = if width > 0.0 {
            ((v - min) / width) as usize
        } else {
            0
        };
        histogram[bin.min(HISTOGRAM_BINS - 1)] += 1;
    }
    UnitActivity {
        dead: values.iter().all(|&v| v <= 0.0),
        min,
        max,
        p99,
        active_share: values.iter().filter(|&&v| v > 0.0).count() as f64 / n as f64,
        histogram,
        top: largest(values, TOP_IMAGES),
    }
}

/// The `count` largest values with their indices, largest first, ties by lower index.
pub fn largest(values: &[f32], count: usize) -> Vec<(usize, f32)> {
    let mut indexed: Vec<(usize, f32)> = values.iter().copied().enumerate().collect();
    let order = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    let count = count.min(indexed.len());
    if count > 0 && count < indexed.len() {
        indexed.select_nth_unstable_by(count - 1, order);
    }
    indexed.truncate(count);
    indexed.sort_by(order);
    indexed
}

/// What the decoder draws from unit `unit` alone at `level`: the code zero except that unit,
/// decoded (`[784]`).
pub fn unit_alone(model: &Autoencoder, unit: usize, level: f32) -> Vec<f32> {
    let hidden = model.hidden();
    let device = model.decoder.weight.val().device();
    let mut code = vec![0.0; hidden];
    code[unit] = level;
    let code = Tensor::<2>::from_data(TensorData::new(code, [1, hidden]), &device);
    model
        .decode(code)
        .into_data()
        .try_to_vec()
        .expect("f32 image")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_units_summary_counts_ranks_and_bins_its_values() {
        // 0, 0, 1, 2, …, 99: a hundred values, two zeros.
        let mut values: Vec<f32> = vec![0.0; 2];
        values.extend((1..=98).map(|v| v as f32));
        values.swap(5, 90);
        let a = activity(&values);
        assert!(!a.dead);
        assert_eq!((a.min, a.max), (0.0, 98.0));
        assert_eq!(a.p99, 97.0, "nearest rank: the 99th of 100 sorted values");
        assert_eq!(a.active_share, 0.98);
        assert_eq!(a.histogram.iter().sum::<usize>(), 100);
        assert_eq!(a.histogram[HISTOGRAM_BINS - 1], 5, "{:?}", a.histogram);
        assert_eq!(a.top[0], (99, 98.0));
        assert_eq!(a.top.len(), TOP_IMAGES);
        let dead = activity(&[0.0; 10]);
        assert!(dead.dead && dead.p99 == 0.0 && dead.histogram[0] == 10);
        assert!(
            dead.top.iter().map(|t| t.0).eq(0..TOP_IMAGES),
            "ties: lower index first"
        );
    }

    #[test]
    fn largest_is_a_stable_descending_sort_cut_short() {
        let values = [3.0, 9.0, 1.0, 9.0, 4.0, f32::NEG_INFINITY, 7.0];
        assert_eq!(largest(&values, 3), [(1, 9.0), (3, 9.0), (6, 7.0)]);
        assert_eq!(largest(&values, 99).len(), values.len());
        assert!(largest(&[], 3).is_empty());
    }

    #[test]
    fn a_unit_alone_is_the_decoders_bias_plus_its_row() {
        let device = Device::flex();
        device.seed(2);
        let model = model::AutoencoderConfig::new(5, model::Activation::Sigmoid).init(&device);
        let rows = model.decoder_filters();
        let bias = unit_alone(&model, 0, 0.0);
        let alone = unit_alone(&model, 3, 2.0);
        for ((got, b), w) in alone.iter().zip(&bias).zip(&rows[3]) {
            assert!((got - (b + 2.0 * w)).abs() < 1e-6);
        }
    }
}
