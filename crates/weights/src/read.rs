//! Reading a foreign model file, its format told by its content: safetensors (PyTorch's layout,
//! or Burn's own when its metadata says so), PyTorch's `torch.save` of a state dict (also a
//! training checkpoint holding one), and Chainer's `serializers.save_npz`. A file is mapped, not
//! read whole; its headers are read first, then only the four tensors of the model.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;

use burn::store::pytorch_reader::{self, PytorchReader};
use npyz::npz::{array_name_from_file_name, file_name_from_array_name};
use safetensors::SafeTensors;
use zip::ZipArchive;

use crate::float_values::{npy_values, pytorch_dtype, safetensors_dtype, to_f32, transpose};
use crate::matching::{self, Choice, Entry};
use crate::metadata::Described;
use crate::source;
use crate::torch_weights::TorchWeights;
use crate::weights_error::WeightsError;

/// The formats a model can be imported from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// safetensors in PyTorch's layout (`l1.weight` …).
    Safetensors,
    /// safetensors written by Burn in its own layout (`encoder.weight` [784, hidden] …).
    BurnSafetensors,
    /// PyTorch's `torch.save` of a state dict.
    Pytorch,
    /// Chainer's `save_npz` (`l1/W` …).
    ChainerNpz,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Safetensors => "safetensors",
            Format::BurnSafetensors => "safetensors (Burn's layout)",
            Format::Pytorch => "pytorch",
            Format::ChainerNpz => "chainer-npz",
        })
    }
}

/// A foreign model as read: its format, its weights, and what was converted on the way.
#[derive(Debug, Clone)]
pub struct Foreign {
    /// The format found.
    pub format: Format,
    /// The weights, in PyTorch's layout.
    pub weights: TorchWeights,
    /// Tensors that were not float32, with their type (converted to float32).
    pub converted: Vec<(String, String)>,
    /// The SHA-256 of the bytes read.
    pub sha256: String,
    /// The entry of a training checkpoint the weights came from (`state_dict`), if any.
    pub wrapper: Option<String>,
    /// The checkpoint's other entries that hold tensors (`optimizer`), left aside.
    pub left_aside: Vec<String>,
    /// What the file says of the model, when this program exported it.
    pub described: Option<Described>,
}

/// Reads the model in `path`, whatever its format (told by its content): the file's headers
/// first (names, shapes, types), then only the four tensors the model is made of.
pub fn read_foreign(path: &Path) -> Result<Foreign, WeightsError> {
    let source = source::open(path)?;
    let bytes: &[u8] = &source.bytes;
    let (format, container) = match detect(bytes)? {
        Detected::Zip => {
            let names = zip_names(bytes)?;
            if is_torchscript(&names) {
                return Err(WeightsError::TorchScript);
            }
            match is_npz(&names) {
                true => (Format::ChainerNpz, Container::npz(bytes)?),
                false => (Format::Pytorch, Container::pytorch(path)?),
            }
        }
        Detected::Pickle => (Format::Pytorch, Container::pytorch(path)?),
        Detected::Safetensors => Container::safetensors(bytes)?,
    };
    let entries = container.entries()?;
    let choice = matching::choose(&entries, format == Format::BurnSafetensors)?;
    let described = container.described()?;
    if let Some(d) = described.as_ref().filter(|d| d.hidden != choice.hidden) {
        return Err(WeightsError::Unreadable {
            what: format!(
                "its metadata says {} hidden units, its tensors hold {}: a damaged or edited file",
                d.hidden, choice.hidden
            ),
        });
    }
    let mut raws = Vec::with_capacity(4);
    for name in &choice.names {
        raws.push(container.values(name)?);
    }
    let converted = choice
        .names
        .iter()
        .zip(&raws)
        .filter(|(_, (_, dtype))| dtype != "float32")
        .map(|(name, (_, dtype))| (name.clone(), dtype.clone()))
        .collect();
    let weights = arrange(&choice, raws);
    weights.check_finite()?;
    let left_aside = match &choice.wrapper {
        Some(wrapper) => container.other_entries(path, &entries, wrapper),
        None => Vec::new(),
    };
    Ok(Foreign {
        format,
        weights,
        converted,
        sha256: source.sha256,
        wrapper: choice.wrapper,
        left_aside,
        described,
    })
}

/// The four tensors in PyTorch's layout (Burn's `[in, out]` weights transposed).
fn arrange(choice: &Choice, raws: Vec<(Vec<f32>, String)>) -> TorchWeights {
    let n = choice.hidden;
    let [w1, b1, w2, b2]: [Vec<f32>; 4] = raws
        .into_iter()
        .map(|(values, _)| values)
        .collect::<Vec<_>>()
        .try_into()
        .expect("four tensors");
    let (l1_weight, l2_weight) = match choice.transposed {
        true => (
            transpose(&w1, model::INPUT_SIZE, n),
            transpose(&w2, n, model::INPUT_SIZE),
        ),
        false => (w1, w2),
    };
    TorchWeights {
        hidden: n,
        l1_weight,
        l1_bias: b1,
        l2_weight,
        l2_bias: b2,
    }
}

