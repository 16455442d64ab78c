//! Ctrl-C (SIGINT), SIGTERM and SIGHUP: while a run trains, the first stops its learner cleanly
//! after the current step (through the run's interrupter, which the program passes to the
//! library), keeping the checkpoints written so far; otherwise, or a second time, the process
//! quits at once. Either way it exits with the shell's code for the signal (130, 143, 129). The
//! library installs no handler: the program does, here, and learns when a run trains from the
//! library's events.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, Once};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use trainer::events::{Event, Events, Sink};
use trainer::training::Interrupter;

static ACTIVE: Mutex<Option<Interrupter>> = Mutex::new(None);
/// Process groups that a stop which ends this process at once passes on to (runs training in
/// processes of their own).
static CHILDREN: Mutex<Vec<u32>> = Mutex::new(Vec::new());
/// Whether a stop is deferred (see [`deferred`]), and the signal that came meanwhile.
static DEFERRED: Mutex<(bool, Option<i32>)> = Mutex::new((false, None));
static INSTALL: Once = Once::new();
static RECEIVED: AtomicI32 = AtomicI32::new(0);

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
        SIGHUP => "SIGHUP (its terminal closed)",
        _ => "a signal",
    }
}

/// The signals that stop a command cleanly.
pub const STOP_SIGNALS: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];

/// What the user is told to do after a signal that came while no training ran (the caller's
/// way to continue: `continue with --resume`, `run the same command again`).
static ADVICE: Mutex<&'static str> = Mutex::new("run the same command again");

/// Handles SIGINT, SIGTERM and SIGHUP from now on: while a training runs (see
/// [`stop_on_signal`]) the first stops it after the current step; otherwise, or a second time,
/// the process ends at once with `128 + signal`, after saying `advice` (what was saved stays).
pub fn install(advice: &'static str) {
    *ADVICE.lock().unwrap() = advice;
    INSTALL.call_once(|| match Signals::new(STOP_SIGNALS) {
        Ok(mut signals) => {
            std::thread::spawn(move || {
                for signal in signals.forever() {
                    {
                        let mut deferred = DEFERRED.lock().unwrap();
                        if deferred.0 {
                            deferred.1.get_or_insert(signal);
                            continue;
                        }
                    }
                    let active = ACTIVE.lock().unwrap().clone();
                    match active {
                        Some(interrupter) if !interrupter.should_stop() => {
                            RECEIVED.store(signal, Ordering::SeqCst);
                            crate::output::err!(
                                "\ninterrupted: stopping after the current step (again to quit at once)"
                            );
                            interrupter.stop(Some(describe(signal)));
                        }
                        _ => quit(signal),
                    }
                }
            });
        }
        Err(e) => crate::output::err!("warning: cannot handle Ctrl-C gracefully: {e}"),
    });
}

/// Makes a stop that ends this process at once end the process group `leader` leads too.
pub fn also_stop(leader: u32) {
    CHILDREN.lock().unwrap().push(leader);
}

/// Ends the process as a stop signal asks, after saying what stays and what to do (and passing
/// the signal on to the process groups of [`also_stop`]).
fn quit(signal: i32) -> ! {
    for &leader in CHILDREN.lock().unwrap().iter() {
        // SAFETY: sends a signal to a process group this process started.
        unsafe { libc::kill(-(leader as i32), signal) };
    }
    let advice = *ADVICE.lock().unwrap();
    crate::output::err!(
        "\ninterrupted by {}; what was saved stays: {advice}",
        describe(signal)
    );
    std::process::exit(128 + signal);
}

/// Runs `work` (a few files written quickly, and what is said of them) with the stop signals
/// held back, so that a stop never leaves its files half-written; returns what `work` returned
/// and the signal that came meanwhile, which the caller answers now that the files are whole.
pub fn deferred<T>(work: impl FnOnce() -> T) -> (T, Option<i32>) {
    DEFERRED.lock().unwrap().0 = true;
    let done = work();
    let mut deferred = DEFERRED.lock().unwrap();
    deferred.0 = false;
    (done, deferred.1.take())
}

/// Routes the stop signals to `interrupter` until the returned guard is dropped (installing the
/// handler if [`install`] was not called).
pub fn stop_on_signal(interrupter: Interrupter) -> SignalGuard {
    let advice = *ADVICE.lock().unwrap();
    install(advice);
    RECEIVED.store(0, Ordering::SeqCst);
    *ACTIVE.lock().unwrap() = Some(interrupter);
    SignalGuard
}

/// A stop asked by a signal, which the caller polls (runs training in processes of their own):
/// the first signal asks, a second ends the process at once.
pub struct StopRequest {
    interrupter: Interrupter,
    _guard: SignalGuard,
}

impl StopRequest {
    /// Whether a stop was asked.
    pub fn requested(&self) -> bool {
        self.interrupter.should_stop()
    }
}

/// Routes the stop signals to a [`StopRequest`] until it is dropped.
pub fn stop_requests() -> StopRequest {
    let interrupter = Interrupter::new();
    StopRequest {
        _guard: stop_on_signal(interrupter.clone()),
        interrupter,
    }
}

/// Detaches the interrupter when training ends; a later signal then exits immediately.
pub struct SignalGuard;

impl Drop for SignalGuard {
    fn drop(&mut self) {
        *ACTIVE.lock().unwrap() = None;
    }
}

/// The events of a command whose runs stop on a signal: passed on to `view`, and while a run
/// trains (from its start to its end), the stop signals stop it through `interrupter`.
pub fn routed(interrupter: Interrupter, view: Sink) -> Sink {
    Arc::new(Routing { interrupter, view })
}

struct Routing {
    interrupter: Interrupter,
    view: Sink,
}

impl Events for Routing {
    fn event(&self, event: &Event) {
        match event {
            Event::RunStarting { .. } => {
                let advice = *ADVICE.lock().unwrap();
                install(advice);
                *ACTIVE.lock().unwrap() = Some(self.interrupter.clone());
            }
            Event::RunEnded { .. } => *ACTIVE.lock().unwrap() = None,
            _ => {}
        }
        self.view.event(event);
    }
}
