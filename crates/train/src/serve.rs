//! `train serve`: a local web page to browse the runs while they train and to draw a digit for
//! every finished model to reconstruct.
//!
//! The page (`serve/page.html`, scripts and styles inline) is compiled into the binary; the server
//! answers a few JSON endpoints and the runs' figures, nothing else:
//!
//! ```text
//! GET  /                                   the page
//! GET  /api/runs                           every run: configuration, status, epochs, figures
//! GET  /api/runs/{run}/epochs              its epochs.csv as JSON (the page polls it once a second)
//! GET  /api/runs/{run}/figures/{file}      one of its figures (loss.png, w1.png, …)
//! GET  /api/digits                         a few MNIST test digits to start drawing from
//! POST /api/reconstruct                    {"pixels": [784 values in 0..1], "noise": 0–0.5, "seed": n}
//! ```
//!
//! Files are served only by name from a fixed list, inside a run directory whose name is one plain
//! component; a run directory holding a link that leads out of the artifacts directory is not
//! served at all, so nothing outside it can be read. Answers name files relative to the artifacts
//! directory, never the machine's paths, processes or host name. Bad requests get HTTP 400 and
//! `{"error": "…"}` on one line; a handler never panics the server.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use burn::tensor::Device;
use data::{Mnist, PIXELS, Split};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::artifacts::{self, MODEL_FILE};
use crate::config::TrainingConfig;
use crate::inference::{ModelChoice, TrainedRun};
use crate::renderer::{EPOCHS_CSV, read_epochs};
use crate::run::{RunError, active_writer, check_finished, check_run_name, process_alive};
use crate::visualize::{FIGURES_STAMP, FigureOptions, default_place, figures_show, write_figures};

/// The page, with its script and styles.
const PAGE: &str = include_str!("serve/page.html");
/// Figures the server hands out, by file name.
const FIGURES: [&str; 7] = [
    "loss.png",
    "reconstructions.png",
    "w1.png",
    "w2t.png",
    "codes.png",
    "noised.png",
    "loss-compare.png",
];
/// Largest request body: a drawing is 784 numbers, well under this.
const MAX_BODY: usize = 64 * 1024;
/// Highest masking-noise ratio the page offers.
const MAX_NOISE: f64 = 0.5;
/// Test digits offered to start drawing from.
const DIGITS: usize = 10;

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The artifacts directory whose runs are shown.
    pub artifacts: PathBuf,
    /// Address to listen on (loopback unless asked otherwise).
    pub bind: IpAddr,
    /// Port (0: any free port).
    pub port: u16,
    /// Directory of the MNIST files (for the sample digits).
    pub data_dir: PathBuf,
    /// The `train` command that continues run `NAME` under these artifacts, with `{name}` where
    /// the name goes (the page's advice for a run whose files disagree).
    pub resume_command: String,
}

struct AppState {
    /// The artifacts directory, resolved.
    root: PathBuf,
    /// See [`ServeOptions::resume_command`].
    resume_command: String,
    /// Directory of the MNIST files (figures need the test images).
    data_dir: PathBuf,
    /// Where the server draws figures for runs that have none of their own (removed on exit).
    cache: PathBuf,
    /// Figures drawn into `cache`, by run: the model they show (its SHA-256) and their directory.
    drawn: Mutex<HashMap<String, (String, PathBuf)>>,
    /// Models loaded once per run, reloaded when its `model.bpk` changes (by content).
    models: Mutex<HashMap<String, (String, Arc<TrainedRun>)>>,
    /// The SHA-256 of each run's `model.bpk`, computed again when its file changes.
    hashes: Mutex<HashMap<PathBuf, (FileStamp, String)>>,
    /// Sample test digits with their labels.
    digits: Vec<(u8, Vec<f32>)>,
}

