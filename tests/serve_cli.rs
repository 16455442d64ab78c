//! End-to-end tests of `train serve`: the real binary serving a small run trained by the real
//! `train`, asked over HTTP (a plain TCP client, nothing between) and opened in headless Chromium.

mod common;
use common::{
    CHROMIUM_FLAGS, assert_one_line_error, assert_screenshot, chromium, scratch, stdout_of_success,
};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use burn::tensor::Device;
use serde_json::{Value, json};
use train::inference::{ModelChoice, TrainedRun};

const TRAIN: &str = env!("CARGO_BIN_EXE_train");

/// A one-epoch case-7 run on 1000 images, trained once for every test here.
fn trained() -> &'static Path {
    static RUN: OnceLock<PathBuf> = OnceLock::new();
    RUN.get_or_init(|| {
        let root = scratch("serve", "trained");
        stdout_of_success(
            &Command::new(TRAIN)
                .args([
                    "--case",
                    "7",
                    "--epochs",
                    "1",
                    "--limit",
                    "1000",
                    "--artifacts",
                ])
                .arg(&root)
                .env_remove("MNIST_DIR")
                .output()
                .unwrap(),
        );
        root.join("case7")
    })
}

/// A fresh artifacts directory holding a copy of the trained run.
fn artifacts(name: &str) -> PathBuf {
    let root = scratch("serve", name).join("artifacts");
    copy_dir(trained(), &root.join("case7"));
    root
}

