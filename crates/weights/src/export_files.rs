//! A run's model written as safetensors in PyTorch's layout, through burn-store (its adapter
//! transposes each `Linear` weight, its key remapping names the layers `l1` and `l2`, the run's
//! settings go into the metadata), and the test inputs it is measured on as NumPy's `.npy`.
//!
//! Every file is built in memory first and compared with what its path holds: a file that is
//! already the same is left as it is, and nothing the export did not write is replaced unless
//! asked; then each file is written atomically.

use std::path::{Path, PathBuf};

use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, PathFilter, SafetensorsStore};
use model::INPUT_SIZE;
use npyz::WriterBuilder;
use safetensors::SafeTensors;

use crate::metadata::Described;
use crate::weights_error::{Error, OutputError, Result};
use trainer::config::TrainingConfig;
use trainer::files::{file_error, write_atomic, write_atomic_new};
use trainer::inference::TrainedRun;

/// The file of test inputs written beside an exported model.
pub const TEST_INPUTS_FILE: &str = "test-inputs.npy";

/// What an exported file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// The model, as safetensors.
    Model,
    /// The test inputs, as NumPy's `.npy` float32 `[images, 784]`.
    TestInputs {
        /// How many.
        images: usize,
    },
}

/// A file an export writes: where, what, and its bytes.
#[derive(Debug, Clone)]
pub struct ExportFile {
    /// Where it goes.
    pub path: PathBuf,
    /// What it holds.
    pub kind: ExportKind,
    bytes: Vec<u8>,
}

/// What writing an [`ExportFile`] does to its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Nothing was there: the file is created.
    Create,
    /// The path already holds the same content: nothing is written.
    Unchanged,
    /// The path holds another file of the same kind, replaced as asked (`overwrite`).
    Replace,
}

/// `run`'s model as safetensors in PyTorch's layout: `l1.weight` [hidden, 784], `l1.bias`,
/// `l2.weight` [784, hidden], `l2.bias`, float32, with `described` in the metadata.
pub fn model_file(run: &TrainedRun, described: &Described, path: PathBuf) -> Result<ExportFile> {
    let mut store = SafetensorsStore::from_bytes(None)
        .filter(PathFilter::new().with_regex(r"^(encoder|decoder)\."))
        .with_to_adapter(BurnToPyTorchAdapter)
        .with_key_remapping(r"^encoder\.", "l1.")
        .with_key_remapping(r"^decoder\.", "l2.");
    for (key, value) in described.entries() {
        store = store.metadata(key, value);
    }
    let failed = |e: String| trainer::Error::File {
        path: path.clone(),
        what: format!("cannot build the safetensors file ({e})"),
    };
    run.model
        .save_into(&mut store)
        .map_err(|e| failed(e.to_string()))?;
    let bytes = store.get_bytes().map_err(|e| failed(e.to_string()))?;
    Ok(ExportFile {
        kind: ExportKind::Model,
        bytes: canonical(bytes).map_err(|e| failed(e.to_string()))?,
        path,
    })
}

/// The safetensors file `bytes` with its header's entries in order: safetensors writes them in
/// a hash map's order, a different file each time for the same model and metadata.
fn canonical(bytes: Vec<u8>) -> serde_json::Result<Vec<u8>> {
    use std::collections::BTreeMap;
    let length = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let mut header: BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(&bytes[8..8 + length])?;
    if let Some(metadata) = header.get_mut("__metadata__") {
        let sorted: BTreeMap<String, String> = serde_json::from_value(metadata.take())?;
        *metadata = serde_json::to_value(sorted)?;
    }
    let mut text = serde_json::to_vec(&header)?;
    // Padded with spaces, as safetensors pads, so that the tensors' data starts aligned.
    text.resize(text.len().next_multiple_of(8), b' ');
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend(text);
    out.extend_from_slice(&bytes[8 + length..]);
    Ok(out)
}

/// The test inputs a run of `config` is measured on (noised as it noises them) as NumPy's `.npy`
/// float32 `[10000, 784]`: what another framework needs to reproduce the run's test MSE.
pub fn test_inputs_file(
    config: &TrainingConfig,
    data_dir: &Path,
    path: PathBuf,
) -> Result<ExportFile> {
    let test = config.test_set(data_dir)?;
    let n = test.len();
    let mut bytes = Vec::with_capacity(128 + n * INPUT_SIZE * 4);
    let failed = |e: std::io::Error| file_error(&path, e);
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
    Ok(ExportFile {
        path,
        kind: ExportKind::TestInputs { images: n },
        bytes,
    })
}

