//! Many runs at once: the runs of a report or a sweep, each trained by a process of its own (the
//! same command with `--run NAME`, what a plan's line runs), N at a time, the cores divided
//! between them. Their progress is read from each run's epoch log; a stop is passed on to every
//! one and waited for.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use trainer::epochs::{EPOCHS_CSV, read_epochs};
use trainer::events::{Event, Job, JobRun, Sink};

/// How the runs of a job train at once.
pub struct Parallel<'a> {
    /// Which job.
    pub job: Job,
    /// How many at once.
    pub jobs: usize,
    /// The job's command without `--run` (the binary's arguments).
    pub command: Vec<String>,
    /// Root of the runs.
    pub root: &'a Path,
    /// Where each run's output goes (`<dir>/<run>.log`).
    pub logs: PathBuf,
    /// Where the events go.
    pub events: &'a Sink,
}

/// One run training in a process of its own.
struct Running {
    index: usize,
    child: Child,
    epochs_seen: usize,
}

/// Threads for each of `jobs` runs at once on this machine's cores (at least one each).
pub fn threads_each(jobs: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / jobs.max(1)).max(1)
}

/// Trains every run of `runs` that has epochs left, `p.jobs` at once; returns when all are done,
/// or with the first failure (the others finish first) or a stop.
pub fn train_all(p: &Parallel, runs: &[JobRun]) -> anyhow::Result<()> {
    std::fs::create_dir_all(&p.logs)
        .map_err(|e| anyhow::anyhow!("{}: cannot create ({e})", p.logs.display()))?;
    let job = p.job;
    p.events.event(&Event::JobPlanned {
        job,
        runs: runs.to_vec(),
    });
    let mut queue: Vec<usize> = (0..runs.len())
        .filter(|&i| runs[i].epochs_left() > 0)
        .rev()
        .collect();
    let threads = threads_each(p.jobs).to_string();
    let stop = crate::interrupt::stop_requests();
    let (mut running, mut failed): (Vec<Running>, Vec<(String, String)>) = (Vec::new(), Vec::new());
    let mut passed_on = false;
    loop {
        let stopping = stop.requested() || !failed.is_empty();
        while !stopping && running.len() < p.jobs {
            let Some(index) = queue.pop() else { break };
            p.events.event(&Event::JobRunStarted { job, index });
            running.push(start(p, &runs[index].name, &threads, index)?);
        }
        follow(p, runs, &mut running);
        let mut still = Vec::new();
        for mut r in running.drain(..) {
            match r.child.try_wait()? {
                None => still.push(r),
                Some(status) if status.success() => {}
                Some(_) if stop.requested() => {}
                Some(status) => failed.push((
                    runs[r.index].name.clone(),
                    why(status, &log_of(p, &runs[r.index].name)),
                )),
            }
        }
        running = still;
        if stop.requested() && !passed_on {
            pass_on(&running);
            passed_on = true;
        }
        if running.is_empty() && (queue.is_empty() || stop.requested() || !failed.is_empty()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    follow(p, runs, &mut running);
    if let Some(signal) = crate::interrupt::received().filter(|_| stop.requested()) {
        return Err(crate::exit::Signalled {
            signal,
            message: Some(format!(
                "stopped by {}: each run kept its checkpoints; run the same command again to continue",
                crate::interrupt::describe(signal)
            )),
        }
        .into());
    }
    match failed.first() {
        Some((name, why)) => Err(anyhow::anyhow!("{name} failed: {why}")),
        None => Ok(()),
    }
}

/// Starts run `name` (the job's `index`-th) in a process of its own, with `threads` threads, in
/// its own process group (a terminal's Ctrl-C reaches the parent, which passes it on once).
fn start(p: &Parallel, name: &str, threads: &str, index: usize) -> anyhow::Result<Running> {
    let log = log_of(p, name);
    // Appended to, never truncated: another job's process may still be writing it.
    let out = File::options()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(|e| anyhow::anyhow!("{}: cannot open ({e})", log.display()))?;
    let exe = std::env::current_exe()?;
    let mut command = Command::new(exe);
    command
        .args(&p.command)
        .args(["--run", name])
        .env("RAYON_NUM_THREADS", threads)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .process_group(0);
    stop_with_parent(&mut command);
    let child = command.spawn()?;
    // A second stop, which ends this process at once, ends the run's process too.
    crate::interrupt::also_stop(child.id());
    let epochs_seen = read_epochs(&p.root.join(name).join(EPOCHS_CSV)).len();
    Ok(Running {
        index,
        child,
        epochs_seen,
    })
}

/// Makes the run's process stop (SIGTERM: after its current step, checkpoints kept) when this
/// process dies, however it dies (a SIGKILL, the OOM killer): no run trains on unwatched.
fn stop_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: getpid before the fork; prctl and getppid are async-signal-safe.
    let parent = unsafe { libc::getpid() };
    let arm = move || {
        // SAFETY: plain system calls on the child's own state between fork and exec.
        let armed = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) } == 0;
        // The parent may have died before the signal was armed.
        match armed && unsafe { libc::getppid() } == parent {
            true => Ok(()),
            false => Err(std::io::Error::other("the job's process is gone")),
        }
    };
    // SAFETY: the closure only makes async-signal-safe system calls.
    unsafe { command.pre_exec(arm) };
}

