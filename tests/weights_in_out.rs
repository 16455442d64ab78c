//! `train export` and `train import`: Burn → safetensors → Burn bit-exactly, the fixtures PyTorch
//! and NumPy wrote (tests/fixtures/weights, made by its make_fixtures.py) reconstructing as
//! PyTorch did, and every bad file refused in one line with nothing created.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde_json::Value;
use study::data::{Mnist, Split};
use trainer::backend::Backend;
use trainer::inference::{ModelChoice, TrainedRun};
use weights::TorchWeights;

use crate::util::*;

/// The fixtures' expected.json: PyTorch's reconstructions of test digits 0..3 and test MSE.
fn expected() -> Value {
    serde_json::from_slice(&std::fs::read(fixture("expected.json")).unwrap()).unwrap()
}

/// The weights of the final model of the run `dir`, in PyTorch's layout.
fn weights_of_run(dir: &Path, choice: ModelChoice) -> TorchWeights {
    let run = TrainedRun::load(dir, &choice, Backend::Flex.device().unwrap()).unwrap();
    TorchWeights::of(&run.model)
}

/// The recorded test MSE of an imported run (its provenance.json).
fn imported_mse(dir: &Path) -> f64 {
    let text = std::fs::read_to_string(dir.join("provenance.json")).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    serde_json::from_str::<Value>(&text).unwrap()["test_mse"]
        .as_f64()
        .unwrap()
}

/// The float32 tensors of a safetensors file and its metadata.
fn read_safetensors(
    path: &Path,
) -> (
    HashMap<String, (Vec<usize>, Vec<f32>)>,
    HashMap<String, String>,
) {
    let bytes = std::fs::read(path).unwrap();
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let metadata = header.metadata().clone().unwrap_or_default();
    let tensors = SafeTensors::deserialize(&bytes).unwrap();
    let mut out = HashMap::new();
    for (name, view) in tensors.tensors() {
        assert_eq!(view.dtype(), Dtype::F32, "{name}");
        let values = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        out.insert(name, (view.shape().to_vec(), values));
    }
    (out, metadata)
}

#[test]
fn a_run_goes_out_to_safetensors_and_back_bit_exactly() {
    let dir = scratch();
    let root = dir.path();
    case(7).limit(300).epochs(2).artifacts(root).stdout();
    let case7 = root.join("case7");
    let export = subcommand("export").case(7);
    let said = export.arg("--test-inputs").artifacts(root).stdout();
    let out = case7.join("export/model.safetensors");
    let inputs = case7.join("export/test-inputs.npy");
    assert!(
        said.contains(arg(&out)) && said.contains("noised as the run's"),
        "{said}"
    );

    // PyTorch's layout and the run's configuration, its recorded test MSE among it.
    let (tensors, metadata) = read_safetensors(&out);
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    assert_eq!(names, ["l1.bias", "l1.weight", "l2.bias", "l2.weight"]);
    assert_eq!(tensors["l1.weight"].0, [100, 784]);
    assert_eq!(tensors["l2.weight"].0, [784, 100]);
    let recorded = epochs(&case7).last().unwrap().test_mse;
    assert_eq!(metadata["test_mse"], recorded.to_string());
    for (key, value) in [
        ("activation", "sigmoid"),
        ("hidden", "100"),
        ("noise", "0.2"),
    ] {
        assert_eq!(metadata[key], value, "{key}");
    }
    assert_eq!(metadata["epochs"], "2");
    assert_eq!(
        std::fs::metadata(&inputs).unwrap().len(),
        128 + 10_000 * 784 * 4
    );

    // Back in: the same bits, and the same test MSE measured on the same noised inputs.
    import(&out, "back", root).case(7).stdout();
    let back = root.join("back");
    assert!(
        weights_of_run(&case7, ModelChoice::Final) == weights_of_run(&back, ModelChoice::Final)
    );
    assert!(
        (imported_mse(&back) - recorded).abs() < 1e-6,
        "{} vs {recorded}",
        imported_mse(&back)
    );

    // A kept checkpoint goes out under its own name, with its own epoch and MSE.
    export.args(["--epoch", "1"]).artifacts(root).stdout();
    let first = case7.join("export/model-epoch-1.safetensors");
    let (_, metadata) = read_safetensors(&first);
    assert_eq!(metadata["epochs"], "1");
    assert_eq!(metadata["test_mse"], epochs(&case7)[0].test_mse.to_string());
    import(&first, "first", root).case(7).stdout();
    assert!(
        weights_of_run(&case7, ModelChoice::Epoch(1))
            == weights_of_run(&root.join("first"), ModelChoice::Final)
    );
}