/// A file's tensors, listed from its headers and read one at a time.
enum Container<'a> {
    /// A safetensors file, with its metadata.
    Safetensors(SafeTensors<'a>, HashMap<String, String>),
    /// NumPy's npz (a zip archive of `.npy` files, read with the zip crate and npyz's helpers),
    /// and its bytes.
    Npz(RefCell<ZipArchive<Cursor<&'a [u8]>>>, &'a [u8]),
    /// A PyTorch file, its tensors read lazily.
    Pytorch(PytorchReader),
}

impl<'a> Container<'a> {
    /// A safetensors file: Burn's layout when its metadata says Burn wrote it in its own layout,
    /// PyTorch's otherwise.
    fn safetensors(bytes: &'a [u8]) -> Result<(Format, Self), WeightsError> {
        let unreadable = |e: safetensors::SafeTensorError| WeightsError::Unreadable {
            what: format!("not a readable safetensors file ({e})"),
        };
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(unreadable)?;
        let metadata = header.metadata().clone().unwrap_or_default();
        let tensors = SafeTensors::deserialize(bytes).map_err(unreadable)?;
        let burn_layout = metadata.get("producer").is_some_and(|p| p == "burn")
            && metadata.get("layout").is_none_or(|l| l != "pytorch");
        let format = match burn_layout {
            true => Format::BurnSafetensors,
            false => Format::Safetensors,
        };
        Ok((format, Self::Safetensors(tensors, metadata)))
    }

    /// Chainer's npz: one `.npy` array per parameter (`l1/W.npy` …).
    fn npz(bytes: &'a [u8]) -> Result<Self, WeightsError> {
        let archive = ZipArchive::new(Cursor::new(bytes)).map_err(|e| npz_unreadable(&e))?;
        Ok(Self::Npz(RefCell::new(archive), bytes))
    }

    /// A PyTorch file (its pickle read, its tensors left in the file).
    fn pytorch(path: &Path) -> Result<Self, WeightsError> {
        let reader = PytorchReader::new(path).map_err(|e| WeightsError::Unreadable {
            what: format!("not a readable PyTorch file ({e})"),
        })?;
        if reader.is_empty() {
            return Err(WeightsError::NotStateDict {
                what: "it holds no tensors".into(),
            });
        }
        Ok(Self::Pytorch(reader))
    }

