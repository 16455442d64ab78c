//! `train report --quick` through the real binary: it trains all seven cases and the four
//! hidden-dropout variants on a subset, measures them and writes the report, which headless
//! Chromium then opens; `--reuse` trains nothing, and a full report refuses to replace quick runs.

use std::path::Path;

use serde_json::Value;

use crate::util::*;

/// `train report ARGS --artifacts ROOT`.
fn report(args: &[&str], root: &Path) -> Train {
    subcommand("report").args(args).artifacts(root)
}

/// The number at `path` in `v`.
fn num(v: &Value, path: &[&str]) -> f64 {
    let mut v = v;
    for key in path {
        v = &v[*key];
    }
    v.as_f64()
        .unwrap_or_else(|| panic!("{path:?} is not a number: {v}"))
}

#[test]
fn quick_report_covers_every_case_and_renders() {
    let dir = scratch();
    let root = dir.path().join("artifacts");
    let stdout = report(&["--quick"], &root).stdout();
    assert!(stdout.contains("wrote"), "{stdout}");
    // Progress across the whole job: run k of N with elapsed time and an estimate of what is left,
    // for the training and for the measuring.
    for expected in [
        "report: run 1/11 case1: training 1 epoch; ",
        "report: run 11/11 case6-hidden-dropout: 100 % of the job's training done; ",
        "report: measuring run 11/11 case6-hidden-dropout",
    ] {
        assert!(stdout.contains(expected), "{expected:?} missing:\n{stdout}");
    }
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("report: run 2/11") && l.contains(" left")),
        "no estimate of the time left:\n{stdout}"
    );
    let out = root.join("report");
    for file in ["index.html", "report.md", "report.json", "loss-all.png"] {
        assert!(out.join(file).exists(), "{file} missing");
    }

    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let cases = json["cases"].as_array().unwrap();
    let names: Vec<&str> = cases.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "case1",
            "case2",
            "case3",
            "case4",
            "case5",
            "case6",
            "case7",
            "case1-hidden-dropout",
            "case3-hidden-dropout",
            "case5-hidden-dropout",
            "case6-hidden-dropout"
        ]
    );
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let noise = num(c, &["noise"]);
        let identity = num(c, &["numbers", "identity_mse"]);
        // The identity baseline is exact on clean inputs and costs the masked pixels otherwise.
        assert_eq!(
            identity == 0.0,
            noise == 0.0,
            "{name}: identity MSE {identity}"
        );
        // PCA with ≥ 784 components is the identity map.
        let k = num(c, &["numbers", "pca_components"]);
        assert_eq!(k, num(c, &["hidden"]).min(784.0));
        if k == 784.0 {
            assert_eq!(num(c, &["numbers", "pca_mse"]), identity, "{name}");
        }
        let test = num(c, &["numbers", "test_mse"]);
        assert!(
            test > 0.0 && test < num(c, &["numbers", "mean_image_mse"]) * 2.0,
            "{name}: {test}"
        );
        // The learner's logged test MSE is the same quantity, computed in batches.
        let logged = num(c, &["logged_test_mse"]);
        assert!(
            (logged - test).abs() <= 1e-4 * test,
            "{name}: logged {logged} vs {test}"
        );
        // Dropout on changes the error; without dropout the autodiff forward is the same function.
        let dropout_on = num(c, &["numbers", "test_mse_dropout_on"]);
        if num(c, &["dropout"]) > 0.0 {
            assert!(
                (dropout_on - test).abs() > 1e-3 * test,
                "{name}: {dropout_on} vs {test}"
            );
        } else {
            assert!(
                (dropout_on - test).abs() <= 1e-5 * test,
                "{name}: {dropout_on} vs {test}"
            );
        }
        // After one epoch on 2000 images the codes carry little: only a range check here.
        let probe = num(c, &["probe_accuracy"]);
        assert!(
            (0.0..=1.0).contains(&probe),
            "{name}: probe accuracy {probe}"
        );
        for ratio in ["w1", "w2t"] {
            let f = num(c, &["numbers", ratio, "structured_fraction"]);
            assert!((0.0..=1.0).contains(&f), "{name} {ratio}: {f}");
        }
        for figure in c["figures"].as_array().unwrap() {
            assert!(out.join(figure.as_str().unwrap()).exists(), "{figure}");
        }
        let figures = c["figures"].as_array().unwrap().len();
        // The run's figures and its live and dead units' structure.
        assert_eq!(figures, if noise > 0.0 { 7 } else { 6 }, "{name}");
        assert_eq!(num(c, &["seed"]), 0.0);
        // The code map: its plane holds part of the variance, and its digit separation is a share.
        let explained = num(c, &["codes", "variance_explained"]);
        assert!(
            explained > 0.0 && explained <= 1.0 + 1e-9,
            "{name}: {explained}"
        );
        let separated = num(c, &["codes", "nearest_mean_accuracy"]);
        assert!((0.1..=1.0).contains(&separated), "{name}: {separated}");
    }
    assert!(num(&json, &["pixel_probe_accuracy"]) > 0.5);
    // Every claim has a verdict for its seed (one, in quick mode).
    let claims = json["claims"].as_array().unwrap();
    assert!(claims.len() >= 7, "{claims:?}");
    for claim in claims {
        assert_eq!(claim["seeds"].as_array().unwrap().len(), 1, "{claim}");
        assert!(!claim["verdict"].as_str().unwrap().is_empty(), "{claim}");
    }
    let ft = &json["fine_tune"];
    assert_eq!(ft["pretrained"].as_array().unwrap().len(), 3);
    assert_eq!(ft["random"].as_array().unwrap().len(), 3);

    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    let sources = image_sources(&html);
    assert!(sources.iter().all(|s| !s.contains("://")), "network images");
    for src in &sources {
        assert!(out.join(src).exists(), "{src} referenced but missing");
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for heading in [
        "1. The seven cases",
        "3. Baselines",
        "4. Identity test",
        "5. Filter structure",
        "6. Features",
        "7. The output-dropout effect",
        "8. The study's claims",
    ] {
        assert!(md.contains(heading) && html.contains(heading), "{heading}");
    }
    check_page_in_browser(&out.join("index.html"), dir.path(), 40, "report.png");

    // --reuse trains nothing and reports the same runs, measured to the same bits.
    let stdout = report(&["--quick", "--reuse"], &root).stdout();
    assert!(!stdout.contains("train loss"), "--reuse trained:\n{stdout}");
    let again: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    for key in [
        "cases",
        "claims",
        "calibration",
        "fine_tune",
        "pixel_probe_accuracy",
    ] {
        assert!(again[key] == json[key], "{key} differs when measured again");
    }
    // A full report over quick runs would replace them: it refuses instead.
    assert_one_line_error(
        &report(&[], &root).output(),
        "holds a run with a different configuration",
    );
}