#[test]
fn pytorch_and_chainer_files_reconstruct_as_pytorch_did() {
    let dir = scratch();
    let root = dir.path();
    let expected = expected();
    let test = Mnist::load(&study::data::default_dir(), Split::Test).unwrap();
    let fixtures = [
        ("tiny.pt", "pytorch"),
        ("tiny-wrapped.pt", "pytorch"),
        ("tiny-legacy.pt", "pytorch"),
        ("tiny.safetensors", "safetensors"),
        ("tiny-chainer.npz", "chainer-npz"),
    ];
    for (file, format) in fixtures {
        let name = file.replace('.', "-");
        let said = import(&fixture(file), &name, root)
            .args(["--activation", "sigmoid"])
            .stdout();
        assert!(
            said.contains(&format!("({format})")) && said.contains("8 hidden"),
            "{said}"
        );
        let run_dir = root.join(&name);
        let mse = imported_mse(&run_dir);
        assert!(
            (mse - expected["test_mse"].as_f64().unwrap()).abs() < 1e-6,
            "{file}: {mse}"
        );
        let run = TrainedRun::load(
            &run_dir,
            &ModelChoice::Final,
            Backend::Flex.device().unwrap(),
        )
        .unwrap();
        let digits: Vec<f32> = (0..3).flat_map(|i| test.pixels(i)).collect();
        let inputs = study::analysis::Images::new(digits, &run.device);
        let ours = run
            .model
            .reconstruct(&inputs.pixels)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let theirs: Vec<f64> = expected["reconstructions"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|digit| {
                digit
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
            })
            .collect();
        let worst = ours
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (f64::from(*a) - b).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-6, "{file}: reconstructions differ by {worst}");
    }

    // An imported run is a run: its figures draw, and it goes out again as the file it came from.
    let said = subcommand("visualize")
        .name("tiny-pt")
        .artifacts(root)
        .stdout();
    assert!(
        said.contains("reconstructions.png") && !said.contains("loss.png"),
        "{said}"
    );
    let (status, runs) = App::new(root).json("GET", "/api/runs", None);
    assert_eq!(status, 200);
    let run = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "tiny-pt")
        .unwrap();
    let summary = run["summary"].as_str().unwrap();
    let mse = format!("test MSE {:.5}", expected["test_mse"].as_f64().unwrap());
    assert!(
        summary.contains(&format!("imported from tiny.pt (pytorch), {mse}")),
        "{summary}"
    );
    assert!(
        !run["figures"]
            .as_array()
            .unwrap()
            .contains(&"loss.png".into()),
        "{run}"
    );
    let out = root.join("again.safetensors");
    subcommand("export")
        .name("tiny-pt")
        .args(["--out", arg(&out)])
        .artifacts(root)
        .stdout();
    let (again, metadata) = read_safetensors(&out);
    let (original, _) = read_safetensors(&fixture("tiny.safetensors"));
    assert!(again == original);
    assert_eq!(metadata["epochs"], "unknown");
}

/// Writes a safetensors file of `tensors` (name, dtype, shape, little-endian bytes).
fn write_safetensors(path: &Path, tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) {
    let views: Vec<(&str, TensorView)> = tensors
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            (
                *name,
                TensorView::new(*dtype, shape.clone(), bytes).unwrap(),
            )
        })
        .collect();
    safetensors::serialize_to_file(views, None, path).unwrap();
}

/// `n` float32 zeros, as bytes.
fn zeros(n: usize) -> Vec<u8> {
    vec![0; n * 4]
}

/// The four tensors of a model of `hidden` units (`l2` of `hidden2`), all zero.
fn zero_model(hidden: usize, hidden2: usize) -> Vec<(&'static str, Dtype, Vec<usize>, Vec<u8>)> {
    vec![
        (
            "l1.weight",
            Dtype::F32,
            vec![hidden, 784],
            zeros(hidden * 784),
        ),
        ("l1.bias", Dtype::F32, vec![hidden], zeros(hidden)),
        (
            "l2.weight",
            Dtype::F32,
            vec![784, hidden2],
            zeros(784 * hidden2),
        ),
        ("l2.bias", Dtype::F32, vec![784], zeros(784)),
    ]
}

