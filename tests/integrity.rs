//! Run integrity through the real `train` binary: a run directory holds one coherent run, one
//! writer at a time, and nothing finished is lost — refusals leave every byte as it was, an
//! interrupted or replaced run is never drawn as finished, and a full disk stops a run cleanly.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::util::*;

/// The `epochs` of a run's `config.json`.
fn config_epochs(run: &Path) -> u64 {
    config_json(run)["epochs"].as_u64().unwrap()
}

/// Whether the checkpoint of `epoch` (model, optimizer and scheduler) is saved.
fn checkpoint_saved(run: &Path, epoch: usize) -> bool {
    ["model", "optim", "scheduler"]
        .iter()
        .all(|n| run.join(format!("checkpoint/{n}-{epoch}.bpk")).is_file())
}

#[test]
fn another_configuration_is_refused_and_names_and_overwrite_are_the_ways_out() {
    let dir = scratch();
    let root = arg(dir.path());
    let base = case(7).limit(1000).artifacts(root);
    base.epochs(2).stdout();
    let run = dir.path().join("case7");
    let before = snapshot(dir.path());

    // A quick experiment with another seed would replace the finished run: refused, untouched.
    let out = base.seed(1).epochs(1).output();
    assert_one_line_error(
        &out,
        "case7 holds a run with a different configuration (epochs 2 → 1, seed 0 → 1); nothing was changed",
    );
    let message = stderr(&out);
    for way_out in ["--name NAME", "--artifacts DIR", "--overwrite"] {
        assert!(message.contains(way_out), "{message}");
    }
    let out = case(7).epochs(2).artifacts(root).output();
    assert_one_line_error(&out, "(limit 1000 → none)");
    // So is a resume of another configuration, naming the field.
    let out = base.seed(3).arg("--resume").output();
    assert_one_line_error(&out, "--resume: ");
    assert!(stderr(&out).contains("seed 0 → 3"), "{}", stderr(&out));
    // More epochs of the same run: the way out is --resume.
    let out = base.epochs(3).output();
    assert_one_line_error(&out, "epochs 2 → 3");
    assert!(stderr(&out).contains("--resume"));
    // The identical configuration is finished: nothing to do, exit 0.
    let stdout = base.epochs(2).stdout();
    assert!(
        stdout.contains("this run is finished (2 epochs); nothing to do"),
        "{stdout}"
    );
    // --resume without --epochs continues to the run's own target: here, nothing to do.
    let stdout = base.arg("--resume").stdout();
    assert!(stdout.contains("nothing to do"), "{stdout}");
    assert_eq!(snapshot(dir.path()), before, "a refusal changed files");

    // --name keeps both side by side, and visualize finds the named run.
    base.seed(1).epochs(1).name("seed1").stdout();
    assert_eq!(epoch_numbers(&dir.path().join("seed1")), vec![1]);
    let stdout = subcommand("visualize")
        .name("seed1")
        .artifacts(root)
        .stdout();
    assert!(stdout.contains("seed1/figures/w1.png"), "{stdout}");
    assert_eq!(epoch_numbers(&run), vec![1, 2]);

    // A config file (or a --name) may not take a directory a study case or the report owns.
    let file = dir.path().join("case1.toml");
    std::fs::write(&file, "[model]\nhidden = 10\nactivation = \"relu\"\n").unwrap();
    let out = Train::new().config(&file).artifacts(root).output();
    assert_one_line_error(&out, "\"case1\" belongs to study case 1");
    assert_one_line_error(&base.name("report").output(), "belongs to the report");
    assert_one_line_error(&base.name("../x").output(), "run name \"../x\"");
    assert!(!dir.path().join("case1").exists() && !dir.path().join("report").exists());

    // --overwrite replaces the run: nothing of the old one is left.
    let figures = dir.path().join("case7/figures");
    visualize(7, root).stdout();
    assert!(figures.is_dir());
    let stdout = base.seed(1).epochs(1).arg("--overwrite").stdout();
    assert!(stdout.contains("replacing the run"), "{stdout}");
    assert_eq!(epoch_numbers(&run), vec![1]);
    assert_eq!(config_epochs(&run), 1);
    assert!(!run.join("train/epoch-2").exists() && !run.join("checkpoint/model-2.bpk").exists());
    assert!(!figures.exists(), "figures of the replaced model were kept");
}

