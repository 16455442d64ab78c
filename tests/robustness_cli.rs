//! Faults injected into the real `train` binary: SIGKILL, SIGINT and corrupt checkpoints.

mod common;
use common::scratch;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const TRAIN: &str = env!("CARGO_BIN_EXE_train");

/// Case 6 (dropout and noise: every source of randomness) on a small subset.
fn args<'a>(root: &'a str, epochs: &'a str) -> Vec<&'a str> {
    vec![
        "--case",
        "6",
        "--limit",
        "1000",
        "--seed",
        "2",
        "--epochs",
        epochs,
        "--artifacts",
        root,
    ]
}

fn run(args: &[&str]) -> Output {
    Command::new(TRAIN)
        .args(args)
        .env_remove("MNIST_DIR")
        .output()
        .unwrap()
}

fn spawn(args: &[&str]) -> Child {
    Command::new(TRAIN)
        .args(args)
        .env_remove("MNIST_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn rows(run: &Path) -> Vec<String> {
    std::fs::read_to_string(run.join("epochs.csv"))
        .unwrap_or_default()
        .lines()
        .skip(1)
        .map(|l| l.split(',').take(3).collect::<Vec<_>>().join(","))
        .collect()
}

/// Waits until the run has logged `n` epochs.
fn wait_for_epochs(run: &Path, n: usize) {
    let start = Instant::now();
    while rows(run).len() < n {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "epoch {n} never finished"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ok(out: Output) -> (String, String) {
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    (stdout, stderr)
}

#[test]
fn sigkill_then_resume_equals_an_uninterrupted_run() {
    let whole = scratch("robust", "whole");
    ok(run(&args(whole.to_str().unwrap(), "4")));
    let expected = rows(&whole.join("case6"));
    assert_eq!(expected.len(), 4);

    let killed = scratch("robust", "killed");
    let root = killed.to_str().unwrap();
    let mut child = spawn(&args(root, "4"));
    wait_for_epochs(&killed.join("case6"), 2);
    child.kill().unwrap(); // SIGKILL during epoch 3
    child.wait().unwrap();

    let (stdout, _) = ok(run(&[args(root, "4"), vec!["--resume"]].concat()));
    assert!(stdout.contains("resuming after epoch"), "{stdout}");
    // Every epoch is logged once, and the numbers are exactly those of the uninterrupted run.
    assert_eq!(rows(&killed.join("case6")), expected);
    for epoch in 1..=4 {
        assert!(
            killed
                .join(format!("case6/train/epoch-{epoch}/Loss.log"))
                .is_file()
        );
    }
    assert!(!killed.join("case6/train/epoch-5").exists());
}

#[test]
fn corrupt_checkpoint_falls_back_to_the_previous_one() {
    let dir = scratch("robust", "corrupt");
    let root = dir.to_str().unwrap();
    ok(run(&args(root, "3")));
    let newest = dir.join("case6/checkpoint/model-3.bpk");
    let bytes = std::fs::read(&newest).unwrap();
    std::fs::write(&newest, &bytes[..bytes.len() / 3]).unwrap();
    let (stdout, stderr) = ok(run(&[args(root, "4"), vec!["--resume"]].concat()));
    assert!(
        stderr.contains("skipping checkpoint of epoch 3") && stderr.contains("model-3.bpk"),
        "{stderr}"
    );
    assert!(stdout.contains("resuming after epoch 2"), "{stdout}");
    assert_eq!(rows(&dir.join("case6")).len(), 4);
    // No temporary files are left in the checkpoint directory.
    for entry in std::fs::read_dir(dir.join("case6/checkpoint")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            (name.ends_with(".bpk") || name.ends_with(".bpk.sha256")) && !name.starts_with('.'),
            "{name}"
        );
    }
}

#[test]
fn ctrl_c_stops_cleanly_and_keeps_the_checkpoint() {
    let dir = scratch("robust", "sigint");
    let root = dir.to_str().unwrap();
    let child = spawn(&args(root, "30"));
    wait_for_epochs(&dir.join("case6"), 1);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "an interrupted run must not report success"
    );
    assert!(
        stderr.contains("interrupted") && stderr.contains("--resume"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let logged = rows(&dir.join("case6")).len();
    assert!(logged < 30);
    // The kept checkpoint resumes.
    let (stdout, _) = ok(run(&[
        args(root, &(logged + 1).to_string()),
        vec!["--resume"],
    ]
    .concat()));
    assert!(stdout.contains("resuming after epoch"), "{stdout}");
}

#[test]
fn unwritable_artifacts_fail_before_training() {
    let dir = scratch("robust", "readonly");
    let file = dir.join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let out = run(&["--case", "7", "--artifacts", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("cannot create the artifacts directory"),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .all(|l| !l.starts_with("epoch"))
    );
}

#[test]
fn a_full_disk_is_reported_before_training() {
    let dir = scratch("robust", "tinyfs");
    // A 2 MB file system; case 1's checkpoints need about 75 MB. Needs root (as in CI).
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(&dir)
        .status();
    if !mounted.is_ok_and(|s| s.success()) {
        eprintln!("skipped: cannot mount a small tmpfs here (not root?)");
        return;
    }
    let out = run(&[
        "--case",
        "1",
        "--limit",
        "200",
        "--epochs",
        "1",
        "--artifacts",
        dir.to_str().unwrap(),
    ]);
    Command::new("umount").arg(&dir).status().ok();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("not enough free space"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .all(|l| !l.starts_with("epoch"))
    );
}
