//! The study report: trains what is missing of the seven cases (and the corrected variants with
//! dropout on the hidden layer only), measures them, and writes `report/index.html` and
//! `report/report.md` with figures beside them.

mod measure;
mod page;
mod probe;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use data::{Mnist, NoisedMnist, PIXELS, Split};
use figures::{ChartOptions, image::DynamicImage, loss_chart};
use serde::Serialize;

use crate::artifacts::{self, write_atomic};
use crate::backend::Backend;
use crate::codes::CodeMapSummary;
use crate::config::{CASE_COUNT, TrainingConfig};
use crate::inference::{ModelChoice, TrainedRun, logged_losses};
use crate::progress::{JobProgress, RunProgress, epoch_units};
use crate::renderer::read_epochs;
use crate::run::{Plan, Start};
use crate::training::{RunOptions, test_noise_seed, train};
use crate::visualize::{FigureOptions, write_figures};

pub use measure::{
    ACTIVE_PIXEL_SHARE, CaseNumbers, FilterSummary, IDENTITY_TEST_IMAGES, Pca, centred_covariance,
    encode, principal_components,
};
pub use probe::{Classifier, Labelled, fit, study_linear};

/// The cases whose corrected variant (dropout on the hidden layer only) gets its own row.
pub const CORRECTED_CASES: [usize; 4] = [1, 3, 5, 6];
/// Training images per run in `--quick` mode.
pub const QUICK_IMAGES: usize = 2000;
/// Seeds of the fine-tuning comparison.
pub const FINE_TUNE_SEEDS: u64 = 3;

/// How to build the report.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Root of the runs (`artifacts`): each case lives in `<root>/<name>`, the report in
    /// `<root>/report`.
    pub root: PathBuf,
    /// Directory of the MNIST files.
    pub data_dir: PathBuf,
    /// Backend for training missing runs (measurements run on the CPU).
    pub backend: Backend,
    /// Small runs for a smoke test: 2000 training images, 1 epoch, short probes.
    pub quick: bool,
    /// Use only runs that exist; train nothing.
    pub reuse: bool,
    /// Seeds of every run: 0..seeds (seed 0's runs keep the plain names).
    pub seeds: u64,
}

impl ReportOptions {
    /// Epochs of the linear probes.
    fn probe_epochs(&self) -> usize {
        if self.quick { 5 } else { 10 }
    }

    /// Epochs of each fine-tuning run.
    fn fine_tune_epochs(&self) -> usize {
        if self.quick { 1 } else { 3 }
    }
}

/// Most seeds a report trains.
pub const MAX_SEEDS: u64 = 10;

/// The configs the report covers: the seven cases, then the corrected variants, for seed 0; then
/// the same for each further seed `k`, named `<run>-seed<k>`.
pub fn planned_configs(quick: bool, seeds: u64) -> Result<Vec<TrainingConfig>> {
    let base = seed_zero_configs(quick)?;
    let mut configs = base.clone();
    for seed in 1..seeds {
        for config in &base {
            let mut config = config.clone();
            config.name = format!("{}-seed{seed}", config.name);
            config.seed = seed;
            configs.push(config);
        }
    }
    Ok(configs)
}

/// The run a report run belongs to: `case1-hidden-dropout` for `case1-hidden-dropout-seed2`.
pub fn run_of(name: &str) -> &str {
    match name.rsplit_once("-seed") {
        Some((run, seed)) if seed.parse::<u64>().is_ok() => run,
        _ => name,
    }
}

fn seed_zero_configs(quick: bool) -> Result<Vec<TrainingConfig>> {
    let mut configs = Vec::new();
    for case in 1..=CASE_COUNT {
        configs.push(TrainingConfig::case(case)?);
    }
    for case in CORRECTED_CASES {
        let mut config = TrainingConfig::case(case)?;
        config.name = format!("case{case}-hidden-dropout");
        config.description = format!("{} — dropout on the hidden layer only", config.description);
        config.model.output_dropout = false;
        configs.push(config);
    }
    if quick {
        for config in &mut configs {
            config.epochs = 1;
            config.limit = Some(QUICK_IMAGES);
        }
    }
    Ok(configs)
}

