//! The study's MNIST autoencoder, `784 → n → 784`, as a Burn [`Module`] with dropout and MSE loss.
//!
//! `Linear(784, n)` → ReLU or Sigmoid → dropout → `Linear(n, 784)` → dropout, no output
//! activation; dropout acts only while training (on an autodiff device).

use burn::module::Param;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::ExecutionError;
use burn::tensor::activation;
use burn::train::metric::{Adaptor, ItemLazy, LossInput};
use burn::train::{InferenceStep, RegressionOutput, TrainOutput, TrainStep};
use data::AutoencoderBatch;
use serde::{Deserialize, Serialize};

mod dropout;
mod loss;
pub use dropout::HashedDropout;
pub use loss::mse;

/// Pixels of an MNIST image, the autoencoder's input and output width.
pub const INPUT_SIZE: usize = data::PIXELS;

/// The most hidden units a model may have, wherever one is made: a case file, a sweep, an
/// import (a 4096-unit model holds 6.4 million weights, 26 MB as float32).
pub const MAX_HIDDEN: usize = 4096;

/// The hidden layer's activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `max(0, x)`.
    Relu,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
}

impl Activation {
    /// The activation of one value, by the formulas Burn's flex backend uses (so the same bits
    /// as [`Autoencoder::encode`] on flex): for codes computed outside a tensor, in parallel.
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Relu if x.is_nan() || x > 0.0 => x,
            Activation::Relu => 0.0,
            Activation::Sigmoid if x >= 0.0 => 1.0 / (1.0 + (-x).exp()),
            Activation::Sigmoid => {
                let e = x.exp();
                e / (1.0 + e)
            }
        }
    }
}

/// How the two linear layers are initialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Init {
    /// The study's framework (Chainer): `W ~ N(0, 1/√fan_in)` (standard deviation), `b = 0`.
    Study,
    /// Burn's `Linear` default: `U(-1/√fan_in, 1/√fan_in)` for weights and biases.
    BurnDefault,
}

/// Shape and regularisation of an [`Autoencoder`].
#[derive(Config, Debug)]
pub struct AutoencoderConfig {
    /// Hidden units `n`.
    pub hidden: usize,
    /// Activation after the first layer.
    pub activation: Activation,
    /// Dropout probability; 0 disables dropout.
    #[config(default = 0.5)]
    pub dropout: f64,
    /// Whether dropout also follows the output layer, as in the study.
    #[config(default = true)]
    pub output_dropout: bool,
    /// Weight and bias initialisation.
    #[config(default = "Init::Study")]
    pub init: Init,
}

/// The autoencoder: encoder, activation, dropout, decoder, dropout.
#[derive(Module, Debug)]
pub struct Autoencoder {
    /// `Linear(784, n)`; its weight is stored `[784, n]`.
    pub encoder: Linear,
    /// `Linear(n, 784)`; its weight is stored `[n, 784]`.
    pub decoder: Linear,
    hidden_dropout: HashedDropout,
    output_dropout: Option<HashedDropout>,
    #[module(skip)]
    activation: Activation,
}

impl AutoencoderConfig {
    /// Checks the values a config file could get wrong; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=MAX_HIDDEN).contains(&self.hidden) {
            return Err(format!(
                "hidden: must be 1 to {MAX_HIDDEN}, got {}",
                self.hidden
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("dropout: must be in [0, 1), got {}", self.dropout));
        }
        Ok(())
    }

    /// Builds the model on `device` (validate first: invalid values panic).
    pub fn init(&self, device: &Device) -> Autoencoder {
        Autoencoder {
            encoder: self.linear(INPUT_SIZE, self.hidden, device),
            decoder: self.linear(self.hidden, INPUT_SIZE, device),
            hidden_dropout: HashedDropout::new(self.dropout),
            output_dropout: self
                .output_dropout
                .then(|| HashedDropout::new(self.dropout)),
            activation: self.activation,
        }
    }

    fn linear(&self, d_input: usize, d_output: usize, device: &Device) -> Linear {
        match self.init {
            Init::BurnDefault => LinearConfig::new(d_input, d_output).init(device),
            Init::Study => study_linear(d_input, d_output, device),
        }
    }
}

/// A `Linear` with the study's initialisation: weights `N(0, 1/√d_input)`, zero bias.
pub fn study_linear(d_input: usize, d_output: usize, device: &Device) -> Linear {
    let std = 1.0 / (d_input as f64).sqrt();
    let mut linear = LinearConfig::new(d_input, d_output)
        .with_initializer(Initializer::Normal { mean: 0.0, std })
        .init(device);
    linear.bias = Some(Param::from_tensor(Tensor::zeros([d_output], device)));
    linear
}

impl Autoencoder {
    /// Hidden units of this model.
    pub fn hidden(&self) -> usize {
        self.encoder.weight.val().dims()[1]
    }

    /// The hidden layer's activation.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// The hidden code, after the activation (no dropout): `[batch, n]`.
    pub fn encode(&self, input: Tensor<2>) -> Tensor<2> {
        let x = self.encoder.forward(input);
        match self.activation {
            Activation::Relu => activation::relu(x),
            Activation::Sigmoid => activation::sigmoid(x),
        }
    }

