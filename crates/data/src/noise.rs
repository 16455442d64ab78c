//! Masking noise: a fixed set of pixels zeroed in each input image, targets left clean.

use burn::data::dataset::{Dataset, DatasetError};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::mnist::{Mnist, PIXELS};

/// One training pair: the (possibly noised) input and the clean target.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoencoderItem {
    /// 784 input pixels in `[0, 1]`, with the masked pixels set to 0.
    pub input: Vec<f32>,
    /// 784 clean target pixels in `[0, 1]`.
    pub target: Vec<f32>,
}

/// Number of pixels zeroed per image for a noise ratio: `floor(784 × ratio)`, as the study's `int()`.
pub fn masked_pixels(ratio: f64) -> usize {
    (PIXELS as f64 * ratio).floor() as usize
}

/// Seed of a test set's noise masks, distinct from the training set's of the same seed.
pub fn test_noise_seed(seed: u64) -> u64 {
    seed ^ 0x7e57_7e57_7e57_7e57
}

/// `floor(784 × ratio)` distinct pixel indices drawn from `rng`.
fn draw_mask(rng: &mut StdRng, per_image: usize) -> impl Iterator<Item = usize> {
    rand::seq::index::sample(rng, PIXELS, per_image).into_iter()
}

/// Sets `floor(784 × ratio)` of one image's pixels to 0, chosen from `seed`: the mask the first
/// image of a [`NoisedMnist`] of that seed gets.
pub fn mask_image(pixels: &mut [f32], ratio: f64, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for i in draw_mask(&mut rng, masked_pixels(ratio)) {
        pixels[i] = 0.0;
    }
}

/// MNIST whose inputs have exactly `floor(784 × ratio)` pixels set to 0, chosen once per image
/// from a seed; a ratio of 0 gives the clean data set.
#[derive(Debug, Clone)]
pub struct NoisedMnist {
    mnist: Mnist,
    per_image: usize,
    /// `per_image` masked pixel indices for each image, flattened.
    masks: Vec<u16>,
}

impl NoisedMnist {
    /// Draws the masks of every image of `mnist` from `seed`; `ratio` must lie in `[0, 1)`.
    pub fn new(mnist: Mnist, ratio: f64, seed: u64) -> Self {
        assert!(
            (0.0..1.0).contains(&ratio),
            "noise ratio {ratio} outside [0, 1)"
        );
        let per_image = masked_pixels(ratio);
        let mut masks = Vec::with_capacity(mnist.len() * per_image);
        if per_image > 0 {
            let mut rng = StdRng::seed_from_u64(seed);
            for _ in 0..mnist.len() {
                masks.extend(draw_mask(&mut rng, per_image).map(|i| i as u16));
            }
        }
        Self {
            mnist,
            per_image,
            masks,
        }
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.mnist.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.mnist.is_empty()
    }

    /// The clean data set underneath.
    pub fn clean(&self) -> &Mnist {
        &self.mnist
    }

    /// Pixels zeroed per image.
    pub fn masked_per_image(&self) -> usize {
        self.per_image
    }

    /// The masked pixel indices of image `index` (empty without noise).
    pub fn mask(&self, index: usize) -> &[u16] {
        &self.masks[index * self.per_image..(index + 1) * self.per_image]
    }

    /// Appends the noised inputs and clean targets of `indices` to two flat buffers
    /// (784 values per image): the fast path used to build batches.
    pub fn fill_batch(&self, indices: &[usize], inputs: &mut Vec<f32>, targets: &mut Vec<f32>) {
        for &index in indices {
            let start = inputs.len();
            let bytes = self.mnist.image_bytes(index);
            targets.extend(bytes.iter().map(|&b| f32::from(b) / 255.0));
            inputs.extend_from_slice(&targets[targets.len() - PIXELS..]);
            for &i in self.mask(index) {
                inputs[start + i as usize] = 0.0;
            }
        }
    }

    /// The noised input of image `index`.
    pub fn input(&self, index: usize) -> Vec<f32> {
        let mut pixels = self.mnist.pixels(index);
        for &i in self.mask(index) {
            pixels[i as usize] = 0.0;
        }
        pixels
    }
}

impl Dataset<AutoencoderItem> for NoisedMnist {
    fn get(&self, index: usize) -> Result<AutoencoderItem, DatasetError> {
        if index >= self.mnist.len() {
            return Err(DatasetError::new(std::io::Error::other(format!(
                "index {index} out of range 0..{}",
                self.mnist.len()
            ))));
        }
        Ok(AutoencoderItem {
            input: self.input(index),
            target: self.mnist.pixels(index),
        })
    }

    fn len(&self) -> usize {
        self.mnist.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mnist::{Split, default_dir};

    fn test_set() -> Mnist {
        Mnist::load(&default_dir(), Split::Test).unwrap().limit(500)
    }

    #[test]
    fn ratio_0_2_masks_exactly_156_pixels() {
        assert_eq!(masked_pixels(0.2), 156);
        assert_eq!(masked_pixels(0.0), 0);
        let noised = NoisedMnist::new(test_set(), 0.2, 7);
        for index in 0..noised.len() {
            let mask = noised.mask(index);
            assert_eq!(mask.len(), 156);
            let mut distinct = mask.to_vec();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), 156, "mask of image {index} repeats a pixel");
            let item = noised.get(index).unwrap();
            assert!(mask.iter().all(|&i| item.input[i as usize] == 0.0));
            // Everything outside the mask is the clean pixel; the target is the clean image.
            let clean = noised.clean().pixels(index);
            assert_eq!(item.target, clean);
            for p in 0..PIXELS {
                if !mask.contains(&(p as u16)) {
                    assert_eq!(item.input[p], clean[p]);
                }
            }
        }
    }

    #[test]
    fn same_seed_same_masks_other_seed_other_masks() {
        let a = NoisedMnist::new(test_set(), 0.2, 1);
        let b = NoisedMnist::new(test_set(), 0.2, 1);
        let c = NoisedMnist::new(test_set(), 0.2, 2);
        assert_eq!(a.masks, b.masks);
        assert_ne!(a.masks, c.masks);
        // Images get different masks from each other.
        assert_ne!(a.mask(0), a.mask(1));
        // Masks do not depend on how many images follow.
        let short = NoisedMnist::new(test_set().limit(10), 0.2, 1);
        assert_eq!(short.mask(9), a.mask(9));
    }

    #[test]
    fn batch_buffers_match_the_items() {
        let noised = NoisedMnist::new(test_set(), 0.2, 5);
        let (mut inputs, mut targets) = (Vec::new(), Vec::new());
        noised.fill_batch(&[4, 0, 4], &mut inputs, &mut targets);
        assert_eq!(inputs.len(), 3 * PIXELS);
        for (slot, index) in [4, 0, 4].into_iter().enumerate() {
            let item = noised.get(index).unwrap();
            assert_eq!(inputs[slot * PIXELS..(slot + 1) * PIXELS], item.input[..]);
            assert_eq!(targets[slot * PIXELS..(slot + 1) * PIXELS], item.target[..]);
        }
    }

    #[test]
    fn zero_ratio_is_the_clean_set() {
        let noised = NoisedMnist::new(test_set(), 0.0, 0);
        let item = noised.get(3).unwrap();
        assert_eq!(item.input, item.target);
        assert!(noised.get(500).is_err());
    }
}
