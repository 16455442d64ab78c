//! Sets of images as one tensor, and the mean squared error between two: what the measurements
//! and the PCA baseline share.

use burn::prelude::*;
use data::PIXELS;

/// A set of `rows × 784` images on a device without autodiff.
#[derive(Clone)]
pub struct Images {
    /// `[rows, 784]`.
    pub pixels: Tensor<2>,
}

impl Images {
    /// Wraps flat row-major pixels.
    pub fn new(flat: Vec<f32>, device: &Device) -> Self {
        let rows = flat.len() / PIXELS;
        Self {
            pixels: Tensor::from_data(TensorData::new(flat, [rows, PIXELS]), device),
        }
    }

    /// Number of images.
    pub fn rows(&self) -> usize {
        self.pixels.dims()[0]
    }

    /// The first `n` images.
    pub fn first(&self, n: usize) -> Images {
        let n = n.min(self.rows());
        Images {
            pixels: self.pixels.clone().slice([0..n]),
        }
    }
}

/// Mean squared error between two equally shaped tensors, summed in f64 in a fixed order (the
/// same bits on every run, whatever the threads do).
pub fn mse(a: Tensor<2>, b: Tensor<2>) -> f64 {
    let difference: Vec<f32> = (a - b).into_data().try_to_vec().expect("f32 values");
    mean_of(&difference, |d| d * d)
}

/// The mean of a tensor's values, summed in f64 in a fixed order.
pub fn mean(t: Tensor<2>) -> f64 {
    let values: Vec<f32> = t.into_data().try_to_vec().expect("f32 values");
    mean_of(&values, |v| v)
}

/// The mean of `f` over `values`: fixed chunks summed in parallel, then the chunks' sums in order.
fn mean_of(values: &[f32], f: impl Fn(f64) -> f64 + Sync) -> f64 {
    use rayon::prelude::*;
    let sums: Vec<f64> = values
        .par_chunks(1 << 16)
        .map(|chunk| chunk.iter().map(|&v| f(f64::from(v))).sum())
        .collect();
    sums.iter().sum::<f64>() / values.len().max(1) as f64
}

/// The rows of a `[rows, d]` tensor.
pub fn to_rows(t: Tensor<2>) -> Vec<Vec<f32>> {
    let width = t.dims()[1].max(1);
    let flat: Vec<f32> = t.into_data().try_to_vec().expect("f32 values");
    flat.chunks(width).map(<[f32]>::to_vec).collect()
}
