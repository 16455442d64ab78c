//! The nearest rows of a set to a query by Euclidean distance, by exhaustive search: exact, and
//! fast enough for MNIST (60 000 rows) on a laptop. [`ByteRows`] keeps a copy of the rows in
//! bytes that rules most rows out reading a quarter of the memory, and stays exact.

use rayon::prelude::*;

/// Rows searched per parallel task.
const BLOCK_ROWS: usize = 2048;

/// One row found near the query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbour {
    /// Its index in the set.
    pub index: usize,
    /// Its squared Euclidean distance to the query.
    pub distance: f32,
}

/// What rows can hold: values, or MNIST's bytes read as pixels.
pub trait Element: Copy + Sync {
    /// The value it stands for.
    fn value(self) -> f32;
}

impl Element for f32 {
    fn value(self) -> f32 {
        self
    }
}

/// MNIST's pixels: `byte / 255`, exactly as `data::Mnist::pixels` reads them.
impl Element for u8 {
    fn value(self) -> f32 {
        f32::from(self) / 255.0
    }
}

/// The `count` rows of `rows` (row-major, each `query.len()` wide) nearest to `query`, nearest
/// first (ties: lower index first).
pub fn nearest<T: Element>(rows: &[T], query: &[f32], count: usize) -> Vec<Neighbour> {
    let width = query.len().max(1);
    let mut found: Vec<Neighbour> = rows
        .par_chunks(BLOCK_ROWS * width)
        .enumerate()
        .flat_map_iter(|(block, chunk)| {
            let distances = chunk
                .chunks_exact(width)
                .enumerate()
                .map(|(i, row)| Neighbour {
                    index: block * BLOCK_ROWS + i,
                    distance: squared_distance(row, query),
                });
            smallest(distances, count)
        })
        .collect();
    found.sort_by(order);
    found.truncate(count);
    found
}

/// Rows also held as bytes (`lo + step · byte` within `errors[i]` of row `i`, in distance): a
/// search reads the bytes, and the exact rows only where the bytes cannot rule a row out.
pub struct ByteRows {
    lo: f32,
    step: f32,
    bytes: Vec<u8>,
    /// Each row's distance to its byte copy.
    errors: Vec<f32>,
}

impl ByteRows {
    /// The byte copy of `rows` (each `width` wide).
    pub fn new(rows: &[f32], width: usize) -> Self {
        let width = width.max(1);
        let (lo, hi) = rows
            .par_iter()
            .fold(
                || (f32::INFINITY, f32::NEG_INFINITY),
                |(lo, hi), &v| (lo.min(v), hi.max(v)),
            )
            .reduce(
                || (f32::INFINITY, f32::NEG_INFINITY),
                |a, b| (a.0.min(b.0), a.1.max(b.1)),
            );
        let (lo, step) = if hi > lo {
            (lo, (hi - lo) / 255.0)
        } else {
            (lo.min(0.0), 1.0)
        };
        let inverse = 1.0 / step;
        let mut bytes = vec![0u8; rows.len()];
        let errors = bytes
            .par_chunks_mut(width)
            .zip(rows.par_chunks(width))
            .map(|(bytes, row)| {
                // Nearest byte: + 0.5 and truncate (`round` is a slow call without SSE4.1).
                for (b, &v) in bytes.iter_mut().zip(row) {
                    *b = (((v - lo) * inverse).clamp(0.0, 255.0) + 0.5) as u8;
                }
                let back: Vec<f32> = bytes.iter().map(|&b| lo + step * f32::from(b)).collect();
                squared_distance(row, &back).sqrt()
            })
            .collect();
        Self {
            lo,
            step,
            bytes,
            errors,
        }
    }

    /// The `count` rows of `exact` (the rows this copy was made of) nearest to `query`, nearest
    /// first (ties: lower index first): the same as [`nearest`] over `exact`.
    pub fn nearest(&self, exact: &[f32], query: &[f32], count: usize) -> Vec<Neighbour> {
        let width = query.len().max(1);
        // The query in byte units: a row's distance to it, times `step`, is its byte copy's.
        let scaled: Vec<f32> = query.iter().map(|&q| (q - self.lo) / self.step).collect();
        let approximate: Vec<f32> = self
            .bytes
            .par_chunks(width)
            .map(|row| self.step * distance_by(row, &scaled, f32::from).sqrt())
            .collect();
        // |exact − approximate| ≤ error (triangle inequality), with room for rounding.
        let slack = |i: usize| self.errors[i] * 1.001 + 1e-4 * approximate[i] + 1e-6;
        if count == 0 || approximate.len() <= count {
            return nearest(exact, query, count);
        }
        let mut upper: Vec<f32> = (0..approximate.len())
            .map(|i| approximate[i] + slack(i))
            .collect();
        let threshold = *upper.select_nth_unstable_by(count - 1, f32::total_cmp).1;
        if !threshold.is_finite() {
            // Values too spread or not numbers for the copy to bound: every row, exactly.
            return nearest(exact, query, count);
        }
        // A row is ruled out only when its lower bound is a number above the threshold.
        let ruled_out = |i: usize| approximate[i] - slack(i) > threshold;
        let candidates = (0..approximate.len()).filter(|&i| !ruled_out(i));
        let distances = candidates.map(|i| Neighbour {
            index: i,
            distance: squared_distance(&exact[i * width..(i + 1) * width], query),
        });
        let mut found = smallest(distances, count);
        found.sort_by(order);
        found
    }
}

