//! What the user sees of the library's events: on a terminal, indicatif's bars (one for the job,
//! one per running run) under the lines that stay (each epoch, each run started); elsewhere (a
//! pipe, a file, a scheduler's log) the same lines and plain progress lines, with the time elapsed
//! and an estimate of the time left from indicatif's own estimator.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use trainer::events::{Event, Events, Job, JobRun, Left, Phase, Sink};
use trainer::wording::clock;
use trainer::wording::count;

/// Steps of a run's bar within one epoch.
const EPOCH_STEPS: u64 = 100;

/// The program's view of the library's work.
pub struct View {
    bars: bool,
    /// Runs train side by side: each line names its run.
    concurrent: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    multi: Option<MultiProgress>,
    job: Option<JobState>,
    runs: HashMap<String, ProgressBar>,
    /// What a sweep trains was said (it is said once, however often it is told).
    sweep_said: bool,
}

/// A job's runs and its bar (hidden off a terminal: it keeps the time and the estimate).
struct JobState {
    job: Job,
    runs: Vec<JobRun>,
    bar: ProgressBar,
    /// Whether any run has epochs to train.
    work: bool,
}

impl View {
    /// A view that draws bars when both stdout and stderr are a terminal that understands them.
    pub fn new(concurrent: bool) -> Sink {
        let term = std::env::var("TERM").map_or(true, |t| t != "dumb");
        let bars = term && std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
        let multi = bars.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Arc::new(View {
            bars,
            concurrent,
            state: Mutex::new(State {
                multi,
                ..State::default()
            }),
        })
    }

    /// A line on stdout (above the bars, which stay).
    fn line(&self, state: &State, text: String) {
        match &state.multi {
            Some(multi) => multi.suspend(|| crate::output::out!("{text}")),
            None => crate::output::out!("{text}"),
        }
    }

    /// A line on stderr (above the bars).
    fn note(&self, state: &State, text: String) {
        match &state.multi {
            Some(multi) => multi.suspend(|| crate::output::err!("{text}")),
            None => crate::output::err!("{text}"),
        }
    }
}

impl Events for View {
    fn event(&self, event: &Event) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Event::Step { .. } | Event::Epoch { .. } => self.progress(&mut state, event),
            Event::JobPlanned { .. } | Event::JobRunStarted { .. } => self.job(&mut state, event),
            Event::MeasuringStarted { .. } | Event::Measuring { .. } | Event::FineTuning { .. } => {
                self.measuring(&state, event)
            }
            Event::SweepPlanned { .. } if state.sweep_said => {}
            Event::SweepPlanned { .. } => {
                self.run_lines(&state, event);
                state.sweep_said = true;
            }
            _ => self.run_lines(&state, event),
        }
    }
}

impl View {
    /// The lines a run says as it starts, resumes, is mended or skips a checkpoint.
    fn run_lines(&self, state: &State, event: &Event) {
        match event {
            Event::RunStarting { name, summary, device, train_images, test_images, dir, note } => {
                self.line(state, format!("{name}: {summary}"));
                self.line(
                    state,
                    format!(
                        "device: {device}; {train_images} training / {test_images} test images; artifacts in {}",
                        dir.display()
                    ),
                );
                if let Some(note) = note {
                    self.line(state, note.clone());
                }
            }
            Event::Replacing { dir } => self.line(state, format!("{}: replacing the run it held", dir.display())),
            Event::StartingOver { dir } => self.line(
                state,
                format!("{}: no valid checkpoint to continue from; starting from epoch 1", dir.display()),
            ),
            Event::Resuming { epoch, from } => {
                self.line(state, format!("resuming after epoch {epoch} from {}", from.display()))
            }
            Event::Mending { dir, what, epoch } => self.note(
                state,
                format!("note: {}: files disagree ({what}); mending the run from the checkpoint of epoch {epoch}", dir.display()),
            ),
            Event::CheckpointSkipped { epoch, why } => {
                self.note(state, format!("warning: skipping checkpoint of epoch {epoch}: {why}"))
            }
            Event::LockTakenOver { dir, holder } => self.note(
                state,
                format!("note: {}: taking over the lock left by {holder}", dir.display()),
            ),
            Event::LeftOut { dir } => {
                self.line(state, format!("{}: no finished run; left out (--reuse)", dir.display()))
            }
            Event::SweepPlanned { axes, points, seeds, runs, epochs } => self.line(
                state,
                format!(
                    "sweep: {}, {}, {} each: {} of {}",
                    study::sweep::axes(*axes),
                    count(*points, "point"),
                    count(*seeds as usize, "seed"),
                    count(*runs, "run"),
                    study::sweep::epochs_against_study(*epochs)
                ),
            ),
            Event::SweepRecordUnreadable { why } => {
                self.note(state, format!("warning: {why}; the page starts afresh with this sweep's axes"))
            }
            Event::BackendStarting { name, backend } => self.line(state, format!("--- {name} on {backend}")),
            _ => {}
        }
    }

