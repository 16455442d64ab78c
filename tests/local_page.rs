//! `train serve` on a small run trained by the real `train`: its router asked in-process (the
//! handlers, path decoding and body limit of the server, without a socket) for reconstructions
//! equal to `visualize`'s and for its refusals of traversal and bad drawings; and the real server,
//! on a socket, opened in headless Chromium while a run trains.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use study::data::{Mnist, Split};
use trainer::backend::Backend;
use trainer::inference::{ModelChoice, TrainedRun};

use crate::util::*;

#[test]
fn reconstructs_what_visualize_reconstructs() {
    let (_dir, root) = trained();
    let app = App::new(&root);

    let (status, runs) = app.json("GET", "/api/runs", None);
    assert_eq!(status, 200);
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["name"], "case7");
    assert_eq!(runs[0]["status"], "finished");
    assert_eq!(runs[0]["epochs_done"], 1);
    let (status, epochs) = app.json("GET", "/api/runs/case7/epochs", None);
    assert_eq!(status, 200);
    assert_eq!(epochs["epochs"].as_array().unwrap().len(), 1);

    // Figures the run has none of are drawn by the server (the run directory is not written).
    for figure in ["w1.png", "reconstructions.png", "codes.png"] {
        let (status, png) = app.get(&format!("/api/runs/case7/figures/{figure}"));
        assert_eq!(status, 200, "{figure}");
        let image = figures::image::load_from_memory(&png).unwrap().to_luma8();
        assert!(image.width() > 100 && image.height() > 100, "{figure}");
    }
    assert!(!root.join("case7/figures").exists());
    // This process's only cache with something in it (the other tests here draw nothing).
    let cache = caches_of(std::process::id())
        .into_iter()
        .find(|c| std::fs::read_dir(c).is_ok_and(|mut d| d.next().is_some()));
    let cache = cache.expect("figures drawn outside the server's cache");

    // The sample digits are the test set's first images.
    let (status, digits) = app.json("GET", "/api/digits", None);
    assert_eq!(status, 200);
    let test = Mnist::load(&study::data::default_dir(), Split::Test).unwrap();
    let digit = floats(&digits[0]["pixels"]);
    assert_eq!(digit, test.pixels(0));
    assert_eq!(digits[0]["label"], test.label(0));

    // The served reconstruction and code are visualize's (same loading, same model call).
    let device = Backend::Flex.device().unwrap();
    let run = TrainedRun::load(&root.join("case7"), &ModelChoice::Final, device).unwrap();
    let (status, answer) = app.json(
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
        let (status, answer) = app.json(
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

    drop(app); // the server's state goes, and with it what it drew
    assert!(!cache.exists(), "{} left behind", cache.display());
}

#[test]
fn serves_nothing_outside_the_artifacts_and_refuses_bad_drawings() {
    let (dir, root) = trained();
    // Outside the artifacts: a run-like directory and a file that must never be served.
    let outside = dir.path().join("outside");
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
    let out = subcommand("serve")
        .args(["--port", "0"])
        .artifacts(root.join("case7"))
        .output();
    assert_one_line_error(&out, "point --artifacts at the directory that holds runs");
    let app = App::new(&root);

    let (_, runs) = app.json("GET", "/api/runs", None);
    assert_eq!(run_names(&runs), ["case7"], "a link out is listed as a run");

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
        assert_refused(&app, "GET", path, None, 404);
    }
    for path in [
        "/api/runs/..%2Foutside%2Frun/epochs",
        "/api/runs/%2e%2e/figures/w1.png",
        "/api/runs/%2Fetc/epochs",
        "/api/runs/%2Fetc%2Fpasswd/figures/w1.png",
        "/api/runs/%ff%fe/epochs",
    ] {
        assert_refused(&app, "GET", path, None, 400);
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
        let (status, answer) = app.request("POST", "/api/reconstruct", Some(body.as_bytes()));
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
    let (status, answer) = app.json(
        "POST",
        "/api/reconstruct",
        Some(&json!({ "pixels": pixels, "noise": 0.5, "seed": 3 })),
    );
    assert_eq!(status, 200, "{answer}");
    assert_refused(&app, "GET", "/api/reconstruct", None, 405);
    // Every refusal was an answer: the router still serves.
    let (status, _) = app.json("GET", "/api/runs", None);
    assert_eq!(status, 200);
}

#[test]
fn page_draws_a_stroke_and_follows_a_run_while_it_trains() {
    let Some(browser) = chromium() else {
        return;
    };
    let (dir, root) = trained();
    // A run that goes on training while the page is open: one batch per epoch.
    let mut training = case(7)
        .name("live")
        .epochs(100000)
        .limit(100)
        .artifacts(&root)
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let live = root.join("live");
    let started = Instant::now();
    while epochs(&live).len() < 2 {
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
    let profile = dir.path().join("chromium-profile");
    // Virtual time: the page's once-a-second polls run back to back, while the run trains on.
    let dom = dump_dom(browser, &profile, &url, 1_000_000);
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
        &dir.path().join("page.png"),
        &[
            "--window-size=1280,1400",
            "--hide-scrollbars",
            "--virtual-time-budget=3000",
        ],
    );

    // Stopped as Ctrl-C would stop it (SIGTERM), the server removes what it drew.
    let pid = server.child.id();
    drop(server);
    let left = caches_of(pid);
    assert!(left.is_empty(), "{left:?} left behind");
}
