//! The report's measuring: every run's numbers (analysis crate), figures and linear probe, the
//! loss chart of all cases, and the fine-tuning comparison.

use std::path::{Path, PathBuf};

use analysis::{
    Classifier, IdentityProbes, Images, Labelled, Pca, TestSet, active_pixels, fit, measure,
    study_linear,
};
use burn::prelude::*;
use data::{Mnist, NoisedMnist, PIXELS, Split};
use figures::{ChartOptions, LossCurves, image::DynamicImage, loss_chart};

use crate::config::count;
use crate::drawing::{FigureOptions, write_figures};
use crate::epochs::{EPOCHS_CSV, read_epochs};
use crate::error::{Error, Result};
use crate::files::{file_error, write_atomic};
use crate::inference::{ModelChoice, TrainedRun, logged_losses};
use crate::progress::JobProgress;

use super::data::{CaseReport, FineTune, Report};
use super::plan::{FINE_TUNE_SEEDS, QUICK_IMAGES, ReportOptions, run_of};

/// Seed of the identity test's noise and shuffled digits.
const PROBE_SEED: u64 = 0x1d_e4_71_7e;
/// Test images per run in the report's reconstruction figures.
const REPORT_SAMPLES: usize = 30;

/// What every run is measured against: the training and test images, their labels, the PCA
/// baseline, the identity test's images and the pixels that count for filter structure.
struct Measuring {
    cpu: Device,
    train_set: Mnist,
    test_set: Mnist,
    train_images: Images,
    test_clean: Images,
    train_labels: Vec<u8>,
    test_labels: Vec<u8>,
    pca: Pca,
    probes: IdentityProbes,
    active: Vec<bool>,
    probe_epochs: usize,
}

impl Measuring {
    fn prepare(options: &ReportOptions) -> Result<Self> {
        let cpu = Device::flex();
        let mut train_set = Mnist::load(&options.data_dir, Split::Train)?;
        if options.quick {
            train_set = train_set.limit(QUICK_IMAGES);
        }
        let test_set = Mnist::load(&options.data_dir, Split::Test)?;
        let pixels = |set: &Mnist| (0..set.len()).flat_map(|i| set.pixels(i)).collect();
        let labels = |set: &Mnist| (0..set.len()).map(|i| set.label(i)).collect();
        let train_images = Images::new(pixels(&train_set), &cpu);
        let test_clean = Images::new(pixels(&test_set), &cpu);
        Ok(Self {
            pca: Pca::fit(&train_images),
            probes: IdentityProbes::new(&test_clean, PROBE_SEED),
            active: active_pixels(&train_set),
            train_labels: labels(&train_set),
            test_labels: labels(&test_set),
            probe_epochs: options.probe_epochs(),
            train_images,
            test_clean,
            train_set,
            test_set,
            cpu,
        })
    }

