//! `train sweep`: plans the sweeps the flags ask for, runs them (the library), and writes the
//! page as Markdown, as HTML rendered from it, and as JSON.

use study::sweep::{
    AxisReport, DEFAULT_BASE, DEFAULT_EPOCHS, Measure, PointTraining, QUICK_IMAGES, SWEEP_JSON,
    Sweep, SweepOptions, SweepReport, axes, run_sweeps, sweep_dir,
};
use trainer::backend::Backend;
use trainer::files::{file_error, write_atomic};
use trainer::wording::count;

use super::report_page::html;
use super::report_page::markdown::Page;
use crate::cli::SweepArgs;
use crate::exit::Usage;
use crate::jobs::{self, Flow};
use trainer::events::Job;

/// The sweep page's title.
const TITLE: &str = "Sweeps: the study's questions as curves";

/// Runs the sweeps `args` ask for and writes the page; or, as `args.job` says, trains one of their
/// runs, writes a plan of their runs, or trains them several at once first.
pub fn run(args: SweepArgs) -> anyhow::Result<()> {
    let options = options(&args)?;
    let training = options.training;
    let flow = jobs::before_measuring(
        &args.job,
        command(&args, &options),
        (
            Job::Sweep,
            &options.root,
            sweep_dir(&options.root).join("logs"),
        ),
        || study::sweep::job_runs(&options),
        |name| study::sweep::train_run(&options, name),
        &options.events,
    )?;
    if let Flow::Done = flow {
        return Ok(());
    }
    let report = run_sweeps(&options)?;
    let dir = sweep_dir(&options.root);
    let md = markdown(&report);
    let files = [
        (SWEEP_JSON, serde_json::to_string_pretty(&report)?),
        ("sweep.md", md.clone()),
        ("findings.md", findings_markdown(&report)),
        ("index.html", html::render(TITLE, &md)),
    ];
    for (name, text) in &files {
        let path = dir.join(name);
        write_atomic(&path, text.as_bytes()).map_err(|e| file_error(&path, e))?;
    }
    for axis in &report.axes {
        let swept = options.sweeps.iter().any(|s| s.id(training) == axis.id);
        if swept {
            crate::output::out!("{}: {}", heading(axis), findings(axis));
        }
    }
    crate::output::out!(
        "wrote {} ({} on the page; also sweep.md, sweep.json and findings.md beside it)",
        dir.join("index.html").display(),
        axes(report.axes.len())
    );
    Ok(())
}

/// The library's options from the flags: the axis given (around `--base`), else the default set
/// (or the quick one); the quick mode's images, epochs and artifacts directory.
fn options(args: &SweepArgs) -> anyhow::Result<SweepOptions> {
    let interrupter = trainer::training::Interrupter::new();
    let base = args.base.unwrap_or(DEFAULT_BASE);
    let axis = match (&args.hidden, &args.noise, &args.dropout, &args.activation) {
        (Some(v), ..) => Some(study::sweep::Axis::Hidden(v.clone())),
        (_, Some(v), ..) => Some(study::sweep::Axis::Noise(v.clone())),
        (_, _, Some(v), _) => Some(study::sweep::Axis::Dropout(v.clone())),
        (.., Some(v)) => Some(study::sweep::Axis::Activation(v.clone())),
        _ => None,
    };
    let sweeps = match axis {
        Some(axis) => vec![Sweep::new(base, axis).map_err(|e| Usage(e.to_string()))?],
        None if args.quick => vec![Sweep::quick()],
        None => Sweep::defaults(),
    };
    Ok(SweepOptions {
        root: args.artifacts.root_or_quick(args.quick),
        data_dir: args.data.dir(),
        backend: args.backend.backend.unwrap_or(Backend::Flex),
        sweeps,
        training: PointTraining {
            epochs: args
                .epochs
                .unwrap_or(if args.quick { 1 } else { DEFAULT_EPOCHS }),
            seeds: args.seeds.unwrap_or(1),
            limit: args.limit.or(args.quick.then_some(QUICK_IMAGES)),
        },
        quick: args.quick,
        events: crate::interrupt::routed(
            interrupter.clone(),
            crate::view::View::new(args.job.jobs > 1),
        ),
        break_lock: args.job.break_lock,
        interrupter,
    })
}

