//! The report's numbers for one trained autoencoder: test errors with and without dropout, the
//! output-intensity effect, baselines at the same width, the identity test and filter structure.

use data::PIXELS;
use model::Autoencoder;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use serde::Serialize;

use crate::image_sets::{Images, mse};
use crate::liveness::{LiveAndDead, UnitTiles};
use crate::pca::Pca;
use crate::structure::{FilterStructure, FilterSummary};

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

/// The identity test's first line: a network whose error on uniform noise is less than this many
/// times its error on digits reconstructs anything about as well as digits (a ratio near 1): it
/// copies its input.
pub const COPIES_BELOW: f64 = 2.0;

/// The identity test's second line, calibrated on each run: a constant output (the training
/// mean image, whatever the input) has a ratio of its own (≈ 3.8), so a ratio less than this
/// share above a constant output's says the network is no better than a constant output. From
/// there on it learned what digits look like.
pub const CONSTANT_WITHIN: f64 = 0.1;

/// What the identity test says of a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdentityReading {
    /// Noise is reconstructed about as well as digits: the network copies its input.
    Copies,
    /// The ratio is about a constant output's: the network tells digits from noise no better
    /// than an output that ignores its input.
    LikeAConstant,
    /// Noise is reconstructed far worse than digits, beyond a constant output: it learned digits.
    LearnedDigits,
}

impl IdentityReading {
    /// The reading of a noise ÷ digit error ratio beside a constant output's ratio on the same
    /// images (a record without the constant's ratio, NaN, is read against [`COPIES_BELOW`]
    /// alone).
    pub fn of(noise_over_digits: f64, constant_ratio: f64) -> Self {
        if noise_over_digits < COPIES_BELOW {
            IdentityReading::Copies
        } else if noise_over_digits < learned_digits_from(constant_ratio) {
            IdentityReading::LikeAConstant
        } else {
            IdentityReading::LearnedDigits
        }
    }

    /// The reading in a table cell: `copies its input`, `no better than a constant output`,
    /// `learned digits`.
    pub fn short(self) -> &'static str {
        match self {
            IdentityReading::Copies => "copies its input",
            IdentityReading::LikeAConstant => "no better than a constant output",
            IdentityReading::LearnedDigits => "learned digits",
        }
    }
}

/// The ratio from which a network learned digits: [`CONSTANT_WITHIN`] above a constant output's.
pub fn learned_digits_from(constant_ratio: f64) -> f64 {
    constant_ratio * (1.0 + CONSTANT_WITHIN)
}

/// Everything measured on one trained autoencoder.
#[derive(Debug, Clone, Serialize)]
pub struct CaseNumbers {
    /// Test MSE without dropout, recomputed from the saved model.
    pub test_mse: f64,
    /// MSE without dropout on the first [`TRAIN_MSE_IMAGES`] training images (noised as the run
    /// noises them), from the saved model: the training error to set the test error against.
    pub train_mse: f64,
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
    /// A constant output's (the training mean image) MSE on the identity test's digits.
    pub constant_digit_mse: f64,
    /// The same on its noise images.
    pub constant_noise_mse: f64,
    /// Hidden units never active (code ≤ 0) on any test input: dead ReLU units.
    pub dead_units: usize,
    /// The live and the dead units apart: their tiles' structure and how far they moved.
    pub units: LiveAndDead,
    /// Every unit, for the figures (not in `report.json`).
    #[serde(skip)]
    pub tiles: UnitTiles,
    /// Structure of the first layer's tiles (w1).
    pub w1: FilterSummary,
    /// Structure of the second layer's tiles (w2ᵀ).
    pub w2t: FilterSummary,
}

/// Training images the training error is measured on (as many as the test set has).
pub const TRAIN_MSE_IMAGES: usize = 10_000;

/// Images as a case feeds them: noised inputs and clean targets.
pub struct Pairs {
    /// What the model sees.
    pub inputs: Images,
    /// What it should output.
    pub targets: Images,
}

impl CaseNumbers {
    /// The identity test's ratio: the error on uniform noise ÷ the error on digits.
    pub fn identity_ratio(&self) -> f64 {
        self.noise_mse / self.digit_mse
    }