/// Nearest first, ties by lower index.
fn order(a: &Neighbour, b: &Neighbour) -> std::cmp::Ordering {
    a.distance
        .total_cmp(&b.distance)
        .then(a.index.cmp(&b.index))
}

/// The `count` smallest of `candidates` (unordered).
fn smallest(candidates: impl Iterator<Item = Neighbour>, count: usize) -> Vec<Neighbour> {
    let mut kept: Vec<Neighbour> = Vec::with_capacity(count + 1);
    for candidate in candidates {
        if kept.len() < count {
            kept.push(candidate);
            continue;
        }
        // Replace the farthest kept one if this one is nearer (small `count`: a linear scan).
        if let Some((worst, _)) = kept.iter().enumerate().max_by(|a, b| order(a.1, b.1))
            && order(&candidate, &kept[worst]).is_lt()
        {
            kept[worst] = candidate;
        }
    }
    kept
}

/// `Σ (a − b)²`, summed in eight lanes (which the compiler vectorises).
pub fn squared_distance<T: Element>(a: &[T], b: &[f32]) -> f32 {
    distance_by(a, b, T::value)
}

/// `Σ (value(a) − b)²`, summed in eight lanes.
#[inline(always)]
fn distance_by<T: Copy>(a: &[T], b: &[f32], value: impl Fn(T) -> f32) -> f32 {
    let mut lanes = [0f32; 8];
    let (a_head, a_tail) = a.split_at(a.len() / 8 * 8);
    let (b_head, b_tail) = b.split_at(a_head.len());
    for (x, y) in a_head.chunks_exact(8).zip(b_head.chunks_exact(8)) {
        for lane in 0..8 {
            let d = value(x[lane]) - y[lane];
            lanes[lane] += d * d;
        }
    }
    let tail: f32 = a_tail
        .iter()
        .zip(b_tail)
        .map(|(&x, y)| (value(x) - y) * (value(x) - y))
        .sum();
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_sorting_every_distance_finds() {
        let width = 13;
        let rows: Vec<f32> = (0..5000 * width)
            .map(|i| ((i * 7919) % 1009) as f32 / 1009.0)
            .collect();
        let query: Vec<f32> = (0..width).map(|i| i as f32 / 13.0).collect();
        let mut all: Vec<(f64, usize)> = rows
            .chunks(width)
            .enumerate()
            .map(|(i, r)| {
                (
                    r.iter()
                        .zip(&query)
                        .map(|(a, b)| f64::from(a - b).powi(2))
                        .sum(),
                    i,
                )
            })
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let found = nearest(&rows, &query, 7);
        let indices: Vec<usize> = found.iter().map(|n| n.index).collect();
        let expected: Vec<usize> = all.iter().take(7).map(|a| a.1).collect();
        assert_eq!(indices, expected);
        for (n, (d, _)) in found.iter().zip(&all) {
            assert!((f64::from(n.distance) - d).abs() < 1e-4 * d.max(1.0));
        }
    }

    #[test]
    fn bytes_are_searched_as_the_pixels_they_stand_for() {
        let bytes: Vec<u8> = (0..300 * 20).map(|i| ((i * 37) % 256) as u8).collect();
        let pixels: Vec<f32> = bytes.iter().map(|&b| f32::from(b) / 255.0).collect();
        let query: Vec<f32> = (0..20).map(|i| i as f32 / 20.0).collect();
        assert_eq!(nearest(&bytes, &query, 6), nearest(&pixels, &query, 6));
    }

    #[test]
    fn the_byte_copy_finds_exactly_what_the_exact_rows_find() {
        let width = 40;
        // Codes-like rows: mostly small, a few large, some zero columns.
        let rows: Vec<f32> = (0..20_000 * width)
            .map(|i| match i % 7 {
                0 => 0.0,
                k => (((i * 2654435761) % 1000) as f32 / 1000.0) * k as f32,
            })
            .collect();
        let copy = ByteRows::new(&rows, width);
        for seed in 0..20 {
            let query: Vec<f32> = rows[seed * 997 * width..(seed * 997 + 1) * width]
                .iter()
                .enumerate()
                .map(|(j, v)| v + ((j + seed) % 5) as f32 * 0.01)
                .collect();
            let exact = nearest(&rows, &query, 5);
            assert_eq!(copy.nearest(&rows, &query, 5), exact, "query {seed}");
        }
        // Values too close for a byte step, and not numbers: still what the exact search finds.
        let tiny: Vec<f32> = (0..400).map(|i| if i == 7 { 1e-30 } else { 0.0 }).collect();
        let query = [0.0; 4];
        let copy = ByteRows::new(&tiny, 4);
        assert_eq!(copy.nearest(&tiny, &query, 3), nearest(&tiny, &query, 3));
        let mut broken = tiny.clone();
        broken[9] = f32::NAN;
        let copy = ByteRows::new(&broken, 4);
        assert_eq!(copy.nearest(&broken, &query, 3).len(), 3);
        let few = &rows[..3 * width];
        assert_eq!(
            ByteRows::new(few, width)
                .nearest(few, &rows[..width], 5)
                .len(),
            3
        );
    }

    #[test]
    fn ties_go_to_the_lower_index_and_a_short_set_gives_what_it_has() {
        let rows = vec![1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0];
        let found = nearest(&rows, &[0.0, 0.0], 3);
        let indices: Vec<usize> = found.iter().map(|n| n.index).collect();
        assert_eq!(indices, [1, 3, 0]);
        assert_eq!(nearest(&rows, &[0.0, 0.0], 10).len(), 4);
        assert!(nearest::<f32>(&[], &[0.0, 0.0], 3).is_empty());
    }
}
