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

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, CommandFactory, Parser, Subcommand};

use train::backend::Backend;
use train::compare::{compare, write_report};
use train::config::{CASE_COUNT, TrainingConfig, case_name};
use train::inference::{ModelChoice, TrainedRun};
use train::report::{ReportOptions, build_report};
use train::run::{Owner, RunError, Start, check_own_name, check_run_name};
use train::training::{RunOptions, Stopped, train};
use train::visualize::{
    FigureOptions, MAX_SAMPLES, MAX_ZOOM, default_place, stamp_figures, write_figures,
};

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
    /// Address or host name to listen on; anything but loopback shares the page (there is no
    /// authentication).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1", value_parser = parse_address)]
    bind: std::net::IpAddr,
    /// Directory of the MNIST IDX files [default: $MNIST_DIR, else the vendored datasets/mnist].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

/// What to train: a case or a file, with overrides.
#[derive(Debug, Args)]
struct RunArgs {
    /// Epochs to train (overrides the case).
    #[arg(long, value_name = "N", value_parser = positive)]
    epochs: Option<usize>,
    /// Images per batch (overrides the case).
    #[arg(long, value_name = "N", value_parser = positive)]
    batch_size: Option<usize>,
    /// Seed of data order, noise masks, dropout and initialisation (overrides the case).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Train on the first N training images only (the test set stays whole).
    #[arg(long, value_name = "N", value_parser = positive)]
    limit: Option<usize>,
    /// Root of the artifacts: the run goes to DIR/<run name>/.
    #[arg(long, value_name = "DIR", default_value = "artifacts")]
    artifacts: PathBuf,
    /// Directory of the MNIST IDX files [default: $MNIST_DIR, else the vendored datasets/mnist].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

impl RunArgs {
    /// `config` with the flags' overrides; an absent `--limit` means the whole training set.
    fn apply(&self, mut config: TrainingConfig) -> TrainingConfig {
        config = self.apply_given(config);
        config.limit = self.limit;
        config
    }

    /// `config` with the overrides that were given, and nothing else changed (a resumed run).
    fn apply_given(&self, mut config: TrainingConfig) -> TrainingConfig {
        if let Some(epochs) = self.epochs {
            config.epochs = epochs;
        }
        if let Some(batch_size) = self.batch_size {
            config.batch_size = batch_size;
        }
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        if let Some(limit) = self.limit {
            config.limit = Some(limit);
        }
        config
    }

    fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(data::default_dir)
    }
}

#[derive(Debug, Args)]
struct TrainArgs {
    /// Study case to train, 1–7 (see configs/).
    #[arg(long, value_name = "N", conflicts_with = "config", value_parser = case_number)]
    case: Option<usize>,
    /// A case file (TOML, like configs/case1.toml) instead of a study case.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Name of the run directory under --artifacts [default: case<N>, or the config file's stem];
    /// with --resume alone, the run to continue.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Backend: flex (fastest on CPU), ndarray or wgpu [default: flex; with --resume, the run's
    /// own: a run trains on one backend].
    #[arg(long, value_parser = parse_backend)]
    backend: Option<Backend>,
    /// Continue the run from its newest valid checkpoint, to --epochs if given (the new target),
    /// else to its own target; also mends a run whose files disagree.
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
    #[arg(long, value_name = "N", conflicts_with = "name", value_parser = case_number,
          required_unless_present = "name")]
    case: Option<usize>,
    /// Name of the run directory under --artifacts (a --name or a --config file's stem).
    #[arg(long, value_name = "NAME", alias = "run")]
    name: Option<String>,
    /// Root of the artifacts.
    #[arg(long, value_name = "DIR", default_value = "artifacts")]
    artifacts: PathBuf,
    /// Use the checkpoint of this epoch instead of the final model (figures go to
    /// <run>/figures/epoch-N/).
    #[arg(long, value_name = "N", conflicts_with = "checkpoint", value_parser = positive)]
    epoch: Option<usize>,
    /// Use this model file (.bpk) instead of the final model (figures go to
    /// <run>/figures/file-<stem>/).
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// Backend to run the model on: flex, ndarray or wgpu.
    #[arg(long, default_value = "flex", value_parser = parse_backend)]
    backend: Backend,
    /// Directory of the MNIST IDX files [default: $MNIST_DIR, else the vendored datasets/mnist].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Where to write the figures [default: <run>/figures, or a folder of its own for a checkpoint].
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
        conflicts_with = "all_cases",
        value_parser = case_number
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
    /// run of the same configuration is reused, an unfinished one continued, and one of another
    /// configuration refused).
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

