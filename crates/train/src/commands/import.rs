//! `train import`: a foreign model (safetensors, PyTorch, Chainer's npz) as a finished run.

use study::cases::case;
use study::config::TrainingConfig;
use study::model::{Activation, AutoencoderConfig};
use study::names::check_own_name;
use study::weights::import;

use crate::advice::name_refused;
use crate::cli::ImportArgs;
use crate::exit::usage;

/// Imports `args.file` as the run `args.name`.
pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    check_own_name(&args.name, None, 0).map_err(|e| name_refused(e, ""))?;
    let shown = args
        .file
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let mut template = match (args.case, args.activation.as_deref()) {
        (Some(number), _) => case(number)?,
        (None, Some(activation)) => {
            let activation = match activation {
                "relu" => Activation::Relu,
                _ => Activation::Sigmoid,
            };
            let model = AutoencoderConfig::new(1, activation).with_dropout(args.dropout);
            TrainingConfig::new(String::new(), String::new(), model).with_noise(args.noise)
        }
        (None, None) => unreachable!("clap requires --case or --activation"),
    };
    template.name = args.name.clone();
    template.description = format!("imported from {shown}");
    if let Err(e) = template.validate() {
        let flag = e
            .field
            .as_deref()
            .map_or("", |f| f.rsplit('.').next().unwrap_or(f));
        return Err(usage(format!("--{flag}: {}", e.message)));
    }
    let dir = args.artifacts.root().join(&args.name);
    let imported = import(
        &args.file,
        &template,
        &dir,
        &args.data.dir(),
        args.overwrite,
    )?;
    for (tensor, dtype) in &imported.converted {
        study::err!("note: {shown}: {tensor} is {dtype}; converted to float32");
    }
    let config = TrainingConfig::of_run(&dir)?;
    study::out!(
        "{}: imported {shown} ({}): {}; test MSE {:.5}",
        dir.display(),
        imported.format,
        config.model_summary(),
        imported.test_mse
    );
    Ok(())
}
