//! `train serve`: a local web page to browse the runs while they train, to draw a digit for
//! every finished model to reconstruct, and to look inside the models.
//!
//! The page (`page.html`, scripts and styles inline) is compiled into the binary; the server
//! answers a few JSON endpoints and the runs' figures, nothing else:
//!
//! ```text
//! GET  /                                   the page (and /inside.js, its script for the views inside)
//! GET  /api/runs                           every run: configuration, status, epochs, figures
//! GET  /api/runs/{run}/epochs              its epochs.csv as JSON (the page polls it once a second)
//! GET  /api/runs/{run}/figures/{file}      one of its figures (loss.png, w1.png, …)
//! GET  /api/digits                         a few MNIST test digits to start drawing from
//! POST /api/reconstruct                    {"pixels": [784 values in 0..1], "noise": 0–0.5, "seed": n}
//! POST /api/interpolate, GET /api/runs/{run}/units[/{k}], POST /api/nearest: see `inside`
//! ```
//!
//! Files are served only by name from a fixed list, inside a run directory whose name is one plain
//! component; every file read, links followed, must be inside the artifacts directory. Answers
//! name files relative to the artifacts directory, never the machine's paths, processes or host
//! name. Bad requests get HTTP 400 and `{"error": "…"}` on one line; a handler never panics the
//! server.

mod api;
mod inside;
mod mnist_images;
mod models;
mod run_list;
mod state;
mod train_codes;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::Html;
use axum::routing::{get, post};

use mnist_images::Shared;
pub use state::AppState;
use state::{ApiError, MAX_BODY};

use crate::advice::artifacts_flag;
use crate::cli::ServeArgs;
use crate::exit::Signalled;

/// The page, with its script and styles.
const PAGE: &str = include_str!("page.html");
/// The page's script for the views inside the models.
const INSIDE_JS: &str = include_str!("inside.js");
/// Figures drawn by servers live in `<temp>/train-serve-<pid>-<random>`.
const CACHE_PREFIX: &str = "train-serve-";

/// Serves the page until Ctrl-C, SIGTERM or SIGHUP, which end it with their exit code.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let artifacts = args.artifacts.root();
    let state = Arc::new(state(&artifacts, args.data.dir())?);
    // A failing request must not take the server down: report it and let the server go on
    // (the program's hook ends the process, which suits training, not serving).
    std::panic::set_hook(Box::new(|info| {
        crate::output::err!("error: internal failure while answering a request: {info}");
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .enable_time()
        .build()
        .context("cannot start the server's runtime")?;
    let signal = runtime.block_on(listen(state, SocketAddr::new(args.bind, args.port)))?;
    crate::output::out!("stopped by {}", crate::interrupt::describe(signal));
    // Stopped as asked, with the exit code of the signal, like every other command.
    Err(Signalled {
        signal,
        message: None,
    }
    .into())
}

/// The server's state for the runs under `artifacts`, checked: a directory of runs, not a file
/// nor one run's own directory.
pub fn state(artifacts: &std::path::Path, data_dir: PathBuf) -> anyhow::Result<AppState> {
    let shown = artifacts.display();
    if artifacts.is_file() {
        bail!("{shown}: is a file; point --artifacts at the directory that holds the runs");
    }
    if !artifacts.is_dir() {
        bail!(
            "{shown}: no such artifacts directory (train a run first, or point --artifacts at one)"
        );
    }
    if artifacts.join(trainer::config::CONFIG_FILE).is_file() {
        bail!(
            "{shown}: this is one run's directory; point --artifacts at the directory that holds runs (its parent)"
        );
    }
    let root = artifacts
        .canonicalize()
        .with_context(|| format!("{shown}: cannot resolve"))?;
    if run_list::run_names(&root, trainer::config::CONFIG_FILE).is_empty() {
        crate::output::err!(
            "note: no runs under {shown} yet; the page lists them as they appear (train one with `train --case 7`)"
        );
    }
    let shared = Shared::load(&data_dir)?;
    remove_stale_caches();
    let prefix = format!("{CACHE_PREFIX}{}-", std::process::id());
    let cache = tempfile::Builder::new().prefix(&prefix).tempdir()?;
    Ok(AppState {
        root,
        resume_command: format!(
            "train --name {{name}} --resume{}",
            artifacts_flag(artifacts, true)
        ),
        data_dir,
        cache,
        drawn: Mutex::new(HashMap::new()),
        models: Mutex::new(HashMap::new()),
        hashes: Mutex::new(HashMap::new()),
        shared,
    })
}

/// Listens on `address` and serves until a stop signal; returns its number.
async fn listen(state: Arc<AppState>, address: SocketAddr) -> anyhow::Result<i32> {
    let stop = stop_signals()?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| bind_error(address, &e))?;
    let address = listener.local_addr()?;
    crate::output::out!(
        "serving {} at http://{address}/ (Ctrl-C to stop)",
        state.root.display()
    );
    if !address.ip().is_loopback() {
        crate::output::err!(
            "warning: listening on {} — anyone who can reach this machine can use the page; there is no authentication",
            address.ip()
        );
    }
    let (sender, signal) = tokio::sync::oneshot::channel();
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            sender.send(stop.await).ok();
        })
        .await
        .context("the server stopped")?;
    Ok(signal.await.unwrap_or(2))
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
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if pid.is_some_and(|pid| !trainer::lock::process_alive(pid)) {
            std::fs::remove_dir_all(entry.path()).ok();
        }
    }
}

/// The stop signals, listened for from the moment this is called (before the address is printed:
/// a signal sent as soon as the server says it serves must stop it cleanly); resolves with the
/// number of the first that comes.
fn stop_signals() -> anyhow::Result<impl Future<Output = i32>> {
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

/// The page and its JSON endpoints.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route(
            "/inside.js",
            get(|| async {
                (
                    [(CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    INSIDE_JS,
                )
            }),
        )
        .route("/api/runs", get(api::runs))
        .route("/api/runs/{run}/epochs", get(api::epochs))
        .route("/api/runs/{run}/figures/{file}", get(api::figure))
        .route("/api/digits", get(api::digits))
        .route("/api/reconstruct", post(api::reconstruct))
        .route("/api/interpolate", post(inside::interpolate))
        .route("/api/runs/{run}/units", get(inside::units))
        .route("/api/runs/{run}/units/{unit}", get(inside::unit))
        .route("/api/nearest", post(inside::nearest_digits))
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
