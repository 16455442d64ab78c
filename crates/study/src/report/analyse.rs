//! The report's measuring: every run's numbers (analysis crate), figures and linear probe, the
//! loss chart of all cases, and the fine-tuning comparison.

use std::path::{Path, PathBuf};

use analysis::{Classifier, fit, study_linear};
use burn::prelude::*;
use data::PIXELS;
use figures::{
    ChartOptions, Distribution, DistributionChart, LossCurves, distribution_chart,
    image::DynamicImage, loss_chart,
};

use crate::drawing::write_png;
use crate::drawing::{FigureOptions, write_figures};
use crate::loss_logs::logged_losses;
use crate::measuring::{Measuring, RunNumbers, probe_epochs};
use crate::study_error::{Error, Result};
use trainer::epochs::{EPOCHS_CSV, read_epochs};
use trainer::events::{Event, Job};
use trainer::inference::{ModelChoice, TrainedRun};
use trainer::wording::count;

use super::report_data::{CaseReport, FineTune, Report};
use super::report_plan::{FINE_TUNE_SEEDS, QUICK_IMAGES, ReportOptions, run_of};

/// Test images per run in the report's reconstruction figures.
const REPORT_SAMPLES: usize = 30;

/// Measures every run in `runs`, draws its figures into `out`, and the loss chart of all cases.
pub(super) fn analyse(options: &ReportOptions, runs: &[PathBuf], out: &Path) -> Result<Report> {
    let limit = options.quick.then_some(QUICK_IMAGES);
    let m = Measuring::prepare(&options.data_dir, limit, probe_epochs(options.quick))?;
    options.events.event(&Event::MeasuringStarted {
        job: Job::Report,
        runs: runs.len(),
        train_images: m.train_images.rows(),
        test_images: m.test_set.len(),
    });
    let pixel_probe_accuracy = m.pixel_probe();
    calibration_figure(&m, out)?;
    let mut cases = Vec::new();
    let mut all_losses = Vec::new();
    for (i, dir) in runs.iter().enumerate() {
        let (case, losses) = measure_run(&m, dir, out, options, (i + 1, runs.len()))?;
        all_losses.extend(losses);
        cases.push(case);
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
        machine: crate::measuring::machine_description(),
        active_pixels: m.active.iter().filter(|&&a| a).count(),
        calibration: m.calibration.summary(),
        cases,
        missing: Vec::new(),
        pixel_probe_accuracy,
        probe_epochs: m.probe_epochs,
        fine_tune,
        claims: Vec::new(),
        sweep_axes: 0,
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
    (index, of): (usize, usize),
) -> Result<(CaseReport, Option<LossCurves>)> {
    let run = TrainedRun::load(dir, &ModelChoice::Final, m.cpu.clone())?;
    let config = &run.config;
    let name = config.name.clone();
    let job = Job::Report;
    options.events.event(&Event::Measuring {
        job,
        index,
        of,
        name,
    });
    let RunNumbers {
        numbers,
        probe_accuracy,
    } = m.run_numbers(&run);
    let label = format!("{} ({})", config.name, count(config.epochs, "epoch"));
    let mut figure_options =
        FigureOptions::new(options.data_dir.clone(), out.join(&config.name), label);
    figure_options.samples = REPORT_SAMPLES;
    let drawn = write_figures(&run, &figure_options)?;
    let structure = units_figure(m, &numbers, &config.name, out)?;
    let figures = drawn
        .files
        .iter()
        .chain(std::iter::once(&structure))
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

/// The ratio axis of the structure figures: 0 (smooth) to a little past noise's 1.
const RATIO_RANGE: (f64, f64) = (0.0, 1.25);

/// `structure-calibration.png`: the structure ratios of tiles known to be noise and known to be
/// structured, and the threshold read off them.
fn calibration_figure(m: &Measuring, out: &Path) -> Result<()> {
    let c = &m.calibration;
    let set = |label: &str, values: &[f64], dashed: bool| Distribution {
        label: label.into(),
        values: values.to_vec(),
        dashed,
    };
    let chart = DistributionChart {
        title: "The structure measure on tiles of known nature".into(),
        x_label: "structure ratio: roughness ÷ roughness of the same values shuffled".into(),
        range: RATIO_RANGE,
        bins: 50,
        distributions: vec![
            set("initial weights (noise)", &c.noise, true),
            set(
                "principal components 1–100 of the digits",
                &c.components,
                false,
            ),
            set("test digits", &c.digits, false),
        ],
        threshold: Some((c.threshold, format!("threshold {:.3}", c.threshold))),
        size: (900, 460),
    };
    let image = distribution_chart(&chart).map_err(Error::Figure)?;
    std::fs::create_dir_all(out).map_err(|e| trainer::files::file_error(out, e))?;
    write_png(
        &out.join("structure-calibration.png"),
        &DynamicImage::ImageRgb8(image),
    )
}

/// `<run>/structure.png`: the structure ratios of the run's live and dead units' w1 tiles,
/// beside the noise of the calibration and its threshold; returns its path.
fn units_figure(
    m: &Measuring,
    numbers: &analysis::CaseNumbers,
    name: &str,
    out: &Path,
) -> Result<PathBuf> {
    let t = &numbers.tiles;
    let pick = |live: bool| -> Vec<f64> {
        t.w1_ratio
            .iter()
            .zip(&t.live)
            .filter(|(_, l)| **l == live)
            .map(|(r, _)| *r)
            .collect()
    };
    let threshold = m.calibration.threshold;
    let chart = DistributionChart {
        title: format!("{name}: structure of the w1 tiles, live and dead units apart"),
        x_label: "structure ratio (below the threshold: structured)".into(),
        range: RATIO_RANGE,
        bins: 50,
        distributions: vec![
            Distribution {
                label: "live units".into(),
                values: pick(true),
                dashed: false,
            },
            Distribution {
                label: "dead units".into(),
                values: pick(false),
                dashed: false,
            },
            Distribution {
                label: "initial weights (noise)".into(),
                values: m.calibration.noise.clone(),
                dashed: true,
            },
        ],
        threshold: Some((threshold, format!("threshold {threshold:.3}"))),
        size: (720, 400),
    };
    let image = distribution_chart(&chart).map_err(Error::Figure)?;
    let path = out.join(name).join("structure.png");
    write_png(&path, &DynamicImage::ImageRgb8(image))?;
    Ok(path)
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
    write_png(&out.join("loss-all.png"), &DynamicImage::ImageRgb8(chart))
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
        let source = run.config.name.clone();
        options.events.event(&Event::FineTuning { source, seed });
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