/// What tells that a file was replaced or rewritten without reading it: its inode, length and
/// modification and change times (the change time moves with any write or rename, whatever the
/// modification time is set to).
type FileStamp = (u64, u64, Option<SystemTime>, i64, i64);

/// A JSON error answer: `{"error": "..."}` with a status.
struct ApiError(StatusCode, String);

impl ApiError {
    fn bad(message: impl Into<String>) -> Self {
        Self(StatusCode::BAD_REQUEST, message.into())
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self(StatusCode::NOT_FOUND, message.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = self.1.lines().next().unwrap_or_default().to_string();
        (self.0, axum::Json(json!({ "error": message }))).into_response()
    }
}

/// Starts the server and serves until Ctrl-C.
pub fn serve(options: ServeOptions) -> Result<()> {
    if options.artifacts.is_file() {
        bail!(
            "{}: is a file; point --artifacts at the directory that holds the runs",
            options.artifacts.display()
        );
    }
    if !options.artifacts.is_dir() {
        bail!(
            "{}: no such artifacts directory (train a run first, or point --artifacts at one)",
            options.artifacts.display()
        );
    }
    if options.artifacts.join(artifacts::CONFIG_FILE).is_file() {
        bail!(
            "{}: this is one run's directory; point --artifacts at the directory that holds runs (its parent)",
            options.artifacts.display()
        );
    }
    let root = options
        .artifacts
        .canonicalize()
        .with_context(|| format!("{}: cannot resolve", options.artifacts.display()))?;
    if run_names(&root, artifacts::CONFIG_FILE).is_empty() {
        crate::err!(
            "note: no runs under {} yet; the page lists them as they appear (train one with `train --case 7`)",
            options.artifacts.display()
        );
    }
    let test = Mnist::load(&options.data_dir, Split::Test)?;
    let digits = (0..DIGITS)
        .map(|i| (test.label(i), test.pixels(i)))
        .collect();
    // A failing request must not take the server down: report it and let the server go on
    // (the default hook of `run_cli` ends the process, which suits training, not serving).
    std::panic::set_hook(Box::new(|info| {
        crate::err!("error: internal failure while answering a request: {info}");
    }));
    let cache = std::env::temp_dir().join(format!("{CACHE_PREFIX}{}", std::process::id()));
    remove_stale_caches();
    let state = Arc::new(AppState {
        root,
        resume_command: options.resume_command.clone(),
        hashes: Mutex::new(HashMap::new()),
        data_dir: options.data_dir.clone(),
        cache: cache.clone(),
        drawn: Mutex::new(HashMap::new()),
        models: Mutex::new(HashMap::new()),
        digits,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .enable_time()
        .build()
        .context("cannot start the server's runtime")?;
    let served = runtime.block_on(async move {
        let stop = stop_signals()?;
        let address = SocketAddr::new(options.bind, options.port);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|e| bind_error(address, &e))?;
        let address = listener.local_addr()?;
        crate::out!(
            "serving {} at http://{address}/ (Ctrl-C to stop)",
            state.root.display()
        );
        if !options.bind.is_loopback() {
            crate::err!(
                "warning: listening on {} — anyone who can reach this machine can use the page; there is no authentication",
                options.bind
            );
        }
        let (sender, signal) = tokio::sync::oneshot::channel();
        axum::serve(listener, router(state))
            .with_graceful_shutdown(async move {
                sender.send(stop.await).ok();
            })
            .await
            .context("the server stopped")?;
        anyhow::Ok(signal.await.unwrap_or(2))
    });
    // Only figures the server drew itself live here; the runs are never written.
    std::fs::remove_dir_all(&cache).ok();
    // Stopped as asked, with the exit code of the signal, like every other command.
    Err(crate::interrupt::Interrupted { signal: served? }.into())
}

/// Why the server cannot listen on `address`, with the way out.
fn bind_error(address: SocketAddr, error: &std::io::Error) -> anyhow::Error {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::AddrInUse => anyhow::anyhow!(
            "cannot listen on {address}: the port is in use (another server there?); choose another --port, or --port 0 for any free one"
        ),
        ErrorKind::AddrNotAvailable => anyhow::anyhow!(
            "cannot listen on {address}: no network interface of this machine has the address {}; choose another --bind",
            address.ip()
        ),
        ErrorKind::PermissionDenied => anyhow::anyhow!(
            "cannot listen on {address}: not allowed (ports below 1024 need privileges); choose another --port"
        ),
        _ => anyhow::anyhow!("cannot listen on {address}: {error}"),
    }
}

/// Figures drawn by servers live in `<temp>/train-serve-<pid>`.
const CACHE_PREFIX: &str = "train-serve-";

/// Removes the figure caches of servers that were killed before they could clean up.
fn remove_stale_caches() {
    for entry in std::fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.strip_prefix(CACHE_PREFIX))
            .and_then(|pid| pid.parse::<u32>().ok());
        if pid.is_some_and(|pid| !process_alive(pid)) {
            std::fs::remove_dir_all(entry.path()).ok();
        }
    }
}

