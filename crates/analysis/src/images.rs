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

/// Mean squared error between two equally shaped tensors.
pub fn mse(a: Tensor<2>, b: Tensor<2>) -> f64 {
    (a - b).powi_scalar(2).mean().into_scalar::<f64>()
}

/// The rows of a `[rows, d]` tensor.
pub fn to_rows(t: Tensor<2>) -> Vec<Vec<f32>> {
    let width = t.dims()[1].max(1);
    let flat: Vec<f32> = t.into_data().try_to_vec().expect("f32 values");
    flat.chunks(width).map(<[f32]>::to_vec).collect()
}
