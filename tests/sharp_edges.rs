//! The first hour's sharp edges, through the real `train` binary: bad numbers in a config, a
//! diverging run, a closed pipe, argument and TOML errors, unbounded options, loose ends.

use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::util::*;

/// A small case file: Sigmoid, 20 hidden units, with `extra` lines in `[training]`.
fn config_file(dir: &Path, name: &str, training: &str) -> String {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!("[model]\nhidden = 20\nactivation = \"sigmoid\"\n[training]\n{training}\n"),
    )
    .unwrap();
    arg(&path).to_string()
}

#[test]
fn adam_settings_are_validated_naming_the_field() {
    let dir = scratch();
    let root = arg(dir.path());
    for (line, expected) in [
        (
            "beta_1 = nan",
            "training.beta_1: must be in [0, 1), got NaN",
        ),
        (
            "beta_1 = 1.5",
            "training.beta_1: must be in [0, 1), got 1.5",
        ),
        (
            "beta_2 = -2.0",
            "training.beta_2: must be in [0, 1), got -2",
        ),
        (
            "epsilon = -1.0",
            "training.epsilon: must be positive, got -1",
        ),
        (
            "learning_rate = inf",
            "training.learning_rate: must be positive",
        ),
    ] {
        let file = config_file(dir.path(), "adam", line);
        assert_one_line_error(
            &Train::new().config(&file).artifacts(root).output(),
            expected,
        );
    }
    assert!(
        !dir.path().join("adam").exists(),
        "a refused config left a run directory"
    );
}

#[test]
fn divergence_stops_the_run_naming_epoch_and_step() {
    let dir = scratch();
    let root = arg(dir.path());
    let file = config_file(dir.path(), "wild", "learning_rate = 1e30\nepochs = 3");
    let out = Train::new()
        .config(&file)
        .limit(1000)
        .artifacts(root)
        .output();
    assert_one_line_error(&out, "training diverged: the loss became ");
    let stderr = stderr(&out);
    assert!(
        stderr.contains("at epoch 1, training step ") && stderr.contains("learning rate 1e30"),
        "{stderr}"
    );
    assert!(stderr.contains("no epoch was saved"), "{stderr}");
    assert!(!stdout(&out).contains("epoch  1/3"));
    assert!(!dir.path().join("wild/model.bpk").exists());
}

#[test]
fn a_closed_pipe_drops_lines_and_the_work_goes_on() {
    let dir = scratch();
    let root = arg(dir.path());
    for command in [
        case(7).limit(1000).epochs(3).artifacts(root),
        visualize(7, root),
    ] {
        // `train … | head -1`: read one line, then close the pipe.
        let mut child = command.spawn();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty());
        let out = child.wait_with_output().unwrap();
        let stderr = stderr(&out);
        assert!(out.status.success(), "{command:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{stderr}");
    }
    assert!(dir.path().join("case7/model.bpk").is_file());
    assert!(dir.path().join("case7/figures/w2t.png").is_file());
}

#[test]
fn an_empty_mnist_dir_means_the_vendored_data() {
    let dir = scratch();
    let small = case(7).epochs(1).limit(100).artifacts(dir.path());
    stdout_of_success(&small.command().env("MNIST_DIR", "").output().unwrap());
}

#[test]
fn argument_and_toml_errors_say_what_is_wrong_where() {
    let dir = scratch();
    let root = arg(dir.path());
    let help = stdout_of_success(&train(&["visualize", "--help"]));
    assert!(help.starts_with("Draw a trained run's figures"), "{help}");
    let out = train(&["compare", "--backends", "flex"]);
    assert_one_line_error(
        &out,
        "the following required arguments were not provided: --case <N>",
    );
    assert_eq!(out.status.code(), Some(2));

    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[model]\nhidden = 10\nactivation = \"relu\"\ndropout = \"0.5\"\n",
    )
    .unwrap();
    let out = Train::new().config(&path).artifacts(root).output();
    assert_one_line_error(&out, "line 4: model.dropout: invalid type: string \"0.5\"");
    assert!(stderr(&out).contains("a probability in [0, 1)"));
    let file = config_file(dir.path(), "negative", "epochs = -3");
    let out = Train::new().config(&file).artifacts(root).output();
    assert_one_line_error(&out, "line 5: training.epochs: invalid value");
    assert!(stderr(&out).contains("whole number"));
}

