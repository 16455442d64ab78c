//! `train sweep` through the real binary: a quick sweep trains its points as ordinary runs,
//! measures them as the report does and writes a page that headless Chromium opens; a second
//! sweep shares the points it has in common and joins the page; bad lists and points of another
//! configuration are refused before anything trains (and moving the point away works); the
//! report cites the sweep.

use std::path::Path;

use serde_json::Value;

use crate::util::*;

/// `train sweep ARGS --artifacts ROOT`.
fn sweep(args: &[&str], root: &Path) -> Train {
    subcommand("sweep").args(args).artifacts(root)
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The number at `key` of `v`.
fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number: {v}"))
}

#[test]
fn bad_sweeps_are_refused_before_anything_trains() {
    let dir = scratch();
    let root = dir.path().join("artifacts");
    for (args, expected) in [
        (&["--hidden", ""][..], "hidden"),
        (&["--hidden", "16,x"], "\"x\" is not a whole number"),
        (&["--hidden", "16,,32"], "--hidden"),
        (&["--hidden", "0"], "hidden 0 is out of range"),
        (&["--hidden", "5000"], "hidden 5000 is out of range"),
        (&["--hidden", "16,32,16"], "the hidden list has 16 twice"),
        (&["--noise", "1"], "noise 1 is out of range"),
        (&["--noise", "0.1,NaN"], "noise NaN is out of range"),
        (
            &["--dropout", "output"],
            "none of none, hidden, hidden+output",
        ),
        (&["--activation", "tanh"], "neither relu nor sigmoid"),
        (&["--hidden", "16", "--noise", "0.1"], "cannot be used with"),
        (&["--base", "7"], "--hidden"),
        (&["--base", "9", "--hidden", "16"], "unknown case 9"),
        (&["--hidden", "16", "--epochs", "0"], "at least 1"),
        (&["--hidden", "16", "--seeds", "11"], "--seeds"),
    ] {
        let out = sweep(args, &root).output();
        assert_usage_error(&out, expected);
        assert!(!root.exists(), "{args:?} created {}", root.display());
    }
}

