//! Are the autoencoders' features useful for classification? A softmax regression on frozen
//! hidden codes (linear probe), and a `784 → n → 10` network fine-tuned from an autoencoder's
//! first layer against the same network from a random start.

use burn::nn::Linear;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::activation;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

pub use model::study_linear;

use data::epoch_seed;

/// Images per optimisation step, as in the autoencoders' training.
const BATCH: usize = 100;
/// Adam's learning rate for the classifiers.
const LEARNING_RATE: f64 = 1e-3;

/// Labelled examples, on a device without autodiff: `features` is `[n, d]`.
#[derive(Clone)]
pub struct Labelled {
    /// One row per example.
    pub features: Tensor<2>,
    /// Digit classes 0–9.
    pub labels: Tensor<1, Int>,
}

impl Labelled {
    /// Builds the set from flat row-major features (`d` per example) and labels.
    pub fn new(features: Vec<f32>, labels: &[u8], device: &Device) -> Self {
        let n = labels.len();
        let d = features.len() / n.max(1);
        let features = Tensor::from_data(TensorData::new(features, [n, d]), device);
        Self::from_tensor(features, labels, device)
    }

    /// Builds the set from a `[n, d]` feature tensor and labels.
    pub fn from_tensor(features: Tensor<2>, labels: &[u8], device: &Device) -> Self {
        let n = labels.len();
        Self {
            features,
            labels: Tensor::from_data(
                TensorData::new(labels.iter().map(|&l| l as i64).collect(), [n]),
                device,
            ),
        }
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.dims()[0]
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A classifier: an optional ReLU hidden layer, then a linear layer to the 10 digit scores.
#[derive(Module, Debug)]
pub struct Classifier {
    hidden: Option<Linear>,
    output: Linear,
}

impl Classifier {
    /// Softmax regression on `inputs` features.
    pub fn linear(inputs: usize, device: &Device) -> Self {
        Self {
            hidden: None,
            output: study_linear(inputs, 10, device),
        }
    }

    /// `inputs → hidden (ReLU) → output`, from given layers (e.g. an autoencoder's encoder).
    pub fn from_layers(hidden: Linear, output: Linear) -> Self {
        Self {
            hidden: Some(hidden),
            output,
        }
    }

    /// Class scores (logits) of `x`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        match &self.hidden {
            Some(hidden) => self.output.forward(activation::relu(hidden.forward(x))),
            None => self.output.forward(x),
        }
    }

    /// Fraction of `set` classified correctly.
    pub fn accuracy(&self, set: &Labelled) -> f64 {
        let model = self.valid();
        let mut correct = 0i64;
        let n = set.len();
        for start in (0..n).step_by(1000) {
            let end = (start + 1000).min(n);
            let x = set.features.clone().slice([start..end]);
            let y = set.labels.clone().slice([start..end]);
            let predicted = model.forward(x).argmax(1).squeeze_dim::<1>(1);
            correct += predicted.equal(y).int().sum().into_scalar::<i64>();
        }
        correct as f64 / n.max(1) as f64
    }
}

/// Trains `model` (on an autodiff device) on `set` for `epochs` with Adam and cross-entropy,
/// in a seeded order per epoch, and returns it.
pub fn fit(mut model: Classifier, set: &Labelled, epochs: usize, seed: u64) -> Classifier {
    let device = model.output.weight.val().device();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut optimizer = AdamConfig::new().with_epsilon(1e-8).init();
    let data_device = set.features.device();
    for epoch in 1..=epochs {
        let mut order: Vec<i64> = (0..set.len() as i64).collect();
        order.shuffle(&mut StdRng::seed_from_u64(epoch_seed(seed, epoch)));
        for chunk in order.chunks(BATCH) {
            let index = Tensor::<1, Int>::from_data(
                TensorData::new(chunk.to_vec(), [chunk.len()]),
                &data_device,
            );
            let x = set.features.clone().select(0, index.clone()).autodiff();
            let y = set.labels.clone().select(0, index).autodiff();
            let loss = loss_fn.forward(model.forward(x), y);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(LEARNING_RATE, model, grads);
        }
    }
    model
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two well separated blobs per class in 5 dimensions: any working classifier learns them.
    fn blobs(n: usize, seed: u64, device: &Device) -> Labelled {
        use rand::RngExt;
        let mut rng = StdRng::seed_from_u64(seed);
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let features: Vec<f32> = labels
            .iter()
            .flat_map(|&l| {
                let mut row = vec![0.0f32; 10];
                row[l as usize] = 3.0;
                row.iter_mut()
                    .for_each(|v| *v += rng.random_range(-0.5f32..0.5));
                row
            })
            .collect();
        Labelled::new(features, &labels, device)
    }

    #[test]
    fn linear_probe_learns_separable_classes() {
        let device = Device::flex();
        device.seed(3);
        let (train, test) = (blobs(4000, 1, &device), blobs(500, 2, &device));
        let ad = device.clone().autodiff();
        let untrained = Classifier::linear(10, &ad);
        let before = untrained.accuracy(&test);
        // 400 Adam steps at the probes' learning rate.
        let trained = fit(untrained, &train, 10, 5);
        let after = trained.accuracy(&test);
        // Chance is 0.1; 400 small steps get most of the way (0.83 measured).
        assert!(
            after > 0.6 && after > before + 0.5,
            "accuracy {after} (before training {before})"
        );
    }

    #[test]
    fn fitting_is_deterministic_for_a_seed() {
        let device = Device::flex();
        let train = blobs(500, 1, &device);
        let ad = device.clone().autodiff();
        let run = |seed| {
            device.seed(9);
            let layers =
                Classifier::from_layers(study_linear(10, 8, &ad), study_linear(8, 10, &ad));
            let model = fit(layers, &train, 1, seed);
            model
                .output
                .weight
                .val()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        assert_eq!(run(4), run(4));
        assert_ne!(run(4), run(5));
    }
}
