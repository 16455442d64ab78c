//! Files the user owns and files from elsewhere: `export` never replaces what it did not write
//! and leaves nothing half-written when stopped; `import` reads only regular files, and only what
//! their headers promise, stops on a signal leaving no run, takes the layouts people save, and
//! refuses flags that contradict the file; an imported run never shows epochs it did not train.

use std::os::unix::fs::symlink;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Output};
use std::time::{Duration, Instant};

use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde_json::{Value, json};

use crate::util::*;

/// `train export --case 7 ARGS --artifacts ROOT`.
fn export_case7(root: &Path, args: &[&str]) -> Train {
    subcommand("export").case(7).args(args).artifacts(root)
}

/// Waits for `child` at most two minutes (a hang fails the test instead of blocking it).
fn finish(mut child: Child) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(120) {
            child.kill().ok();
            panic!("still running after two minutes");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// The exit code of a process stopped by a signal as the shell reports it (128 + signal),
/// whether it handled the signal (then it said so: before writing, or after its files were
/// whole) or the signal came before its handler was installed; its own exit code otherwise.
fn stopped_code(out: &Output) -> i32 {
    match (out.status.code(), out.status.signal()) {
        (Some(code), _) => {
            let said = stderr(out);
            if code > 128 {
                // Stopped before writing, or after: each says so.
                assert!(
                    said.contains("interrupted by")
                        || said.contains("after the export was written"),
                    "{said}"
                );
            }
            code
        }
        (None, Some(signal)) => 128 + signal,
        _ => unreachable!("a process ends by a code or a signal"),
    }
}

/// Files under `dir` whose names start with `.tmp-` (an atomic write's temporary file).
fn temporary_files(dir: &Path) -> Vec<PathBuf> {
    snapshot(dir)
        .into_keys()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".tmp-")
        })
        .collect()
}

/// A one-epoch case-7 run on 300 images (`extra` flags after), under `root`.
fn small_run(root: &Path, extra: &[&str]) {
    case(7)
        .limit(300)
        .epochs(1)
        .artifacts(root)
        .args(extra)
        .stdout();
}

/// The safetensors header's metadata of `path`.
fn metadata_of(path: &Path) -> std::collections::HashMap<String, String> {
    let bytes = std::fs::read(path).unwrap();
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    header.metadata().clone().unwrap_or_default()
}

#[test]
fn export_never_replaces_a_file_it_did_not_write() {
    let dir = scratch();
    let root = dir.path();
    small_run(root, &[]);
    small_run(root, &["--name", "other", "--seed", "1"]);
    let ours = root.join("case7/export/model.safetensors");

    // The same export twice: the second finds its file and leaves it.
    export_case7(root, &[]).stdout();
    let before = std::fs::read(&ours).unwrap();
    let said = export_case7(root, &[]).stdout();
    assert!(said.contains("already holds this"), "{said}");
    assert_eq!(std::fs::read(&ours).unwrap(), before);
    // The same model exports to the same bytes (its metadata in a fixed order).
    let again = root.join("again.safetensors");
    export_case7(root, &["--out", arg(&again)]).stdout();
    assert!(
        std::fs::read(&again).unwrap() == before,
        "another file for the same export"
    );

    // Another run's export, a file of someone else's, a foreign test-inputs.npy: refused, unchanged.
    let out = subcommand("export")
        .name("other")
        .args(["--out", arg(&ours)])
        .artifacts(root)
        .output();
    assert_one_line_error(&out, "--overwrite");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&ours).unwrap(), before);
    let theirs = root.join("theirs.safetensors");
    std::fs::copy(fixture("tiny.safetensors"), &theirs).unwrap();
    assert_one_line_error(
        &export_case7(root, &["--out", arg(&theirs)]).output(),
        "exists and holds something else",
    );
    assert_eq!(
        std::fs::read(&theirs).unwrap(),
        std::fs::read(fixture("tiny.safetensors")).unwrap()
    );
    let elsewhere = root.join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let inputs = elsewhere.join("test-inputs.npy");
    std::fs::write(&inputs, b"\x93NUMPY mine").unwrap();
    let model = elsewhere.join("model.safetensors");
    let out = export_case7(root, &["--test-inputs", "--out", arg(&model)]).output();
    assert_one_line_error(&out, "test-inputs.npy: exists and holds something else");
    assert!(
        !model.exists(),
        "the model was written before the check of the inputs"
    );
    assert_eq!(std::fs::read(&inputs).unwrap(), b"\x93NUMPY mine");

    // --overwrite replaces a file of the same kind, never one of another kind.
    export_case7(
        root,
        &["--test-inputs", "--out", arg(&model), "--overwrite"],
    )
    .stdout();
    assert_eq!(
        std::fs::metadata(&inputs).unwrap().len(),
        128 + 10_000 * 784 * 4
    );
    let config = root.join("case7/config.json");
    let kept = std::fs::read(&config).unwrap();
    let out = export_case7(root, &["--out", arg(&config), "--overwrite"]).output();
    assert_usage_error(&out, "not a safetensors file");
    assert_eq!(std::fs::read(&config).unwrap(), kept);

    // Checks before writing: a bad --data-dir, a directory in the way, an empty --out.
    let fresh = root.join("fresh/model.safetensors");
    let out = subcommand("export")
        .case(7)
        .args(["--test-inputs", "--out", arg(&fresh)])
        .args(["--data-dir", "/nonexistent"])
        .artifacts(root)
        .output();
    assert_one_line_error(&out, "/nonexistent");
    assert!(!root.join("fresh").exists(), "a half-done export was left");
    let blocked = root.join("blocked");
    std::fs::create_dir_all(blocked.join("test-inputs.npy")).unwrap();
    let in_the_way = blocked.join("m.safetensors");
    let out = export_case7(root, &["--test-inputs", "--out", arg(&in_the_way)]).output();
    assert_usage_error(&out, "a directory is in the way");
    assert!(!in_the_way.exists());
    let out = export_case7(root, &["--out", ""]).output();
    assert_usage_error(&out, "--out");
    assert!(
        !stderr(&out).contains("possible values"),
        "{}",
        stderr(&out)
    );
    assert!(temporary_files(root).is_empty());
}

