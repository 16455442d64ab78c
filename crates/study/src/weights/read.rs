//! Reading a foreign model file, its format told by its content: safetensors (PyTorch's layout,
//! or Burn's own when its metadata says so), PyTorch's `torch.save(state_dict)` (also inside a
//! `{"state_dict": …}`), and Chainer's `serializers.save_npz`.

use std::collections::BTreeMap;
use std::path::Path;

use burn::store::{ModuleStore, PytorchStore, SafetensorsStore};
use burn::tensor::DType;

use super::TorchWeights;
use crate::error::WeightsError;

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
}

/// One tensor as read: its shape, its values as float32, and its type in the file.
struct Raw {
    shape: Vec<usize>,
    values: Vec<f32>,
    dtype: String,
}

/// Reads the model in `path`, whatever its format (told by its content), checking its keys,
/// shapes and values.
pub fn read_foreign(path: &Path) -> Result<Foreign, WeightsError> {
    let bytes = std::fs::read(path).map_err(|e| WeightsError::Unreadable {
        what: format!("cannot read ({e})"),
    })?;
    let sha256 = crate::checkpoint::sha256_hex(&bytes);
    let (format, tensors) = match detect(&bytes)? {
        Detected::Zip => match zip_names(&bytes)? {
            names if is_npz(&names) => (Format::ChainerNpz, read_npz(&bytes)?),
            _ => (Format::Pytorch, read_pytorch(path)?),
        },
        Detected::Pickle => (Format::Pytorch, read_pytorch(path)?),
        Detected::Safetensors => read_safetensors(bytes)?,
    };
    let converted = tensors
        .iter()
        .filter(|(_, t)| t.dtype != "float32")
        .map(|(name, t)| (name.clone(), t.dtype.clone()))
        .collect();
    let weights = arrange(format, tensors)?;
    weights.check_finite()?;
    Ok(Foreign {
        format,
        weights,
        converted,
        sha256,
    })
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
    let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| {
        WeightsError::Unreadable {
            what: format!(
                "a zip archive (PyTorch or npz) that cannot be read, truncated or damaged ({e})"
            ),
        }
    })?;
    Ok(archive.file_names().map(str::to_string).collect())
}

/// Whether a zip archive's entries are NumPy's npz (`.npy` arrays) rather than PyTorch's
/// (`…/data.pkl` and its storages).
fn is_npz(names: &[String]) -> bool {
    names.iter().any(|n| n.ends_with(".npy")) && !names.iter().any(|n| n.ends_with("data.pkl"))
}