#[test]
fn every_bad_file_is_one_line_and_creates_nothing() {
    let dir = scratch();
    let files = dir.path().join("files");
    std::fs::create_dir(&files).unwrap();
    let path = |name: &str| files.join(name);

    write_safetensors(&path("shapes.safetensors"), &zero_model(500, 100));
    let mut missing = zero_model(8, 8);
    missing.pop();
    write_safetensors(&path("missing.safetensors"), &missing);
    let mut extra = zero_model(8, 8);
    extra.push(("l3.weight", Dtype::F32, vec![2], zeros(2)));
    write_safetensors(&path("extra.safetensors"), &extra);
    let mut nan = zero_model(8, 8);
    nan[1].3 = [f32::NAN.to_le_bytes(), 0f32.to_le_bytes()]
        .concat()
        .repeat(4);
    write_safetensors(&path("nan.safetensors"), &nan);
    let mut integers = zero_model(8, 8);
    integers[3] = ("l2.bias", Dtype::I32, vec![784], zeros(784));
    write_safetensors(&path("integers.safetensors"), &integers);
    let tiny = std::fs::read(fixture("tiny.pt")).unwrap();
    std::fs::write(path("truncated.pt"), &tiny[..tiny.len() / 2]).unwrap();
    let safetensors = std::fs::read(fixture("tiny.safetensors")).unwrap();
    std::fs::write(
        path("truncated.safetensors"),
        &safetensors[..safetensors.len() - 100],
    )
    .unwrap();
    std::fs::write(path("notes.txt"), "l1.weight = [[0.1, 0.2]]\n").unwrap();

    let cases: [(PathBuf, &str); 11] = [
        (
            path("shapes.safetensors"),
            "l1.weight [500, 784], l1.bias [500], l2.weight [784, 100]",
        ),
        (path("missing.safetensors"), "missing l2.bias"),
        (path("extra.safetensors"), "unexpected l3.weight"),
        (
            path("nan.safetensors"),
            "l1.bias holds 4 NaN or infinite values",
        ),
        (path("integers.safetensors"), "l2.bias is I32"),
        (path("truncated.pt"), "truncated or damaged"),
        (
            path("truncated.safetensors"),
            "not a readable safetensors file",
        ),
        (fixture("not-a-state-dict.pt"), "not a state dict"),
        (path("notes.txt"), "not a safetensors, PyTorch or npz file"),
        (
            fixture("expected.json"),
            "not a safetensors, PyTorch or npz file",
        ),
        (path("absent.pt"), "cannot read"),
    ];
    let artifacts = dir.path().join("artifacts");
    for (file, expected) in cases {
        let out = import(&file, "bad", &artifacts)
            .args(["--activation", "relu"])
            .output();
        assert_one_line_error(&out, expected);
        assert!(
            !artifacts.join("bad").exists(),
            "{}: a run directory was left",
            file.display()
        );
    }
}

#[test]
fn other_float_types_are_converted_and_said() {
    let dir = scratch();
    let (tensors, _) = read_safetensors(&fixture("tiny.safetensors"));
    let as_f64 = |name: &str| {
        tensors[name]
            .1
            .iter()
            .flat_map(|v| f64::from(*v).to_le_bytes())
            .collect()
    };
    let as_f16 = |name: &str| {
        let values = &tensors[name].1;
        values
            .iter()
            .flat_map(|v| half_bits(*v).to_le_bytes())
            .collect::<Vec<u8>>()
    };
    let file = dir.path().join("mixed.safetensors");
    write_safetensors(
        &file,
        &[
            ("l1.weight", Dtype::F64, vec![8, 784], as_f64("l1.weight")),
            ("l1.bias", Dtype::F64, vec![8], as_f64("l1.bias")),
            ("l2.weight", Dtype::F16, vec![784, 8], as_f16("l2.weight")),
            (
                "l2.bias",
                Dtype::F32,
                vec![784],
                tensors["l2.bias"]
                    .1
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
            ),
        ],
    );
    let out = import(&file, "mixed", dir.path())
        .args(["--activation", "sigmoid"])
        .output();
    stdout_of_success(&out);
    let said = stderr(&out);
    assert!(
        said.contains("l1.weight is float64; converted to float32"),
        "{said}"
    );
    assert!(
        said.contains("l2.weight is float16; converted to float32"),
        "{said}"
    );
    assert!(!said.contains("l2.bias"), "{said}");
    let weights = weights_of_run(&dir.path().join("mixed"), ModelChoice::Final);
    assert!(weights.l1_weight == tensors["l1.weight"].1);
    let rounding = weights
        .l2_weight
        .iter()
        .zip(&tensors["l2.weight"].1)
        .map(|(a, b)| (a - b).abs());
    assert!(rounding.fold(0.0, f32::max) < 1e-3);
}