#[test]
fn a_stopped_export_leaves_nothing_half_written() {
    let dir = scratch();
    let root = dir.path();
    small_run(root, &[]);
    let mut stopped = 0;
    for (i, delay) in [0u64, 30, 80, 150, 250, 400, 700].into_iter().enumerate() {
        let out_dir = root.join(format!("out-{i}"));
        let model = out_dir.join("model.safetensors");
        let child = export_case7(root, &["--test-inputs", "--out", arg(&model)]).spawn();
        std::thread::sleep(Duration::from_millis(delay));
        signal(&child, if i % 2 == 0 { "INT" } else { "TERM" });
        let out = finish(child);
        let code = stopped_code(&out);
        assert!(matches!(code, 0 | 130 | 143), "{code}: {}", stderr(&out));
        // Past its first moments the program handles the signal itself, and says so.
        if delay >= 250 && code != 0 {
            assert!(
                out.status.code().is_some(),
                "killed at {delay} ms, not stopped"
            );
        }
        if code != 0 {
            stopped += 1;
        }
        // Whatever was written is whole: a model that reads, inputs of their full length.
        if model.exists() {
            SafeTensors::deserialize(&std::fs::read(&model).unwrap()).unwrap();
        }
        let inputs = out_dir.join("test-inputs.npy");
        if inputs.exists() {
            assert_eq!(
                std::fs::metadata(&inputs).unwrap().len(),
                128 + 10_000 * 784 * 4
            );
        }
        if code == 0 {
            assert!(model.exists() && inputs.exists());
        }
        if out_dir.exists() {
            let mut left: Vec<String> = snapshot(&out_dir)
                .into_keys()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect();
            left.retain(|n| n != "model.safetensors" && n != "test-inputs.npy");
            assert!(left.is_empty(), "left behind: {left:?}");
        }
    }
    assert!(stopped > 0, "no export was stopped");
}