/// One row of the report: a run, its logged losses and the numbers measured on it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseReport {
    /// Run directory name (`case1`, `case1-hidden-dropout`, `case1-seed2`).
    pub name: String,
    /// The run it is a seed of (`case1` for `case1-seed2`).
    pub run: String,
    /// Its seed.
    pub seed: u64,
    /// The case's description.
    pub description: String,
    /// The configuration summary.
    pub summary: String,
    /// Hidden units.
    pub hidden: usize,
    /// Whether dropout follows the output layer in training.
    pub output_dropout: bool,
    /// Dropout probability.
    pub dropout: f64,
    /// Masking-noise ratio.
    pub noise: f64,
    /// Epochs trained.
    pub epochs: usize,
    /// Training images per epoch.
    pub train_images: usize,
    /// The backend that trained it (absent for runs saved before it was recorded).
    pub backend: Option<String>,
    /// Final mean training loss (with dropout active, as logged).
    pub train_loss: f64,
    /// Final test MSE as logged by the learner.
    pub logged_test_mse: f64,
    /// Seconds of training and evaluation, summed over epochs.
    pub seconds: f64,
    /// Measured numbers.
    pub numbers: CaseNumbers,
    /// Linear-probe test accuracy on the frozen hidden codes.
    pub probe_accuracy: f64,
    /// The map of the test images' codes (`codes.png`).
    pub codes: CodeMapSummary,
    /// Figures, relative to the report directory.
    pub figures: Vec<String>,
}

/// One of the study's claims, judged on every seed.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    /// The claim, in the study's words.
    pub claim: String,
    /// The numbers that bear on it, for seed 0.
    pub numbers: String,
    /// The verdict over all seeds: a seed-0 verdict that every seed shares, or "mixed".
    pub verdict: String,
    /// Each seed's numbers and verdict.
    pub seeds: Vec<SeedVerdict>,
}

/// A claim's numbers and verdict for one seed.
#[derive(Debug, Clone, Serialize)]
pub struct SeedVerdict {
    /// The seed.
    pub seed: u64,
    /// The numbers.
    pub numbers: String,
    /// The verdict.
    pub verdict: String,
}

/// Fine-tuning of a `784 → n → 10` network from an autoencoder's first layer vs from random.
#[derive(Debug, Clone, Serialize)]
pub struct FineTune {
    /// The autoencoder whose encoder initialises the pretrained network.
    pub source: String,
    /// Hidden units.
    pub hidden: usize,
    /// Epochs per run.
    pub epochs: usize,
    /// Training images.
    pub train_images: usize,
    /// Test accuracy per seed, from the autoencoder's first layer.
    pub pretrained: Vec<f64>,
    /// Test accuracy per seed, from the study's random initialisation.
    pub random: Vec<f64>,
}

/// The whole report's data, also written as `report.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Quick (smoke-test) mode.
    pub quick: bool,
    /// Seeds per run.
    pub seeds: u64,
    /// The machine that measured.
    pub machine: String,
    /// Pixels counted in the filter-structure measure (see [`measure::active_pixels`]).
    pub active_pixels: usize,
    /// One row per available run, cases first.
    pub cases: Vec<CaseReport>,
    /// Planned runs that were not available (with `--reuse`).
    pub missing: Vec<String>,
    /// Linear-probe accuracy on raw pixels, for reference.
    pub pixel_probe_accuracy: f64,
    /// Probe epochs.
    pub probe_epochs: usize,
    /// Fine-tuning comparison, when case 1 is available.
    pub fine_tune: Option<FineTune>,
    /// The study's claims, judged on every seed.
    pub claims: Vec<Claim>,
    /// Seconds of the epochs trained in this invocation.
    pub training_seconds: f64,
    /// Seconds spent measuring and drawing.
    pub analysis_seconds: f64,
}

/// The report directory under `root`.
pub fn report_dir(root: &Path) -> PathBuf {
    root.join("report")
}

