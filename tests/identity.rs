//! Run identity: what the program shows is from the run, epoch and configuration its label says,
//! and the advice it prints works when typed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::Duration;

use crate::util::*;

/// Trains case 7 on 500 images for `epochs` epochs into `root/case7`.
fn small_case7(root: &Path, epochs: usize) -> std::path::PathBuf {
    case(7).limit(500).epochs(epochs).artifacts(root).stdout();
    root.join("case7")
}

/// `train --name NAME --resume --epochs N --artifacts ROOT`: a resume by the run's name alone.
fn resume_by_name(name: &str, epochs: usize, root: &str) -> Train {
    Train::new()
        .name(name)
        .arg("--resume")
        .epochs(epochs)
        .artifacts(root)
}

/// Epoch, train loss and test MSE of each row: what a retrained epoch must reproduce (its
/// seconds differ).
fn losses(run: &Path) -> Vec<(usize, f64, f64)> {
    epochs(run)
        .iter()
        .map(|r| (r.epoch, r.train_loss, r.test_mse))
        .collect()
}

#[test]
fn resume_by_name_continues_the_directory_named_not_the_one_it_was_copied_from() {
    let dir = scratch();
    let original = small_case7(dir.path(), 1);
    let copy = dir.path().join("mine");
    copy_dir(&original, &copy);
    let before = snapshot(&original);
    resume_by_name("mine", 2, arg(dir.path())).stdout();
    assert_eq!(epoch_numbers(&copy), [1, 2]);
    assert_eq!(snapshot(&original), before, "the original run changed");
    assert_eq!(config_json(&copy)["name"], "mine");
}

#[test]
fn the_report_refuses_to_pool_runs_of_other_lengths() {
    let dir = scratch();
    let root = arg(dir.path());
    case(7).limit(2000).epochs(5).artifacts(root).stdout();
    let before = snapshot(dir.path());
    let report = subcommand("report")
        .args(["--quick", "--seeds", "2"])
        .artifacts(root);
    for extra in [&[][..], &["--reuse"][..]] {
        let out = report.args(extra).output();
        assert_one_line_error(
            &out,
            "case7 holds a run with a different configuration (epochs 5 → 1); nothing was changed",
        );
        assert_eq!(snapshot(dir.path()), before, "a refusal changed files");
    }
}

#[test]
fn a_checkpoints_figures_are_never_shown_as_the_finished_models() {
    let dir = scratch();
    let root = arg(dir.path());
    let run = small_case7(dir.path(), 3);
    let out = subcommand("visualize")
        .case(7)
        .args(["--epoch", "2"])
        .artifacts(root)
        .stdout();
    let figures = run.join("figures");
    let epoch2 = figures.join("epoch-2/w1-epoch-2.png");
    assert!(
        epoch2.is_file() && out.contains("figures/epoch-2/w1-epoch-2.png"),
        "{out}"
    );
    assert!(
        !figures.join("w1.png").exists(),
        "a checkpoint's figure took the final one's name"
    );

    // The page shows the finished model's weights, as `visualize` draws them.
    let reference = dir.path().join("final");
    visualize(7, root).args(["--out", arg(&reference)]).stdout();
    let app = App::new(dir.path());
    let (status, served) = app.get("/api/runs/case7/figures/w1.png");
    assert_eq!(status, 200);
    assert_eq!(served, std::fs::read(reference.join("w1.png")).unwrap());
    assert_ne!(served, std::fs::read(&epoch2).unwrap());

    // Own figures of the final model are shown only while they are of the model there now.
    visualize(7, root).args(["--zoom", "1"]).stdout();
    let (_, own) = app.get("/api/runs/case7/figures/w1.png");
    assert_eq!(own, std::fs::read(figures.join("w1.png")).unwrap());
    assert_ne!(own, served, "zoom 1 draws another picture");
}

