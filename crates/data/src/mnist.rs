//! MNIST as a Burn [`Dataset`]: images as `f32` pixels in `[0, 1]` (byte / 255) with their labels.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::data::dataset::{Dataset, DatasetError};
use sha2::{Digest, Sha256};

use crate::idx::{DataError, read_idx};

/// Side of an MNIST image in pixels.
pub const SIDE: usize = 28;
/// Pixels per MNIST image.
pub const PIXELS: usize = SIDE * SIDE;

/// Which of MNIST's two files pairs to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The 60 000 training images.
    Train,
    /// The 10 000 test images.
    Test,
}

impl Split {
    /// File names of the images and labels of this split (gzip-compressed).
    pub fn files(self) -> (&'static str, &'static str) {
        match self {
            Split::Train => ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
            Split::Test => ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
        }
    }
}

/// One MNIST image and its label.
#[derive(Debug, Clone, PartialEq)]
pub struct MnistItem {
    /// 784 pixels, row-major, in `[0, 1]`.
    pub pixels: Vec<f32>,
    /// The digit, 0–9.
    pub label: u8,
}

/// An MNIST split held in memory as bytes; cheap to clone (shared storage).
#[derive(Debug, Clone)]
pub struct Mnist {
    images: Arc<Vec<u8>>,
    labels: Arc<Vec<u8>>,
    len: usize,
}

/// Default location of the vendored data set: `$MNIST_DIR`, else `datasets/mnist` in the
/// workspace this crate was built from, else the first `datasets/mnist` found above the current
/// directory or the running executable (a moved checkout, a shared build cache).
pub fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MNIST_DIR") {
        return PathBuf::from(dir);
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/mnist");
    if built.is_dir() {
        return built;
    }
    let starts = [std::env::current_dir().ok(), std::env::current_exe().ok()];
    starts
        .iter()
        .flatten()
        .flat_map(|start| start.ancestors())
        .map(|dir| dir.join("datasets/mnist"))
        .find(|dir| dir.is_dir())
        .unwrap_or(built)
}

impl Mnist {
    /// Reads a split from `dir`, checking the files against `dir/SHA256SUMS` when that file exists.
    pub fn load(dir: &Path, split: Split) -> Result<Self, DataError> {
        if !dir.is_dir() {
            return Err(DataError::new(
                dir,
                "MNIST directory not found (set --data-dir or MNIST_DIR)",
            ));
        }
        let (images_name, labels_name) = split.files();
        let sums = read_checksums(dir)?;
        let images_path = dir.join(images_name);
        let labels_path = dir.join(labels_name);
        for path in [&images_path, &labels_path] {
            verify_checksum(path, sums.as_deref())?;
        }
        let images = read_idx(&images_path)?;
        let labels = read_idx(&labels_path)?;
        if images.dims.len() != 3 || images.dims[1] != SIDE || images.dims[2] != SIDE {
            return Err(DataError::new(
                &images_path,
                format!(
                    "expected images of shape [n, 28, 28], found {:?}",
                    images.dims
                ),
            ));
        }
        if labels.dims.len() != 1 {
            return Err(DataError::new(
                &labels_path,
                format!("expected labels of shape [n], found {:?}", labels.dims),
            ));
        }
        if labels.dims[0] != images.dims[0] {
            return Err(DataError::new(
                &labels_path,
                format!(
                    "{} labels for {} images in {images_name}",
                    labels.dims[0], images.dims[0]
                ),
            ));
        }
        if let Some(bad) = labels.data.iter().find(|&&l| l > 9) {
            return Err(DataError::new(
                &labels_path,
                format!("label {bad} is not a digit"),
            ));
        }
        Ok(Self {
            len: images.dims[0],
            images: Arc::new(images.data),
            labels: Arc::new(labels.data),
        })
    }

