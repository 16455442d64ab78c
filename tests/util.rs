//! What the end-to-end tests share: the `train` binary, scratch directories, assertions on its
//! output, a run directory's files, a `train serve` on a free port with a plain HTTP client, and
//! headless Chromium.

#![allow(dead_code)] // each test module uses its own subset

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

// `::train` is the program's library crate, not the test binary's `train` module.
use ::train::commands::serve;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use figures::image::GrayImage;
use serde_json::Value;
pub use tempfile::TempDir;
use tower::ServiceExt;
use trainer::epochs::{EPOCHS_CSV, EpochRecord, read_epochs};

/// The workspace root (the README, `benches/`, the vendored data).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/train sits two levels below the root")
        .to_path_buf()
}

/// The `train` binary under test (`TRAIN_BIN` runs the same tests against another build, e.g.
/// an older one, to see which of them it fails).
pub fn bin() -> PathBuf {
    std::env::var_os("TRAIN_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_train")))
}

/// `train ARGS` as a user runs it (the vendored MNIST, wgpu's short tuning).
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(bin());
    command
        .args(args)
        .env_remove("MNIST_DIR")
        .env("CUBECL_AUTOTUNE_LEVEL", "minimal");
    command
}

/// Runs `train ARGS` to the end.
pub fn train(args: &[&str]) -> Output {
    command(args).output().unwrap()
}

/// A `train` command line, built flag by flag in the order written, run as [`command`] runs it
/// (after ripgrep's `TestCommand`): `case(7).limit(1000).epochs(2).artifacts(root).stdout()`.
/// Each step returns a new command, so that one can be the base of several.
#[derive(Clone, Default)]
pub struct Train {
    args: Vec<String>,
}

/// `train --case N`: a run of study case `n`, its flags to follow.
pub fn case(n: u32) -> Train {
    Train::new().case(n)
}

/// `train SUBCOMMAND` (`visualize`, `compare`, `export`, `import`, `report`, `sweep`, `serve`),
/// its flags to follow.
pub fn subcommand(name: &str) -> Train {
    Train::new().arg(name)
}

/// `train visualize --case N --artifacts DIR`, more flags to follow.
pub fn visualize(case: u32, artifacts: impl AsRef<Path>) -> Train {
    subcommand("visualize").case(case).artifacts(artifacts)
}

/// `train import FILE --name NAME --artifacts DIR`, more flags to follow.
pub fn import(file: &Path, name: &str, artifacts: impl AsRef<Path>) -> Train {
    subcommand("import")
        .arg(file)
        .name(name)
        .artifacts(artifacts)
}

impl Train {
    /// `train` with no arguments yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// This command followed by `arg`.
    pub fn arg(&self, arg: impl AsRef<OsStr>) -> Self {
        let arg = arg.as_ref().to_str().expect("test arguments are UTF-8");
        let mut next = self.clone();
        next.args.push(arg.to_string());
        next
    }

    /// This command followed by `args`.
    pub fn args<S: AsRef<OsStr>>(&self, args: impl IntoIterator<Item = S>) -> Self {
        args.into_iter()
            .fold(self.clone(), |command, arg| command.arg(arg))
    }

    /// `--case N`.
    pub fn case(&self, n: u32) -> Self {
        self.arg("--case").arg(n.to_string())
    }

    /// `--name NAME`.
    pub fn name(&self, name: &str) -> Self {
        self.arg("--name").arg(name)
    }

    /// `--limit N`: the first `n` training images.
    pub fn limit(&self, n: usize) -> Self {
        self.arg("--limit").arg(n.to_string())
    }

    /// `--epochs N`.
    pub fn epochs(&self, n: usize) -> Self {
        self.arg("--epochs").arg(n.to_string())
    }

    /// `--seed N`.
    pub fn seed(&self, n: u64) -> Self {
        self.arg("--seed").arg(n.to_string())
    }

    /// `--config FILE`: a run of the case file `file`.
    pub fn config(&self, file: impl AsRef<Path>) -> Self {
        self.arg("--config").arg(file.as_ref())
    }

    /// `--artifacts DIR`.
    pub fn artifacts(&self, dir: impl AsRef<Path>) -> Self {
        self.arg("--artifacts").arg(dir.as_ref())
    }

    /// The arguments, as `train` gets them.
    fn to_args(&self) -> Vec<&str> {
        self.args.iter().map(String::as_str).collect()
    }

    /// The command, to set more (environment, pipes) before it runs.
    pub fn command(&self) -> Command {
        command(&self.to_args())
    }

    /// Runs it to the end.
    pub fn output(&self) -> Output {
        train(&self.to_args())
    }

    /// Starts it with its output piped.
    pub fn spawn(&self) -> Child {
        spawn(&self.to_args())
    }

    /// Runs it to the end, asserts that it succeeded (showing its output if not) and returns its
    /// stdout.
    pub fn stdout(&self) -> String {
        stdout_of_success(&self.output())
    }
}