#[test]
fn an_interrupted_replacement_is_never_drawn_as_finished() {
    let dir = scratch();
    let root = arg(dir.path());
    case(1).limit(1000).epochs(1).artifacts(root).stdout();
    let run = dir.path().join("case1");
    let child = case(1)
        .limit(5000)
        .epochs(30)
        .seed(9)
        .arg("--overwrite")
        .artifacts(root)
        .spawn();
    let new_config = || {
        std::fs::read_to_string(run.join("config.json")).is_ok_and(|c| c.contains("\"seed\": 9"))
    };
    wait_until("epoch 1 of the new run", || {
        new_config() && epoch_numbers(&run) == vec![1]
    });
    signal(&child, "INT");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        !run.join("model.bpk").exists(),
        "the old model was kept beside new logs"
    );
    // Drawing the final model of an unfinished run is refused, pointing at its checkpoint.
    let out = visualize(1, root).output();
    assert_one_line_error(&out, "the run is unfinished");
    assert!(stderr(&out).contains("--epoch "), "{}", stderr(&out));
    let newest = *epoch_numbers(&run).last().unwrap();
    visualize(1, root)
        .args(["--epoch", &newest.to_string()])
        .stdout();
}

#[test]
fn a_resume_with_nothing_left_to_train_finishes_the_run() {
    let dir = scratch();
    let root = arg(dir.path());
    let base = case(1).limit(5000).artifacts(root);
    base.epochs(1).stdout();
    let run = dir.path().join("case1");
    // A resume to 3 epochs, killed once epoch 2 is checkpointed.
    let mut child = base.epochs(3).arg("--resume").spawn();
    wait_until("the checkpoint of epoch 2", || checkpoint_saved(&run, 2));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!run.join("model.bpk").exists());

    // Asking for 2 epochs: nothing to train, and the run is finished at epoch 2.
    let stdout = base.epochs(2).arg("--resume").stdout();
    assert!(stdout.contains("already trained for 2 epochs"), "{stdout}");
    assert_eq!(
        std::fs::read(run.join("model.bpk")).unwrap(),
        std::fs::read(run.join("checkpoint/model-2.bpk")).unwrap(),
        "model.bpk is not the model of epoch 2"
    );
    assert_eq!(config_epochs(&run), 2);
    assert_eq!(epoch_numbers(&run), vec![1, 2]);
    let stdout = visualize(1, root).stdout();
    assert!(stdout.contains("case1/model.bpk"), "{stdout}");
    // Asking for fewer epochs than trained changes nothing.
    let before = snapshot(&run);
    let stdout = base.epochs(1).arg("--resume").stdout();
    assert!(stdout.contains("nothing to do"), "{stdout}");
    assert_eq!(snapshot(&run), before);

    // A run whose files disagree (an older version's leftovers) is refused, not drawn.
    std::fs::copy(run.join("checkpoint/model-1.bpk"), run.join("model.bpk")).unwrap();
    let out = visualize(1, root).output();
    assert_one_line_error(
        &out,
        "files disagree: model.bpk is not the model of epoch 2",
    );
    assert!(stderr(&out).contains("--resume"));
}

