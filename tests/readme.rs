//! The README and its pages are executable: every `cargo run` command in the shell code blocks of
//! the README and of the pages it links under `docs/guide/` runs through `cargo`, as a user types
//! it, in reading order (the README, then each page in the order the README first links it), from
//! the workspace root.
//!
//! Two tests share the commands between them:
//! - `every_readme_command_works_as_written` (in the default run) runs every command that is not
//!   slow;
//! - `every_slow_readme_command_works_as_written` (ignored by default: wgpu trains for minutes on
//!   a software driver, the `vulkan` check is a cold build, a sweep trains dozens of runs; CI
//!   runs it with `-- --ignored`) runs exactly the slow ones: the `--features` commands, those
//!   that train on wgpu (`--backend wgpu`, a `--backends` list with wgpu in it, or a `compare`
//!   without `--backends`, whose default list has wgpu), and the sweeps but the smoke test
//!   (`sweep` without `--quick`). Each test has its own scratch directories.
//!
//! What the tests change in a command, and why — nothing else:
//! - commands that train (`train`, `compare`, `sweep`, and the stock-Burn example) get `--epochs 1
//!   --limit 1000` appended (a later flag overrides an earlier one): as written they train for
//!   minutes to hours; the example gets nothing else;
//! - `report` without `--quick` gets `--quick` (2000 images, one epoch per run), for the same
//!   reason; a command that becomes identical to an earlier one is run once;
//! - every command gets `--artifacts <scratch dir>`, so that the tests never touch `artifacts/`:
//!   one directory shared by the commands that train, draw, compare, export and import runs (in
//!   README order, so that `visualize` finds what `--case 7` trained), another for the `report`
//!   commands (whose quick runs would otherwise meet the one-epoch runs above in the same
//!   directories);
//! - `serve` gets `--port 0` (any free port: a user's server on 8080 does not fail the test); it
//!   runs until the page and `/api/runs` answer, then it is stopped (it serves until Ctrl-C);
//! - a command that needs a GPU feature (`--features X`) is checked with
//!   `cargo check --release -p train --features X` where that feature builds offline (`vulkan`),
//!   and listed as skipped with the reason otherwise (`cuda` downloads a prebuilt LLVM while it
//!   builds; `metal` needs macOS).
//!
//! The environment sets `CUBECL_AUTOTUNE_LEVEL=minimal` (wgpu's kernels tune in seconds instead
//! of a minute on a software driver) and unsets `MNIST_DIR` (the vendored data is used).
//! A command that fails fails its test, with its output.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{scratch, workspace_root};

/// Longest a single README command may take before it counts as hung.
const TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Every `cargo run …` line of the README's shell code blocks (```, ```sh, ```bash, ```console,
/// ```shell), comments stripped, in order.
fn readme_commands(readme: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut block: Option<bool> = None; // Some(is_shell) inside a fence
    for line in readme.lines() {
        let trimmed = line.trim();
        if let Some(info) = trimmed.strip_prefix("```") {
            block = match block {
                Some(_) => None,
                None => Some(matches!(
                    info.trim(),
                    "" | "sh" | "bash" | "console" | "shell"
                )),
            };
            continue;
        }
        if block != Some(true) {
            continue;
        }
        let command = trimmed.trim_start_matches("$ ");
        if command.starts_with("cargo run") {
            let command = match command.find(" #") {
                Some(comment) => &command[..comment],
                None => command,
            };
            commands.push(command.trim().to_string());
        }
    }
    commands
}

/// A command's cargo part and the program's arguments (after ` -- `).
fn split_command(command: &str) -> (&str, &str) {
    match command.split_once(" -- ") {
        Some((cargo_part, args)) => (cargo_part.trim(), args.trim()),
        None => (command.trim(), ""),
    }
}