/// The stop signals, listened for from the moment this is called (before the address is printed:
/// a signal sent as soon as the server says it serves must stop it cleanly); resolves with the
/// number of the first that comes.
fn stop_signals() -> Result<impl Future<Output = i32>> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind| signal(kind).context("cannot listen for signals");
    let mut interrupt = listen(SignalKind::interrupt())?;
    let mut terminate = listen(SignalKind::terminate())?;
    let mut hangup = listen(SignalKind::hangup())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => 2,
            _ = terminate.recv() => 15,
            _ = hangup.recv() => 1,
        }
    })
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/api/runs", get(runs))
        .route("/api/runs/{run}/epochs", get(epochs))
        .route("/api/runs/{run}/figures/{file}", get(figure))
        .route("/api/digits", get(digits))
        .route("/api/reconstruct", post(reconstruct))
        .fallback(|| async { ApiError::not_found("no such page") })
        .method_not_allowed_fallback(|| async {
            ApiError(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed here".into(),
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Where a run stands, as the page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    /// Its final model is there and its files agree.
    Finished,
    /// A live process holds its lock.
    Training,
    /// No final model and no writer: stopped part-way.
    Interrupted,
    /// Its files disagree.
    Inconsistent,
}

/// One run as the page lists it.
#[derive(Serialize)]
struct RunInfo {
    name: String,
    summary: String,
    status: Status,
    /// Why, for `inconsistent` (with the way out); since when, for `training`.
    detail: Option<String>,
    epochs_done: usize,
    epochs_target: usize,
    backend: Option<String>,
    figures: Vec<&'static str>,
}

/// The run directory `name` inside the artifacts, if the name is a plain component and the
/// directory exists inside them (links resolved).
fn run_dir(state: &AppState, name: &str) -> Result<PathBuf, ApiError> {
    check_run_name(name).map_err(|e| ApiError::bad(e.to_string()))?;
    let dir = state.root.join(name);
    let resolved = dir
        .canonicalize()
        .map_err(|_| ApiError::not_found(format!("no run named {name}")))?;
    if resolved.starts_with(&state.root) && resolved.is_dir() {
        Ok(resolved)
    } else {
        Err(ApiError::not_found(format!("no run named {name}")))
    }
}

/// Whether `path`, links followed, is inside `root` (an absent path is: there is nothing to
/// read): the one rule for every file the server reads.
fn inside(root: &Path, path: &Path) -> bool {
    path.symlink_metadata().is_err()
        || path
            .canonicalize()
            .is_ok_and(|target| target.starts_with(root))
}

/// Whether every file the server reads to load or draw the model of run `dir` is inside `root`:
/// its configuration, epoch log, final model, checkpoints and metric logs.
fn model_files_inside(root: &Path, dir: &Path) -> bool {
    let mut stack: Vec<PathBuf> = [
        "config.json",
        "epochs.csv",
        MODEL_FILE,
        "checkpoint",
        "train",
        "valid",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    while let Some(path) = stack.pop() {
        if !inside(root, &path) {
            return false;
        }
        let real_dir = path.symlink_metadata().is_ok_and(|m| m.is_dir());
        if real_dir {
            stack.extend(
                std::fs::read_dir(&path)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path()),
            );
        }
    }
    true
}

/// The runs directly inside `root` (sorted) that hold `file`, whose configuration and epoch log
/// are inside `root`.
fn run_names(root: &Path, file: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.path().canonicalize().is_ok_and(|p| {
                p.starts_with(root)
                    && p.join(file).is_file()
                    && [artifacts::CONFIG_FILE, EPOCHS_CSV, file]
                        .iter()
                        .all(|f| inside(root, &p.join(f)))
            })
        })
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| check_run_name(n).is_ok())
        .collect();
    names.sort();
    names
}

