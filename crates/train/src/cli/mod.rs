//! The command line: every flag of the program is named here, and nowhere in the library.

use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::{ArgGroup, Args, Parser, Subcommand};
use study::drawing::{MAX_SAMPLES, MAX_ZOOM};
use study::model::Activation;
use study::sweep::Placement;
use trainer::backend::Backend;

pub mod values;

use values::{
    case_number, parse_activation, parse_address, parse_backend, parse_placement, positive, ratio,
    whole_number,
};

/// Train the study's MNIST autoencoders (784 → n → 784) with Burn; draw, compare and report them.
///
/// Without a subcommand, trains one run: `train --case 7`.
#[derive(Debug, Parser)]
#[command(
    version,
    about,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    args_override_self = true
)]
pub struct Cli {
    /// A subcommand; without one, `train` trains.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// What to train.
    #[command(flatten)]
    pub train: TrainArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Draw a trained run's figures (loss curves, reconstructions, weight tiles, noised inputs)
    /// from its saved model, into <run>/figures/ (a checkpoint's into <run>/figures/epoch-N/).
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
    /// Vary one setting of a study case over a list of values (each value an ordinary run per
    /// seed), measure every point as the report does and draw the curves; writes
    /// artifacts/sweep/index.html, sweep.md and sweep.json. Without an axis flag, the default
    /// set: hidden units around cases 7 and 1, noise around case 7, dropout around case 5.
    #[command(args_override_self = true)]
    Sweep(SweepArgs),
    /// Serve a local web page: the runs (live while they train) and a canvas to draw a digit for
    /// every finished model to reconstruct.
    #[command(args_override_self = true)]
    Serve(ServeArgs),
    /// Write a run's model as safetensors in PyTorch's layout (l1.weight [hidden, 784], l1.bias,
    /// l2.weight [784, hidden], l2.bias), its configuration in the metadata.
    #[command(args_override_self = true)]
    Export(ExportArgs),
    /// Turn a foreign model (safetensors, PyTorch .pt/.pth, Chainer .npz) into a finished run.
    #[command(args_override_self = true)]
    Import(ImportArgs),
}

/// Where the MNIST files are.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Directory of the MNIST IDX files [default: the vendored datasets/mnist].
    // Not clap's PathBuf parser, which refuses the empty value an empty MNIST_DIR gives.
    #[arg(long, value_name = "DIR", env = "MNIST_DIR",
          value_parser = clap::builder::OsStringValueParser::new().map(PathBuf::from))]
    pub data_dir: Option<PathBuf>,
}

impl DataArgs {
    /// The directory given, else the vendored data set (an empty `MNIST_DIR`, which shells set
    /// with `MNIST_DIR= cmd`, counts as none).
    pub fn dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or_else(study::data::default_dir)
    }
}

/// Where the runs are.
#[derive(Debug, Args)]
pub struct ArtifactsArgs {
    /// Root of the artifacts: each run in DIR/<run name>/ [default: artifacts].
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,
}

impl ArtifactsArgs {
    /// The directory given, else `artifacts`.
    pub fn root(&self) -> PathBuf {
        self.artifacts
            .clone()
            .unwrap_or_else(|| PathBuf::from("artifacts"))
    }

    /// [`root`](Self::root), but `artifacts/quick` for a smoke test (`--quick`) without
    /// `--artifacts`: its small runs never meet the full ones.
    pub fn root_or_quick(&self, quick: bool) -> PathBuf {
        match (&self.artifacts, quick) {
            (None, true) => self.root().join("quick"),
            _ => self.root(),
        }
    }
}

/// Which backend runs the models.
#[derive(Debug, Args)]
pub struct BackendArgs {
    /// Backend: flex (the default: fastest on CPU), ndarray or wgpu; cuda, vulkan and metal in a
    /// build with the cargo feature of that name.
    #[arg(long, value_parser = parse_backend)]
    pub backend: Option<Backend>,
}

/// The settings of a case a run may override.
#[derive(Debug, Args)]
pub struct OverrideArgs {
    /// Epochs to train (overrides the case).
    #[arg(long, value_name = "N", value_parser = positive)]
    pub epochs: Option<usize>,
    /// Images per batch (overrides the case).
    #[arg(long, value_name = "N", value_parser = positive)]
    pub batch_size: Option<usize>,
    /// Seed of data order, noise masks, dropout and initialisation (overrides the case).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Train on the first N training images only (the test set stays whole).
    #[arg(long, value_name = "N", value_parser = positive)]
    pub limit: Option<usize>,
}

