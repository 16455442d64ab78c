//! `train visualize`: a run's figures from its final model, a checkpoint or a model file.

use std::path::{Path, PathBuf};

use study::drawing::{FIGURES_STAMP, FigureOptions, default_place, stamp_figures, write_figures};
use trainer::backend::Backend;
use trainer::cases::CASE_COUNT;
use trainer::checkpoint::sha256_hex;
use trainer::inference::{ModelChoice, TrainedRun};
use trainer::names::check_run_name;

use crate::advice::name_refused;
use crate::cli::VisualizeArgs;
use crate::exit::usage;

/// Draws the figures `args` ask for.
pub fn run(args: VisualizeArgs) -> anyhow::Result<()> {
    let name = super::chosen::chosen_run(args.case, args.name.as_ref())?;
    let root = args.artifacts.root();
    let dir = root.join(&name);
    let choice = match (args.epoch, &args.checkpoint) {
        (Some(epoch), _) => ModelChoice::Epoch(epoch),
        (None, Some(file)) => ModelChoice::File(file.clone()),
        (None, None) => ModelChoice::Final,
    };
    // Everything the figures need is checked before the first file is written.
    let compare = compared_runs(&args.compare, &root, &name)?;
    let backend = args.backend.backend.unwrap_or(Backend::Flex);
    let run = TrainedRun::load(&dir, &choice, backend.device()?)?;
    let (place, label, suffix) = default_place(&run, &choice);
    let out_dir = args.out.clone().unwrap_or(place);
    if out_dir.exists() && !out_dir.is_dir() {
        return Err(usage(format!(
            "--out {}: is a file; --out takes a directory",
            out_dir.display()
        )));
    }
    let mut options = FigureOptions::new(args.data.dir(), out_dir.clone(), label);
    options.suffix = suffix;
    options.samples = args.samples as usize;
    options.per_tile_scale = args.per_tile_scale;
    options.symmetric_weights = args.symmetric_weights;
    options.log_y = args.log_y;
    options.zoom = args.zoom;
    options.compare = compare;
    crate::output::out!("{}: drawing from {}", name, run.model_path.display());
    draw(&run, &options, &choice)
}

/// Writes the figures; the final model's are stamped with its hash (`serve` shows them only
/// while it is `model.bpk`'s).
fn draw(run: &TrainedRun, options: &FigureOptions, choice: &ModelChoice) -> anyhow::Result<()> {
    std::fs::remove_file(options.out_dir.join(FIGURES_STAMP)).ok();
    let drawn = write_figures(run, options)?;
    if matches!(choice, ModelChoice::Final) {
        stamp_figures(
            &options.out_dir,
            &sha256_hex(&std::fs::read(&run.model_path)?),
        )?;
    }
    for path in &drawn.files {
        crate::output::out!("wrote {}", path.display());
    }
    crate::output::out!(
        "codes: the first two principal components hold {:.0} % of the codes' variance; a nearest-digit-mean classifier in that plane is right for {:.1} % of the test images",
        100.0 * drawn.codes.variance_explained,
        100.0 * drawn.codes.nearest_mean_accuracy
    );
    Ok(())
}

/// The runs `--compare` names, each once and each there (`all`: every other study case with
/// logs); every name is checked before any directory is.
fn compared_runs(
    names: &[String],
    root: &Path,
    drawn: &str,
) -> anyhow::Result<Vec<(String, PathBuf)>> {
    for (i, other) in names.iter().enumerate() {
        if other == drawn {
            return Err(usage(format!(
                "--compare {other}: that is the run being drawn; name other runs"
            )));
        }
        if names[..i].contains(other) {
            return Err(usage(format!(
                "--compare: {other} is listed twice; name each run once"
            )));
        }
        if other != "all" {
            check_run_name(other).map_err(|e| name_refused(e, "--compare: "))?;
        }
    }
    let mut compare: Vec<(String, PathBuf)> = Vec::new();
    for other in names {
        if other == "all" {
            let before = compare.len();
            let others = (1..=CASE_COUNT).map(|case| format!("case{case}"));
            for label in others.filter(|label| label != drawn && !names.contains(label)) {
                let dir = root.join(&label);
                if dir.join("train").is_dir() {
                    compare.push((label, dir));
                }
            }
            if compare.len() == before {
                let root = root.display();
                return Err(anyhow::anyhow!(
                    "--compare all: no other study case has a run under {root}"
                ));
            }
        } else {
            let dir = root.join(other);
            if !dir.is_dir() {
                let shown = dir.display();
                return Err(anyhow::anyhow!(
                    "--compare {other}: {shown}: no such run directory"
                ));
            }
            compare.push((other.clone(), dir));
        }
    }
    Ok(compare)
}