fn copy_dir(from: &Path, to: &Path) {
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

/// `train serve` on a free loopback port, stopped when dropped.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start(artifacts: &Path) -> Self {
        let mut child = Command::new(TRAIN)
            .args(["serve", "--port", "0", "--artifacts"])
            .arg(artifacts)
            .env_remove("MNIST_DIR")
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
    fn request(&self, method: &str, path: &str, body: Option<&[u8]>) -> (u16, Vec<u8>) {
        let mut stream = TcpStream::connect(&self.address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.address
        );
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

    fn get(&self, path: &str) -> (u16, Vec<u8>) {
        self.request("GET", path, None)
    }

    fn json(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
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

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Server {
    /// Stops the server as Ctrl-C would (SIGTERM), so that it removes its figure cache.
    fn drop(&mut self) {
        Command::new("kill")
            .args(["-s", "TERM", &self.child.id().to_string()])
            .status()
            .ok();
        self.child.wait().ok();
    }
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

fn floats(value: &Value) -> Vec<f32> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

fn max_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn reconstructs_what_visualize_reconstructs() {
    let root = artifacts("reconstruct");
    let server = Server::start(&root);

    let (status, runs) = server.json("GET", "/api/runs", None);
    assert_eq!(status, 200);
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["name"], "case7");
    assert_eq!(runs[0]["status"], "finished");
    assert_eq!(runs[0]["epochs_done"], 1);
    let (status, epochs) = server.json("GET", "/api/runs/case7/epochs", None);
    assert_eq!(status, 200);
    assert_eq!(epochs["epochs"].as_array().unwrap().len(), 1);

    // Figures the run has none of are drawn by the server (the run directory is not written).
    for figure in ["w1.png", "reconstructions.png", "codes.png"] {
        let (status, png) = server.get(&format!("/api/runs/case7/figures/{figure}"));
        assert_eq!(status, 200, "{figure}");
        let image = figures::image::load_from_memory(&png).unwrap().to_luma8();
        assert!(image.width() > 100 && image.height() > 100, "{figure}");
    }
    assert!(!root.join("case7/figures").exists());
    let cache = std::env::temp_dir().join(format!("train-serve-{}", server.child.id()));
    assert!(cache.is_dir(), "figures drawn outside the server's cache");

    // The sample digits are the test set's first images.
    let (status, digits) = server.json("GET", "/api/digits", None);
    assert_eq!(status, 200);
    let test = data::Mnist::load(&data::default_dir(), data::Split::Test).unwrap();
    let digit = floats(&digits[0]["pixels"]);
    assert_eq!(digit, test.pixels(0));
    assert_eq!(digits[0]["label"], test.label(0));

    // The served reconstruction and code are visualize's (same loading, same model call).
    let run = TrainedRun::load(&root.join("case7"), &ModelChoice::Final, Device::flex()).unwrap();
    let (status, answer) = server.json(
        "POST",
        "/api/reconstruct",
        Some(&json!({ "pixels": digit })),
    );
    assert_eq!(status, 200, "{answer}");
    let served = &answer["runs"][0];
    assert_eq!(served["name"], "case7");
    let expected = run.reconstruct(std::slice::from_ref(&digit)).pop().unwrap();
    let difference = max_difference(&floats(&served["reconstruction"]), &expected);
    assert!(difference <= 1e-6, "reconstructions differ by {difference}");
    let difference = max_difference(&floats(&served["code"]), &run.encode(&digit));
    assert!(difference <= 1e-6, "codes differ by {difference}");

    // Masking noise: exactly floor(784 × 0.2) = 156 pixels zeroed, fixed by the seed.
    let noised = |seed: u64| {
        let (status, answer) = server.json(
            "POST",
            "/api/reconstruct",
            Some(&json!({ "pixels": vec![0.5; 784], "noise": 0.2, "seed": seed })),
        );
        assert_eq!(status, 200, "{answer}");
        answer
    };
    let answer = noised(7);
    let input = floats(&answer["input"]);
    assert_eq!(input.iter().filter(|&&v| v == 0.0).count(), 156);
    assert!(input.iter().all(|&v| v == 0.0 || v == 0.5));
    assert_eq!(noised(7)["input"], answer["input"]);
    assert_ne!(noised(8)["input"], answer["input"]);
    let expected = run.reconstruct(std::slice::from_ref(&input)).pop().unwrap();
    let difference = max_difference(&floats(&answer["runs"][0]["reconstruction"]), &expected);
    assert!(
        difference <= 1e-6,
        "noised reconstructions differ by {difference}"
    );

    drop(server); // SIGTERM, as Ctrl-C: the server removes what it drew
    assert!(!cache.exists(), "{} left behind", cache.display());
}

/// Asserts a refusal: the status, and one line of JSON `{"error": "…"}` that leaks nothing.
fn assert_refused(server: &Server, method: &str, path: &str, body: Option<&[u8]>, status: u16) {
    let (got, answer) = server.request(method, path, body);
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

#[test]
fn serves_nothing_outside_the_artifacts_and_refuses_bad_drawings() {
    let root = artifacts("refuse");
    // Outside the artifacts: a run-like directory and a file that must never be served.
    let outside = root.parent().unwrap().join("outside");
    copy_dir(&root.join("case7"), &outside.join("run"));
    std::fs::create_dir_all(outside.join("run/figures")).unwrap();
    std::fs::write(outside.join("run/figures/w1.png"), "SECRET").unwrap();
    std::fs::write(outside.join("secret.txt"), "SECRET").unwrap();
    // Links out: a run directory, and a figure inside the real run (newer than its model).
    std::os::unix::fs::symlink(outside.join("run"), root.join("linked")).unwrap();
    std::fs::create_dir_all(root.join("case7/figures")).unwrap();
    std::os::unix::fs::symlink(
        outside.join("secret.txt"),
        root.join("case7/figures/w2t.png"),
    )
    .unwrap();
    // A run's own directory given as the artifacts: refused, naming the way out.
    let out = Command::new(TRAIN)
        .args(["serve", "--port", "0", "--artifacts"])
        .arg(root.join("case7"))
        .output()
        .unwrap();
    assert_one_line_error(&out, "point --artifacts at the directory that holds runs");
    let mut server = Server::start(&root);

    let (_, runs) = server.json("GET", "/api/runs", None);
    let names: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["case7"], "a link out is listed as a run");

    for path in [
        "/api/runs/linked/epochs",
        "/api/runs/linked/figures/w1.png",
        "/api/runs/case7/figures/w2t.png",
        "/api/runs/case7/figures/config.json",
        "/api/runs/case7/figures/..%2Fconfig.json",
        "/api/runs/case7/figures/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/api/runs/case7/../../outside/secret.txt",
        "/../outside/secret.txt",
        "/api/runs/case7/figures/%2Fetc%2Fpasswd",
    ] {
        assert_refused(&server, "GET", path, None, 404);
    }
    for path in [
        "/api/runs/..%2Foutside%2Frun/epochs",
        "/api/runs/%2e%2e/figures/w1.png",
        "/api/runs/%2Fetc/epochs",
        "/api/runs/%2Fetc%2Fpasswd/figures/w1.png",
        "/api/runs/%ff%fe/epochs",
    ] {
        assert_refused(&server, "GET", path, None, 400);
    }

    let mut pixels = vec![json!(0.25); 784];
    let with = |i: usize, v: Value| {
        let mut p = pixels.clone();
        p[i] = v;
        json!({ "pixels": p }).to_string()
    };
    let bad: Vec<(String, &str)> = vec![
        (
            json!({ "pixels": vec![0.25; 783] }).to_string(),
            "783 values",
        ),
        (
            json!({ "pixels": vec![0.25; 785] }).to_string(),
            "785 values",
        ),
        (json!({ "pixels": [] }).to_string(), "no values"),
        (with(3, json!(1.5)), "a value above 1"),
        (with(3, json!(-0.01)), "a negative value"),
        (with(3, json!("0.5")), "a string"),
        (with(3, json!(null)), "null"),
        (with(3, json!(0)).replace("0.25,0,", "0.25,NaN,"), "NaN"),
        (with(3, json!(0)).replace("0.25,0,", "0.25,1e999,"), "1e999"),
        (
            json!({ "pixels": vec![0.25; 784], "noise": 0.7 }).to_string(),
            "noise 0.7",
        ),
        (
            json!({ "pixels": vec![0.25; 784], "noise": -1 }).to_string(),
            "noise -1",
        ),
        (
            json!({ "pixels": vec![0.25; 784], "seed": -1 }).to_string(),
            "seed -1",
        ),
        (
            json!({ "pixels": vec![0.25; 784], "extra": 1 }).to_string(),
            "an unknown field",
        ),
        ("{\"pixels\": [0.25,".to_string(), "cut short"),
        ("not json".to_string(), "not JSON"),
        (String::new(), "empty"),
        (
            format!("{{\"pixels\": [{}]}}", vec!["0.25"; 40_000].join(",")),
            "160 KB",
        ),
    ];
    for (body, what) in &bad {
        let (status, answer) = server.request("POST", "/api/reconstruct", Some(body.as_bytes()));
        let text = String::from_utf8_lossy(&answer);
        assert_eq!(status, 400, "{what}: {text}");
        let value: Value = serde_json::from_slice(&answer)
            .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text}"));
        assert!(
            value["error"].is_string() && !text.contains('\n'),
            "{what}: {text}"
        );
    }
    pixels[0] = json!(1.0);
    let (status, answer) = server.json(
        "POST",
        "/api/reconstruct",
        Some(&json!({ "pixels": pixels, "noise": 0.5, "seed": 3 })),
    );
    assert_eq!(status, 200, "{answer}");
    assert_refused(&server, "GET", "/api/reconstruct", None, 405);
    assert!(server.alive(), "the server stopped");
    let (status, _) = server.json("GET", "/api/runs", None);
    assert_eq!(status, 200);
}

#[test]
fn page_draws_a_stroke_and_follows_a_run_while_it_trains() {
    let Some(browser) = chromium() else {
        return;
    };
    let root = artifacts("page");
    // A run that goes on training while the page is open: one batch per epoch.
    let mut training = Command::new(TRAIN)
        .args([
            "--case", "7", "--name", "live", "--epochs", "100000", "--limit", "100",
        ])
        .arg("--artifacts")
        .arg(&root)
        .env_remove("MNIST_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let epochs = root.join("live/epochs.csv");
    let started = Instant::now();
    while std::fs::read_to_string(&epochs).map_or(0, |t| t.lines().count()) < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the live run never started"
        );
        assert!(
            training.try_wait().unwrap().is_none(),
            "the live run stopped"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let server = Server::start(&root);
    let url = format!("http://{}/?demo=stroke", server.address);
    let profile = root.parent().unwrap().join("chromium-profile");
    // Virtual time: the page's once-a-second polls run back to back, while the run trains on.
    let dom = Command::new(browser)
        .args(CHROMIUM_FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--virtual-time-budget=300000", "--dump-dom", &url])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    training.kill().ok();
    training.wait().ok();
    let attribute = |name: &str| {
        dom.split(&format!("{name}=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no {name} in the page: {}", &dom[..dom.len().min(2000)]))
            .to_string()
    };
    // The stroke reached the server and came back reconstructed by the finished run only.
    assert!(dom.contains("data-run=\"case7\""), "no card for case7");
    assert_eq!(
        dom.matches("data-drawn=\"1\"").count(),
        1,
        "one finished run, one card"
    );
    assert!(
        attribute("data-ink").parse::<f64>().unwrap() > 5.0,
        "the stroke left no ink"
    );
    // The curve followed the training run: several polls, and its newest epoch moved on.
    let history = attribute("data-curve-history");
    let epochs_seen: Vec<&str> = history
        .split(' ')
        .filter_map(|seen| seen.strip_prefix("live:"))
        .collect();
    eprintln!("curve history: {history}");
    assert!(epochs_seen.len() >= 2, "the curve never moved: {history}");
    assert!(attribute("data-points").parse::<usize>().unwrap() >= 3);

    assert_screenshot(
        browser,
        &profile,
        &url,
        &root.parent().unwrap().join("page.png"),
        &[
            "--window-size=1280,1400",
            "--hide-scrollbars",
            "--virtual-time-budget=3000",
        ],
    );
}
