//! `train compare`: one case (or all) on several backends, side by side, written as
//! `compare.md` and `compare.json`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use study::comparison::{Comparison, compare};
use trainer::cases::{CASE_COUNT, case};
use trainer::files::{file_error, write_atomic};
use trainer::names::{Owner, check_run_name};

use crate::advice::name_refused;
use crate::cli::CompareArgs;
use crate::commands::train::with_given;
use crate::exit::usage;

/// Trains and compares what `args` ask for, writing the comparison after each case.
pub fn run(args: CompareArgs) -> anyhow::Result<()> {
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
    let out_dir = args.artifacts.root().join(directory_name(&args)?);
    let mut comparisons = Vec::new();
    let interrupter = trainer::training::Interrupter::new();
    let events = crate::interrupt::routed(interrupter.clone(), crate::view::View::new(false));
    for number in cases {
        let mut config = with_given(&args.overrides, case(number)?);
        if args.no_dropout {
            config.model.dropout = 0.0;
        }
        let case_dir = if args.all_cases {
            out_dir.join(&config.name)
        } else {
            out_dir.clone()
        };
        let data_dir = args.data.dir();
        comparisons.push(compare(
            &config,
            &args.backends,
            (&case_dir, &data_dir),
            args.overwrite,
            (&events, &interrupter),
        )?);
        let (md, json) = write_comparisons(&comparisons, &out_dir)?;
        let last = comparisons.last().map(markdown).unwrap_or_default();
        crate::output::out!("\n{last}");
        crate::output::out!("wrote {} and {}", md.display(), json.display());
    }
    Ok(())
}

/// The comparison's directory: `--name`, else `compare-case<N>` or `compare-all`; never a
/// study case's or the report's.
fn directory_name(args: &CompareArgs) -> anyhow::Result<String> {
    Ok(match (&args.name, args.case) {
        (Some(name), _) => {
            check_run_name(name).map_err(|e| name_refused(e, ""))?;
            if let Some(owner @ (Owner::Case { .. } | Owner::Report)) = Owner::of(name) {
                return Err(usage(format!(
                    "--name {name:?} belongs to {owner}'s directory; a comparison needs one of its own (the default is compare-case<N>)"
                )));
            }
            name.clone()
        }
        (None, Some(case)) => format!("compare-case{case}"),
        (None, None) => "compare-all".to_string(),
    })
}

/// Writes `compare.md` and `compare.json` for `comparisons` into `dir`.
fn write_comparisons(comparisons: &[Comparison], dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let md_path = dir.join("compare.md");
    let json_path = dir.join("compare.json");
    let sections: Vec<String> = comparisons.iter().map(markdown).collect();
    let md = format!("# Backend comparison\n\n{}", sections.join("\n"));
    write_atomic(&md_path, md.as_bytes()).map_err(|e| file_error(&md_path, e))?;
    let json = serde_json::to_vec_pretty(comparisons)?;
    write_atomic(&json_path, &json).map_err(|e| file_error(&json_path, e))?;
    Ok((md_path, json_path))
}

/// One case's comparison as a Markdown section: devices, every epoch of every backend, the
/// largest differences.
fn markdown(c: &Comparison) -> String {
    let mut md = format!(
        "## {}: {}\n\n{} training images per epoch; same seed, data order and initial weights on every backend.\n\n",
        c.case, c.summary, c.train_images
    );
    md.push_str("| backend | device |\n|---|---|\n");
    for run in &c.runs {
        let _ = writeln!(md, "| {} | {} |", run.backend, run.device);
    }
    md.push_str("\n| epoch | backend | train loss | test MSE | seconds (train + test) | training images/s (train seconds) |\n|---:|---|---:|---:|---:|---:|\n");
    let epochs = c.runs.iter().map(|r| r.epochs.len()).max().unwrap_or(0);
    for e in 0..epochs {
        for run in &c.runs {
            if let Some(r) = run.epochs.get(e) {
                let _ = writeln!(
                    md,
                    "| {} | {} | {:.6} | {:.6} | {:.2} | {:.0} |",
                    r.epoch, run.backend, r.train_loss, r.test_mse, r.seconds, r.images_per_second
                );
            }
        }
    }
    let _ = writeln!(
        md,
        "\nLargest test-MSE difference between backends: {:.3e} ({:.3e} relative).\n",
        c.max_test_mse_diff, c.max_test_mse_rel_diff
    );
    let Some(first) = c.runs.first() else {
        return md;
    };
    for run in &c.runs[1..] {
        if let (Some(abs), Some(rel)) = (
            run.epoch1_max_abs_weight_diff,
            run.epoch1_relative_weight_diff,
        ) {
            let _ = writeln!(
                md,
                "Weights after epoch 1, {} vs {}: max |Δw| = {abs:.3e}, ‖Δw‖/‖w‖ = {rel:.3e}.",
                run.backend, first.backend
            );
        }
    }
    md
}
