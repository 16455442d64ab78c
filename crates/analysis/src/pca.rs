//! Principal components: of a set of images (the report's PCA baseline at the autoencoder's width)
//! and of a model's codes (the code map), by Burn's SVD.

use burn::prelude::*;
use data::PIXELS;

use crate::image_sets::Images;

/// The column means `[1, d]` of `x` (`[N, d]`), `x` centred on them, and its covariance `[d, d]`
/// (divided by N).
pub fn centred_covariance(x: Tensor<2>) -> (Tensor<2>, Tensor<2>, Tensor<2>) {
    let n = x.dims()[0].max(1);
    let mean = x.clone().mean_dim(0);
    let centred = x - mean.clone();
    let covariance = centred.clone().transpose().matmul(centred.clone()) / n as f64;
    (mean, centred, covariance)
}

/// The eigenvectors (as the columns of `[n, n]`, by decreasing eigenvalue) and eigenvalues of a
/// symmetric positive semi-definite `[n, n]` matrix (a covariance), by Burn's SVD: for such a
/// matrix the left singular vectors are its eigenvectors and the singular values its eigenvalues.
///
/// The matrix is decomposed shifted by its mean eigenvalue, `C + sI` (same eigenvectors,
/// eigenvalues `λ + s`): Burn's QR iteration deflates on a *relative* test, so it never converges
/// on a block of zero singular values, which the codes of dead ReLU units produce. The shift is
/// taken off the eigenvalues again.
pub fn principal_components(covariance: Tensor<2>) -> (Tensor<2>, Vec<f64>) {
    let [n, _] = covariance.dims();
    let device = covariance.device();
    let shift = covariance
        .clone()
        .mul(Tensor::<2>::eye(n, &device))
        .sum()
        .into_scalar::<f64>()
        / n.max(1) as f64;
    let shifted = covariance + Tensor::<2>::eye(n, &device).mul_scalar(shift);
    // At most 64 QR sweeps per singular value: far more than a covariance needs.
    let (vectors, values, _) = burn::linalg::svd::<2, 1>(shifted, 64);
    let values = values
        .into_data()
        .iter::<f64>()
        .map(|v| v - shift)
        .collect();
    (vectors, values)
}

/// Principal components of a set of images.
pub struct Pca {
    mean: Tensor<2>,
    /// `[784, 784]`: column j is the component with the j-th largest variance.
    components: Tensor<2>,
    /// Variances along the components, descending.
    pub variances: Vec<f64>,
}

impl Pca {
    /// Fits the components of `train`: the eigenvectors of its covariance.
    pub fn fit(train: &Images) -> Self {
        let (mean, _, covariance) = centred_covariance(train.pixels.clone());
        let (components, variances) = principal_components(covariance);
        Self {
            mean,
            components,
            variances,
        }
    }

    /// Projection of `inputs` onto the first `k` components (all 784: the inputs themselves).
    pub fn reconstruct(&self, inputs: &Tensor<2>, k: usize) -> Tensor<2> {
        if k >= PIXELS {
            return inputs.clone();
        }
        let basis = self.components.clone().slice([0..PIXELS, 0..k]);
        let centered = inputs.clone() - self.mean.clone();
        centered.matmul(basis.clone()).matmul(basis.transpose()) + self.mean.clone()
    }

    /// The first `k` components as images (784 values each), in order of variance.
    pub fn component_tiles(&self, k: usize) -> Vec<Vec<f32>> {
        let k = k.min(PIXELS);
        let columns: Vec<f32> = self
            .components
            .clone()
            .slice([0..PIXELS, 0..k])
            .transpose()
            .into_data()
            .try_to_vec()
            .expect("f32 components");
        columns.chunks(PIXELS).map(<[f32]>::to_vec).collect()
    }

    /// The training set's mean image `[1, 784]`.
    pub fn mean(&self) -> Tensor<2> {
        self.mean.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case_numbers::tests::images;
    use crate::image_sets::mse;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn principal_components_of_codes_with_dead_units() {
        let device = Device::flex();
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        // 500 codes of 300 units, two thirds of them dead (always 0), as case 1's ReLU codes.
        let (rows, units) = (500, 300);
        let flat: Vec<f32> = (0..rows * units)
            .map(|i| match i % units % 3 {
                0 => rng.random_range(0.0f32..1.0),
                _ => 0.0,
            })
            .collect();
        let codes = Tensor::<2>::from_data(TensorData::new(flat, [rows, units]), &device);
        let centered = codes.clone() - codes.mean_dim(0);
        let covariance = centered.clone().transpose().matmul(centered) / rows as f64;
        let (vectors, values) = principal_components(covariance.clone());
        assert_eq!(values.len(), units);
        // C = V Λ Vᵀ, and the dead units' eigenvalues are zero.
        let lambda = Tensor::<2>::from_data(
            TensorData::new(values.iter().map(|&v| v as f32).collect(), [1, units]),
            &device,
        );
        let rebuilt = (vectors.clone() * lambda).matmul(vectors.transpose());
        let error = (rebuilt - covariance.clone())
            .powi_scalar(2)
            .sum()
            .sqrt()
            .into_scalar::<f64>()
            / covariance.powi_scalar(2).sum().sqrt().into_scalar::<f64>();
        assert!(error < 1e-5, "relative error {error}");
        let live = values.iter().filter(|&&v| v > 1e-4 * values[0]).count();
        assert_eq!(live, units / 3, "{values:?}");
    }

    #[test]
    fn pca_reconstructs_low_rank_images_exactly_with_enough_components() {
        let device = Device::flex();
        let train = images(300, 1, &device);
        let pca = Pca::fit(&train);
        // Three patterns mixed: the centred data has rank ≤ 3.
        assert!(pca.variances[2] > 1e-3 && pca.variances[3] < 1e-6 * pca.variances[0]);
        let test = images(50, 1, &device); // same patterns
        let exact = mse(pca.reconstruct(&test.pixels, 3), test.pixels.clone());
        let one = mse(pca.reconstruct(&test.pixels, 1), test.pixels.clone());
        let mean_only = mse(pca.reconstruct(&test.pixels, 0), test.pixels.clone());
        assert!(exact < 1e-8, "rank-3 reconstruction error {exact}");
        assert!(one > exact && mean_only > one);
        assert_eq!(
            mse(pca.reconstruct(&test.pixels, PIXELS), test.pixels.clone()),
            0.0
        );
    }
}