#[test]
fn resume_mends_what_visualize_says_it_mends() {
    let dir = scratch();
    let root = arg(dir.path());
    let run = small_case7(dir.path(), 3);
    let model = run.join("model.bpk");
    let good_model = std::fs::read(&model).unwrap();
    let good_rows = losses(&run);
    let drop_last_row = |run: &Path| {
        let csv = run.join("epochs.csv");
        let text = std::fs::read_to_string(&csv).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.pop();
        std::fs::write(&csv, lines.join("\n") + "\n").unwrap();
    };
    let damages: [(&str, &dyn Fn(&Path)); 3] = [
        ("another epoch's model", &|run| {
            std::fs::copy(run.join("checkpoint/model-2.bpk"), run.join("model.bpk")).unwrap();
        }),
        ("a model of garbage", &|run| {
            std::fs::write(run.join("model.bpk"), b"not a model").unwrap()
        }),
        ("a lost row of the epoch log", &drop_last_row),
    ];
    for (what, damage) in damages {
        damage(&run);
        let out = visualize(7, root).output();
        assert_one_line_error(&out, "files disagree");
        let advice = advice(&out, what);
        let words: Vec<&str> = advice.split_whitespace().collect();
        assert!(
            words[0] == "train" && words.contains(&"--resume"),
            "{what}: {advice}"
        );
        let mended = stderr(&train(&words[1..]));
        assert!(mended.contains("mending the run"), "{what}: {mended}");
        visualize(7, root).stdout();
        assert_eq!(
            std::fs::read(&model).unwrap(),
            good_model,
            "{what}: another model"
        );
        assert_eq!(losses(&run), good_rows, "{what}: another epoch log");
    }
}

/// Starts `command`, waits until its stdout shows `marker`, sends SIGINT, and returns the exit code
/// and stderr.
fn interrupted(command: &Train, marker: &str) -> (Option<i32>, String) {
    let mut child = command.spawn();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            sender.send(line).ok();
        }
    });
    loop {
        let line = receiver
            .recv_timeout(Duration::from_secs(300))
            .unwrap_or_else(|_| panic!("{command:?}: no {marker:?} line"));
        if line.contains(marker) {
            break;
        }
    }
    signal(&child, "INT");
    let out = child.wait_with_output().unwrap();
    (out.status.code(), stderr(&out))
}

#[test]
fn compare_and_report_advise_what_they_accept_after_ctrl_c() {
    let dir = scratch();
    let root = arg(dir.path());
    let compare = subcommand("compare")
        .case(7)
        .args(["--backends", "flex,ndarray"])
        .epochs(2)
        .limit(5000)
        .artifacts(root);
    let report = subcommand("report").arg("--quick").artifacts(root);
    for (command, marker) in [(compare, "epoch  1/2"), (report, "run 2/11")] {
        let (code, message) = interrupted(&command, marker);
        assert_eq!(code, Some(130), "{message}");
        assert!(message.contains("run the same command again"), "{message}");
        assert!(!message.contains("--resume"), "{message}");
        command.stdout();
    }
    for help in [&["compare", "--help"][..], &["report", "--help"][..]] {
        let text = stdout_of_success(&train(help));
        assert!(
            !text.contains("--resume"),
            "{help:?} mentions --resume:\n{text}"
        );
    }
}

#[test]
fn a_run_trains_on_one_backend_from_its_first_epoch_to_its_last() {
    let dir = scratch();
    let root = arg(dir.path());
    let run = small_case7(dir.path(), 1);
    let before = snapshot(dir.path());
    let base = case(7).limit(500).artifacts(root).arg("--resume").epochs(2);
    let out = base.args(["--backend", "ndarray"]).output();
    assert_one_line_error(&out, "backend flex → ndarray");
    assert!(stderr(&out).contains("--backend flex"), "{}", stderr(&out));
    assert_eq!(snapshot(dir.path()), before, "a refusal changed files");
    // Without --backend a resume continues on the run's own.
    base.stdout();
    assert_eq!(config_json(&run)["backend"], "flex");
    assert_eq!(epoch_numbers(&run), [1, 2]);
    // And the run of another name resumes by its name alone, on its own backend.
    case(7)
        .limit(500)
        .epochs(1)
        .args(["--backend", "ndarray"])
        .name("nd")
        .artifacts(root)
        .stdout();
    let resumed = resume_by_name("nd", 2, root).output();
    assert!(stdout_of_success(&resumed).contains("ndarray"));
    assert_eq!(epoch_numbers(&dir.path().join("nd")), [1, 2]);
}

