//! The map of a model's hidden codes: the codes of a set of images projected onto their first two
//! principal components, and how well the digits separate in that plane.

use burn::prelude::*;
use model::Autoencoder;
use rayon::prelude::*;
use serde::Serialize;

use crate::pca::{centred_covariance, principal_components};

/// Codes of labelled images in the plane of their first two principal components.
#[derive(Debug, Clone)]
pub struct CodeMap {
    /// One `(PC 1, PC 2)` point per image.
    pub points: Vec<(f64, f64)>,
    /// The images' digits.
    pub labels: Vec<u8>,
    /// How the plane summarises the codes and separates the digits.
    pub summary: CodeMapSummary,
}

/// The numbers of a [`CodeMap`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CodeMapSummary {
    /// Share of the codes' variance along the first two components.
    pub variance_explained: f64,
    /// Share of the images whose nearest digit mean in the plane is their own digit's (the means
    /// taken over the same images).
    pub nearest_mean_accuracy: f64,
}

impl CodeMap {
    /// The map of `model`'s codes of `images` (`[N, 784]`, no dropout), labelled by `labels`.
    pub fn new(model: &Autoencoder, images: &Tensor<2>, labels: &[u8]) -> Self {
        let codes = model.codes(images);
        let hidden = codes.dims()[1];
        let (_, centered, covariance) = centred_covariance(codes);
        let (vectors, values) = principal_components(covariance);
        let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
        let explained: f64 = values.iter().take(2).map(|v| v.max(0.0)).sum();
        // The first two components (with one hidden unit: its axis and nothing).
        let basis = vectors.slice([0..hidden, 0..2.min(hidden)]);
        let projected: Vec<f32> = centered
            .matmul(basis)
            .into_data()
            .try_to_vec()
            .expect("f32 codes");
        let width = 2.min(hidden);
        let points: Vec<(f64, f64)> = projected
            .chunks(width)
            .map(|p| (f64::from(p[0]), p.get(1).map_or(0.0, |&y| f64::from(y))))
            .collect();
        let summary = CodeMapSummary {
            variance_explained: if total > 0.0 { explained / total } else { 0.0 },
            nearest_mean_accuracy: nearest_mean_accuracy(&points, labels),
        };
        Self {
            points,
            labels: labels.to_vec(),
            summary,
        }
    }
}

/// The hidden codes of `images` (`[N, 784]`, no dropout), row after row: the first layer in
/// chunks of [`model::CHUNK_ROWS`] rows, each read out as it comes (no concatenated tensor), then
/// the activation on every core (flex applies it on one: half the time for 1000 Sigmoid units).
/// The same values as [`Autoencoder::codes`] on flex, bit for bit.
pub fn code_rows(model: &Autoencoder, images: &Tensor<2>) -> Vec<f32> {
    let model = model.valid();
    let rows = images.dims()[0];
    let mut flat = Vec::with_capacity(rows * model.hidden());
    for start in (0..rows).step_by(model::CHUNK_ROWS) {
        let chunk = images
            .clone()
            .slice([start..(start + model::CHUNK_ROWS).min(rows)]);
        let before = model.encoder.forward(chunk).into_data();
        flat.extend_from_slice(before.as_slice::<f32>().expect("f32 codes"));
    }
    let activation = model.activation();
    flat.par_chunks_mut(1 << 16)
        .for_each(|chunk| chunk.iter_mut().for_each(|x| *x = activation.apply(*x)));
    flat
}

/// Share of `points` whose nearest class mean (over the same points) is their own class's.
pub fn nearest_mean_accuracy(points: &[(f64, f64)], labels: &[u8]) -> f64 {
    let mut sums = [(0f64, 0f64, 0usize); 256];
    for (&(x, y), &l) in points.iter().zip(labels) {
        let s = &mut sums[l as usize];
        *s = (s.0 + x, s.1 + y, s.2 + 1);
    }
    let means: Vec<(u8, f64, f64)> = sums
        .iter()
        .enumerate()
        .filter(|(_, s)| s.2 > 0)
        .map(|(l, s)| (l as u8, s.0 / s.2 as f64, s.1 / s.2 as f64))
        .collect();
    let right = points
        .iter()
        .zip(labels)
        .filter(|&(&(x, y), &l)| {
            let nearest = means.iter().min_by(|a, b| {
                let d = |m: &&(u8, f64, f64)| (m.1 - x).powi(2) + (m.2 - y).powi(2);
                d(a).total_cmp(&d(b))
            });
            nearest.is_some_and(|m| m.0 == l)
        })
        .count();
    right as f64 / points.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separated_classes_are_told_apart_and_mixed_ones_are_not() {
        let labels: Vec<u8> = (0..300).map(|i| (i % 3) as u8).collect();
        let apart: Vec<(f64, f64)> = labels
            .iter()
            .enumerate()
            .map(|(i, &l)| (10.0 * l as f64 + (i as f64).sin(), (i as f64).cos()))
            .collect();
        assert_eq!(nearest_mean_accuracy(&apart, &labels), 1.0);
        let mixed: Vec<(f64, f64)> = (0..300)
            .map(|i| ((i as f64 * 1.7).sin(), (i as f64 * 2.3).cos()))
            .collect();
        assert!(nearest_mean_accuracy(&mixed, &labels) < 0.6);
    }

    #[test]
    fn code_rows_are_the_models_codes_bit_for_bit() {
        let device = Device::flex();
        device.seed(4);
        let images = Tensor::<2>::random(
            [2500, data::PIXELS],
            burn::tensor::Distribution::Uniform(0.0, 1.0),
            &device,
        );
        for activation in [model::Activation::Relu, model::Activation::Sigmoid] {
            let model = model::AutoencoderConfig::new(30, activation).init(&device);
            let expected: Vec<f32> = model.codes(&images).into_data().try_to_vec().unwrap();
            assert_eq!(code_rows(&model, &images), expected, "{activation:?}");
        }
    }

    #[test]
    fn the_plane_holds_the_codes_largest_variance() {
        let device = Device::flex();
        device.seed(3);
        let model = model::AutoencoderConfig::new(12, model::Activation::Sigmoid).init(&device);
        let images = Tensor::<2>::random(
            [400, data::PIXELS],
            burn::tensor::Distribution::Uniform(0.0, 1.0),
            &device,
        );
        let labels: Vec<u8> = (0..400).map(|i| (i % 10) as u8).collect();
        let map = CodeMap::new(&model, &images, &labels);
        assert_eq!(map.points.len(), 400);
        let s = map.summary;
        assert!(
            s.variance_explained > 2.0 / 12.0 && s.variance_explained <= 1.0 + 1e-9,
            "{s:?}"
        );
        // The points are centred, and PC 1 spreads them at least as much as PC 2.
        let n = map.points.len() as f64;
        let (mx, my) = map
            .points
            .iter()
            .fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
        assert!((mx / n).abs() < 1e-4 && (my / n).abs() < 1e-4);
        let var = |f: fn(&(f64, f64)) -> f64| map.points.iter().map(|p| f(p).powi(2)).sum::<f64>();
        assert!(var(|p| p.0) >= var(|p| p.1));
    }
}
