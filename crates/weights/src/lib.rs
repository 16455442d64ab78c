//! A model's weights in and out of the study, in PyTorch's layout: `l1.weight` [hidden, 784],
//! `l1.bias` [hidden], `l2.weight` [784, hidden], `l2.bias` [784], float32 (the layout of a
//! `torch.nn.Linear` pair, and of Chainer's `L.Linear` pair as `l1/W` …). Burn's `Linear` holds
//! its weight transposed, `[d_input, d_output]`.

mod export_files;
mod float_values;
mod import_run;
mod matching;
mod metadata;
mod read;
mod source;
mod torch_weights;
pub mod weights_error;

pub use export_files::{
    Effect, ExportFile, ExportKind, TEST_INPUTS_FILE, model_file, test_inputs_file,
};
pub use import_run::{Imported, PROVENANCE_FILE, Prepared, Provenance, check_vacant, import};
pub use metadata::{Described, EXPORTED_BY};
pub use read::{Foreign, Format, read_foreign};
pub use source::{MAX_FILE_BYTES, MAX_MODEL_VALUES};
pub use torch_weights::TorchWeights;
pub use weights_error::{Error, OutputError, Result, WeightsError};