fn run_info(state: &AppState, dir: &Path, name: &str) -> Option<RunInfo> {
    let config: TrainingConfig = artifacts::load_config(dir).ok()?;
    let epochs_done = read_epochs(&dir.join(EPOCHS_CSV)).len();
    let (status, detail) = if dir.join(MODEL_FILE).exists() {
        match check_finished(dir, &config) {
            Ok(()) => (Status::Finished, None),
            Err(RunError::Inconsistent { what, .. }) => (
                Status::Inconsistent,
                Some(format!(
                    "files disagree: {what}; mend it with `{}`",
                    state.resume_command.replace("{name}", name)
                )),
            ),
            Err(e) => (Status::Inconsistent, Some(e.to_string())),
        }
    } else if let Some(writer) = active_writer(dir) {
        let since = writer.split_once("started ").map(|(_, t)| t.to_string());
        (
            Status::Training,
            since.map(|t| format!("training since {t}")),
        )
    } else {
        (Status::Interrupted, None)
    };
    // A finished run's figures are drawn on request when it has none of its own.
    let figures = if status == Status::Finished {
        FIGURES
            .into_iter()
            .filter(|&f| offered(dir, &config, f))
            .collect()
    } else {
        Vec::new()
    };
    Some(RunInfo {
        name: name.to_string(),
        summary: config.summary(),
        status,
        detail,
        epochs_done,
        epochs_target: config.epochs,
        backend: config.backend.clone(),
        figures,
    })
}

/// Whether a finished run has figure `file`: noised inputs only with noise, the loss comparison
/// only when `visualize --compare` drew one.
fn offered(dir: &Path, config: &TrainingConfig, file: &str) -> bool {
    match file {
        "noised.png" => config.noise > 0.0,
        "loss-compare.png" => dir.join("figures").join(file).is_file(),
        _ => true,
    }
}

