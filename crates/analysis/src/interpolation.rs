//! Walking from one digit to another in a straight line: through a model's hidden codes, through
//! the pixels, and through the principal components at the model's width (the baseline).

use burn::prelude::*;
use data::PIXELS;
use model::Autoencoder;

use crate::image_sets::to_rows;
use crate::pca::Pca;

/// The `steps` mixing weights from one end to the other: `0, 1/(steps − 1), …, 1`.
pub fn mixing_weights(steps: usize) -> Vec<f32> {
    let last = steps.saturating_sub(1).max(1) as f32;
    (0..steps).map(|i| i as f32 / last).collect()
}

/// `(1 − t)·a + t·b` for each weight `t`, one row each: `[weights, d]` from rows `a`, `b` `[1, d]`.
/// At `t = 0` and `t = 1` the rows are `a` and `b` exactly.
pub fn mix(a: Tensor<2>, b: Tensor<2>, weights: &[f32]) -> Tensor<2> {
    let device = a.device();
    let t = Tensor::<2>::from_data(
        TensorData::new(weights.to_vec(), [weights.len(), 1]),
        &device,
    );
    let keep = t.clone().neg().add_scalar(1.0);
    a.mul(keep) + b.mul(t)
}

/// Pixels of one image as a `[1, 784]` row.
pub fn image_row(pixels: &[f32], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(pixels.to_vec(), [1, PIXELS]), device)
}

/// The images mixed between `a` and `b` (784 pixels each), one per weight.
pub fn through_pixels(a: &[f32], b: &[f32], weights: &[f32]) -> Vec<Vec<f32>> {
    weights
        .iter()
        .map(|&t| {
            a.iter()
                .zip(b)
                .map(|(x, y)| x * (1.0 - t) + y * t)
                .collect()
        })
        .collect()
}

/// The decoder's images of the codes mixed between those of `a` and `b`, one per weight. The
/// ends are the model's reconstructions of `a` and `b`.
pub fn through_codes(model: &Autoencoder, a: &[f32], b: &[f32], weights: &[f32]) -> Vec<Vec<f32>> {
    let device = model.decoder.weight.val().device();
    let both = Tensor::cat(vec![image_row(a, &device), image_row(b, &device)], 0);
    let codes = model.encode(both);
    let [a, b] = [0, 1].map(|row| codes.clone().slice([row..row + 1]));
    to_rows(model.decode(mix(a, b, weights)))
}

/// The mixes of `a` and `b` projected onto the first `k` principal components: the same as mixing
/// their coordinates in that space (projection is linear). The ends are PCA-k's reconstructions.
pub fn through_components(
    pca: &Pca,
    k: usize,
    a: &[f32],
    b: &[f32],
    weights: &[f32],
) -> Vec<Vec<f32>> {
    let device = pca.mean().device();
    let mixed = mix(image_row(a, &device), image_row(b, &device), weights);
    to_rows(pca.reconstruct(&mixed, k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_run_from_zero_to_one_evenly() {
        assert_eq!(mixing_weights(2), [0.0, 1.0]);
        assert_eq!(mixing_weights(5), [0.0, 0.25, 0.5, 0.75, 1.0]);
    }

    #[test]
    fn the_ends_of_a_mix_are_its_inputs_exactly_and_the_middle_is_their_mean() {
        let device = Device::flex();
        let a = Tensor::<2>::from_data([[0.1f32, 0.7, 1.0]], &device);
        let b = Tensor::<2>::from_data([[0.3f32, 0.2, 0.0]], &device);
        let mixed = to_rows(mix(a, b, &mixing_weights(3)));
        assert_eq!(mixed[0], [0.1, 0.7, 1.0]);
        assert_eq!(mixed[2], [0.3, 0.2, 0.0]);
        for (m, e) in mixed[1].iter().zip([0.2f32, 0.45, 0.5]) {
            assert!((m - e).abs() < 1e-7, "{m} vs {e}");
        }
    }

    #[test]
    fn through_codes_ends_at_the_reconstructions() {
        let device = Device::flex();
        device.seed(1);
        let model = model::AutoencoderConfig::new(16, model::Activation::Relu).init(&device);
        let pixel = |i: usize, s: f32| ((i as f32 * s).sin() + 1.0) / 2.0;
        let a: Vec<f32> = (0..PIXELS).map(|i| pixel(i, 0.3)).collect();
        let b: Vec<f32> = (0..PIXELS).map(|i| pixel(i, 0.7)).collect();
        let walk = through_codes(&model, &a, &b, &mixing_weights(4));
        let both = Tensor::cat(vec![image_row(&a, &device), image_row(&b, &device)], 0);
        let ends = to_rows(model.reconstruct(&both));
        for (got, want) in [(&walk[0], &ends[0]), (&walk[3], &ends[1])] {
            let worst = got
                .iter()
                .zip(want)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f32::max);
            assert!(worst < 1e-6, "{worst}");
        }
    }
}
