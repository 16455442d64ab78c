//! Many runs at once: `--jobs N` on this machine, a plan of one command per run run by GNU
//! parallel and by a one-node SLURM cluster (an array job; a task requeued while it trains), two
//! processes racing for one run. Each run ends as it would have trained alone.

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use trainer::backend::Backend;
use trainer::inference::{ModelChoice, TrainedRun};
use weights::TorchWeights;

use crate::util::*;

/// `train sweep --quick ARGS --artifacts ROOT`.
fn quick_sweep(root: &Path, args: &[&str]) -> Train {
    subcommand("sweep")
        .arg("--quick")
        .args(args)
        .artifacts(root)
}

/// Asserts that the quick sweep under `root` finds each of its three points trained.
fn assert_every_point_reused(root: &Path) {
    let measured = quick_sweep(root, &[]).stdout();
    assert_eq!(
        measured.matches("finished, reused").count(),
        3,
        "{measured}"
    );
}

/// `train sweep --hidden 400 --epochs N --limit N --plan PLAN --artifacts ROOT`: a plan of one
/// run that trains for a while.
fn plan_of_one(epochs: usize, limit: usize, plan: &Path, root: &Path) -> Train {
    subcommand("sweep")
        .args(["--hidden", "400"])
        .epochs(epochs)
        .limit(limit)
        .args(["--plan", arg(plan)])
        .artifacts(root)
}

/// The loss columns of a run's epoch log, and its final weights.
fn trained(run: &Path) -> (Vec<(usize, f64, f64)>, TorchWeights) {
    let rows = epochs(run)
        .iter()
        .map(|r| (r.epoch, r.train_loss, r.test_mse))
        .collect();
    let model =
        TrainedRun::load(run, &ModelChoice::Final, Backend::Flex.device().unwrap()).unwrap();
    (rows, TorchWeights::of(&model.model))
}

/// The runs (directory names) of a sweep's artifacts.
fn points(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("sweep-"))
        .collect();
    names.sort();
    names
}

