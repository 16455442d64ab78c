//! `train`: trains one of the study's seven MNIST autoencoders (or a config file) with Burn,
//! and compares backends.
//!
//! ```text
//! cargo run --release -p train -- --case 7                    # flex, the default CPU backend
//! cargo run --release -p train -- --case 1 --backend wgpu --epochs 5
//! cargo run --release -p train -- --case 1 --resume           # continue from the last checkpoint
//! cargo run --release -p train -- compare --case 7 --backends flex,ndarray,wgpu --epochs 2 --limit 10000
//! cargo run --release -p train -- report                      # all seven cases, measured, as HTML
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Parser, Subcommand};

use train::backend::Backend;
use train::compare::{compare, write_report};
use train::config::{CASE_COUNT, TrainingConfig};
use train::report::{ReportOptions, build_report};
use train::training::{RunOptions, train};

/// Train an MNIST autoencoder of the study (784 → n → 784) with Burn.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    train: TrainArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train the same case on several backends (same seed, data order and initial weights)
    /// and compare losses, speed and weights; writes artifacts/compare-<case>/compare.md and .json.
    Compare(CompareArgs),
    /// Train whichever of the seven cases (and the four hidden-dropout variants) lack a finished
    /// run, measure them all and write artifacts/report/index.html and report.md.
    Report(ReportArgs),
}

/// What to train: a case or a file, with overrides.
#[derive(Debug, Args)]
struct RunArgs {
    /// Epochs to train (overrides the case).
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
    /// Root of the artifacts: the run goes to DIR/<case name>/.
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
    /// Backend: flex (default, fastest on CPU), ndarray or wgpu.
    #[arg(long, default_value = "flex", value_parser = parse_backend)]
    backend: Backend,
    /// Continue the run in the artifacts directory from its newest valid checkpoint.
    #[arg(long)]
    resume: bool,
    #[command(flatten)]
    run: RunArgs,
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
        Some(Command::Compare(args)) => run_compare(args),
        Some(Command::Report(args)) => run_report(args),
        None => run_train(cli.train),
    }
}

fn run_train(args: TrainArgs) -> Result<()> {
    let config = match (args.case, &args.config) {
        (Some(case), None) => TrainingConfig::case(case)?,
        (None, Some(path)) => TrainingConfig::from_file(path)?,
        _ => bail!(
            "choose a study case with --case 1..7, or a case file with --config FILE (or a subcommand: compare)"
        ),
    };
    let config = args.run.apply(config);
    let mut options = RunOptions::new(
        args.run.artifacts.join(&config.name),
        args.run.data_dir(),
        args.backend,
    );
    options.resume = args.resume;
    let summary = train(&config, &options)?;
    if let Some(last) = summary.epochs.last() {
        let seconds: f64 = summary
            .epochs
            .iter()
            .map(|r| r.train_seconds + r.test_seconds)
            .sum();
        println!(
            "done: {} epochs in {:.1} s ({:.2} s/epoch); final train loss {:.5}, test MSE {:.5}; model saved to {}",
            summary.epochs.len(),
            summary.seconds,
            seconds / summary.epochs.len() as f64,
            last.train_loss,
            last.test_mse,
            summary.model_path.display()
        );
    }
    Ok(())
}

fn run_compare(args: CompareArgs) -> Result<()> {
    let cases: Vec<usize> = match args.case {
        Some(case) => vec![case],
        None => (1..=CASE_COUNT).collect(),
    };
    let mut comparisons = Vec::new();
    let out_dir = match args.case {
        Some(case) => args.run.artifacts.join(format!("compare-case{case}")),
        None => args.run.artifacts.join("compare-all"),
    };
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
        )?);
        let (md, json) = write_report(&comparisons, &out_dir)?;
        println!(
            "\n{}",
            comparisons.last().map(|c| c.markdown()).unwrap_or_default()
        );
        println!("wrote {} and {}", md.display(), json.display());
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
    };
    let (report, index) = build_report(&options)?;
    println!(
        "wrote {} ({} runs; also report.md and report.json beside it)",
        index.display(),
        report.cases.len()
    );
    Ok(())
}

fn main() -> ExitCode {
    train::run_cli(run)
}
