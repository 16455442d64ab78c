//! Training through the real `train` binary on a small subset of the vendored MNIST: epoch lines,
//! the run's files, checkpoints and resume, each backend that needs no GPU, and one-line errors for
//! bad input (a missing wgpu adapter included).

use std::path::Path;

use crate::util::*;

/// One epoch of case 7 on `backend`, on the first `limit` images, under `root`.
fn one_epoch_on(backend: &str, limit: usize, root: &Path) -> Train {
    case(7)
        .args(["--backend", backend])
        .limit(limit)
        .epochs(1)
        .artifacts(root)
}

#[test]
fn trains_checkpoints_and_resumes() {
    let dir = scratch();
    let root = arg(dir.path());
    let base = case(7).limit(2000).artifacts(root);
    let stdout = base.epochs(2).stdout();
    // One concise line per epoch, no per-batch lines.
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("epoch ")).collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[1].contains("train loss") && lines[1].contains("test MSE"),
        "{stdout}"
    );
    assert!(stdout.lines().count() < 12, "too chatty:\n{stdout}");

    let run = dir.path().join("case7");
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
    assert_eq!(epoch_numbers(&run), vec![1, 2]);
    assert!(
        rows[1].train_loss < rows[0].train_loss,
        "train loss did not fall: {rows:?}"
    );
    assert!(
        rows[1].test_mse < rows[0].test_mse,
        "test MSE did not fall: {rows:?}"
    );
    assert!(rows[1].test_mse < 0.1, "{rows:?}");

    let resume = base.epochs(3).arg("--resume");
    let stdout = resume.stdout();
    assert!(stdout.contains("resuming after epoch 2"), "{stdout}");
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("epoch ")).collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(lines[0].starts_with("epoch  3/3"), "{stdout}");
    let rows = epochs(&run);
    assert_eq!(epoch_numbers(&run), vec![1, 2, 3]);
    // The resumed epoch starts from the trained weights, not from scratch.
    assert!(rows[2].test_mse < rows[0].test_mse, "{rows:?}");
    assert!(run.join("checkpoint/model-3.bpk").is_file());
    let config = std::fs::read_to_string(run.join("config.json")).unwrap();
    assert!(config.contains("\"epochs\": 3"), "{config}");

    // Asking for fewer epochs than trained does nothing.
    let stdout = resume.stdout();
    assert!(stdout.contains("nothing to do"), "{stdout}");
}

#[test]
fn ndarray_backend_trains() {
    let dir = scratch();
    let out = one_epoch_on("ndarray", 500, dir.path()).output();
    assert!(stdout_of_success(&out).contains("ndarray on CPU"));
    assert_eq!(epochs(&dir.path().join("case7")).len(), 1);
}

#[test]
fn bad_input_is_one_line_error() {
    let dir = scratch();
    let root = arg(dir.path());
    assert_one_line_error(&case(9).artifacts(root).output(), "unknown case 9");
    assert_one_line_error(
        &case(1).args(["--backend", "tpu"]).output(),
        "unknown backend 'tpu'",
    );
    assert_one_line_error(&Train::new().artifacts(root).output(), "--case");
    assert_one_line_error(
        &case(7)
            .args(["--data-dir", "/no/such/dir"])
            .artifacts(root)
            .output(),
        "/no/such/dir: MNIST directory not found",
    );
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[model]\nhidden = 10\nactivation = \"relu\"\nwidth = 3\n",
    )
    .unwrap();
    assert_one_line_error(&Train::new().config(&bad).artifacts(root).output(), "width");
    std::fs::write(&bad, "[model\nhidden = 10").unwrap();
    assert_one_line_error(
        &Train::new().config(&bad).artifacts(root).output(),
        "bad.toml",
    );
    assert_one_line_error(
        &Train::new()
            .config("/no/such.toml")
            .artifacts(root)
            .output(),
        "/no/such.toml: cannot read config",
    );
    assert_one_line_error(
        &case(7).arg("--resume").artifacts(root).output(),
        "--resume needs a previous run",
    );
    assert_one_line_error(&case(7).config(&bad).output(), "cannot be used with");
    assert_one_line_error(
        &case(7).epochs(0).artifacts(root).output(),
        "'--epochs <N>': must be at least 1",
    );
    assert_one_line_error(
        &case(7).limit(50).artifacts(root).output(),
        "the batch size (100) is larger than the 50 training images",
    );
}

#[test]
fn wgpu_without_an_adapter_is_a_one_line_error() {
    let dir = scratch();
    // The Vulkan loader finds no driver; wgpu's OpenGL fallback is deliberately not used.
    let out = one_epoch_on("wgpu", 100, dir.path())
        .command()
        .env("VK_ICD_FILENAMES", "/nonexistent.json")
        .env("VK_DRIVER_FILES", "/nonexistent.json")
        .output()
        .unwrap();
    assert_one_line_error(&out, "no Vulkan, Metal or DirectX 12 adapter");
    assert!(stderr(&out).contains("--backend flex"));
}
