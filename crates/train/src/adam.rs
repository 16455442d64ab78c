//! Adam as one fused, multi-threaded pass per parameter on the flex backend.
//!
//! Burn's `Adam` updates a parameter with about a dozen whole-tensor operations, each a fresh
//! single-threaded pass over memory on flex. [`FusedAdam`] does the same arithmetic, in the same
//! order and precision, in one pass split over the rayon pool. Its state is Burn's
//! [`AdamState`], so optimizer checkpoints are interchangeable with Burn's `Adam`.

use burn::optim::{
    Adam, AdamConfig, AdamState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer,
};
use burn::tensor::{DType, Device, Tensor, TensorData};
use rayon::prelude::*;

use crate::backend::Backend;

/// Elements per parallel task: large enough to amortise scheduling, small enough to balance.
const CHUNK: usize = 32 * 1024;

/// The optimizer of a training run on `backend`: [`FusedAdam`] on flex when the config uses
/// nothing the fused pass lacks, Burn's `Adam` otherwise. (ndarray reads a strided or shared
/// tensor back element by element, which made the fused pass 2× slower there than Burn's Adam.)
pub fn optimizer(config: &AdamConfig, backend: Backend) -> ModuleOptimizer {
    match FusedAdam::from_config(config) {
        Some(fused) if backend == Backend::Flex => ModuleOptimizer::from(fused),
        _ => config.init(),
    }
}

/// Adam (no AMSGrad, no weight decay) computed on the host in one parallel pass.
#[derive(Clone)]
pub struct FusedAdam {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    /// Burn's Adam with the same settings, for tensors that are not `f32`.
    fallback: Adam,
}

impl FusedAdam {
    /// The fused form of `config`; `None` if it asks for AMSGrad, weight decay or clipping.
    pub fn from_config(config: &AdamConfig) -> Option<Self> {
        // AdamConfig's fields are private; its serialised form is the stable view of them.
        let fields = serde_json::to_value(config).ok()?;
        let plain = fields["amsgrad"].as_bool() == Some(false)
            && fields["weight_decay"].is_null()
            && fields["grad_clipping"].is_null();
        let float = |name: &str| fields[name].as_f64().map(|v| v as f32);
        plain.then_some(Self {
            beta_1: float("beta_1")?,
            beta_2: float("beta_2")?,
            epsilon: float("epsilon")?,
            fallback: config.build(),
        })
    }
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdamState<D>>,
    ) -> (Tensor<D>, Option<AdamState<D>>) {
        if tensor.dtype() != DType::F32 || grad.dtype() != DType::F32 {
            return self.fallback.step(lr, tensor, grad, state);
        }
        let device = tensor.device();
        let shape = tensor.shape();
        let (time, m, v) = match state {
            Some(AdamState { momentum }) => (
                momentum.time + 1,
                host_data(momentum.moment_1),
                host_data(momentum.moment_2),
            ),
            // Zero moments make the first step's `β·0 + (1-β)·g` exactly Burn's `(1-β)·g`.
            None => (
                1,
                TensorData::zeros::<f32, _>(shape.clone()),
                TensorData::zeros::<f32, _>(shape.clone()),
            ),
        };
        let (mut param, grad, mut m, mut v) = (host_data(tensor), host_data(grad), m, v);

        // Burn's Adam, term by term: the same f32 operations in the same order.
        let (b1, b2) = (self.beta_1, self.beta_2);
        let (f1, f2) = (1.0 - b1, 1.0 - b2);
        let t = time as i32;
        let correction_2 = (1.0 - b2.powi(t)).sqrt();
        let factor = correction_2 / (1.0 - b1.powi(t));
        let epsilon = self.epsilon * correction_2;
        let lr = lr as f32;
        let update = |(((p, m), v), g): (((&mut [f32], &mut [f32]), &mut [f32]), &[f32])| {
            for i in 0..p.len() {
                let g = g[i];
                m[i] = m[i] * b1 + g * f1;
                v[i] = v[i] * b2 + (g * g) * f2;
                let step = (m[i] * factor) / (v[i].sqrt() + epsilon);
                p[i] -= step * lr;
            }
        };
        let (ps, gs) = (values_mut(&mut param), grad.as_slice::<f32>().expect("f32"));
        let (ms, vs) = (values_mut(&mut m), values_mut(&mut v));
        if ps.len() <= CHUNK {
            // A bias: handing it to the pool would cost more than the update.
            update((((ps, ms), vs), gs));
        } else {
            ps.par_chunks_mut(CHUNK)
                .zip(ms.par_chunks_mut(CHUNK))
                .zip(vs.par_chunks_mut(CHUNK))
                .zip(gs.par_chunks(CHUNK))
                .for_each(update);
        }

        let tensor = |data: TensorData| Tensor::from_data(data, &device);
        let momentum = AdaptiveMomentumState::new(time, tensor(m), tensor(v));
        (tensor(param), Some(AdamState::new(momentum)))
    }

    fn to_device<const D: usize>(mut state: AdamState<D>, device: &Device) -> AdamState<D> {
        state.momentum = state.momentum.to_device(device);
        state
    }
}

