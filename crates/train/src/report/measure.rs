//! The report's numbers for one trained autoencoder: test errors with and without dropout, the
//! output-intensity effect, baselines at the same width, the identity test and filter structure.

use analysis::FilterStructure;
use burn::prelude::*;
use data::{PIXELS, SIDE};
use model::Autoencoder;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use serde::Serialize;

use crate::inference::{decoder_filters, encoder_filters};

/// A pixel counts as active when at least this share of the training images light it up.
pub const ACTIVE_PIXEL_SHARE: f64 = 0.01;

/// Pixels lit (> 0) in at least [`ACTIVE_PIXEL_SHARE`] of `set`'s images: weights of the others
/// hardly train and keep their random initial values.
pub fn active_pixels(set: &data::Mnist) -> Vec<bool> {
    let mut lit = vec![0usize; PIXELS];
    for i in 0..set.len() {
        for (count, &b) in lit.iter_mut().zip(set.image_bytes(i)) {
            *count += usize::from(b > 0);
        }
    }
    let needed = ACTIVE_PIXEL_SHARE * set.len() as f64;
    lit.iter().map(|&c| c as f64 >= needed).collect()
}

/// Images drawn for the identity test (uniform noise and pixel-shuffled digits).
pub const IDENTITY_TEST_IMAGES: usize = 1000;

/// A set of `rows × 784` images on a device without autodiff.
#[derive(Clone)]
pub struct Images {
    /// `[rows, 784]`.
    pub pixels: Tensor<2>,
}

impl Images {
    /// Wraps flat row-major pixels.
    pub fn new(flat: Vec<f32>, device: &Device) -> Self {
        let rows = flat.len() / PIXELS;
        Self {
            pixels: Tensor::from_data(TensorData::new(flat, [rows, PIXELS]), device),
        }
    }

    /// Number of images.
    pub fn rows(&self) -> usize {
        self.pixels.dims()[0]
    }

    /// The first `n` images.
    pub fn first(&self, n: usize) -> Images {
        let n = n.min(self.rows());
        Images {
            pixels: self.pixels.clone().slice([0..n]),
        }
    }
}

/// Mean squared error between two equally shaped tensors.
pub fn mse(a: Tensor<2>, b: Tensor<2>) -> f64 {
    (a - b).powi_scalar(2).mean().into_scalar::<f64>()
}

/// `f` applied to `inputs` in chunks of 1000 rows, concatenated.
fn chunked(inputs: &Tensor<2>, f: impl Fn(Tensor<2>) -> Tensor<2>) -> Tensor<2> {
    let rows = inputs.dims()[0];
    let parts: Vec<Tensor<2>> = (0..rows)
        .step_by(1000)
        .map(|start| f(inputs.clone().slice([start..(start + 1000).min(rows)])))
        .collect();
    Tensor::cat(parts, 0)
}

/// The model's reconstructions of `inputs` without dropout.
pub fn reconstruct(model: &Autoencoder, inputs: &Tensor<2>) -> Tensor<2> {
    let model = model.valid();
    chunked(inputs, |x| model.forward(x))
}

/// The model's hidden codes of `inputs` (after the activation, no dropout).
pub fn encode(model: &Autoencoder, inputs: &Tensor<2>) -> Tensor<2> {
    let model = model.valid();
    chunked(inputs, |x| model.encode(x))
}

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
/// on a block of zero singular values, which the codes of dead ReLU units produce (case 1's
/// covariance failed after 64 sweeps). The shift is taken off the eigenvalues again.
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

    /// The training set's mean image `[1, 784]`.
    pub fn mean(&self) -> Tensor<2> {
        self.mean.clone()
    }
}

/// Non-digit images for the identity test, drawn from `seed`.
pub struct IdentityProbes {
    /// Clean test digits.
    pub digits: Images,
    /// Uniform noise in [0, 1).
    pub noise: Images,
    /// The same test digits, each with its pixels in a random order of its own.
    pub shuffled: Images,
}