    /// A constant output's ratio on the same images: what a network that ignores its input gets.
    pub fn constant_ratio(&self) -> f64 {
        self.constant_noise_mse / self.constant_digit_mse
    }

    /// What the identity test says of the network.
    pub fn identity_reading(&self) -> IdentityReading {
        IdentityReading::of(self.identity_ratio(), self.constant_ratio())
    }
}

/// What a model is measured against besides its test set: the PCA baseline, the identity test's
/// images, the pixels that count for filter structure and the calibrated structure threshold.
pub struct Against<'a> {
    /// PCA of the training images.
    pub pca: &'a Pca,
    /// The identity test's images.
    pub probes: &'a IdentityProbes,
    /// The pixels that count in a tile.
    pub active: &'a [bool],
    /// Tiles below this structure ratio count as structured.
    pub threshold: f64,
}

/// Measures `model` (on a device without autodiff, trained from `initial` where it is known)
/// against its test set and its training images; `dropout_model` is the same weights on an
/// autodiff device, where dropout is active.
pub fn measure(
    model: &Autoencoder,
    initial: Option<&Autoencoder>,
    dropout_model: &Autoencoder,
    (test, train): (&Pairs, &Pairs),
    against: &Against,
) -> CaseNumbers {
    let Against {
        pca,
        probes,
        active,
        threshold,
    } = *against;
    let outputs = model.reconstruct(&test.inputs.pixels);
    let targets = test.targets.pixels.clone();
    let mean_output = crate::image_sets::mean(outputs.clone());
    let mean_target = crate::image_sets::mean(targets.clone());
    let scale = if mean_output.abs() > 1e-12 {
        mean_target / mean_output
    } else {
        1.0
    };
    let dropout_outputs = model::in_chunks(&test.inputs.pixels, |x| {
        dropout_model.forward(x.autodiff()).inner()
    });
    let k = model.hidden().min(PIXELS);
    let rows = test.inputs.rows();
    let digit_mse = mse(
        model.reconstruct(&probes.digits.pixels),
        probes.digits.pixels.clone(),
    );
    let tiles = UnitTiles::of(model, initial, &test.inputs, active);
    let constant = |images: &Images| {
        let rows = images.rows();
        mse(pca.mean().repeat_dim(0, rows), images.pixels.clone())
    };
    CaseNumbers {
        test_mse: mse(outputs.clone(), targets.clone()),
        train_mse: mse(
            model.reconstruct(&train.inputs.pixels),
            train.targets.pixels.clone(),
        ),
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
            model.reconstruct(&probes.noise.pixels),
            probes.noise.pixels.clone(),
        ),
        shuffled_mse: mse(
            model.reconstruct(&probes.shuffled.pixels),
            probes.shuffled.pixels.clone(),
        ),
        constant_digit_mse: constant(&probes.digits),
        constant_noise_mse: constant(&probes.noise),
        dead_units: tiles.live.iter().filter(|live| !**live).count(),
        units: tiles.live_and_dead(threshold),
        w1: FilterStructure::from_ratios(&tiles.w1_ratio, threshold).into(),
        w2t: FilterStructure::from_ratios(&tiles.w2t_ratio, threshold).into(),
        tiles,
    }
}