/// This sweep's command as a plan's line runs it (every path absolute, the defaults spelled out),
/// without `--run`.
fn command(args: &SweepArgs, options: &SweepOptions) -> Vec<String> {
    let list = |values: Vec<String>| values.join(",");
    let mut words = vec!["sweep".to_string()];
    if args.quick {
        words.push("--quick".into());
    }
    if let Some(base) = args.base {
        words.extend(["--base".into(), base.to_string()]);
    }
    let axes = [
        (
            "--hidden",
            args.hidden
                .as_ref()
                .map(|v| list(v.iter().map(|h| h.to_string()).collect())),
        ),
        (
            "--noise",
            args.noise
                .as_ref()
                .map(|v| list(v.iter().map(|n| n.to_string()).collect())),
        ),
        (
            "--dropout",
            args.dropout
                .as_ref()
                .map(|v| list(v.iter().map(|p| p.name().to_string()).collect())),
        ),
        (
            "--activation",
            args.activation.as_ref().map(|v| {
                list(
                    v.iter()
                        .map(|a| trainer::config::activation_name(*a).to_string())
                        .collect(),
                )
            }),
        ),
    ];
    for (flag, values) in axes {
        if let Some(values) = values {
            words.extend([flag.to_string(), values]);
        }
    }
    let t = options.training;
    words.extend([
        "--epochs".into(),
        t.epochs.to_string(),
        "--seeds".into(),
        t.seeds.to_string(),
    ]);
    if let Some(limit) = t.limit {
        words.extend(["--limit".into(), limit.to_string()]);
    }
    words.extend(["--backend".into(), options.backend.name().to_string()]);
    words.extend(["--artifacts".into(), jobs::absolute(&options.root)]);
    words.extend(["--data-dir".into(), jobs::absolute(&options.data_dir)]);
    if args.job.break_lock {
        words.push("--break-lock".into());
    }
    words
}

/// `Hidden units around case 7 (5 epochs, 60000 images, 1 seed)`.
fn heading(axis: &AxisReport) -> String {
    let mut quantity = axis.axis.quantity().to_string();
    quantity[..1].make_ascii_uppercase();
    format!(
        "{quantity} around case {} ({}, {} images, {})",
        axis.base,
        count(axis.epochs, "epoch"),
        axis.train_images,
        count(axis.seeds as usize, "seed")
    )
}

/// Every axis's findings, a bullet each (`findings.md`: the README quotes it whole).
fn findings_markdown(report: &SweepReport) -> String {
    let mut page = Page::default();
    let items: Vec<String> = report
        .axes
        .iter()
        .map(|axis| format!("**{}**: {}", heading(axis), findings(axis)))
        .collect();
    page.list(&items);
    page.into_markdown()
}

/// The axis's findings as one paragraph.
fn findings(axis: &AxisReport) -> String {
    let texts: Vec<&str> = axis.findings.iter().map(|f| f.text.as_str()).collect();
    texts.join(" ")
}

/// The page: what a sweep is, then per axis its findings, and per measurement its figure with
/// a small table of the points under it.
fn markdown(report: &SweepReport) -> String {
    let mut page = Page::default();
    page.title(TITLE);
    page.text(
        "Each axis varies one setting of a study case and keeps the rest; every point is an ordinary run under the artifacts directory (named in the tables: `train visualize --name NAME` draws it, `train serve` shows it), measured as the study report measures its cases. Error bars are the standard deviation over the seeds; the study's own case is ringed on each curve.",
    );
    for axis in &report.axes {
        page.heading(&heading(axis));
        page.text(&format!(
            "{} *(Measured on {}.)*",
            findings(axis),
            axis.machine
        ));
        for (measure, figure) in Measure::ALL.iter().zip(&axis.figures) {
            page.cell(|page| {
                page.figures(&[(figure.clone(), measure.title().to_string())]);
                let (headers, rows) = table(axis, *measure);
                let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
                page.table(&headers, &rows);
            });
        }
    }
    page.into_markdown()
}

/// A measurement's small table: a row per point, its mean (± sd) and, for the test MSE, PCA-n's
/// and the point's run beside it.
fn table(axis: &AxisReport, measure: Measure) -> (Vec<String>, Vec<Vec<String>>) {
    let mut headers = vec![
        axis.axis.quantity().to_string(),
        measure.title().to_string(),
    ];
    if measure == Measure::TestMse {
        headers.extend(["PCA, as many components".into(), "run (seed 0)".into()]);
    }
    let rows = axis
        .points
        .iter()
        .map(|p| {
            let label = match p.is_base {
                true => format!("{} (case {})", p.label, axis.base),
                false => p.label.clone(),
            };
            let (mean, sd) = p.mean_and_spread(measure);
            let value = match p.seeds.len() {
                1 => measure.format(mean),
                _ => format!("{} ± {}", measure.format(mean), measure.format(sd)),
            };
            let mut row = vec![label, value];
            if measure == Measure::TestMse {
                let run = p
                    .seeds
                    .first()
                    .map_or(String::new(), |n| format!("`{}`", n.run));
                row.extend([measure.format(p.pca_mse()), run]);
            }
            row
        })
        .collect();
    (headers, rows)
}
