//! Backend parity and determinism, through the real `train` binary on a small MNIST subset.
//! wgpu runs on whatever adapter exists; CI installs Mesa's software Vulkan driver for it. The
//! tests that train on wgpu are slow there (minutes): ignored by default, run by CI.

use std::path::Path;

use crate::util::*;

/// `train compare --case N --backends LIST`, its flags to follow.
fn compare(case: u32, backends: &str) -> Train {
    subcommand("compare")
        .case(case)
        .args(["--backends", backends])
}

/// `compare-<case>/compare.json` under `artifacts`.
fn compare_json(artifacts: &Path, case: &str) -> serde_json::Value {
    let path = artifacts.join(format!("compare-{case}/compare.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// (train loss, test MSE) per epoch of a run.
fn losses(run: &Path) -> Vec<(f64, f64)> {
    epochs(run)
        .iter()
        .map(|r| (r.train_loss, r.test_mse))
        .collect()
}

/// Trains case 6 twice with seed 5 on `backend` and asserts that both runs log the same losses.
fn assert_the_same_seed_gives_identical_losses(backend: &str) {
    let dir = scratch();
    let mut runs = Vec::new();
    for attempt in ["a", "b"] {
        let artifacts = dir.path().join(format!("{backend}-{attempt}"));
        case(6)
            .args(["--backend", backend])
            .limit(300)
            .epochs(2)
            .seed(5)
            .artifacts(&artifacts)
            .stdout();
        runs.push(losses(&artifacts.join("case6")));
    }
    assert_eq!(runs[0], runs[1], "{backend}: two runs with seed 5 differ");
}

#[test]
fn flex_and_ndarray_agree_with_dropout_on() {
    let dir = scratch();
    let stdout = compare(1, "flex,ndarray")
        .epochs(2)
        .limit(500)
        .artifacts(dir.path())
        .stdout();
    assert!(stdout.contains("| epoch | backend |"), "{stdout}");
    let report = compare_json(dir.path(), "case1");
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
    assert!(dir.path().join("compare-case1/compare.md").is_file());
}

#[test]
#[ignore = "slow: trains on wgpu (minutes on a software driver); CI runs it after the default tests: cargo test --release --workspace --locked -- --ignored"]
fn wgpu_agrees_with_flex_without_dropout() {
    let dir = scratch();
    compare(7, "flex,wgpu")
        .epochs(1)
        .limit(300)
        .arg("--no-dropout")
        .artifacts(dir.path())
        .stdout();
    let report = compare_json(dir.path(), "case7");
    let device = report[0]["runs"][1]["device"].as_str().unwrap();
    assert!(device.starts_with("wgpu on "), "{device}");
    let rel = report[0]["max_test_mse_rel_diff"].as_f64().unwrap();
    assert!(
        rel < 1e-3,
        "wgpu vs flex test MSE differ by {rel} (relative)"
    );
}

#[test]
#[ignore = "slow: trains on wgpu (minutes on a software driver); CI runs it after the default tests: cargo test --release --workspace --locked -- --ignored"]
fn wgpu_agrees_with_flex_in_statistics_with_dropout_on() {
    // Same initial weights; the dropout masks differ (each backend's random stream seeds them).
    let dir = scratch();
    compare(5, "flex,wgpu")
        .epochs(1)
        .limit(500)
        .artifacts(dir.path())
        .stdout();
    let report = compare_json(dir.path(), "case5");
    let rel = report[0]["max_test_mse_rel_diff"].as_f64().unwrap();
    assert!(
        rel < 0.03,
        "wgpu vs flex test MSE differ by {rel} (relative) with dropout on"
    );
    assert!(rel > 0.0, "different masks should give some difference");
}

#[test]
fn the_same_seed_gives_identical_losses_on_each_cpu_backend() {
    for backend in ["flex", "ndarray"] {
        assert_the_same_seed_gives_identical_losses(backend);
    }
}

#[test]
#[ignore = "slow: trains on wgpu (minutes on a software driver); CI runs it after the default tests: cargo test --release --workspace --locked -- --ignored"]
fn the_same_seed_gives_identical_losses_on_wgpu() {
    assert_the_same_seed_gives_identical_losses("wgpu");
}
