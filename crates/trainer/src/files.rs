//! Writing a run's files so that a crash, a kill or a full disk leaves the old file or the new
//! one, never a torn one; and asking for room before a run.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Writes `bytes` to `path` through a temporary file beside it and a rename (`tempfile`'s
/// `persist`), so a crash or a kill leaves either the old file or the new one, never a truncated
/// one; the file and the rename are flushed to disk.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let file = written_beside(path, bytes)?;
    file.persist(path).map_err(|e| e.error)?;
    sync_directory_of(path);
    Ok(())
}

/// [`write_atomic`] for a file that must not exist: if one appeared at `path` meanwhile (another
/// process writing the same file), nothing is replaced and the error is `AlreadyExists`.
pub fn write_atomic_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let file = written_beside(path, bytes)?;
    file.persist_noclobber(path).map_err(|e| e.error)?;
    sync_directory_of(path);
    Ok(())
}

/// `bytes` in a temporary file beside `path`, flushed to disk, with the permissions of the file
/// it replaces (or those a new file gets: 0666 less the umask).
fn written_beside(path: &Path, bytes: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).map_or(0o666, |m| m.permissions().mode() & 0o7777);
    let mut file = tempfile::Builder::new()
        .prefix(".tmp-")
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(directory_of(path))?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    Ok(file)
}

fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Makes a rename in `path`'s directory durable; not every file system supports it.
fn sync_directory_of(path: &Path) {
    std::fs::File::open(directory_of(path))
        .and_then(|d| d.sync_all())
        .ok();
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
    fn a_new_file_is_never_written_over_one_that_appeared() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        write_atomic_new(&path, b"first").unwrap();
        let e = write_atomic_new(&path, b"second").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        // A replaced file keeps its permissions.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, b"third").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
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
