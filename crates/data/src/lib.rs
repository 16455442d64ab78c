//! MNIST for the autoencoder study: an IDX reader, the [`Mnist`] data set, its masking-noise
//! variant [`NoisedMnist`], and the batcher that feeds both to Burn.

mod batcher;
mod idx;
mod mnist;
mod noise;

pub use batcher::{AutoencoderBatch, AutoencoderBatcher};
pub use idx::{DataError, IdxArray, MAX_PAYLOAD_BYTES, parse_idx, read_idx};
pub use mnist::{Mnist, MnistItem, PIXELS, SIDE, Split, default_dir};
pub use noise::{AutoencoderItem, NoisedMnist, masked_pixels};