/// The argument list, as the tests print it.
impl std::fmt::Debug for Train {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.args.fmt(f)
    }
}

/// Starts `train ARGS` with its output piped.
pub fn spawn(args: &[&str]) -> Child {
    command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends signal `name` (`INT`, `TERM`, `KILL`, `HUP`) to `child`.
pub fn signal(child: &Child, name: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Waits (at most five minutes) until `ready` holds.
pub fn wait_until(what: &str, ready: impl Fn() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A file of tests/fixtures/weights.
pub fn fixture(name: &str) -> PathBuf {
    workspace_root().join("tests/fixtures/weights").join(name)
}

/// A fresh, empty directory, removed when dropped.
pub fn scratch() -> TempDir {
    tempfile::Builder::new()
        .prefix("burn-ae-e2e-")
        .tempdir()
        .unwrap()
}

/// A path as the `&str` an argument list takes.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("scratch paths are UTF-8")
}

/// Stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts that a run succeeded (showing its output if not) and returns its stdout.
pub fn stdout_of_success(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

/// Asserts that a run failed with exactly one line on stderr, an `error…` containing `expected`,
/// and no panic.
pub fn assert_one_line_error(out: &Output, expected: &str) {
    let stderr = stderr(out);
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

/// Asserts a usage error: exit code 2 and one line naming `expected`.
pub fn assert_usage_error(out: &Output, expected: &str) {
    assert_one_line_error(out, expected);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
}

/// Every file under `dir` with its bytes (the lock file's record aside).
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().unwrap() != ".lock" {
                files.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// A run's epoch log, read as the program reads it.
pub fn epochs(run: &Path) -> Vec<EpochRecord> {
    read_epochs(&run.join(EPOCHS_CSV))
}

/// The epoch numbers of a run's epoch log.
pub fn epoch_numbers(run: &Path) -> Vec<usize> {
    epochs(run).iter().map(|r| r.epoch).collect()
}

/// A run's `config.json`.
pub fn config_json(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap()
}

/// Copies directory `from` to `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The command that the error message of `out` advises, between backquotes (a panic naming
/// `what` where there is none).
pub fn advice(out: &Output, what: &str) -> String {
    let message = stderr(out);
    match message.split('`').nth(1) {
        Some(advice) => advice.to_string(),
        None => panic!("{what}: no command in {message}"),
    }
}

/// The names of a list of runs (`/api/runs`, or the `runs` of an answer).
pub fn run_names(runs: &Value) -> Vec<&str> {
    let runs = runs.as_array().unwrap();
    runs.iter().map(|r| r["name"].as_str().unwrap()).collect()
}

/// A small file system mounted on a directory, unmounted when dropped.
pub struct Tmpfs(PathBuf);

/// Mounts a tmpfs of `size` (`16m`) on `dir`; none where this machine cannot (it needs root, as
/// in CI), the caller skipping, as it says.
pub fn small_tmpfs(dir: &Path, size: &str) -> Option<Tmpfs> {
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .status();
    if !mounted.is_ok_and(|s| s.success()) {
        eprintln!("skipped: cannot mount a small tmpfs here (not root?)");
        return None;
    }
    Some(Tmpfs(dir.to_path_buf()))
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        Command::new("umount").arg(&self.0).status().ok();
    }
}

/// `train serve` on a free loopback port, stopped (SIGTERM) when dropped.
pub struct Server {
    /// The server process.
    pub child: Child,
    /// `127.0.0.1:PORT`.
    pub address: String,
}

impl Server {
    /// Serves `artifacts`.
    pub fn start(artifacts: &Path) -> Self {
        let mut child = subcommand("serve")
            .args(["--port", "0"])
            .artifacts(artifacts)
            .command()
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        // Reads the address, then keeps draining what the server prints.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sender.send(line).ok();
            }
        });
        let line = receiver
            .recv_timeout(Duration::from_secs(60))
            .expect("the server printed no address");
        let address = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        assert!(address.starts_with("127.0.0.1:"), "{line}");
        Self { child, address }
    }

    /// Whether the server still runs.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status()
            .ok();
        self.child.wait().ok();
    }
}

/// The answer to `method path` read as JSON (a panic showing it when it is not).
pub fn json_answer(method: &str, path: &str, answer: &[u8]) -> serde_json::Value {
    serde_json::from_slice(answer).unwrap_or_else(|e| {
        panic!(
            "{method} {path}: not JSON ({e}): {}",
            String::from_utf8_lossy(answer)
        )
    })
}

/// One request to `router`; the status and body of the answer.
async fn ask(router: &Router, method: &str, path: &str, body: Option<&[u8]>) -> (u16, Vec<u8>) {
    let request = Request::builder().method(method).uri(path);
    let request = match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_vec())),
        None => request.body(Body::empty()),
    }
    .unwrap();
    let answer = router.clone().oneshot(request).await.unwrap();
    let status = answer.status().as_u16();
    let body = axum::body::to_bytes(answer.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, body.to_vec())
}

