//! `train report`: trains what is missing, measures every run (the library), and writes the
//! report as Markdown, as an HTML page rendered from the same Markdown, and as JSON.

mod filters;
mod highlights;
pub(crate) mod html;
pub(crate) mod markdown;
mod sections;

use study::backend::Backend;
use study::files::{file_error, write_atomic};
use study::report::{ReportOptions, build_report, report_dir};

use crate::cli::ReportArgs;

/// Builds the report `args` ask for and writes its three files.
pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let options = ReportOptions {
        root: args.artifacts.root_or_quick(args.quick),
        data_dir: args.data.dir(),
        backend: args.backend.backend.unwrap_or(Backend::Flex),
        quick: args.quick,
        reuse: args.reuse,
        seeds: args.seeds.unwrap_or(if args.quick { 1 } else { 3 }),
    };
    let report = build_report(&options)?;
    let out = report_dir(&options.root);
    let md = sections::markdown(&report);
    let files = [
        ("report.json", serde_json::to_string_pretty(&report)?),
        ("report.md", md.clone()),
        ("highlights.md", highlights::markdown(&report)),
        ("index.html", html::render(markdown::TITLE, &md)),
    ];
    for (name, text) in &files {
        let path = out.join(name);
        write_atomic(&path, text.as_bytes()).map_err(|e| file_error(&path, e))?;
    }
    study::out!(
        "wrote {} ({} runs; also report.md, report.json and highlights.md beside it)",
        out.join("index.html").display(),
        report.cases.len()
    );
    Ok(())
}
