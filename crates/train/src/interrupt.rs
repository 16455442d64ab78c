//! Ctrl-C (SIGINT) and SIGTERM during training: the first stops the learner cleanly after the
//! current step, keeping the last checkpoint; a second one quits at once.

use std::sync::{Mutex, Once};

use burn::train::Interrupter;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

static ACTIVE: Mutex<Option<Interrupter>> = Mutex::new(None);
static INSTALL: Once = Once::new();

/// Routes SIGINT and SIGTERM to `interrupter` until the returned guard is dropped.
pub fn stop_on_signal(interrupter: Interrupter) -> SignalGuard {
    INSTALL.call_once(|| match Signals::new([SIGINT, SIGTERM]) {
        Ok(mut signals) => {
            std::thread::spawn(move || {
                for _ in signals.forever() {
                    let active = ACTIVE.lock().unwrap().clone();
                    match active {
                        Some(interrupter) if !interrupter.should_stop() => {
                            eprintln!("\ninterrupted: stopping after the current step; the last checkpoint is kept (again to quit now)");
                            interrupter.stop(Some("interrupted by a signal"));
                        }
                        _ => {
                            eprintln!("\ninterrupted");
                            std::process::exit(130);
                        }
                    }
                }
            });
        }
        Err(e) => eprintln!("warning: cannot handle Ctrl-C gracefully: {e}"),
    });
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