/// The server's router over an artifacts directory, as `train serve` builds it, asked in-process
/// on a runtime of its own.
pub struct App {
    router: Router,
    runtime: tokio::runtime::Runtime,
    /// The server's temporary directory.
    pub cache: PathBuf,
}

impl App {
    /// Serves `artifacts` (the vendored test digits).
    pub fn new(artifacts: &Path) -> Self {
        let state = serve::state(artifacts, study::data::default_dir()).unwrap();
        let cache = state.cache.path().to_path_buf();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Self {
            router: serve::router(Arc::new(state)),
            runtime,
            cache,
        }
    }

    /// One request; the status and body of the answer.
    pub fn request(&self, method: &str, path: &str, body: Option<&[u8]>) -> (u16, Vec<u8>) {
        self.runtime.block_on(ask(&self.router, method, path, body))
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> (u16, Vec<u8>) {
        self.request("GET", path, None)
    }

    /// A JSON request and its JSON answer.
    pub fn json(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let bytes = body.map(|b| b.to_string().into_bytes());
        let (status, answer) = self.request(method, path, bytes.as_deref());
        (status, json_answer(method, path, &answer))
    }
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
    assert!(grey_levels(&image) > 50, "the screenshot looks blank");
}

/// The DOM of `url` after `budget_ms` of the page's virtual time in headless Chromium (its
/// profile in `profile`): timers run back to back, network answers are awaited.
pub fn dump_dom(browser: &str, profile: &Path, url: &str, budget_ms: u64) -> String {
    let out = Command::new(browser)
        .args(CHROMIUM_FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--virtual-time-budget={budget_ms}"))
        .args(["--dump-dom", url])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Distinct grey levels in an image: a blank one has one or two.
pub fn grey_levels(image: &GrayImage) -> usize {
    let mut seen = [false; 256];
    image.pixels().for_each(|p| seen[p.0[0] as usize] = true);
    seen.iter().filter(|&&s| s).count()
}

/// Every `src="…"` of the page.
pub fn image_sources(html: &str) -> Vec<String> {
    html.split("src=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect()
}

/// Opens the page `index` in headless Chromium (its profile in `dir`): checks that it has more
/// than `min_images` images and that every one loaded, and takes a screenshot `dir/shot`.
pub fn check_page_in_browser(index: &Path, dir: &Path, min_images: usize, shot: &str) {
    let Some(browser) = chromium() else {
        return;
    };
    let url = format!("file://{}", index.canonicalize().unwrap().display());
    let profile = dir.join("chromium-profile");
    let dom = dump_dom(browser, &profile, &url, 5000);
    let images = image_sources(&dom).len();
    assert!(
        images > min_images,
        "only {images} images in the rendered page"
    );
    assert!(
        dom.contains(&format!("data-images=\"{images}/{images}\"")),
        "not every image loaded: {}",
        dom.split("<body")
            .nth(1)
            .unwrap_or("")
            .chars()
            .take(120)
            .collect::<String>()
    );
    assert_screenshot(
        browser,
        &profile,
        &url,
        &dir.join(shot),
        &["--window-size=1280,4000", "--hide-scrollbars"],
    );
}

/// A scratch directory whose `artifacts/case7` holds a one-epoch case-7 run on 1000 images; the
/// directory and the path of its artifacts.
pub fn trained() -> (TempDir, PathBuf) {
    let dir = scratch();
    let artifacts = dir.path().join("artifacts");
    case(7).epochs(1).limit(1000).artifacts(&artifacts).stdout();
    (dir, artifacts)
}

/// The figure caches of the server of process `pid`: `<temp>/train-serve-<pid>-<random>`.
pub fn caches_of(pid: u32) -> Vec<PathBuf> {
    let prefix = format!("train-serve-{pid}-");
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect()
}

pub fn floats(value: &Value) -> Vec<f32> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

pub fn max_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Asserts a refusal: the status, and one line of JSON `{"error": "…"}` that leaks nothing.
pub fn assert_refused(app: &App, method: &str, path: &str, body: Option<&[u8]>, status: u16) {
    let (got, answer) = app.request(method, path, body);
    let text = String::from_utf8_lossy(&answer);
    assert_eq!(got, status, "{method} {path}: {text}");
    assert!(
        !text.contains("SECRET"),
        "{path} leaked a file outside: {text}"
    );
    let value: Value = serde_json::from_slice(&answer)
        .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"));
    let error = value["error"].as_str().unwrap_or_else(|| panic!("{text}"));
    assert!(!error.is_empty() && !text.contains('\n'), "{text}");
    assert_eq!(value.as_object().unwrap().len(), 1, "{text}");
}
