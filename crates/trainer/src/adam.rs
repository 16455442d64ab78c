//! Adam as one fused, multi-threaded pass per parameter on the flex backend.
//!
//! Burn's `Adam` updates a parameter with about a dozen whole-tensor operations, each a fresh
//! single-threaded pass over memory on flex. [`FusedAdam`] does the same arithmetic, in the same
//! order and precision, in one pass split over the rayon pool. Its state is Burn's
//! [`AdamState`], so optimizer checkpoints are interchangeable with Burn's `Adam`.

use burn::backend::flex::{Flex, FlexTensor};
use burn::backend::{BackendTensor, DispatchTensor, DispatchTensorKind};
use burn::optim::{
    Adam, AdamState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer,
};
use burn::tensor::{DType, Device, Tensor, TensorData};
use std::mem::MaybeUninit;

use rayon::prelude::*;

use crate::backend::Backend;
use crate::config::AdamSettings;

/// Elements per parallel task: large enough to amortise scheduling, small enough to balance.
const CHUNK: usize = 32 * 1024;

/// The optimizer of a training run on `backend`: [`FusedAdam`] on flex, Burn's `Adam` elsewhere.
/// (ndarray reads a strided or shared tensor back element by element, which made the fused pass
/// slower there than Burn's Adam: see BENCHMARKS.md.)
pub fn optimizer(settings: &AdamSettings, backend: Backend) -> ModuleOptimizer {
    match backend {
        Backend::Flex => ModuleOptimizer::from(FusedAdam::new(settings)),
        _ => settings.to_burn().init(),
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
    /// The fused form of Adam with `settings`.
    pub fn new(settings: &AdamSettings) -> Self {
        Self {
            beta_1: settings.beta_1,
            beta_2: settings.beta_2,
            epsilon: settings.epsilon,
            fallback: settings.to_burn().build(),
        }
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
        let shape = tensor.shape();
        let (time, m, v) = match state {
            Some(AdamState { momentum }) => (
                momentum.time + 1,
                host_f32(momentum.moment_1),
                host_f32(momentum.moment_2),
            ),
            // Zero moments make the first step's `β·0 + (1-β)·g` exactly Burn's `(1-β)·g`.
            None => (1, HostF32::zeros(&shape), HostF32::zeros(&shape)),
        };
        let (mut param, grad, mut m, mut v) = (host_f32(tensor), host_f32(grad), m, v);
        let adam = Coefficients::new(self, time, lr);
        let (gs, ms, vs) = (grad.values(), m.values_mut(), v.values_mut());
        if param.is_unique() {
            update_in_place(&adam, param.values_mut(), ms, vs, gs);
        } else {
            // Shared (Burn's learner keeps the model it hands the optimizer a clone of): the
            // pass writes the new values into a fresh buffer, which replaces a copy-then-update.
            let out = update_into_new(&adam, param.values(), ms, vs, gs);
            param = HostF32::from_values(out, &shape);
        }
        let momentum = AdaptiveMomentumState::new(time, m.into_tensor(), v.into_tensor());
        (param.into_tensor(), Some(AdamState::new(momentum)))
    }

    fn to_device<const D: usize>(mut state: AdamState<D>, device: &Device) -> AdamState<D> {
        state.momentum = state.momentum.to_device(device);
        state
    }
}

/// Burn's Adam for step `time`, term by term: the same f32 operations in the same order.
#[derive(Clone, Copy)]
struct Coefficients {
    b1: f32,
    b2: f32,
    f1: f32,
    f2: f32,
    factor: f32,
    epsilon: f32,
    lr: f32,
}

impl Coefficients {
    fn new(adam: &FusedAdam, time: usize, lr: LearningRate) -> Self {
        let (b1, b2) = (adam.beta_1, adam.beta_2);
        let t = time as i32;
        let correction_2 = (1.0 - b2.powi(t)).sqrt();
        Self {
            b1,
            b2,
            f1: 1.0 - b1,
            f2: 1.0 - b2,
            factor: correction_2 / (1.0 - b1.powi(t)),
            epsilon: adam.epsilon * correction_2,
            lr: lr as f32,
        }
    }

    /// The new value of one parameter; updates its moments in place.
    #[inline(always)]
    fn update(&self, p: f32, g: f32, m: &mut f32, v: &mut f32) -> f32 {
        *m = *m * self.b1 + g * self.f1;
        *v = *v * self.b2 + (g * g) * self.f2;
        let step = (*m * self.factor) / (v.sqrt() + self.epsilon);
        p - step * self.lr
    }
}

/// Updates the parameters `ps` (and moments) in place, in parallel chunks beyond one chunk.
fn update_in_place(
    adam: &Coefficients,
    ps: &mut [f32],
    ms: &mut [f32],
    vs: &mut [f32],
    gs: &[f32],
) {
    let update = |(((p, m), v), g): (((&mut [f32], &mut [f32]), &mut [f32]), &[f32])| {
        for i in 0..p.len() {
            p[i] = adam.update(p[i], g[i], &mut m[i], &mut v[i]);
        }
    };
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
}

/// The updated parameters `ps` in a fresh buffer (moments updated in place), written once,
/// element by element: no zeroing pass first.
fn update_into_new(
    adam: &Coefficients,
    ps: &[f32],
    ms: &mut [f32],
    vs: &mut [f32],
    gs: &[f32],
) -> Vec<f32> {
    let n = ps.len();
    let mut out: Vec<f32> = Vec::with_capacity(n);
    type Chunks<'a> = (
        (
            ((&'a mut [MaybeUninit<f32>], &'a [f32]), &'a mut [f32]),
            &'a mut [f32],
        ),
        &'a [f32],
    );
    let update = |((((o, p), m), v), g): Chunks| {
        for i in 0..o.len() {
            o[i].write(adam.update(p[i], g[i], &mut m[i], &mut v[i]));
        }
    };
    let spare = &mut out.spare_capacity_mut()[..n];
    if n <= CHUNK {
        update(((((spare, ps), ms), vs), gs));
    } else {
        spare
            .par_chunks_mut(CHUNK)
            .zip(ps.par_chunks(CHUNK))
            .zip(ms.par_chunks_mut(CHUNK))
            .zip(vs.par_chunks_mut(CHUNK))
            .zip(gs.par_chunks(CHUNK))
            .for_each(update);
    }
    // SAFETY: the pass above wrote each of the first `n` elements: the chunks of `spare` cover
    // them all, and each chunk's loop writes every element of its chunk.
    unsafe { out.set_len(n) };
    out
}

/// An `f32` tensor's values, held without a copy: the flex tensor itself when it is contiguous
/// (read in place; written in place only when nothing else holds it), else host data.
enum HostF32 {
    /// A contiguous flex tensor.
    Flex(FlexTensor),
    /// Owned, aligned host data, and the device to return it to.
    Data(TensorData, Device),
}

/// `tensor`'s values (see [`HostF32`]).
fn host_f32<const D: usize>(tensor: Tensor<D>) -> HostF32 {
    let DispatchTensor { kind, autodiff } = tensor.into_dispatch();
    match kind {
        DispatchTensorKind::Flex(BackendTensor::Float(flex))
            if flex.is_contiguous() && flex.layout().start_offset() == 0 =>
        {
            HostF32::Flex(flex)
        }
        kind => {
            let tensor = Tensor::<D>::from_dispatch(DispatchTensor { kind, autodiff });
            let device = tensor.device();
            HostF32::Data(host_data(tensor), device)
        }
    }
}

impl HostF32 {
    fn zeros(shape: &burn::tensor::Shape) -> Self {
        Self::from_values(vec![0.0; shape.num_elements()], shape)
    }

    /// A flex tensor of `values` (a `Vec<f32>` is aligned for `f32`: flex takes it as is).
    fn from_values(values: Vec<f32>, shape: &burn::tensor::Shape) -> Self {
        Self::Flex(FlexTensor::from_data(TensorData::new(
            values,
            shape.clone(),
        )))
    }

    fn is_unique(&self) -> bool {
        match self {
            Self::Flex(flex) => flex.is_unique(),
            Self::Data(..) => true,
        }
    }

    fn values(&self) -> &[f32] {
        match self {
            Self::Flex(flex) => flex.storage::<f32>(),
            Self::Data(data, _) => data
                .as_slice::<f32>()
                .expect("host_data yields aligned f32"),
        }
    }

    /// Mutable values (flex copies a shared buffer first: callers check [`Self::is_unique`]
    /// where that matters).
    fn values_mut(&mut self) -> &mut [f32] {
        match self {
            Self::Flex(flex) => flex.storage_mut::<f32>(),
            Self::Data(data, _) => values_mut(data),
        }
    }

    fn into_tensor<const D: usize>(self) -> Tensor<D> {
        match self {
            Self::Flex(flex) => Tensor::from_primitive::<Flex>(flex),
            Self::Data(data, device) => Tensor::from_data(data, &device),
        }
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

    /// Trains the layer with `optim` for a few steps (same data every time). With `shared`, a
    /// clone of the layer is alive during each step, as in Burn's learner, and must not change.
    fn train(mut optim: ModuleOptimizer, device: &Device, shared: bool) -> Linear {
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
            let kept = shared.then(|| (linear.clone(), values(&linear.valid())));
            linear = optim.step(1e-2 * (step + 1) as f64, linear, grads);
            if let Some((kept, before)) = kept {
                assert_eq!(
                    values(&kept.valid()),
                    before,
                    "the step wrote into a shared parameter"
                );
            }
        }
        linear.valid()
    }

    #[test]
    fn fused_adam_matches_burns_adam_bit_for_bit_in_place_or_into_a_fresh_buffer() {
        let settings = AdamSettings::new()
            .with_beta_1(0.8)
            .with_beta_2(0.99)
            .with_epsilon(1e-8);
        let device = Device::flex();
        let burn = values(&train(settings.to_burn().init(), &device, false));
        for shared in [false, true] {
            let fused = values(&train(optimizer(&settings, Backend::Flex), &device, shared));
            let differing = burn.iter().zip(&fused).filter(|(a, b)| a != b).count();
            assert_eq!(differing, 0, "{differing} of {} values differ", burn.len());
        }
        let fused = values(&train(optimizer(&settings, Backend::Flex), &device, false));
        // And the run is not trivially unchanged from its initialisation.
        let init = values(&initial_layer(&device));
        assert!(init.iter().zip(&fused).filter(|(a, b)| a != b).count() > burn.len() / 2);
    }
}