    /// Every tensor's name and shape, from the headers.
    fn entries(&self) -> Result<Vec<Entry>, WeightsError> {
        let entry = |name: &str, shape: Vec<usize>| Entry {
            name: name.to_string(),
            shape,
        };
        let mut entries: Vec<Entry> = match self {
            Self::Safetensors(tensors, _) => tensors
                .iter()
                .map(|(name, view)| entry(name, view.shape().to_vec()))
                .collect(),
            Self::Pytorch(reader) => reader
                .tensors()
                .iter()
                .map(|(name, t)| entry(name, t.shape().to_vec()))
                .collect(),
            Self::Npz(archive, bytes) => {
                let mut archive = archive.borrow_mut();
                let names: Vec<String> = archive
                    .file_names()
                    .filter_map(array_name_from_file_name)
                    .map(str::to_string)
                    .collect();
                let mut entries = Vec::new();
                for name in names {
                    let array = npz_array(&mut archive, bytes, &name)?;
                    entries.push(entry(
                        &name,
                        array.shape().iter().map(|&d| d as usize).collect(),
                    ));
                }
                entries
            }
        };
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    /// The float32 values of tensor `name`, and its type in the file.
    fn values(&self, name: &str) -> Result<(Vec<f32>, String), WeightsError> {
        match self {
            Self::Safetensors(tensors, _) => {
                let view = tensors.tensor(name).map_err(|e| WeightsError::Unreadable {
                    what: format!("{name}: {e}"),
                })?;
                let dtype = safetensors_dtype(view.dtype(), name)?;
                to_f32(dtype, view.data(), name)
            }
            Self::Pytorch(reader) => {
                let tensor = reader.get(name).expect("a listed tensor");
                let dtype = pytorch_dtype(tensor.dtype(), name)?;
                let bytes = tensor.read().map_err(|e| WeightsError::Unreadable {
                    what: format!("a PyTorch file that cannot be read, truncated or damaged ({e})"),
                })?;
                to_f32(dtype, &bytes, name)
            }
            Self::Npz(archive, bytes) => {
                let mut archive = archive.borrow_mut();
                let array = npz_array(&mut archive, bytes, name)?;
                let descr = match array.dtype() {
                    npyz::DType::Plain(type_str) => type_str.to_string(),
                    other => other.descr(),
                };
                npy_values(array, &descr, name).map_err(|e| match e {
                    WeightsError::NotFloat { .. } => e,
                    other => WeightsError::Unreadable {
                        what: format!("not a readable npz file ({other})"),
                    },
                })
            }
        }
    }

    /// The entries of a checkpoint beside the `wrapper` the model came from: every key of a
    /// PyTorch file's top-level dictionary (`epoch`, `optimizer`), else those holding tensors.
    fn other_entries(&self, path: &Path, entries: &[Entry], wrapper: &str) -> Vec<String> {
        let top = match self {
            Self::Pytorch(_) => PytorchReader::read_pickle_data(path, None).ok(),
            _ => None,
        };
        match top {
            Some(pytorch_reader::PickleValue::Dict(dict)) => {
                let mut keys: Vec<String> = dict.into_keys().filter(|k| k != wrapper).collect();
                keys.sort();
                keys
            }
            _ => matching::other_entries(entries, wrapper),
        }
    }

    /// What the file's metadata says of the model, if this program exported it.
    fn described(&self) -> Result<Option<Described>, WeightsError> {
        match self {
            Self::Safetensors(_, metadata) => {
                Described::from_metadata(metadata).map_err(|reason| WeightsError::Unreadable {
                    what: format!(
                        "its metadata says this program exported it, but {reason}: a damaged or edited file"
                    ),
                })
            }
            _ => Ok(None),
        }
    }
}

/// The array `name` of an npz archive (of `bytes`), its header read (an uninitialised Chainer
/// parameter, saved as a Python `None`, is said so).
fn npz_array<'b>(
    archive: &'b mut ZipArchive<Cursor<&[u8]>>,
    bytes: &[u8],
    name: &str,
) -> Result<npyz::NpyFile<zip::read::ZipFile<'b>>, WeightsError> {
    let entry = match archive.by_name(&file_name_from_array_name(name)) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => {
            return Err(WeightsError::Unreadable {
                what: format!("not a readable npz file ({name}: missing)"),
            });
        }
        Err(e) => return Err(npz_unreadable(&e)),
    };
    npyz::NpyFile::new(entry).map_err(|e| match holds_object(bytes, name) {
        true => WeightsError::Uninitialised {
            tensor: name.to_string(),
        },
        false => npz_unreadable(&e),
    })
}

/// Whether the array `name` of the npz archive `bytes` holds a Python object (`descr` `|O`),
/// which is how Chainer saves a parameter that has no value yet.
fn holds_object(bytes: &[u8], name: &str) -> bool {
    use std::io::Read;
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return false;
    };
    let Ok(entry) = archive.by_name(&format!("{name}.npy")) else {
        return false;
    };
    let mut header = Vec::new();
    entry.take(256).read_to_end(&mut header).is_ok() && header.windows(4).any(|w| w == b"'|O'")
}

fn npz_unreadable(e: &dyn std::fmt::Display) -> WeightsError {
    WeightsError::Unreadable {
        what: format!("not a readable npz file ({e})"),
    }
}

enum Detected {
    Zip,
    Pickle,
    Safetensors,
}

/// The kind of file `bytes` hold: a zip archive (PyTorch's files, NumPy's npz), a bare pickle
/// (PyTorch's legacy files), or safetensors (an 8-byte header length, then a JSON header).
fn detect(bytes: &[u8]) -> Result<Detected, WeightsError> {
    if bytes.starts_with(b"PK\x03\x04") {
        return Ok(Detected::Zip);
    }
    if bytes.first() == Some(&0x80) {
        return Ok(Detected::Pickle);
    }
    if bytes.len() > 8 {
        let header = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
        if header > 1 && header < bytes.len() as u64 && bytes[8] == b'{' {
            return Ok(Detected::Safetensors);
        }
    }
    Err(WeightsError::UnknownFormat)
}

/// The entries of the zip archive `bytes` (a truncated archive has no readable directory).
fn zip_names(bytes: &[u8]) -> Result<Vec<String>, WeightsError> {
    let archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| WeightsError::Unreadable {
            what: format!(
                "a zip archive (PyTorch or npz) that cannot be read, truncated or damaged ({e})"
            ),
        })?;
    Ok(archive.file_names().map(str::to_string).collect())
}

/// Whether a zip archive's entries are NumPy's npz (`.npy` arrays) rather than PyTorch's
/// (`…/data.pkl` and its storages).
fn is_npz(names: &[String]) -> bool {
    names.iter().any(|n| n.ends_with(".npy")) && !names.iter().any(|n| n.ends_with("data.pkl"))
}

/// Whether a zip archive is TorchScript's (`torch.jit.save`: its code and constants beside the
/// pickle).
fn is_torchscript(names: &[String]) -> bool {
    names
        .iter()
        .any(|n| n.ends_with("constants.pkl") || n.contains("/code/"))
}
