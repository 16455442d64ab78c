//! The libraries from another program: a notebook-style example trains case 7 through the run
//! crate with a recording sink, and nothing reaches the terminal but what that program prints.

use std::path::PathBuf;
use std::process::Command;

use crate::util::*;

/// The example `notebook` of the run crate, built beside the program by `cargo test`.
fn notebook() -> PathBuf {
    let program = PathBuf::from(env!("CARGO_BIN_EXE_train"));
    program.parent().unwrap().join("examples").join("notebook")
}

#[test]
fn a_training_through_the_library_writes_nothing_to_the_terminal() {
    let dir = scratch();
    let out = Command::new(notebook())
        .args(["--quiet", arg(dir.path()), "1", "1000"])
        .env_remove("MNIST_DIR")
        .output()
        .expect("the notebook example is built by cargo test");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        out.stdout.is_empty(),
        "the library printed: {}",
        stdout(&out)
    );
    assert!(
        out.stderr.is_empty(),
        "the library printed: {}",
        stderr(&out)
    );
    let run = dir.path().join("case7");
    assert_eq!(epoch_numbers(&run), [1]);
    assert!(run.join("model.bpk").exists());
    // Without --quiet, the program prints the epochs it read from the library's events.
    let said = Command::new(notebook())
        .args([arg(&dir.path().join("again")), "1", "1000"])
        .output()
        .unwrap();
    let text = stdout_of_success(&said);
    assert!(
        text.starts_with("epoch 1: train loss ") && text.contains("model: "),
        "{text}"
    );
}

/// The study in stock Burn (`crates/trainer/examples/stock.rs`), at one epoch on a subset: it
/// trains case 7 with Burn's own parts and prints its test MSE.
#[test]
fn the_study_in_stock_burn_trains_and_prints_its_test_mse() {
    let program = PathBuf::from(env!("CARGO_BIN_EXE_train"));
    let stock = program.parent().unwrap().join("examples").join("stock");
    let out = Command::new(stock)
        .args(["--epochs", "1", "--limit", "1000"])
        .env_remove("MNIST_DIR")
        .output()
        .expect("the stock example is built by cargo test");
    let text = stdout_of_success(&out);
    assert!(
        text.contains("case 7: ") && text.contains("; 1000 training images"),
        "{text}"
    );
    let mse: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("test MSE "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no test MSE line: {text}"));
    // One epoch on 1000 images: far from trained (measured 0.113), but a number, and learning.
    assert!(mse > 0.0 && mse < 0.2, "{text}");
}
