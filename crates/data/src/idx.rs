//! Reader for the IDX format used by MNIST (raw or gzip-compressed).
//!
//! Every failure is an [`DataError`] naming the file, and no header value can make the reader
//! allocate more than the file's own payload.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

/// Largest payload the reader accepts (1 GiB): a header claiming more is rejected before reading.
pub const MAX_PAYLOAD_BYTES: usize = 1 << 30;

/// An error while reading a data file, always naming the file.
#[derive(Debug)]
pub struct DataError {
    /// The file (or directory) the error is about.
    pub path: PathBuf,
    /// What went wrong, in one line.
    pub message: String,
    /// Whether the MNIST directory itself is missing (the caller may say where to point it).
    pub missing_dir: bool,
}

impl DataError {
    /// An error about `path`.
    pub fn new(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
            missing_dir: false,
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for DataError {}

/// An unsigned-byte IDX array: its dimensions and its row-major payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Size of each dimension, outermost first.
    pub dims: Vec<usize>,
    /// The payload, `dims.iter().product()` bytes.
    pub data: Vec<u8>,
}

/// Reads an IDX file of unsigned bytes (type code 0x08); gzip is detected from the content.
pub fn read_idx(path: &Path) -> Result<IdxArray, DataError> {
    let err = |msg: String| DataError::new(path, msg);
    let file = File::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
    let mut reader = BufReader::new(file);
    let mut magic = [0u8; 2];
    let peeked =
        read_up_to(&mut reader, &mut magic).map_err(|e| err(format!("cannot read: {e}")))?;
    let head = std::io::Cursor::new(magic[..peeked].to_vec()).chain(reader);
    if peeked == 2 && magic == [0x1f, 0x8b] {
        parse_idx(GzDecoder::new(head)).map_err(|m| err(format!("{m} (gzip stream)")))
    } else {
        parse_idx(head).map_err(err)
    }
}

/// Parses an IDX stream of unsigned bytes; the error is a one-line message without the path.
pub fn parse_idx(mut reader: impl Read) -> Result<IdxArray, String> {
    let io = |e: std::io::Error| format!("corrupt or unreadable data: {e}");
    let mut header = [0u8; 4];
    let got = read_up_to(&mut reader, &mut header).map_err(io)?;
    if got < 4 {
        return Err(format!(
            "not an IDX file: only {got} bytes, the header needs 4"
        ));
    }
    if header[0] != 0 || header[1] != 0 {
        return Err(format!(
            "not an IDX file: bad magic {:02x} {:02x} {:02x} {:02x}",
            header[0], header[1], header[2], header[3]
        ));
    }
    if header[2] != 0x08 {
        return Err(format!(
            "unsupported IDX element type 0x{:02x} (only unsigned bytes, 0x08)",
            header[2]
        ));
    }
    let ndims = header[3] as usize;
    if ndims == 0 {
        return Err("IDX header declares zero dimensions".into());
    }
    let mut dims_raw = vec![0u8; 4 * ndims];
    let got = read_up_to(&mut reader, &mut dims_raw).map_err(io)?;
    if got < dims_raw.len() {
        return Err(format!(
            "truncated IDX header: {ndims} dimensions need {} bytes",
            4 * ndims
        ));
    }
    let dims: Vec<usize> = dims_raw
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let len = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_PAYLOAD_BYTES)
        .ok_or_else(|| {
            format!("IDX header dimensions {dims:?} exceed the {MAX_PAYLOAD_BYTES}-byte limit")
        })?;
    // Read at most one byte more than declared: enough to tell "too long" without trusting the header.
    let mut data = Vec::with_capacity(len.min(64 << 20));
    reader
        .take(len as u64 + 1)
        .read_to_end(&mut data)
        .map_err(io)?;
    if data.len() < len {
        return Err(format!(
            "truncated payload: header {dims:?} declares {len} bytes, file has {}",
            data.len()
        ));
    }
    if data.len() > len {
        return Err(format!(
            "trailing bytes after the {len}-byte payload declared by header {dims:?}"
        ));
    }
    Ok(IdxArray { dims, data })
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn idx(dims: &[u32], payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v.extend_from_slice(payload);
        v
    }

