//! The study in stock Burn, as Burn's guide (`examples/guide`) writes things; only the case
//! settings and the MNIST reader (with its noise) are the project's. Run: `cargo run --release
//! --example stock [-- [--case] N] [--epochs N] [--limit N] [--resume EPOCH]`
use std::time::Instant;

use burn::data::dataloader::{DataLoaderBuilder, batcher::Batcher};
use burn::nn::activation::{Activation, ActivationConfig};
use burn::nn::loss::{MseLoss, Reduction};
use burn::nn::{Dropout, DropoutConfig, Initializer, Linear, LinearConfig};
use burn::optim::AdamConfig;
use burn::prelude::*;
use burn::train::metric::{LossMetric, MetricDefinition, NumericEntry};
use burn::train::{InferenceStep, Learner, RegressionOutput, SupervisedTraining};
use burn::train::{TrainOutput, TrainStep, logger::*, renderer::*};
use data::{AutoencoderItem, Mnist, NoisedMnist, PIXELS, Split, test_noise_seed};

#[derive(Module, Debug)]
pub struct Model {
    encoder: Linear,
    activation: Activation,
    hidden_dropout: Dropout,
    decoder: Linear,
    output_dropout: Dropout,
}

#[derive(Config, Debug)]
pub struct ModelConfig {
    hidden: usize,
    activation: ActivationConfig,
    dropout: f64, // after the hidden activation and, if `output_dropout`, the output; 0: none
    output_dropout: bool,
}

impl ModelConfig {
    pub fn init(&self, device: &Device) -> Model {
        let dropout = |on: bool| DropoutConfig::new(if on { self.dropout } else { 0.0 }).init();
        Model {
            encoder: linear(PIXELS, self.hidden, device),
            activation: self.activation.init(device),
            hidden_dropout: dropout(true),
            decoder: linear(self.hidden, PIXELS, device),
            output_dropout: dropout(self.output_dropout),
        }
    }
}

/// The study's initialisation: weights N(0, 1/√fan_in) (standard deviation), biases 0.
fn linear(d_input: usize, d_output: usize, device: &Device) -> Linear {
    let std = 1.0 / (d_input as f64).sqrt();
    let mut linear = LinearConfig::new(d_input, d_output)
        .with_initializer(Initializer::Normal { mean: 0.0, std })
        .init(device);
    linear.bias = Some(Initializer::Zeros.init([d_output], device)); // LinearConfig: N(0, std) too
    linear
}

impl Model {
    /// Reconstructions `[batch, 784]`; the dropouts act only on an autodiff device (training).
    pub fn forward(&self, inputs: Tensor<2>) -> Tensor<2> {
        let x = self.activation.forward(self.encoder.forward(inputs));
        let x = self.decoder.forward(self.hidden_dropout.forward(x));
        self.output_dropout.forward(x)
    }
}

#[derive(Clone, Debug)]
pub struct AutoencoderBatch {
    pub inputs: Tensor<2>,
    pub targets: Tensor<2>,
}

pub struct AutoencoderBatcher;
impl Batcher<AutoencoderItem, AutoencoderBatch> for AutoencoderBatcher {
    fn batch(&self, items: Vec<AutoencoderItem>, device: &Device) -> AutoencoderBatch {
        let tensor =
            |v: Vec<f32>| Tensor::from_data(TensorData::new(v, [items.len(), PIXELS]), device);
        AutoencoderBatch {
            inputs: tensor(items.iter().flat_map(|i| i.input.clone()).collect()),
            targets: tensor(items.iter().flat_map(|i| i.target.clone()).collect()),
        }
    }
}

impl TrainStep for Model {
    type Input = AutoencoderBatch;
    type Output = RegressionOutput;
    fn step(&self, batch: AutoencoderBatch) -> TrainOutput<RegressionOutput> {
        let item = InferenceStep::step(self, batch);
        TrainOutput::new(self, item.loss.backward(), item)
    }
}
impl InferenceStep for Model {
    type Input = AutoencoderBatch;
    type Output = RegressionOutput;
    fn step(&self, batch: AutoencoderBatch) -> RegressionOutput {
        let output = self.forward(batch.inputs);
        let loss = MseLoss::new().forward(output.clone(), batch.targets.clone(), Reduction::Mean);
        RegressionOutput::new(loss, output, batch.targets)
    }
}