/// The float32 values of `bytes` of a tensor of type `dtype` (little-endian), and the type's name.
fn to_f32(dtype: DType, bytes: &[u8], name: &str) -> Result<(Vec<f32>, String), WeightsError> {
    let chunks = |n: usize| bytes.chunks_exact(n);
    let values: Vec<f32> = match dtype {
        DType::F32 => chunks(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect(),
        DType::F64 => chunks(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32)
            .collect(),
        DType::F16 => chunks(2)
            .map(|c| half::f16::from_le_bytes(c.try_into().unwrap()).to_f32())
            .collect(),
        DType::BF16 => chunks(2)
            .map(|c| half::bf16::from_le_bytes(c.try_into().unwrap()).to_f32())
            .collect(),
        other => {
            return Err(WeightsError::NotFloat {
                tensor: name.into(),
                dtype: format!("{other:?}"),
            });
        }
    };
    let dtype = match dtype {
        DType::F32 => "float32",
        DType::F64 => "float64",
        DType::F16 => "float16",
        _ => "bfloat16",
    };
    Ok((values, dtype.into()))
}

/// Every tensor of a burn-store store, as float32.
fn tensors_of(store: &mut impl ModuleStore) -> Result<BTreeMap<String, Raw>, String> {
    let all = store.get_all_tensors().map_err(|e| format!("{e:?}"))?;
    let mut tensors = BTreeMap::new();
    for (name, tensor) in all {
        let bytes = tensor.to_bytes().map_err(|e| format!("{name}: {e:?}"))?;
        let (values, dtype) = to_f32(tensor.dtype, &bytes, name).map_err(|e| e.to_string())?;
        let shape = tensor.shape.to_vec();
        tensors.insert(
            name.clone(),
            Raw {
                shape,
                values,
                dtype,
            },
        );
    }
    Ok(tensors)
}

/// A safetensors file: Burn's layout when its metadata says Burn wrote it in its own layout,
/// PyTorch's otherwise.
fn read_safetensors(bytes: Vec<u8>) -> Result<(Format, BTreeMap<String, Raw>), WeightsError> {
    let unreadable = |e: String| WeightsError::Unreadable {
        what: format!("not a readable safetensors file ({e})"),
    };
    let (_, header) =
        safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| unreadable(e.to_string()))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let burn_layout = metadata.get("producer").is_some_and(|p| p == "burn")
        && metadata.get("layout").is_none_or(|l| l != "pytorch");
    let mut store = SafetensorsStore::from_bytes(Some(bytes));
    let tensors = tensors_of(&mut store).map_err(unreadable)?;
    let format = if burn_layout {
        Format::BurnSafetensors
    } else {
        Format::Safetensors
    };
    Ok((format, tensors))
}

/// A PyTorch file: a state dict, or a dict holding one under `state_dict`.
fn read_pytorch(path: &Path) -> Result<BTreeMap<String, Raw>, WeightsError> {
    let plain = match tensors_of(&mut PytorchStore::from_file(path)) {
        // A wrapper's tensors show as `state_dict.…`: read it through its key instead.
        Ok(tensors) if !tensors.keys().all(|k| k.starts_with("state_dict.")) => return Ok(tensors),
        other => other,
    };
    let wrapped = tensors_of(&mut PytorchStore::from_file(path).with_top_level_key("state_dict"));
    match (wrapped, plain) {
        (Ok(tensors), _) if !tensors.is_empty() => Ok(tensors),
        (_, Err(e)) => Err(WeightsError::Unreadable {
            what: format!("not a readable PyTorch file ({e})"),
        }),
        (_, Ok(_)) => Err(WeightsError::NotStateDict {
            what: "it holds no tensors".into(),
        }),
    }
}

/// Chainer's npz: one `.npy` array per parameter (`l1/W.npy` …).
fn read_npz(bytes: &[u8]) -> Result<BTreeMap<String, Raw>, WeightsError> {
    let unreadable = |e: String| WeightsError::Unreadable {
        what: format!("not a readable npz file ({e})"),
    };
    let mut archive = npyz::npz::NpzArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| unreadable(e.to_string()))?;
    let names: Vec<String> = archive.array_names().map(str::to_string).collect();
    let mut tensors = BTreeMap::new();
    for name in names {
        let array = archive
            .by_name(&name)
            .map_err(|e| unreadable(e.to_string()))?
            .ok_or_else(|| unreadable(format!("{name}: missing")))?;
        let shape: Vec<usize> = array.shape().iter().map(|&d| d as usize).collect();
        let dtype = match array.dtype() {
            npyz::DType::Plain(type_str) => type_str.to_string(),
            other => other.descr(),
        };
        let (values, dtype) = npy_values(array, &dtype, &name).map_err(|e| match e {
            WeightsError::NotFloat { .. } => e,
            other => unreadable(other.to_string()),
        })?;
        tensors.insert(
            name,
            Raw {
                shape,
                values,
                dtype,
            },
        );
    }
    Ok(tensors)
}

