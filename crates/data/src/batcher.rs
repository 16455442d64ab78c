//! Turns [`AutoencoderItem`]s into `(input, target)` tensors.

use burn::data::dataloader::batcher::Batcher;
use burn::prelude::*;

use crate::mnist::PIXELS;
use crate::noise::AutoencoderItem;

/// A batch of inputs and targets, both `[batch, 784]`.
#[derive(Debug, Clone)]
pub struct AutoencoderBatch {
    /// Possibly noised inputs.
    pub inputs: Tensor<2>,
    /// Clean targets.
    pub targets: Tensor<2>,
}

/// Stacks items into an [`AutoencoderBatch`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AutoencoderBatcher;

impl Batcher<AutoencoderItem, AutoencoderBatch> for AutoencoderBatcher {
    fn batch(&self, items: Vec<AutoencoderItem>, device: &Device) -> AutoencoderBatch {
        let n = items.len();
        let mut inputs = Vec::with_capacity(n * PIXELS);
        let mut targets = Vec::with_capacity(n * PIXELS);
        for item in &items {
            inputs.extend_from_slice(&item.input);
            targets.extend_from_slice(&item.target);
        }
        AutoencoderBatch {
            inputs: Tensor::from_data(TensorData::new(inputs, [n, PIXELS]), device),
            targets: Tensor::from_data(TensorData::new(targets, [n, PIXELS]), device),
        }
    }
}
