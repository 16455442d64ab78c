//! The autoencoder's unit tests: shapes, the loss against a hand-computed value, dropout in
//! training only, the study's initialisation, and validation that names the field.

use super::*;

fn device() -> Device {
    Device::flex()
}

fn constant_linear(d_input: usize, d_output: usize, w: f32, b: f32, device: &Device) -> Linear {
    Linear {
        weight: Param::from_tensor(Tensor::full([d_input, d_output], w, device)),
        bias: Some(Param::from_tensor(Tensor::full([d_output], b, device))),
    }
}

fn batch(inputs: Vec<f32>, targets: Vec<f32>, device: &Device) -> AutoencoderBatch {
    let n = inputs.len() / INPUT_SIZE;
    AutoencoderBatch {
        inputs: Tensor::from_data(TensorData::new(inputs, [n, INPUT_SIZE]), device),
        targets: Tensor::from_data(TensorData::new(targets, [n, INPUT_SIZE]), device),
    }
}

/// The encoder's bias values.
fn encoder_bias(model: &Autoencoder) -> Vec<f32> {
    let bias = model.encoder.bias.as_ref().expect("a bias");
    bias.val().into_data().try_to_vec::<f32>().unwrap()
}

fn values(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

#[test]
fn output_has_the_input_shape() {
    let device = device();
    let model = AutoencoderConfig::new(30, Activation::Relu).init(&device);
    let out = model.forward(Tensor::zeros([7, INPUT_SIZE], &device));
    assert_eq!(out.dims(), [7, INPUT_SIZE]);
    assert_eq!(model.hidden(), 30);
    assert_eq!(model.encoder.weight.val().dims(), [INPUT_SIZE, 30]);
    assert_eq!(model.decoder.weight.val().dims(), [30, INPUT_SIZE]);
}

#[test]
fn loss_matches_a_hand_computed_value() {
    let device = device();
    let mut model = AutoencoderConfig::new(3, Activation::Sigmoid)
        .with_dropout(0.0)
        .init(&device);
    model.encoder = constant_linear(INPUT_SIZE, 3, 0.01, 0.0, &device);
    model.decoder = constant_linear(3, INPUT_SIZE, 0.2, -0.1, &device);
    // Two images: pixel p of image i is ((p + i) % 7) / 7; targets are 0.5 everywhere.
    let inputs: Vec<f32> = (0..2 * INPUT_SIZE)
        .map(|k| ((k % INPUT_SIZE + k / INPUT_SIZE) % 7) as f32 / 7.0)
        .collect();
    let targets = vec![0.5f32; 2 * INPUT_SIZE];
    let mut expected = 0.0f64;
    for i in 0..2 {
        let sum: f64 = inputs[i * INPUT_SIZE..(i + 1) * INPUT_SIZE]
            .iter()
            .map(|&x| x as f64)
            .sum();
        let h = 1.0 / (1.0 + (-0.01 * sum).exp());
        let out = 3.0 * 0.2 * h - 0.1;
        expected += (out - 0.5).powi(2) / 2.0; // every pixel has the same error
    }
    let result = model.forward_regression(batch(inputs, targets, &device));
    let loss = result.loss.into_scalar::<f64>();
    assert!(
        (loss - expected).abs() < 1e-6,
        "loss {loss}, expected {expected}"
    );
}

#[test]
fn dropout_acts_in_training_only() {
    let device = device();
    device.seed(3);
    let model = AutoencoderConfig::new(50, Activation::Sigmoid).init(&device.clone().autodiff());
    let input = || Tensor::<2>::full([4, INPUT_SIZE], 0.5, &device.clone().autodiff());
    let a = values(model.forward(input()));
    let b = values(model.forward(input()));
    assert_ne!(a, b, "training passes should draw different dropout masks");
    // Output dropout zeroes about half of the outputs.
    let zeros = a.iter().filter(|&&v| v == 0.0).count() as f64 / a.len() as f64;
    assert!(
        (0.4..0.6).contains(&zeros),
        "fraction of dropped outputs {zeros}"
    );

    // Inference (no autodiff): deterministic, no zeros, identical to a model without dropout.
    let valid = model.valid();
    let input = || Tensor::<2>::full([4, INPUT_SIZE], 0.5, &device);
    let c = values(valid.forward(input()));
    assert_eq!(c, values(valid.forward(input())));
    assert!(c.iter().all(|&v| v != 0.0));
    let mut no_dropout = AutoencoderConfig::new(50, Activation::Sigmoid)
        .with_dropout(0.0)
        .init(&device);
    no_dropout.encoder = valid.encoder.clone();
    no_dropout.decoder = valid.decoder.clone();
    assert_eq!(c, values(no_dropout.forward(input())));
}

#[test]
fn output_dropout_can_be_turned_off() {
    let device = device().autodiff();
    let model = AutoencoderConfig::new(50, Activation::Sigmoid)
        .with_output_dropout(false)
        .init(&device);
    let out = values(model.forward(Tensor::full([4, INPUT_SIZE], 0.5, &device)));
    // Hidden dropout alone almost never yields an exact zero output.
    assert!(out.iter().filter(|&&v| v == 0.0).count() < 10);
}

#[test]
fn study_init_is_normal_with_zero_bias() {
    let device = device();
    device.seed(0);
    let model = AutoencoderConfig::new(1000, Activation::Relu).init(&device);
    let w = values(model.encoder.weight.val());
    let n = w.len() as f64;
    let mean = w.iter().map(|&v| v as f64).sum::<f64>() / n;
    let std = (w.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
    let expected = 1.0 / (INPUT_SIZE as f64).sqrt();
    assert!(mean.abs() < 1e-3, "mean {mean}");
    assert!(
        (std / expected - 1.0).abs() < 0.01,
        "std {std}, expected {expected}"
    );
    let b = encoder_bias(&model);
    assert!(b.iter().all(|&v| v == 0.0));
    let w2 = values(model.decoder.weight.val());
    let std2 = (w2.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / w2.len() as f64).sqrt();
    assert!(
        (std2 * 1000f64.sqrt() - 1.0).abs() < 0.02,
        "decoder std {std2}"
    );

    // Burn's default draws uniform weights (bounded by 1/√fan_in) and non-zero biases.
    let burn = AutoencoderConfig::new(1000, Activation::Relu)
        .with_init(Init::BurnDefault)
        .init(&device);
    let w = values(burn.encoder.weight.val());
    assert!(w.iter().all(|&v| v.abs() <= expected as f32 + 1e-6));
    let b = encoder_bias(&burn);
    assert!(b.iter().any(|&v| v != 0.0));
}

#[test]
fn validation_names_the_field() {
    assert!(
        AutoencoderConfig::new(0, Activation::Relu)
            .validate()
            .unwrap_err()
            .starts_with("hidden")
    );
    assert!(
        AutoencoderConfig::new(MAX_HIDDEN + 1, Activation::Relu)
            .validate()
            .is_err()
    );
    let e = AutoencoderConfig::new(10, Activation::Relu)
        .with_dropout(1.0)
        .validate()
        .unwrap_err();
    assert!(e.starts_with("dropout"), "{e}");
    assert!(
        AutoencoderConfig::new(10, Activation::Relu)
            .validate()
            .is_ok()
    );
}