impl ExportFile {
    /// What writing this file would do, checked before anything is written: a directory or a
    /// special file in the way, or a file of another kind, is refused; another file of the same
    /// kind is replaced only when `overwrite`.
    pub fn effect(&self, overwrite: bool) -> Result<Effect> {
        let refused = |error| Error::Output {
            path: self.path.clone(),
            error,
        };
        let metadata = match std::fs::metadata(&self.path) {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return match std::fs::symlink_metadata(&self.path) {
                    Ok(_) => Err(refused(OutputError::DanglingLink)),
                    Err(_) => Ok(Effect::Create),
                };
            }
            Err(e) => return Err(file_error(&self.path, e).into()),
        };
        if !metadata.is_file() {
            return Err(refused(OutputError::InTheWay {
                what: if metadata.is_dir() {
                    "a directory"
                } else {
                    "not a regular file"
                },
            }));
        }
        let old = self.existing(metadata.len())?;
        match old {
            Some(old) if self.same(&old) => Ok(Effect::Unchanged),
            _ if !self.same_kind(&self.path, metadata.len())? => {
                Err(refused(OutputError::OtherKind {
                    kind: self.kind_name(),
                }))
            }
            _ if overwrite => Ok(Effect::Replace),
            _ => Err(refused(OutputError::Exists)),
        }
    }

    /// Writes the file (atomically) as `effect` said, creating its directory: a file to create
    /// is not written over one that appeared meanwhile (another export to the same path).
    pub fn write(&self, effect: Effect) -> Result<()> {
        if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| Error::from(file_error(parent, e)))?;
        }
        let written = match effect {
            Effect::Unchanged => return Ok(()),
            Effect::Create => write_atomic_new(&self.path, &self.bytes),
            Effect::Replace => write_atomic(&self.path, &self.bytes),
        };
        written.map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::Output {
                path: self.path.clone(),
                error: OutputError::Appeared,
            },
            _ => file_error(&self.path, e).into(),
        })
    }

    /// The bytes the path holds, when they could be this file's (the same length).
    fn existing(&self, len: u64) -> Result<Option<Vec<u8>>> {
        if len != self.bytes.len() as u64 {
            return Ok(None);
        }
        std::fs::read(&self.path)
            .map(Some)
            .map_err(|e| Error::from(file_error(&self.path, e)))
    }

    /// Whether `old` holds what this file holds: the same bytes, or for a model the same tensors
    /// and metadata (safetensors writes its metadata in no fixed order).
    fn same(&self, old: &[u8]) -> bool {
        if old == self.bytes {
            return true;
        }
        self.kind == ExportKind::Model && same_safetensors(old, &self.bytes)
    }

    /// Whether the file at `path` is of this file's kind, by its first bytes.
    fn same_kind(&self, path: &Path, len: u64) -> Result<bool> {
        use std::io::Read;
        let mut head = [0u8; 9];
        let mut file = std::fs::File::open(path).map_err(|e| Error::from(file_error(path, e)))?;
        let read = file
            .read(&mut head)
            .map_err(|e| Error::from(file_error(path, e)))?;
        let head = &head[..read];
        if head.is_empty() {
            return Ok(true); // An empty file holds nothing to lose.
        }
        Ok(match self.kind {
            ExportKind::TestInputs { .. } => head.starts_with(b"\x93NUMPY"),
            ExportKind::Model => {
                head.len() == 9
                    && head[8] == b'{'
                    && u64::from_le_bytes(head[..8].try_into().expect("8 bytes")) < len
            }
        })
    }

    fn kind_name(&self) -> &'static str {
        match self.kind {
            ExportKind::Model => "safetensors",
            ExportKind::TestInputs { .. } => "NumPy .npy",
        }
    }
}

/// Whether two safetensors files hold the same tensors and the same metadata.
fn same_safetensors(a: &[u8], b: &[u8]) -> bool {
    let (Ok((_, ma)), Ok((_, mb))) = (SafeTensors::read_metadata(a), SafeTensors::read_metadata(b))
    else {
        return false;
    };
    let (Ok(ta), Ok(tb)) = (SafeTensors::deserialize(a), SafeTensors::deserialize(b)) else {
        return false;
    };
    let mut names = ta.names();
    names.sort();
    let mut others = tb.names();
    others.sort();
    ma.metadata() == mb.metadata()
        && names == others
        && names
            .iter()
            .all(|name| match (ta.tensor(name), tb.tensor(name)) {
                (Ok(x), Ok(y)) => {
                    x.dtype() == y.dtype() && x.shape() == y.shape() && x.data() == y.data()
                }
                _ => false,
            })
}