/// Trains what is missing (unless `reuse`), measures every run and writes the report; returns
/// the path of `index.html`.
pub fn build_report(options: &ReportOptions) -> Result<(Report, PathBuf)> {
    let configs = planned_configs(options.quick, options.seeds)?;
    let (available, missing, training_seconds) = if options.reuse {
        let (available, missing) = finished_runs(&options.root, &configs)?;
        (available, missing, 0.0)
    } else {
        let (available, seconds) = train_missing(options, &configs)?;
        (available, Vec::new(), seconds)
    };
    if available.is_empty() {
        bail!(
            "{}: no finished runs to report on (run without --reuse to train them)",
            options.root.display()
        );
    }
    check_pooled(&available)?;

    let analysis_started = Instant::now();
    let out = report_dir(&options.root);
    std::fs::create_dir_all(&out).with_context(|| format!("{}: cannot create", out.display()))?;
    let report = analyse(options, &available, missing, &out, training_seconds)?;
    let mut report = report;
    report.claims = page::claims(&report);
    report.analysis_seconds = analysis_started.elapsed().as_secs_f64();
    let json = serde_json::to_string_pretty(&report)?;
    write_atomic(&out.join("report.json"), json.as_bytes())?;
    write_atomic(&out.join("report.md"), page::markdown(&report).as_bytes())?;
    let index = out.join("index.html");
    write_atomic(&index, page::html(&report).as_bytes())?;
    Ok((report, index))
}

/// Trains what is missing of `configs` (every run is checked before the first one trains: a
/// refusal changes nothing); returns the run directories and the seconds of the epochs trained.
fn train_missing(
    options: &ReportOptions,
    configs: &[TrainingConfig],
) -> Result<(Vec<PathBuf>, f64)> {
    // What `train` will check, with the backend it will record.
    let configs: Vec<TrainingConfig> = configs
        .iter()
        .map(|c| {
            c.clone()
                .with_backend(Some(options.backend.name().to_string()))
        })
        .collect();
    let configs = &configs[..];
    let mut plans = Vec::new();
    for config in configs {
        let dir = options.root.join(&config.name);
        plans.push(crate::run::check_start(&dir, config, Start::Continue)?);
    }
    let images = |config: &TrainingConfig| config.limit.unwrap_or(60_000);
    let remaining = |config: &TrainingConfig, plan: &Plan| match plan {
        Plan::Restart => config.epochs,
        Plan::ResumeAfter(k) => config.epochs.saturating_sub(*k),
        Plan::FinishAt(_) | Plan::Finished(_) => 0,
    };
    let total: f64 = configs
        .iter()
        .zip(&plans)
        .map(|(c, p)| remaining(c, p) as f64 * epoch_units(images(c), c.model.hidden))
        .sum();
    let job = JobProgress::new(configs.len(), total);
    let mut available = Vec::new();
    let mut seconds = 0.0;
    for (config, plan) in configs.iter().zip(&plans) {
        let dir = options.root.join(&config.name);
        let what = match plan {
            Plan::Restart => format!("training {}", count(config.epochs, "epoch")),
            Plan::ResumeAfter(k) => format!("resuming after epoch {k} of {}", config.epochs),
            Plan::FinishAt(_) | Plan::Finished(_) => "finished, reused".into(),
        };
        crate::out!("{}", job.start_run(&config.name, &what));
        let mut run = RunOptions::new(dir.clone(), options.data_dir.clone(), options.backend);
        run.start = Start::Continue;
        run.progress = Some(RunProgress {
            job: job.clone(),
            epoch_units: epoch_units(images(config), config.model.hidden),
        });
        let summary = train(config, &run)?;
        seconds += summary
            .epochs
            .iter()
            .map(|r| r.train_seconds + r.test_seconds)
            .sum::<f64>();
        available.push(dir);
    }
    Ok((available, seconds))
}

/// The finished runs of `configs` under `root` (`--reuse`), and the names of those that are not
/// finished. A run of another configuration, or one whose files disagree, is refused.
fn finished_runs(root: &Path, configs: &[TrainingConfig]) -> Result<(Vec<PathBuf>, Vec<String>)> {
    let (mut available, mut missing) = (Vec::new(), Vec::new());
    for config in configs {
        let dir = root.join(&config.name);
        let found = crate::run::Found::read(&dir);
        if !found.finished {
            crate::out!("{}: no finished run; left out (--reuse)", dir.display());
            missing.push(config.name.clone());
            continue;
        }
        crate::run::plan(&dir, &found, config, Start::Continue)?;
        if let Err(what) = found.coherent {
            return Err(crate::run::RunError::Inconsistent { dir, what }.into());
        }
        available.push(dir);
    }
    Ok((available, missing))
}