#[test]
fn an_imported_run_never_shows_epochs_it_did_not_train() {
    let dir = scratch();
    let root = dir.path();
    import(&fixture("tiny.pt"), "imp", root).case(7).stdout();
    let run = root.join("imp");
    assert_eq!(
        config_json(&run)["epochs"],
        0,
        "config.json says the run trained"
    );

    let app = App::new(root);
    let trained_words = |text: &str| text.contains("epoch");
    let (_, runs) = app.json("GET", "/api/runs", None);
    let summary = runs[0]["summary"].as_str().unwrap().to_string();
    assert!(
        summary.contains("imported from tiny.pt") && !trained_words(&summary),
        "{summary}"
    );
    let drawing = json!({"pixels": vec![0.0; 784], "noise": 0.0, "seed": 1});
    let (status, answer) = app.json("POST", "/api/reconstruct", Some(&drawing));
    assert_eq!(status, 200, "{answer}");
    let summary = answer["runs"][0]["summary"].as_str().unwrap();
    assert!(
        summary.contains("imported from tiny.pt") && !trained_words(summary),
        "{summary}"
    );
    let walk = json!({"a": {"test": 0}, "b": {"test": 1}, "steps": 3});
    let (status, answer) = app.json("POST", "/api/interpolate", Some(&walk));
    assert_eq!(status, 200, "{answer}");
    let summary = answer["runs"][0]["summary"].as_str().unwrap();
    assert!(!trained_words(summary), "{summary}");

    // visualize's titles, and the export's metadata.
    let loaded = trainer::inference::TrainedRun::load(
        &run,
        &trainer::inference::ModelChoice::Final,
        trainer::backend::Backend::Flex.device().unwrap(),
    )
    .unwrap();
    let (_, title, _) =
        study::drawing::default_place(&loaded, &trainer::inference::ModelChoice::Final);
    assert_eq!(title, "imp (imported from tiny.pt)");
    subcommand("export").name("imp").artifacts(root).stdout();
    let metadata = metadata_of(&run.join("export/model.safetensors"));
    assert_eq!(metadata["epochs"], "unknown");
}

/// Writes a safetensors file whose header declares a model of `hidden` units, float32 zeros,
/// followed by `data` bytes of zeros (the whole model's when `data` is its size).
fn safetensors_header(path: &Path, hidden: usize, data: usize) {
    let header = json!({
        "l1.weight": {"dtype": "F32", "shape": [hidden, 784], "data_offsets": [0, hidden * 784 * 4]},
        "l1.bias": {"dtype": "F32", "shape": [hidden], "data_offsets": [hidden * 784 * 4, hidden * 785 * 4]},
        "l2.weight": {"dtype": "F32", "shape": [784, hidden], "data_offsets": [hidden * 785 * 4, hidden * 1569 * 4]},
        "l2.bias": {"dtype": "F32", "shape": [784], "data_offsets": [hidden * 1569 * 4, hidden * 1569 * 4 + 784 * 4]},
    })
    .to_string();
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header.as_bytes());
    bytes.resize(bytes.len() + data, 0);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn import_reads_only_regular_files_and_only_what_their_headers_promise() {
    let dir = scratch();
    let root = dir.path().join("artifacts");
    let files = dir.path().join("files");
    std::fs::create_dir(&files).unwrap();
    let path = |name: &str| files.join(name);

    let fifo = path("model.pt");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    symlink("/dev/zero", path("zero.safetensors")).unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(path("socket.pt")).unwrap();
    std::fs::create_dir(path("folder.pt")).unwrap();
    for (name, from) in [
        ("sparse.safetensors", "tiny.safetensors"),
        ("sparse.pt", "tiny.pt"),
    ] {
        std::fs::copy(fixture(from), path(name)).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(path(name))
            .unwrap()
            .set_len(8 << 30)
            .unwrap();
    }
    safetensors_header(&path("wide.safetensors"), 4097, 4097 * 1569 * 4 + 784 * 4);

    let cases = [
        (path("model.pt"), "FIFO"),
        (path("zero.safetensors"), "character device"),
        (PathBuf::from("/dev/stdin"), "not a regular file"),
        (path("socket.pt"), "socket"),
        (path("folder.pt"), "directory"),
        (path("sparse.safetensors"), "larger than any model"),
        (path("sparse.pt"), "larger than any model"),
        (path("wide.safetensors"), "4097 hidden units; at most 4096"),
    ];
    for (file, expected) in cases {
        let child = subcommand("import")
            .arg(&file)
            .name("bad")
            .args(["--activation", "relu"])
            .artifacts(&root)
            .command()
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let out = finish(child);
        assert_one_line_error(&out, expected);
        assert!(
            !root.join("bad").exists(),
            "{}: a run directory was left",
            file.display()
        );
    }

    // A model of the largest size allowed is read by its header: what it promises, and no more.
    let largest = path("largest.safetensors");
    safetensors_header(&largest, 4096, 4096 * 1569 * 4 + 784 * 4);
    import(&largest, "largest", &root)
        .args(["--activation", "relu"])
        .stdout();
    assert_eq!(config_json(&root.join("largest"))["model"]["hidden"], 4096);
}

