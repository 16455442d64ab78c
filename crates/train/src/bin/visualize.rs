//! `visualize`: draws the study's figures from a trained run's checkpoint, without retraining.
//!
//! ```text
//! cargo run --release -p train --bin visualize -- --case 7
//! cargo run --release -p train --bin visualize -- --case 1 --epoch 19 --compare case2,case3
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Parser;

use train::backend::Backend;
use train::inference::{ModelChoice, TrainedRun};
use train::visualize::{FigureOptions, run_dir, write_figures};

/// Draw loss curves, reconstructions, weight tiles and noised samples of a trained run as PNG.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Study case whose run to draw (artifacts/case<N>).
    #[arg(long, value_name = "N", conflicts_with = "run")]
    case: Option<usize>,
    /// Name of the run directory under --artifacts (e.g. a --config file's stem).
    #[arg(long, value_name = "NAME")]
    run: Option<String>,
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
    #[arg(long, value_name = "N", default_value_t = 50)]
    samples: usize,
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
    #[arg(long, value_name = "N", default_value_t = 2)]
    zoom: u32,
    /// Other runs to overlay in loss-compare.png, e.g. case2,case3 (or all).
    #[arg(long, value_name = "RUNS", value_delimiter = ',')]
    compare: Vec<String>,
}

fn parse_backend(s: &str) -> Result<Backend, String> {
    s.parse()
}

fn run(cli: Cli) -> Result<()> {
    let name = match (cli.case, &cli.run) {
        (Some(case), None) if (1..=train::config::CASE_COUNT).contains(&case) => {
            format!("case{case}")
        }
        (Some(case), None) => bail!(
            "unknown case {case}: the study has cases 1 to {}",
            train::config::CASE_COUNT
        ),
        (None, Some(run)) => run.clone(),
        _ => bail!("choose a run with --case 1..7 or --run NAME"),
    };
    let dir = run_dir(&cli.artifacts, &name);
    let choice = match (cli.epoch, cli.checkpoint) {
        (Some(epoch), _) => ModelChoice::Epoch(epoch),
        (None, Some(file)) => ModelChoice::File(file),
        (None, None) => ModelChoice::Final,
    };
    let run = TrainedRun::load(&dir, &choice, cli.backend.device()?)?;
    let mut compare = Vec::new();
    for other in &cli.compare {
        if other == "all" {
            for case in 1..=train::config::CASE_COUNT {
                let label = format!("case{case}");
                let other_dir = run_dir(&cli.artifacts, &label);
                if label != name && other_dir.join("train").is_dir() {
                    compare.push((label, other_dir));
                }
            }
        } else if other != &name {
            compare.push((other.clone(), run_dir(&cli.artifacts, other)));
        }
    }
    let options = FigureOptions {
        data_dir: cli.data_dir.unwrap_or_else(data::default_dir),
        out_dir: cli.out.unwrap_or_else(|| dir.join("figures")),
        samples: cli.samples.max(1),
        per_tile_scale: cli.per_tile_scale,
        symmetric_weights: cli.symmetric_weights,
        log_y: cli.log_y,
        zoom: cli.zoom,
        compare,
    };
    println!("{}: drawing from {}", name, run.model_path.display());
    for path in write_figures(&run, &options)? {
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    train::run_cli(run)
}