/// `train`: one run.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Study case to train, 1–7 (see configs/).
    #[arg(long, value_name = "N", conflicts_with = "config", value_parser = case_number)]
    pub case: Option<usize>,
    /// A case file (TOML, like configs/case1.toml) instead of a study case.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Name of the run directory under --artifacts [default: case<N>, or the config file's stem];
    /// with --resume alone, the run to continue.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Continue the run from its newest valid checkpoint, to --epochs if given (the new target),
    /// else to its own target, on its own backend unless --backend says otherwise; also mends a
    /// run whose files disagree.
    #[arg(long, conflicts_with = "overwrite")]
    pub resume: bool,
    /// Replace whatever run the directory holds (its model, checkpoints, logs and figures).
    #[arg(long)]
    pub overwrite: bool,
    /// Take over the lock of a run that a process on another machine left (a node that went
    /// down): its process cannot be asked whether it still runs. A decision for one command, so
    /// never written into a plan's lines.
    #[arg(long, conflicts_with = "plan")]
    pub break_lock: bool,
    #[command(flatten)]
    pub backend: BackendArgs,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    #[command(flatten)]
    pub artifacts: ArtifactsArgs,
    #[command(flatten)]
    pub data: DataArgs,
}

/// `train visualize`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("run").args(["case", "name"]).required(true)))]
pub struct VisualizeArgs {
    /// Study case whose run to draw (artifacts/case<N>).
    #[arg(long, value_name = "N", value_parser = case_number)]
    pub case: Option<usize>,
    /// Name of the run directory under --artifacts (a --name or a --config file's stem).
    #[arg(long, value_name = "NAME", alias = "run")]
    pub name: Option<String>,
    /// Use the checkpoint of this epoch instead of the final model (figures go to
    /// <run>/figures/epoch-N/).
    #[arg(long, value_name = "N", conflicts_with = "checkpoint", value_parser = positive)]
    pub epoch: Option<usize>,
    /// Use this model file (.bpk) instead of the final model (figures go to
    /// <run>/figures/file-<stem>/).
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// Where to write the figures [default: <run>/figures, or a folder of its own for a checkpoint].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Test images in reconstructions.png.
    #[arg(long, value_name = "N", default_value_t = 50,
          value_parser = clap::value_parser!(u64).range(1..=MAX_SAMPLES as u64))]
    pub samples: u64,
    /// Scale each reconstruction tile to its own min–max, as the study did (default: fixed 0–1).
    #[arg(long)]
    pub per_tile_scale: bool,
    /// Draw the weight tiles on one scale symmetric about 0 (default: each tile its own min–max).
    #[arg(long)]
    pub symmetric_weights: bool,
    /// Logarithmic loss axis.
    #[arg(long)]
    pub log_y: bool,
    /// Pixel zoom of the image grids.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=MAX_ZOOM as i64))]
    pub zoom: u32,
    /// Other runs to overlay in loss-compare.png, e.g. case2,case3 (or all).
    #[arg(long, value_name = "RUNS", value_delimiter = ',', action = clap::ArgAction::Set)]
    pub compare: Vec<String>,
    #[command(flatten)]
    pub backend: BackendArgs,
    #[command(flatten)]
    pub artifacts: ArtifactsArgs,
    #[command(flatten)]
    pub data: DataArgs,
}

/// `train compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Study case to compare, 1–7.
    #[arg(long, value_name = "N", value_parser = case_number,
          required_unless_present = "all_cases", conflicts_with = "all_cases")]
    pub case: Option<usize>,
    /// Compare all seven cases.
    #[arg(long)]
    pub all_cases: bool,
    /// Backends to run, in order; the first is the reference for weight differences.
    #[arg(long, value_delimiter = ',', default_value = "flex,ndarray,wgpu", value_parser = parse_backend, action = clap::ArgAction::Set)]
    pub backends: Vec<Backend>,
    /// Turn dropout off (then backends can agree closely: no random masks).
    #[arg(long)]
    pub no_dropout: bool,
    /// Name of the comparison's directory under --artifacts [default: compare-case<N>, compare-all].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Retrain the comparison's runs, replacing those in its directory (by default a finished
    /// run of the same configuration is reused, an unfinished one continued, and one of another
    /// configuration refused).
    #[arg(long)]
    pub overwrite: bool,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    #[command(flatten)]
    pub artifacts: ArtifactsArgs,
    #[command(flatten)]
    pub data: DataArgs,
}