/// A command's lines, as `sh` runs them.
fn plan_lines(plan: &Path) -> Vec<String> {
    std::fs::read_to_string(plan)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn sh(line: &str) -> Command {
    let mut command = Command::new("sh");
    command
        .args(["-c", line])
        .env("CUBECL_AUTOTUNE_LEVEL", "minimal");
    command
}

#[test]
fn runs_trained_at_once_are_the_runs_trained_alone() {
    let dir = scratch();
    let (alone, together) = (dir.path().join("alone"), dir.path().join("together"));
    quick_sweep(&alone, &[]).stdout();
    let said = quick_sweep(&together, &["--jobs", "2"]).stdout();
    assert!(
        said.contains("sweep-case7-h16-e1-n2000: epoch  1/1"),
        "{said}"
    );
    assert!(said.contains("% of the job's training done"), "{said}");
    assert_eq!(points(&alone), points(&together));
    for point in points(&alone) {
        assert!(
            trained(&alone.join(&point)) == trained(&together.join(&point)),
            "{point} differs"
        );
    }
    // Measured alike: the sweep's numbers are the same but the seconds.
    let numbers = |root: &Path| {
        let mut json: Value =
            serde_json::from_str(&std::fs::read_to_string(root.join("sweep/sweep.json")).unwrap())
                .unwrap();
        for point in json["axes"][0]["points"].as_array_mut().unwrap() {
            for seed in point["seeds"].as_array_mut().unwrap() {
                seed["seconds"] = Value::Null;
            }
        }
        json["axes"][0]["points"].clone()
    };
    assert_eq!(numbers(&alone), numbers(&together));
    // More jobs than cores: allowed, with a note; none: a usage error.
    let out = quick_sweep(&together, &["--jobs", "64"]).output();
    assert!(stderr(&out).contains("64 jobs on"), "{}", stderr(&out));
    assert_usage_error(&quick_sweep(&together, &["--jobs", "0"]).output(), "--jobs");
}

#[test]
fn a_plan_holds_one_command_per_run_each_idempotent() {
    let dir = scratch();
    let root = dir.path().join("artifacts");
    let plan = dir.path().join("plan.txt");
    let said = quick_sweep(&root, &["--plan", arg(&plan)]).stdout();
    assert!(
        said.contains("3 runs to train") && said.contains("nothing was trained"),
        "{said}"
    );
    assert!(
        !root.join("sweep").exists() && points(&root).is_empty(),
        "a plan trained something"
    );
    let lines = plan_lines(&plan);
    assert_eq!(lines.len(), 3);
    assert!(
        lines.iter().all(|l| l.contains(" --run sweep-case7-")),
        "{lines:?}"
    );
    // An existing plan is not replaced without --overwrite; --plan takes no --jobs.
    assert_one_line_error(
        &quick_sweep(&root, &["--plan", arg(&plan)]).output(),
        "--overwrite",
    );
    assert_usage_error(
        &quick_sweep(&root, &["--plan", arg(&plan), "--jobs", "2"]).output(),
        "--jobs",
    );

    // A line run from another directory trains its run; run again, it does nothing.
    let elsewhere = scratch();
    let first = sh(&lines[0])
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    assert!(stdout_of_success(&first).contains(": trained to epoch 1"));
    let again = sh(&lines[0]).output().unwrap();
    assert!(stdout_of_success(&again).contains("finished already (1 epoch); nothing to do"));
    // The plan now holds only what is left; the rest trains, then the sweep trains nothing.
    quick_sweep(&root, &["--plan", arg(&plan), "--overwrite"]).stdout();
    assert_eq!(plan_lines(&plan).len(), 2);
    for line in plan_lines(&plan) {
        stdout_of_success(&sh(&line).output().unwrap());
    }
    let measured = quick_sweep(&root, &[]).stdout();
    assert!(
        !measured.contains("training 1 epoch") && measured.contains("finished, reused"),
        "{measured}"
    );
    assert!(root.join("sweep/index.html").exists());
    // A run name that is not the sweep's.
    assert_one_line_error(
        &quick_sweep(&root, &["--run", "case7"]).output(),
        "not a run of this job",
    );
}

#[test]
fn two_processes_racing_for_one_run_train_it_once() {
    let dir = scratch();
    let root = dir.path().join("artifacts");
    let plan = dir.path().join("plan.txt");
    plan_of_one(2, 8000, &plan, &root).stdout();
    let line = plan_lines(&plan).remove(0);
    let racers: Vec<_> = (0..2)
        .map(|_| {
            sh(&line)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<Output> = racers
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let trained_it = outs
        .iter()
        .filter(|o| stdout(o).contains(": trained to epoch 2"))
        .count();
    assert_eq!(
        trained_it,
        1,
        "{:?}",
        outs.iter()
            .map(|o| stdout(o) + &stderr(o))
            .collect::<Vec<_>>()
    );
    for out in &outs {
        let said = stdout(out) + &stderr(out);
        let refused = out.status.code() == Some(1) && said.contains("is in use by pid ");
        assert!(out.status.success() || refused, "{said}");
    }
    // The run is whole: the same as trained alone.
    let alone = dir.path().join("alone");
    let solo = line.replace(arg(&root), arg(&alone));
    stdout_of_success(&sh(&solo).output().unwrap());
    let name = points(&root).remove(0);
    assert!(trained(&root.join(&name)) == trained(&alone.join(&name)));
}

#[test]
fn gnu_parallel_runs_a_plan() {
    let has_parallel = Command::new("parallel")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_parallel {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install GNU parallel (see .ci/run)"
        );
        eprintln!("skipped: no GNU parallel on this machine");
        return;
    }
    let dir = scratch();
    let root = dir.path().join("artifacts");
    let plan = dir.path().join("plan.txt");
    quick_sweep(&root, &["--plan", arg(&plan)]).stdout();
    let out = Command::new("parallel")
        .args(["--will-cite", "-j", "2", "--halt", "now,fail=1"])
        .stdin(std::fs::File::open(&plan).unwrap())
        .env("CUBECL_AUTOTUNE_LEVEL", "minimal")
        .output()
        .unwrap();
    stdout_of_success(&out);
    assert_every_point_reused(&root);
}

/// A one-node SLURM cluster started by the test's own script, stopped when dropped.
struct Cluster {
    dir: PathBuf,
}

impl Cluster {
    /// Starts it in `dir`, or none when this machine cannot (not root, no SLURM) outside CI.
    fn start(dir: PathBuf) -> Option<Self> {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout == b"0\n");
        // Installed, not configured: `sbatch --version` fails without a slurm.conf.
        let slurm = Command::new("sh")
            .args(["-c", "command -v sbatch && command -v slurmctld && command -v slurmd && command -v munged"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !(root && slurm) {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must run as root with slurm-wlm and munge (see .ci/run)"
            );
            eprintln!("skipped: SLURM needs root and Debian's slurm-wlm and munge");
            return None;
        }
        let script = workspace_root().join("tests/cluster/slurm.sh");
        let out = Command::new(&script)
            .args(["start", arg(&dir)])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the cluster did not start: {}",
            stderr(&out)
        );
        Some(Self { dir })
    }

    /// `tool ARGS` against this cluster.
    fn command(&self, tool: &str, args: &[&str]) -> Command {
        let mut command = Command::new(tool);
        command
            .args(args)
            .env("SLURM_CONF", self.dir.join("slurm.conf"))
            .env("CUBECL_AUTOTUNE_LEVEL", "minimal");
        command
    }

    /// `sbatch ARGS` against this cluster, run in `dir` (where its tasks write their logs).
    fn sbatch(&self, args: &[&str], dir: &Path) -> Output {
        self.command("sbatch", args)
            .current_dir(dir)
            .output()
            .unwrap()
    }

    /// Waits (at most three minutes) until the cluster's queue is empty.
    fn drain(&self) {
        let start = Instant::now();
        loop {
            let queue = self.command("squeue", &["-h"]).output().unwrap();
            if queue.stdout.is_empty() {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(180),
                "the queue never emptied"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let script = workspace_root().join("tests/cluster/slurm.sh");
        Command::new(script)
            .args(["stop", arg(&self.dir)])
            .status()
            .ok();
    }
}

#[test]
#[ignore = "slow, and needs root with SLURM: starts a one-node cluster; CI runs it: cargo test --release --workspace --locked -- --ignored"]
fn a_slurm_array_runs_the_plan_and_a_requeued_task_ends_as_if_uninterrupted() {
    let dir = scratch();
    let Some(cluster) = Cluster::start(dir.path().join("cluster")) else {
        return;
    };
    let array = workspace_root().join("examples/slurm/train-array.sh");
    let root = dir.path().join("artifacts");
    let plan = dir.path().join("plan.txt");
    quick_sweep(&root, &["--plan", arg(&plan)]).stdout();
    let out = cluster.sbatch(
        &["--wait", "--array=1-3%2", arg(&array), arg(&plan)],
        dir.path(),
    );
    stdout_of_success(&out);
    assert_every_point_reused(&root);
    assert!(root.join("sweep/index.html").exists());

    // A task requeued while it trains stops after its step, starts again and continues from
    // its checkpoint: the run ends as an uninterrupted one.
    let long = dir.path().join("long.txt");
    plan_of_one(3, 20000, &long, &root).stdout();
    let submitted = cluster.sbatch(
        &["--parsable", "--array=1-1", arg(&array), arg(&long)],
        dir.path(),
    );
    let job = stdout_of_success(&submitted).trim().to_string();
    let run = root.join("sweep-case7-h400-e3-n20000");
    wait_until("the task's first epoch", || epochs(&run).len() == 1);
    let task = format!("{job}_1");
    assert!(
        cluster
            .command("scontrol", &["requeue", &task])
            .status()
            .unwrap()
            .success()
    );
    // Requeued tasks wait two minutes before they start again: not this one.
    std::thread::sleep(Duration::from_secs(2));
    cluster
        .command(
            "scontrol",
            &["update", &format!("jobid={task}"), "StartTime=now"],
        )
        .status()
        .unwrap();
    cluster.drain();
    let log =
        std::fs::read_to_string(dir.path().join(format!("slurm-burn-ae-{job}_1.out"))).unwrap();
    assert!(
        log.contains("stopped by SIGTERM during epoch 2") && log.contains("resuming after epoch 1"),
        "{log}"
    );
    let alone = dir.path().join("alone");
    let solo = plan_lines(&long).remove(0).replace(arg(&root), arg(&alone));
    stdout_of_success(&sh(&solo).output().unwrap());
    assert!(
        trained(&run) == trained(&alone.join("sweep-case7-h400-e3-n20000")),
        "the requeued run differs"
    );
}

/// What a careless use of jobs, plans and locks found: flags that would train or break locks
/// unasked are refused, a plan never replaces what is not a regular file, a lock that is a link
/// is not followed, a lock record not of this program is no other machine's, and a job killed
/// outright leaves no run training behind it.
#[test]
fn jobs_plans_and_locks_refuse_what_they_cannot_do_safely() {
    let dir = scratch();
    let root = dir.path().join("artifacts");
    // --reuse trains nothing, so it takes no --jobs; --break-lock is never written into a plan.
    let reuse = subcommand("report")
        .args(["--quick", "--reuse", "--jobs", "2"])
        .artifacts(&root);
    assert_usage_error(&reuse.output(), "--jobs");
    let plan = dir.path().join("plan.txt");
    let broken = quick_sweep(&root, &["--break-lock", "--plan", arg(&plan)]);
    assert_usage_error(&broken.output(), "--plan");
    // A FIFO where the plan goes is refused, even with --overwrite.
    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let out = quick_sweep(&root, &["--plan", arg(&fifo), "--overwrite"]).output();
    assert_usage_error(&out, "not a regular file");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );

    // A lock that is a link: refused, its target untouched.
    let run = "sweep-case7-h16-e1-n2000";
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    std::fs::create_dir_all(root.join(run)).unwrap();
    std::os::unix::fs::symlink(&victim, root.join(run).join(".lock")).unwrap();
    let out = quick_sweep(&root, &["--run", run]).output();
    assert_one_line_error(&out, "the lock file is a link");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    // Text that is no lock record is not taken for another machine's lock.
    std::fs::remove_file(root.join(run).join(".lock")).unwrap();
    std::fs::write(
        root.join(run).join(".lock"),
        "hello world on the moon\n\x1b[31m",
    )
    .unwrap();
    let said = quick_sweep(&root, &["--run", run]).stdout();
    assert!(
        said.contains(&format!("{run}: trained to epoch 1")),
        "{said}"
    );

    // The job's process killed outright: its runs' processes stop too (after their step).
    let long = dir.path().join("long");
    let mut job = subcommand("sweep")
        .args(["--hidden", "400,1000", "--jobs", "2"])
        .epochs(5)
        .limit(20000)
        .artifacts(&long)
        .spawn();
    wait_until("a run's process to start", || running_runs(&long) > 0);
    signal(&job, "KILL");
    job.wait().unwrap();
    wait_until("the runs' processes to stop", || running_runs(&long) == 0);
}

/// How many processes train a run under `root` (`--run` in their command line).
fn running_runs(root: &Path) -> usize {
    let out = Command::new("pgrep")
        .args(["-f", &format!("{}.*--run", root.display())])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).lines().count()
}
