//! MNIST for the autoencoder study: an IDX reader, the [`Mnist`] data set, its masking-noise
//! variant [`NoisedMnist`], and the loader that feeds both to Burn's learner in batches, each
//! epoch in an order drawn from `(seed, epoch)`.

mod idx;
mod loader;
mod mnist;
mod noise;

pub use idx::{DataError, IdxArray, MAX_PAYLOAD_BYTES, parse_idx, read_idx};
pub use loader::{AutoencoderBatch, EpochLoader, epoch_seed};
pub use mnist::{Mnist, MnistItem, PIXELS, SIDE, Split, TRAIN_IMAGES, default_dir};
pub use noise::{AutoencoderItem, NoisedMnist, mask_image, masked_pixels, test_noise_seed};
