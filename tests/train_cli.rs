//! End-to-end tests of the real `train` binary on a small subset of the vendored MNIST.

mod common;
use common::{assert_one_line_error, scratch};

use std::path::Path;
use std::process::{Command, Output};

fn train(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_train"))
        .args(args)
        .env_remove("MNIST_DIR")
        .output()
        .expect("the train binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// (epoch, train loss, test MSE) rows of a run's epochs.csv.
fn epochs(run: &Path) -> Vec<(usize, f64, f64)> {
    std::fs::read_to_string(run.join("epochs.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn trains_checkpoints_and_resumes() {
    let root = scratch("train", "resume");
    let root_s = root.to_str().unwrap();
    let out = train(&[
        "--case",
        "7",
        "--limit",
        "2000",
        "--epochs",
        "2",
        "--artifacts",
        root_s,
    ]);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    // One concise line per epoch, no per-batch lines.
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("epoch ")).collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[1].contains("train loss") && lines[1].contains("test MSE"),
        "{stdout}"
    );
    assert!(stdout.lines().count() < 12, "too chatty:\n{stdout}");

    let run = root.join("case7");
    for file in [
        "config.json",
        "model.bpk",
        "epochs.csv",
        "checkpoint/model-2.bpk",
        "checkpoint/optim-2.bpk",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    let rows = epochs(&run);
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), vec![1, 2]);
    assert!(rows[1].1 < rows[0].1, "train loss did not fall: {rows:?}");
    assert!(rows[1].2 < rows[0].2, "test MSE did not fall: {rows:?}");
    assert!(rows[1].2 < 0.1, "{rows:?}");

    let out = train(&[
        "--case",
        "7",
        "--limit",
        "2000",
        "--epochs",
        "3",
        "--resume",
        "--artifacts",
        root_s,
    ]);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("resuming after epoch 2"), "{stdout}");
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("epoch ")).collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(lines[0].starts_with("epoch  3/3"), "{stdout}");
    let rows = epochs(&run);
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), vec![1, 2, 3]);
    // The resumed epoch starts from the trained weights, not from scratch.
    assert!(rows[2].2 < rows[0].2, "{rows:?}");
    assert!(run.join("checkpoint/model-3.bpk").is_file());
    let config = std::fs::read_to_string(run.join("config.json")).unwrap();
    assert!(config.contains("\"epochs\": 3"), "{config}");

    // Asking for fewer epochs than trained does nothing.
    let out = train(&[
        "--case",
        "7",
        "--limit",
        "2000",
        "--epochs",
        "3",
        "--resume",
        "--artifacts",
        root_s,
    ]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("nothing to do"));
}

#[test]
fn ndarray_backend_trains() {
    let root = scratch("train", "ndarray");
    let out = train(&[
        "--case",
        "7",
        "--backend",
        "ndarray",
        "--limit",
        "500",
        "--epochs",
        "1",
        "--artifacts",
        root.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("ndarray on CPU"));
    assert_eq!(epochs(&root.join("case7")).len(), 1);
}

#[test]
fn bad_input_is_one_line_error() {
    let root = scratch("train", "bad");
    let root_s = root.to_str().unwrap();
    assert_one_line_error(
        &train(&["--case", "9", "--artifacts", root_s]),
        "unknown case 9",
    );
    assert_one_line_error(
        &train(&["--case", "1", "--backend", "tpu"]),
        "unknown backend 'tpu'",
    );
    assert_one_line_error(&train(&["--artifacts", root_s]), "--case");
    assert_one_line_error(
        &train(&[
            "--case",
            "7",
            "--data-dir",
            "/no/such/dir",
            "--artifacts",
            root_s,
        ]),
        "/no/such/dir: MNIST directory not found",
    );
    let bad = root.join("bad.toml");
    std::fs::write(
        &bad,
        "[model]\nhidden = 10\nactivation = \"relu\"\nwidth = 3\n",
    )
    .unwrap();
    assert_one_line_error(
        &train(&["--config", bad.to_str().unwrap(), "--artifacts", root_s]),
        "width",
    );
    std::fs::write(&bad, "[model\nhidden = 10").unwrap();
    assert_one_line_error(
        &train(&["--config", bad.to_str().unwrap(), "--artifacts", root_s]),
        "bad.toml",
    );
    assert_one_line_error(
        &train(&["--config", "/no/such.toml", "--artifacts", root_s]),
        "/no/such.toml: cannot read config",
    );
    assert_one_line_error(
        &train(&["--case", "7", "--resume", "--artifacts", root_s]),
        "--resume needs a previous run",
    );
    assert_one_line_error(
        &train(&["--case", "7", "--config", bad.to_str().unwrap()]),
        "cannot be used with",
    );
    assert_one_line_error(
        &train(&["--case", "7", "--epochs", "0", "--artifacts", root_s]),
        "'--epochs <N>': must be at least 1",
    );
    assert_one_line_error(
        &train(&["--case", "7", "--limit", "50", "--artifacts", root_s]),
        "the batch size (100) is larger than the 50 training images",
    );
}

#[test]
fn wgpu_without_an_adapter_is_a_one_line_error() {
    let root = scratch("train", "no-adapter");
    // The Vulkan loader finds no driver; wgpu's OpenGL fallback is deliberately not used.
    let out = Command::new(env!("CARGO_BIN_EXE_train"))
        .args([
            "--case",
            "7",
            "--backend",
            "wgpu",
            "--limit",
            "100",
            "--epochs",
            "1",
        ])
        .args(["--artifacts", root.to_str().unwrap()])
        .env("VK_ICD_FILENAMES", "/nonexistent.json")
        .env("VK_DRIVER_FILES", "/nonexistent.json")
        .output()
        .unwrap();
    assert_one_line_error(&out, "no Vulkan, Metal or DirectX 12 adapter");
    assert!(text(&out.stderr).contains("--backend flex"));
}