    /// A step moves its run's bar; an epoch is a line, and moves the job.
    fn progress(&self, state: &mut State, event: &Event) {
        match event {
            Event::Step {
                run,
                epoch,
                epochs,
                phase,
                done,
                total,
            } => {
                if let Some(bar) = self.run_bar(state, run, *epochs) {
                    let within = (*done as u64 * EPOCH_STEPS) / (*total).max(1) as u64;
                    bar.set_position((*epoch as u64 - 1) * EPOCH_STEPS + within.min(EPOCH_STEPS));
                    let pass = if *phase == Phase::Train {
                        "training"
                    } else {
                        "testing"
                    };
                    bar.set_message(format!("epoch {epoch}/{epochs} {pass}"));
                }
            }
            Event::Epoch {
                run,
                record,
                epochs,
            } => {
                let who = if self.concurrent {
                    format!("{run}: ")
                } else {
                    String::new()
                };
                self.line(
                    state,
                    format!(
                        "{who}epoch {:>2}/{epochs}  train loss {:.5}  test MSE {:.5}  {:.1} s (train {:.1} s, test {:.1} s)",
                        record.epoch,
                        record.train_loss,
                        record.test_mse,
                        record.seconds(),
                        record.train_seconds,
                        record.test_seconds,
                    ),
                );
                if let Some(bar) = self.run_bar(state, run, *epochs) {
                    bar.set_position(record.epoch as u64 * EPOCH_STEPS);
                    if record.epoch >= *epochs {
                        bar.finish_and_clear();
                        state.runs.remove(run);
                    }
                }
                self.job_epoch(state, run);
            }
            _ => {}
        }
    }

