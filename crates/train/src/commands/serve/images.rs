//! The MNIST images the views inside the models share: the test set, loaded at start, and the
//! training set and its principal components, loaded on first use.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use study::analysis::{Images, Pca};
use study::backend::Device;
use study::data::{Mnist, Split};

/// The MNIST images the views share: the test set, loaded at start, and the training set and
/// its principal components, loaded on first use.
pub struct Shared {
    data_dir: PathBuf,
    /// The test set.
    pub test: Mnist,
    train: OnceLock<Result<Mnist, String>>,
    pca: OnceLock<Result<Pca, String>>,
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
            train: OnceLock::new(),
            pca: OnceLock::new(),
        })
    }

    /// The test images on `device`.
    pub fn test_images(&self, device: &Device) -> Images {
        let flat = (0..self.test.len())
            .flat_map(|i| self.test.pixels(i))
            .collect();
        Images::new(flat, device)
    }

    /// The training set, read on the first call.
    pub fn train(&self) -> Result<&Mnist, String> {
        self.train
            .get_or_init(|| Mnist::load(&self.data_dir, Split::Train).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The principal components of the training images, fitted on the first call.
    pub fn pca(&self) -> Result<&Pca, String> {
        self.pca
            .get_or_init(|| {
                let train = self.train()?;
                Ok(Pca::fit(&images_of(train, &Device::flex())))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}
