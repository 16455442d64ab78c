//! `train export`: a run's model as safetensors in PyTorch's layout (and its test inputs).

use trainer::backend::Backend;
use trainer::epochs::{EPOCHS_CSV, read_epochs};
use trainer::inference::{ModelChoice, TrainedRun};
use trainer::layout::EXPORT_DIR;
use trainer::origin::Origin;
use weights::{Described, Effect, ExportFile, ExportKind, TEST_INPUTS_FILE};

use crate::cli::ExportArgs;
use crate::exit::usage;

/// Exports the model `args` name, refusing an unfinished or inconsistent run as `visualize` does.
/// Every file is built and checked before any is written; the writing holds stops back.
pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let name = super::chosen::chosen_run(args.case, args.name.as_ref())?;
    let dir = args.artifacts.root().join(&name);
    let out = match &args.out {
        Some(out) if out.as_os_str().is_empty() => return Err(usage("--out: an empty path")),
        Some(out) if out.file_name().is_none() => {
            return Err(usage(format!("--out {}: names no file", out.display())));
        }
        Some(out) => out.clone(),
        None => dir.join(EXPORT_DIR).join(match args.epoch {
            Some(n) => format!("model-epoch-{n}.safetensors"),
            None => "model.safetensors".into(),
        }),
    };
    let choice = args.epoch.map_or(ModelChoice::Final, ModelChoice::Epoch);
    let run = TrainedRun::load(&dir, &choice, Backend::Flex.device()?)?;
    let described = description(&run, args.epoch);
    let mut files = vec![weights::model_file(&run, &described, out.clone())?];
    if args.test_inputs {
        let path = out.with_file_name(TEST_INPUTS_FILE);
        let data = args.data.dir();
        files.push(weights::test_inputs_file(&run.config, &data, path)?);
    }
    let effects = files
        .iter()
        .map(|f| f.effect(args.overwrite))
        .collect::<Result<Vec<_>, _>>()?;
    let (written, signal) = crate::interrupt::deferred(|| {
        for (file, effect) in files.iter().zip(&effects) {
            if *effect != Effect::Unchanged {
                file.write(*effect)?;
            }
            crate::output::out!("{}", said(file, *effect, &run, &name, &described));
        }
        Ok::<(), weights::Error>(())
    });
    written?;
    match signal {
        Some(signal) => Err(stopped_after(
            signal,
            "the export was written: its files are whole",
        )),
        None => Ok(()),
    }
}

/// A stop that came while the files were written, answered once they are whole.
pub fn stopped_after(signal: i32, what: &str) -> anyhow::Error {
    crate::exit::Signalled {
        signal,
        message: Some(format!(
            "stopped by {} after {what}",
            crate::interrupt::describe(signal)
        )),
    }
    .into()
}

/// What the exported file says of the model: the run's settings, the epochs it trained (a
/// checkpoint's, the run's, none for an import) and the test MSE the run recorded for it.
fn description(run: &TrainedRun, epoch: Option<usize>) -> Described {
    match &run.origin {
        Origin::Imported(provenance) => Described::of(&run.config, None, Some(provenance.test_mse)),
        Origin::Trained { epochs } => {
            let epoch = epoch.unwrap_or(*epochs);
            let rows = read_epochs(&run.dir.join(EPOCHS_CSV));
            let recorded = rows.iter().find(|r| r.epoch == epoch).map(|r| r.test_mse);
            Described::of(&run.config, Some(epoch), recorded)
        }
    }
}

/// The line that says what happened to `file`.
fn said(file: &ExportFile, effect: Effect, run: &TrainedRun, name: &str, d: &Described) -> String {
    let path = file.path.display();
    let what = match file.kind {
        ExportKind::Model => {
            let mse = d
                .test_mse
                .map_or_else(|| "not recorded".into(), |v| format!("{v:.5}"));
            let source = run
                .model_path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy();
            format!(
                "{source} of {name}: l1.weight [{h}, 784], l1.bias [{h}], l2.weight [784, {h}], l2.bias [784], float32; test MSE {mse}",
                h = d.hidden
            )
        }
        ExportKind::TestInputs { images } => {
            let noised = if d.noise > 0.0 {
                ", noised as the run's"
            } else {
                ""
            };
            format!("{images} test inputs{noised}, float32 [{images}, 784]")
        }
    };
    match effect {
        Effect::Create => format!("wrote {path} ({what})"),
        Effect::Replace => format!("replaced {path} ({what})"),
        Effect::Unchanged => format!("{path} already holds this ({what}); left as it is"),
    }
}
