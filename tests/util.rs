//! What the end-to-end tests share: the `train` binary, scratch directories, assertions on its
//! output, a run directory's files, and a `train serve` on a free port with a plain HTTP client.

#![allow(dead_code)] // each test module uses its own subset

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub use tempfile::TempDir;
use train::renderer::{EPOCHS_CSV, EpochRecord, read_epochs};

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
        let mut child = command(&["serve", "--port", "0", "--artifacts", arg(artifacts)])
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

    /// One HTTP/1.1 request; the status and body of the answer.
    pub fn request(&self, method: &str, path: &str, body: Option<&[u8]>) -> (u16, Vec<u8>) {
        http(&self.address, method, path, body)
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> (u16, Vec<u8>) {
        self.request("GET", path, None)
    }

    /// A JSON request and its JSON answer.
    pub fn json(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let bytes = body.map(|b| b.to_string().into_bytes());
        let (status, answer) = self.request(method, path, bytes.as_deref());
        let value = serde_json::from_slice(&answer).unwrap_or_else(|e| {
            panic!(
                "{method} {path}: not JSON ({e}): {}",
                String::from_utf8_lossy(&answer)
            )
        });
        (status, value)
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

/// One HTTP/1.1 request to `address` over a plain TCP connection; the status and body.
pub fn http(address: &str, method: &str, path: &str, body: Option<&[u8]>) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    if let Some(body) = body {
        head += &format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        );
    }
    head += "\r\n";
    stream.write_all(head.as_bytes()).unwrap();
    // A server that refuses an oversized body may close before reading it all.
    let _ = body.map(|b| stream.write_all(b));
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer to {method} {path}"));
    let head = String::from_utf8_lossy(&answer[..split]).to_lowercase();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut body = answer[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = body.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&body[..end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[end + 2..end + 2 + size]);
        body = &body[end + 2 + size + 2..];
    }
}
