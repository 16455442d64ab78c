//! Progress across a long job of several runs (the report's training, then its measuring): which
//! run of how many, how much of the job is done, the time elapsed and an estimate of the time
//! left. Training is counted in units proportional to a run's arithmetic (epochs × images × hidden
//! units), so the estimate holds across runs of different sizes.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A job's progress, shared by its runs.
#[derive(Clone, Debug)]
pub struct JobProgress {
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    /// What each line starts with (`report:`).
    prefix: String,
    started: Instant,
    total: f64,
    done: f64,
    runs: usize,
    run: usize,
    label: String,
    /// Draw a bar (stdout is a terminal); plain lines otherwise.
    bar: bool,
}

/// Work units of one epoch of a model with `hidden` units on `images` images.
pub fn epoch_units(images: usize, hidden: usize) -> f64 {
    images as f64 * (hidden as f64 + 1.0)
}

impl JobProgress {
    /// A job of `runs` runs and `total` units of work, whose lines start with `prefix`.
    pub fn new(prefix: &str, runs: usize, total: f64) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                prefix: prefix.to_string(),
                started: Instant::now(),
                total,
                done: 0.0,
                runs,
                run: 0,
                label: String::new(),
                bar: std::io::stdout().is_terminal(),
            })),
        }
    }

    /// Starts run `label` (the next of the job), described by `what` (`: training 2 epochs`);
    /// returns the line to print.
    pub fn start_run(&self, label: &str, what: &str) -> String {
        let mut s = self.state.lock().unwrap();
        s.run += 1;
        s.label = label.to_string();
        format!(
            "{} run {}/{} {label}{what}; {}",
            s.prefix,
            s.run,
            s.runs,
            s.timing()
        )
    }

    /// Records `units` of work done without a line to print.
    pub fn work_done(&self, units: f64) {
        let mut s = self.state.lock().unwrap();
        s.done = (s.done + units).min(s.total);
    }

    /// Records a finished epoch of `units`; returns the line to print.
    pub fn epoch_done(&self, units: f64) -> String {
        self.work_done(units);
        let s = self.state.lock().unwrap();
        let share = s.done / s.total.max(1.0);
        format!(
            "{} {}run {}/{} {}: {:.0} % of the job's training done; {}",
            s.prefix,
            if s.bar { bar(share) } else { String::new() },
            s.run,
            s.runs,
            s.label,
            100.0 * share,
            s.timing()
        )
    }
}

impl State {
    fn timing(&self) -> String {
        let elapsed = self.started.elapsed();
        let left = if self.done > 0.0 && self.total > self.done {
            let rate = elapsed.as_secs_f64() / self.done;
            format!(
                ", about {} left",
                clock(Duration::from_secs_f64(rate * (self.total - self.done)))
            )
        } else if self.total <= self.done {
            String::new()
        } else {
            ", time left not known yet".into()
        };
        format!("{} elapsed{left}", clock(elapsed))
    }
}

/// `[██████░░░░░░░░░░░░░░] ` for a share of 0.3.
fn bar(share: f64) -> String {
    const CELLS: usize = 20;
    let full = ((share.clamp(0.0, 1.0) * CELLS as f64).round() as usize).min(CELLS);
    format!("[{}{}] ", "█".repeat(full), "░".repeat(CELLS - full))
}

/// `1 h 02 min`, `12 min 05 s`, `42 s`.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
    }
}

/// One run's handle on its job: what the renderer calls after each epoch.
#[derive(Clone, Debug)]
pub struct RunProgress {
    /// The job.
    pub job: JobProgress,
    /// Units of one epoch of this run.
    pub epoch_units: f64,
}

impl RunProgress {
    /// Records an epoch of this run; returns the line to print.
    pub fn epoch_done(&self) -> String {
        self.job.epoch_done(self.epoch_units)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_with_the_share_done() {
        assert_eq!(bar(0.0), format!("[{}] ", "░".repeat(20)));
        assert_eq!(bar(0.3), format!("[{}{}] ", "█".repeat(6), "░".repeat(14)));
        assert_eq!(bar(1.5), format!("[{}] ", "█".repeat(20)));
    }

    #[test]
    fn the_estimate_follows_the_work_done() {
        let job = JobProgress::new("report:", 2, 100.0);
        let first = job.start_run("case7", ": training 2 epochs");
        assert!(
            first.starts_with("report: run 1/2 case7: training 2 epochs; 0 s elapsed"),
            "{first}"
        );
        assert!(first.contains("time left not known yet"), "{first}");
        let run = RunProgress {
            job: job.clone(),
            epoch_units: 25.0,
        };
        let line = run.epoch_done();
        assert!(
            line.contains("25 % of the job's training done") && line.contains("left"),
            "{line}"
        );
        run.epoch_done();
        run.epoch_done();
        let done = run.epoch_done();
        assert!(done.contains("100 %") && !done.contains("left"), "{done}");
        assert_eq!(clock(Duration::from_secs(42)), "42 s");
        assert_eq!(clock(Duration::from_secs(725)), "12 min 05 s");
        assert_eq!(clock(Duration::from_secs(3720)), "1 h 02 min");
    }
}
