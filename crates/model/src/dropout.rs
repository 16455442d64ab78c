//! Inverted dropout whose mask, on the CPU backends, is hashed on the host from one seed per pass.
//!
//! Burn's `Dropout` draws every mask element from the backend's random stream, one element at
//! a time on one thread (its cost: BENCHMARKS.md). On flex and ndarray this layer draws a
//! single seed from the same stream per pass and expands it with a counter-based hash, so the
//! mask costs a fraction of a millisecond, stays fixed by the device's seed, and — because the
//! seed comes from the device's stream — flex and ndarray still see identical masks. On a GPU
//! the mask stays on the device (Burn's sampler): reading a seed back would stall the queue.

use burn::module::{Content, DisplaySettings, Flag, Module, ModuleDisplay, Param};
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use rayon::prelude::*;

/// Dropout with probability `prob`, scaling kept values by `1 / (1 - prob)`; acts only in
/// training (on an autodiff device). Its record is the same as Burn's `Dropout`.
#[derive(Module, Debug)]
#[module(custom_display)]
pub struct HashedDropout {
    /// Probability of zeroing an element.
    pub prob: f64,
    /// Whether this layer takes part in training (Burn's flag, kept for record compatibility).
    pub training: Param<Flag>,
}

impl HashedDropout {
    /// A training dropout layer; `prob` must be in `[0, 1)`.
    pub fn new(prob: f64) -> Self {
        assert!(
            prob.is_finite() && (0.0..1.0).contains(&prob),
            "dropout probability must be in [0, 1), got {prob}"
        );
        Self {
            prob,
            training: Param::from_bool(true),
        }
    }

    /// `input` times a fresh mask of `0` and `1 / (1 - prob)`; the identity outside training.
    pub fn forward<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        if !self.training.is_enabled() || !input.device().is_autodiff() || self.prob == 0.0 {
            return input;
        }
        let device = input.device();
        let keep = 1.0 - self.prob;
        if !on_host(&device) {
            // Burn's own dropout, on the device.
            let mask = input.random_like(Distribution::Bernoulli(keep));
            return input * mask * (1.0 / keep);
        }
        let shape = input.shape();
        let mask = mask_values(draw_seed(&device), shape.num_elements(), keep);
        input * Tensor::from_data(TensorData::new(mask, shape), &device)
    }
}

impl ModuleDisplay for HashedDropout {
    fn custom_settings(&self) -> Option<DisplaySettings> {
        DisplaySettings::new()
            .with_new_line_after_attribute(false)
            .optional()
    }

    fn custom_content(&self, content: Content) -> Option<Content> {
        content.add("prob", &self.prob).optional()
    }
}

/// Whether `device` keeps tensors in host memory (flex, ndarray): there a host-made mask costs
/// no transfer and reading a seed back costs no synchronisation.
#[allow(deprecated)] // Device::ndarray: Burn deprecates the backend, this project still offers it.
fn on_host(device: &Device) -> bool {
    let device = device.clone().without_autodiff();
    device == Device::flex() || device == Device::ndarray()
}

/// One 48-bit seed from the device's random stream (two uniform floats' mantissas).
fn draw_seed(device: &Device) -> u64 {
    let draws = Tensor::<1>::random([2], Distribution::Uniform(0.0, 1.0), device)
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("two f32 draws");
    // A uniform f32 in [0, 1) carries 24 random bits.
    let bits = |u: f32| (u * (1u32 << 24) as f32) as u64;
    bits(draws[0]) << 24 | bits(draws[1])
}

/// `n` mask values: `scale = 1 / keep` with probability `keep`, else 0; a pure function of
/// `seed`, element `i` depending only on `(seed, i)`.
pub fn mask_values(seed: u64, n: usize, keep: f64) -> Vec<f32> {
    // Keep when a uniform 32-bit draw is below keep · 2³².
    let threshold = (keep * 4_294_967_296.0).round().min(u32::MAX as f64 + 1.0) as u64;
    let scale = (1.0 / keep) as f32;
    // Branch-free: a kept/dropped branch would be mispredicted half the time.
    let pick = |draw: u64| scale * (draw < threshold) as u32 as f32;
    // Each element depends on its index alone, so the chunks run on rayon's threads (the
    // other core is idle between matrix products) and give the same mask as one loop would.
    let fill = |(chunk, out): (usize, &mut [f32])| {
        let first_pair = chunk * CHUNK / 2;
        for (pair, out) in out.chunks_exact_mut(2).enumerate() {
            let pair = (first_pair + pair) as u64;
            let z = splitmix64(seed ^ pair.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            out[0] = pick(z & 0xffff_ffff);
            out[1] = pick(z >> 32);
        }
    };
    let mut mask = vec![0.0; n.next_multiple_of(2)];
    mask.par_chunks_mut(CHUNK).enumerate().for_each(fill);
    mask.truncate(n);
    mask
}

/// Mask elements per rayon task; even, so that a task holds whole pairs.
const CHUNK: usize = 1 << 14;

/// SplitMix64's output function: a bijective 64-bit mix with full avalanche.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_keeps_the_asked_fraction_and_scales() {
        for keep in [0.5, 0.8, 0.1] {
            let mask = mask_values(7, 200_001, keep);
            assert_eq!(mask.len(), 200_001);
            let scale = (1.0 / keep) as f32;
            assert!(mask.iter().all(|&v| v == 0.0 || v == scale));
            let kept = mask.iter().filter(|&&v| v != 0.0).count() as f64 / mask.len() as f64;
            // Binomial standard deviation ≤ 0.0012 here: allow 4 of them.
            assert!((kept - keep).abs() < 0.005, "keep {keep}: kept {kept}");
            // The scaled mask has mean 1, so dropout keeps the expected activation.
            let mean = mask.iter().map(|&v| v as f64).sum::<f64>() / mask.len() as f64;
            assert!((mean - 1.0).abs() < 0.02, "mean {mean}");
        }
    }

    #[test]
    fn mask_depends_on_seed_only() {
        assert_eq!(mask_values(1, 1000, 0.5), mask_values(1, 1000, 0.5));
        assert_ne!(mask_values(1, 1000, 0.5), mask_values(2, 1000, 0.5));
        // A prefix of a longer mask is the shorter mask: element i depends on (seed, i) only.
        assert_eq!(
            mask_values(3, 999, 0.5)[..],
            mask_values(3, 1000, 0.5)[..999]
        );
    }

    #[test]
    fn parallel_chunks_give_the_one_loop_mask() {
        let (seed, keep) = (5, 0.5);
        let n = 3 * CHUNK + 7;
        let expected: Vec<f32> = (0..n)
            .map(|i| {
                let z = splitmix64(seed ^ (i as u64 / 2).wrapping_mul(0x9e37_79b9_7f4a_7c15));
                let draw = if i % 2 == 0 { z & 0xffff_ffff } else { z >> 32 };
                if draw < 1 << 31 { 2.0 } else { 0.0 }
            })
            .collect();
        assert_eq!(mask_values(seed, n, keep), expected);
    }

    #[test]
    fn neighbouring_elements_are_uncorrelated() {
        let mask: Vec<bool> = mask_values(11, 100_000, 0.5)
            .iter()
            .map(|&v| v != 0.0)
            .collect();
        // Agreement of element i with i + 1 (same hash) and i + 2 (next hash) ≈ 1/2.
        for lag in [1, 2, 784] {
            let same = mask.windows(lag + 1).filter(|w| w[0] == w[lag]).count() as f64
                / (mask.len() - lag) as f64;
            assert!((same - 0.5).abs() < 0.01, "lag {lag}: agreement {same}");
        }
    }
}
