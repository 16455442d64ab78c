//! Training, resuming and inspecting the study's MNIST autoencoders; the `train` binary's library.

pub mod adam;
pub mod artifacts;
pub mod backend;
pub mod codes;
pub mod compare;
pub mod config;
pub mod cpu;
pub mod inference;
pub mod interrupt;
pub mod loader;
pub mod logs;
pub mod output;
pub mod progress;
pub mod renderer;
pub mod report;
pub mod run;
pub mod serve;
pub mod training;
pub mod visualize;

/// Runs a command-line program: parses `C`, runs `run`, and turns every failure (bad arguments,
/// errors, panics) into one line on stderr and an exit code: 2 for a usage error (clap's, or a
/// `clap::Error` that `run` returns), 128 + the signal for a command stopped by Ctrl-C, SIGTERM or
/// SIGHUP, `exit_code`'s for errors it knows, 1 otherwise.
pub fn run_cli<C: clap::Parser + Send>(
    run: impl FnOnce(C) -> anyhow::Result<()> + Send,
    exit_code: impl Fn(&anyhow::Error) -> Option<u8>,
) -> std::process::ExitCode {
    install_panic_hook();
    quiet_mesa_runtime_dir();
    cpu::configure_float_mode();
    let cli = match C::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            err!("{}", one_line_usage_error(&e.to_string()));
            return std::process::ExitCode::from(2);
        }
    };
    let Err(e) = cpu::on_thread_pool(|| run(cli)) else {
        return std::process::ExitCode::SUCCESS;
    };
    if let Some(usage) = e.downcast_ref::<clap::Error>() {
        err!("{}", one_line_usage_error(&usage.to_string()));
        return std::process::ExitCode::from(2);
    }
    if let Some(stop) = e.downcast_ref::<interrupt::Interrupted>() {
        // A server stopped as asked: not an error, but the signal's exit code.
        out!("{stop}");
        return std::process::ExitCode::from((128 + stop.signal).clamp(0, 255) as u8);
    }
    err!("error: {e:#}");
    let code = exit_code(&e)
        .or_else(|| e.downcast_ref::<training::Stopped>().map(|s| s.exit_code()))
        .unwrap_or(1);
    std::process::ExitCode::from(code)
}

/// clap's error message on one line: its message and details, without the usage block.
fn one_line_usage_error(text: &str) -> String {
    let mut parts = Vec::new();
    let mut in_usage = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            in_usage = false;
        } else if line.starts_with("Usage:") {
            in_usage = true;
        } else if line.starts_with("For more information") {
            parts.push("(see --help)");
        } else if !in_usage {
            parts.push(line);
        }
    }
    if parts.is_empty() {
        "error: invalid arguments (see --help)".into()
    } else {
        parts.join(" ")
    }
}

/// Mesa's Vulkan and GL drivers print "XDG_RUNTIME_DIR is invalid or not set" at every device
/// start on machines without a login session (CI, containers); give them a private one.
fn quiet_mesa_runtime_dir() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some() {
        return;
    }
    let user = std::env::var("USER").unwrap_or_else(|_| "user".into());
    let dir = std::env::temp_dir().join(format!("burn-autoencoder-runtime-{user}"));
    #[cfg(unix)]
    let created = {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .mode(0o700)
            .recursive(true)
            .create(&dir)
    };
    #[cfg(not(unix))]
    let created = std::fs::create_dir_all(&dir);
    if created.is_ok() {
        // SAFETY: called at the start of `main`, before any other thread exists.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
    }
}

/// Replaces Rust's panic message and backtrace with one line and exits, so that an unexpected
/// failure inside a dependency reads as an error rather than a crash dump or a hang.
pub(crate) fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let message = message.lines().next().unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" ({}:{})", l.file(), l.line()))
            .unwrap_or_default();
        err!("error: internal failure: {message}{at}");
        // A panic on a backend's device thread would leave the training thread waiting for an
        // answer forever: end the process instead of hanging.
        std::process::exit(101);
    }));
}

#[cfg(test)]
mod tests {
    #[test]
    fn usage_errors_keep_their_details_on_one_line() {
        let clap = "error: the following required arguments were not provided:\n  --case <N>\n\nUsage: train compare --case <N> --backends <BACKENDS>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            super::one_line_usage_error(clap),
            "error: the following required arguments were not provided: --case <N> (see --help)"
        );
    }
}
