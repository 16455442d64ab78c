//! `train`: trains the study's MNIST autoencoders with Burn, draws their figures, compares
//! backends and writes the study report — one program, one build.
//!
//! ```text
//! cargo run --release -p train -- --case 7                    # flex, the default CPU backend
//! cargo run --release -p train -- --case 1 --backend wgpu --epochs 5
//! cargo run --release -p train -- --case 1 --resume           # continue from the last checkpoint
//! cargo run --release -p train -- visualize --case 7          # figures from the saved model
//! cargo run --release -p train -- compare --case 7 --backends flex,ndarray,wgpu --epochs 2 --limit 10000
//! cargo run --release -p train -- report                      # all seven cases, measured, as HTML
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Parser, Subcommand};

use train::backend::Backend;
use train::compare::{compare, write_report};
use train::config::{CASE_COUNT, TrainingConfig, case_name};
use train::inference::{ModelChoice, TrainedRun};
use train::report::{ReportOptions, build_report};
use train::run::{Start, check_own_name, check_run_name};
use train::training::{RunOptions, train};
use train::visualize::{FigureOptions, MAX_SAMPLES, MAX_ZOOM, write_figures};

/// Train the study's MNIST autoencoders (784 → n → 784) with Burn; draw, compare and report them.
///
/// Without a subcommand, trains one run: `train --case 7`.
#[derive(Debug, Parser)]
#[command(
    version,
    about,
    args_conflicts_with_subcommands = true,
    args_override_self = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    train: TrainArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Draw a trained run's figures (loss curves, reconstructions, weight tiles, noised inputs)
    /// from its saved model, into <run>/figures/.
    #[command(args_override_self = true)]
    Visualize(VisualizeArgs),
    /// Train the same case on several backends (same seed, data order and initial weights)
    /// and compare losses, speed and weights; writes artifacts/compare-<case>/compare.md and .json.
    #[command(args_override_self = true)]
    Compare(CompareArgs),
    /// Train whichever of the seven cases (and the four hidden-dropout variants) lack a finished
    /// run, measure them all and write artifacts/report/index.html and report.md.
    #[command(args_override_self = true)]
    Report(ReportArgs),
    /// Serve a local web page: the runs (live while they train) and a canvas to draw a digit for
    /// every finished model to reconstruct.
    #[command(args_override_self = true)]
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// The artifacts directory whose runs are shown.
    #[arg(long, value_name = "DIR", default_value = "artifacts")]
    artifacts: PathBuf,
    /// Port to listen on (0: any free port; the address is printed).
    #[arg(long, value_name = "N", default_value_t = 8080)]
    port: u16,
    /// Address to listen on; anything but loopback shares the page (there is no authentication).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
    /// Directory of the MNIST IDX files [default: $MNIST_DIR, else the vendored datasets/mnist].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

/// What to train: a case or a file, with overrides.
#[derive(Debug, Args)]
struct RunArgs {
    /// Epochs to train (overrides the case; with --resume: the new target).
    #[arg(long, value_name = "N")]
    epochs: Option<usize>,
    /// Images per batch (overrides the case).
    #[arg(long, value_name = "N")]
    batch_size: Option<usize>,
    /// Seed of data order, noise masks, dropout and initialisation (overrides the case).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Train on the first N training images only (the test set stays whole).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Root of the artifacts: the run goes to DIR/<run name>/.
    #[arg(long, value_name = "DIR", default_value = "artifacts")]
    artifacts: PathBuf,
    /// Directory of the MNIST IDX files [default: $MNIST_DIR, else the vendored datasets/mnist].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

impl RunArgs {
    fn apply(&self, mut config: TrainingConfig) -> TrainingConfig {
        if let Some(epochs) = self.epochs {
            config.epochs = epochs;
        }
        if let Some(batch_size) = self.batch_size {
            config.batch_size = batch_size;
        }
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        config.limit = self.limit;
        config
    }

    fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(data::default_dir)
    }
}

#[derive(Debug, Args)]
struct TrainArgs {
    /// Study case to train, 1–7 (see configs/).
    #[arg(long, value_name = "N", conflicts_with = "config")]
    case: Option<usize>,
    /// A case file (TOML, like configs/case1.toml) instead of a study case.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Name of the run directory under --artifacts [default: case<N>, or the config file's stem].
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Backend: flex (default, fastest on CPU), ndarray or wgpu.
    #[arg(long, default_value = "flex", value_parser = parse_backend)]
    backend: Backend,
    /// Continue the run from its newest valid checkpoint (to --epochs, else to its own target).
    #[arg(long, conflicts_with = "overwrite")]
    resume: bool,
    /// Replace whatever run the directory holds (its model, checkpoints, logs and figures).
    #[arg(long)]
    overwrite: bool,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Args)]
