//! Helpers shared by the end-to-end tests.

#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh, empty directory for one test of one suite.
pub fn scratch(suite: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{suite}-e2e-{}-{name}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Asserts that a run succeeded (showing its output if not) and returns its stdout.
pub fn stdout_of_success(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Asserts that a run failed with exactly one line on stderr, an `error…` containing `expected`,
/// and no panic.
pub fn assert_one_line_error(out: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {stderr}");
    assert!(
        !stderr.contains("panicked"),
        "panic instead of an error: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got:\n{stderr}");
    assert!(
        lines[0].starts_with("error") && lines[0].contains(expected),
        "{stderr}"
    );
}

/// The headless browser on this machine; none (the caller skips, saying so) only outside CI,
/// which must install it.
pub fn chromium() -> Option<&'static str> {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if browser.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium (see .ci/run)"
        );
        eprintln!("skipped: no chromium on this machine");
    }
    browser
}

/// Flags for a quiet headless Chromium that reaches nothing but the page.
pub const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// Takes a screenshot of `url` into `shot` with headless Chromium (`flags` after the common ones)
/// and asserts that it shows something: more than 50 grey levels.
pub fn assert_screenshot(browser: &str, profile: &Path, url: &str, shot: &Path, flags: &[&str]) {
    let out = Command::new(browser)
        .args(CHROMIUM_FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .args(flags)
        .arg(url)
        .output()
        .unwrap();
    assert!(
        shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let image = figures::image::open(shot).unwrap().to_luma8();
    let mut seen = [false; 256];
    image.pixels().for_each(|p| seen[p.0[0] as usize] = true);
    assert!(
        seen.iter().filter(|&&s| s).count() > 50,
        "the screenshot looks blank"
    );
}
