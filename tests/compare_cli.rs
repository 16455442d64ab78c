//! Backend parity and determinism, through the real `train` binary on a small MNIST subset.
//! wgpu runs on whatever adapter exists; CI installs Mesa's software Vulkan driver for it.

mod common;
use common::{scratch, stdout_of_success};

use std::path::Path;
use std::process::{Command, Output};

const TRAIN: &str = env!("CARGO_BIN_EXE_train");

/// Runs `train`; wgpu autotunes at its lowest level, which halves a cold start (measured 61 s
/// vs 116 s for case 7 on Mesa's llvmpipe) and is all a few hundred images need.
fn train(args: &[&str]) -> String {
    let out: Output = Command::new(TRAIN)
        .args(args)
        .env_remove("MNIST_DIR")
        .env("CUBECL_AUTOTUNE_LEVEL", "minimal")
        .output()
        .unwrap();
    stdout_of_success(&out)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// (train loss, test MSE) per epoch of a run.
fn losses(run: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(run.join("epochs.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1].to_string(), f[2].to_string())
        })
        .collect()
}

#[test]
fn flex_and_ndarray_agree_with_dropout_on() {
    let root = scratch("compare", "cpu");
    let stdout = train(&[
        "compare",
        "--case",
        "1",
        "--backends",
        "flex,ndarray",
        "--epochs",
        "2",
        "--limit",
        "500",
        "--artifacts",
        root.to_str().unwrap(),
    ]);
    assert!(stdout.contains("| epoch | backend |"), "{stdout}");
    let report = json(&root.join("compare-case1/compare.json"));
    let rel = report[0]["max_test_mse_rel_diff"].as_f64().unwrap();
    assert!(
        rel < 1e-4,
        "flex vs ndarray test MSE differ by {rel} (relative)"
    );
    let weights = report[0]["runs"][1]["epoch1_relative_weight_diff"]
        .as_f64()
        .unwrap();
    assert!(
        weights < 1e-4,
        "weights after epoch 1 differ by {weights} (relative)"
    );
    assert!(root.join("compare-case1/compare.md").is_file());
}

#[test]
fn wgpu_agrees_with_flex_without_dropout() {
    let root = scratch("compare", "wgpu");
    train(&[
        "compare",
        "--case",
        "7",
        "--backends",
        "flex,wgpu",
        "--epochs",
        "1",
        "--limit",
        "300",
        "--no-dropout",
        "--artifacts",
        root.to_str().unwrap(),
    ]);
    let report = json(&root.join("compare-case7/compare.json"));
    let device = report[0]["runs"][1]["device"].as_str().unwrap();
    assert!(device.starts_with("wgpu on "), "{device}");
    let rel = report[0]["max_test_mse_rel_diff"].as_f64().unwrap();
    assert!(
        rel < 1e-3,
        "wgpu vs flex test MSE differ by {rel} (relative)"
    );
}

#[test]
fn wgpu_agrees_with_flex_in_statistics_with_dropout_on() {
    // Same initial weights; the dropout masks differ (each backend's random stream seeds them).
    let root = scratch("compare", "wgpu-dropout");
    train(&[
        "compare",
        "--case",
        "5",
        "--backends",
        "flex,wgpu",
        "--epochs",
        "1",
        "--limit",
        "500",
        "--artifacts",
        root.to_str().unwrap(),
    ]);
    let report = json(&root.join("compare-case5/compare.json"));
    let rel = report[0]["max_test_mse_rel_diff"].as_f64().unwrap();
    assert!(
        rel < 0.03,
        "wgpu vs flex test MSE differ by {rel} (relative) with dropout on"
    );
    assert!(rel > 0.0, "different masks should give some difference");
}

#[test]
fn the_same_seed_gives_identical_losses_on_each_backend() {
    let root = scratch("compare", "determinism");
    for backend in ["flex", "ndarray", "wgpu"] {
        let mut runs = Vec::new();
        for attempt in ["a", "b"] {
            let dir = root.join(format!("{backend}-{attempt}"));
            train(&[
                "--case",
                "6",
                "--backend",
                backend,
                "--limit",
                "300",
                "--epochs",
                "2",
                "--seed",
                "5",
                "--artifacts",
                dir.to_str().unwrap(),
            ]);
            runs.push(losses(&dir.join("case6")));
        }
        assert_eq!(runs[0], runs[1], "{backend}: two runs with seed 5 differ");
    }
}