    /// The decoder's output for hidden codes `[batch, n]` (no dropout): `[batch, 784]`.
    pub fn decode(&self, codes: Tensor<2>) -> Tensor<2> {
        self.decoder.forward(codes)
    }

    /// Reconstruction of `input` (`[batch, 784]`); dropout acts only in training.
    pub fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        let hidden = self.hidden_dropout.forward(self.encode(input));
        let output = self.decoder.forward(hidden);
        match &self.output_dropout {
            Some(dropout) => dropout.forward(output),
            None => output,
        }
    }

    /// Reconstructions of `inputs` (`[N, 784]`) without dropout, computed in chunks of
    /// [`CHUNK_ROWS`] rows.
    pub fn reconstruct(&self, inputs: &Tensor<2>) -> Tensor<2> {
        let model = self.valid();
        in_chunks(inputs, |x| model.forward(x))
    }

    /// The hidden codes of `inputs` (`[N, 784]`): `[N, n]`, after the activation, no dropout,
    /// computed in chunks of [`CHUNK_ROWS`] rows.
    pub fn codes(&self, inputs: &Tensor<2>) -> Tensor<2> {
        let model = self.valid();
        in_chunks(inputs, |x| model.encode(x))
    }

    /// Each hidden unit's 784 input weights: the columns of the encoder's weight, which Burn's
    /// `Linear` stores as `[d_input, d_output]` = `[784, n]`.
    pub fn encoder_filters(&self) -> Vec<Vec<f32>> {
        let w = values(self.encoder.weight.val());
        let n = self.hidden();
        (0..n)
            .map(|k| (0..INPUT_SIZE).map(|p| w[p * n + k]).collect())
            .collect()
    }

    /// Each hidden unit's 784 output weights: the rows of the decoder's `[n, 784]` weight.
    pub fn decoder_filters(&self) -> Vec<Vec<f32>> {
        values(self.decoder.weight.val())
            .chunks(INPUT_SIZE)
            .map(<[f32]>::to_vec)
            .collect()
    }

    /// Forward pass plus MSE (mean over every pixel of the batch) against the clean targets.
    pub fn forward_regression(&self, batch: AutoencoderBatch) -> RegressionOutput {
        let output = self.forward(batch.inputs);
        let loss = mse(output.clone(), batch.targets.clone());
        RegressionOutput {
            loss,
            output,
            targets: batch.targets,
        }
    }
}

/// Rows per chunk of [`Autoencoder::reconstruct`] and [`Autoencoder::codes`]: the 10 000 test
/// images in ten passes, each a few megabytes of activations.
pub const CHUNK_ROWS: usize = 1000;

/// `f` applied to `inputs` in chunks of [`CHUNK_ROWS`] rows, concatenated.
pub fn in_chunks(inputs: &Tensor<2>, f: impl Fn(Tensor<2>) -> Tensor<2>) -> Tensor<2> {
    let rows = inputs.dims()[0];
    let parts: Vec<Tensor<2>> = (0..rows)
        .step_by(CHUNK_ROWS)
        .map(|start| {
            f(inputs
                .clone()
                .slice([start..(start + CHUNK_ROWS).min(rows)]))
        })
        .collect();
    Tensor::cat(parts, 0)
}

fn values(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("f32 weights")
}

/// What a step hands to Burn's metrics: the batch's mean loss and its number of images, so that
/// an epoch's loss is the mean over its images (a partial last batch weighs by its size, where a
/// mean of batch means would weigh it like a full one).
pub struct StepLoss {
    /// Mean squared error over the batch's pixels, `[1]`.
    pub loss: Tensor<1>,
    /// Images in the batch.
    pub images: usize,
}

impl StepLoss {
    fn of(output: RegressionOutput) -> Self {
        let images = output.targets.dims()[0];
        Self {
            loss: output.loss,
            images,
        }
    }
}

impl Adaptor<LossInput> for StepLoss {
    fn adapt(&self) -> LossInput {
        // Burn's loss metric weighs each batch by the length of this tensor.
        LossInput::new(self.loss.clone().expand([self.images]))
    }
}

impl ItemLazy for StepLoss {
    fn sync(self) -> Result<Self, ExecutionError> {
        self.loss.device().flush()?;
        Ok(Self {
            loss: self.loss.without_autodiff(),
            images: self.images,
        })
    }
}

impl TrainStep for Autoencoder {
    type Input = AutoencoderBatch;
    type Output = StepLoss;

    fn step(&self, batch: AutoencoderBatch) -> TrainOutput<StepLoss> {
        let item = self.forward_regression(batch);
        TrainOutput::new(self, item.loss.backward(), StepLoss::of(item))
    }
}

impl InferenceStep for Autoencoder {
    type Input = AutoencoderBatch;
    type Output = StepLoss;

    fn step(&self, batch: AutoencoderBatch) -> StepLoss {
        StepLoss::of(self.forward_regression(batch))
    }
}

#[cfg(test)]
mod autoencoder_tests;
