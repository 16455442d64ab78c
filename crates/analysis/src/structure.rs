//! How stroke-like or noise-like a weight tile is: its spatial roughness relative to the same
//! values in a random arrangement. Which ratio counts as structured is not assumed here: it is
//! calibrated on tiles known to be noise (the `calibration` module).

use serde::Serialize;

/// Mean squared difference between horizontally and vertically adjacent pixels of a square tile
/// of `side × side` values.
///
/// # Panics
/// If the tile does not hold `side * side` values.
pub fn roughness(tile: &[f32], side: usize) -> f64 {
    masked_roughness(tile, side, &vec![true; tile.len()])
}

/// [`roughness`] over the pairs of adjacent pixels that are both `active`.
fn masked_roughness(tile: &[f32], side: usize, active: &[bool]) -> f64 {
    assert_eq!(
        tile.len(),
        side * side,
        "roughness: expected a {side}×{side} tile"
    );
    assert_eq!(active.len(), tile.len(), "roughness: mask of another size");
    let mut sum = 0.0;
    let mut pairs = 0usize;
    let mut add = |a: usize, b: usize| {
        if active[a] && active[b] {
            sum += (tile[a] as f64 - tile[b] as f64).powi(2);
            pairs += 1;
        }
    };
    for y in 0..side {
        for x in 0..side {
            let p = y * side + x;
            if x + 1 < side {
                add(p, p + 1);
            }
            if y + 1 < side {
                add(p, p + side);
            }
        }
    }
    if pairs == 0 { 0.0 } else { sum / pairs as f64 }
}

/// [`roughness`] of the tile divided by its expected roughness after a random shuffle of its
/// pixels (`2 Σ(x − x̄)² / (N − 1)`, exact over all permutations): ≈ 1 for noise, near 0 for
/// smooth strokes; `None` for a constant tile.
pub fn structure_ratio(tile: &[f32], side: usize) -> Option<f64> {
    masked_structure_ratio(tile, side, &vec![true; tile.len()])
}

/// [`structure_ratio`] over the `active` pixels only (e.g. those that the data ever light up:
/// weights of pixels that are always 0 never train and keep their random initial values).
pub fn masked_structure_ratio(tile: &[f32], side: usize, active: &[bool]) -> Option<f64> {
    let values: Vec<f64> = tile
        .iter()
        .zip(active)
        .filter(|(_, a)| **a)
        .map(|(&v, _)| v as f64)
        .collect();
    let n = values.len();
    if n < 2 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    let shuffled = 2.0 * squares / (n - 1) as f64;
    (shuffled > 0.0).then(|| masked_roughness(tile, side, active) / shuffled)
}

/// [`masked_structure_ratio`] of every tile (a constant tile counts as 1, unstructured).
pub fn ratios(tiles: &[Vec<f32>], side: usize, active: &[bool]) -> Vec<f64> {
    tiles
        .iter()
        .map(|t| masked_structure_ratio(t, side, active).unwrap_or(1.0))
        .collect()
}

/// Summary of [`masked_structure_ratio`] over a set of tiles (all the units of one layer).
#[derive(Debug, Clone, PartialEq)]
pub struct FilterStructure {
    /// Number of tiles.
    pub tiles: usize,
    /// Median ratio (constant tiles count as 1, unstructured); NaN without tiles.
    pub median_ratio: f64,
    /// Fraction of tiles with a ratio below the threshold; 0 without tiles.
    pub structured_fraction: f64,
}

impl FilterStructure {
    /// Measures every tile (each `side × side` values) over its `active` pixels; those below
    /// `threshold` count as structured.
    pub fn of(tiles: &[Vec<f32>], side: usize, active: &[bool], threshold: f64) -> Self {
        Self::from_ratios(&ratios(tiles, side, active), threshold)
    }

    /// The summary of tiles whose ratios are `ratios`.
    pub fn from_ratios(ratios: &[f64], threshold: f64) -> Self {
        let structured = ratios.iter().filter(|&&r| r < threshold).count();
        Self {
            tiles: ratios.len(),
            median_ratio: median(ratios),
            structured_fraction: if ratios.is_empty() {
                0.0
            } else {
                structured as f64 / ratios.len() as f64
            },
        }
    }
}

