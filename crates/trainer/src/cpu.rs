//! CPU set-up for training: subnormal floats flushed to zero, work run on rayon's pool.
//!
//! In the ReLU cases, dead hidden units get zero gradients, so Adam's moment estimates for their
//! weights decay geometrically into the subnormal range (below ~1.2e-38) after an epoch or two.
//! Arithmetic on subnormals takes a slow path on x86 CPUs; setting the FTZ (flush-to-zero) and
//! DAZ (denormals-are-zero) bits of MXCSR makes those values plain zeros instead. Values that
//! small have no effect on the weights (Adam divides by `√v + ε` with ε = 1e-8).

/// Environment variable that, when set to `1`, keeps IEEE subnormal arithmetic.
pub const KEEP_SUBNORMALS_ENV: &str = "BURN_AE_KEEP_SUBNORMALS";

/// Flush-to-zero (bit 15) and denormals-are-zero (bit 6) of x86's MXCSR.
#[cfg(target_arch = "x86_64")]
const FTZ_DAZ: u32 = (1 << 15) | (1 << 6);

/// Whether subnormals are flushed on this thread.
pub fn flushing_subnormals() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        read_mxcsr() & FTZ_DAZ == FTZ_DAZ
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Sets FTZ and DAZ on the calling thread (no-op on other architectures).
pub fn flush_subnormals_on_this_thread() {
    #[cfg(target_arch = "x86_64")]
    write_mxcsr(read_mxcsr() | FTZ_DAZ);
}

/// Runs `f` on a worker of rayon's global pool, creating the pool first (with the main thread's
/// 8 MiB stack) if nothing has yet. Burn's CPU backends split matrix products over this pool; called
/// from outside it, each product is handed over to the pool while the caller sleeps until it
/// returns, a few thread wake-ups per call; from a worker the work is split in place (faster for
/// small products: BENCHMARKS.md). Set up the float mode first.
pub fn on_thread_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    build_thread_pool();
    rayon::scope(|_| f())
}

/// Creates rayon's global pool with 8 MiB stacks (the main thread's), unless it exists already.
pub fn build_thread_pool() {
    // An error only means the pool exists already.
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(8 << 20)
        .build_global();
}

/// Flushes subnormals on the calling thread and on every thread of rayon's global pool (which
/// Burn's CPU backends use for matrix products and element-wise work), unless
/// [`KEEP_SUBNORMALS_ENV`] is `1`. Call it early, on the thread that trains.
pub fn configure_float_mode() {
    if std::env::var(KEEP_SUBNORMALS_ENV).is_ok_and(|v| v == "1") {
        return;
    }
    flush_subnormals_on_this_thread();
    build_thread_pool();
    // Runs on every thread of the global pool (creating it if needed); its threads live as long
    // as the process, so the mode sticks.
    rayon::broadcast(|_| flush_subnormals_on_this_thread());
}

#[cfg(target_arch = "x86_64")]
fn read_mxcsr() -> u32 {
    let mut value: u32 = 0;
    // SAFETY: stmxcsr stores the 32-bit MXCSR register into the given memory location.
    unsafe {
        std::arch::asm!("stmxcsr [{}]", in(reg) &mut value, options(nostack));
    }
    value
}

#[cfg(target_arch = "x86_64")]
fn write_mxcsr(value: u32) {
    // SAFETY: ldmxcsr loads MXCSR from memory; only the FTZ/DAZ bits differ from the current
    // value, which changes rounding of subnormal results only.
    unsafe {
        std::arch::asm!("ldmxcsr [{}]", in(reg) &value, options(nostack, readonly));
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    #[test]
    fn work_runs_on_a_pool_worker_and_returns_its_value() {
        assert_eq!(rayon::current_thread_index(), None);
        let (index, value) = on_thread_pool(|| (rayon::current_thread_index(), 42));
        assert!(index.is_some(), "not on a worker of the pool");
        assert_eq!(value, 42);
    }

    #[test]
    fn subnormals_flush_to_zero_on_threads_that_ask() {
        // A fresh thread starts in IEEE mode: a subnormal product survives. Every product goes
        // through `black_box` before the mode changes: LLVM assumes the default floating-point
        // environment and may otherwise move a multiplication across the MXCSR write (it did in
        // a release build, computing `before` in flush mode).
        use std::hint::black_box;
        let result = std::thread::spawn(|| {
            let tiny = black_box(1e-30f32);
            let before = black_box(tiny * black_box(1e-10f32));
            assert!(!flushing_subnormals());
            flush_subnormals_on_this_thread();
            assert!(flushing_subnormals());
            let after = black_box(black_box(tiny) * black_box(1e-10f32));
            // DAZ: a subnormal input counts as zero.
            let input = black_box(black_box(before) * black_box(1.0f32));
            (before, after, input)
        })
        .join()
        .unwrap();
        assert!(
            result.0 > 0.0 && result.0 < f32::MIN_POSITIVE,
            "{}",
            result.0
        );
        assert_eq!(result.1, 0.0);
        assert_eq!(result.2, 0.0);
    }

    #[test]
    fn rayon_pool_threads_flush_after_configuration() {
        configure_float_mode();
        let flags: Vec<bool> = rayon::broadcast(|_| flushing_subnormals());
        if std::env::var(KEEP_SUBNORMALS_ENV).is_ok_and(|v| v == "1") {
            return;
        }
        assert!(flags.iter().all(|&f| f), "{flags:?}");
    }
}