/// The values of `flag` in `words`, given as `--flag V` or `--flag=V`.
fn values<'a>(words: &[&'a str], flag: &str) -> Vec<&'a str> {
    let mut values = Vec::new();
    for (i, word) in words.iter().enumerate() {
        if *word == flag {
            values.extend(words.get(i + 1).copied());
        } else if let Some(value) = word.strip_prefix(flag).and_then(|v| v.strip_prefix('=')) {
            values.push(value);
        }
    }
    values
}

/// Whether a README command belongs to the slow test: it builds with `--features`, it trains on
/// wgpu (`--backend wgpu`, a `--backends` list with wgpu, or `compare`'s default list, which has
/// wgpu), or it is a sweep but the smoke test.
fn is_slow(command: &str) -> bool {
    let (cargo_part, args) = split_command(command);
    let cargo: Vec<&str> = cargo_part.split_whitespace().collect();
    let args: Vec<&str> = args.split_whitespace().collect();
    let backends = values(&args, "--backends");
    let compare_default = args.first() == Some(&"compare") && backends.is_empty();
    let full_sweep = args.first() == Some(&"sweep") && !args.contains(&"--quick");
    !values(&cargo, "--features").is_empty()
        || full_sweep
        || values(&args, "--backend").contains(&"wgpu")
        || backends
            .iter()
            .any(|list| list.split(',').any(|b| b == "wgpu"))
        || compare_default
}

