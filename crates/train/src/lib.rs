//! Training, resuming and inspecting the study's MNIST autoencoders; the `train` binary's library.

pub mod artifacts;
pub mod backend;
pub mod compare;
pub mod config;
pub mod inference;
pub mod interrupt;
pub mod loader;
pub mod renderer;
pub mod training;
pub mod visualize;

/// Runs a command-line program: parses `C`, runs `run`, and turns every failure (bad arguments,
/// errors, panics) into one line on stderr and a non-zero exit code.
pub fn run_cli<C: clap::Parser>(run: impl FnOnce(C) -> anyhow::Result<()>) -> std::process::ExitCode {
    install_panic_hook();
    let cli = match C::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            // clap adds a usage block; keep its one-line message.
            let message = e.to_string();
            eprintln!("{}", message.lines().next().unwrap_or("error: invalid arguments"));
            return std::process::ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Replaces Rust's panic message and backtrace with one line, so that an unexpected failure
/// inside a dependency still reads as an error rather than a crash dump.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let message = message.lines().next().unwrap_or_default();
        let at = info.location().map(|l| format!(" ({}:{})", l.file(), l.line())).unwrap_or_default();
        eprintln!("error: internal failure: {message}{at}");
    }));
}
