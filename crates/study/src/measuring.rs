//! What every run is measured against, for the report and the sweeps alike: the training and
//! test images, their labels, the PCA baseline, the identity test's images and the pixels that
//! count for filter structure; and one run's numbers measured against them.

use std::path::Path;

use analysis::{
    Against, CALIBRATION_COMPONENTS, Calibration, CaseNumbers, Classifier, IdentityProbes, Images,
    Labelled, Pairs, Pca, TRAIN_MSE_IMAGES, active_pixels, fit, measure,
};
use burn::prelude::*;
use data::{Mnist, NoisedMnist, Split};

use crate::study_error::Result;
use trainer::inference::TrainedRun;
use trainer::training::initial_model;

/// Training images per run of a smoke test, the report's and the sweeps'.
pub const QUICK_IMAGES: usize = 2000;
/// Seed of the identity test's noise and shuffled digits.
const PROBE_SEED: u64 = 0x1d_e4_71_7e;

/// The images, labels and baselines every run is measured against.
pub(crate) struct Measuring {
    pub(crate) cpu: Device,
    pub(crate) test_set: Mnist,
    /// The first [`TRAIN_MSE_IMAGES`] training images, for the training error.
    pub(crate) train_head: Mnist,
    pub(crate) train_images: Images,
    pub(crate) test_clean: Images,
    pub(crate) train_labels: Vec<u8>,
    pub(crate) test_labels: Vec<u8>,
    pub(crate) pca: Pca,
    pub(crate) probes: IdentityProbes,
    pub(crate) active: Vec<bool>,
    pub(crate) calibration: Calibration,
    pub(crate) probe_epochs: usize,
}

/// Epochs of the linear probes: 5 in a smoke test, else 10.
pub(crate) fn probe_epochs(quick: bool) -> usize {
    if quick { 5 } else { 10 }
}

/// One run's numbers: the analysis crate's, and the linear probe's test accuracy on its codes.
pub(crate) struct RunNumbers {
    pub(crate) numbers: CaseNumbers,
    pub(crate) probe_accuracy: f64,
}

impl Measuring {
    /// Loads MNIST from `data_dir` (the first `train_limit` training images, all test images)
    /// and fits the baselines; linear probes train for `probe_epochs`.
    pub(crate) fn prepare(
        data_dir: &Path,
        train_limit: Option<usize>,
        probe_epochs: usize,
    ) -> Result<Self> {
        let cpu = Device::flex();
        let mut train_set = Mnist::load(data_dir, Split::Train)?;
        if let Some(limit) = train_limit {
            train_set = train_set.limit(limit);
        }
        let test_set = Mnist::load(data_dir, Split::Test)?;
        let pixels = |set: &Mnist| (0..set.len()).flat_map(|i| set.pixels(i)).collect();
        let labels = |set: &Mnist| (0..set.len()).map(|i| set.label(i)).collect();
        let train_images = Images::new(pixels(&train_set), &cpu);
        let test_clean = Images::new(pixels(&test_set), &cpu);
        let pca = Pca::fit(&train_images);
        let probes = IdentityProbes::new(&test_clean, PROBE_SEED);
        let active = active_pixels(&train_set);
        let calibration = calibrate(&cpu, &pca, &probes, &active)?;
        Ok(Self {
            train_head: train_set.clone().limit(TRAIN_MSE_IMAGES),
            pca,
            probes,
            active,
            calibration,
            train_labels: labels(&train_set),
            test_labels: labels(&test_set),
            probe_epochs,
            train_images,
            test_clean,
            test_set,
            cpu,
        })
    }

    /// The labelled clean training and test images.
    pub(crate) fn labelled_pixels(&self) -> (Labelled, Labelled) {
        (
            Labelled::from_tensor(
                self.train_images.pixels.clone(),
                &self.train_labels,
                &self.cpu,
            ),
            Labelled::from_tensor(self.test_clean.pixels.clone(), &self.test_labels, &self.cpu),
        )
    }

    /// A linear probe's test accuracy on features of the training and test images.
    pub(crate) fn probe(&self, features: (Tensor<2>, Tensor<2>), seed: u64) -> f64 {
        let ad = self.cpu.clone().autodiff();
        let train = Labelled::from_tensor(features.0, &self.train_labels, &self.cpu);
        let test = Labelled::from_tensor(features.1, &self.test_labels, &self.cpu);
        let width = train.features.dims()[1];
        fit(
            Classifier::linear(width, &ad),
            &train,
            self.probe_epochs,
            seed,
        )
        .accuracy(&test)
    }

