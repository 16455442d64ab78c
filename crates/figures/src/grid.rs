//! Grids of 28×28 grayscale tiles: images, reconstructions and weight filters.

use image::{GrayImage, Luma};

/// How tile values are mapped to grey levels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TileScale {
    /// `lo` is black and `hi` white for every tile; values outside are clipped.
    Fixed {
        /// Value drawn black.
        lo: f32,
        /// Value drawn white.
        hi: f32,
    },
    /// Each tile stretched from its own minimum (black) to its maximum (white), as the study did.
    PerTile,
    /// One scale for all tiles, symmetric about 0: 0 is mid-grey, ±max|v| black and white.
    SymmetricGlobal,
}

/// A grid of square tiles, `columns` per row, separated by a `gap` of background pixels.
#[derive(Debug, Clone)]
pub struct TileGrid {
    side: usize,
    columns: usize,
    gap: usize,
    background: u8,
    scale: TileScale,
    tiles: Vec<Vec<f32>>,
}

impl TileGrid {
    /// An empty grid of `side`×`side` tiles.
    pub fn new(side: usize, columns: usize, scale: TileScale) -> Self {
        assert!(
            side > 0 && columns > 0,
            "tiles and columns must be non-empty"
        );
        Self {
            side,
            columns,
            gap: 1,
            background: 128,
            scale,
            tiles: Vec::new(),
        }
    }

    /// Pixels between tiles (default 1).
    pub fn gap(mut self, gap: usize) -> Self {
        self.gap = gap;
        self
    }

    /// Grey level of the gaps and of empty cells (default 128).
    pub fn background(mut self, level: u8) -> Self {
        self.background = level;
        self
    }

    /// Appends one tile of `side × side` values, row-major.
    pub fn push(&mut self, tile: Vec<f32>) {
        assert_eq!(tile.len(), self.side * self.side, "tile of the wrong size");
        self.tiles.push(tile);
    }

    /// Appends an empty cell (drawn as background), e.g. to start a new row.
    pub fn push_blank(&mut self) {
        self.tiles.push(Vec::new());
    }

    /// Number of cells, tiles and blanks.
    pub fn len(&self) -> usize {
        self.tiles.len()
    }

    /// Whether the grid has no cells.
    pub fn is_empty(&self) -> bool {
        self.tiles.is_empty()
    }

    /// Rows the grid needs.
    pub fn rows(&self) -> usize {
        self.tiles.len().div_ceil(self.columns)
    }

    /// Top-left pixel of cell `index`.
    pub fn origin(&self, index: usize) -> (u32, u32) {
        let step = self.side + self.gap;
        (
            (self.gap + (index % self.columns) * step) as u32,
            (self.gap + (index / self.columns) * step) as u32,
        )
    }

    /// Renders the grid, with a gap around the border too.
    pub fn render(&self) -> GrayImage {
        let step = self.side + self.gap;
        let width = (self.gap + self.columns.min(self.tiles.len().max(1)) * step) as u32;
        let height = (self.gap + self.rows().max(1) * step) as u32;
        let mut img = GrayImage::from_pixel(width, height, Luma([self.background]));
        let global = self
            .tiles
            .iter()
            .flatten()
            .fold(0f32, |m, v| if v.is_finite() { m.max(v.abs()) } else { m });
        for (index, tile) in self.tiles.iter().enumerate().filter(|(_, t)| !t.is_empty()) {
            let (x0, y0) = self.origin(index);
            let levels = self.levels(tile, global);
            for (k, level) in levels.into_iter().enumerate() {
                let (x, y) = ((k % self.side) as u32, (k / self.side) as u32);
                img.put_pixel(x0 + x, y0 + y, Luma([level]));
            }
        }
        img
    }

    fn levels(&self, tile: &[f32], global_abs_max: f32) -> Vec<u8> {
        let (lo, hi) = match self.scale {
            TileScale::Fixed { lo, hi } => (lo, hi),
            TileScale::PerTile => min_max(tile),
            TileScale::SymmetricGlobal => (-global_abs_max, global_abs_max),
        };
        tile.iter().map(|&v| to_level(v, lo, hi)).collect()
    }
}

/// The smallest and largest finite value of `values`.
pub fn min_max(values: &[f32]) -> (f32, f32) {
    values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

/// Maps `v` from `[lo, hi]` to a grey level 0–255 (clipped; a flat range is mid-grey).
pub fn to_level(v: f32, lo: f32, hi: f32) -> u8 {
    if !(hi > lo) || !v.is_finite() {
        return 128;
    }
    (((v - lo) / (hi - lo)).clamp(0.0, 1.0) * 255.0).round() as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(offset: f32) -> Vec<f32> {
        (0..16).map(|i| offset + i as f32).collect()
    }

    #[test]
    fn layout_has_gaps_and_wraps_rows() {
        let mut grid = TileGrid::new(4, 3, TileScale::PerTile);
        for i in 0..7 {
            grid.push(ramp(i as f32));
        }
        let img = grid.render();
        // 3 columns × (4 + 1) + 1 = 16 wide; 3 rows → 16 high.
        assert_eq!(img.dimensions(), (16, 16));
        assert_eq!(grid.origin(4), (6, 6));
        // Gaps keep the background; per-tile scaling spans black to white in every tile.
        assert_eq!(img.get_pixel(0, 0).0[0], 128);
        assert_eq!(img.get_pixel(5, 1).0[0], 128);
        assert_eq!(img.get_pixel(1, 1).0[0], 0);
        assert_eq!(img.get_pixel(4, 4).0[0], 255);
        assert_eq!(img.get_pixel(6 + 3, 6 + 3).0[0], 255);
        // The empty cells of the last row stay background.
        assert_eq!(img.get_pixel(12, 12).0[0], 128);
    }

    #[test]
    fn fixed_scale_clips_and_keeps_dim_values_dim() {
        let mut grid = TileGrid::new(2, 1, TileScale::Fixed { lo: 0.0, hi: 1.0 }).gap(0);
        grid.push(vec![0.0, 0.5, 1.5, -1.0]);
        let img = grid.render();
        assert_eq!(img.as_raw(), &vec![0, 128, 255, 0]);
    }

    #[test]
    fn symmetric_scale_puts_zero_at_mid_grey() {
        let mut grid = TileGrid::new(2, 2, TileScale::SymmetricGlobal).gap(0);
        grid.push(vec![0.0, 2.0, -2.0, 1.0]);
        grid.push(vec![0.0, 0.0, 0.0, 0.0]);
        let img = grid.render();
        assert_eq!(&img.as_raw()[..4], &[128, 255, 128, 128]);
        assert_eq!(img.get_pixel(0, 1).0[0], 0);
        assert_eq!(img.get_pixel(1, 1).0[0], 191);
    }

    #[test]
    fn flat_tiles_do_not_divide_by_zero() {
        assert_eq!(to_level(3.0, 3.0, 3.0), 128);
        assert_eq!(to_level(f32::NAN, 0.0, 1.0), 128);
    }
}