#[test]
fn options_are_bounded_instead_of_silently_changed() {
    let dir = scratch();
    let root = arg(dir.path());
    let one_epoch = case(7).limit(1000).epochs(1).artifacts(root);
    one_epoch.stdout();
    let summary = one_epoch.name("one").stdout();
    assert!(
        summary.contains(", 1 epoch\n") && !summary.contains("1 epochs"),
        "{summary}"
    );
    let draw = |extra: &[&str]| visualize(7, root).args(extra).output();
    assert_one_line_error(&draw(&["--zoom", "100"]), "100 is not in 1..=8");
    assert_one_line_error(&draw(&["--zoom", "0"]), "0 is not in 1..=8");
    assert_one_line_error(&draw(&["--samples", "0"]), "0 is not in 1..=1000");
    assert_one_line_error(&draw(&["--samples", "100000"]), "100000 is not in 1..=1000");
    assert_one_line_error(
        &draw(&["--compare", "case7"]),
        "--compare case7: that is the run being drawn",
    );
    assert_one_line_error(
        &draw(&["--compare", "all"]),
        "--compare all: no other study case",
    );
    assert_one_line_error(&draw(&["--compare", "nothere"]), "--compare nothere: ");
    assert!(
        !dir.path().join("case7/figures").exists(),
        "a refused drawing wrote figures"
    );
    assert_one_line_error(
        &case(7).limit(70000).artifacts(root).name("x").output(),
        "limit: 70000 is more than the 60000 training images",
    );
    assert_one_line_error(
        &subcommand("compare")
            .case(7)
            .args(["--backends", "flex,flex"])
            .artifacts(root)
            .output(),
        "--backends: flex is listed twice",
    );
    // Failed starts leave no run directory behind.
    case(3)
        .args(["--data-dir", "/nonexistent"])
        .artifacts(root)
        .output();
    case(4).arg("--resume").artifacts(root).output();
    for name in ["case3", "case4", "x"] {
        assert!(!dir.path().join(name).exists(), "{name}");
    }
    // A run started afresh does not carry the old run's application log.
    let log = dir.path().join("case7/experiment.log");
    let first = std::fs::metadata(&log).map_or(0, |m| m.len());
    case(7)
        .limit(1000)
        .epochs(1)
        .seed(3)
        .arg("--overwrite")
        .artifacts(root)
        .stdout();
    let second = std::fs::metadata(&log).map_or(0, |m| m.len());
    assert!(
        second <= first + first / 2 + 1024,
        "experiment.log grew from {first} to {second}"
    );
}

#[test]
fn an_epochs_loss_is_the_mean_over_its_images() {
    let dir = scratch();
    let root = arg(dir.path());
    // 150 images in batches of 100: a full batch and a half one.
    case(7).limit(150).epochs(1).artifacts(root).stdout();
    let log = std::fs::read_to_string(dir.path().join("case7/train/epoch-1/Loss.log")).unwrap();
    let mut batches = Vec::new();
    let mut logged_final = None;
    for line in log.lines() {
        let (value, rest) = line.split_once(',').unwrap();
        let value: f64 = value.parse().unwrap();
        match rest {
            "final" => logged_final = Some(value),
            count => batches.push((value, count.parse::<f64>().unwrap())),
        }
    }
    assert_eq!(
        batches.iter().map(|b| b.1).collect::<Vec<_>>(),
        vec![100.0, 50.0]
    );
    let per_image = (batches[0].0 * 100.0 + batches[1].0 * 50.0) / 150.0;
    let printed = epochs(&dir.path().join("case7"))[0].train_loss;
    assert!(
        (printed - per_image).abs() < 1e-12,
        "{printed} vs {per_image}"
    );
    assert_eq!(logged_final, Some(printed));
    let batch_mean = (batches[0].0 + batches[1].0) / 2.0;
    assert!(
        (printed - batch_mean).abs() > 1e-9,
        "indistinguishable from a mean of batch means"
    );
}