    /// The linear probe's accuracy on the raw pixels, for reference.
    pub(crate) fn pixel_probe(&self) -> f64 {
        self.cpu.seed(0);
        self.probe(
            (
                self.train_images.pixels.clone(),
                self.test_clean.pixels.clone(),
            ),
            0,
        )
    }

    /// A probe's accuracy by chance: the share of the most common digit among the test images.
    pub(crate) fn chance_accuracy(&self) -> f64 {
        let mut counts = [0usize; 10];
        for &label in &self.test_labels {
            counts[usize::from(label) % 10] += 1;
        }
        let most = counts.iter().copied().max().unwrap_or(0);
        most as f64 / self.test_labels.len().max(1) as f64
    }

    /// The test set as a run with masking noise `noise` and seed `seed` feeds it: noised inputs
    /// (with the run's test masks), clean targets; without noise the inputs are the clean images.
    pub(crate) fn test_set_of(&self, noise: f64, seed: u64) -> Pairs {
        noised_pairs(
            &self.test_set,
            noise,
            data::test_noise_seed(seed),
            &self.cpu,
        )
    }

    /// The first training images as the run trained on them: noised with the masks its seed
    /// draws (the masks of the whole set are drawn in order, so the first images' are these).
    fn train_head_of(&self, noise: f64, seed: u64) -> Pairs {
        noised_pairs(&self.train_head, noise, seed, &self.cpu)
    }

    /// `run`'s numbers (dropout active where the run trains with it, seeded by its seed; units
    /// measured against the initial weights its seed gives) and its codes' linear-probe accuracy.
    pub(crate) fn run_numbers(&self, run: &TrainedRun) -> RunNumbers {
        let config = &run.config;
        // The start is recomputed where the run trained on flex, whose random draws these are.
        let on_flex = matches!(config.backend.as_deref(), None | Some("flex"));
        let initial = on_flex.then(|| initial_model(config, &self.cpu).valid());
        let ad = self.cpu.clone().autodiff();
        ad.seed(config.seed);
        let dropout_model = run.model.clone().to_device(&ad).train();
        let test = self.test_set_of(config.noise, config.seed);
        let train = self.train_head_of(config.noise, config.seed);
        let against = Against {
            pca: &self.pca,
            probes: &self.probes,
            active: &self.active,
            threshold: self.calibration.threshold,
        };
        let numbers = measure(
            &run.model,
            initial.as_ref(),
            &dropout_model,
            (&test, &train),
            &against,
        );
        self.cpu.seed(config.seed);
        let codes = (
            run.model.codes(&self.train_images.pixels),
            run.model.codes(&self.test_clean.pixels),
        );
        RunNumbers {
            numbers,
            probe_accuracy: self.probe(codes, config.seed),
        }
    }
}

/// `set` as a run with masking noise `noise` feeds it, the masks drawn from `mask_seed`: noised
/// inputs, clean targets.
fn noised_pairs(set: &Mnist, noise: f64, mask_seed: u64, cpu: &Device) -> Pairs {
    let clean = || Images::new((0..set.len()).flat_map(|i| set.pixels(i)).collect(), cpu);
    let inputs = if noise > 0.0 {
        let noised = NoisedMnist::new(set.clone(), noise, mask_seed);
        Images::new(
            (0..noised.len()).flat_map(|i| noised.input(i)).collect(),
            cpu,
        )
    } else {
        clean()
    };
    Pairs {
        inputs,
        targets: clean(),
    }
}

/// The structure measure calibrated: noise from the initial weights of case 1 (seed 0, both
/// layers: 2000 tiles; seed 1's held out), structure from the first principal components of
/// the training digits and from the identity test's clean digits.
fn calibrate(
    cpu: &Device,
    pca: &Pca,
    probes: &IdentityProbes,
    active: &[bool],
) -> Result<Calibration> {
    let case1 = trainer::cases::case(1)?;
    let initial_tiles = |seed: u64| {
        let start = initial_model(&case1.clone().with_seed(seed), cpu).valid();
        let mut tiles = start.encoder_filters();
        tiles.extend(start.decoder_filters());
        tiles
    };
    let digits = analysis::to_rows(probes.digits.pixels.clone());
    Ok(Calibration::new(
        (&initial_tiles(0), &initial_tiles(1)),
        &pca.component_tiles(CALIBRATION_COMPONENTS),
        &digits,
        active,
    ))
}

/// This machine's CPU, its hardware threads and the build.
pub(crate) fn machine_description() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    format!("{cpu}, {threads} hardware threads; {build} build")
}
