//! Mean squared error, fused into one pass forward and one backward when training on flex.
//!
//! Burn's `MseLoss` runs `(output - targets)`, `square` and `mean` as three operations, and its
//! backward as six passes over the batch, each into a fresh tensor (mean's gradient: ones, their
//! scaling, the product with the incoming gradient; square's: two products and their sum). On flex with autodiff this op computes the difference and
//! its square in one pass and the gradient in one, through Burn's autodiff extension API
//! ([`Backward`]). The float operations and their order are Burn's, so the loss and every
//! gradient are the same to the bit. Elsewhere (ndarray, a GPU, inference) it is Burn's `MseLoss`.

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::flex::{Flex, FlexTensor};
use burn::backend::ops::FloatTensorOps;
use burn::nn::loss::{MseLoss, Reduction};
use burn::tensor::{DType, Tensor, TensorData};

/// Mean over every element of `(output - targets)²`, `[1]`.
pub fn mse(output: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    match flex_autodiff_mse(&output, &targets) {
        Some(loss) => loss,
        None => MseLoss::new().forward(output, targets, Reduction::Mean),
    }
}

/// The fused op, or `None` where it does not apply (not flex with autodiff, not contiguous f32).
fn flex_autodiff_mse(output: &Tensor<2>, targets: &Tensor<2>) -> Option<Tensor<1>> {
    if output.dtype() != DType::F32 || targets.dtype() != DType::F32 {
        return None;
    }
    let output = output.clone().try_into_primitive::<Autodiff<Flex>>().ok()?;
    let targets = targets
        .clone()
        .try_into_primitive::<Autodiff<Flex>>()
        .ok()?;
    let (y, t) = (output.primitive(), targets.primitive());
    let shape = y.layout().shape().clone();
    if *t.layout().shape() != shape {
        return None;
    }
    let (ys, ts) = (contiguous_f32(y)?, contiguous_f32(t)?);
    // Burn's `sub` then `square` (= `x * x`), in one pass.
    let (diff, square): (Vec<f32>, Vec<f32>) = ys
        .iter()
        .zip(ts)
        .map(|(&y, &t)| {
            let x = y - t;
            (x, x * x)
        })
        .unzip();
    // Flex's own mean of the squares: the same reduction, so the same loss bits.
    let loss = Flex::float_mean(FlexTensor::from_data(TensorData::new(
        square,
        shape.clone(),
    )));
    let loss = match SquaredError
        .prepare::<NoCheckpointing>([output.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            prep.finish(FlexTensor::from_data(TensorData::new(diff, shape)), loss)
        }
        OpsKind::UnTracked(prep) => prep.finish(loss),
    };
    Some(Tensor::from_primitive::<Autodiff<Flex>>(loss))
}

/// The values of a contiguous f32 flex tensor that starts at its buffer's start.
fn contiguous_f32(tensor: &FlexTensor) -> Option<&[f32]> {
    (tensor.is_contiguous() && tensor.layout().start_offset() == 0)
        .then(|| tensor.as_slice::<f32>())
        .flatten()
}

/// The backward of `mean((output - targets)²)` with respect to `output`; its state is
/// `output - targets`.
#[derive(Debug)]
struct SquaredError;

impl Backward<Flex, 1> for SquaredError {
    type State = FlexTensor;

    fn backward(self, ops: Ops<FlexTensor, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let diff = ops.state;
        unary::<Flex, _>(ops.parents, ops.node, grads, |grad| {
            // Burn's chain, term by term: mean's gradient is `ones · (1/n) · grad`; `x * x`
            // sends `grad · x` to each of its two operands, summed; `sub` passes it on.
            let n = diff.layout().num_elements();
            let grad = contiguous_f32(&grad).expect("a [1] loss gradient")[0];
            let g = (1.0f32 * (1.0 / n as f64) as f32) * grad;
            let xs = contiguous_f32(&diff).expect("the state is contiguous");
            let values: Vec<f32> = xs.iter().map(|&x| g * x + g * x).collect();
            FlexTensor::from_data(TensorData::new(values, diff.layout().shape().clone()))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution};

    fn bits<const D: usize>(tensor: Tensor<D>) -> Vec<u32> {
        let values = tensor.into_data().try_to_vec::<f32>().expect("f32 values");
        values.into_iter().map(f32::to_bits).collect()
    }

    #[test]
    fn fused_loss_and_gradient_are_burns_to_the_bit() {
        let device = Device::flex().autodiff();
        device.seed(3);
        let normal = Distribution::Normal(0.0, 1.0);
        let weight = Tensor::<2>::random([20, 784], normal, &device).require_grad();
        let input = Tensor::<2>::random([30, 20], normal, &device);
        let targets = Tensor::<2>::random([30, 784], Distribution::Uniform(0.0, 1.0), &device);
        // Two separate graphs over the same weight, one per loss.
        let output = |()| input.clone().matmul(weight.clone());

        let fused = flex_autodiff_mse(&output(()), &targets).expect("flex with autodiff: fused");
        let reference = MseLoss::new().forward(output(()), targets.clone(), Reduction::Mean);
        assert_eq!(bits(fused.clone()), bits(reference.clone()));

        let fused_grad = weight.grad(&fused.backward()).expect("gradient");
        let reference_grad = weight.grad(&reference.backward()).expect("gradient");
        assert_eq!(bits(fused_grad), bits(reference_grad));
    }

    #[test]
    fn without_autodiff_it_is_burns_mse_loss() {
        let device = Device::flex();
        let output = Tensor::<2>::from_data([[1.0, 2.0], [3.0, 4.0]], &device);
        let targets = Tensor::<2>::from_data([[1.0, 0.0], [0.0, 4.0]], &device);
        assert!(flex_autodiff_mse(&output, &targets).is_none());
        // (0 + 4 + 9 + 0) / 4
        assert_eq!(mse(output, targets).into_scalar::<f32>(), 3.25);
    }
}
