//! A run's model written as safetensors in PyTorch's layout, through burn-store: its adapter
//! transposes each `Linear` weight, its key remapping names the layers `l1` and `l2`, and the
//! run's configuration goes into the file's metadata.

use std::path::Path;

use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, PathFilter, SafetensorsStore};
use model::INPUT_SIZE;
use npyz::WriterBuilder;

use crate::config::{Placement, TrainingConfig, activation_name};
use crate::error::{Error, Result};
use crate::files::{file_error, write_atomic};
use crate::inference::TrainedRun;

/// What goes into the exported file besides the weights.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// The model's test MSE as the run recorded it, if it did.
    pub test_mse: Option<f64>,
    /// The epochs the exported model trained (a checkpoint's epoch, or the run's); unknown for
    /// an imported model.
    pub epochs: Option<usize>,
}

/// Writes `run`'s model to `out` (atomically) as safetensors in PyTorch's layout: `l1.weight`
/// [hidden, 784], `l1.bias`, `l2.weight` [784, hidden], `l2.bias`, float32, with the run's
/// configuration in the metadata.
pub fn export(run: &TrainedRun, out: &Path, options: &ExportOptions) -> Result<()> {
    let c = &run.config;
    let m = &c.model;
    let placement = Placement::of(c).name();
    let activation = activation_name(m.activation);
    let known = |v: Option<String>| v.unwrap_or_else(|| "unknown".into());
    let test_mse = known(options.test_mse.map(|v| v.to_string()));
    let epochs = known(options.epochs.map(|v| v.to_string()));
    let mut store = SafetensorsStore::from_file(out)
        .overwrite(true)
        .filter(PathFilter::new().with_regex(r"^(encoder|decoder)\."))
        .with_to_adapter(BurnToPyTorchAdapter)
        .with_key_remapping(r"^encoder\.", "l1.")
        .with_key_remapping(r"^decoder\.", "l2.")
        .metadata("layout", "pytorch")
        .metadata("run", c.name.clone())
        .metadata("activation", activation)
        .metadata("hidden", m.hidden.to_string())
        .metadata("dropout", m.dropout.to_string())
        .metadata("dropout_placement", placement)
        .metadata("noise", c.noise.to_string())
        .metadata("epochs", epochs)
        .metadata("seed", c.seed.to_string())
        .metadata("test_mse", test_mse);
    run.model.save_into(&mut store).map_err(|e| Error::File {
        path: out.to_path_buf(),
        what: format!("cannot write ({e})"),
    })
}

/// The file of test inputs written beside an exported model.
pub const TEST_INPUTS_FILE: &str = "test-inputs.npy";

/// Writes the test inputs a run of `config` is measured on (noised as it noises them) to `out`
/// (atomically) as a NumPy `.npy` float32 `[10000, 784]`: what another framework needs to
/// reproduce the run's test MSE. Returns the number of images.
pub fn write_test_inputs(config: &TrainingConfig, data_dir: &Path, out: &Path) -> Result<usize> {
    let (_, test) = config.datasets(data_dir)?;
    let n = test.len();
    let mut bytes = Vec::new();
    let failed = |e: std::io::Error| file_error(out, e);
    let mut writer = npyz::WriteOptions::<f32>::new()
        .default_dtype()
        .shape(&[n as u64, INPUT_SIZE as u64])
        .writer(&mut bytes)
        .begin_nd()
        .map_err(failed)?;
    for i in 0..n {
        writer.extend(test.input(i)).map_err(failed)?;
    }
    writer.finish().map_err(failed)?;
    write_atomic(out, &bytes).map_err(failed)?;
    Ok(n)
}
