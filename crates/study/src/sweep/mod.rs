//! Sweeps: one setting of a study case varied over a list of values, each value an ordinary run
//! per seed (trained, resumed or reused by the report's rules), measured with the report's own
//! measurements, drawn as curves and read as sentences. The program writes the page.

mod findings;
mod sweep_data;
mod sweep_figures;
mod sweep_plan;

use std::path::{Path, PathBuf};

pub use sweep_data::{AxisReport, Finding, Measure, PointNumbers, PointReport, SweepReport};
pub use sweep_plan::{
    Axis, AxisKind, DEFAULT_BASE, DEFAULT_EPOCHS, Point, PointTraining, Sweep, SweepError,
};

pub use trainer::config::Placement;

use sweep_plan::STUDY_EPOCHS;

use crate::batch::{Batch, train_missing};
use crate::measuring::{Measuring, RunNumbers, machine_description};
use crate::study_error::Result;
use trainer::backend::Backend;
use trainer::config::TrainingConfig;
use trainer::epochs::{EPOCHS_CSV, read_epochs};
use trainer::events::{Event, Job, JobRun};
use trainer::inference::{ModelChoice, TrainedRun};
use trainer::training::Outcome;
use trainer::wording::count;

/// Training images per point of a quick (smoke-test) sweep.
pub use crate::measuring::QUICK_IMAGES;
/// The sweep's data file, in the sweep directory.
pub const SWEEP_JSON: &str = "sweep.json";

/// What to sweep, and how.
#[derive(Clone)]
pub struct SweepOptions {
    /// Root of the runs: every point in `<root>/sweep-…`, the page in `<root>/sweep`.
    pub root: PathBuf,
    /// Directory of the MNIST files.
    pub data_dir: PathBuf,
    /// Backend of the training (measuring runs on the CPU).
    pub backend: Backend,
    /// The sweeps.
    pub sweeps: Vec<Sweep>,
    /// How every point trains.
    pub training: PointTraining,
    /// Short linear probes (a smoke test).
    pub quick: bool,
    /// Where its events go (the points' training, the measuring).
    pub events: trainer::events::Sink,
    /// Take over a lock another machine's process left.
    pub break_lock: bool,
    /// How the caller stops the runs after their current step.
    pub interrupter: trainer::training::Interrupter,
}

/// The sweep directory under `root`.
pub fn sweep_dir(root: &Path) -> PathBuf {
    root.join("sweep")
}

/// The sweeps recorded under `root` (`sweep/sweep.json`), if any can be read.
pub fn recorded(root: &Path) -> Option<SweepReport> {
    read_recorded(root).ok().flatten()
}

/// The sweeps recorded under `root`: none when there is no `sweep.json`, an error saying why
/// when it cannot be read.
fn read_recorded(root: &Path) -> std::result::Result<Option<SweepReport>, String> {
    let path = sweep_dir(root).join(SWEEP_JSON);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| format!("{}: not a sweep record ({e})", path.display()))
}

/// Trains what is missing of every point (each checked before the first trains), measures them,
/// draws each axis's figures and states its findings; the axes join those recorded before
/// (an axis swept again with the same epochs, images and seeds replaces its old self).
pub fn run_sweeps(options: &SweepOptions) -> Result<SweepReport> {
    let planned = planned(options)?;
    let points: Vec<Point> = planned.iter().flat_map(|(_, p)| p.clone()).collect();
    let configs = distinct_runs(&points);
    planned_event(options, &configs)?;
    train_missing(&batch(options), &configs)?;
    let measured = measure_runs(options, &configs)?;
    let recorded = read_recorded(&options.root).unwrap_or_else(|why| {
        options.events.event(&Event::SweepRecordUnreadable { why });
        None
    });
    let mut report = recorded.unwrap_or_default();
    let dir = sweep_dir(&options.root);
    for (sweep, points) in &planned {
        let mut axis = axis_report(sweep, points, options, &measured);
        axis.findings = findings::findings(&axis);
        axis.figures = sweep_figures::draw_axis(&axis, &dir)?;
        match report.axes.iter_mut().find(|a| a.id == axis.id) {
            Some(old) => *old = axis,
            None => report.axes.push(axis),
        }
    }
    Ok(report)
}

/// Every sweep with its points.
fn planned(options: &SweepOptions) -> Result<Vec<(&Sweep, Vec<Point>)>> {
    options
        .sweeps
        .iter()
        .map(|s| Ok((s, s.points(options.training)?)))
        .collect()
}

/// Every run of the sweeps, each once.
fn sweep_runs(options: &SweepOptions) -> Result<Vec<TrainingConfig>> {
    let points: Vec<Point> = planned(options)?.into_iter().flat_map(|(_, p)| p).collect();
    Ok(distinct_runs(&points))
}

/// The sweeps' runs as a job.
fn batch(options: &SweepOptions) -> Batch<'_> {
    Batch {
        root: &options.root,
        data_dir: &options.data_dir,
        backend: options.backend,
        job: Job::Sweep,
        events: &options.events,
        break_lock: options.break_lock,
        interrupter: &options.interrupter,
    }
}

/// The sweeps' runs, each checked, with what is left of each (nothing is trained).
pub fn job_runs(options: &SweepOptions) -> Result<Vec<JobRun>> {
    let configs = sweep_runs(options)?;
    planned_event(options, &configs)?;
    batch(options).check(&configs)
}

