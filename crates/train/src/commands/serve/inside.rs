//! The views inside a model: interpolations between two digits, the hidden units of one model,
//! and the training digits nearest to a drawing, by every finished model asked for.
//!
//! ```text
//! POST /api/interpolate        {"a": digit, "b": digit, "steps": 2–33 (9), "runs": [names] (all)}
//! GET  /api/runs/{run}/units   the unit grid (w1 tiles as a PNG), dead units
//! GET  /api/runs/{run}/units/{k}  one unit: w1, w2ᵀ, activations, top test images, alone
//! POST /api/nearest            {"digit": digit, "count": 1–20 (5), "runs": [names] (all)}
//! ```
//!
//! A digit is 784 pixel values in `0..=1` or `{"test": index}`. Each answer names, per run, the
//! model it came from (`model`: the start of its SHA-256).

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path as UrlPath, State};
use serde::Deserialize;
use serde_json::{Value, json};
use study::analysis::{
    ALONE_PERCENTILE, Neighbour, mixing_weights, nearest, through_codes, through_components,
    through_pixels, unit_alone,
};
use study::data::{PIXELS, SIDE};
use study::drawing::FILTERS_PER_ROW;

use super::api::{answer, bad_json, bad_path, check_pixels, finished_models};
use super::models::Model;
use super::run_list::{loaded, run_dir};
use super::state::{ApiError, AppState};

/// Steps an interpolation may have.
const STEPS: std::ops::RangeInclusive<usize> = 2..=33;
/// Steps when the request gives none.
const DEFAULT_STEPS: usize = 9;
/// Nearest digits a request may ask for.
const COUNT: std::ops::RangeInclusive<usize> = 1..=20;
/// Nearest digits when the request gives no count.
const DEFAULT_COUNT: usize = 5;

/// Two digits to walk between.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterpolateRequest {
    a: Value,
    b: Value,
    steps: Option<Value>,
    runs: Option<Vec<String>>,
}

/// A digit whose nearest training digits to find.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NearestRequest {
    digit: Value,
    count: Option<Value>,
    runs: Option<Vec<String>>,
}

/// The start of a model's SHA-256 that names it in answers.
fn model_id(model: &Model) -> &str {
    &model.hash[..12]
}

/// The pixels of a digit given as 784 values or as `{"test": index}`.
fn digit(state: &AppState, field: &str, value: &Value) -> Result<Vec<f32>, ApiError> {
    let test = &state.shared.test;
    match value {
        Value::Array(items) => {
            let pixels = items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.as_f64()
                        .ok_or_else(|| ApiError::bad(format!("{field}[{i}]: {v} is not a number")))
                })
                .collect::<Result<Vec<f64>, _>>()?;
            check_pixels(field, &pixels)?;
            Ok(pixels.iter().map(|&v| v as f32).collect())
        }
        Value::Object(map) if map.len() == 1 && map.contains_key("test") => {
            let index = map["test"].as_u64().ok_or_else(|| {
                ApiError::bad(format!("{field}.test: {} is not an index", map["test"]))
            })?;
            match usize::try_from(index) {
                Ok(i) if i < test.len() => Ok(test.pixels(i)),
                _ => Err(ApiError::not_found(format!(
                    "{field}.test: no test digit {index} (0–{})",
                    test.len() - 1
                ))),
            }
        }
        other => Err(ApiError::bad(format!(
            "{field}: expected {PIXELS} pixel values or {{\"test\": index}}, got {}",
            kind(other)
        ))),
    }
}

/// What a JSON value is, in a word.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A whole number in `range`, or `default` when absent.
fn whole(
    field: &str,
    value: Option<&Value>,
    range: std::ops::RangeInclusive<usize>,
    default: usize,
) -> Result<usize, ApiError> {
    let Some(value) = value else {
        return Ok(default);
    };
    value
        .as_u64()
        .and_then(|v| usize::try_from(v).ok())
        .filter(|v| range.contains(v))
        .ok_or_else(|| {
            ApiError::bad(format!(
                "{field}: {value} is not a whole number in {}–{}",
                range.start(),
                range.end()
            ))
        })
}

/// The finished models of the runs named (every finished run when `runs` is absent), in order.
fn models(
    state: &AppState,
    runs: Option<Vec<String>>,
) -> Result<Vec<(String, Arc<Model>)>, ApiError> {
    let Some(names) = runs else {
        return Ok(finished_models(state));
    };
    if names.is_empty() {
        return Err(ApiError::bad(
            "runs: empty; leave it out for every finished run",
        ));
    }
    let mut chosen: Vec<(String, Arc<Model>)> = Vec::new();
    for name in names {
        if chosen.iter().any(|(n, _)| *n == name) {
            return Err(ApiError::bad(format!("runs: {name} twice")));
        }
        let model = finished(state, &name)?;
        chosen.push((name, model));
    }
    Ok(chosen)
}

/// The model of finished run `name`, or why there is none.
fn finished(state: &AppState, name: &str) -> Result<Arc<Model>, ApiError> {
    let dir = run_dir(state, name)?;
    loaded(state, name, &dir).ok_or_else(|| {
        ApiError::not_found(format!(
            "{name} has no finished model (it is training, stopped or its files disagree)"
        ))
    })
}

