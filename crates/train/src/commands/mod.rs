//! One module per command: each parses nothing (clap did), calls the library and says what it did.

mod chosen;
pub mod compare;
pub mod export;
pub mod import;
pub mod report_page;
pub mod serve;
pub mod sweep_page;
pub mod train;
pub mod visualize;

use crate::advice::{Way, explain};
use crate::cli::{Cli, Command};

/// Runs the command `cli` names (training, without a subcommand).
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let Some(command) = cli.command else {
        crate::interrupt::install("continue with --resume");
        return train::run(cli.train).map_err(|e| explain(e, Way::Train));
    };
    match command {
        Command::Visualize(args) => visualize::run(args).map_err(|e| explain(e, Way::Visualize)),
        Command::Compare(args) => {
            crate::interrupt::install("run the same command again to continue");
            compare::run(args).map_err(|e| explain(e, Way::Compare))
        }
        Command::Report(args) => {
            crate::interrupt::install("run the same command again to continue");
            report_page::run(args).map_err(|e| explain(e, Way::Report))
        }
        Command::Sweep(args) => {
            crate::interrupt::install("run the same command again to continue");
            sweep_page::run(args).map_err(|e| explain(e, Way::Sweep))
        }
        Command::Serve(args) => serve::run(args),
        Command::Export(args) => {
            crate::interrupt::install("run the same command again");
            export::run(args).map_err(|e| explain(e, Way::Visualize))
        }
        Command::Import(args) => {
            crate::interrupt::install("nothing was imported; run the same command again");
            import::run(args).map_err(|e| explain(e, Way::Import))
        }
    }
}