/// The values of one `.npy` array of type `descr` (`<f4`, `>f8`, `<f2` …), as float32.
fn npy_values<R: std::io::Read>(
    array: npyz::NpyFile<R>,
    descr: &str,
    name: &str,
) -> Result<(Vec<f32>, String), WeightsError> {
    let failed = |e: std::io::Error| WeightsError::Unreadable {
        what: format!("{name}: {e}"),
    };
    match descr.trim_start_matches(['<', '>', '|', '=']) {
        "f4" => Ok((array.into_vec::<f32>().map_err(failed)?, "float32".into())),
        "f8" => {
            let values = array.into_vec::<f64>().map_err(failed)?;
            Ok((
                values.into_iter().map(|v| v as f32).collect(),
                "float64".into(),
            ))
        }
        "f2" => {
            let values = array.into_vec::<half::f16>().map_err(failed)?;
            Ok((
                values.into_iter().map(half::f16::to_f32).collect(),
                "float16".into(),
            ))
        }
        other => Err(WeightsError::NotFloat {
            tensor: name.into(),
            dtype: other.into(),
        }),
    }
}

/// The four tensors of `format`'s names and layout, checked for names and shapes, in PyTorch's.
fn arrange(
    format: Format,
    mut tensors: BTreeMap<String, Raw>,
) -> Result<TorchWeights, WeightsError> {
    let names: [&str; 4] = match format {
        Format::Safetensors | Format::Pytorch => ["l1.weight", "l1.bias", "l2.weight", "l2.bias"],
        Format::BurnSafetensors => [
            "encoder.weight",
            "encoder.bias",
            "decoder.weight",
            "decoder.bias",
        ],
        Format::ChainerNpz => ["l1/W", "l1/b", "l2/W", "l2/b"],
    };
    let missing: Vec<String> = names
        .iter()
        .filter(|n| !tensors.contains_key(**n))
        .map(|n| n.to_string())
        .collect();
    let extra: Vec<String> = tensors
        .keys()
        .filter(|k| !names.contains(&k.as_str()))
        .cloned()
        .collect();
    if !missing.is_empty() || !extra.is_empty() {
        return Err(WeightsError::Keys {
            missing,
            extra,
            expected: names.join(", "),
        });
    }
    let mut take = |name: &str| tensors.remove(name).expect("checked above");
    let [w1, b1, w2, b2] = names.map(|n| take(n));
    // Burn's layout holds each weight transposed: bring it to PyTorch's.
    let (w1, w2) = match format {
        Format::BurnSafetensors => (transposed(w1), transposed(w2)),
        _ => (w1, w2),
    };
    let hidden = w1.shape.first().copied().unwrap_or(0);
    let expected = [
        (&w1, vec![hidden, model::INPUT_SIZE]),
        (&b1, vec![hidden]),
        (&w2, vec![model::INPUT_SIZE, hidden]),
        (&b2, vec![model::INPUT_SIZE]),
    ];
    if hidden == 0 || expected.iter().any(|(raw, shape)| raw.shape != *shape) {
        let shapes = [&w1, &b1, &w2, &b2].map(|raw| format!("{:?}", raw.shape));
        return Err(WeightsError::Shapes {
            found: format!(
                "{} {}, {} {}, {} {}, {} {}",
                names[0], shapes[0], names[1], shapes[1], names[2], shapes[2], names[3], shapes[3]
            ),
        });
    }
    Ok(TorchWeights {
        hidden,
        l1_weight: w1.values,
        l1_bias: b1.values,
        l2_weight: w2.values,
        l2_bias: b2.values,
    })
}

/// A 2-d tensor transposed (its shape reported as it would be in PyTorch's layout).
fn transposed(raw: Raw) -> Raw {
    let [rows, cols] = raw.shape[..] else {
        return raw;
    };
    let mut values = vec![0.0; raw.values.len()];
    for r in 0..rows {
        for c in 0..cols {
            values[c * rows + r] = raw.values[r * cols + c];
        }
    }
    Raw {
        shape: vec![cols, rows],
        values,
        dtype: raw.dtype,
    }
}