/// What a test does with one README command.
#[derive(Debug, PartialEq)]
enum Plan {
    /// Run this shell command.
    Run(String),
    /// Start this server command, fetch its page, stop it.
    Serve(String),
    /// Not runnable here, for this reason.
    Skip(&'static str),
}

/// The command as the tests run it (see the module documentation for every change); `report`
/// commands get `reports` as their artifacts directory, the others `runs`.
fn plan(command: &str, runs: &Path, reports: &Path) -> Plan {
    let (cargo_part, args) = split_command(command);
    let tokens: Vec<&str> = cargo_part.split_whitespace().collect();
    if let Some(i) = tokens.iter().position(|t| *t == "--features") {
        return match tokens.get(i + 1).copied() {
            Some("vulkan") => Plan::Run(format!(
                "{} --features vulkan",
                cargo_part
                    .replacen("cargo run", "cargo check", 1)
                    .replace("--features vulkan", "")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
            Some("cuda") => Plan::Skip(
                "the cuda feature downloads a prebuilt LLVM in its build script: no network here",
            ),
            Some("metal") => Plan::Skip("the metal feature needs macOS"),
            _ => Plan::Skip("an unknown feature"),
        };
    }
    if tokens.contains(&"--example") {
        // An example trains as written for minutes and knows no --artifacts: one short epoch.
        let separator = if args.is_empty() { " --" } else { "" };
        return Plan::Run(format!("{command}{separator} --epochs 1 --limit 1000"));
    }
    let subcommand = args.split_whitespace().next().unwrap_or("");
    let mut extra = String::new();
    let mut artifacts = runs;
    match subcommand {
        "visualize" | "export" | "import" => {}
        "serve" => {
            return Plan::Serve(format!(
                "{command} --port 0 --artifacts {}",
                artifacts.display()
            ));
        }
        "report" => {
            if !args.split_whitespace().any(|a| a == "--quick") {
                extra.push_str(" --quick");
            }
            artifacts = reports;
        }
        _ => extra.push_str(" --epochs 1 --limit 1000"),
    }
    extra.push_str(&format!(" --artifacts {}", artifacts.display()));
    let separator = if args.is_empty() { " --" } else { "" };
    Plan::Run(format!("{command}{separator}{extra}"))
}

/// `bash -c COMMAND` in the workspace root, on the vendored data, its input closed and its output
/// piped.
fn bash(command: &str) -> Command {
    let mut bash = Command::new("bash");
    bash.arg("-c")
        .arg(command)
        .current_dir(workspace_root())
        .env_remove("MNIST_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    bash
}

/// Runs `command` with bash in the workspace root; (success, seconds, output tail).
fn run(command: &str) -> (bool, f64, String) {
    let started = Instant::now();
    let mut child = bash(command)
        .env("CUBECL_AUTOTUNE_LEVEL", "minimal")
        .spawn()
        .expect("bash runs");
    // Read both pipes on threads so that a chatty command cannot block on a full pipe.
    let reader = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            pipe.read_to_string(&mut text).ok();
            text
        })
    };
    let stdout = reader(Box::new(child.stdout.take().unwrap()));
    let stderr = reader(Box::new(child.stderr.take().unwrap()));
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > TIMEOUT {
            child.kill().ok();
            child.wait().ok();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = format!(
        "{}{}",
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default()
    );
    let tail: Vec<&str> = output.lines().rev().take(15).collect();
    let tail = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
    let seconds = started.elapsed().as_secs_f64();
    match status {
        Some(status) => (status.success(), seconds, tail),
        None => (
            false,
            seconds,
            format!("timed out after {TIMEOUT:?}\n{tail}"),
        ),
    }
}

/// Starts a `serve` command in its own process group, waits for the address it prints, fetches
/// the page and `/api/runs`, and stops it; (success, seconds, output tail).
fn serve(command: &str) -> (bool, f64, String) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::os::unix::process::CommandExt;
    let started = Instant::now();
    let mut child = bash(command).process_group(0).spawn().expect("bash runs");
    let (sender, lines) = std::sync::mpsc::channel::<String>();
    for pipe in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let sender = sender.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                sender.send(line).ok();
            }
        });
    }
    drop(sender);
    let mut output = Vec::new();
    let mut result = Err("it stopped before printing its address".to_string());
    while started.elapsed() < TIMEOUT {
        let Ok(line) = lines.recv_timeout(Duration::from_secs(1)) else {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            continue;
        };
        output.push(line.clone());
        let Some(address) = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
        else {
            continue;
        };
        let get = |path: &str| -> Result<String, String> {
            let mut stream = std::net::TcpStream::connect(address).map_err(|e| e.to_string())?;
            write!(
                stream,
                "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
            )
            .map_err(|e| e.to_string())?;
            let mut answer = String::new();
            stream
                .read_to_string(&mut answer)
                .map_err(|e| e.to_string())?;
            match answer.starts_with("HTTP/1.1 200") {
                true => Ok(answer),
                false => Err(format!(
                    "GET {path}: {}",
                    answer.lines().next().unwrap_or("")
                )),
            }
        };
        result = get("/").and_then(|page| match page.contains("<canvas id=\"pad\"") {
            true => get("/api/runs").map(|_| ()),
            false => Err("GET /: not the page".into()),
        });
        break;
    }
    let pid = child.id();
    Command::new("kill")
        .args(["-s", "TERM", "--", &format!("-{pid}")])
        .status()
        .ok();
    child.wait().ok();
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(5)) {
        output.push(line);
    }
    let tail = output
        .iter()
        .rev()
        .take(15)
        .rev()
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    let seconds = started.elapsed().as_secs_f64();
    match result {
        Ok(()) => (true, seconds, tail),
        Err(why) => (false, seconds, format!("{why}\n{tail}")),
    }
}

/// The pages under `docs/guide/` that `readme` links, in the order it first links them.
fn guide_pages(readme: &str) -> Vec<String> {
    let mut pages: Vec<String> = Vec::new();
    for part in readme.split("](docs/guide/").skip(1) {
        let page = part.split([')', '#']).next().unwrap_or("").to_string();
        if !pages.contains(&page) {
            pages.push(page);
        }
    }
    pages
}

/// The `cargo run` commands of the README and of its guide pages, in reading order.
fn readme() -> Vec<String> {
    let root = workspace_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut commands = readme_commands(&readme);
    for page in guide_pages(&readme) {
        let text = std::fs::read_to_string(root.join("docs/guide").join(&page))
            .unwrap_or_else(|e| panic!("the README links docs/guide/{page}: {e}"));
        commands.extend(readme_commands(&text));
    }
    commands
}