/// An `f32` tensor's data, owned and aligned (no copy when a CPU backend holds the only reference).
fn host_data<const D: usize>(tensor: Tensor<D>) -> TensorData {
    let data = tensor.into_data();
    match data.as_slice::<f32>() {
        Ok(_) => data,
        // Misaligned bytes: copy once into a fresh f32 buffer.
        Err(_) => {
            let values = data.iter::<f32>().collect::<Vec<_>>();
            TensorData::new(values, data.shape().clone())
        }
    }
}

/// The `f32` values of data from [`host_data`].
fn values_mut(data: &mut TensorData) -> &mut [f32] {
    data.as_mut_slice::<f32>()
        .expect("host_data yields aligned f32")
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::{Module, Param};
    use burn::nn::Linear;
    use burn::optim::GradientsParams;

    fn values(linear: &Linear) -> Vec<f32> {
        let mut all = linear
            .weight
            .val()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        all.extend(
            linear
                .bias
                .as_ref()
                .unwrap()
                .val()
                .into_data()
                .try_into_vec::<f32>()
                .unwrap(),
        );
        all
    }

    /// Deterministic values in [-1, 1] without the device's random stream, which tests running
    /// in parallel share.
    fn values_from(seed: usize, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 7919 + seed * 104_729) as f32 * 0.618).sin())
            .collect()
    }

    /// A parameter of `shape` with small deterministic values.
    fn param<const D: usize>(seed: usize, shape: [usize; D], device: &Device) -> Param<Tensor<D>> {
        let values = values_from(seed, shape.iter().product())
            .iter()
            .map(|v| v * 0.05)
            .collect();
        Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
    }

    /// A 300 → 200 layer with the same weights every time.
    fn initial_layer(device: &Device) -> Linear {
        Linear {
            weight: param(1, [300, 200], device),
            bias: Some(param(2, [200], device)),
        }
    }

    /// Trains the layer with `optim` for a few steps (same data every time).
    fn train(mut optim: ModuleOptimizer, device: &Device) -> Linear {
        let ad = device.clone().autodiff();
        let mut linear = initial_layer(&ad);
        for step in 0..6 {
            let x = Tensor::<2>::from_data(
                TensorData::new(values_from(10 + step, 16 * 300), [16, 300]),
                &ad,
            );
            // ReLU-like sparsity: some gradients are exactly zero.
            let y = linear.forward(x).clamp_min(0.0);
            let loss = (y.clone() * y).mean();
            let grads = GradientsParams::from_grads(loss.backward(), &linear);
            linear = optim.step(1e-2 * (step + 1) as f64, linear, grads);
        }
        linear.valid()
    }

    #[test]
    fn fused_adam_matches_burns_adam_bit_for_bit() {
        let config = AdamConfig::new()
            .with_beta_1(0.8)
            .with_beta_2(0.99)
            .with_epsilon(1e-8);
        let device = Device::flex();
        let burn = values(&train(config.init(), &device));
        let fused = values(&train(optimizer(&config, Backend::Flex), &device));
        let differing = burn.iter().zip(&fused).filter(|(a, b)| a != b).count();
        assert_eq!(differing, 0, "{differing} of {} values differ", burn.len());
        // And the run is not trivially unchanged from its initialisation.
        let init = values(&initial_layer(&device));
        assert!(init.iter().zip(&fused).filter(|(a, b)| a != b).count() > burn.len() / 2);
    }

    #[test]
    fn unsupported_settings_fall_back_to_burns_adam() {
        assert!(FusedAdam::from_config(&AdamConfig::new()).is_some());
        assert!(FusedAdam::from_config(&AdamConfig::new().with_amsgrad(true)).is_none());
        let decay = burn::optim::decay::WeightDecayConfig::new(1e-4);
        assert!(
            FusedAdam::from_config(&AdamConfig::new().with_weight_decay(Some(decay))).is_none()
        );
    }
}