#[test]
fn import_stops_on_ctrl_c_and_sigterm_leaving_no_run() {
    use std::io::{BufRead, BufReader};
    let dir = scratch();
    let root = dir.path().join("artifacts");
    let largest = dir.path().join("largest.safetensors");
    safetensors_header(&largest, 4096, 4096 * 1569 * 4 + 784 * 4);
    for (name, which, code) in [("int", "INT", 130), ("term", "TERM", 143)] {
        let mut child = subcommand("import")
            .arg(&largest)
            .name(name)
            .args(["--activation", "sigmoid"])
            .artifacts(&root)
            .spawn();
        // Signalled while it measures the model, after reading it.
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let said = lines.next().expect("import said nothing").unwrap();
        assert!(said.contains("measuring its test MSE"), "{said}");
        signal(&child, which);
        let rest: Vec<String> = lines.map_while(Result::ok).collect();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "{rest:?}");
        assert!(rest.join("\n").contains("interrupted by"), "{rest:?}");
        assert!(!root.join(name).exists(), "a stopped import left {name}");
    }
}

#[test]
fn the_pytorch_layouts_people_save_are_imported_or_named() {
    let dir = scratch();
    let root = dir.path();
    let expected: Value =
        serde_json::from_slice(&std::fs::read(fixture("expected.json")).unwrap()).unwrap();
    let expected_mse = expected["test_mse"].as_f64().unwrap();
    let layouts = [
        (
            "checkpoint.pt",
            "its 'state_dict' entry; left aside: epoch, optimizer",
        ),
        ("model-state-dict.pt", "its 'model_state_dict' entry"),
        ("sequential.pt", ""),
        ("encoder-decoder.pt", ""),
        ("fortran.npz", ""),
        (
            "snapshot.npz",
            "its 'updater/model:main' entry; left aside: updater/optimizer:main",
        ),
    ];
    for (file, note) in layouts {
        let name = file.replace('.', "-");
        let out = import(&fixture(file), &name, root)
            .args(["--activation", "sigmoid"])
            .output();
        stdout_of_success(&out);
        assert!(stderr(&out).contains(note), "{file}: {}", stderr(&out));
        let provenance: Value = serde_json::from_str(
            &std::fs::read_to_string(root.join(&name).join("provenance.json")).unwrap(),
        )
        .unwrap();
        let mse = provenance["test_mse"].as_f64().unwrap();
        assert!(
            (mse - expected_mse).abs() < 1e-6,
            "{file}: {mse} vs {expected_mse}"
        );
    }
    let refused = [
        ("torchscript.pt", "TorchScript"),
        (
            "chainer-uninitialised.npz",
            "l1/W holds a Python object, not numbers: this is how Chainer saves an uninitialised parameter",
        ),
        ("not-a-state-dict.pt", "not a state dict"),
    ];
    for (file, expected) in refused {
        assert_one_line_error(
            &import(&fixture(file), "bad", root)
                .args(["--activation", "sigmoid"])
                .output(),
            expected,
        );
        assert!(!root.join("bad").exists());
    }
    // A third layer: named with the file's own keys.
    let file = root.join("three.safetensors");
    let zeros = |n: usize| vec![0u8; n * 4];
    let tensors = [
        ("0.weight", vec![8, 784], zeros(8 * 784)),
        ("0.bias", vec![8], zeros(8)),
        ("1.weight", vec![8, 8], zeros(64)),
        ("1.bias", vec![8], zeros(8)),
        ("2.weight", vec![784, 8], zeros(8 * 784)),
        ("2.bias", vec![784], zeros(784)),
    ];
    let views: Vec<(&str, TensorView)> = tensors
        .iter()
        .map(|(n, s, b)| (*n, TensorView::new(Dtype::F32, s.clone(), b).unwrap()))
        .collect();
    safetensors::serialize_to_file(views, None, &file).unwrap();
    let out = import(&file, "bad", root)
        .args(["--activation", "sigmoid"])
        .output();
    assert_one_line_error(&out, "1.weight [8, 8]");
    assert!(!stderr(&out).contains("missing"), "{}", stderr(&out));
}

