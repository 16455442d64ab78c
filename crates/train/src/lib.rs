//! The `train` program over the study's library (`study`): the command line, one module per
//! command, the words for the library's refusals and stops, and how the program ends.

pub mod advice;
pub mod cli;
pub mod commands;
pub mod exit;
pub mod interrupt;
pub mod jobs;
pub mod output;
pub mod view;

use clap::Parser;

/// Parses the command line and runs the command; every failure ends as one line and an exit code
/// (see [`exit`]).
pub fn main() -> std::process::ExitCode {
    exit::install_panic_hook();
    exit::quiet_mesa_runtime_dir();
    trainer::cpu::configure_float_mode();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            crate::output::err!("{}", exit::one_line(&e));
            return std::process::ExitCode::from(2);
        }
    };
    // The server waits for requests as long as it runs: on a worker of rayon's pool it would hold
    // one of the threads its own matrix products and searches need (half of them on 2 cores).
    if matches!(cli.command, Some(cli::Command::Serve(_))) {
        return exit::finish(commands::run(cli));
    }
    exit::finish(trainer::cpu::on_thread_pool(|| commands::run(cli)))
}
