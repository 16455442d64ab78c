//! The filter-structure measure calibrated on tiles whose nature is known: the initial weights
//! (pure noise), the principal components of the digits and the digits themselves (structured).
//! The threshold below which a tile counts as structured is read off the noise: the ratio that
//! only [`NOISE_BELOW_THRESHOLD`] of the noise tiles fall below.

use serde::Serialize;

use crate::structure::{median, quantile, ratios};

/// The share of noise tiles that may count as structured: the measure's false-positive rate.
pub const NOISE_BELOW_THRESHOLD: f64 = 0.01;

/// Principal components of the digits used as structured tiles: the first hundred (later ones
/// carry less and less of the digits' variance and look more and more like noise).
pub const CALIBRATION_COMPONENTS: usize = 100;

/// The ratios of the tiles of known nature, and the threshold read off them.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// The initial weights' tiles: noise.
    pub noise: Vec<f64>,
    /// Noise tiles that did not set the threshold (initial weights of another seed): how often
    /// noise passes it out of sample.
    pub held_out: Vec<f64>,
    /// The first [`CALIBRATION_COMPONENTS`] principal components of the training digits.
    pub components: Vec<f64>,
    /// Test digits.
    pub digits: Vec<f64>,
    /// Tiles below this ratio count as structured.
    pub threshold: f64,
}

/// How one group of known tiles falls against the threshold.
#[derive(Debug, Clone, Serialize)]
pub struct KnownTiles {
    /// How many tiles.
    pub tiles: usize,
    /// Their median ratio.
    pub median_ratio: f64,
    /// The share below the threshold (counted as structured).
    pub structured_fraction: f64,
}

/// A [`Calibration`] as the report states it.
#[derive(Debug, Clone, Serialize)]
pub struct CalibrationSummary {
    /// The threshold.
    pub threshold: f64,
    /// The share of noise tiles allowed below it.
    pub noise_share_allowed: f64,
    /// The initial weights' tiles.
    pub noise: KnownTiles,
    /// Noise tiles that did not set the threshold.
    pub held_out: KnownTiles,
    /// The first principal components of the digits.
    pub components: KnownTiles,
    /// Test digits.
    pub digits: KnownTiles,
}

impl Calibration {
    /// Measures the kinds of tiles (each 28 × 28, over the `active` pixels) and sets the
    /// threshold at the [`NOISE_BELOW_THRESHOLD`] quantile of the `noise` tiles' ratios;
    /// `held_out` is more noise, measured against it.
    pub fn new(
        (noise, held_out): (&[Vec<f32>], &[Vec<f32>]),
        components: &[Vec<f32>],
        digits: &[Vec<f32>],
        active: &[bool],
    ) -> Self {
        let side = data::SIDE;
        let noise = ratios(noise, side, active);
        Self {
            threshold: quantile(&noise, NOISE_BELOW_THRESHOLD),
            components: ratios(components, side, active),
            digits: ratios(digits, side, active),
            held_out: ratios(held_out, side, active),
            noise,
        }
    }

    /// The numbers the report states.
    pub fn summary(&self) -> CalibrationSummary {
        let known = |ratios: &[f64]| KnownTiles {
            tiles: ratios.len(),
            median_ratio: median(ratios),
            structured_fraction: share_below(ratios, self.threshold),
        };
        CalibrationSummary {
            threshold: self.threshold,
            noise_share_allowed: NOISE_BELOW_THRESHOLD,
            noise: known(&self.noise),
            held_out: known(&self.held_out),
            components: known(&self.components),
            digits: known(&self.digits),
        }
    }
}

/// The share of `values` below `threshold` (0 when there are none).
pub fn share_below(values: &[f64], threshold: f64) -> f64 {
    match values.len() {
        0 => 0.0,
        n => values.iter().filter(|&&v| v < threshold).count() as f64 / n as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    fn noise(count: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        (0..count)
            .map(|_| (0..784).map(|_| rng.random_range(-1.0f32..1.0)).collect())
            .collect()
    }

    /// Blobs: a Gaussian bump at a place of its own per tile.
    fn blobs(count: usize) -> Vec<Vec<f32>> {
        (0..count)
            .map(|i| {
                let (cx, cy) = ((5 + i % 18) as f32, (5 + (i / 18) % 18) as f32);
                (0..784)
                    .map(|p| {
                        let (x, y) = ((p % 28) as f32, (p / 28) as f32);
                        (-((x - cx).powi(2) + (y - cy).powi(2)) / 18.0).exp()
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn the_threshold_lets_one_percent_of_noise_through_and_catches_blobs() {
        let active = vec![true; 784];
        let calibration = Calibration::new(
            (&noise(2000, 1), &noise(2000, 2)),
            &blobs(50),
            &blobs(30),
            &active,
        );
        let s = calibration.summary();
        assert!((s.noise.structured_fraction - 0.01).abs() <= 0.001, "{s:?}");
        assert!(s.threshold > 0.8 && s.threshold < 1.0, "{s:?}");
        assert_eq!(s.components.structured_fraction, 1.0);
        assert_eq!(s.digits.structured_fraction, 1.0);
        // Fresh noise, which did not set the threshold, passes it about as rarely.
        assert!(s.held_out.structured_fraction < 0.025, "{s:?}");
    }
}