#[test]
fn an_interrupted_test_pass_records_nothing_and_exit_codes_name_the_signal() {
    let dir = scratch();
    let root = arg(dir.path());
    // Batches of one image: the 10 000-image test pass takes far longer than the training pass.
    let child = case(7)
        .limit(100)
        .args(["--batch-size", "1"])
        .epochs(1)
        .artifacts(root)
        .spawn();
    let run = dir.path().join("case7");
    wait_until("the test pass", || {
        run.join("valid/epoch-1/Loss.log").is_file()
    });
    signal(&child, "INT");
    let out = child.wait_with_output().unwrap();
    let (stdout, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        !stdout.contains("epoch  1/1"),
        "an interrupted epoch was printed:\n{stdout}"
    );
    assert!(
        epoch_numbers(&run).is_empty(),
        "an interrupted epoch was recorded"
    );
    assert!(
        err.contains("stopped by Ctrl-C (SIGINT) during epoch 1; no epoch was saved"),
        "{err}"
    );
    assert!(!err.contains("checkpoint of epoch"), "{err}");

    // SIGTERM: 143, and the last checkpoint is named.
    let child = case(7)
        .limit(1000)
        .epochs(500)
        .arg("--overwrite")
        .artifacts(root)
        .spawn();
    wait_until("epoch 1", || checkpoint_saved(&run, 1));
    signal(&child, "TERM");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the checkpoint of epoch"),
        "{}",
        stderr(&out)
    );
    let recorded = epoch_numbers(&run);
    let newest = *recorded.last().unwrap();
    assert!(
        checkpoint_saved(&run, newest),
        "epoch {newest} recorded without a checkpoint"
    );
}

#[test]
fn a_second_writer_is_refused_and_a_dead_writers_lock_is_taken_over() {
    let dir = scratch();
    let root = arg(dir.path());
    let training = case(1).limit(5000).epochs(30).artifacts(root);
    let mut first = training.spawn();
    let run = dir.path().join("case1");
    wait_until("the first run's config", || {
        run.join("config.json").is_file()
    });
    let pid = first.id().to_string();
    for extra in [&["--resume"][..], &["--overwrite"], &["--seed", "4"]] {
        let out = training.args(extra).output();
        assert_one_line_error(&out, &format!("case1 is in use by pid {pid} on "));
    }
    first.kill().unwrap(); // SIGKILL: no clean-up runs
    first.wait().unwrap();
    let out = training.arg("--resume").epochs(1).output();
    stdout_of_success(&out);
    assert!(
        stderr(&out).contains(&format!("taking over the lock left by pid {pid} on ")),
        "{}",
        stderr(&out)
    );
    assert!(run.join("model.bpk").is_file());
}

#[test]
fn a_full_disk_stops_the_run_cleanly_and_resume_continues() {
    let dir = scratch();
    // A 16 MB file system (case 7 needs about 9 MB); needs root, as in CI.
    let Some(_tmpfs) = small_tmpfs(dir.path(), "16m") else {
        return;
    };
    let root = arg(dir.path());
    let training = case(7).limit(1000).epochs(40).artifacts(root);
    let child = training.spawn();
    let run = dir.path().join("case7");
    wait_until("the checkpoint of epoch 1", || checkpoint_saved(&run, 1));
    // Fill the file system while training goes on.
    let filler = dir.path().join("filler");
    Command::new("dd")
        .args(["if=/dev/zero", "bs=64k"])
        .arg(format!("of={}", filler.display()))
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_one_line_error(&out, "disk full");
    assert!(
        err.contains(&format!("{}/", run.display())),
        "names no file: {err}"
    );
    assert!(err.contains("is kept") && err.contains("--resume"), "{err}");
    let kept = (1..=40).rev().find(|&e| checkpoint_saved(&run, e)).unwrap();
    assert!(
        err.contains(&format!("the checkpoint of epoch {kept} is kept")),
        "{err}"
    );

    std::fs::remove_file(&filler).unwrap();
    let out = training.arg("--resume").output();
    let stdout = stdout_of_success(&out);
    assert!(
        stdout.contains(&format!("resuming after epoch {kept}")),
        "{stdout}"
    );
    assert_eq!(epoch_numbers(&run), (1..=40).collect::<Vec<_>>());
    assert!(run.join("model.bpk").is_file());
}
