//! A model's codes of the training digits, for the nearest-digit search: in memory when built,
//! then written to the server's temporary directory and mapped (the page cache holds them, not the
//! heap; the file goes with the model), with a byte copy in memory that later searches read first.

use std::path::{Path, PathBuf};
use std::sync::{OnceLock, RwLock};
use std::time::{Duration, Instant};

use study::analysis::{ByteRows, Neighbour, nearest};

/// Where the exact codes are.
enum Stored {
    /// As computed, until written.
    Memory(Vec<f32>),
    /// In a file of the server's temporary directory.
    Mapped(memmap2::Mmap),
}

impl Stored {
    fn rows(&self) -> &[f32] {
        match self {
            Stored::Memory(rows) => rows,
            Stored::Mapped(map) => bytemuck::cast_slice(map),
        }
    }
}

/// A model's codes of the training digits; see the module.
pub struct TrainCodes {
    /// The codes of the live units, row after row.
    stored: RwLock<Stored>,
    /// The file they were written to.
    path: OnceLock<PathBuf>,
    /// The units not zero for every training image: only these are kept, since a unit zero in
    /// every row adds the same to every distance.
    live: Vec<usize>,
    /// Training digits (rows).
    rows: usize,
    /// The codes in bytes (a quarter of the size): what a search reads first, once built.
    bytes: OnceLock<ByteRows>,
    /// How long encoding them took.
    pub built: Duration,
}

impl TrainCodes {
    /// The codes (`width` per training digit, flat), encoding begun at `started`; in memory.
    pub fn new(codes: Vec<f32>, width: usize, started: Instant) -> Self {
        let rows = codes.len() / width.max(1);
        let (live, kept) = live_columns(codes, width);
        Self {
            stored: RwLock::new(Stored::Memory(kept)),
            path: OnceLock::new(),
            live,
            rows,
            bytes: OnceLock::new(),
            built: started.elapsed(),
        }
    }

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
        let stored = self.stored.read().unwrap_or_else(|e| e.into_inner());
        let mut found = match self.bytes.get() {
            Some(bytes) => bytes.nearest(stored.rows(), &query, count),
            None => nearest(stored.rows(), &query, count),
        };
        found.iter_mut().for_each(|n| n.distance += zero_units);
        found
    }

    /// Builds the byte copy, then moves the codes to a file of `cache` named after `id`: the work
    /// after a first search, off its answer (writing 240 MB can wait on the disk for a second).
    /// A failed write keeps them in memory, and says so.
    pub fn settle(&self, cache: &Path, id: &str) {
        self.bytes.get_or_init(|| {
            let stored = self.stored.read().unwrap_or_else(|e| e.into_inner());
            ByteRows::new(stored.rows(), self.live.len())
        });
        if self.path.get().is_some() || self.live.is_empty() {
            return;
        }
        let written = {
            let stored = self.stored.read().unwrap_or_else(|e| e.into_inner());
            write_and_map(cache, id, bytemuck::cast_slice(stored.rows()))
        };
        match written {
            Ok((map, path)) => {
                *self.stored.write().unwrap_or_else(|e| e.into_inner()) = Stored::Mapped(map);
                self.path.set(path).ok();
            }
            Err(e) => crate::output::err!(
                "note: a model's codes of the training set stay in memory: cannot write them to {}: {e}",
                cache.display()
            ),
        }
    }
}

impl Drop for TrainCodes {
    fn drop(&mut self) {
        if let Some(path) = self.path.get() {
            std::fs::remove_file(path).ok();
        }
    }
}

/// The units of `codes` (one row of `width` per image, flat) that are not zero in every row, and
/// the rows restricted to them.
fn live_columns(codes: Vec<f32>, width: usize) -> (Vec<usize>, Vec<f32>) {
    let mut nonzero = vec![false; width];
    for row in codes.chunks_exact(width.max(1)) {
        (nonzero.iter_mut().zip(row)).for_each(|(n, &v)| *n |= v != 0.0);
    }
    let live: Vec<usize> = (0..width).filter(|&j| nonzero[j]).collect();
    if live.len() == width {
        return (live, codes);
    }
    let rows = codes
        .chunks_exact(width.max(1))
        .flat_map(|row| live.iter().map(move |&j| row[j]))
        .collect();
    (live, rows)
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
    file.write_all(bytes)?;
    let (file, path) = file.keep().map_err(|e| e.error)?;
    // SAFETY: the file is this server's own, in its private temporary directory, never written
    // again while mapped (a model's codes file is removed only when the model is dropped).
    let map = unsafe { memmap2::Mmap::map(&file) }?;
    Ok((map, path))
}