    fn write_tmp(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("idx-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn reads_raw_and_gzip() {
        let bytes = idx(&[2, 3], &[1, 2, 3, 4, 5, 6]);
        for (name, content) in [("a.idx", bytes.clone()), ("a.idx.gz", gzip(&bytes))] {
            let arr = read_idx(&write_tmp(name, &content)).unwrap();
            assert_eq!(arr.dims, vec![2, 3]);
            assert_eq!(arr.data, vec![1, 2, 3, 4, 5, 6]);
        }
    }

    #[test]
    fn rejects_bad_magic() {
        let path = write_tmp("magic.idx", &[1, 2, 8, 1, 0, 0, 0, 1, 7]);
        let e = read_idx(&path).unwrap_err();
        assert!(e.to_string().contains("bad magic"), "{e}");
        assert!(e.to_string().contains("magic.idx"), "{e}");
    }

    #[test]
    fn rejects_wrong_type() {
        let mut bytes = idx(&[1], &[7]);
        bytes[2] = 0x0d;
        let e = parse_idx(&bytes[..]).unwrap_err();
        assert!(e.contains("element type"), "{e}");
    }

    #[test]
    fn rejects_truncated_payload() {
        let bytes = idx(&[10, 28, 28], &[0; 100]);
        let e = read_idx(&write_tmp("trunc.idx", &bytes)).unwrap_err();
        assert!(e.to_string().contains("truncated payload"), "{e}");
        let e = read_idx(&write_tmp("trunc.idx.gz", &gzip(&bytes))).unwrap_err();
        assert!(e.to_string().contains("truncated payload"), "{e}");
    }

    #[test]
    fn rejects_oversized_count_without_allocating_it() {
        // 4 billion × 28 × 28 would be ~3 TB: rejected from the header alone.
        let bytes = idx(&[u32::MAX, 28, 28], &[0; 16]);
        let e = parse_idx(&bytes[..]).unwrap_err();
        assert!(e.contains("exceed"), "{e}");
        // A count larger than the file but under the limit is a truncation.
        let bytes = idx(&[60_000, 28, 28], &[0; 784]);
        assert!(parse_idx(&bytes[..]).unwrap_err().contains("truncated"));
    }

    #[test]
    fn rejects_trailing_bytes_and_short_header() {
        assert!(
            parse_idx(&idx(&[2], &[1, 2, 3])[..])
                .unwrap_err()
                .contains("trailing")
        );
        assert!(parse_idx(&[0u8, 0][..]).unwrap_err().contains("header"));
        assert!(
            parse_idx(&[0u8, 0, 8, 3, 0, 0][..])
                .unwrap_err()
                .contains("truncated IDX header")
        );
    }

    #[test]
    fn rejects_corrupt_gzip() {
        let mut gz = gzip(&idx(&[4, 4], &[9; 16]));
        let n = gz.len();
        gz[n / 2] ^= 0xff;
        gz[n - 6] ^= 0xff; // the CRC too, so corruption cannot go unnoticed
        let e = read_idx(&write_tmp("corrupt.gz", &gz)).unwrap_err();
        assert!(e.to_string().contains("corrupt.gz"), "{e}");
    }

    #[test]
    fn missing_file_names_the_path() {
        let e = read_idx(Path::new("/nonexistent/train.gz")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/nonexistent/train.gz: cannot open"),
            "{e}"
        );
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn valid(dims: &[u32]) -> Vec<u8> {
        let mut v = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            v.extend_from_slice(&d.to_be_bytes());
        }
        let len: u32 = dims.iter().product();
        v.extend((0..len).map(|i| i as u8));
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Arbitrary bytes never panic, and never make the reader hold more than the input.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(arr) = parse_idx(&bytes[..]) {
                prop_assert!(arr.data.len() <= bytes.len());
                prop_assert_eq!(arr.data.len(), arr.dims.iter().product::<usize>());
            }
        }

        /// A valid file with one byte changed or cut short is either read consistently or rejected.
        #[test]
        fn mutated_files_are_read_or_rejected(
            dims in proptest::collection::vec(1u32..6, 1..4),
            position in any::<prop::sample::Index>(),
            value in any::<u8>(),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut bytes = valid(&dims);
            let i = position.index(bytes.len());
            bytes[i] = value;
            let keep = cut.index(bytes.len() + 1);
            for input in [&bytes[..], &bytes[..keep]] {
                if let Ok(arr) = parse_idx(input) {
                    prop_assert_eq!(arr.data.len(), arr.dims.iter().product::<usize>());
                    prop_assert!(arr.data.len() <= input.len());
                }
            }
        }

        /// Header dimensions as large as u32 allows are refused without allocating them.
        #[test]
        fn huge_headers_are_refused(dims in proptest::collection::vec(any::<u32>(), 1..5)) {
            let mut bytes = vec![0, 0, 8, dims.len() as u8];
            for d in &dims {
                bytes.extend_from_slice(&d.to_be_bytes());
            }
            bytes.extend_from_slice(&[0; 64]);
            let declared = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d as usize));
            let result = parse_idx(&bytes[..]);
            if declared.is_none_or(|n| n > 64) {
                prop_assert!(result.is_err());
            }
        }
    }
}
