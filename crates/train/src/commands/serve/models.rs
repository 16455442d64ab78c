//! The finished runs' models as the server holds them: loaded once per content of `model.bpk`,
//! with what the page's views inside a model derive from it (its units' activity over the test
//! set, its codes of the training set) built on first use and kept with it. A replaced model is a
//! new [`Model`], so one answer never mixes two.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine;
use study::analysis::{ByteRows, Neighbour, UnitActivity, code_rows, nearest, unit_activity};
use study::figures::{TileGrid, TileScale, encode_png, image::DynamicImage};
use study::inference::TrainedRun;

use super::images::{Shared, images_of};
use super::lazy::Lazy;

/// Columns of the hidden-unit grid the page shows.
pub const GRID_COLUMNS: usize = 25;

/// One finished run's model and what was derived from it.
pub struct Model {
    /// The SHA-256 of the `model.bpk` it was loaded from.
    pub hash: String,
    /// The run, with the model on the CPU.
    pub run: TrainedRun,
    units: OnceLock<Units>,
    codes: Lazy<TrainCodes>,
}

/// A model's hidden units over the test set, with their weights.
pub struct Units {
    /// Each unit's activations over the test images.
    pub activity: Vec<UnitActivity>,
    /// Each unit's 784 input weights (its w1 tile).
    pub w1: Vec<Vec<f32>>,
    /// Each unit's 784 output weights (its w2ᵀ tile).
    pub w2t: Vec<Vec<f32>>,
    /// The w1 tiles in a grid of [`GRID_COLUMNS`] columns, each stretched from its own minimum to
    /// its maximum as in `w1.png`, as a PNG data URL.
    pub grid_png: String,
    /// How long building this took.
    pub built: Duration,
}

/// A model's codes of the training images: written once to the server's temporary directory and
/// mapped (the file goes with the model), and kept in bytes in memory for the search.
pub struct TrainCodes {
    /// The codes of the live units, row after row.
    map: memmap2::Mmap,
    path: PathBuf,
    /// The units not zero for every training image: only these are kept, since a unit zero in
    /// every row adds the same to every distance.
    live: Vec<usize>,
    /// Training digits (rows).
    rows: usize,
    /// The codes in bytes, in memory (a quarter of the size): what a search reads first, once
    /// built (after the first search, in the background).
    bytes: OnceLock<ByteRows>,
    /// How long encoding and writing them took.
    pub built: Duration,
}

impl TrainCodes {
    /// The `count` training images whose codes are nearest to `code` (all units), nearest first.
    pub fn nearest(&self, code: &[f32], count: usize) -> Vec<Neighbour> {
        let query: Vec<f32> = self.live.iter().map(|&j| code[j]).collect();
        let zero_units: f32 = (code.iter().enumerate())
            .filter(|(j, _)| self.live.binary_search(j).is_err())
            .map(|(_, v)| v * v)
            .sum();
        if self.live.is_empty() {
            // Every unit zero for every training digit: all rows are equally far.
            let all = (0..count.min(self.rows)).map(|index| Neighbour {
                index,
                distance: zero_units,
            });
            return all.collect();
        }
        let rows: &[f32] = bytemuck::cast_slice(&self.map);
        let mut found = match self.bytes.get() {
            Some(bytes) => bytes.nearest(rows, &query, count),
            None => nearest(rows, &query, count),
        };
        found.iter_mut().for_each(|n| n.distance += zero_units);
        found
    }
}

impl TrainCodes {
    /// Builds the byte copy that makes later searches read a quarter of the memory.
    pub fn prepare_bytes(&self) {
        self.bytes
            .get_or_init(|| ByteRows::new(bytemuck::cast_slice(&self.map), self.live.len()));
    }
}

/// The units of `codes` (one row of `width` per image, flat) that are not zero in every row, and
/// the rows restricted to them.
fn live_columns(codes: Vec<f32>, width: usize) -> (Vec<usize>, Vec<f32>) {
    let mut nonzero = vec![false; width];
    for row in codes.chunks_exact(width) {
        nonzero
            .iter_mut()
            .zip(row)
            .for_each(|(n, &v)| *n |= v != 0.0);
    }
    let live: Vec<usize> = (0..width).filter(|&j| nonzero[j]).collect();
    if live.len() == width {
        return (live, codes);
    }
    let rows = codes
        .chunks_exact(width)
        .flat_map(|row| live.iter().map(move |&j| row[j]))
        .collect();
    (live, rows)
}

impl Drop for TrainCodes {
    fn drop(&mut self) {
        std::fs::remove_file(&self.path).ok();
    }
}

impl Model {
    /// The model of `run`, loaded from a `model.bpk` with SHA-256 `hash`; nothing derived yet.
    pub fn new(hash: String, run: TrainedRun) -> Self {
        Self {
            hash,
            run,
            units: OnceLock::new(),
            codes: Lazy::default(),
        }
    }

    /// The units' activity and weights, built on the first call.
    pub fn units(&self, shared: &Shared) -> &Units {
        self.units.get_or_init(|| {
            let started = Instant::now();
            let model = &self.run.model;
            let w1 = model.encoder_filters();
            let mut grid = TileGrid::new(28, GRID_COLUMNS, TileScale::PerTile);
            w1.iter().for_each(|tile| grid.push(tile.clone()));
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

    /// Builds what makes later nearest-digit searches fast, once the codes are built.
    pub fn prepare_search(&self) {
        if let Some(codes) = self.codes.get() {
            codes.prepare_bytes();
        }
    }

    /// Whether the codes of the training images are built (never waits for a build).
    pub fn codes_ready(&self) -> bool {
        self.codes.get().is_some()
    }

    /// The codes of the training images, encoded and written into `cache` by the first call that
    /// succeeds; whether this call built them.
    pub fn train_codes(
        &self,
        shared: &Shared,
        cache: &Path,
    ) -> Result<(&TrainCodes, bool), String> {
        self.codes.get_or_try(|| {
            let started = Instant::now();
            let train = shared.train()?;
            let images = images_of(train, &self.run.device);
            let flat = code_rows(&self.run.model, &images.pixels);
            let (live, rows) = live_columns(flat, self.run.model.hidden());
            let keep =
                |e: std::io::Error| format!("cannot keep the codes of the training set: {e}");
            let (map, path) = write_and_map(cache, &self.hash[..16], bytemuck::cast_slice(&rows))
                .map_err(keep)?;
            Ok(TrainCodes {
                map,
                path,
                rows: train.len(),
                live,
                bytes: OnceLock::new(),
                built: started.elapsed(),
            })
        })
    }
}

/// Writes `bytes` to a new file of `cache` named after `id` (and a random part, so that two
/// models of the same content have a file each) and maps it; the map and the file's path.
fn write_and_map(
    cache: &Path,
    id: &str,
    bytes: &[u8],
) -> std::io::Result<(memmap2::Mmap, PathBuf)> {
    use std::io::Write;
    let prefix = format!("codes-{id}-");
    let mut file = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".f32")
        .tempfile_in(cache)?;
    // In pieces: one 240 MB write measured ten times slower than 1 MB ones.
    for chunk in bytes.chunks(1 << 20) {
        file.write_all(chunk)?;
    }
    let (file, path) = file.keep().map_err(|e| e.error)?;
    // SAFETY: the file is this server's own, in its private temporary directory, never written
    // again while mapped (a model's codes file is removed only when the model is dropped).
    let map = unsafe { memmap2::Mmap::map(&file) }?;
    Ok((map, path))
}