/// Tells the events what the sweeps train.
fn planned_event(options: &SweepOptions, configs: &[TrainingConfig]) -> Result<()> {
    let points = planned(options)?.iter().map(|(_, p)| p.len()).sum();
    options.events.event(&Event::SweepPlanned {
        axes: options.sweeps.len(),
        points,
        seeds: options.training.seeds,
        runs: configs.len(),
        epochs: options.training.epochs,
    });
    Ok(())
}

/// Trains the sweeps' run `name` alone: a scheduler's task, or one of several at once.
pub fn train_run(options: &SweepOptions, name: &str) -> Result<Outcome> {
    crate::batch::train_named(&batch(options), &sweep_runs(options)?, name)
}

/// `1 axis`, `4 axes`.
pub fn axes(n: usize) -> String {
    match n {
        1 => "1 axis".into(),
        n => format!("{n} axes"),
    }
}

/// The runs of `points`, each once (two axes share the point of their base case's value).
fn distinct_runs(points: &[Point]) -> Vec<TrainingConfig> {
    let mut configs: Vec<TrainingConfig> = Vec::new();
    for config in points.iter().flat_map(|p| &p.configs) {
        if !configs.iter().any(|c| c.name == config.name) {
            configs.push(config.clone());
        }
    }
    configs
}

/// What a linear probe on the codes is read against: the raw pixels' accuracy and chance's.
struct ProbeBaselines {
    pixels: f64,
    chance: f64,
}

/// Every run of `configs` measured: its name, numbers and linear-probe accuracy.
fn measure_runs(
    options: &SweepOptions,
    configs: &[TrainingConfig],
) -> Result<(Vec<PointNumbers>, ProbeBaselines)> {
    let probe_epochs = crate::measuring::probe_epochs(options.quick);
    let m = Measuring::prepare(&options.data_dir, options.training.limit, probe_epochs)?;
    let pixel_probe = ProbeBaselines {
        pixels: m.pixel_probe(),
        chance: m.chance_accuracy(),
    };
    let of = configs.len();
    let (train_images, test_images) = (m.train_images.rows(), m.test_set.len());
    let job = Job::Sweep;
    let started = Event::MeasuringStarted {
        job,
        runs: of,
        train_images,
        test_images,
    };
    options.events.event(&started);
    let mut measured = Vec::new();
    for (i, config) in configs.iter().enumerate() {
        let dir = options.root.join(&config.name);
        let name = config.name.clone();
        options.events.event(&Event::Measuring {
            job,
            index: i + 1,
            of,
            name,
        });
        measured.push(point_numbers(&m, &dir)?);
    }
    Ok((measured, pixel_probe))
}

/// The numbers of the finished run in `dir`.
fn point_numbers(m: &Measuring, dir: &Path) -> Result<PointNumbers> {
    let run = TrainedRun::load(dir, &ModelChoice::Final, m.cpu.clone())?;
    let RunNumbers {
        numbers: n,
        probe_accuracy,
    } = m.run_numbers(&run);
    let epochs = read_epochs(&dir.join(EPOCHS_CSV));
    Ok(PointNumbers {
        run: run.config.name.clone(),
        seed: run.config.seed,
        // The run's own record (the learner's test pass), not a second measurement of it.
        test_mse: epochs.last().map_or(f64::NAN, |r| r.test_mse),
        pca_mse: n.pca_mse,
        train_loss: epochs.last().map_or(f64::NAN, |r| r.train_loss),
        identity_ratio: n.identity_ratio(),
        constant_ratio: n.constant_ratio(),
        w1_structured: n.w1.structured_fraction,
        w2t_structured: n.w2t.structured_fraction,
        probe_accuracy,
        dead_units: n.dead_units,
        hidden: run.config.model.hidden,
        brightness: n.mean_output / n.mean_target,
        seconds: epochs.iter().map(|r| r.seconds()).sum(),
    })
}

/// The report of one axis from its points' measured runs.
fn axis_report(
    sweep: &Sweep,
    points: &[Point],
    options: &SweepOptions,
    (measured, probe): &(Vec<PointNumbers>, ProbeBaselines),
) -> AxisReport {
    let training = options.training;
    let numbers_of = |config: &TrainingConfig| {
        measured
            .iter()
            .find(|n| n.run == config.name)
            .cloned()
            .expect("every point was measured")
    };
    AxisReport {
        id: sweep.id(training),
        machine: machine_description(),
        base: sweep.base,
        axis: sweep.axis.kind(),
        epochs: training.epochs,
        train_images: points[0].configs[0].train_images(),
        seeds: training.seeds,
        pixel_probe_accuracy: probe.pixels,
        chance_accuracy: probe.chance,
        points: points
            .iter()
            .map(|p| PointReport {
                label: p.label.clone(),
                position: p.position,
                is_base: p.is_base,
                seeds: p.configs.iter().map(numbers_of).collect(),
            })
            .collect(),
        findings: Vec::new(),
        figures: Vec::new(),
    }
}

/// `5 epochs, 4× shorter than the study's 20`: `epochs` against the study's training length.
pub fn epochs_against_study(epochs: usize) -> String {
    let study = STUDY_EPOCHS;
    let epochs_text = count(epochs, "epoch");
    match epochs {
        e if e == study => format!("{epochs_text}, the study's training length"),
        e if e < study => {
            let ratio = (study as f64 / e as f64 * 10.0).round() / 10.0;
            format!("{epochs_text}, {ratio}× shorter than the study's {study}")
        }
        _ => format!("{epochs_text}, longer than the study's {study}"),
    }
}