impl IdentityProbes {
    /// Draws the probes from the clean test digits `digits` (their first
    /// [`IDENTITY_TEST_IMAGES`]).
    pub fn new(digits: &Images, seed: u64) -> Self {
        let digits = digits.first(IDENTITY_TEST_IMAGES);
        let device = digits.pixels.device();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let count = digits.rows();
        let noise: Vec<f32> = (0..count * PIXELS)
            .map(|_| rng.random_range(0.0f32..1.0))
            .collect();
        let flat: Vec<f32> = digits.pixels.clone().into_data().try_to_vec().expect("f32");
        let mut shuffled = Vec::with_capacity(flat.len());
        for image in flat.chunks(PIXELS) {
            let mut order: Vec<usize> = (0..PIXELS).collect();
            order.shuffle(&mut rng);
            shuffled.extend(order.iter().map(|&p| image[p]));
        }
        Self {
            noise: Images::new(noise, &device),
            shuffled: Images::new(shuffled, &device),
            digits,
        }
    }
}

/// Everything measured on one trained autoencoder.
#[derive(Debug, Clone, Serialize)]
pub struct CaseNumbers {
    /// Test MSE without dropout, recomputed from the saved model.
    pub test_mse: f64,
    /// Test MSE with dropout active, as during training.
    pub test_mse_dropout_on: f64,
    /// Mean output intensity on the test set (no dropout).
    pub mean_output: f64,
    /// Mean target intensity on the test set.
    pub mean_target: f64,
    /// Test MSE of the output scaled by `mean_target / mean_output` (what a per-image contrast
    /// stretch would show).
    pub test_mse_rescaled: f64,
    /// PCA components used (the hidden units, at most 784).
    pub pca_components: usize,
    /// Test MSE of the PCA projection of the (noised) inputs.
    pub pca_mse: f64,
    /// Test MSE of predicting the training mean image.
    pub mean_image_mse: f64,
    /// Test MSE of returning the (noised) input unchanged.
    pub identity_mse: f64,
    /// Reconstruction MSE on clean test digits (identity test reference).
    pub digit_mse: f64,
    /// Reconstruction MSE on uniform noise images.
    pub noise_mse: f64,
    /// Reconstruction MSE on pixel-shuffled digits.
    pub shuffled_mse: f64,
    /// Structure of the first layer's tiles (w1).
    pub w1: FilterSummary,
    /// Structure of the second layer's tiles (w2ᵀ).
    pub w2t: FilterSummary,
}

/// Serializable [`FilterStructure`].
#[derive(Debug, Clone, Serialize)]
pub struct FilterSummary {
    /// Median roughness ratio (1 ≈ noise, near 0 = smooth).
    pub median_ratio: f64,
    /// Fraction of tiles counted as structured.
    pub structured_fraction: f64,
}

impl From<FilterStructure> for FilterSummary {
    fn from(s: FilterStructure) -> Self {
        Self {
            median_ratio: s.median_ratio,
            structured_fraction: s.structured_fraction,
        }
    }
}

/// The test set of a case: noised inputs and clean targets.
pub struct TestSet {
    /// What the model sees.
    pub inputs: Images,
    /// What it should output.
    pub targets: Images,
}

