//! The JSON endpoints: the runs, a run's epochs and figures, sample digits, and the
//! reconstructions of a drawing by every finished model.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path as UrlPath, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use study::data::PIXELS;
use trainer::checkpoint::MODEL_FILE;
use trainer::epochs::{EPOCHS_CSV, read_epochs};

use super::models::Model;
use super::run_list::{
    FIGURES, RunInfo, figure_path, inside, loaded, misnamed_runs, run_dir, run_info, run_names,
};
use super::state::{ApiError, AppState, MAX_BODY};

/// Test digits offered to start drawing from.
const DIGITS: usize = 10;
/// Highest masking-noise ratio the page offers.
const MAX_NOISE: f64 = 0.5;

/// `GET /api/runs`: every run, as the page lists it.
pub async fn runs(
    State(state): State<Arc<AppState>>,
) -> Result<axum::Json<Vec<RunInfo>>, ApiError> {
    let root = state.root.clone();
    let list = tokio::task::spawn_blocking(move || {
        let state = &state;
        // Models of runs that no longer have one (deleted, retrained) go, with their codes files.
        let finished = run_names(&root, MODEL_FILE);
        (state.models.lock().unwrap_or_else(|e| e.into_inner()))
            .retain(|name, _| finished.contains(name));
        let mut runs: Vec<RunInfo> = run_names(&root, trainer::config::CONFIG_FILE)
            .iter()
            .filter_map(|n| run_info(&state, &root.join(n), n))
            .collect();
        runs.extend(misnamed_runs(&root));
        runs
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(axum::Json(list))
}

pub async fn epochs(
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
    let imported = dir.join(trainer::layout::PROVENANCE_FILE).is_file();
    Ok(axum::Json(
        json!({ "run": run, "epochs": rows, "imported": imported }),
    ))
}

pub async fn figure(
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
    .map_err(ApiError::internal)??;
    let resolved = path.canonicalize().map_err(|_| missing())?;
    if !(resolved.starts_with(&state.root) || resolved.starts_with(state.cache.path())) {
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
pub fn bad_path(rejection: PathRejection) -> ApiError {
    ApiError::bad(format!("bad path: {}", rejection.body_text()))
}

pub async fn digits(State(state): State<Arc<AppState>>) -> axum::Json<serde_json::Value> {
    let test = &state.shared.test;
    let list: Vec<serde_json::Value> = (0..DIGITS.min(test.len()))
        .map(|i| json!({ "index": i, "label": test.label(i), "pixels": test.pixels(i) }))
        .collect();
    axum::Json(json!(list))
}

/// A drawing to reconstruct.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconstructRequest {
    pixels: Vec<f64>,
    #[serde(default)]
    noise: f64,
    #[serde(default)]
    seed: u64,
}

/// Checks that `pixels` are a drawing: 784 numbers in `0..=1`.
pub fn check_pixels(field: &str, pixels: &[f64]) -> Result<(), ApiError> {
    if pixels.len() != PIXELS {
        return Err(ApiError::bad(format!(
            "{field}: expected {PIXELS} values (28 × 28), got {}",
            pixels.len()
        )));
    }
    match pixels
        .iter()
        .enumerate()
        .find(|(_, v)| !(v.is_finite() && (0.0..=1.0).contains(*v)))
    {
        Some((i, v)) => Err(ApiError::bad(format!(
            "{field}[{i}]: {v} is not a number in [0, 1]"
        ))),
        None => Ok(()),
    }
}

/// Checks a request and returns its (noised) input.
fn noised_input(request: &ReconstructRequest) -> Result<Vec<f32>, ApiError> {
    check_pixels("pixels", &request.pixels)?;
    if !(0.0..=MAX_NOISE).contains(&request.noise) {
        return Err(ApiError::bad(format!(
            "noise: {} is not in [0, {MAX_NOISE}]",
            request.noise
        )));
    }
    let mut input: Vec<f32> = request.pixels.iter().map(|&v| v as f32).collect();
    study::data::mask_image(&mut input, request.noise, request.seed);
    Ok(input)
}

/// A request body that is not the JSON expected (`what` says what it should have been).
pub fn bad_json(rejection: JsonRejection, what: &str) -> ApiError {
    match rejection {
        JsonRejection::BytesRejection(_) => ApiError::bad(format!(
            "the request body is too large or unreadable (at most {MAX_BODY} bytes)"
        )),
        other => ApiError::bad(format!("{what}: {}", other.body_text())),
    }
}

pub async fn reconstruct(
    State(state): State<Arc<AppState>>,
    request: Result<axum::Json<ReconstructRequest>, JsonRejection>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let axum::Json(request) = request.map_err(|e| bad_json(e, "not a drawing"))?;
    let input = noised_input(&request)?;
    answer(move || {
        let runs: Vec<Value> = finished_models(&state)
            .iter()
            .filter_map(|(name, model)| {
                let run = &model.run;
                let output = run.reconstruct(std::slice::from_ref(&input)).pop()?;
                Some(json!({
                    "name": name,
                    "summary": run.summary(),
                    "activation": run.config.model.activation,
                    "reconstruction": output,
                    "code": run.encode(&input),
                }))
            })
            .collect();
        Ok(json!({ "input": input, "runs": runs }))
    })
    .await
}

/// Every finished run's model, by name, in name order.
pub fn finished_models(state: &AppState) -> Vec<(String, Arc<Model>)> {
    let root = &state.root;
    run_names(root, MODEL_FILE)
        .into_iter()
        .filter_map(|name| Some((name.clone(), loaded(state, &name, &root.join(&name))?)))
        .collect()
}

/// Runs `work` on a blocking thread and adds the server's time to its answer.
pub async fn answer(
    work: impl FnOnce() -> Result<Value, ApiError> + Send + 'static,
) -> Result<axum::Json<Value>, ApiError> {
    let started = Instant::now();
    let mut answer = tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::internal)??;
    answer["milliseconds"] = json!(started.elapsed().as_secs_f64() * 1e3);
    Ok(axum::Json(answer))
}