#[test]
fn serve_reads_nothing_through_a_link_out_and_sends_no_machine_paths() {
    let dir = scratch();
    let artifacts = dir.path().join("artifacts");
    let run = small_case7(&artifacts, 1);
    // A run whose epoch log is a link to a file outside the artifacts.
    let secret = dir.path().join("secret.csv");
    std::fs::write(
        &secret,
        "epoch,train_loss,test_mse,train_seconds,test_seconds\n1,0.123456,0.5,1,1\n",
    )
    .unwrap();
    let linked = artifacts.join("linked");
    copy_dir(&run, &linked);
    std::fs::remove_file(linked.join("epochs.csv")).unwrap();
    std::os::unix::fs::symlink(&secret, linked.join("epochs.csv")).unwrap();
    // A run being trained by a live process, and one whose files disagree.
    let busy = artifacts.join("busy");
    copy_dir(&run, &busy);
    std::fs::remove_file(busy.join("model.bpk")).unwrap();
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let record = format!(
        "pid {} on {}, started 2026-12-01 08:00:00 UTC",
        std::process::id(),
        host.trim()
    );
    std::fs::write(busy.join(".lock"), record).unwrap();
    let damaged = artifacts.join("damaged");
    copy_dir(&run, &damaged);
    std::fs::write(damaged.join("model.bpk"), b"garbage").unwrap();

    let app = App::new(&artifacts);
    let (status, body) = app.get("/api/runs/linked/epochs");
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    assert!(!String::from_utf8_lossy(&body).contains("0.123456"));
    let (status, runs) = app.json("GET", "/api/runs", None);
    assert_eq!(status, 200);
    let text = runs.to_string();
    let root = artifacts.canonicalize().unwrap();
    for leak in [
        root.to_str().unwrap(),
        "/tmp",
        "pid ",
        &std::process::id().to_string(),
    ] {
        assert!(!text.contains(leak), "/api/runs shows {leak:?}: {text}");
    }
    if !host.trim().is_empty() {
        assert!(
            !text.contains(host.trim()),
            "/api/runs shows the host name: {text}"
        );
    }
    let run_named = |name: &str| {
        runs.as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
    };
    assert!(
        run_named("linked").is_none(),
        "a run with a link out is listed: {text}"
    );
    assert_eq!(run_named("busy").unwrap()["status"], "training");
    let damaged = run_named("damaged").unwrap();
    assert_eq!(damaged["status"], "inconsistent");
    let detail = damaged["detail"].as_str().unwrap();
    assert!(
        detail.contains("mend it with `train --name damaged --resume --artifacts DIR`"),
        "{detail}"
    );

    // Draw follows the model's content: another model of the same size put in place with the old
    // modification time is used at once.
    let drawing = serde_json::json!({ "pixels": vec![0.5; 784] });
    let answer = |app: &App| {
        let (status, answer) = app.json("POST", "/api/reconstruct", Some(&drawing));
        assert_eq!(status, 200, "{answer}");
        let runs = answer["runs"].as_array().unwrap().clone();
        runs.into_iter().find(|r| r["name"] == "case7").unwrap()["reconstruction"].clone()
    };
    let before = answer(&app);
    let other = dir.path().join("other");
    case(7)
        .limit(500)
        .epochs(1)
        .seed(1)
        .name("case7-seed1")
        .artifacts(&other)
        .stdout();
    let model = run.join("model.bpk");
    let modified = std::fs::metadata(&model).unwrap().modified().unwrap();
    for file in [
        "model.bpk",
        "checkpoint/model-1.bpk",
        "checkpoint/model-1.bpk.sha256",
    ] {
        std::fs::copy(other.join("case7-seed1").join(file), run.join(file)).unwrap();
    }
    std::fs::File::options()
        .write(true)
        .open(&model)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    assert_ne!(
        answer(&app),
        before,
        "Draw kept the model that was replaced"
    );
}

