//! Writing a run's files so that a crash, a kill or a full disk leaves the old file or the new
//! one, never a torn one; and asking for room before a run.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Writes `bytes` to `path` through a temporary file beside it and a rename (`tempfile`'s
/// `persist`), so a crash or a kill leaves either the old file or the new one, never a truncated
/// one; the file and the rename are flushed to disk.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    // Make the rename itself durable; not every file system supports it.
    std::fs::File::open(dir).and_then(|d| d.sync_all()).ok();
    Ok(())
}

/// Writes `image` to `path` as PNG (atomically).
pub fn write_png(path: &Path, image: &figures::image::DynamicImage) -> Result<()> {
    let bytes = figures::encode_png(image).map_err(|e| Error::Figure(e.to_string()))?;
    write_atomic(path, &bytes).map_err(|e| file_error(path, e))
}

/// `error` from writing `path`, as a user reads it: the file, and "disk full" when it is.
pub fn file_error(path: &Path, error: std::io::Error) -> Error {
    Error::File {
        path: path.to_path_buf(),
        what: describe_write_error(&error),
    }
}

/// "disk full (…)" or "cannot write (…)".
pub fn describe_write_error(error: &std::io::Error) -> String {
    let full = error.kind() == std::io::ErrorKind::StorageFull
        || error.kind() == std::io::ErrorKind::QuotaExceeded
        || error.raw_os_error() == Some(libc::ENOSPC);
    let what = if full { "disk full" } else { "cannot write" };
    format!("{what} ({error})")
}

/// `error` from writing `path` as an I/O error whose message names the file (for Burn's
/// checkpointer, which passes I/O errors on).
pub fn io_error_at(path: &Path, error: std::io::Error) -> std::io::Error {
    let what = describe_write_error(&error);
    std::io::Error::new(error.kind(), format!("{}: {what}", path.display()))
}

/// Checks, before any training, that the file system holding `dir` (which exists) has room for
/// `reserve` bytes, by asking it (statvfs): nothing is written.
pub fn check_free_space(dir: &Path, reserve: u64) -> Result<()> {
    let available = fs4::available_space(dir).map_err(|e| Error::File {
        path: dir.to_path_buf(),
        what: format!("cannot read the free space ({e})"),
    })?;
    if available < reserve {
        return Err(Error::NoSpace {
            dir: dir.to_path_buf(),
            needed_mb: reserve.div_ceil(1 << 20),
            free_mb: available >> 20,
        });
    }
    Ok(())
}

/// Removes `path`, a file or a directory; an absent one is fine.
pub fn remove(path: &Path) -> Result<()> {
    let removed = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    match removed {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::File {
            path: path.to_path_buf(),
            what: format!("cannot remove ({e})"),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new contents").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new contents");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_full_disk_is_named() {
        let full = std::io::Error::from_raw_os_error(libc::ENOSPC);
        assert!(describe_write_error(&full).starts_with("disk full"));
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert!(describe_write_error(&denied).starts_with("cannot write"));
    }
}
