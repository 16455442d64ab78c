//! One writer per run directory: an exclusive lock on `<run>/.lock`, whose file records who holds
//! it (`pid … on <host>, started <UTC time>`) for as long as a process writes the run.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub use crate::layout::LOCK_FILE;

/// An exclusive lock on a run directory, released when dropped (and by the OS when the process
/// dies, however it dies).
#[derive(Debug)]
pub struct RunLock {
    file: File,
    path: PathBuf,
    dir: PathBuf,
    created_dir: bool,
    /// The record of a process that died holding the lock, which was taken over.
    pub took_over: Option<String>,
}

impl RunLock {
    /// Creates `dir` if needed and locks it, or says which process holds it. A lock file left
    /// by a process of this machine that died is taken over (its record in
    /// [`RunLock::took_over`]); one left by a process of another machine (a shared file system),
    /// which cannot be asked whether it still runs, only when `break_foreign`.
    pub fn acquire(dir: &Path) -> Result<Self> {
        Self::acquire_as(dir, false)
    }

    /// [`acquire`](Self::acquire), taking over another machine's lock when `break_foreign`.
    pub fn acquire_as(dir: &Path, break_foreign: bool) -> Result<Self> {
        let file_error = |path: &Path, what: &str, e: std::io::Error| Error::File {
            path: path.to_path_buf(),
            what: format!("{what} ({e})"),
        };
        let created_dir = !dir.exists();
        std::fs::create_dir_all(dir)
            .map_err(|e| file_error(dir, "cannot create the artifacts directory", e))?;
        let path = dir.join(LOCK_FILE);
        if let Some(meta) = std::fs::symlink_metadata(&path)
            .ok()
            .filter(|m| !m.file_type().is_file())
        {
            // A link is never followed: the lock's record would be written into its target.
            let kind = if meta.file_type().is_symlink() {
                "a link"
            } else {
                "not a regular file"
            };
            return Err(Error::File {
                path,
                what: format!("the lock file is {kind}; remove it if no process writes this run"),
            });
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| file_error(&path, "cannot open the lock file", e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::Busy {
                    dir: dir.to_path_buf(),
                    holder: read_holder(&mut file).unwrap_or_else(|| "another process".into()),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(file_error(&path, "cannot lock", e));
            }
        }
        let took_over = read_holder(&mut file);
        let here = this_host();
        if let Some(holder) = took_over.as_ref().filter(|_| !break_foreign) {
            // The file lock is free, but a file lock may not reach across machines (a shared
            // file system mounted without it): another machine's record is trusted.
            if let Some(host) = host_of(holder).filter(|host| *host != here) {
                return Err(Error::LockedElsewhere {
                    dir: dir.to_path_buf(),
                    holder: holder.clone(),
                    host: host.to_string(),
                    here,
                });
            }
        }
        let record = format!(
            "pid {} on {here}, started {}",
            std::process::id(),
            utc(time::OffsetDateTime::now_utc())
        );
        file.set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| file.write_all(record.as_bytes()))
            .and_then(|_| file.sync_all())
            .map_err(|e| file_error(&path, "cannot write", e))?;
        Ok(Self {
            file,
            path,
            dir: dir.to_path_buf(),
            created_dir,
            took_over,
        })
    }
}

/// This machine's name, as lock records give it.
fn this_host() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// The machine of a lock record (`pid 12 on node3, started …`).
fn host_of(record: &str) -> Option<&str> {
    let rest = record.split_once(" on ")?.1;
    Some(rest.split_once(", started ").map_or(rest, |(host, _)| host))
}

/// A time as `2026-11-29 08:58:22 UTC`.
fn utc(time: time::OffsetDateTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time.format(format)
        .unwrap_or_else(|_| "an unknown time".into())
}

/// Who is writing run `dir` now: its lock record (`pid … on …, started …`) while that process
/// lives; no one for a cleanly released lock (empty record) or one left by a process that died.
/// Read without locking, so that a reader never makes a starting writer's `try_lock` fail.
pub fn active_writer(dir: &Path) -> Option<Writer> {
    let record = std::fs::read_to_string(dir.join(LOCK_FILE)).ok()?;
    let record = record.trim();
    let pid = record
        .strip_prefix("pid ")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let since = record.split_once(", started ").map(|(_, t)| t.to_string());
    process_alive(pid).then(|| Writer {
        record: record.to_string(),
        since,
    })
}

/// The process that writes a run, from its lock record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writer {
    /// The whole record: `pid … on <host>, started <time>`.
    pub record: String,
    /// When it started, as recorded.
    pub since: Option<String>,
}

