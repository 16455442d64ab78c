//! MNIST as a Burn [`Dataset`]: images as `f32` pixels in `[0, 1]` (byte / 255) with their labels.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::data::dataset::{Dataset, DatasetError};
use sha2::{Digest, Sha256};

use crate::idx::{DataError, read_idx};

/// Side of an MNIST image in pixels.
pub const SIDE: usize = 28;
/// Pixels per MNIST image.
pub const PIXELS: usize = SIDE * SIDE;
/// Images of MNIST's training split (its files say so too; [`Mnist::load`] reads what is there).
pub const TRAIN_IMAGES: usize = 60_000;

/// Which of MNIST's two files pairs to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The 60 000 training images.
    Train,
    /// The 10 000 test images.
    Test,
}

impl Split {
    /// File names of the images and labels of this split (gzip-compressed); [`Mnist::load`] also
    /// reads each unzipped, under the same name without `.gz`.
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

/// Default location of the vendored data set: `$MNIST_DIR` (when set and not empty), else
/// `datasets/mnist` in the workspace this crate was built from, else the first `datasets/mnist`
/// found above the current directory or the running executable (a moved checkout, a shared build
/// cache).
pub fn default_dir() -> PathBuf {
    default_dir_from(std::env::var_os("MNIST_DIR"))
}

/// [`default_dir`] with `mnist_dir` as the value of `MNIST_DIR`; an empty value counts as unset
/// (`MNIST_DIR= cmd` clears it in shells), rather than naming the directory "".
fn default_dir_from(mnist_dir: Option<OsString>) -> PathBuf {
    if let Some(dir) = mnist_dir.filter(|dir| !dir.is_empty()) {
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
    /// Reads a split from `dir`: each file of [`Split::files`] gzip-compressed, or else unzipped
    /// (the name without `.gz`).
    ///
    /// When `dir/SHA256SUMS` exists, every file read must be listed in it under the name it is
    /// read by (`name`, `*name` or `./name`) and match its checksum. A file it does not list is an
    /// error rather than unverified data: a listing of the `.gz` files does not cover their
    /// unzipped copies, whose bytes differ, so after unzipping add their lines (`sha256sum`) or
    /// remove SHA256SUMS. A line of SHA256SUMS that is not `<64 hex digits> <name>` is an error.
    pub fn load(dir: &Path, split: Split) -> Result<Self, DataError> {
        if !dir.is_dir() {
            return Err(DataError {
                missing_dir: true,
                ..DataError::new(dir, "MNIST directory not found")
            });
        }
        let (images_name, labels_name) = split.files();
        let sums = read_checksums(dir)?;
        let images_path = locate(dir, images_name)?;
        let labels_path = locate(dir, labels_name)?;
        if let Some(sums) = &sums {
            for (path, gz_name) in [(&images_path, images_name), (&labels_path, labels_name)] {
                verify_checksum(path, gz_name, sums)?;
            }
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
                    "{} labels for {} images in {}",
                    labels.dims[0],
                    images.dims[0],
                    file_name(&images_path)
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

    /// The raw bytes of every image, one after the other (`len × 784` values, 0–255).
    pub fn all_image_bytes(&self) -> &[u8] {
        &self.images[..self.len * PIXELS]
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

/// The file to read for `gz_name` in `dir`: `gz_name` itself when present, else its unzipped
/// copy (the name without `.gz`); an error naming both when neither exists.
fn locate(dir: &Path, gz_name: &str) -> Result<PathBuf, DataError> {
    let unzipped_name = gz_name.strip_suffix(".gz").unwrap_or(gz_name);
    [gz_name, unzipped_name]
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.exists())
        .ok_or_else(|| {
            DataError::new(
                dir,
                format!("neither {gz_name} nor the unzipped {unzipped_name} found"),
            )
        })
}

/// The final component of `path` as text ("" if it has none or it is not UTF-8).
fn file_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
}

/// The entries of a SHA256SUMS file: `(lowercase hex SHA-256, file name)` per line, in order.
type Checksums = Vec<(String, String)>;

/// Reads `dir/SHA256SUMS`; `None` when the file is absent, an error naming the line when one is
/// neither blank nor a checksum line (see [`parse_checksum_line`]).
fn read_checksums(dir: &Path) -> Result<Option<Checksums>, DataError> {
    let path = dir.join("SHA256SUMS");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(DataError::new(&path, format!("cannot read: {e}"))),
    };
    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some(entry) = parse_checksum_line(line) else {
            // At most 80 characters of it, so that a binary file still gives a short message.
            let shown: String = line.chars().take(80).collect();
            let more = if shown.len() < line.len() { "…" } else { "" };
            return Err(DataError::new(
                &path,
                format!(
                    "line {}: expected '<64 hex digits>  <file name>', found {shown:?}{more}",
                    index + 1
                ),
            ));
        };
        entries.push(entry);
    }
    Ok(Some(entries))
}

/// One line as `sha256sum` writes it: 64 hex digits, spaces or tabs, then the file name, marked
/// `*` in binary mode and prefixed `./` when given so (both dropped here). `None` for anything
/// else.
fn parse_checksum_line(line: &str) -> Option<(String, String)> {
    let line = line.trim();
    let (hash, rest) = line.split_at_checked(64)?;
    if !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    // At least one separator: 65 hex digits are not a hash followed by a name.
    let name = rest.strip_prefix([' ', '\t'])?.trim_start();
    let name = name.strip_prefix('*').unwrap_or(name);
    let name = name.strip_prefix("./").unwrap_or(name);
    (!name.is_empty()).then(|| (hash.to_ascii_lowercase(), name.to_string()))
}

/// Checks `path` against its entries in `sums`; a file without an entry is an error (see
/// [`Mnist::load`]). `gz_name` is the split's compressed name, for the hint when only it is listed.
fn verify_checksum(path: &Path, gz_name: &str, sums: &Checksums) -> Result<(), DataError> {
    let name = file_name(path);
    let listed: Vec<&str> = sums
        .iter()
        .filter(|(_, n)| n == name)
        .map(|(hash, _)| hash.as_str())
        .collect();
    if listed.is_empty() {
        let hint = if name != gz_name && sums.iter().any(|(_, n)| n == gz_name) {
            format!(" (its line for {gz_name} does not cover the unzipped file)")
        } else {
            String::new()
        };
        return Err(DataError::new(
            path,
            format!(
                "not listed in SHA256SUMS{hint}, so it cannot be verified: \
                 add its checksum there or remove SHA256SUMS"
            ),
        ));
    }
    let bytes =
        std::fs::read(path).map_err(|e| DataError::new(path, format!("cannot open: {e}")))?;
    let actual = format!("{:x}", Sha256::digest(&bytes));
    // Every line for the name must agree: a second, different line is not a way around the first.
    if let Some(expected) = listed.into_iter().find(|&expected| expected != actual) {
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

    /// A fresh, empty directory for one test.
    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mnist-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// An IDX file of unsigned bytes with these dimensions, every payload byte `value`.
    fn idx(dims: &[u32], value: u8) -> Vec<u8> {
        let mut bytes = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            bytes.extend_from_slice(&d.to_be_bytes());
        }
        let len: u32 = dims.iter().product();
        bytes.extend(std::iter::repeat_n(value, len as usize));
        bytes
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn sha256(bytes: &[u8]) -> String {
        format!("{:x}", Sha256::digest(bytes))
    }

    /// Writes a test split of `n` images, gzip-compressed or unzipped; returns (images, labels).
    fn write_test_split(dir: &Path, n: u32, gz: bool) -> (Vec<u8>, Vec<u8>) {
        let (images, labels) = (idx(&[n, 28, 28], 7), idx(&[n], 3));
        let (images, labels, suffix) = if gz {
            (gzip(&images), gzip(&labels), ".gz")
        } else {
            (images, labels, "")
        };
        std::fs::write(dir.join(format!("t10k-images-idx3-ubyte{suffix}")), &images).unwrap();
        std::fs::write(dir.join(format!("t10k-labels-idx1-ubyte{suffix}")), &labels).unwrap();
        (images, labels)
    }

    #[test]
    fn unzipped_files_are_read_and_gz_preferred() {
        let dir = temp_dir("unzipped");
        write_test_split(&dir, 3, false);
        let mnist = Mnist::load(&dir, Split::Test).unwrap();
        assert_eq!((mnist.len(), mnist.label(2)), (3, 3));
        assert_eq!(mnist.image_bytes(0)[0], 7);
        // With both present the .gz files are read.
        write_test_split(&dir, 2, true);
        assert_eq!(Mnist::load(&dir, Split::Test).unwrap().len(), 2);
        // Mixed: compressed images, unzipped labels (3 of them) are a count mismatch.
        std::fs::remove_file(dir.join("t10k-labels-idx1-ubyte.gz")).unwrap();
        let e = Mnist::load(&dir, Split::Test).unwrap_err().to_string();
        assert!(
            e.contains(
                "t10k-labels-idx1-ubyte: 3 labels for 2 images in t10k-images-idx3-ubyte.gz"
            ),
            "{e}"
        );
    }

    #[test]
    fn missing_files_are_reported_with_both_names() {
        let dir = temp_dir("missing");
        let e = Mnist::load(&dir, Split::Train).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}: ", dir.display())), "{e}");
        assert!(
            e.contains(
                "neither train-images-idx3-ubyte.gz nor the unzipped train-images-idx3-ubyte found"
            ),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn checksums_apply_to_the_file_read() {
        let dir = temp_dir("sums-unzipped");
        let (gz_images, gz_labels) = write_test_split(&dir, 2, true);
        let gz_sums = format!(
            "{}  t10k-images-idx3-ubyte.gz\n{}  t10k-labels-idx1-ubyte.gz\n",
            sha256(&gz_images),
            sha256(&gz_labels)
        );
        std::fs::write(dir.join("SHA256SUMS"), &gz_sums).unwrap();
        assert_eq!(Mnist::load(&dir, Split::Test).unwrap().len(), 2);
        // Unzipped in place: the .gz lines do not vouch for the unzipped bytes.
        let (images, labels) = write_test_split(&dir, 2, false);
        for name in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            std::fs::remove_file(dir.join(name)).unwrap();
        }
        let e = Mnist::load(&dir, Split::Test).unwrap_err().to_string();
        assert!(
            e.contains(
                "t10k-images-idx3-ubyte: not listed in SHA256SUMS (its line for t10k-images"
            ) && e.contains("does not cover the unzipped file), so it cannot be verified: add"),
            "{e}"
        );
        // Listed under their own names (binary mode, `./`-prefixed, upper case, a tab): verified.
        let sums = format!(
            "{gz_sums}\n{} *./t10k-images-idx3-ubyte\n{}\t./t10k-labels-idx1-ubyte\n",
            sha256(&images).to_uppercase(),
            sha256(&labels)
        );
        std::fs::write(dir.join("SHA256SUMS"), &sums).unwrap();
        assert_eq!(Mnist::load(&dir, Split::Test).unwrap().len(), 2);
        // And checked: a changed unzipped file is a mismatch.
        std::fs::write(dir.join("t10k-labels-idx1-ubyte"), idx(&[2], 4)).unwrap();
        let e = Mnist::load(&dir, Split::Test).unwrap_err().to_string();
        assert!(
            e.contains("t10k-labels-idx1-ubyte: checksum mismatch"),
            "{e}"
        );
    }

    #[test]
    fn a_file_missing_from_the_checksums_is_an_error() {
        let dir = temp_dir("sums-unlisted");
        let (images, _) = write_test_split(&dir, 2, true);
        let sums = format!("{}  t10k-images-idx3-ubyte.gz\n", sha256(&images));
        std::fs::write(dir.join("SHA256SUMS"), sums).unwrap();
        let e = Mnist::load(&dir, Split::Test).unwrap_err().to_string();
        assert!(
            e.contains(
                "t10k-labels-idx1-ubyte.gz: not listed in SHA256SUMS, so it cannot be verified"
            ),
            "{e}"
        );
        // Two lines for one file must both match.
        let sums = format!(
            "{}  t10k-images-idx3-ubyte.gz\n{}  t10k-images-idx3-ubyte.gz\n",
            sha256(&images),
            "a".repeat(64)
        );
        std::fs::write(dir.join("SHA256SUMS"), sums).unwrap();
        let e = Mnist::load(&dir, Split::Test).unwrap_err().to_string();
        assert!(e.contains("checksum mismatch"), "{e}");
    }

    #[test]
    fn unparsable_checksum_lines_are_errors_with_their_line_number() {
        let dir = temp_dir("sums-garbage");
        let (images, labels) = write_test_split(&dir, 2, true);
        let good = format!(
            "{}  t10k-images-idx3-ubyte.gz\n\n  \n{}  t10k-labels-idx1-ubyte.gz\n",
            sha256(&images),
            sha256(&labels)
        );
        let hash = "0".repeat(64);
        for bad in [
            "garbage".to_string(),
            hash.clone(),
            format!("{hash}  "),
            format!("{hash}0  t10k-images-idx3-ubyte.gz"),
            format!("{}  t10k-images-idx3-ubyte.gz", &hash[1..]),
            format!("{}g  t10k-images-idx3-ubyte.gz", &hash[1..]),
            format!("{hash}t10k-images-idx3-ubyte.gz"),
            format!("SHA256 (t10k-images-idx3-ubyte.gz) = {hash}"),
            "x".repeat(10_000),
        ] {
            std::fs::write(dir.join("SHA256SUMS"), format!("{good}{bad}\n")).unwrap();
            let e = Mnist::load(&dir, Split::Test).unwrap_err().to_string();
            assert!(e.contains("SHA256SUMS: line 5: expected"), "{bad:?}: {e}");
            assert!(!e.contains('\n') && e.len() < 300, "{e}");
        }
        // Blank lines, CRLF line ends and trailing spaces are fine.
        std::fs::write(dir.join("SHA256SUMS"), good.replace('\n', " \r\n")).unwrap();
        assert_eq!(Mnist::load(&dir, Split::Test).unwrap().len(), 2);
    }

    #[test]
    fn checksum_lines_parse_like_sha256sum_writes_them() {
        let hash = "aB".repeat(32);
        let expected = Some(("ab".repeat(32), "f.gz".to_string()));
        for line in [
            format!("{hash}  f.gz"),
            format!("{hash} *f.gz"),
            format!("{hash}  ./f.gz"),
            format!("{hash} *./f.gz"),
            format!("{hash}\tf.gz"),
        ] {
            assert_eq!(parse_checksum_line(&line), expected, "{line:?}");
        }
        assert_eq!(parse_checksum_line(&format!("{hash} *")), None);
        assert_eq!(parse_checksum_line(&format!("{hash}  ./")), None);
        // Not a character boundary at byte 64: rejected, not a panic.
        assert_eq!(parse_checksum_line(&format!("a{}", "é".repeat(40))), None);
    }

    #[test]
    fn empty_mnist_dir_counts_as_unset() {
        assert_eq!(default_dir_from(Some("".into())), default_dir_from(None));
        assert_ne!(default_dir_from(None), PathBuf::new());
        assert_eq!(
            default_dir_from(Some("/data/mnist".into())),
            PathBuf::from("/data/mnist")
        );
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