/// Serializable [`FilterStructure`].
#[derive(Debug, Clone, Serialize)]
pub struct FilterSummary {
    /// Median roughness ratio (1 ≈ noise, near 0 = smooth).
    pub median_ratio: f64,
    /// Fraction of tiles counted as structured.
    pub structured_fraction: f64,
}

impl From<FilterStructure> for FilterSummary {
    fn from(s: FilterStructure) -> Self {
        Self {
            median_ratio: s.median_ratio,
            structured_fraction: s.structured_fraction,
        }
    }
}

/// The median of `values` (NaN when there are none).
pub fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

/// The `q`-quantile of `values`, interpolated between the two nearest order statistics (NaN when
/// there are none).
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n => {
            let position = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let (low, high) = (position.floor() as usize, position.ceil() as usize);
            let t = position - low as f64;
            sorted[low] * (1.0 - t) + sorted[high] * t
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIDE: usize = 28;

    fn noise(seed: u64) -> Vec<f32> {
        let mut state = seed;
        (0..SIDE * SIDE)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % 10_000) as f32 / 10_000.0
            })
            .collect()
    }

    /// A thick diagonal pen stroke on a flat background.
    fn stroke() -> Vec<f32> {
        (0..SIDE * SIDE)
            .map(|p| {
                let (x, y) = ((p % SIDE) as f32, (p / SIDE) as f32);
                (-((x - y).powi(2)) / 8.0).exp()
            })
            .collect()
    }

    #[test]
    fn roughness_of_simple_tiles() {
        assert_eq!(roughness(&[1.0; 9], 3), 0.0);
        // A 2×2 checkerboard: all four neighbour pairs differ by 1.
        assert_eq!(roughness(&[0.0, 1.0, 1.0, 0.0], 2), 1.0);
    }

    #[test]
    fn noise_is_near_one_and_strokes_near_zero() {
        for seed in 1..20 {
            let r = structure_ratio(&noise(seed), SIDE).unwrap();
            assert!((0.85..1.15).contains(&r), "noise ratio {r}");
        }
        let r = structure_ratio(&stroke(), SIDE).unwrap();
        assert!(r < 0.1, "stroke ratio {r}");
        assert_eq!(structure_ratio(&[0.3; SIDE * SIDE], SIDE), None);
    }

    #[test]
    fn ratio_ignores_scale_and_offset() {
        let a = stroke();
        let b: Vec<f32> = a.iter().map(|v| 3.0 * v - 7.0).collect();
        let (ra, rb) = (
            structure_ratio(&a, SIDE).unwrap(),
            structure_ratio(&b, SIDE).unwrap(),
        );
        assert!((ra - rb).abs() < 1e-4 * ra.max(1e-9), "{ra} vs {rb}");
    }

    #[test]
    fn a_noisy_frame_hides_a_stroke_unless_masked() {
        // A stroke in the centre, noise on the 4-pixel border (untrained weights).
        let noisy = noise(3);
        let border = |p: usize| {
            let (x, y) = (p % SIDE, p / SIDE);
            x < 4 || y < 4 || x >= SIDE - 4 || y >= SIDE - 4
        };
        let tile: Vec<f32> = stroke()
            .iter()
            .enumerate()
            .map(|(p, &v)| if border(p) { 4.0 * noisy[p] } else { v })
            .collect();
        let active: Vec<bool> = (0..SIDE * SIDE).map(|p| !border(p)).collect();
        let whole = structure_ratio(&tile, SIDE).unwrap();
        let centre = masked_structure_ratio(&tile, SIDE, &active).unwrap();
        assert!(whole > 0.5, "whole tile {whole}");
        assert!(centre < 0.2, "centre {centre}");
    }

    #[test]
    fn quantiles_interpolate_between_order_statistics() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(quantile(&[0.0, 10.0], 0.01), 0.1);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn summary_counts_structured_tiles() {
        let tiles = vec![
            stroke(),
            noise(1),
            noise(2),
            stroke(),
            vec![0.0; SIDE * SIDE],
        ];
        let s = FilterStructure::of(&tiles, SIDE, &[true; SIDE * SIDE], 0.5);
        assert_eq!(s.tiles, 5);
        assert!((s.structured_fraction - 0.4).abs() < 1e-12);
        assert!(
            s.median_ratio > 0.8,
            "median of 2 strokes and 3 noise-like tiles"
        );
    }
}