struct VisualizeArgs {
    /// Study case whose run to draw (artifacts/case<N>).
    #[arg(long, value_name = "N", conflicts_with = "name")]
    case: Option<usize>,
    /// Name of the run directory under --artifacts (a --name or a --config file's stem).
    #[arg(long, value_name = "NAME", alias = "run")]
    name: Option<String>,
    /// Root of the artifacts.
    #[arg(long, value_name = "DIR", default_value = "artifacts")]
    artifacts: PathBuf,
    /// Use the checkpoint of this epoch instead of the final model.
    #[arg(long, value_name = "N", conflicts_with = "checkpoint")]
    epoch: Option<usize>,
    /// Use this model file (.bpk) instead of the final model.
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// Backend to run the model on: flex, ndarray or wgpu.
    #[arg(long, default_value = "flex", value_parser = parse_backend)]
    backend: Backend,
    /// Directory of the MNIST IDX files [default: $MNIST_DIR, else the vendored datasets/mnist].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Where to write the figures [default: <run>/figures].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Test images in reconstructions.png.
    #[arg(long, value_name = "N", default_value_t = 50,
          value_parser = clap::value_parser!(u64).range(1..=MAX_SAMPLES as u64))]
    samples: u64,
    /// Scale each reconstruction tile to its own min–max, as the study did (default: fixed 0–1).
    #[arg(long)]
    per_tile_scale: bool,
    /// Draw the weight tiles on one scale symmetric about 0 (default: each tile its own min–max).
    #[arg(long)]
    symmetric_weights: bool,
    /// Logarithmic loss axis.
    #[arg(long)]
    log_y: bool,
    /// Pixel zoom of the image grids.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=MAX_ZOOM as i64))]
    zoom: u32,
    /// Other runs to overlay in loss-compare.png, e.g. case2,case3 (or all).
    #[arg(long, value_name = "RUNS", value_delimiter = ',')]
    compare: Vec<String>,
}

#[derive(Debug, Args)]
struct CompareArgs {
    /// Study case to compare, 1–7.
    #[arg(
        long,
        value_name = "N",
        required_unless_present = "all_cases",
        conflicts_with = "all_cases"
    )]
    case: Option<usize>,
    /// Compare all seven cases.
    #[arg(long)]
    all_cases: bool,
    /// Backends to run, in order; the first is the reference for weight differences.
    #[arg(long, value_delimiter = ',', default_value = "flex,ndarray,wgpu", value_parser = parse_backend)]
    backends: Vec<Backend>,
    /// Turn dropout off (then backends can agree closely: no random masks).
    #[arg(long)]
    no_dropout: bool,
    /// Name of the comparison's directory under --artifacts [default: compare-case<N>, compare-all].
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Retrain the comparison's runs, replacing those in its directory (by default a finished
    /// run of the same configuration is reused, and one of another configuration refused).
    #[arg(long)]
    overwrite: bool,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// Smoke test: every run on 2000 training images for 1 epoch, short probes
    /// (artifacts go to <artifacts>/quick unless --artifacts is given).
    #[arg(long)]
    quick: bool,
    /// Use only the runs that exist; train nothing.
    #[arg(long)]
    reuse: bool,
    /// Seeds per run, 0..N: every number becomes mean ± sd over them [default: 3, or 1 with --quick].
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=train::report::MAX_SEEDS))]
    seeds: Option<u64>,
    /// Backend that trains missing runs (measurements run on the CPU).
    #[arg(long, default_value = "flex", value_parser = parse_backend)]
    backend: Backend,
    /// Root of the runs; the report goes to DIR/report/ [default: artifacts, or artifacts/quick].
    #[arg(long, value_name = "DIR")]
    artifacts: Option<PathBuf>,
    /// Directory of the MNIST IDX files [default: $MNIST_DIR, else the vendored datasets/mnist].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

fn parse_backend(s: &str) -> Result<Backend, String> {
    s.parse()
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Some(Command::Visualize(args)) => run_visualize(args),
        Some(Command::Compare(args)) => run_compare(args),
        Some(Command::Report(args)) => run_report(args),
        Some(Command::Serve(args)) => train::serve::serve(train::serve::ServeOptions {
            artifacts: args.artifacts,
            bind: args.bind,
            port: args.port,
            data_dir: args.data_dir.unwrap_or_else(data::default_dir),
        }),
        None => run_train(cli.train),
    }
}

fn run_train(args: TrainArgs) -> Result<()> {
    let mut config = match (args.case, &args.config) {
        (Some(case), None) => TrainingConfig::case(case)?,
        (None, Some(path)) => TrainingConfig::from_file(path)?,
        _ => bail!(
            "choose a study case with --case 1..7 or a case file with --config FILE, or a subcommand (visualize, compare, report; see --help)"
        ),
    };
    match &args.name {
        Some(name) => {
            check_own_name(name, args.case)?;
            config.name = name.clone();
        }
        None if args.config.is_some() => {
            check_own_name(&config.name, None).map_err(|e| anyhow::anyhow!("--config: {e}"))?
        }
        None => {}
    }
    let config = args.run.apply(config);
    let mut options = RunOptions::new(
        args.run.artifacts.join(&config.name),
        args.run.data_dir(),
        args.backend,
    );
    options.start = match (args.resume, args.overwrite) {
        (true, _) => Start::Resume {
            epochs: args.run.epochs,
        },
        (false, true) => Start::Overwrite,
        (false, false) => Start::Fresh,
    };
    let summary = train(&config, &options)?;
    if let Some(last) = summary.epochs.last() {
        let seconds: f64 = summary
            .epochs
            .iter()
            .map(|r| r.train_seconds + r.test_seconds)
            .sum();
        let n = summary.epochs.len();
        train::out!(
            "done: {n} epoch{} in {:.1} s ({:.2} s/epoch); final train loss {:.5}, test MSE {:.5}; model saved to {}",
            if n == 1 { "" } else { "s" },
            summary.seconds,
            seconds / n as f64,
            last.train_loss,
            last.test_mse,
            summary.model_path.display()
        );
    }
    Ok(())
}