    /// The labelled clean training and test images.
    fn labelled_pixels(&self) -> (Labelled, Labelled) {
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
    fn probe(&self, features: (Tensor<2>, Tensor<2>), seed: u64) -> f64 {
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

    /// The test set as `config` feeds it: noised inputs (with the run's test masks), clean
    /// targets; without noise the inputs are the clean images, shared.
    fn test_set_of(&self, noise: f64, seed: u64) -> TestSet {
        let inputs = if noise > 0.0 {
            let noised =
                NoisedMnist::new(self.test_set.clone(), noise, data::test_noise_seed(seed));
            let flat = (0..noised.len()).flat_map(|i| noised.input(i)).collect();
            Images::new(flat, &self.cpu)
        } else {
            self.test_clean.clone()
        };
        TestSet {
            inputs,
            targets: self.test_clean.clone(),
        }
    }
}

/// Measures every run in `runs`, draws its figures into `out`, and the loss chart of all cases.
pub(super) fn analyse(options: &ReportOptions, runs: &[PathBuf], out: &Path) -> Result<Report> {
    let m = Measuring::prepare(options)?;
    crate::out!(
        "report: measuring {} on {} training / {} test images",
        count(runs.len(), "run"),
        m.train_set.len(),
        m.test_set.len()
    );
    m.cpu.seed(0);
    let pixel_probe_accuracy = m.probe(
        (m.train_images.pixels.clone(), m.test_clean.pixels.clone()),
        0,
    );
    let job = JobProgress::new("report: measuring", runs.len(), runs.len() as f64);
    let mut cases = Vec::new();
    let mut all_losses = Vec::new();
    for dir in runs {
        let (case, losses) = measure_run(&m, dir, out, options, &job)?;
        all_losses.extend(losses);
        cases.push(case);
        job.work_done(1.0);
    }
    loss_chart_of_all(&all_losses, out)?;
    let case1 = runs
        .iter()
        .find(|d| d.file_name().is_some_and(|n| n == "case1"));
    let fine_tune = match case1 {
        Some(dir) => Some(fine_tune(dir, options, &m)?),
        None => None,
    };
    Ok(Report {
        quick: options.quick,
        seeds: options.seeds,
        machine: machine_description(),
        active_pixels: m.active.iter().filter(|&&a| a).count(),
        cases,
        missing: Vec::new(),
        pixel_probe_accuracy,
        probe_epochs: m.probe_epochs,
        fine_tune,
        claims: Vec::new(),
        training_seconds: 0.0,
        analysis_seconds: 0.0,
    })
}

/// One run's row of the report, and its loss curves when it is one of the seven cases' seed 0.
fn measure_run(
    m: &Measuring,
    dir: &Path,
    out: &Path,
    options: &ReportOptions,
    job: &JobProgress,
) -> Result<(CaseReport, Option<LossCurves>)> {
    let run = TrainedRun::load(dir, &ModelChoice::Final, m.cpu.clone())?;
    let config = &run.config;
    crate::out!(
        "{}",
        job.start_run(&config.name, &format!(" ({})", config.summary()))
    );
    let ad = m.cpu.clone().autodiff();
    ad.seed(config.seed);
    let dropout_model = run.model.clone().to_device(&ad).train();
    let test = m.test_set_of(config.noise, config.seed);
    let numbers = measure(
        &run.model,
        &dropout_model,
        &test,
        &m.pca,
        &m.probes,
        &m.active,
    );
    m.cpu.seed(config.seed);
    let codes = (
        run.model.codes(&m.train_images.pixels),
        run.model.codes(&m.test_clean.pixels),
    );
    let probe_accuracy = m.probe(codes, config.seed);
    let label = format!("{} ({})", config.name, count(config.epochs, "epoch"));
    let mut figure_options =
        FigureOptions::new(options.data_dir.clone(), out.join(&config.name), label);
    figure_options.samples = REPORT_SAMPLES;
    let drawn = write_figures(&run, &figure_options)?;
    let figures = drawn
        .files
        .iter()
        .filter_map(|p| p.strip_prefix(out).ok())
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect();
    let run_name = run_of(&config.name).to_string();
    let losses = (config.seed == 0 && !run_name.contains('-'))
        .then(|| logged_losses(dir, &config.name))
        .transpose()?;
    let epochs = read_epochs(&dir.join(EPOCHS_CSV));
    let last = epochs.last();
    let case = CaseReport {
        name: config.name.clone(),
        run: run_name,
        seed: config.seed,
        description: config.description.clone(),
        summary: config.summary(),
        hidden: config.model.hidden,
        output_dropout: config.model.output_dropout && config.model.dropout > 0.0,
        dropout: config.model.dropout,
        noise: config.noise,
        epochs: last.map_or(0, |r| r.epoch),
        train_images: config.train_images(),
        backend: config.backend.clone(),
        train_loss: last.map_or(f64::NAN, |r| r.train_loss),
        logged_test_mse: last.map_or(f64::NAN, |r| r.test_mse),
        seconds: epochs.iter().map(|r| r.seconds()).sum(),
        numbers,
        probe_accuracy,
        codes: drawn.codes,
        figures,
    };
    Ok((case, losses))
}

/// `loss-all.png`: the seven cases' curves on one log-scale chart.
fn loss_chart_of_all(all_losses: &[LossCurves], out: &Path) -> Result<()> {
    if all_losses.is_empty() {
        return Ok(());
    }
    let options = ChartOptions {
        title: "All cases: training (solid) and test (dashed) loss".into(),
        log_y: true,
        size: (960, 600),
    };
    let chart = loss_chart(all_losses, &options).map_err(Error::Figure)?;
    let bytes = figures::encode_png(&DynamicImage::ImageRgb8(chart))
        .map_err(|e| Error::Figure(e.to_string()))?;
    let path = out.join("loss-all.png");
    write_atomic(&path, &bytes).map_err(|e| file_error(&path, e))
}

/// A `784 → n → 10` ReLU network trained on labels from `dir`'s encoder and from random
/// weights, for [`FINE_TUNE_SEEDS`] seeds; the output layer starts equal in both.
fn fine_tune(dir: &Path, options: &ReportOptions, m: &Measuring) -> Result<FineTune> {
    let (train, test) = m.labelled_pixels();
    let ad = m.cpu.clone().autodiff();
    let run = TrainedRun::load(dir, &ModelChoice::Final, m.cpu.clone())?;
    let hidden = run.model.hidden();
    let epochs = options.fine_tune_epochs();
    let (mut pretrained, mut random) = (Vec::new(), Vec::new());
    for seed in 0..FINE_TUNE_SEEDS {
        crate::out!(
            "report: fine-tuning from {} vs random, seed {seed}",
            run.config.name
        );
        for from_autoencoder in [true, false] {
            ad.seed(seed);
            let output = study_linear(hidden, 10, &ad);
            let first = if from_autoencoder {
                run.model.encoder.clone().to_device(&ad).train()
            } else {
                study_linear(PIXELS, hidden, &ad)
            };
            let model = fit(Classifier::from_layers(first, output), &train, epochs, seed);
            let accuracies = if from_autoencoder {
                &mut pretrained
            } else {
                &mut random
            };
            accuracies.push(model.accuracy(&test));
        }
    }
    Ok(FineTune {
        source: run.config.name.clone(),
        hidden,
        epochs,
        train_images: train.len(),
        pretrained,
        random,
    })
}

/// This machine's CPU, its hardware threads and the build.
fn machine_description() -> String {
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
