//! One module per command: each parses nothing (clap did), calls the library and says what it did.

mod chosen;
pub mod compare;
pub mod export;
pub mod import;
pub mod report;
pub mod serve;
pub mod sweep;
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
        Command::Sweep(args) => {
            study::interrupt::install("run the same command again to continue");
            sweep::run(args).map_err(|e| explain(e, Way::Sweep))
        }
        Command::Serve(args) => serve::run(args),
        Command::Export(args) => {
            study::interrupt::install("run the same command again");
            export::run(args).map_err(|e| explain(e, Way::Visualize))
        }
        Command::Import(args) => {
            study::interrupt::install("nothing was imported; run the same command again");
            import::run(args).map_err(|e| explain(e, Way::Import))
        }
    }
}
