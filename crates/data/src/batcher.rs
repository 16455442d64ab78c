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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Mnist, NoisedMnist, Split, default_dir};
    use burn::data::dataset::Dataset;

    #[test]
    fn stacks_inputs_and_targets_in_item_order() {
        let set = NoisedMnist::new(
            Mnist::load(&default_dir(), Split::Test).unwrap().limit(3),
            0.2,
            1,
        );
        let items: Vec<AutoencoderItem> = (0..3).map(|i| set.get(i).unwrap()).collect();
        let batch = AutoencoderBatcher.batch(items.clone(), &Device::flex());
        assert_eq!(batch.inputs.dims(), [3, PIXELS]);
        let inputs = batch.inputs.into_data().try_to_vec::<f32>().unwrap();
        let targets = batch.targets.into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(inputs[PIXELS..2 * PIXELS], items[1].input[..]);
        assert_eq!(targets[2 * PIXELS..], items[2].target[..]);
        assert_ne!(inputs, targets, "noise should reach the inputs only");
    }
}