    /// The bar of run `run` (made on its first step), on a terminal.
    fn run_bar(&self, state: &mut State, run: &str, epochs: usize) -> Option<ProgressBar> {
        let multi = state.multi.clone()?;
        let bar = state.runs.entry(run.to_string()).or_insert_with(|| {
            let bar = multi.add(ProgressBar::new(epochs as u64 * EPOCH_STEPS));
            bar.set_style(
                ProgressStyle::with_template("  {prefix:<28} [{bar:30}] {msg}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar.set_prefix(run.to_string());
            bar
        });
        Some(bar.clone())
    }

    /// A job's plan, and each of its runs as it starts.
    fn job(&self, state: &mut State, event: &Event) {
        match event {
            Event::JobPlanned { job, runs } => {
                let total: f64 = runs.iter().map(JobRun::units_left).sum();
                if let Some(old) = state.job.take() {
                    old.bar.finish_and_clear();
                }
                let bar = match &state.multi {
                    // Nothing to train: nothing to draw.
                    Some(multi) if total > 0.0 => {
                        let bar = multi.add(ProgressBar::new(units(total).max(1)));
                        bar.set_style(
                            ProgressStyle::with_template(
                                "{prefix} [{bar:40.cyan/blue}] {percent:>3} % · {msg} · {elapsed} elapsed, {left}",
                            )
                            .expect("a valid template")
                            .with_key("left", time_left)
                            .progress_chars("█▉▊▋▌▍▎▏ "),
                        );
                        bar.set_prefix(prefix(*job).to_string());
                        bar
                    }
                    _ => ProgressBar::with_draw_target(
                        Some(units(total).max(1)),
                        ProgressDrawTarget::hidden(),
                    ),
                };
                if self.bars && total > 0.0 {
                    bar.enable_steady_tick(Duration::from_millis(500));
                }
                let work = total > 0.0;
                state.job = Some(JobState {
                    job: *job,
                    runs: runs.clone(),
                    bar,
                    work,
                });
            }
            Event::JobRunStarted { index, .. } => {
                let Some(job) = state.job.as_mut() else {
                    return;
                };
                let run = job.runs[*index].clone();
                let what = match run.left {
                    Left::Train { epochs } => format!("training {}", count(epochs, "epoch")),
                    Left::Resume { after, of } => format!("resuming after epoch {after} of {of}"),
                    Left::Nothing => "finished, reused".into(),
                };
                let timing = match job.work {
                    true => format!("; {}", timing(&job.bar)),
                    false => String::new(),
                };
                let line = format!(
                    "{} run {}/{} {}: {what}{timing}",
                    prefix(job.job),
                    index + 1,
                    job.runs.len(),
                    run.name,
                );
                job.bar
                    .set_message(format!("run {}/{} {}", index + 1, job.runs.len(), run.name));
                self.line(state, line);
                // The run's own bar from its start (a run in a process of its own tells no steps).
                let (done, epochs) = match run.left {
                    Left::Train { epochs } => (0, epochs),
                    Left::Resume { after, of } => (after, of),
                    Left::Nothing => return,
                };
                if let Some(bar) = self.run_bar(state, &run.name, epochs) {
                    bar.set_position(done as u64 * EPOCH_STEPS);
                }
            }
            _ => {}
        }
    }

    /// An epoch of run `run` done: the job moves, and off a terminal a line says where it is.
    fn job_epoch(&self, state: &mut State, run: &str) {
        let Some(job) = &state.job else { return };
        let Some(index) = job.runs.iter().position(|r| r.name == run) else {
            return;
        };
        job.bar.inc(units(job.runs[index].epoch_units));
        if self.bars {
            return;
        }
        let share = job.bar.position() as f64 / job.bar.length().unwrap_or(1).max(1) as f64;
        let line = format!(
            "{} run {}/{} {run}: {:.0} % of the job's training done; {}",
            prefix(job.job),
            index + 1,
            job.runs.len(),
            100.0 * share.min(1.0),
            timing(&job.bar)
        );
        self.line(state, line);
    }

    /// The measuring's lines: how many runs on how many images, each run, the fine-tuning.
    fn measuring(&self, state: &State, event: &Event) {
        if let Some(job) = &state.job {
            job.bar.finish_and_clear();
        }
        match event {
            Event::MeasuringStarted {
                job,
                runs,
                train_images,
                test_images,
            } => self.line(
                state,
                format!(
                    "{} measuring {} on {train_images} training / {test_images} test images",
                    prefix(*job),
                    count(*runs, "run")
                ),
            ),
            Event::Measuring {
                job,
                index,
                of,
                name,
            } => self.line(
                state,
                format!("{} measuring run {index}/{of} {name}", prefix(*job)),
            ),
            Event::FineTuning { source, seed } => self.line(
                state,
                format!("report: fine-tuning from {source} vs random, seed {seed}"),
            ),
            _ => {}
        }
    }
}

/// `report:` or `sweep:`.
fn prefix(job: Job) -> &'static str {
    match job {
        Job::Report => "report:",
        Job::Sweep => "sweep:",
    }
}

/// Work units as the bar's integer steps.
fn units(units: f64) -> u64 {
    (units / 1000.0).round() as u64
}

/// The bar's time left: indicatif's estimate once some work is done.
fn time_left(state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write) {
    let _ = write!(out, "{}", left(state.pos(), state.eta()));
}

/// What is known of the time left after `done` steps: nothing yet, or indicatif's estimate.
fn left(done: u64, eta: Duration) -> String {
    match done {
        0 => "time left not known yet".to_string(),
        _ => format!("about {} left", clock(eta)),
    }
}

/// `1 min 05 s elapsed, about 12 min left` from the job's bar (indicatif's estimate).
fn timing(bar: &ProgressBar) -> String {
    let elapsed = clock(bar.elapsed());
    let (done, total) = (bar.position(), bar.length().unwrap_or(0));
    match done >= total && done > 0 {
        true => format!("{elapsed} elapsed"),
        false => format!("{elapsed} elapsed, {}", left(done, bar.eta())),
    }
}