fn run_visualize(args: VisualizeArgs) -> Result<()> {
    let name = match (args.case, &args.name) {
        (Some(case), None) => case_name(case)?,
        (None, Some(name)) => {
            check_run_name(name)?;
            name.clone()
        }
        _ => bail!("choose a run with --case 1..7 or --name NAME"),
    };
    let dir = args.artifacts.join(&name);
    let choice = match (args.epoch, args.checkpoint) {
        (Some(epoch), _) => ModelChoice::Epoch(epoch),
        (None, Some(file)) => ModelChoice::File(file),
        (None, None) => ModelChoice::Final,
    };
    // Everything the figures need is checked before the first file is written.
    let run = TrainedRun::load(&dir, &choice, args.backend.device()?)?;
    let mut compare = Vec::new();
    for other in &args.compare {
        if other == "all" {
            for case in 1..=CASE_COUNT {
                let label = format!("case{case}");
                let other_dir = args.artifacts.join(&label);
                if label != name && other_dir.join("train").is_dir() {
                    compare.push((label, other_dir));
                }
            }
            if compare.is_empty() {
                bail!(
                    "--compare all: no other study case has a run under {}",
                    args.artifacts.display()
                );
            }
        } else if other == &name {
            bail!("--compare {other}: that is the run being drawn; name other runs");
        } else {
            check_run_name(other)?;
            compare.push((other.clone(), args.artifacts.join(other)));
        }
    }
    let options = FigureOptions {
        data_dir: args.data_dir.unwrap_or_else(data::default_dir),
        out_dir: args.out.unwrap_or_else(|| dir.join("figures")),
        samples: args.samples as usize,
        per_tile_scale: args.per_tile_scale,
        symmetric_weights: args.symmetric_weights,
        log_y: args.log_y,
        zoom: args.zoom,
        compare,
    };
    train::out!("{}: drawing from {}", name, run.model_path.display());
    let drawn = write_figures(&run, &options)?;
    for path in &drawn.files {
        train::out!("wrote {}", path.display());
    }
    train::out!(
        "codes: the first two principal components hold {:.0} % of the codes' variance; a nearest-digit-mean classifier in that plane is right for {:.1} % of the test images",
        100.0 * drawn.codes.variance_explained,
        100.0 * drawn.codes.nearest_mean_accuracy
    );
    Ok(())
}

fn run_compare(args: CompareArgs) -> Result<()> {
    for (i, backend) in args.backends.iter().enumerate() {
        if args.backends[..i].contains(backend) {
            bail!("--backends: {backend} is listed twice; name each backend once");
        }
    }
    let cases: Vec<usize> = match args.case {
        Some(case) => vec![case],
        None => (1..=CASE_COUNT).collect(),
    };
    let name = match (&args.name, args.case) {
        (Some(name), _) => {
            check_run_name(name)?;
            name.clone()
        }
        (None, Some(case)) => format!("compare-case{case}"),
        (None, None) => "compare-all".to_string(),
    };
    let out_dir = args.run.artifacts.join(name);
    let mut comparisons = Vec::new();
    for case in cases {
        let mut config = args.run.apply(TrainingConfig::case(case)?);
        if args.no_dropout {
            config.model.dropout = 0.0;
        }
        let case_dir = if args.all_cases {
            out_dir.join(&config.name)
        } else {
            out_dir.clone()
        };
        comparisons.push(compare(
            &config,
            &args.backends,
            &case_dir,
            &args.run.data_dir(),
            args.overwrite,
        )?);
        let (md, json) = write_report(&comparisons, &out_dir)?;
        train::out!(
            "\n{}",
            comparisons.last().map(|c| c.markdown()).unwrap_or_default()
        );
        train::out!("wrote {} and {}", md.display(), json.display());
    }
    Ok(())
}

fn run_report(args: ReportArgs) -> Result<()> {
    let root = args.artifacts.unwrap_or_else(|| {
        let root = PathBuf::from("artifacts");
        if args.quick { root.join("quick") } else { root }
    });
    let options = ReportOptions {
        root,
        data_dir: args.data_dir.unwrap_or_else(data::default_dir),
        backend: args.backend,
        quick: args.quick,
        reuse: args.reuse,
        seeds: args.seeds.unwrap_or(if args.quick { 1 } else { 3 }),
    };
    let (report, index) = build_report(&options)?;
    train::out!(
        "wrote {} ({} runs; also report.md and report.json beside it)",
        index.display(),
        report.cases.len()
    );
    Ok(())
}

fn main() -> ExitCode {
    train::run_cli(run)
}
