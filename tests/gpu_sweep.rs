//! `benches/gpu.sh`, the GPU sweep, run end to end on whatever wgpu adapter exists (in CI, Mesa's
//! software Vulkan driver) with a small subset, so that the script works when a GPU machine runs it.

mod common;
use common::scratch;

use std::path::Path;
use std::process::Command;

#[test]
fn the_sweep_script_trains_and_tabulates_each_backend() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = scratch("gpu-sweep", "out");
    let run = Command::new("bash")
        .arg(root.join("benches/gpu.sh"))
        .args(["--backends", "wgpu,flex", "--cases", "7", "--limit", "300"])
        .args(["--epochs", "2", "--out"])
        .arg(&out)
        .current_dir(&root)
        .env("CUBECL_AUTOTUNE_LEVEL", "minimal")
        .env_remove("MNIST_DIR")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let table = std::fs::read_to_string(out.join("sweep.md")).unwrap();
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
    std::fs::remove_dir_all(&out).ok();
}
