//! What the server's handlers share: the runs' root, the models and figures loaded or drawn of
//! them, the MNIST images, and the shape of an error answer.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::mnist_images::Shared;
use super::models::Model;

/// Largest request body: a drawing is 784 numbers, well under this.
pub const MAX_BODY: usize = 64 * 1024;
/// What the handlers share: where the runs are, and what was loaded or drawn of them.
pub struct AppState {
    /// The artifacts directory, resolved.
    pub root: PathBuf,
    /// The `train` command that continues run `{name}` under these artifacts (the page's advice
    /// for a run whose files disagree).
    pub resume_command: String,
    /// Directory of the MNIST files (figures need the test images).
    pub data_dir: PathBuf,
    /// Where the server draws figures for runs that have none of their own (removed with it).
    pub cache: tempfile::TempDir,
    /// Figures drawn into `cache`, by run: the model they show (its SHA-256) and their directory.
    pub drawn: Mutex<HashMap<String, (String, PathBuf)>>,
    /// Models loaded once per run, reloaded when its `model.bpk` changes (by content).
    pub models: Mutex<HashMap<String, Arc<Model>>>,
    /// The SHA-256 of each run's `model.bpk`, computed again when its file changes.
    pub hashes: Mutex<HashMap<PathBuf, (FileStamp, String)>>,
    /// The MNIST images every model is shown with.
    pub shared: Shared,
}

/// A JSON error answer: `{"error": "..."}` with a status.
pub struct ApiError(pub StatusCode, pub String);

impl ApiError {
    pub fn bad(message: impl Into<String>) -> Self {
        Self(StatusCode::BAD_REQUEST, message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self(StatusCode::NOT_FOUND, message.into())
    }

    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self(StatusCode::INTERNAL_SERVER_ERROR, message.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = self.1.lines().next().unwrap_or_default().to_string();
        (self.0, axum::Json(json!({ "error": message }))).into_response()
    }
}

/// What tells that a file was replaced or rewritten without reading it: its inode, length and
/// modification and change times (the change time moves with any write or rename, whatever the
/// modification time is set to).
pub type FileStamp = (u64, u64, Option<std::time::SystemTime>, i64, i64);