/// Measures `model` (on a device without autodiff) against its test set; `dropout_model` is the
/// same weights on an autodiff device, where dropout is active.
pub fn measure(
    model: &Autoencoder,
    dropout_model: &Autoencoder,
    test: &TestSet,
    pca: &Pca,
    probes: &IdentityProbes,
    active: &[bool],
) -> CaseNumbers {
    let outputs = reconstruct(model, &test.inputs.pixels);
    let targets = test.targets.pixels.clone();
    let mean_output = outputs.clone().mean().into_scalar::<f64>();
    let mean_target = targets.clone().mean().into_scalar::<f64>();
    let scale = if mean_output.abs() > 1e-12 {
        mean_target / mean_output
    } else {
        1.0
    };
    let dropout_outputs = chunked(&test.inputs.pixels, |x| {
        dropout_model.forward(x.autodiff()).inner()
    });
    let k = model.hidden().min(PIXELS);
    let rows = test.inputs.rows();
    let digit_mse = mse(
        reconstruct(model, &probes.digits.pixels),
        probes.digits.pixels.clone(),
    );
    CaseNumbers {
        test_mse: mse(outputs.clone(), targets.clone()),
        test_mse_dropout_on: mse(dropout_outputs, targets.clone()),
        mean_output,
        mean_target,
        test_mse_rescaled: mse(outputs * scale, targets.clone()),
        pca_components: k,
        pca_mse: mse(pca.reconstruct(&test.inputs.pixels, k), targets.clone()),
        mean_image_mse: mse(pca.mean().repeat_dim(0, rows), targets.clone()),
        identity_mse: mse(test.inputs.pixels.clone(), targets),
        digit_mse,
        noise_mse: mse(
            reconstruct(model, &probes.noise.pixels),
            probes.noise.pixels.clone(),
        ),
        shuffled_mse: mse(
            reconstruct(model, &probes.shuffled.pixels),
            probes.shuffled.pixels.clone(),
        ),
        w1: FilterStructure::of(&encoder_filters(model), SIDE, active).into(),
        w2t: FilterStructure::of(&decoder_filters(model), SIDE, active).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Activation, AutoencoderConfig};

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

    fn images(rows: usize, seed: u64, device: &Device) -> Images {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        // Low-rank images: 3 fixed patterns mixed with random weights, plus a little noise.
        let patterns: Vec<Vec<f32>> = (0..3)
            .map(|_| (0..PIXELS).map(|_| rng.random_range(0.0f32..1.0)).collect())
            .collect();
        let flat = (0..rows)
            .flat_map(|_| {
                let w: Vec<f32> = (0..3).map(|_| rng.random_range(0.0f32..1.0)).collect();
                (0..PIXELS)
                    .map(|p| (0..3).map(|j| w[j] * patterns[j][p]).sum::<f32>())
                    .collect::<Vec<_>>()
            })
            .collect();
        Images::new(flat, device)
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

    #[test]
    fn identity_probes_keep_each_digits_pixels() {
        let device = Device::flex();
        let digits = images(20, 2, &device);
        let probes = IdentityProbes::new(&digits, 7);
        assert_eq!(probes.noise.rows(), 20);
        let sorted = |t: Tensor<2>| {
            let v: Vec<f32> = t.into_data().try_to_vec().unwrap();
            v.chunks(PIXELS)
                .map(|c| {
                    let mut c = c.to_vec();
                    c.sort_by(f32::total_cmp);
                    c
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            sorted(probes.shuffled.pixels.clone()),
            sorted(digits.pixels.clone())
        );
        assert_ne!(
            probes.shuffled.pixels.clone().into_data(),
            digits.pixels.clone().into_data()
        );
    }

    #[test]
    fn dropout_acts_only_on_the_autodiff_copy() {
        let device = Device::flex();
        device.seed(1);
        let config = AutoencoderConfig::new(50, Activation::Relu);
        let model = config.init(&device);
        let ad = device.clone().autodiff();
        let dropout_model = model.clone().to_device(&ad).train();
        let test = TestSet {
            inputs: images(40, 3, &device),
            targets: images(40, 3, &device),
        };
        let pca = Pca::fit(&images(100, 3, &device));
        let probes = IdentityProbes::new(&test.targets, 1);
        let all = [true; PIXELS];
        let numbers = measure(&model, &dropout_model, &test, &pca, &probes, &all);
        assert_ne!(numbers.test_mse, numbers.test_mse_dropout_on);
        let again = measure(&model, &model.valid(), &test, &pca, &probes, &all);
        assert_eq!(again.test_mse, again.test_mse_dropout_on);
        assert_eq!(numbers.identity_mse, 0.0);
        assert_eq!(numbers.pca_components, 50);
    }
}
