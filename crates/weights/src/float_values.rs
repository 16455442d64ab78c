//! A tensor's values of any float type a file may hold (float32, float64, float16, bfloat16;
//! NumPy's in either order), as float32, with the type's name for the user.

use burn::store::pytorch_reader;

use crate::weights_error::WeightsError;

/// The floating-point types a tensor may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Float {
    F32,
    F64,
    F16,
    BF16,
}

/// The type of a safetensors tensor, if it is a float.
pub(crate) fn safetensors_dtype(
    dtype: safetensors::Dtype,
    name: &str,
) -> Result<Float, WeightsError> {
    use safetensors::Dtype;
    match dtype {
        Dtype::F32 => Ok(Float::F32),
        Dtype::F64 => Ok(Float::F64),
        Dtype::F16 => Ok(Float::F16),
        Dtype::BF16 => Ok(Float::BF16),
        other => Err(not_float(name, format!("{other:?}"))),
    }
}

/// The type of a PyTorch tensor, if it is a float.
pub(crate) fn pytorch_dtype(
    dtype: pytorch_reader::DType,
    name: &str,
) -> Result<Float, WeightsError> {
    use pytorch_reader::DType;
    match dtype {
        DType::F32 => Ok(Float::F32),
        DType::F64 => Ok(Float::F64),
        DType::F16 => Ok(Float::F16),
        DType::BF16 => Ok(Float::BF16),
        other => Err(not_float(name, format!("{other:?}"))),
    }
}

fn not_float(name: &str, dtype: String) -> WeightsError {
    WeightsError::NotFloat {
        tensor: name.into(),
        dtype,
    }
}

/// The float32 values of `bytes` of a tensor of type `dtype` (little-endian), and the type's name.
pub(crate) fn to_f32(
    dtype: Float,
    bytes: &[u8],
    name: &str,
) -> Result<(Vec<f32>, String), WeightsError> {
    let size = match dtype {
        Float::F32 => 4,
        Float::F64 => 8,
        Float::F16 | Float::BF16 => 2,
    };
    if bytes.len() % size != 0 {
        return Err(WeightsError::Unreadable {
            what: format!("{name}: {} bytes are not whole values", bytes.len()),
        });
    }
    let chunks = bytes.chunks_exact(size);
    let (values, dtype): (Vec<f32>, &str) = match dtype {
        Float::F32 => (
            chunks
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
            "float32",
        ),
        Float::F64 => (
            chunks
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32)
                .collect(),
            "float64",
        ),
        Float::F16 => (
            chunks
                .map(|c| half::f16::from_le_bytes(c.try_into().unwrap()).to_f32())
                .collect(),
            "float16",
        ),
        Float::BF16 => (
            chunks
                .map(|c| half::bf16::from_le_bytes(c.try_into().unwrap()).to_f32())
                .collect(),
            "bfloat16",
        ),
    };
    Ok((values, dtype.into()))
}

/// The values of one `.npy` array of type `descr` (`<f4`, `>f8`, `<f2` …), as float32.
pub(crate) fn npy_values<R: std::io::Read>(
    array: npyz::NpyFile<R>,
    descr: &str,
    name: &str,
) -> Result<(Vec<f32>, String), WeightsError> {
    let failed = |e: std::io::Error| WeightsError::Unreadable {
        what: format!("{name}: {e}"),
    };
    // A Fortran-order array (NumPy's `W.T`, saved as it is) holds its columns one after another.
    let fortran = match (array.order(), array.shape()) {
        (npyz::Order::Fortran, &[rows, cols]) => Some((rows as usize, cols as usize)),
        _ => None,
    };
    let (values, dtype): (Vec<f32>, &str) = match descr.trim_start_matches(['<', '>', '|', '=']) {
        "f4" => (array.into_vec::<f32>().map_err(failed)?, "float32"),
        "f8" => {
            let values = array.into_vec::<f64>().map_err(failed)?;
            (values.into_iter().map(|v| v as f32).collect(), "float64")
        }
        "f2" => {
            let values = array.into_vec::<half::f16>().map_err(failed)?;
            (
                values.into_iter().map(half::f16::to_f32).collect(),
                "float16",
            )
        }
        other => {
            return Err(WeightsError::NotFloat {
                tensor: name.into(),
                dtype: other.into(),
            });
        }
    };
    let values = match fortran {
        // Read column by column, the values are the transpose's rows.
        Some((rows, cols)) => transpose(&values, cols, rows),
        None => values,
    };
    Ok((values, dtype.into()))
}

/// `values`, a row-major `rows × cols` matrix, transposed.
pub(crate) fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}
