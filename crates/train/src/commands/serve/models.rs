//! The finished runs' models as the server holds them: loaded once per content of `model.bpk`,
//! with what the page's views inside a model derive from it (its units' activity over the test
//! set, its codes of the training set) built on first use and kept with it. A replaced model is a
//! new [`Model`], so one answer never mixes two.

use std::path::Path;
use std::sync::OnceLock;

use once_cell::sync::OnceCell;
use std::time::{Duration, Instant};

use base64::Engine;
use study::analysis::{UnitActivity, code_rows, unit_activity};
use study::drawing::filter_grid;
use study::figures::{TileScale, encode_png, image::DynamicImage};
use trainer::inference::TrainedRun;

use super::mnist_images::{Shared, images_of};
use super::train_codes::TrainCodes;

/// One finished run's model and what was derived from it.
pub struct Model {
    /// The SHA-256 of the `model.bpk` it was loaded from.
    pub hash: String,
    /// The run, with the model on the CPU.
    pub run: TrainedRun,
    units: OnceLock<Units>,
    codes: OnceCell<TrainCodes>,
}

/// A model's hidden units over the test set, with their weights.
pub struct Units {
    /// Each unit's activations over the test images.
    pub activity: Vec<UnitActivity>,
    /// Each unit's 784 input weights (its w1 tile).
    pub w1: Vec<Vec<f32>>,
    /// Each unit's 784 output weights (its w2ᵀ tile).
    pub w2t: Vec<Vec<f32>>,
    /// The w1 tiles in `w1.png`'s grid ([`study::drawing::FILTERS_PER_ROW`] columns), each
    /// stretched from its own minimum to its maximum, as a PNG data URL.
    pub grid_png: String,
    /// How long building this took.
    pub built: Duration,
}

impl Model {
    /// The model of `run`, loaded from a `model.bpk` with SHA-256 `hash`; nothing derived yet.
    pub fn new(hash: String, run: TrainedRun) -> Self {
        Self {
            hash,
            run,
            units: OnceLock::new(),
            codes: OnceCell::new(),
        }
    }

    /// The units' activity and weights, built on the first call.
    pub fn units(&self, shared: &Shared) -> &Units {
        self.units.get_or_init(|| {
            let started = Instant::now();
            let model = &self.run.model;
            let w1 = model.encoder_filters();
            let grid = filter_grid(&w1, TileScale::PerTile);
            let png = encode_png(&DynamicImage::ImageLuma8(grid.render())).expect("PNG in memory");
            Units {
                activity: unit_activity(model, &images_of(&shared.test, &self.run.device).pixels),
                w1,
                w2t: model.decoder_filters(),
                grid_png: format!(
                    "data:image/png;base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(png)
                ),
                built: started.elapsed(),
            }
        })
    }

    /// What follows a first nearest-digit search, on a thread of its own: the byte copy that
    /// makes later searches fast, and the codes moved to a file of `cache`.
    pub fn settle_codes(&self, cache: &Path) {
        if let Some(codes) = self.codes.get() {
            codes.settle(cache, &self.hash[..16]);
        }
    }

    /// Whether the codes of the training images are built (never waits for a build).
    pub fn codes_ready(&self) -> bool {
        self.codes.get().is_some()
    }

    /// The codes of the training images, encoded by the first call that succeeds (kept in memory
    /// until [`Model::settle_codes`]); whether this call built them.
    pub fn train_codes(&self, shared: &Shared) -> Result<(&TrainCodes, bool), String> {
        // A failed build is not kept: the next call tries again (a full disk freed).
        let mut built_now = false;
        let codes = self.codes.get_or_try_init(|| {
            let started = Instant::now();
            let images = images_of(shared.train()?, &self.run.device);
            let codes = code_rows(&self.run.model, &images.pixels);
            built_now = true;
            Ok::<_, String>(TrainCodes::new(codes, self.run.model.hidden(), started))
        })?;
        Ok((codes, built_now))
    }
}
