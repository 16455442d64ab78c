//! The page's views inside a model, over HTTP (the server's router, in-process) against the
//! library: interpolations end at the reconstructions, a unit's top images are the argmax of its
//! activations, nearest digits are a brute-force search's; bad requests are refused and the server
//! serves on; a replaced model answers as itself; and the page, in headless Chromium, clicks a
//! unit, interpolates and finds the nearest digits.

use std::path::Path;

use serde_json::{Value, json};
use study::analysis::{Images, Pca};
use study::data::{Mnist, PIXELS, Split};
use trainer::backend::Backend;
use trainer::inference::{ModelChoice, TrainedRun};

use crate::util::*;

/// The finished run in `dir`, loaded as the server loads it.
fn library(dir: &Path) -> TrainedRun {
    TrainedRun::load(dir, &ModelChoice::Final, Backend::Flex.device().unwrap()).unwrap()
}

/// Every image of a split, flat, with its labels.
fn split(which: Split) -> (Vec<f32>, Vec<u8>) {
    let set = Mnist::load(&study::data::default_dir(), which).unwrap();
    let pixels = (0..set.len()).flat_map(|i| set.pixels(i)).collect();
    (pixels, (0..set.len()).map(|i| set.label(i)).collect())
}

/// The model's codes of flat images, one row per image.
fn codes(run: &TrainedRun, flat: &[f32]) -> Vec<Vec<f32>> {
    let images = Images::new(flat.to_vec(), &run.device);
    study::analysis::to_rows(run.model.codes(&images.pixels))
}

/// Indices of the `count` rows nearest to `query`, by sorting every distance (in f64).
fn brute_force(rows: impl Iterator<Item = Vec<f32>>, query: &[f32], count: usize) -> Vec<usize> {
    let mut all: Vec<(f64, usize)> = rows
        .enumerate()
        .map(|(i, r)| {
            let d = r
                .iter()
                .zip(query)
                .map(|(a, b)| f64::from(a - b).powi(2))
                .sum();
            (d, i)
        })
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    all.iter().take(count).map(|a| a.1).collect()
}

/// The decoder's output for `code`, summed here: its bias (the output for the zero code) plus
/// each unit's output weights times its value.
fn decoded(run: &TrainedRun, code: &[f32]) -> Vec<f32> {
    let mut out = study::analysis::unit_alone(&run.model, 0, 0.0);
    for (value, row) in code.iter().zip(run.model.decoder_filters()) {
        out.iter_mut().zip(row).for_each(|(o, w)| *o += value * w);
    }
    out
}

fn indices(list: &Value) -> Vec<usize> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|n| n["index"].as_u64().unwrap() as usize)
        .collect()
}

fn rows_of(value: &Value) -> Vec<Vec<f32>> {
    value.as_array().unwrap().iter().map(floats).collect()
}

