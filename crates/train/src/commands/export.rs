//! `train export`: a run's model as safetensors in PyTorch's layout.

use std::path::Path;

use study::backend::Backend;
use study::epochs::{EPOCHS_CSV, read_epochs};
use study::inference::{ModelChoice, TrainedRun};
use study::layout::EXPORT_DIR;
use study::weights::{ExportOptions, Provenance, TEST_INPUTS_FILE, export, write_test_inputs};

use crate::cli::ExportArgs;
use crate::exit::usage;

/// Exports the model `args` name, refusing an unfinished or inconsistent run as `visualize` does.
pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let name = super::chosen::chosen_run(args.case, args.name.as_ref())?;
    let dir = args.artifacts.root().join(&name);
    let choice = args.epoch.map_or(ModelChoice::Final, ModelChoice::Epoch);
    let run = TrainedRun::load(&dir, &choice, Backend::Flex.device()?)?;
    let file = match args.epoch {
        Some(n) => format!("model-epoch-{n}.safetensors"),
        None => "model.safetensors".into(),
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| dir.join(EXPORT_DIR).join(file));
    check_output("--out", &out, "safetensors")?;
    let inputs = args
        .test_inputs
        .then(|| out.with_file_name(TEST_INPUTS_FILE));
    // The test MSE the run recorded for the exported model: its epoch's row, or the import's.
    let (epochs, test_mse) = match Provenance::of_run(&dir) {
        Some(imported) => (None, Some(imported.test_mse)),
        None => {
            let epoch = args.epoch.unwrap_or(run.config.epochs);
            let rows = read_epochs(&dir.join(EPOCHS_CSV));
            let recorded = rows.iter().find(|r| r.epoch == epoch).map(|r| r.test_mse);
            (Some(epoch), recorded)
        }
    };
    create_parent(&out)?;
    export(&run, &out, &ExportOptions { test_mse, epochs })?;
    let mse = test_mse.map_or_else(|| "not recorded".into(), |v| format!("{v:.5}"));
    study::out!(
        "wrote {} ({} of {}: l1.weight [{h}, 784], l1.bias [{h}], l2.weight [784, {h}], l2.bias [784], float32; test MSE {mse})",
        out.display(),
        run.model_path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy(),
        name,
        h = run.model.hidden()
    );
    if let Some(inputs) = &inputs {
        let n = write_test_inputs(&run.config, &args.data.dir(), inputs)?;
        let noised = if run.config.noise > 0.0 {
            ", noised as the run's"
        } else {
            ""
        };
        study::out!(
            "wrote {} ({n} test inputs{noised}, float32 [{n}, 784])",
            inputs.display()
        );
    }
    Ok(())
}

/// Refuses an output path `flag` names that is a directory, or an existing file of another kind
/// than `extension` (a run's `model.bpk`, say), which the export would replace.
fn check_output(flag: &str, path: &Path, extension: &str) -> anyhow::Result<()> {
    if path.is_dir() {
        return Err(usage(format!(
            "{flag} {}: is a directory; {flag} takes a file",
            path.display()
        )));
    }
    let other_kind = path.extension().is_none_or(|e| e != extension);
    if path.exists() && other_kind {
        return Err(usage(format!(
            "{flag} {}: exists and is not a .{extension} file; refusing to replace it (choose another name)",
            path.display()
        )));
    }
    Ok(())
}

/// Creates the directory `path` goes in.
fn create_parent(path: &Path) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| anyhow::anyhow!("{}: cannot create ({e})", parent.display()))?;
    }
    Ok(())
}