/// Tells the events of every epoch the running runs logged since the last look.
fn follow(p: &Parallel, runs: &[JobRun], running: &mut [Running]) {
    for r in running.iter_mut() {
        let run = &runs[r.index];
        let rows = read_epochs(&p.root.join(&run.name).join(EPOCHS_CSV));
        let epochs = match run.left {
            trainer::events::Left::Train { epochs } => epochs,
            trainer::events::Left::Resume { of, .. } => of,
            trainer::events::Left::Nothing => rows.len(),
        };
        for record in rows.iter().skip(r.epochs_seen) {
            let (run, record) = (run.name.clone(), record.clone());
            p.events.event(&Event::Epoch {
                run,
                record,
                epochs,
            });
        }
        r.epochs_seen = r.epochs_seen.max(rows.len());
    }
}

/// Passes the stop on to every running run's process group (once: a second one would make it
/// quit at once instead of after its current step).
fn pass_on(running: &[Running]) {
    let signal = crate::interrupt::received().unwrap_or(libc::SIGINT);
    for r in running {
        let group = -(r.child.id() as i32);
        // SAFETY: sends a signal to the run's own process group, which it leads.
        unsafe { libc::kill(group, signal) };
    }
}

/// Where run `name`'s output goes.
fn log_of(p: &Parallel, name: &str) -> PathBuf {
    p.logs.join(format!("{name}.log"))
}

/// Why a run's process failed: the signal that killed it, or its error (the last line of its
/// output), with where its output is.
fn why(status: std::process::ExitStatus, log: &Path) -> String {
    use std::os::unix::process::ExitStatusExt;
    let what = match status.signal() {
        Some(signal) => {
            let name = match signal {
                libc::SIGKILL => " (SIGKILL)",
                libc::SIGTERM => " (SIGTERM)",
                libc::SIGINT => " (SIGINT)",
                libc::SIGSEGV => " (SIGSEGV)",
                libc::SIGABRT => " (SIGABRT)",
                libc::SIGBUS => " (SIGBUS)",
                _ => "",
            };
            format!("killed by signal {signal}{name}")
        }
        None => std::fs::read_to_string(log)
            .ok()
            .and_then(|text| {
                text.lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .map(str::to_string)
            })
            .map(|line| line.trim_start_matches("error: ").to_string())
            .unwrap_or_else(|| "no output".into()),
    };
    format!("{what} (its output: {})", log.display())
}

/// How a report's or a sweep's command ran its runs.
pub enum Flow {
    /// Nothing more to do (a plan written, one run trained).
    Done,
    /// Measure and draw: every run is trained (or they train in this process).
    Measure,
}