/// The float16 bits of `value` (round to nearest, no subnormals: the fixture's weights are far
/// from them).
fn half_bits(value: f32) -> u16 {
    let bits = value.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exponent = ((bits >> 23) & 0xff) as i32 - 127 + 15;
    if exponent <= 0 {
        return sign;
    }
    let mantissa = bits & 0x7f_ffff;
    let rounded = ((exponent as u32) << 10 | mantissa >> 13) + ((mantissa >> 12) & 1);
    sign | rounded as u16
}

#[test]
fn an_existing_run_is_refused_and_overwrite_replaces_it() {
    let dir = scratch();
    let root = dir.path();
    import(&fixture("tiny.pt"), "mine", root)
        .args(["--activation", "sigmoid"])
        .stdout();
    let before = snapshot(&root.join("mine"));
    let again = import(&fixture("tiny-chainer.npz"), "mine", root)
        .args(["--activation", "relu"])
        .output();
    assert_one_line_error(&again, "--overwrite");
    assert_eq!(snapshot(&root.join("mine")), before);
    import(&fixture("tiny-chainer.npz"), "mine", root)
        .args(["--activation", "relu", "--overwrite"])
        .stdout();
    assert_eq!(
        config_json(&root.join("mine"))["model"]["activation"],
        "relu"
    );
    let provenance = std::fs::read_to_string(root.join("mine/provenance.json")).unwrap();
    assert!(
        provenance.contains("tiny-chainer.npz") && provenance.contains("chainer-npz"),
        "{provenance}"
    );

    // A trained run is not replaced by an import either, and an imported run is not trained on.
    case(7)
        .name("trained")
        .limit(100)
        .epochs(1)
        .artifacts(root)
        .stdout();
    let trained = snapshot(&root.join("trained"));
    assert_one_line_error(
        &import(&fixture("tiny.pt"), "trained", root)
            .case(7)
            .output(),
        "--overwrite",
    );
    assert_eq!(snapshot(&root.join("trained")), trained);
    let refused = import(&fixture("tiny.pt"), "case7", root).case(7).output();
    assert_usage_error(&refused, "belongs to study case 7");
    let out = case(7).name("mine").artifacts(root).output();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("imported"), "{}", stderr(&out));
    assert_eq!(snapshot(&root.join("mine")).len(), 3);
}

#[test]
fn a_changed_imported_model_is_refused_and_the_advice_imports_it_again() {
    let dir = scratch();
    let root = dir.path();
    let options = ["--activation", "relu", "--noise", "0.1"];
    import(&fixture("tiny-chainer.npz"), "mine", root)
        .args(options)
        .stdout();
    let model = root.join("mine/model.bpk");
    let good = weights_of_run(&root.join("mine"), ModelChoice::Final);
    let damages: [(&str, &dyn Fn()); 2] = [
        ("a changed model", &|| {
            std::fs::write(&model, b"not a model").unwrap()
        }),
        ("a lost model", &|| std::fs::remove_file(&model).unwrap()),
    ];
    for (what, damage) in damages {
        damage();
        let visualize_mine = subcommand("visualize").name("mine").artifacts(root);
        let out = visualize_mine.output();
        assert_one_line_error(&out, "import it again");
        let advice = advice(&out, what);
        let words: Vec<&str> = advice.split_whitespace().collect();
        assert_eq!(words[..2], ["train", "import"], "{what}: {advice}");
        stdout_of_success(&train(&words[1..]));
        let again = weights_of_run(&root.join("mine"), ModelChoice::Final);
        assert!(again == good, "{what}: another model");
        visualize_mine.stdout();
    }
}