/// Runs `commands` as [`plan`] says, in order, each distinct one once, with their own scratch
/// artifacts, and asserts that none failed.
fn run_as_written<'a>(commands: impl IntoIterator<Item = &'a String>) {
    let runs = scratch();
    let reports = scratch();
    let mut seen = Vec::new();
    let mut failures = Vec::new();
    for command in commands {
        match plan(command, runs.path(), reports.path()) {
            Plan::Skip(reason) => println!("skipped: {command}\n  ({reason})"),
            Plan::Run(runnable) | Plan::Serve(runnable) if seen.contains(&runnable) => {
                println!("ran above: {command}\n  as {runnable}");
            }
            plan @ (Plan::Run(_) | Plan::Serve(_)) => {
                let (ok, seconds, tail, runnable) = match plan {
                    Plan::Run(runnable) => {
                        let (ok, seconds, tail) = run(&runnable);
                        (ok, seconds, tail, runnable)
                    }
                    Plan::Serve(runnable) => {
                        let (ok, seconds, tail) = serve(&runnable);
                        (ok, seconds, tail, runnable)
                    }
                    Plan::Skip(_) => unreachable!(),
                };
                println!(
                    "{}: {command}\n  as {runnable}\n  ({seconds:.0} s)",
                    if ok { "ok" } else { "FAILED" }
                );
                if !ok {
                    failures.push(format!("{command}\n  run as: {runnable}\n{tail}"));
                }
                seen.push(runnable);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "README commands that fail as written:\n\n{}",
        failures.join("\n\n")
    );
}

#[test]
fn every_readme_command_works_as_written() {
    let commands = readme();
    assert!(
        commands.contains(&"cargo run --release -p train -- --case 7".to_string()),
        "the README's first training command is missing: {commands:#?}"
    );
    assert!(commands.len() >= 6, "too few commands found: {commands:#?}");
    run_as_written(commands.iter().filter(|c| !is_slow(c)));
}

#[test]
#[ignore = "slow: trains on wgpu (minutes on a software driver), checks the vulkan feature with a cold cargo check, sweeps dozens of runs; CI runs it after the default tests: cargo test --release --workspace --locked -- --ignored"]
fn every_slow_readme_command_works_as_written() {
    let commands = readme();
    let slow: Vec<&String> = commands.iter().filter(|c| is_slow(c)).collect();
    assert!(!slow.is_empty(), "no slow command found: {commands:#?}");
    run_as_written(slow);
}

#[test]
fn every_guide_page_is_linked_and_every_line_count_is_true() {
    let root = workspace_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let linked = guide_pages(&readme);
    for entry in std::fs::read_dir(root.join("docs/guide")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            linked.contains(&name),
            "docs/guide/{name} is not linked from the README: its commands would go untested"
        );
    }
    // "[`path`](path) (N lines": the file has N lines.
    let mut checked = 0;
    for part in readme.split("[`").skip(1) {
        let Some((path, rest)) = part.split_once("`](") else {
            continue;
        };
        let Some(count) = rest
            .split_once(") (")
            .and_then(|(_, after)| after.split_once(" lines"))
            .and_then(|(n, _)| n.trim().parse::<usize>().ok())
        else {
            continue;
        };
        let text = std::fs::read_to_string(root.join(path)).unwrap();
        assert_eq!(
            text.lines().count(),
            count,
            "the README says {path} has {count} lines"
        );
        checked += 1;
    }
    assert!(checked >= 4, "too few line counts found: {checked}");
}

#[test]
fn commands_are_found_and_changed_only_as_stated() {
    let readme = "text\n```sh\n$ cargo run --release -p train -- --case 7   # trains\ncargo bench\n```\n\
                  ```text\ncargo run -p x -- ignored\n```\n```\ncargo run --release -p train -- report\n```\n";
    let commands = readme_commands(readme);
    assert_eq!(
        commands,
        vec![
            "cargo run --release -p train -- --case 7",
            "cargo run --release -p train -- report"
        ]
    );
    let (dir, reports) = (Path::new("/s"), Path::new("/r"));
    let plan = |command: &str, dir| plan(command, dir, reports);
    assert_eq!(
        plan(&commands[0], dir),
        Plan::Run(
            "cargo run --release -p train -- --case 7 --epochs 1 --limit 1000 --artifacts /s"
                .into()
        )
    );
    assert_eq!(
        plan(&commands[1], dir),
        Plan::Run("cargo run --release -p train -- report --quick --artifacts /r".into())
    );
    assert_eq!(
        plan("cargo run --release -p train -- serve", dir),
        Plan::Serve("cargo run --release -p train -- serve --port 0 --artifacts /s".into())
    );
    assert_eq!(
        plan("cargo run --release -p train -- visualize --case 7", dir),
        Plan::Run("cargo run --release -p train -- visualize --case 7 --artifacts /s".into())
    );
    // export and import train nothing: they only get the scratch artifacts.
    assert_eq!(
        plan(
            "cargo run --release -p train -- import m.pt --name m --case 7",
            dir
        ),
        Plan::Run(
            "cargo run --release -p train -- import m.pt --name m --case 7 --artifacts /s".into()
        )
    );
    assert_eq!(
        plan(
            "cargo run --release -p train --features vulkan -- --case 1 --backend vulkan",
            dir
        ),
        Plan::Run("cargo check --release -p train --features vulkan".into())
    );
    assert_eq!(
        plan("cargo run --release --example stock", dir),
        Plan::Run("cargo run --release --example stock -- --epochs 1 --limit 1000".into())
    );
    assert!(matches!(
        plan(
            "cargo run --release -p train --features cuda -- --case 1",
            dir
        ),
        Plan::Skip(_)
    ));
    // The GPU test's wgpu commands are shortened and kept out of `artifacts/` the same way.
    assert_eq!(
        plan(
            "cargo run --release -p train -- --case 7 --backend wgpu --name case7-wgpu",
            dir
        ),
        Plan::Run(
            "cargo run --release -p train -- --case 7 --backend wgpu --name case7-wgpu \
             --epochs 1 --limit 1000 --artifacts /s"
                .into()
        )
    );
    assert_eq!(
        plan(
            "cargo run --release -p train -- compare --case 7 --backends flex,ndarray,wgpu \
             --epochs 2 --limit 10000",
            dir
        ),
        Plan::Run(
            "cargo run --release -p train -- compare --case 7 --backends flex,ndarray,wgpu \
             --epochs 2 --limit 10000 --epochs 1 --limit 1000 --artifacts /s"
                .into()
        )
    );

    // Which test runs which command: the default one what is quick, the ignored one the
    // `--features` commands, those on wgpu and the sweeps but the smoke test.
    let cargo_run = "cargo run --release -p train";
    for (command, slow) in [
        ("-- --case 7", false),
        ("-- --case 7 --resume", false),
        ("-- visualize --case 7", false),
        ("-- --case 7 --backend ndarray", false),
        ("-- compare --case 7 --backends flex,ndarray", false),
        ("-- report", false),
        ("-- report --quick", false),
        ("-- serve", false),
        ("-- sweep --quick", false),
        ("-- sweep", true),
        ("-- sweep --hidden 16,64 --epochs 20", true),
        ("-- --case 7 --backend wgpu --name case7-wgpu", true),
        ("-- --case 7 --backend=wgpu", true),
        ("-- visualize --case 7 --backend wgpu", true),
        ("-- report --quick --backend wgpu", true),
        (
            "-- compare --case 7 --backends flex,ndarray,wgpu --epochs 2 --limit 10000",
            true,
        ),
        ("-- compare --case 7 --backends=wgpu", true),
        ("-- compare --case 7", true),
        ("--features vulkan -- --case 1 --backend vulkan", true),
        ("--features cuda   -- --case 1 --backend cuda", true),
        ("--features metal  -- --case 1 --backend metal", true),
    ] {
        let command = format!("{cargo_run} {command}");
        assert_eq!(is_slow(&command), slow, "{command}");
    }
}
