//! Lines for the user that survive a closed pipe.
//!
//! `train --case 7 | head -1` closes stdout after one line. Rust's `println!` would then panic
//! and lose the run before its first checkpoint; here the later lines are dropped instead
//! and the work goes on to the end, writing every checkpoint and the final model, as it would
//! have unobserved. (Stopping instead would turn a pager or `head` into a way to kill a run.)
//! A note on stderr says so once.

use std::fmt::Arguments;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
static STDERR_GONE: AtomicBool = AtomicBool::new(false);

/// Writes one line on stdout, or nothing once stdout is closed.
pub fn out_line(args: Arguments) {
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_fmt(format_args!("{args}\n"))
        .and_then(|()| stdout.flush())
        .is_err()
    {
        STDOUT_GONE.store(true, Ordering::Relaxed);
        err_line(format_args!(
            "note: standard output was closed; progress lines are dropped, the work goes on"
        ));
    }
}

/// Writes `text` on stderr as is (no newline added), or nothing once stderr is closed.
pub fn err_text(args: Arguments) {
    if STDERR_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut stderr = std::io::stderr().lock();
    if stderr
        .write_fmt(args)
        .and_then(|()| stderr.flush())
        .is_err()
    {
        STDERR_GONE.store(true, Ordering::Relaxed);
    }
}

/// Writes one line on stderr, or nothing once stderr is closed.
pub fn err_line(args: Arguments) {
    err_text(format_args!("{args}\n"));
}

/// `println!` that survives a closed stdout (see [`output`](crate::output)).
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::out_line(format_args!($($arg)*)) };
}
pub(crate) use out;

/// `eprintln!` that survives a closed stderr.
macro_rules! err {
    ($($arg:tt)*) => { $crate::output::err_line(format_args!($($arg)*)) };
}
pub(crate) use err;
