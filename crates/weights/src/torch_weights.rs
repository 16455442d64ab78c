//! An autoencoder's weights in PyTorch's layout, and the model they make.

use burn::module::Param;
use burn::prelude::*;
use model::{Autoencoder, AutoencoderConfig, INPUT_SIZE};

use crate::weights_error::WeightsError;

/// An autoencoder's weights in PyTorch's layout, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct TorchWeights {
    /// Hidden units.
    pub hidden: usize,
    /// `l1.weight`: `[hidden, 784]`.
    pub l1_weight: Vec<f32>,
    /// `l1.bias`: `[hidden]`.
    pub l1_bias: Vec<f32>,
    /// `l2.weight`: `[784, hidden]`.
    pub l2_weight: Vec<f32>,
    /// `l2.bias`: `[784]`.
    pub l2_bias: Vec<f32>,
}

impl TorchWeights {
    /// The weights of `model`.
    pub fn of(model: &Autoencoder) -> Self {
        let values = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().expect("f32 weights");
        let bias = |linear: &burn::nn::Linear| {
            let b = linear
                .bias
                .as_ref()
                .expect("the study's layers have biases")
                .val();
            b.into_data().try_to_vec::<f32>().expect("f32 bias")
        };
        Self {
            hidden: model.hidden(),
            l1_weight: values(model.encoder.weight.val().transpose()),
            l1_bias: bias(&model.encoder),
            l2_weight: values(model.decoder.weight.val().transpose()),
            l2_bias: bias(&model.decoder),
        }
    }

    /// A model of `config` (its hidden size replaced by these weights') holding these weights.
    pub fn into_model(self, config: &AutoencoderConfig, device: &Device) -> Autoencoder {
        let n = self.hidden;
        let mut config = config.clone();
        config.hidden = n;
        let mut model = config.init(device);
        let matrix = |values: Vec<f32>, rows: usize, cols: usize| {
            Tensor::<2>::from_data(TensorData::new(values, [rows, cols]), device)
        };
        let vector = |values: Vec<f32>| {
            let len = values.len();
            Param::from_tensor(Tensor::<1>::from_data(
                TensorData::new(values, [len]),
                device,
            ))
        };
        model.encoder.weight =
            Param::from_tensor(matrix(self.l1_weight, n, INPUT_SIZE).transpose());
        model.encoder.bias = Some(vector(self.l1_bias));
        model.decoder.weight =
            Param::from_tensor(matrix(self.l2_weight, INPUT_SIZE, n).transpose());
        model.decoder.bias = Some(vector(self.l2_bias));
        model
    }

    /// Checks that every value is finite, naming the first tensor that is not.
    pub(crate) fn check_finite(&self) -> Result<(), WeightsError> {
        let tensors = [
            ("l1.weight", &self.l1_weight),
            ("l1.bias", &self.l1_bias),
            ("l2.weight", &self.l2_weight),
            ("l2.bias", &self.l2_bias),
        ];
        for (name, values) in tensors {
            let bad = values.iter().filter(|v| !v.is_finite()).count();
            if bad > 0 {
                return Err(WeightsError::NotFinite {
                    tensor: name.into(),
                    count: bad,
                });
            }
        }
        Ok(())
    }
}