#[test]
fn a_checkpoint_whose_bytes_changed_is_skipped_for_the_one_before() {
    let dir = scratch();
    let root = arg(dir.path());
    let run = small_case7(dir.path(), 3);
    let good = losses(&run);
    // 1000 bytes of the tensor data of epoch 3's checkpoint changed, its length kept.
    let checkpoint = run.join("checkpoint/model-3.bpk");
    let mut bytes = std::fs::read(&checkpoint).unwrap();
    let middle = bytes.len() / 2;
    for (i, b) in bytes[middle..middle + 1000].iter_mut().enumerate() {
        *b = b.wrapping_add(1 + (i % 250) as u8);
    }
    std::fs::write(&checkpoint, &bytes).unwrap();
    let out = case(7)
        .limit(500)
        .artifacts(root)
        .arg("--resume")
        .epochs(4)
        .output();
    stdout_of_success(&out);
    let warning = stderr(&out);
    assert!(
        warning.contains("skipping checkpoint of epoch 3") && warning.contains("checksum"),
        "{warning}"
    );
    assert!(
        stdout(&out).contains("resuming after epoch 2"),
        "{}",
        stdout(&out)
    );
    // Epoch 3 trained again gives the same numbers; epoch 4 follows.
    assert_eq!(losses(&run)[..3], good[..]);
    assert_eq!(epoch_numbers(&run), [1, 2, 3, 4]);
    // The checkpoints kept are the last two and the best, also of the epochs before the resume.
    let mut kept: Vec<String> = std::fs::read_dir(run.join("checkpoint"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("model-") && n.ends_with(".bpk"))
        .collect();
    kept.sort();
    let best = good
        .iter()
        .chain(&losses(&run)[3..])
        .min_by(|a, b| a.2.total_cmp(&b.2))
        .unwrap()
        .0;
    let mut expected: Vec<String> = [3, 4, best]
        .iter()
        .map(|e| format!("model-{e}.bpk"))
        .collect();
    expected.sort();
    expected.dedup();
    assert_eq!(kept, expected);
}

#[test]
fn every_usage_error_exits_2_with_one_line() {
    let cases: [&[&str]; 15] = [
        &[],
        &["--case", "0"],
        &["--case", "8"],
        &["--case", "seven"],
        &["--case", "7", "--epochs", "0"],
        &["--case", "7", "--batch-size", "0"],
        &["--case", "7", "--limit", "0"],
        &["--case", "7", "--name", "case1-seed2"],
        &["--name", "mine"],
        &["visualize"],
        &["visualize", "--case", "7", "--samples", "0"],
        &["visualize", "--case", "7", "--zoom", "0"],
        &["compare"],
        &["compare", "--case", "7", "--name", "report"],
        &["serve", "--port", "70000"],
    ];
    for args in cases {
        let out = train(args);
        assert_usage_error(&out, "");
    }
    assert_usage_error(
        &train(&["visualize", "--case", "7", "--compare", "case1,case1"]),
        "case1 is listed twice",
    );
    assert!(
        stderr(&train(&[])).contains("serve"),
        "train alone names every subcommand"
    );
}

#[test]
fn serve_exits_like_every_command_on_ctrl_c_and_sigterm() {
    // A host name is an address too.
    let dir = scratch();
    let mut named = subcommand("serve")
        .args(["--port", "0", "--bind", "localhost"])
        .artifacts(dir.path())
        .spawn();
    let mut first = String::new();
    BufReader::new(named.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("http://"), "{first}");
    signal(&named, "TERM");
    assert_eq!(named.wait().unwrap().code(), Some(143));
    let dir = scratch();
    for (name, code) in [("INT", 130), ("TERM", 143)] {
        let mut server = Server::start(dir.path());
        signal(&server.child, name);
        let status = server.child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "SIG{name}");
        assert!(!server.alive());
    }
}
