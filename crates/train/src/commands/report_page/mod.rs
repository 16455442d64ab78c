//! `train report`: trains what is missing, measures every run (the library), and writes the
//! report as Markdown, as an HTML page rendered from the same Markdown, and as JSON.

mod filters;
mod highlights;
pub(crate) mod html;
pub(crate) mod markdown;
mod sections;

use study::report::{ReportOptions, build_report, report_dir};
use trainer::backend::Backend;
use trainer::files::{file_error, write_atomic};

use trainer::events::Job;

use crate::cli::ReportArgs;
use crate::jobs::{self, Flow};

/// Builds the report `args` ask for and writes its files; or, as `args.job` says, trains one of
/// its runs, writes a plan of its runs, or trains them several at once first.
pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let interrupter = trainer::training::Interrupter::new();
    let view = crate::view::View::new(args.job.jobs > 1);
    let options = ReportOptions {
        root: args.artifacts.root_or_quick(args.quick),
        data_dir: args.data.dir(),
        backend: args.backend.backend.unwrap_or(Backend::Flex),
        quick: args.quick,
        reuse: args.reuse,
        seeds: args.seeds.unwrap_or(if args.quick { 1 } else { 3 }),
        events: crate::interrupt::routed(interrupter.clone(), view),
        break_lock: args.job.break_lock,
        interrupter,
    };
    let flow = jobs::before_measuring(
        &args.job,
        command(&args, &options),
        (
            Job::Report,
            &options.root,
            report_dir(&options.root).join("logs"),
        ),
        || study::report::job_runs(&options),
        |name| study::report::train_run(&options, name),
        &options.events,
    )?;
    if let Flow::Done = flow {
        return Ok(());
    }
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
    crate::output::out!(
        "wrote {} ({} runs; also report.md, report.json and highlights.md beside it)",
        out.join("index.html").display(),
        report.cases.len()
    );
    Ok(())
}

/// This report's command as a plan's line runs it (every path absolute, the defaults spelled
/// out), without `--run`.
fn command(args: &ReportArgs, options: &ReportOptions) -> Vec<String> {
    let mut words = vec!["report".to_string()];
    if args.quick {
        words.push("--quick".into());
    }
    words.extend(["--seeds".into(), options.seeds.to_string()]);
    words.extend(["--backend".into(), options.backend.name().to_string()]);
    words.extend(["--artifacts".into(), jobs::absolute(&options.root)]);
    words.extend(["--data-dir".into(), jobs::absolute(&options.data_dir)]);
    if args.job.break_lock {
        words.push("--break-lock".into());
    }
    words
}
