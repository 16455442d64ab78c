//! `train import`: a foreign model (safetensors, PyTorch, Chainer's npz) as a finished run.

use study::model::{Activation, AutoencoderConfig};
use trainer::cases::case;
use trainer::config::TrainingConfig;
use trainer::names::check_own_name;
use weights::{Described, Foreign, Prepared, check_vacant, import, read_foreign};

use crate::advice::name_refused;
use crate::cli::ImportArgs;
use crate::exit::usage;

/// Imports `args.file` as the run `args.name`: the file is read (headers first) and the model
/// measured before anything is written; the writing holds stops back.
pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    check_own_name(&args.name, None, 0).map_err(|e| name_refused(e, ""))?;
    // The file's own name, links followed (`/dev/stdin` redirected from a file is that file).
    let real = std::fs::canonicalize(&args.file).unwrap_or_else(|_| args.file.clone());
    let shown = real
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let foreign = read_foreign(&args.file).map_err(|error| weights::Error::Weights {
        path: args.file.clone(),
        error,
    })?;
    let template = template(&args, &foreign, &shown)?;
    for (tensor, dtype) in &foreign.converted {
        crate::output::err!("note: {shown}: {tensor} is {dtype}; converted to float32");
    }
    if let Some(wrapper) = &foreign.wrapper {
        let aside = match foreign.left_aside.as_slice() {
            [] => String::new(),
            others => format!("; left aside: {}", others.join(", ")),
        };
        crate::output::err!("note: {shown}: the model's weights are its '{wrapper}' entry{aside}");
    }
    let dir = args.artifacts.root().join(&args.name);
    check_vacant(&dir, args.overwrite)?;
    let test = template.test_set(&args.data.dir())?;
    let described = foreign.described.clone();
    crate::output::err!(
        "{shown}: {} hidden units; measuring its test MSE on the {} test images…",
        foreign.weights.hidden,
        test.len()
    );
    let prepared = import(&args.file, foreign, &template, &dir, &test)?;
    let (written, signal) = crate::interrupt::deferred(|| -> anyhow::Result<()> {
        prepared.write(args.overwrite)?;
        say_imported(&prepared, &shown, described)
    });
    written?;
    match signal {
        Some(signal) => Err(super::export::stopped_after(
            signal,
            &format!(
                "the import was written: {} is a finished run",
                dir.display()
            ),
        )),
        None => Ok(()),
    }
}

/// The line that says what was imported, as what, and how its settings were chosen.
fn say_imported(
    prepared: &Prepared,
    shown: &str,
    described: Option<Described>,
) -> anyhow::Result<()> {
    let imported = &prepared.imported;
    let dir = &imported.run_dir;
    if let Some(recorded) = described.as_ref().and_then(|d| d.test_mse) {
        let measured = imported.test_mse;
        if (measured - recorded).abs() > 1e-5 * recorded.abs().max(1e-9) {
            crate::output::err!(
                "note: {shown} recorded test MSE {recorded:.5}, measured here {measured:.5}: its weights or its metadata changed after the export"
            );
        }
    }
    let from = described.map_or_else(String::new, |d| {
        let recorded = d
            .test_mse
            .map_or_else(String::new, |v| format!(", which recorded test MSE {v:.5}"));
        format!(
            "; settings from the file, exported from run {}{recorded}",
            d.run
        )
    });
    let config = TrainingConfig::of_run(dir)?;
    crate::output::out!(
        "{}: imported {shown} ({}): {}; test MSE {:.5}{from}",
        dir.display(),
        imported.format,
        config.model_summary(),
        imported.test_mse
    );
    Ok(())
}

/// The model's settings: from `--case`, else from the file's description, else from
/// `--activation`; with `--dropout` and `--noise` over them. Flags that contradict what the file
/// says of itself are refused, naming each setting.
fn template(args: &ImportArgs, foreign: &Foreign, shown: &str) -> anyhow::Result<TrainingConfig> {
    let described = foreign.described.as_ref();
    let mut template = match (args.case, described, args.activation.as_deref()) {
        (Some(number), ..) => case(number)?,
        (None, Some(d), _) => d.config(),
        (None, None, Some(_)) => TrainingConfig::new(
            String::new(),
            String::new(),
            AutoencoderConfig::new(1, Activation::Sigmoid).with_dropout(0.0),
        ),
        (None, None, None) => {
            return Err(usage(format!(
                "{shown} does not say what model it holds: name it with --case N or --activation relu|sigmoid (with --dropout P and --noise RATIO as it trained)"
            )));
        }
    };
    if let Some(activation) = args.activation.as_deref() {
        template.model.activation = match activation {
            "relu" => Activation::Relu,
            _ => Activation::Sigmoid,
        };
    }
    if let Some(dropout) = args.dropout {
        template.model.dropout = dropout;
    }
    if let Some(noise) = args.noise {
        template.noise = noise;
    }
    if let Some(d) = described {
        refuse_contradictions(d, &template, shown)?;
        template.seed = d.seed;
    }
    template.name = args.name.clone();
    template.description = format!("imported from {shown}");
    template.model.hidden = foreign.weights.hidden;
    if let Err(e) = template.validate_imported() {
        let flag = e
            .field
            .as_deref()
            .map_or("", |f| f.rsplit('.').next().unwrap_or(f));
        return Err(usage(format!("--{flag}: {}", e.message)));
    }
    Ok(template)
}

/// A usage error when the flags give the model other settings than its file says it has.
fn refuse_contradictions(
    d: &Described,
    template: &TrainingConfig,
    shown: &str,
) -> anyhow::Result<()> {
    let contradictions = d.contradictions(template);
    if contradictions.is_empty() {
        return Ok(());
    }
    let said: Vec<String> = contradictions
        .iter()
        .map(|c| format!("{} {} (the flags: {})", c.setting, c.old, c.new))
        .collect();
    Err(usage(format!(
        "{shown} says its model has {}, exported from run {}: leave out the flags that say otherwise (its settings are taken from the file)",
        said.join(", "),
        d.run
    )))
}