/// How the runs of a report or a sweep train: one after the other, several at once, as a plan
/// for a scheduler, or one of them alone.
#[derive(Debug, Args)]
pub struct JobArgs {
    /// Train N runs at once, each in a process of its own with the cores divided between them
    /// (1: one after the other, in this process).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = positive)]
    pub jobs: usize,
    /// Write the command that trains each run still to train into FILE, one per line, for a
    /// scheduler (a SLURM array, GNU parallel); train nothing. Run this command again afterwards
    /// to measure.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["jobs", "run"])]
    pub plan: Option<PathBuf>,
    /// With --plan: replace the plan file if it exists.
    #[arg(long, requires = "plan")]
    pub overwrite: bool,
    /// Train only the run NAME of this report or sweep (a plan's line): continue it from its
    /// checkpoint, or nothing if it is finished; nothing is measured.
    #[arg(long, value_name = "NAME", conflicts_with = "jobs")]
    pub run: Option<String>,
    /// Take over the lock of a run that a process on another machine left (a node that went
    /// down): its process cannot be asked whether it still runs. A decision for one command, so
    /// never written into a plan's lines.
    #[arg(long, conflicts_with = "plan")]
    pub break_lock: bool,
}

/// `train report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Smoke test: every run on 2000 training images for 1 epoch, short probes
    /// (artifacts go to <artifacts>/quick unless --artifacts is given).
    #[arg(long)]
    pub quick: bool,
    /// Use only the runs that exist; train nothing.
    #[arg(long, conflicts_with_all = ["plan", "run", "jobs"])]
    pub reuse: bool,
    /// Seeds per run, 0..N: every number becomes mean ± sd over them [default: 3, or 1 with --quick].
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=study::report::MAX_SEEDS))]
    pub seeds: Option<u64>,
    #[command(flatten)]
    pub job: JobArgs,
    #[command(flatten)]
    pub backend: BackendArgs,
    #[command(flatten)]
    pub artifacts: ArtifactsArgs,
    #[command(flatten)]
    pub data: DataArgs,
}

/// `train sweep`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("axis").args(["hidden", "noise", "dropout", "activation"])))]
pub struct SweepArgs {
    /// The study case whose setting varies [default: 7]; with an axis flag (the default set has
    /// bases of its own).
    #[arg(long, value_name = "N", value_parser = case_number, requires = "axis")]
    pub base: Option<usize>,
    /// Hidden sizes, each 1–4096: --hidden 16,32,64.
    #[arg(long, value_name = "N,...", value_delimiter = ',', value_parser = whole_number, action = clap::ArgAction::Set)]
    pub hidden: Option<Vec<usize>>,
    /// Masking-noise ratios, each in [0, 1): --noise 0,0.1,0.2.
    #[arg(long, value_name = "R,...", value_delimiter = ',', value_parser = ratio, action = clap::ArgAction::Set)]
    pub noise: Option<Vec<f64>>,
    /// Dropout placements: --dropout none,hidden,hidden+output (p is the base case's, else 0.5).
    #[arg(long, value_name = "P,...", value_delimiter = ',', value_parser = parse_placement, action = clap::ArgAction::Set)]
    pub dropout: Option<Vec<Placement>>,
    /// Activations: --activation relu,sigmoid.
    #[arg(long, value_name = "A,...", value_delimiter = ',', value_parser = parse_activation, action = clap::ArgAction::Set)]
    pub activation: Option<Vec<Activation>>,
    /// Epochs per point [default: 10, or 1 with --quick; the study trains 20].
    #[arg(long, value_name = "N", value_parser = positive)]
    pub epochs: Option<usize>,
    /// Seeds per point, 0..N: every point becomes mean ± sd over them [default: 1].
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=study::report::MAX_SEEDS))]
    pub seeds: Option<u64>,
    /// Train every point on the first N training images only (the test set stays whole).
    #[arg(long, value_name = "N", value_parser = positive)]
    pub limit: Option<usize>,
    /// Smoke test: 2000 training images, 1 epoch, short probes, hidden 16,64,100 around case 7
    /// unless an axis is given (artifacts go to <artifacts>/quick unless --artifacts is given).
    #[arg(long)]
    pub quick: bool,
    #[command(flatten)]
    pub job: JobArgs,
    #[command(flatten)]
    pub backend: BackendArgs,
    #[command(flatten)]
    pub artifacts: ArtifactsArgs,
    #[command(flatten)]
    pub data: DataArgs,
}