/// Hidden units of `model` whose code is never above 0 on `inputs`: they pass nothing on (a dead
/// ReLU unit; a Sigmoid unit is always above 0).
pub fn dead_units(model: &Autoencoder, inputs: &Images) -> usize {
    crate::liveness::unit_peaks(model, inputs)
        .iter()
        .filter(|&&peak| peak <= 0.0)
        .count()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use burn::prelude::*;
    use model::{Activation, AutoencoderConfig};

    pub(crate) fn images(rows: usize, seed: u64, device: &Device) -> Images {
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

    /// Every pixel counts in a tile.
    const ALL: [bool; PIXELS] = [true; PIXELS];

    /// `pca` and `probes`, every pixel, a threshold of 0.9.
    fn against<'a>(pca: &'a Pca, probes: &'a IdentityProbes) -> Against<'a> {
        Against {
            pca,
            probes,
            active: &ALL,
            threshold: 0.9,
        }
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
        let test = Pairs {
            inputs: images(40, 3, &device),
            targets: images(40, 3, &device),
        };
        let pca = Pca::fit(&images(100, 3, &device));
        let probes = IdentityProbes::new(&test.targets, 1);
        let against = against(&pca, &probes);
        let numbers = measure(
            &model,
            Some(&model),
            &dropout_model,
            (&test, &test),
            &against,
        );
        assert_ne!(numbers.test_mse, numbers.test_mse_dropout_on);
        assert_eq!(numbers.train_mse, numbers.test_mse);
        let again = measure(
            &model,
            Some(&model),
            &model.valid(),
            (&test, &test),
            &against,
        );
        assert_eq!(again.test_mse, again.test_mse_dropout_on);
        assert_eq!(numbers.identity_mse, 0.0);
        assert_eq!(numbers.pca_components, 50);
        // Measured against its own start, no unit moved.
        assert_eq!(numbers.units.live.w1_moved, 0.0);
        assert_eq!(numbers.units.live.units + numbers.units.dead.units, 50);
        assert_eq!(numbers.units.dead.units, numbers.dead_units);
    }

    #[test]
    fn copying_is_a_ratio_near_one_and_learning_a_ratio_beyond_a_constant_outputs() {
        let constant = 3.8;
        let of = |r| IdentityReading::of(r, constant);
        assert_eq!(of(1.0), IdentityReading::Copies);
        assert_eq!(of(1.9), IdentityReading::Copies);
        assert_eq!(of(2.0), IdentityReading::LikeAConstant);
        // A collapsed network: the constant's ratio, or a little above it.
        assert_eq!(of(3.82), IdentityReading::LikeAConstant);
        assert_eq!(of(4.17), IdentityReading::LikeAConstant);
        assert_eq!(of(4.19), IdentityReading::LearnedDigits);
        assert_eq!(of(550.0), IdentityReading::LearnedDigits);
        // Without the constant's ratio, the first line alone.
        assert_eq!(
            IdentityReading::of(3.0, f64::NAN),
            IdentityReading::LearnedDigits
        );
        assert_eq!(IdentityReading::of(1.5, f64::NAN), IdentityReading::Copies);
    }

    #[test]
    fn a_constant_output_reads_as_one() {
        let device = Device::flex();
        let digits = images(50, 5, &device);
        let probes = IdentityProbes::new(&digits, 3);
        let pca = Pca::fit(&digits);
        // The model whose every output is the mean image: zero weights, the mean as bias.
        let mut model = AutoencoderConfig::new(4, Activation::Relu).init(&device);
        let zero = |t: Tensor<2>| burn::module::Param::from_tensor(t.zeros_like());
        model.encoder.weight = zero(model.encoder.weight.val());
        model.decoder.weight = zero(model.decoder.weight.val());
        model.decoder.bias = Some(burn::module::Param::from_tensor(
            pca.mean().reshape([PIXELS]),
        ));
        let test = Pairs {
            inputs: digits.clone(),
            targets: digits,
        };
        let against = against(&pca, &probes);
        let n = measure(&model, None, &model, (&test, &test), &against);
        assert!(
            (n.identity_ratio() / n.constant_ratio() - 1.0).abs() < 1e-4,
            "{n:?}"
        );
        assert_eq!(n.identity_reading(), IdentityReading::LikeAConstant);
    }

    #[test]
    fn a_unit_is_dead_when_no_input_lifts_it_above_zero() {
        let device = Device::flex();
        device.seed(2);
        let mut model = AutoencoderConfig::new(6, Activation::Relu).init(&device);
        let inputs = images(30, 4, &device);
        // Units 1 and 4 get a bias no input in [0, 1] can overcome, the others one no input
        // can cancel.
        let bias = Tensor::<1>::from_floats([1e3, -1e3, 1e3, 1e3, -1e3, 1e3], &device);
        model.encoder.bias = Some(burn::module::Param::from_tensor(bias));
        assert_eq!(dead_units(&model, &inputs), 2);
        let sigmoid = AutoencoderConfig::new(6, Activation::Sigmoid).init(&device);
        assert_eq!(dead_units(&sigmoid, &inputs), 0);
    }
}