/// A whole number ≥ 1.
fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a whole number")),
    }
}

/// A study case, 1–7.
fn case_number(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=CASE_COUNT).contains(&n) => Ok(n),
        _ => Err(format!(
            "unknown case {s}: the study has cases 1 to {CASE_COUNT}"
        )),
    }
}

/// An IP address, or a host name (`localhost`) resolved to its first address.
fn parse_address(s: &str) -> Result<std::net::IpAddr, String> {
    use std::net::ToSocketAddrs;
    if let Ok(ip) = s.parse() {
        return Ok(ip);
    }
    let addresses: Vec<std::net::IpAddr> = (s, 0)
        .to_socket_addrs()
        .map(|a| a.map(|a| a.ip()).collect())
        .unwrap_or_default();
    // IPv4 first: `localhost` is 127.0.0.1 wherever IPv6 is off.
    addresses
        .iter()
        .find(|a| a.is_ipv4())
        .or(addresses.first())
        .copied()
        .ok_or_else(|| {
            format!("{s:?} is neither an IP address nor a host name this machine resolves")
        })
}

/// A usage error (exit code 2), in clap's words and format.
fn usage(message: impl std::fmt::Display) -> anyhow::Error {
    Cli::command()
        .error(clap::error::ErrorKind::MissingRequiredArgument, message)
        .into()
}

fn run(cli: Cli) -> Result<()> {
    let command = match cli.command {
        Some(command) => command,
        None => {
            train::interrupt::install("continue with --resume");
            return run_train(cli.train).map_err(|e| explain(e, Way::Train));
        }
    };
    if matches!(command, Command::Compare(_) | Command::Report(_)) {
        train::interrupt::install("run the same command again to continue");
    }
    match command {
        Command::Visualize(args) => run_visualize(args).map_err(|e| explain(e, Way::Train)),
        Command::Compare(args) => run_compare(args).map_err(|e| explain(e, Way::Compare)),
        Command::Report(args) => run_report(args).map_err(|e| explain(e, Way::Report)),
        Command::Serve(args) => {
            let resume_command = format!(
                "train --name {{name}} --resume{}",
                artifacts_flag(&args.artifacts, true)
            );
            train::serve::serve(train::serve::ServeOptions {
                artifacts: args.artifacts,
                bind: args.bind,
                port: args.port,
                data_dir: args.data_dir.unwrap_or_else(data::default_dir),
                resume_command,
            })
        }
    }
}

/// The run to train: a study case, a case file, or (`--name NAME --resume`) the run's own
/// `config.json`.
fn chosen_config(args: &TrainArgs) -> Result<TrainingConfig> {
    match (args.case, &args.config, &args.name) {
        (Some(case), None, _) => Ok(args.run.apply(TrainingConfig::case(case)?)),
        (None, Some(path), _) => Ok(args.run.apply(TrainingConfig::from_file(path)?)),
        (None, None, Some(name)) if args.resume => {
            check_run_name(name).map_err(usage)?;
            let dir = args.run.artifacts.join(name);
            if !dir.join(train::artifacts::CONFIG_FILE).exists() {
                return Err(RunError::NothingToResume { dir }.into());
            }
            Ok(args.run.apply_given(train::artifacts::load_config(&dir)?))
        }
        (None, None, Some(_)) => Err(usage(
            "--name NAME alone continues that run with --resume; to train one, give --case N or --config FILE",
        )),
        _ => Err(usage(
            "choose a study case with --case 1..7 or a case file with --config FILE, or a subcommand: visualize, compare, report, serve (see --help)",
        )),
    }
}