#[test]
fn a_quick_sweep_trains_measures_draws_and_joins_the_next() {
    let dir = scratch();
    let root = dir.path().join("artifacts");
    let stdout = sweep(&["--quick"], &root).stdout();
    for expected in [
        "sweep: 1 axis, 3 points, 1 seed each: 3 runs of 1 epoch, 20× shorter than the study's 20",
        "sweep: run 1/3 sweep-case7-h16-e1-n2000: training 1 epoch; ",
        "sweep: run 3/3 sweep-case7-e1-n2000: training 1 epoch; ",
        "sweep: measuring run 3/3 sweep-case7-e1-n2000",
        "Hidden units around case 7 (1 epoch, 2000 images, 1 seed): The test MSE is lowest at",
    ] {
        assert!(stdout.contains(expected), "{expected:?} missing:\n{stdout}");
    }
    let out = root.join("sweep");
    let report = json(&out.join("sweep.json"));
    let axes = report["axes"].as_array().unwrap();
    assert_eq!(axes.len(), 1);
    let axis = &axes[0];
    assert_eq!(axis["id"], "case7-hidden-e1-n2000-s1");
    let points = axis["points"].as_array().unwrap();
    let labels: Vec<&str> = points
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["16", "64", "100"]);
    let bases: Vec<bool> = points
        .iter()
        .map(|p| p["is_base"].as_bool().unwrap())
        .collect();
    assert_eq!(bases, [false, false, true]);
    for (point, hidden) in points.iter().zip([16, 64, 100]) {
        let n = &point["seeds"][0];
        let run = root.join(n["run"].as_str().unwrap());
        // Every point is an ordinary run of its configuration, and its numbers are its own.
        let config = config_json(&run);
        assert_eq!(config["model"]["hidden"], hidden);
        assert_eq!(
            (config["epochs"].as_u64(), config["limit"].as_u64()),
            (Some(1), Some(2000))
        );
        assert_eq!(num(n, "hidden"), hidden as f64);
        let logged = epochs(&run).last().unwrap().test_mse;
        assert_eq!(
            num(n, "test_mse"),
            logged,
            "the sweep's test MSE is the run's own"
        );
        assert!(
            num(n, "pca_mse") > 0.0 && num(n, "identity_ratio") > 0.0,
            "{n}"
        );
        assert!(num(n, "dead_units") == 0.0, "Sigmoid units never die: {n}");
        let probe = num(n, "probe_accuracy");
        assert!((0.1..=1.0).contains(&probe), "{n}");
    }
    let figures = axis["figures"].as_array().unwrap();
    assert_eq!(figures.len(), 9);
    for f in figures {
        assert!(out.join(f.as_str().unwrap()).exists(), "{f} missing");
    }
    let md = std::fs::read_to_string(out.join("sweep.md")).unwrap();
    assert!(md.contains("| 100 (case 7) | 0."), "{md}");
    check_page_in_browser(&out.join("index.html"), dir.path(), 8, "sweep.png");

    // `visualize` draws a point like any run.
    let point = "sweep-case7-h16-e1-n2000";
    subcommand("visualize")
        .name(point)
        .artifacts(&root)
        .stdout();

    // Again: every point is reused, and the axis replaces its old self on the page.
    let stdout = sweep(&["--quick"], &root).stdout();
    assert_eq!(stdout.matches("finished, reused").count(), 3, "{stdout}");
    assert!(!stdout.contains("training 1 epoch"), "{stdout}");
    assert_eq!(
        json(&out.join("sweep.json"))["axes"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Another axis: noise 0.2 is case 7 itself, a point the hidden axis already trained.
    let stdout = sweep(&["--quick", "--noise", "0.2,0.5"], &root).stdout();
    assert!(
        stdout.contains("run 1/2 sweep-case7-e1-n2000: finished, reused"),
        "{stdout}"
    );
    assert!(
        stdout.contains("run 2/2 sweep-case7-noise0.5-e1-n2000: training"),
        "{stdout}"
    );
    let report = json(&out.join("sweep.json"));
    assert_eq!(report["axes"].as_array().unwrap().len(), 2);
    check_page_in_browser(&out.join("index.html"), dir.path(), 17, "sweep2.png");

    // A point of another configuration is refused before anything trains, and the way out works.
    let point_dir = root.join(point);
    let config = point_dir.join("config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("\"learning_rate\": 0.001", "\"learning_rate\": 0.01"),
    )
    .unwrap();
    let before = snapshot(&root);
    let refused = sweep(&["--quick"], &root).output();
    assert_one_line_error(&refused, "learning_rate 0.01 → 0.001");
    assert!(
        stderr(&refused).contains("move it away"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(snapshot(&root), before, "a refused sweep changed files");
    std::fs::rename(&point_dir, dir.path().join("moved-away")).unwrap();
    let stdout = sweep(&["--quick"], &root).stdout();
    assert!(
        stdout.contains(&format!("run 1/3 {point}: training 1 epoch")),
        "{stdout}"
    );

    // The report beside the sweep cites it where it bears on a claim.
    case(7).epochs(1).limit(2000).artifacts(&root).stdout();
    subcommand("report")
        .args(["--quick", "--reuse"])
        .artifacts(&root)
        .stdout();
    let md = std::fs::read_to_string(root.join("report").join("report.md")).unwrap();
    assert!(md.contains("](../sweep/index.html)"), "{md}");
    assert!(
        md.contains("hidden units around case 7 (1 epoch): The test MSE is lowest at"),
        "no citation:\n{md}"
    );
}

#[test]
fn a_point_in_training_is_not_trained_twice() {
    let dir = scratch();
    let root = arg(dir.path());
    let long_sweep = subcommand("sweep")
        .args(["--hidden", "1000"])
        .epochs(30)
        .limit(5000)
        .artifacts(root);
    let mut first = long_sweep.spawn();
    let point = dir.path().join("sweep-case7-h1000-e30-n5000");
    wait_until("the first sweep's point", || {
        point.join("config.json").is_file()
    });
    let out = long_sweep.output();
    let pid = first.id();
    first.kill().unwrap();
    first.wait().unwrap();
    // The way out names what a sweep has: its directory (its runs' names are not for choosing).
    assert_one_line_error(&out, &format!("in use by pid {pid} on "));
    assert!(
        stderr(&out).ends_with(
            "wait for it to finish or stop it, or choose another --artifacts directory\n"
        ),
        "{}",
        stderr(&out)
    );
}