async fn runs(State(state): State<Arc<AppState>>) -> Result<axum::Json<Vec<RunInfo>>, ApiError> {
    let root = state.root.clone();
    let list = tokio::task::spawn_blocking(move || {
        let state = &state;
        run_names(&root, artifacts::CONFIG_FILE)
            .iter()
            .filter_map(|n| run_info(&state, &root.join(n), n))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(axum::Json(list))
}

async fn epochs(
    State(state): State<Arc<AppState>>,
    run: Result<UrlPath<String>, PathRejection>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let UrlPath(run) = run.map_err(bad_path)?;
    let dir = run_dir(&state, &run)?;
    if !inside(&state.root, &dir.join(EPOCHS_CSV)) {
        return Err(ApiError::not_found(format!("no run named {run}")));
    }
    // Rows being appended are read whole or not at all (a torn last line does not parse).
    let rows: Vec<serde_json::Value> = read_epochs(&dir.join(EPOCHS_CSV))
        .iter()
        .map(|r| json!({ "epoch": r.epoch, "train_loss": r.train_loss, "test_mse": r.test_mse }))
        .collect();
    Ok(axum::Json(json!({ "run": run, "epochs": rows })))
}

async fn figure(
    State(state): State<Arc<AppState>>,
    path: Result<UrlPath<(String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    let UrlPath((run, file)) = path.map_err(bad_path)?;
    let Some(&file) = FIGURES.iter().find(|f| **f == file) else {
        return Err(ApiError::not_found(format!("no figure named {file:?}")));
    };
    let dir = run_dir(&state, &run)?;
    let missing = || ApiError::not_found(format!("{run} has no {file}"));
    let path = tokio::task::spawn_blocking({
        let state = state.clone();
        let run = run.clone();
        move || figure_path(&state, &run, &dir, file)
    })
    .await
    .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    let resolved = path.canonicalize().map_err(|_| missing())?;
    if !(resolved.starts_with(&state.root) || resolved.starts_with(&state.cache)) {
        return Err(missing());
    }
    let bytes = tokio::fs::read(&resolved).await.map_err(|_| missing())?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        bytes,
    )
        .into_response())
}

/// A path whose parts do not decode (bad percent-encoding, not UTF-8).
fn bad_path(rejection: PathRejection) -> ApiError {
    ApiError::bad(format!("bad path: {}", rejection.body_text()))
}

/// The SHA-256 of `dir`'s `model.bpk`, if it has one: read again only when the file changed.
fn model_hash(state: &AppState, dir: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    if !model_files_inside(&state.root, dir) {
        return None;
    }
    let path = dir.join(MODEL_FILE);
    let meta = std::fs::metadata(&path).ok()?;
    let stamp: FileStamp = (
        meta.ino(),
        meta.len(),
        meta.modified().ok(),
        meta.ctime(),
        meta.ctime_nsec(),
    );
    let mut hashes = state.hashes.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((seen, hash)) = hashes.get(&path)
        && *seen == stamp
    {
        return Some(hash.clone());
    }
    let hash = artifacts::sha256_hex(&std::fs::read(&path).ok()?);
    hashes.insert(path, (stamp, hash.clone()));
    Some(hash)
}

/// Where figure `file` of run `name` is: the run's own, drawn by `train visualize` from the model
/// it has now (their stamp says so), else drawn once by the server into its cache with
/// `visualize`'s defaults. A checkpoint's figures are never taken for the final model's.
fn figure_path(state: &AppState, name: &str, dir: &Path, file: &str) -> Result<PathBuf, ApiError> {
    let missing = || ApiError::not_found(format!("{name} has no {file}"));
    let config = artifacts::load_config(dir).map_err(|_| missing())?;
    let hash = model_hash(state, dir).ok_or_else(|| {
        ApiError::not_found(format!(
            "{name} has no model yet: figures come when it finishes"
        ))
    })?;
    if !offered(dir, &config, file) {
        return Err(missing());
    }
    let own = dir.join("figures");
    if !inside(&state.root, &own.join(file)) || !inside(&state.root, &own.join(FIGURES_STAMP)) {
        return Err(missing());
    }
    if figures_show(&own, &hash) && own.join(file).is_file() {
        return Ok(own.join(file));
    }
    if file == "loss-compare.png" {
        return Err(missing());
    }
    let mut drawn = state.drawn.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((seen, out)) = drawn.get(name)
        && *seen == hash
    {
        return Ok(out.join(file));
    }
    let run = loaded(state, name, dir)
        .ok_or_else(|| ApiError::not_found(format!("{name}: its files disagree; no figures")))?;
    let out = state.cache.join(format!("{name}-{}", drawn.len()));
    let (_, label, _) = default_place(&run, &ModelChoice::Final);
    let options = FigureOptions::new(state.data_dir.clone(), out.clone(), label);
    let started = Instant::now();
    write_figures(&run, &options).map_err(|e| {
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{name}: cannot draw its figures: {e:#}"),
        )
    })?;
    crate::out!(
        "{name}: figures drawn in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drawn.insert(name.to_string(), (hash, out.clone()));
    Ok(out.join(file))
}

async fn digits(State(state): State<Arc<AppState>>) -> axum::Json<serde_json::Value> {
    let list: Vec<serde_json::Value> = state
        .digits
        .iter()
        .map(|(label, pixels)| json!({ "label": label, "pixels": pixels }))
        .collect();
    axum::Json(json!(list))
}

/// A drawing to reconstruct.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReconstructRequest {
    pixels: Vec<f64>,
    #[serde(default)]
    noise: f64,
    #[serde(default)]
    seed: u64,
}

/// Checks a request and returns its (noised) input.
fn noised_input(request: &ReconstructRequest) -> Result<Vec<f32>, ApiError> {
    if request.pixels.len() != PIXELS {
        return Err(ApiError::bad(format!(
            "pixels: expected {PIXELS} values (28 × 28), got {}",
            request.pixels.len()
        )));
    }
    if let Some((i, v)) = request
        .pixels
        .iter()
        .enumerate()
        .find(|(_, v)| !(v.is_finite() && (0.0..=1.0).contains(*v)))
    {
        return Err(ApiError::bad(format!(
            "pixels[{i}]: {v} is not a number in [0, 1]"
        )));
    }
    if !(0.0..=MAX_NOISE).contains(&request.noise) {
        return Err(ApiError::bad(format!(
            "noise: {} is not in [0, {MAX_NOISE}]",
            request.noise
        )));
    }
    let mut input: Vec<f32> = request.pixels.iter().map(|&v| v as f32).collect();
    let masked = data::masked_pixels(request.noise);
    let mut rng = StdRng::seed_from_u64(request.seed);
    for i in rand::seq::index::sample(&mut rng, PIXELS, masked) {
        input[i] = 0.0;
    }
    Ok(input)
}

/// The finished run `name`, loaded once and reloaded when its model file's content changes.
fn loaded(state: &AppState, name: &str, dir: &Path) -> Option<Arc<TrainedRun>> {
    let hash = model_hash(state, dir)?;
    let mut models = state.models.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((seen, run)) = models.get(name)
        && *seen == hash
    {
        return Some(run.clone());
    }
    let run = Arc::new(TrainedRun::load(dir, &ModelChoice::Final, Device::flex()).ok()?);
    models.insert(name.to_string(), (hash, run.clone()));
    Some(run)
}

async fn reconstruct(
    State(state): State<Arc<AppState>>,
    request: Result<axum::Json<ReconstructRequest>, JsonRejection>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let axum::Json(request) = request.map_err(|e| match e {
        JsonRejection::BytesRejection(_) => ApiError::bad(format!(
            "the request body is too large or unreadable (at most {MAX_BODY} bytes)"
        )),
        other => ApiError::bad(format!("not a drawing: {}", other.body_text())),
    })?;
    let input = noised_input(&request)?;
    let started = Instant::now();
    let answer = tokio::task::spawn_blocking(move || {
        let root = state.root.clone();
        let names = run_names(&root, MODEL_FILE);
        let runs: Vec<serde_json::Value> = names
            .iter()
            .filter_map(|name| {
                let run = loaded(&state, name, &root.join(name))?;
                let output = run.reconstruct(std::slice::from_ref(&input)).pop()?;
                let code = run.encode(&input);
                Some(json!({
                    "name": name,
                    "summary": run.config.summary(),
                    "activation": run.config.model.activation,
                    "reconstruction": output,
                    "code": code,
                }))
            })
            .collect();
        json!({ "input": input, "runs": runs })
    })
    .await
    .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let mut answer = answer;
    answer["milliseconds"] = json!(started.elapsed().as_secs_f64() * 1e3);
    Ok(axum::Json(answer))
}