    /// The first `n` images only (all of them if `n` is larger).
    pub fn limit(mut self, n: usize) -> Self {
        self.len = self.len.min(n);
        self
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The raw bytes of image `index` (784 values, 0–255).
    pub fn image_bytes(&self, index: usize) -> &[u8] {
        assert!(
            index < self.len,
            "image {index} out of range 0..{}",
            self.len
        );
        &self.images[index * PIXELS..(index + 1) * PIXELS]
    }

    /// The label of image `index`.
    pub fn label(&self, index: usize) -> u8 {
        assert!(
            index < self.len,
            "label {index} out of range 0..{}",
            self.len
        );
        self.labels[index]
    }

    /// Image `index` as pixels in `[0, 1]`.
    pub fn pixels(&self, index: usize) -> Vec<f32> {
        self.image_bytes(index)
            .iter()
            .map(|&b| f32::from(b) / 255.0)
            .collect()
    }
}

impl Dataset<MnistItem> for Mnist {
    fn get(&self, index: usize) -> Result<MnistItem, DatasetError> {
        if index >= self.len {
            return Err(DatasetError::new(std::io::Error::other(format!(
                "index {index} out of range 0..{}",
                self.len
            ))));
        }
        Ok(MnistItem {
            pixels: self.pixels(index),
            label: self.label(index),
        })
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// Parses `dir/SHA256SUMS` (`<hex>  <file>` lines); `None` when the file is absent.
fn read_checksums(dir: &Path) -> Result<Option<Vec<(String, String)>>, DataError> {
    let path = dir.join("SHA256SUMS");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(DataError::new(&path, format!("cannot read: {e}"))),
    };
    let mut sums = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next()) {
            (Some(hash), Some(name)) => sums.push((
                hash.to_ascii_lowercase(),
                name.trim_start_matches('*').to_string(),
            )),
            _ => return Err(DataError::new(&path, format!("malformed line: {line:?}"))),
        }
    }
    Ok(Some(sums))
}

fn verify_checksum(path: &Path, sums: Option<&[(String, String)]>) -> Result<(), DataError> {
    let Some(sums) = sums else { return Ok(()) };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let Some((expected, _)) = sums.iter().find(|(_, n)| n == name) else {
        return Ok(());
    };
    let bytes =
        std::fs::read(path).map_err(|e| DataError::new(path, format!("cannot open: {e}")))?;
    let actual = format!("{:x}", Sha256::digest(&bytes));
    if &actual != expected {
        return Err(DataError::new(
            path,
            format!("checksum mismatch: SHA256SUMS says {expected}, file is {actual}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_mnist_loads_with_verified_checksums() {
        let train = Mnist::load(&default_dir(), Split::Train).unwrap();
        let test = Mnist::load(&default_dir(), Split::Test).unwrap();
        assert_eq!(train.len(), 60_000);
        assert_eq!(test.len(), 10_000);
        // Published label counts: 5923 zeros in train, 1009 nines in test.
        assert_eq!(
            (0..train.len()).filter(|&i| train.label(i) == 0).count(),
            5923
        );
        assert_eq!(
            (0..test.len()).filter(|&i| test.label(i) == 9).count(),
            1009
        );
        let item = train.get(0).unwrap();
        assert_eq!(item.label, 5);
        assert_eq!(item.pixels.len(), PIXELS);
        assert!(item.pixels.iter().all(|&p| (0.0..=1.0).contains(&p)));
        assert!(item.pixels.contains(&1.0));
        assert!(train.get(60_000).is_err());
        assert_eq!(train.limit(100).len(), 100);
    }

    #[test]
    fn wrong_checksum_is_reported_with_the_file() {
        let dir = std::env::temp_dir().join(format!("mnist-sum-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            std::fs::copy(default_dir().join(name), dir.join(name)).unwrap();
        }
        let bad = "0".repeat(64);
        std::fs::write(
            dir.join("SHA256SUMS"),
            format!("{bad}  t10k-images-idx3-ubyte.gz\n"),
        )
        .unwrap();
        let e = Mnist::load(&dir, Split::Test).unwrap_err().to_string();
        assert!(
            e.contains("t10k-images-idx3-ubyte.gz: checksum mismatch"),
            "{e}"
        );
        // Without SHA256SUMS the same files load.
        std::fs::remove_file(dir.join("SHA256SUMS")).unwrap();
        assert_eq!(Mnist::load(&dir, Split::Test).unwrap().len(), 10_000);
    }

    #[test]
    fn label_count_mismatch_is_reported() {
        let dir = std::env::temp_dir().join(format!("mnist-count-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(
            default_dir().join("t10k-images-idx3-ubyte.gz"),
            dir.join("t10k-images-idx3-ubyte.gz"),
        )
        .unwrap();
        let mut labels = vec![0, 0, 8, 1];
        labels.extend_from_slice(&5u32.to_be_bytes());
        labels.extend_from_slice(&[1, 2, 3, 4, 5]);
        std::fs::write(dir.join("t10k-labels-idx1-ubyte.gz"), labels).unwrap();
        let e = Mnist::load(&dir, Split::Test).unwrap_err().to_string();
        assert!(e.contains("5 labels for 10000 images"), "{e}");
    }

    #[test]
    fn missing_directory_is_reported() {
        let e = Mnist::load(Path::new("/no/such/mnist"), Split::Train)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("/no/such/mnist: MNIST directory not found"),
            "{e}"
        );
    }
}