/// `POST /api/interpolate`: the walks from a to b per model, with the pixel and PCA baselines.
pub async fn interpolate(
    State(state): State<Arc<AppState>>,
    request: Result<axum::Json<InterpolateRequest>, JsonRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let axum::Json(request) = request.map_err(|e| bad_json(e, "not an interpolation"))?;
    answer(move || {
        let a = digit(&state, "a", &request.a)?;
        let b = digit(&state, "b", &request.b)?;
        let steps = whole("steps", request.steps.as_ref(), STEPS, DEFAULT_STEPS)?;
        let chosen = models(&state, request.runs)?;
        let pca = state.shared.pca().map_err(ApiError::internal)?;
        let weights = mixing_weights(steps);
        let runs: Vec<Value> = chosen
            .iter()
            .map(|(name, model)| {
                let run = &model.run;
                let k = run.config.model.hidden.min(PIXELS);
                json!({
                    "name": name,
                    "model": model_id(model),
                    "summary": run.summary(),
                    "hidden": run.config.model.hidden,
                    "codes": through_codes(&run.model, &a, &b, &weights),
                    "pca_components": k,
                    "pca": through_components(pca, k, &a, &b, &weights),
                })
            })
            .collect();
        Ok(json!({ "weights": weights, "pixels": through_pixels(&a, &b, &weights), "runs": runs }))
    })
    .await
}

/// `GET /api/runs/{run}/units`: the unit grid and the dead units.
pub async fn units(
    State(state): State<Arc<AppState>>,
    run: Result<UrlPath<String>, PathRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let UrlPath(name) = run.map_err(bad_path)?;
    answer(move || {
        let model = finished(&state, &name)?;
        let units = model.units(&state.shared);
        let dead: Vec<usize> = (0..units.activity.len())
            .filter(|&k| units.activity[k].dead)
            .collect();
        Ok(json!({
            "run": name,
            "model": model_id(&model),
            "activation": model.run.config.model.activation,
            "hidden": units.activity.len(),
            "dead": dead,
            "grid": { "png": units.grid_png, "columns": FILTERS_PER_ROW, "side": SIDE, "gap": 1 },
            "built_ms": units.built.as_secs_f64() * 1e3,
        }))
    })
    .await
}

/// `GET /api/runs/{run}/units/{k}`: one unit's weights, activity, top digits and image alone.
pub async fn unit(
    State(state): State<Arc<AppState>>,
    path: Result<UrlPath<(String, String)>, PathRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let UrlPath((name, unit)) = path.map_err(bad_path)?;
    answer(move || {
        let k: usize = unit
            .parse()
            .map_err(|_| ApiError::bad(format!("unit: {unit:?} is not a unit number")))?;
        let model = finished(&state, &name)?;
        let units = model.units(&state.shared);
        let hidden = units.activity.len();
        let Some(activity) = units.activity.get(k) else {
            return Err(ApiError::not_found(format!(
                "{name} has {hidden} hidden units (0–{}); no unit {k}",
                hidden - 1
            )));
        };
        let test = &state.shared.test;
        let top: Vec<Value> = activity
            .top
            .iter()
            .map(|&(i, a)| json!({ "index": i, "label": test.label(i), "activation": a, "pixels": test.pixels(i) }))
            .collect();
        Ok(json!({
            "run": name,
            "model": model_id(&model),
            "unit": k,
            "hidden": hidden,
            "dead": activity.dead,
            "w1": units.w1[k],
            "w2t": units.w2t[k],
            "activations": {
                "min": activity.min,
                "max": activity.max,
                "p99": activity.p99,
                "active_share": activity.active_share,
                "histogram": activity.histogram,
            },
            "top": top,
            "alone_percentile": ALONE_PERCENTILE,
            "alone": unit_alone(&model.run.model, k, activity.p99),
        }))
    })
    .await
}

/// `POST /api/nearest`: the training digits nearest by pixels and, per model, by code.
pub async fn nearest_digits(
    State(state): State<Arc<AppState>>,
    request: Result<axum::Json<NearestRequest>, JsonRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let axum::Json(request) = request.map_err(|e| bad_json(e, "not a nearest-digit request"))?;
    answer(move || {
        let query = digit(&state, "digit", &request.digit)?;
        let count = whole("count", request.count.as_ref(), COUNT, DEFAULT_COUNT)?;
        let chosen = models(&state, request.runs)?;
        let train = state.shared.train().map_err(ApiError::internal)?;
        let listed = |found: Vec<Neighbour>| -> Vec<Value> {
            found
                .iter()
                .map(|n| json!({ "index": n.index, "label": train.label(n.index), "distance": n.distance.max(0.0).sqrt(), "pixels": train.pixels(n.index) }))
                .collect()
        };
        let mut runs = Vec::new();
        for (name, model) in &chosen {
            let (codes, built_now) = model
                .train_codes(&state.shared)
                .map_err(ApiError::internal)?;
            let code = model.run.encode(&query);
            runs.push(json!({
                "name": name,
                "model": model_id(model),
                "summary": model.run.summary(),
                "built_ms": built_now.then(|| codes.built.as_secs_f64() * 1e3),
                "nearest": listed(codes.nearest(&code, count)),
            }));
            if built_now {
                // The byte copy and the file, made while this answer goes out.
                let (model, cache) = (model.clone(), state.cache.path().to_path_buf());
                std::thread::spawn(move || model.settle_codes(&cache));
            }
        }
        let pixels = listed(nearest(train.all_image_bytes(), &query, count));
        Ok(json!({ "digit": query, "pixels": pixels, "runs": runs }))
    })
    .await
}