fn run_train(args: TrainArgs) -> Result<()> {
    let mut config = chosen_config(&args)?;
    let by_name = args.case.is_none() && args.config.is_none();
    match &args.name {
        Some(_) if by_name => {}
        Some(name) => {
            check_own_name(name, args.case, config.seed).map_err(usage)?;
            config.name = name.clone();
        }
        None if args.config.is_some() => check_own_name(&config.name, None, config.seed)
            .map_err(|e| usage(format!("--config: {e}")))?,
        None => {}
    }
    let backend = match (args.backend, args.resume) {
        (Some(backend), _) => backend,
        (None, true) => saved_backend(&args.run.artifacts.join(&config.name))?,
        (None, false) => Backend::Flex,
    };
    let mut options = RunOptions::new(
        args.run.artifacts.join(&config.name),
        args.run.data_dir(),
        backend,
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

/// The backend the run in `dir` trains on (flex for a run that recorded none, or no run).
fn saved_backend(dir: &Path) -> Result<Backend> {
    let saved = match train::artifacts::load_config(dir) {
        Ok(config) => config.backend,
        Err(_) => None,
    };
    match saved {
        Some(name) => name
            .parse()
            .map_err(|e: String| anyhow::anyhow!("{}: the run's backend: {e}", dir.display())),
        None => Ok(Backend::Flex),
    }
}

fn run_visualize(args: VisualizeArgs) -> Result<()> {
    let name = match (args.case, &args.name) {
        (Some(case), None) => case_name(case)?,
        (None, Some(name)) => {
            check_run_name(name).map_err(usage)?;
            name.clone()
        }
        _ => return Err(usage("choose a run with --case 1..7 or --name NAME")),
    };
    let dir = args.artifacts.join(&name);
    let choice = match (args.epoch, args.checkpoint) {
        (Some(epoch), _) => ModelChoice::Epoch(epoch),
        (None, Some(file)) => ModelChoice::File(file),
        (None, None) => ModelChoice::Final,
    };
    // Everything the figures need is checked before the first file is written.
    let compare = compared_runs(&args.compare, &args.artifacts, &name)?;
    let run = TrainedRun::load(&dir, &choice, args.backend.device()?)?;
    let (place, label, suffix) = default_place(&run, &choice);
    let out_dir = args.out.unwrap_or(place);
    if out_dir.exists() && !out_dir.is_dir() {
        bail!("{}: is a file; --out takes a directory", out_dir.display());
    }
    let mut options = FigureOptions::new(
        args.data_dir.unwrap_or_else(data::default_dir),
        out_dir.clone(),
        label,
    );
    options.suffix = suffix;
    options.samples = args.samples as usize;
    options.per_tile_scale = args.per_tile_scale;
    options.symmetric_weights = args.symmetric_weights;
    options.log_y = args.log_y;
    options.zoom = args.zoom;
    options.compare = compare;
    train::out!("{}: drawing from {}", name, run.model_path.display());
    // The final model's figures are stamped with its hash: `serve` shows them only while it
    // matches model.bpk.
    let stamp = out_dir.join(train::visualize::FIGURES_STAMP);
    std::fs::remove_file(&stamp).ok();
    let drawn = write_figures(&run, &options)?;
    if matches!(choice, ModelChoice::Final) {
        let bytes = std::fs::read(&run.model_path)?;
        stamp_figures(&out_dir, &train::artifacts::sha256_hex(&bytes))?;
    }
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

/// The runs `--compare` names, each once (`all`: every other study case with logs).
fn compared_runs(
    names: &[String],
    artifacts: &Path,
    drawn: &str,
) -> Result<Vec<(String, PathBuf)>> {
    let mut compare: Vec<(String, PathBuf)> = Vec::new();
    for other in names {
        if other == "all" {
            let before = compare.len();
            for case in 1..=CASE_COUNT {
                let label = format!("case{case}");
                let other_dir = artifacts.join(&label);
                let listed = compare.iter().any(|(l, _)| *l == label);
                if label != drawn && !listed && other_dir.join("train").is_dir() {
                    compare.push((label, other_dir));
                }
            }
            if compare.len() == before {
                bail!(
                    "--compare all: no other study case has a run under {}",
                    artifacts.display()
                );
            }
        } else if other == drawn {
            return Err(usage(format!(
                "--compare {other}: that is the run being drawn; name other runs"
            )));
        } else if compare.iter().any(|(l, _)| l == other) {
            return Err(usage(format!(
                "--compare: {other} is listed twice; name each run once"
            )));
        } else {
            check_run_name(other).map_err(usage)?;
            compare.push((other.clone(), artifacts.join(other)));
        }
    }
    Ok(compare)
}

fn run_compare(args: CompareArgs) -> Result<()> {
    for (i, backend) in args.backends.iter().enumerate() {
        if args.backends[..i].contains(backend) {
            return Err(usage(format!(
                "--backends: {backend} is listed twice; name each backend once"
            )));
        }
    }
    let cases: Vec<usize> = match args.case {
        Some(case) => vec![case],
        None => (1..=CASE_COUNT).collect(),
    };
    let name = match (&args.name, args.case) {
        (Some(name), _) => {
            check_run_name(name).map_err(usage)?;
            if let Some(owner @ (Owner::Case { .. } | Owner::Report)) = Owner::of(name) {
                return Err(usage(format!(
                    "--name {name:?} belongs to {owner}'s directory; a comparison needs one of its own (the default is compare-case<N>)"
                )));
            }
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

/// How a command is continued or redone, for the ways out of a refusal or a stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    /// `train`: `--resume`, `--overwrite`, `--name`.
    Train,
    /// `compare`: the same command again, `--overwrite`, `--name`.
    Compare,
    /// `report`: the same command again, `--reuse`, `--artifacts`.
    Report,
}

/// ` --artifacts DIR` when `dir` is not the default `artifacts` (empty otherwise); `DIR` itself
/// when `hide_absolute` and the path is absolute (the page must not show the machine's paths).
fn artifacts_flag(dir: &Path, hide_absolute: bool) -> String {
    if dir == Path::new("artifacts") {
        String::new()
    } else if hide_absolute && dir.is_absolute() {
        " --artifacts DIR".into()
    } else {
        format!(" --artifacts {}", dir.display())
    }
}

/// The `train` command that continues (or mends) the run in `dir`, from its own `config.json`.
fn resume_command(dir: &Path) -> String {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let root = dir.parent().unwrap_or(Path::new(""));
    format!(
        "train --name {name} --resume{}",
        artifacts_flag(root, false)
    )
}

/// `error` with the ways out that `way`'s command offers, on one line.
fn explain(error: anyhow::Error, way: Way) -> anyhow::Error {
    if let Some(refusal) = error.downcast_ref::<RunError>() {
        return anyhow::anyhow!("{}", refusal_advice(refusal, way));
    }
    if let Some(stop) = error.downcast_ref::<Stopped>() {
        let again = match (stop, way) {
            (Stopped::Diverged { .. }, Way::Train) => {
                "lower the learning rate and start again with --overwrite"
            }
            (Stopped::Diverged { .. }, _) => "the study's settings should not diverge: report it",
            (Stopped::Failed { .. }, Way::Train) => "fix the cause, then continue with --resume",
            (Stopped::Failed { .. }, _) => "fix the cause, then run the same command again",
            (Stopped::Signal { .. }, Way::Train) => "continue with --resume",
            (Stopped::Signal { .. }, _) => "run the same command again to continue",
        };
        let code = stop.exit_code();
        return ExitWith(code, format!("{stop}: {again}")).into();
    }
    error
}

/// What a refusal says, and the ways out of it for `way`'s command.
fn refusal_advice(refusal: &RunError, way: Way) -> String {
    let other_run = match way {
        Way::Train => {
            "keep both with --name NAME or --artifacts DIR, or replace it with --overwrite"
        }
        Way::Compare => {
            "replace it with --overwrite, or keep both with --name NAME or --artifacts DIR"
        }
        Way::Report => {
            "move it away, report on the runs that exist with --reuse, or choose another --artifacts directory"
        }
    };
    match (refusal, way) {
        (
            RunError::Conflict {
                diffs,
                resuming: true,
                ..
            },
            Way::Train,
        ) if diffs.iter().all(|d| d.field == "backend") => {
            format!(
                "--resume: {refusal}: a run trains on one backend; resume it with --backend {} (or without --backend), or keep both with --name NAME",
                diffs[0].old
            )
        }
        (RunError::Conflict { resuming: true, .. }, Way::Train) => {
            format!("--resume: {refusal}: {other_run}")
        }
        (RunError::Unfinished { .. }, Way::Train) => {
            format!("{refusal}: continue it with --resume, or start over with --overwrite")
        }
        (RunError::OtherLength { saved, target, .. }, Way::Train) if saved < target => {
            format!("{refusal}: continue it to {target} epochs with --resume, or {other_run}")
        }
        (RunError::Inconsistent { dir, .. }, _) => format!(
            "{refusal}; mend it with `{}` (it rebuilds the run from its newest checkpoint) or retrain it with --overwrite",
            resume_command(dir)
        ),
        (
            RunError::NotFinished {
                dir,
                newest: Some(n),
                ..
            },
            _,
        ) => format!(
            "{refusal}: draw a checkpoint with --epoch {n}, or finish the run with `{}`",
            resume_command(dir)
        ),
        (
            RunError::NotFinished {
                dir, newest: None, ..
            },
            _,
        ) => format!(
            "{refusal}: finish it with `{}` or train it again",
            resume_command(dir)
        ),
        (RunError::NothingToResume { dir }, _) => format!(
            "--resume needs a previous run: {} holds none; start one without --resume",
            dir.display()
        ),
        _ => format!("{refusal}: {other_run}"),
    }
}

/// An error that ends the program with this exit code.
#[derive(Debug)]
struct ExitWith(u8, String);

impl std::fmt::Display for ExitWith {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.1)
    }
}

impl std::error::Error for ExitWith {}

fn main() -> ExitCode {
    train::run_cli(run, |e: &anyhow::Error| {
        e.downcast_ref::<ExitWith>().map(|e| e.0)
    })
}