/// Burn's renderer without its `tui` feature prints a line per batch; this, one per epoch: the
/// epoch's means of Burn's `LossMetric` on the training images and on the 10 000 test images.
struct EpochLines(Instant, [f64; 2], f64); // epoch start, its two losses, seconds in all
impl MetricsRendererTraining for EpochLines {
    fn update_train(&mut self, state: MetricState) {
        if let MetricState::Numeric(_, Some(NumericEntry::Final(loss))) = state {
            self.1[0] = loss;
        }
    }
    fn update_valid(&mut self, state: MetricState) {
        if let MetricState::Numeric(_, Some(NumericEntry::Final(mse))) = state {
            self.1[1] = mse;
        }
    }
}
impl TrainingProgressLogger for EpochLines {
    fn update_epoch(&mut self, epoch: usize) {
        let ([train, test], seconds) = (self.1, self.0.elapsed().as_secs_f64());
        println!("epoch {epoch}: train loss {train:.5}, test MSE {test:.5}, {seconds:.1} s");
        (self.0, self.2) = (Instant::now(), self.2 + seconds);
    }
    fn end(&mut self) {
        println!("test MSE {:.5} ({:.1} s in all)", self.1[1], self.2);
    }
    fn start(&mut self, _: usize, _: usize, _: Option<usize>, _: Option<&str>) {}
    fn start_split(&mut self, _: &str, _: usize) {}
    fn update_split(&mut self, _: usize) {}
    fn end_split(&mut self) {}
    fn log_event_training(&mut self, _: String) {}
}
impl MetricsRendererEvaluation for EpochLines {
    fn update_test(&mut self, _: EvaluationName, _: MetricState) {}
}
impl EvaluationProgressLogger for EpochLines {
    fn start_global_progress(&mut self, _: usize) {}
    fn start_test(&mut self, _: &str, _: usize) {}
    fn update_test_progress(&mut self, _: usize) {}
    fn end_test(&mut self) {}
    fn end_global_progress(&mut self) {}
    fn log_event_evaluation(&mut self, _: String) {}
}
impl MetricsRenderer for EpochLines {
    fn manual_close(&mut self) {}
    fn register_metric(&mut self, _: MetricDefinition) {}
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut case, mut epochs, mut limit, mut resume) = (7, None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_default().parse();
        match arg.as_str() {
            "--case" => case = value()?,
            "--epochs" => epochs = Some(value()?),
            "--limit" => limit = Some(value()?),
            "--resume" => resume = Some(value()?), // Burn's checkpointer reloads that epoch
            _ => case = arg.parse().map_err(|_| format!("unknown argument {arg}"))?,
        }
    }
    let c = trainer::cases::case(case)?; // configs/case{case}.toml: the settings, nothing else
    let (epochs, m) = (epochs.unwrap_or(c.epochs), &c.model);
    let activation = match m.activation {
        trainer::model::Activation::Relu => ActivationConfig::Relu,
        trainer::model::Activation::Sigmoid => ActivationConfig::Sigmoid,
    };
    let config = ModelConfig::new(m.hidden, activation, m.dropout, m.output_dropout);
    let artifact_dir = std::env::temp_dir().join(format!("burn-ae-stock-case{case}"));
    let _ = resume.is_none() && std::fs::remove_dir_all(&artifact_dir).is_ok(); // a new run
    // Noised inputs, clean targets: the masks of the study's program (same seeds).
    let dir = data::default_dir();
    let train = Mnist::load(&dir, Split::Train)?.limit(limit.unwrap_or(usize::MAX));
    let train_set = NoisedMnist::new(train, c.noise, c.seed);
    let test = Mnist::load(&dir, Split::Test)?;
    let test = NoisedMnist::new(test, c.noise, test_noise_seed(c.seed));
    let images = train_set.len();
    println!("case {case}: {}; {images} training images", c.description);
    let device = Device::flex(); // Burn's CPU backend; training runs on its autodiff device
    device.seed(c.seed);
    let loader = |device| DataLoaderBuilder::new(AutoencoderBatcher).set_device(device);
    let train = loader(device.clone().autodiff()).shuffle(c.seed);
    let train = train.batch_size(c.batch_size).build(train_set);
    let test = loader(device.clone()).batch_size(c.batch_size).build(test);
    let training = SupervisedTraining::new(&artifact_dir, train, test)
        .metrics((LossMetric::new(),))
        .with_default_checkpointers()
        .renderer(Box::new(EpochLines(Instant::now(), [f64::NAN; 2], 0.0)))
        .num_epochs(epochs);
    let training = match resume {
        Some(epoch) => training.checkpoint(epoch),
        None => training,
    };
    // Adam's β 0.9 and 0.999 are Burn's defaults and the study's; its ε 1e-8 is not (Burn's 1e-5).
    let optimizer = AdamConfig::new().with_epsilon(c.optimizer.epsilon).init();
    let model = config.init(&device.autodiff());
    let result = training.launch(Learner::new(model, optimizer, c.learning_rate));
    result.error.map_or(Ok(()), Err)?; // a failed step or checkpoint
    let record = result.model.into_record();
    Ok(record.save(artifact_dir.join("model"))?)
}