#[test]
fn interpolations_units_and_nearest_digits_are_the_librarys() {
    let (_dir, root) = trained();
    let app = App::new(&root);
    let run = library(&root.join("case7"));
    let (test_pixels, _) = split(Split::Test);
    let test = |i: usize| test_pixels[i * PIXELS..(i + 1) * PIXELS].to_vec();

    // Interpolation: a test digit by index to one given as pixels.
    let body = json!({ "a": { "test": 3 }, "b": test(7), "steps": 5 });
    let (status, answer) = app.json("POST", "/api/interpolate", Some(&body));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(floats(&answer["weights"]), [0.0, 0.25, 0.5, 0.75, 1.0]);
    let pixels = rows_of(&answer["pixels"]);
    assert_eq!((pixels[0].clone(), pixels[4].clone()), (test(3), test(7)));
    let served = &answer["runs"][0];
    assert_eq!(served["name"], "case7");
    let walk = rows_of(&served["codes"]);
    let ends = run.reconstruct(&[test(3), test(7)]);
    assert!(max_difference(&walk[0], &ends[0]) <= 1e-6);
    assert!(max_difference(&walk[4], &ends[1]) <= 1e-6);
    // The middle step decodes the mean of the two codes.
    let (a, b) = (run.encode(&test(3)), run.encode(&test(7)));
    let mean: Vec<f32> = a.iter().zip(&b).map(|(x, y)| (x + y) / 2.0).collect();
    assert!(max_difference(&walk[2], &decoded(&run, &mean)) <= 1e-5);
    // PCA at the model's width (100 components), fitted to the training digits.
    assert_eq!(served["pca_components"], 100);
    let (train_pixels, train_labels) = split(Split::Train);
    let pca = Pca::fit(&Images::new(train_pixels.clone(), &run.device));
    let ends = Images::new([test(3), test(7)].concat(), &run.device);
    let ends = study::analysis::to_rows(pca.reconstruct(&ends.pixels, 100));
    let through_pca = rows_of(&served["pca"]);
    assert!(max_difference(&through_pca[0], &ends[0]) <= 1e-5);
    assert!(max_difference(&through_pca[4], &ends[1]) <= 1e-5);

    // Hidden units: the top images are the argmax of the activations over the test set.
    let test_codes = codes(&run, &test_pixels);
    let (status, grid) = app.json("GET", "/api/runs/case7/units", None);
    assert_eq!(status, 200, "{grid}");
    assert_eq!(grid["hidden"], 100);
    let dead: Vec<usize> = (0..100)
        .filter(|&k| test_codes.iter().all(|c| c[k] <= 0.0))
        .collect();
    let served_dead: Vec<usize> = grid["dead"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(served_dead, dead);
    assert!(
        grid["grid"]["png"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    let w1 = run.model.encoder_filters();
    for k in [0, 41, 99] {
        let (status, unit) = app.json("GET", &format!("/api/runs/case7/units/{k}"), None);
        assert_eq!(status, 200, "{unit}");
        let column: Vec<f32> = test_codes.iter().map(|c| c[k]).collect();
        let mut order: Vec<usize> = (0..column.len()).collect();
        order.sort_by(|&i, &j| column[j].total_cmp(&column[i]).then(i.cmp(&j)));
        assert_eq!(indices(&unit["top"]), order[..9], "unit {k}");
        assert_eq!(
            unit["top"][0]["activation"].as_f64().unwrap() as f32,
            column[order[0]]
        );
        assert_eq!(floats(&unit["w1"]), w1[k]);
        // Alone: the decoder's output for the code that is zero but unit k at its 99th percentile.
        let p99 = column[order[column.len() - 9900]];
        assert_eq!(unit["activations"]["p99"].as_f64().unwrap() as f32, p99);
        let mut code = vec![0.0; 100];
        code[k] = p99;
        assert!(max_difference(&floats(&unit["alone"]), &decoded(&run, &code)) <= 1e-5);
        assert_eq!(unit["dead"], dead.contains(&k));
    }

    // Nearest digits: a brute-force search over every training digit, by code and by pixels.
    let drawing = test(0);
    let (status, answer) = app.json("POST", "/api/nearest", Some(&json!({ "digit": drawing })));
    assert_eq!(status, 200, "{answer}");
    let by_pixels = brute_force(
        train_pixels.chunks(PIXELS).map(<[f32]>::to_vec),
        &drawing,
        5,
    );
    assert_eq!(indices(&answer["pixels"]), by_pixels);
    let by_code = brute_force(
        codes(&run, &train_pixels).into_iter(),
        &run.encode(&drawing),
        5,
    );
    let served = &answer["runs"][0];
    assert_eq!(indices(&served["nearest"]), by_code);
    assert_eq!(served["nearest"][0]["label"], train_labels[by_code[0]]);
    assert!(
        served["built_ms"].as_f64().is_some(),
        "the first search builds the codes"
    );
    let (_, again) = app.json(
        "POST",
        "/api/nearest",
        Some(&json!({ "digit": { "test": 0 }, "count": 3 })),
    );
    assert_eq!(indices(&again["runs"][0]["nearest"]), by_code[..3]);
    assert!(again["runs"][0]["built_ms"].is_null(), "built once");
}

#[test]
fn bad_requests_are_refused_in_one_line_and_the_server_serves_on() {
    let (_dir, root) = trained();
    // A run that never finished: configuration and epoch log, no model.
    copy_dir(&root.join("case7"), &root.join("stopped"));
    std::fs::remove_file(root.join("stopped/model.bpk")).unwrap();
    let app = App::new(&root);
    let pixels = vec![0.5; PIXELS];
    let interpolate = |extra: Value| {
        let mut body = json!({ "a": { "test": 0 }, "b": pixels });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body.to_string()
    };
    let refusals: Vec<(&str, String, u16)> = vec![
        ("/api/interpolate", interpolate(json!({ "steps": 1 })), 400),
        ("/api/interpolate", interpolate(json!({ "steps": 34 })), 400),
        (
            "/api/interpolate",
            interpolate(json!({ "steps": 2.5 })),
            400,
        ),
        (
            "/api/interpolate",
            interpolate(json!({ "steps": "9" })),
            400,
        ),
        (
            "/api/interpolate",
            interpolate(json!({ "a": { "test": 10000 } })),
            404,
        ),
        (
            "/api/interpolate",
            interpolate(json!({ "a": { "test": -1 } })),
            400,
        ),
        (
            "/api/interpolate",
            interpolate(json!({ "a": { "test": 0, "x": 1 } })),
            400,
        ),
        (
            "/api/interpolate",
            interpolate(json!({ "b": vec![0.5; 783] })),
            400,
        ),
        (
            "/api/interpolate",
            interpolate(json!({ "b": vec![1e300; PIXELS] })),
            400,
        ),
        (
            "/api/interpolate",
            interpolate(json!({ "b": "seven" })),
            400,
        ),
        (
            "/api/interpolate",
            interpolate(json!({ "runs": ["nope"] })),
            404,
        ),
        (
            "/api/interpolate",
            interpolate(json!({ "runs": ["stopped"] })),
            404,
        ),
        (
            "/api/interpolate",
            interpolate(json!({ "runs": ["../case7"] })),
            400,
        ),
        ("/api/interpolate", interpolate(json!({ "runs": [] })), 400),
        (
            "/api/interpolate",
            interpolate(json!({ "runs": ["case7", "case7"] })),
            400,
        ),
        ("/api/interpolate", interpolate(json!({ "extra": 1 })), 400),
        (
            "/api/interpolate",
            json!({ "a": { "test": 0 } }).to_string(),
            400,
        ),
        ("/api/interpolate", "{\"a\": [0.5,".into(), 400),
        (
            "/api/interpolate",
            format!("{{\"a\": [{}]}}", vec!["0.5"; 40_000].join(",")),
            400,
        ),
        (
            "/api/nearest",
            json!({ "digit": pixels, "count": 0 }).to_string(),
            400,
        ),
        (
            "/api/nearest",
            json!({ "digit": pixels, "count": 21 }).to_string(),
            400,
        ),
        (
            "/api/nearest",
            json!({ "digit": { "test": 99999 } }).to_string(),
            404,
        ),
        ("/api/nearest", json!({ "digit": null }).to_string(), 400),
        (
            "/api/nearest",
            json!({ "digit": pixels, "runs": ["stopped"] }).to_string(),
            404,
        ),
        ("/api/nearest", "not json".into(), 400),
    ];
    for (path, body, status) in &refusals {
        assert_refused(&app, "POST", path, Some(body.as_bytes()), *status);
    }
    for (path, status) in [
        ("/api/runs/case7/units/100", 404),
        ("/api/runs/case7/units/-1", 400),
        ("/api/runs/case7/units/abc", 400),
        ("/api/runs/case7/units/1e2", 400),
        ("/api/runs/nope/units", 404),
        ("/api/runs/stopped/units", 404),
        ("/api/runs/stopped/units/0", 404),
        ("/api/runs/%2e%2e/units", 400),
    ] {
        assert_refused(&app, "GET", path, None, status);
    }
    assert_refused(&app, "GET", "/api/interpolate", None, 405);
    // Absent runs: every finished run, and only those.
    let (status, answer) = app.json(
        "POST",
        "/api/interpolate",
        Some(&json!({ "a": { "test": 0 }, "b": pixels })),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(run_names(&answer["runs"]), ["case7"]);
    assert_eq!(
        answer["weights"].as_array().unwrap().len(),
        9,
        "nine steps by default"
    );
}

#[test]
fn a_model_replaced_on_disk_answers_as_itself() {
    let (_dir, root) = trained();
    // As `trained()` trains, with another seed and name.
    case(7)
        .epochs(1)
        .limit(1000)
        .artifacts(&root)
        .seed(2)
        .name("other")
        .stdout();
    let app = App::new(&root);
    let ask = |path: &str| {
        let (status, answer) = app.json("GET", path, None);
        assert_eq!(status, 200, "{answer}");
        answer
    };
    let nearest = || {
        let body = json!({ "digit": { "test": 0 }, "runs": ["case7"] });
        let (status, answer) = app.json("POST", "/api/nearest", Some(&body));
        assert_eq!(status, 200, "{answer}");
        answer["runs"][0].clone()
    };
    let before = ask("/api/runs/case7/units/5");
    let found_before = nearest();
    assert_eq!(found_before["model"], before["model"]);
    // The run is replaced by another one, whole, while the server runs.
    std::fs::rename(root.join("case7"), root.join("old")).unwrap();
    std::fs::rename(root.join("other"), root.join("case7")).unwrap();
    let run = library(&root.join("case7"));
    let after = ask("/api/runs/case7/units/5");
    assert_ne!(after["model"], before["model"]);
    assert_eq!(floats(&after["w1"]), run.model.encoder_filters()[5]);
    let found_after = nearest();
    assert_eq!(found_after["model"], after["model"]);
    assert!(
        found_after["built_ms"].as_f64().is_some(),
        "the new model's codes are built anew"
    );
    let (train_pixels, _) = split(Split::Train);
    let test0 = Mnist::load(&study::data::default_dir(), Split::Test)
        .unwrap()
        .pixels(0);
    let by_code = brute_force(
        codes(&run, &train_pixels).into_iter(),
        &run.encode(&test0),
        5,
    );
    assert_eq!(indices(&found_after["nearest"]), by_code);
    // The codes go to the server's temporary directory after the answer; the old model's file
    // went with it: one codes file, the new model's.
    let codes_files = || -> Vec<String> {
        (std::fs::read_dir(&app.cache).unwrap().flatten())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("codes-"))
            .collect()
    };
    let new_model = after["model"].as_str().unwrap();
    wait_until(
        "the new model's codes written",
        || matches!(codes_files().as_slice(), [one] if one.starts_with(&format!("codes-{new_model}"))),
    );
    // A run deleted while the server runs: its model and codes go at the next listing.
    std::fs::remove_dir_all(root.join("case7")).unwrap();
    let (status, _) = app.json("GET", "/api/runs", None);
    assert_eq!(status, 200);
    wait_until("the deleted run's codes removed", || {
        codes_files().is_empty()
    });
}

#[test]
fn the_page_clicks_a_unit_interpolates_and_finds_the_nearest_digits() {
    let Some(browser) = chromium() else {
        return;
    };
    let (dir, root) = trained();
    let server = Server::start(&root);
    let url = format!("http://{}/?demo=inside", server.address);
    let profile = dir.path().join("chromium-profile");
    let dom = dump_dom(browser, &profile, &url, 60_000);
    let attribute = |id: &str, name: &str| {
        let start = dom
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no #{id}"));
        let tag = &dom[dom[..start].rfind('<').unwrap()..];
        let tag = &tag[..tag.find('>').unwrap()];
        tag.split(&format!("{name}=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("#{id} has no {name}: {tag}"))
            .to_string()
    };
    // What the page shows, asked again of the server's router in-process.
    let app = App::new(&root);
    // The unit clicked, and its nine top digits as the server lists them.
    let unit = attribute("unitDetail", "data-unit");
    let (_, expected) = app.json("GET", &format!("/api/runs/case7/units/{unit}"), None);
    let top: Vec<String> = indices(&expected["top"])
        .iter()
        .map(usize::to_string)
        .collect();
    assert_eq!(attribute("unitDetail", "data-top"), top.join(" "));
    // Nine steps: pixels, then case7's codes and PCA rows.
    assert_eq!(attribute("interp", "data-steps"), "9");
    assert_eq!(attribute("interp", "data-rows"), "3");
    // The nearest digits to the drawing (the first sample digit), by pixels and by case7's code.
    assert_eq!(attribute("nearest", "data-searches"), "1");
    let (_, digits) = app.json("GET", "/api/digits", None);
    let body = json!({ "digit": digits[0]["pixels"] });
    let (_, found) = app.json("POST", "/api/nearest", Some(&body));
    let listed: Vec<String> = dom
        .split("data-indices=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect();
    let expect = |list: &Value| {
        indices(list)
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        listed,
        [
            expect(&found["pixels"]),
            expect(&found["runs"][0]["nearest"])
        ]
    );
    assert_screenshot(
        browser,
        &profile,
        &url,
        &dir.path().join("inside.png"),
        &[
            "--window-size=1280,1600",
            "--hide-scrollbars",
            "--virtual-time-budget=60000",
        ],
    );
}
