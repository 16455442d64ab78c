//! Ctrl-C (SIGINT) and SIGTERM during training: the first stops the learner cleanly after the
//! current step, keeping the checkpoints written so far; a second one quits at once. Either way
//! the process exits with the shell's code for the signal (130, 143).

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, Once};

use burn::train::Interrupter;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

static ACTIVE: Mutex<Option<Interrupter>> = Mutex::new(None);
static INSTALL: Once = Once::new();
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// Training stopped by a signal; the exit code is `128 + signal`.
#[derive(Debug)]
pub struct Interrupted {
    /// The signal number (2 for SIGINT, 15 for SIGTERM).
    pub signal: i32,
    /// What happened and what is kept, for the user.
    pub message: String,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Interrupted {}

impl Interrupted {
    /// The process exit code for this signal, as shells report it.
    pub fn exit_code(&self) -> u8 {
        (128 + self.signal).clamp(0, 255) as u8
    }
}

/// The signal that stopped the current training, if one did.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// The user's name for a signal.
pub fn describe(signal: i32) -> &'static str {
    match signal {
        SIGINT => "Ctrl-C (SIGINT)",
        SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

/// Routes SIGINT and SIGTERM to `interrupter` until the returned guard is dropped.
pub fn stop_on_signal(interrupter: Interrupter) -> SignalGuard {
    INSTALL.call_once(|| match Signals::new([SIGINT, SIGTERM]) {
        Ok(mut signals) => {
            std::thread::spawn(move || {
                for signal in signals.forever() {
                    let active = ACTIVE.lock().unwrap().clone();
                    match active {
                        Some(interrupter) if !interrupter.should_stop() => {
                            RECEIVED.store(signal, Ordering::SeqCst);
                            crate::err!(
                                "\ninterrupted: stopping after the current step (again to quit at once)"
                            );
                            interrupter.stop(Some(describe(signal)));
                        }
                        _ => {
                            crate::err!("\ninterrupted");
                            std::process::exit(128 + signal);
                        }
                    }
                }
            });
        }
        Err(e) => crate::err!("warning: cannot handle Ctrl-C gracefully: {e}"),
    });
    RECEIVED.store(0, Ordering::SeqCst);
    *ACTIVE.lock().unwrap() = Some(interrupter);
    SignalGuard
}

/// Detaches the interrupter when training ends; a later signal then exits immediately.
pub struct SignalGuard;

impl Drop for SignalGuard {
    fn drop(&mut self) {
        *ACTIVE.lock().unwrap() = None;
    }
}