/// Whether process `pid` exists (signal 0 checks without sending anything).
pub fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 sends nothing; it only checks that the process exists.
    let result = unsafe { libc::kill(pid, 0) };
    // EPERM: it exists, owned by someone else.
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// The lock record in `file`, if it holds one this program wrote (`pid N on HOST, started …`,
/// one line of printable text); anything else (empty, a released lock, garbage) is no record.
fn read_holder(file: &mut File) -> Option<String> {
    let mut bytes = Vec::new();
    file.rewind().ok()?;
    file.take(1024).read_to_end(&mut bytes).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let text = text.trim();
    let pid = text.strip_prefix("pid ")?.split_once(" on ")?.0;
    let well_formed = pid.parse::<u32>().is_ok()
        && text.contains(", started ")
        && !text.chars().any(char::is_control);
    well_formed.then(|| text.to_string())
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // An empty record means "released cleanly"; the OS drops the lock with the file.
        self.file.set_len(0).ok();
        // A directory this process created and wrote nothing else into (a failed start) goes.
        if self.created_dir {
            let only_lock = std::fs::read_dir(&self.dir)
                .map(|entries| {
                    entries
                        .flatten()
                        .all(|e| e.file_name() == std::ffi::OsStr::new(LOCK_FILE))
                })
                .unwrap_or(false);
            if only_lock {
                std::fs::remove_file(&self.path).ok();
                std::fs::remove_dir(&self.dir).ok();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_times_read_as_dates() {
        let at = |s| utc(time::OffsetDateTime::from_unix_timestamp(s).unwrap());
        assert_eq!(at(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(at(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(at(1_795_943_502), "2026-11-29 09:11:42 UTC");
    }

    #[test]
    fn the_active_writer_is_a_live_lock_holder() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        assert_eq!(active_writer(dir), None, "no lock file");
        {
            let _lock = RunLock::acquire(dir).unwrap();
            let writer = active_writer(dir).expect("this process holds the lock");
            assert!(
                writer
                    .record
                    .starts_with(&format!("pid {} on ", std::process::id()))
            );
            assert!(writer.since.unwrap().ends_with(" UTC"));
        }
        assert_eq!(active_writer(dir), None, "released cleanly");
        // A record left by a process that is gone (no pid is that large).
        std::fs::write(
            dir.join(LOCK_FILE),
            "pid 2147483646 on vm, started 2026-01-01",
        )
        .unwrap();
        assert_eq!(active_writer(dir), None);
        assert!(process_alive(std::process::id()));
    }

    #[test]
    fn another_machines_lock_is_taken_over_only_when_asked() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("run");
        std::fs::create_dir(&dir).unwrap();
        let record = "pid 4242 on node-17, started 2026-12-01 10:00:00 UTC";
        std::fs::write(dir.join(LOCK_FILE), record).unwrap();
        let e = RunLock::acquire(&dir).unwrap_err().to_string();
        assert!(
            e.contains("pid 4242 on node-17") && e.contains("another machine"),
            "{e}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join(LOCK_FILE)).unwrap(),
            record
        );
        let lock = RunLock::acquire_as(&dir, true).unwrap();
        assert_eq!(lock.took_over.as_deref(), Some(record));
        drop(lock);
        // This machine's dead process: taken over without asking.
        let mine = format!("pid 2147483646 on {}, started 2026-01-01", this_host());
        std::fs::write(dir.join(LOCK_FILE), &mine).unwrap();
        assert_eq!(RunLock::acquire(&dir).unwrap().took_over, Some(mine));
        assert_eq!(host_of("pid 1 on a.b, started x"), Some("a.b"));
    }

    #[test]
    fn a_second_lock_is_refused_and_a_failed_start_leaves_no_directory() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("run");
        let lock = RunLock::acquire(&dir).unwrap();
        let e = RunLock::acquire(&dir).unwrap_err().to_string();
        assert!(
            e.contains("is in use by pid ") && e.contains(&std::process::id().to_string()),
            "{e}"
        );
        drop(lock);
        assert!(!dir.exists(), "the empty run directory should go");

        // A directory with run files stays, and its lock is free again.
        let lock = RunLock::acquire(&dir).unwrap();
        std::fs::write(dir.join("config.json"), "{}").unwrap();
        drop(lock);
        assert!(dir.join("config.json").exists());
        drop(RunLock::acquire(&dir).unwrap());
        assert_eq!(std::fs::read(dir.join(LOCK_FILE)).unwrap(), b"");
    }
}
