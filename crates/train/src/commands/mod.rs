//! One module per command: each parses nothing (clap did), calls the library and says what it did.

pub mod compare;
pub mod report;
pub mod serve;
pub mod train;
pub mod visualize;

use crate::advice::{Way, explain};
use crate::cli::{Cli, Command};

/// Runs the command `cli` names (training, without a subcommand).
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let Some(command) = cli.command else {
        study::interrupt::install("continue with --resume");
        return train::run(cli.train).map_err(|e| explain(e, Way::Train));
    };
    match command {
        Command::Visualize(args) => visualize::run(args).map_err(|e| explain(e, Way::Visualize)),
        Command::Compare(args) => {
            study::interrupt::install("run the same command again to continue");
            compare::run(args).map_err(|e| explain(e, Way::Compare))
        }
        Command::Report(args) => {
            study::interrupt::install("run the same command again to continue");
            report::run(args).map_err(|e| explain(e, Way::Report))
        }
        Command::Serve(args) => serve::run(args),
    }
}