/// `train export`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("run").args(["case", "name"]).required(true)))]
pub struct ExportArgs {
    /// Study case whose run to export (artifacts/case<N>).
    #[arg(long, value_name = "N", value_parser = case_number)]
    pub case: Option<usize>,
    /// Name of the run directory under --artifacts.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Export the checkpoint of this epoch instead of the final model.
    #[arg(long, value_name = "N", value_parser = positive)]
    pub epoch: Option<usize>,
    /// The file to write [default: <run>/export/model.safetensors, or model-epoch-N.safetensors].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also write the test inputs the run's test MSE is measured on (noised as the run noises
    /// them) beside the model, as test-inputs.npy (float32 [10000, 784]), to reproduce that MSE
    /// elsewhere.
    #[arg(long)]
    pub test_inputs: bool,
    /// Replace files of other contents at the paths written (never a file of another kind).
    #[arg(long)]
    pub overwrite: bool,
    #[command(flatten)]
    pub artifacts: ArtifactsArgs,
    #[command(flatten)]
    pub data: DataArgs,
}

/// `train import`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("model").args(["case", "activation"])))]
pub struct ImportArgs {
    /// The model file: safetensors, PyTorch (.pt, .pth) or Chainer (.npz), told by its content.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Name of the run directory to create under --artifacts.
    #[arg(long, value_name = "NAME", required = true)]
    pub name: String,
    /// Take the activation, dropout and noise from this study case (the hidden size always comes
    /// from the file). A file this program exported says them itself: flags that contradict it
    /// are refused.
    #[arg(long, value_name = "N", value_parser = case_number)]
    pub case: Option<usize>,
    /// The hidden layer's activation: relu or sigmoid.
    #[arg(long, value_name = "NAME", value_parser = ["relu", "sigmoid"])]
    pub activation: Option<String>,
    /// Dropout probability the model trained with [default: the file's, else 0].
    #[arg(long, value_name = "P", conflicts_with = "case")]
    pub dropout: Option<f64>,
    /// Masking-noise ratio of its inputs, which the test MSE is measured on [default: the
    /// file's, else 0].
    #[arg(long, value_name = "RATIO", conflicts_with = "case")]
    pub noise: Option<f64>,
    /// Replace the run the directory holds.
    #[arg(long)]
    pub overwrite: bool,
    #[command(flatten)]
    pub artifacts: ArtifactsArgs,
    #[command(flatten)]
    pub data: DataArgs,
}

/// `train serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on (0: any free port; the address is printed).
    #[arg(long, value_name = "N", default_value_t = 8080)]
    pub port: u16,
    /// Address or host name to listen on; anything but loopback shares the page (there is no
    /// authentication).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1", value_parser = parse_address)]
    pub bind: std::net::IpAddr,
    #[command(flatten)]
    pub artifacts: ArtifactsArgs,
    #[command(flatten)]
    pub data: DataArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_list_flag_replaces_an_earlier_one() {
        let cli =
            Cli::try_parse_from(["train", "sweep", "--hidden", "16,64", "--hidden", "32"]).unwrap();
        let Some(Command::Sweep(args)) = cli.command else {
            panic!("not a sweep");
        };
        assert_eq!(args.hidden, Some(vec![32]));
        let cli = Cli::try_parse_from([
            "train",
            "compare",
            "--case",
            "7",
            "--backends",
            "flex,wgpu",
            "--backends",
            "ndarray",
        ])
        .unwrap();
        let Some(Command::Compare(args)) = cli.command else {
            panic!("not a comparison");
        };
        assert_eq!(args.backends, [Backend::Ndarray]);
    }
}