/// What `job` (the flags of a report or a sweep) asks of its runs, before the measuring: one run
/// alone (`--run`), a plan for a scheduler (`--plan`), several at once (`--jobs`), or nothing
/// yet (they train in this process).
pub fn before_measuring(
    job: &crate::cli::JobArgs,
    command: Vec<String>,
    (kind, root, logs): (Job, &Path, PathBuf),
    runs: impl Fn() -> study::Result<Vec<JobRun>>,
    train_run: impl Fn(&str) -> study::Result<trainer::training::Outcome>,
    events: &Sink,
) -> anyhow::Result<Flow> {
    if let Some(name) = &job.run {
        say_outcome(name, &train_run(name)?);
        return Ok(Flow::Done);
    }
    if let Some(file) = &job.plan {
        write_plan(file, job.overwrite, &command, &runs()?)?;
        return Ok(Flow::Done);
    }
    if job.jobs > 1 {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if job.jobs > cores {
            crate::output::err!(
                "note: {} jobs on {cores} cores: each run gets 1 thread and they share the cores",
                job.jobs
            );
        }
        let parallel = Parallel {
            job: kind,
            jobs: job.jobs,
            command,
            root,
            logs,
            events,
        };
        train_all(&parallel, &runs()?)?;
    }
    Ok(Flow::Measure)
}

/// The last line of a run trained alone.
fn say_outcome(name: &str, outcome: &trainer::training::Outcome) {
    use trainer::training::Outcome;
    match outcome {
        Outcome::Trained { epochs, .. } => match epochs.last() {
            Some(last) => crate::output::out!(
                "{name}: trained to epoch {}; test MSE {:.5}",
                last.epoch,
                last.test_mse
            ),
            None => crate::output::out!("{name}: finished"),
        },
        Outcome::AlreadyFinished { epochs } => crate::output::out!(
            "{name}: finished already ({}); nothing to do",
            trainer::wording::count(*epochs, "epoch")
        ),
        Outcome::FinishedAt { epoch, .. } => {
            crate::output::out!("{name}: finished from the checkpoint of epoch {epoch}")
        }
    }
}

/// Writes `file`: for every run with epochs left, the command that trains it alone, one per line
/// (the binary's absolute path and every path absolute: runnable from anywhere that sees them).
fn write_plan(
    file: &Path,
    overwrite: bool,
    command: &[String],
    runs: &[JobRun],
) -> anyhow::Result<()> {
    let kind = std::fs::symlink_metadata(file).ok().map(|m| m.file_type());
    if let Some(kind) = kind.filter(|k| !k.is_file() && !k.is_symlink()) {
        let what = if kind.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        };
        return Err(crate::exit::usage(format!(
            "--plan {}: is {what}; --plan writes a regular file of its own",
            file.display()
        )));
    }
    if kind.is_some() && !overwrite {
        return Err(anyhow::anyhow!(
            "{}: exists; nothing was written: replace it with --overwrite, or choose another --plan",
            file.display()
        ));
    }
    let exe = std::env::current_exe()?.canonicalize()?;
    let todo: Vec<&JobRun> = runs.iter().filter(|r| r.epochs_left() > 0).collect();
    let mut text = String::new();
    for run in &todo {
        let mut words = vec![exe.to_string_lossy().into_owned()];
        words.extend(command.iter().cloned());
        words.extend(["--run".to_string(), run.name.clone()]);
        let line = shlex::try_join(words.iter().map(String::as_str))
            .map_err(|e| anyhow::anyhow!("a plan line cannot be quoted for a shell ({e})"))?;
        text.push_str(&line);
        text.push('\n');
    }
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| trainer::files::file_error(dir, e))?;
    }
    trainer::files::write_atomic(file, text.as_bytes())
        .map_err(|e| trainer::files::file_error(file, e))?;
    let finished = runs.len() - todo.len();
    crate::output::out!(
        "wrote {} ({} to train, one command per line; {finished} finished); nothing was trained",
        file.display(),
        count_runs(todo.len())
    );
    Ok(())
}

fn count_runs(n: usize) -> String {
    trainer::wording::count(n, "run")
}

/// `path` made absolute, links and `..` resolved where it exists (a plan's line runs from any
/// directory).
pub fn absolute(path: &Path) -> String {
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
        .to_string_lossy()
        .into_owned()
}