#[test]
fn an_export_imported_again_takes_its_settings_and_refuses_flags_that_contradict_them() {
    let dir = scratch();
    let root = dir.path();
    small_run(root, &["--name", "seeded", "--seed", "3"]);
    subcommand("export").name("seeded").artifacts(root).stdout();
    let file = root.join("seeded/export/model.safetensors");
    let out = import(&file, "wrong", root)
        .args(["--activation", "relu"])
        .output();
    assert_usage_error(&out, "activation sigmoid (the flags: relu)");
    assert!(!root.join("wrong").exists());
    assert_usage_error(
        &import(&file, "wrong", root).case(1).output(),
        "dropout 0 (the flags: 0.5)",
    );
    // No flags: the file's own settings, seed included (the test inputs' masks come from it).
    let said = import(&file, "back", root).stdout();
    assert!(said.contains("exported from run seeded"), "{said}");
    let config = config_json(&root.join("back"));
    assert_eq!(
        (config["seed"].as_u64(), config["noise"].as_f64()),
        (Some(3), Some(0.2))
    );
    let recorded = epochs(&root.join("seeded"))[0].test_mse;
    let provenance: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("back/provenance.json")).unwrap())
            .unwrap();
    assert!((provenance["test_mse"].as_f64().unwrap() - recorded).abs() < 1e-6);
    import(&file, "agreed", root).case(7).stdout();
    // A file that says nothing of itself needs the flags.
    assert_usage_error(
        &import(&fixture("tiny.pt"), "bare", root).output(),
        "--case N or --activation",
    );
    // Metadata edited into what no run can have is a damaged file, whatever the flags.
    for (key, value) in [
        ("noise", "NaN"),
        ("dropout", "2"),
        ("run", "../x\n\u{1b}[31m"),
    ] {
        let edited = root.join(format!("edited-{key}.safetensors"));
        std::fs::write(
            &edited,
            with_metadata(&std::fs::read(&file).unwrap(), key, value),
        )
        .unwrap();
        for flags in [&[][..], &["--noise", "0.2"]] {
            let out = import(&edited, "edited", root).args(flags).output();
            assert_one_line_error(&out, "a damaged or edited file");
            assert!(!root.join("edited").exists());
        }
    }
}

/// The safetensors file `bytes` with metadata entry `key` set to `value`.
fn with_metadata(bytes: &[u8], key: &str, value: &str) -> Vec<u8> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    header["__metadata__"][key] = Value::String(value.into());
    let text = header.to_string().into_bytes();
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend(text);
    out.extend_from_slice(&bytes[8 + n..]);
    out
}

#[test]
fn smaller_findings_of_the_careless_use() {
    let (dir, root) = trained();
    // A flag without its value, or an empty one: no empty list of possible values.
    for args in [&["--out"][..], &["--out", ""]] {
        let out = export_case7(&root, args).output();
        assert_usage_error(&out, "--out");
        assert!(
            !stderr(&out).contains("possible values"),
            "{}",
            stderr(&out)
        );
    }
    // A model of 4097 units is refused on import as a sweep refuses it.
    let wide = dir.path().join("wide.safetensors");
    safetensors_header(&wide, 4097, 4097 * 1569 * 4 + 784 * 4);
    assert_one_line_error(
        &import(&wide, "wide", &root)
            .args(["--activation", "relu"])
            .output(),
        "at most 4096",
    );
    let sweep = subcommand("sweep")
        .args(["--hidden", "4097"])
        .artifacts(&root);
    assert_usage_error(&sweep.output(), "1 to 4096");

    // The page: a directory that holds no run is no run; a run whose name the program does not
    // take (names are ASCII: none may pass for another) is listed, saying why.
    std::fs::create_dir_all(root.join("sweep")).unwrap();
    copy_dir(&root.join("case7"), &root.join("café"));
    let app = App::new(&root);
    let (status, answer) = app.json("GET", "/api/runs/sweep/units", None);
    assert_eq!(status, 404);
    assert_eq!(answer["error"], "no run named sweep");
    let (_, runs) = app.json("GET", "/api/runs", None);
    assert_eq!(run_names(&runs), ["case7", "café"]);
    let detail = runs[1]["detail"].as_str().unwrap();
    assert!(
        runs[1]["status"] == "inconsistent" && detail.contains("rename the directory"),
        "{detail}"
    );
}