/// Refuses to pool the seeds of a run whose configurations differ in anything but the seed (and
/// the backend that trained them): their mean ± sd would mix two experiments.
fn check_pooled(runs: &[PathBuf]) -> Result<()> {
    let mut first: Vec<TrainingConfig> = Vec::new();
    for dir in runs {
        let config = artifacts::load_config(dir)?;
        let Some(base) = first
            .iter()
            .find(|c| run_of(&c.name) == run_of(&config.name))
        else {
            first.push(config);
            continue;
        };
        let diffs: Vec<String> = crate::run::config_diff(base, &config)
            .into_iter()
            .filter(|d| d.field != "seed" && d.field != "backend")
            .map(|d| d.to_string())
            .collect();
        if !diffs.is_empty() {
            bail!(
                "{} and {} are seeds of one run but differ ({}); their mean would mix two experiments",
                base.name,
                config.name,
                diffs.join(", ")
            );
        }
    }
    Ok(())
}

/// `1 epoch`, `3 epochs`.
pub fn count(n: usize, what: &str) -> String {
    match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    }
}

/// Pixels of every image of `set` (clean), flat.
fn clean_pixels(set: &Mnist) -> Vec<f32> {
    (0..set.len()).flat_map(|i| set.pixels(i)).collect()
}

fn labels(set: &Mnist) -> Vec<u8> {
    (0..set.len()).map(|i| set.label(i)).collect()
}

fn analyse(
    options: &ReportOptions,
    runs: &[PathBuf],
    missing: Vec<String>,
    out: &Path,
    training_seconds: f64,
) -> Result<Report> {
    use measure::{IdentityProbes, Images, TestSet, measure};
    let cpu = Device::flex();
    let ad = cpu.clone().autodiff();
    let mut train_set = Mnist::load(&options.data_dir, Split::Train)?;
    if options.quick {
        train_set = train_set.limit(QUICK_IMAGES);
    }
    let test_set = Mnist::load(&options.data_dir, Split::Test)?;
    crate::out!(
        "report: measuring {} runs on {} training / {} test images",
        runs.len(),
        train_set.len(),
        test_set.len()
    );
    let train_images = Images::new(clean_pixels(&train_set), &cpu);
    let test_clean = Images::new(clean_pixels(&test_set), &cpu);
    let (train_labels, test_labels) = (labels(&train_set), labels(&test_set));
    let pca = Pca::fit(&train_images);
    let probes = IdentityProbes::new(&test_clean, 0x1d_e4_71_7e);
    let active = measure::active_pixels(&train_set);
    let probe_epochs = options.probe_epochs();

    let pixel_probe_accuracy = {
        cpu.seed(0);
        let train = Labelled::from_tensor(train_images.pixels.clone(), &train_labels, &cpu);
        let test = Labelled::from_tensor(test_clean.pixels.clone(), &test_labels, &cpu);
        fit(Classifier::linear(PIXELS, &ad), &train, probe_epochs, 0).accuracy(&test)
    };

    let mut cases = Vec::new();
    let mut all_losses = Vec::new();
    let measuring = Instant::now();
    for (k, dir) in runs.iter().enumerate() {
        let run = TrainedRun::load(dir, &ModelChoice::Final, cpu.clone())?;
        let config = &run.config;
        let left = match k {
            0 => String::new(),
            k => format!(
                ", about {} left",
                crate::progress::clock(
                    measuring
                        .elapsed()
                        .mul_f64((runs.len() - k) as f64 / k as f64)
                )
            ),
        };
        crate::out!(
            "report: measuring run {}/{} {} ({}); {} elapsed{left}",
            k + 1,
            runs.len(),
            config.name,
            config.summary(),
            crate::progress::clock(measuring.elapsed())
        );
        // Without noise the inputs are the clean images: share them instead of rebuilding them.
        let inputs = if config.noise > 0.0 {
            let noised =
                NoisedMnist::new(test_set.clone(), config.noise, test_noise_seed(config.seed));
            Images::new(
                (0..noised.len()).flat_map(|i| noised.input(i)).collect(),
                &cpu,
            )
        } else {
            test_clean.clone()
        };
        let test = TestSet {
            inputs,
            targets: test_clean.clone(),
        };
        ad.seed(config.seed);
        let dropout_model = run.model.clone().to_device(&ad).train();
        let numbers = measure(&run.model, &dropout_model, &test, &pca, &probes, &active);

        cpu.seed(config.seed);
        let codes_train = measure::encode(&run.model, &train_images.pixels);
        let codes_test = measure::encode(&run.model, &test_clean.pixels);
        let probe_accuracy = fit(
            Classifier::linear(run.model.hidden(), &ad),
            &Labelled::from_tensor(codes_train, &train_labels, &cpu),
            probe_epochs,
            config.seed,
        )
        .accuracy(&Labelled::from_tensor(codes_test, &test_labels, &cpu));

        let figure_dir = out.join(&config.name);
        let label = format!("{} ({})", config.name, count(config.epochs, "epoch"));
        let mut figure_options = FigureOptions::new(options.data_dir.clone(), figure_dir, label);
        figure_options.samples = 30;
        let drawn = write_figures(&run, &figure_options)?;
        let figures = drawn
            .files
            .iter()
            .filter_map(|p| p.strip_prefix(out).ok())
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .collect();
        let epochs = read_epochs(&dir.join("epochs.csv"));
        let last = epochs.last();
        let run_name = run_of(&config.name).to_string();
        if config.seed == 0 && !run_name.contains('-') {
            all_losses.push(logged_losses(dir, &config.name)?);
        }
        cases.push(CaseReport {
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
            train_images: config.limit.unwrap_or(60_000).min(60_000),
            backend: config.backend.clone(),
            train_loss: last.map_or(f64::NAN, |r| r.train_loss),
            logged_test_mse: last.map_or(f64::NAN, |r| r.test_mse),
            seconds: epochs
                .iter()
                .map(|r| r.train_seconds + r.test_seconds)
                .sum(),
            numbers,
            probe_accuracy,
            codes: drawn.codes,
            figures,
        });
    }

    if !all_losses.is_empty() {
        let chart = loss_chart(
            &all_losses,
            &ChartOptions {
                title: "All cases: training (solid) and test (dashed) loss".into(),
                log_y: true,
                size: (960, 600),
            },
        )
        .map_err(anyhow::Error::msg)?;
        let bytes = figures::encode_png(&DynamicImage::ImageRgb8(chart))?;
        write_atomic(&out.join("loss-all.png"), &bytes)?;
    }

    let fine_tune = match runs
        .iter()
        .find(|d| d.file_name().is_some_and(|n| n == "case1"))
    {
        Some(dir) => Some(fine_tune(
            dir,
            options,
            &Labelled::from_tensor(train_images.pixels.clone(), &train_labels, &cpu),
            &Labelled::from_tensor(test_clean.pixels.clone(), &test_labels, &cpu),
        )?),
        None => None,
    };

    Ok(Report {
        quick: options.quick,
        seeds: options.seeds,
        machine: machine_description(),
        active_pixels: active.iter().filter(|&&a| a).count(),
        cases,
        missing,
        pixel_probe_accuracy,
        probe_epochs,
        fine_tune,
        claims: Vec::new(),
        training_seconds,
        analysis_seconds: 0.0,
    })
}

