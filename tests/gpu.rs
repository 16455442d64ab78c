//! `benches/gpu.sh`, the GPU sweep, run end to end on whatever wgpu adapter exists (in CI, Mesa's
//! software Vulkan driver) with a small subset, so that the script works when a GPU machine runs it.
//! Slow on a software driver: ignored by default, run by CI.

use std::process::Command;

use crate::util::*;

#[test]
#[ignore = "slow: benches/gpu.sh trains on wgpu (minutes on a software driver); CI runs it after the default tests: cargo test --release --workspace --locked -- --ignored"]
fn the_sweep_script_trains_and_tabulates_each_backend() {
    let root = workspace_root();
    let out = scratch();
    let run = Command::new("bash")
        .arg(root.join("benches/gpu.sh"))
        .args(["--backends", "wgpu,flex", "--cases", "7", "--limit", "300"])
        .args(["--epochs", "2", "--out", arg(out.path())])
        .current_dir(&root)
        .env("CUBECL_AUTOTUNE_LEVEL", "minimal")
        .env_remove("MNIST_DIR")
        .output()
        .unwrap();
    stdout_of_success(&run);
    let table = std::fs::read_to_string(out.path().join("sweep.md")).unwrap();
    for backend in ["wgpu", "flex"] {
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("| 7 | {backend} | 2 |")))
            .unwrap_or_else(|| panic!("no row for {backend}:\n{table}"));
        // s/epoch, first epoch, total, test MSE: all numbers, the MSE a plausible one.
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let mse: f64 = cells[7].parse().unwrap();
        assert!(mse > 0.0 && mse < 0.2, "{row}");
        for cell in &cells[4..7] {
            cell.parse::<f64>().unwrap_or_else(|_| panic!("{row}"));
        }
    }
    assert!(table.contains("wgpu: all cases together"), "{table}");
    assert!(!table.contains("skipped"), "{table}");
}
