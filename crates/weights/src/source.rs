//! The file a model is imported from, opened once: a regular file only (a FIFO, a device or a
//! socket is refused before anything is read from it), no larger than the largest model could
//! make it, mapped into memory rather than read into it, and hashed.

use std::fs::File;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use memmap2::Mmap;
use model::{INPUT_SIZE, MAX_HIDDEN};

use crate::weights_error::WeightsError;

/// The most values the largest model holds: its two weight matrices and two biases.
pub const MAX_MODEL_VALUES: usize = 2 * MAX_HIDDEN * INPUT_SIZE + MAX_HIDDEN + INPUT_SIZE;

/// The largest file read: the largest model four times over in float64 (its weights, Adam's two
/// moments and an averaged copy, as a training checkpoint holds them), and 1 MiB of headers.
pub const MAX_FILE_BYTES: u64 = 4 * 8 * MAX_MODEL_VALUES as u64 + (1 << 20);

/// A model file, mapped read-only.
pub struct Source {
    /// The file's bytes (the page cache's, not a copy).
    pub bytes: Mmap,
    /// Their SHA-256.
    pub sha256: String,
}

/// Opens `path` (following links) without blocking, refuses anything but a regular file of a
/// plausible size, and maps it.
pub fn open(path: &Path) -> Result<Source, WeightsError> {
    let cannot = |e: std::io::Error| WeightsError::Unreadable {
        what: format!("cannot read ({e})"),
    };
    // Asked before opening: a socket cannot be opened, a FIFO would wait for a writer.
    let kind = std::fs::metadata(path).map_err(cannot)?.file_type();
    if !kind.is_file() {
        return Err(WeightsError::NotRegular {
            kind: kind_of(&kind),
        });
    }
    // O_NONBLOCK: should the path become a FIFO meanwhile, opening it does not wait.
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(cannot)?;
    let metadata = file.metadata().map_err(cannot)?;
    if !metadata.is_file() {
        return Err(WeightsError::NotRegular {
            kind: kind_of(&metadata.file_type()),
        });
    }
    let size = metadata.len();
    if size == 0 {
        return Err(WeightsError::Unreadable {
            what: "an empty file".into(),
        });
    }
    if size > MAX_FILE_BYTES {
        return Err(WeightsError::TooLarge {
            bytes: size,
            limit: MAX_FILE_BYTES,
        });
    }
    // SAFETY: the mapping is read-only and private to this process; a file truncated by another
    // process while it is read would be the same hazard for any reader of a shared file.
    let bytes = unsafe { Mmap::map(&file) }.map_err(cannot)?;
    let sha256 = trainer::checkpoint::sha256_hex(&bytes);
    Ok(Source { bytes, sha256 })
}

/// What a file that is not a regular file is, in a user's words.
fn kind_of(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_of_a_plausible_size_are_opened() {
        let dir = tempfile::tempdir().unwrap();
        let refused = |path: &Path| open(path).err().unwrap().to_string();
        assert!(refused(Path::new("/dev/zero")).contains("character device"));
        assert!(refused(dir.path()).contains("directory"));
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(refused(&fifo).contains("FIFO"), "{}", refused(&fifo));
        let sparse = dir.path().join("sparse.safetensors");
        File::create(&sparse).unwrap().set_len(8 << 30).unwrap();
        assert!(
            refused(&sparse).contains("larger than"),
            "{}",
            refused(&sparse)
        );
        let empty = dir.path().join("empty.pt");
        File::create(&empty).unwrap();
        assert!(refused(&empty).contains("empty"));
        let small = dir.path().join("small.bin");
        std::fs::write(&small, b"abc").unwrap();
        let source = open(&small).unwrap();
        assert_eq!(&source.bytes[..], b"abc");
        assert_eq!(
            source.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