/// A `784 → n → 10` ReLU network trained on labels from `dir`'s encoder and from random
/// weights, for [`FINE_TUNE_SEEDS`] seeds; the output layer starts equal in both.
fn fine_tune(
    dir: &Path,
    options: &ReportOptions,
    train: &Labelled,
    test: &Labelled,
) -> Result<FineTune> {
    let cpu = Device::flex();
    let ad = cpu.clone().autodiff();
    let run = TrainedRun::load(dir, &ModelChoice::Final, cpu)?;
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
            let model = fit(Classifier::from_layers(first, output), train, epochs, seed);
            let accuracy = model.accuracy(test);
            if from_autoencoder {
                pretrained.push(accuracy);
            } else {
                random.push(accuracy);
            }
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

/// This machine's CPU.
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
    format!(
        "{cpu}, {threads} hardware threads; {} build",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_seed_is_a_run_of_its_own_named_after_the_seed() {
        let configs = planned_configs(true, 3).unwrap();
        assert_eq!(configs.len(), 33);
        let names: Vec<&str> = configs.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names[0], "case1");
        assert_eq!(names[11], "case1-seed1");
        assert_eq!(names[32], "case6-hidden-dropout-seed2");
        for config in &configs {
            let seed = config.seed;
            assert_eq!(config.name.ends_with(&format!("-seed{seed}")), seed > 0);
            assert_eq!(config.epochs, 1);
        }
        assert_eq!(run_of("case6-hidden-dropout-seed2"), "case6-hidden-dropout");
        assert_eq!(run_of("case1"), "case1");
        assert_eq!(run_of("my-seedling"), "my-seedling");
    }
}
