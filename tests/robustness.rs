//! Faults injected into the real `train` binary: SIGKILL, SIGINT, corrupt checkpoints, an
//! artifacts path that is a file and a full disk.

use std::path::Path;
use std::process::Output;

use crate::util::*;

/// Case 6 (dropout and noise: every source of randomness) on a small subset.
fn case6(root: &str, epochs: usize) -> Train {
    case(6).limit(1000).seed(2).epochs(epochs).artifacts(root)
}

/// `case6(root, epochs)` with `--resume`.
fn resume(root: &str, epochs: usize) -> Output {
    case6(root, epochs).arg("--resume").output()
}

/// (epoch, train loss, test MSE) of each logged epoch.
fn rows(run: &Path) -> Vec<(usize, f64, f64)> {
    epochs(run)
        .iter()
        .map(|r| (r.epoch, r.train_loss, r.test_mse))
        .collect()
}

/// Waits until the run has logged `n` epochs.
fn wait_for_epochs(run: &Path, n: usize) {
    wait_until(&format!("epoch {n} to finish"), || epochs(run).len() >= n);
}

/// Asserts that a failed start trained nothing: one line on stderr saying `expected`, and no
/// epoch line.
fn assert_refused_before_training(out: &Output, expected: &str) {
    let stderr = stderr(out);
    assert!(!out.status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(expected), "{stderr}");
    assert!(stdout(out).lines().all(|l| !l.starts_with("epoch")));
}

#[test]
fn sigkill_then_resume_equals_an_uninterrupted_run() {
    let whole = scratch();
    case6(arg(whole.path()), 4).stdout();
    let expected = rows(&whole.path().join("case6"));
    assert_eq!(expected.len(), 4);

    let killed = scratch();
    let root = arg(killed.path());
    let run = killed.path().join("case6");
    let mut child = case6(root, 4).spawn();
    wait_for_epochs(&run, 2);
    child.kill().unwrap(); // SIGKILL during epoch 3
    child.wait().unwrap();

    let stdout = stdout_of_success(&resume(root, 4));
    assert!(stdout.contains("resuming after epoch"), "{stdout}");
    // Every epoch is logged once, and the numbers are exactly those of the uninterrupted run.
    assert_eq!(rows(&run), expected);
    for epoch in 1..=4 {
        assert!(run.join(format!("train/epoch-{epoch}/Loss.log")).is_file());
    }
    assert!(!run.join("train/epoch-5").exists());
}

#[test]
fn corrupt_checkpoint_falls_back_to_the_previous_one() {
    let dir = scratch();
    let root = arg(dir.path());
    let run = dir.path().join("case6");
    case6(root, 3).stdout();
    let newest = run.join("checkpoint/model-3.bpk");
    let bytes = std::fs::read(&newest).unwrap();
    std::fs::write(&newest, &bytes[..bytes.len() / 3]).unwrap();
    let out = resume(root, 4);
    let stdout = stdout_of_success(&out);
    let stderr = stderr(&out);
    assert!(
        stderr.contains("skipping checkpoint of epoch 3") && stderr.contains("model-3.bpk"),
        "{stderr}"
    );
    assert!(stdout.contains("resuming after epoch 2"), "{stdout}");
    assert_eq!(rows(&run).len(), 4);
    // No temporary files are left in the checkpoint directory.
    for entry in std::fs::read_dir(run.join("checkpoint")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            (name.ends_with(".bpk") || name.ends_with(".bpk.sha256")) && !name.starts_with('.'),
            "{name}"
        );
    }
}

#[test]
fn ctrl_c_stops_cleanly_and_keeps_the_checkpoint() {
    let dir = scratch();
    let root = arg(dir.path());
    let run = dir.path().join("case6");
    let child = case6(root, 30).spawn();
    wait_for_epochs(&run, 1);
    signal(&child, "INT");
    let out = child.wait_with_output().unwrap();
    let stderr = stderr(&out);
    assert!(
        !out.status.success(),
        "an interrupted run must not report success"
    );
    assert!(
        stderr.contains("interrupted") && stderr.contains("--resume"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let logged = rows(&run).len();
    assert!(logged < 30);
    // The kept checkpoint resumes.
    let stdout = stdout_of_success(&resume(root, logged + 1));
    assert!(stdout.contains("resuming after epoch"), "{stdout}");
}

#[test]
fn unwritable_artifacts_fail_before_training() {
    let dir = scratch();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let out = case(7).artifacts(&file).output();
    assert_refused_before_training(&out, "cannot create the artifacts directory");
}

#[test]
fn a_full_disk_is_reported_before_training() {
    let dir = scratch();
    // A 2 MB file system; case 1's checkpoints need about 75 MB. Needs root (as in CI).
    let Some(tmpfs) = small_tmpfs(dir.path(), "2m") else {
        return;
    };
    let out = case(1).limit(200).epochs(1).artifacts(dir.path()).output();
    drop(tmpfs);
    assert_refused_before_training(&out, "not enough free space");
}
