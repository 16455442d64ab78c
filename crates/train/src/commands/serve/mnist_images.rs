//! The MNIST images the views inside the models share: the test set, loaded at start, and the
//! training set and its principal components, loaded on first use.

use std::path::{Path, PathBuf};

use study::analysis::{Images, Pca};
use study::data::{Mnist, Split};
use trainer::backend::Device;

use once_cell::sync::OnceCell;

/// The MNIST images the views share: the test set, loaded at start, and the training set and
/// its principal components, loaded on first use.
pub struct Shared {
    data_dir: PathBuf,
    /// The test set.
    pub test: Mnist,
    train: OnceCell<Mnist>,
    pca: OnceCell<Pca>,
}

/// A set's images on `device`.
pub fn images_of(set: &Mnist, device: &Device) -> Images {
    let pixel = |&b: &u8| f32::from(b) / 255.0; // as `Mnist::pixels`
    Images::new(set.all_image_bytes().iter().map(pixel).collect(), device)
}

impl Shared {
    /// The test set of `data_dir` (the training set is read when first asked for).
    pub fn load(data_dir: &Path) -> study::Result<Self> {
        Ok(Self {
            data_dir: data_dir.to_path_buf(),
            test: Mnist::load(data_dir, Split::Test)?,
            train: OnceCell::new(),
            pca: OnceCell::new(),
        })
    }

    /// The training set, read on the first call that succeeds.
    pub fn train(&self) -> Result<&Mnist, String> {
        let load = || Mnist::load(&self.data_dir, Split::Train).map_err(|e| e.to_string());
        self.train.get_or_try_init(load)
    }

    /// The principal components of the training images, fitted on the first call that succeeds.
    pub fn pca(&self) -> Result<&Pca, String> {
        let fit = || Ok::<_, String>(Pca::fit(&images_of(self.train()?, &Device::flex())));
        self.pca.get_or_try_init(fit)
    }
}
