//! The study's pictures as images: [`TileGrid`]s of digits and weight filters, loss charts, maps
//! of hidden codes, and a measurement's curves along a sweep.

mod chart;
mod curves;
mod distributions;
mod grid;
mod scatter;

pub use chart::{ChartOptions, LossCurves, loss_chart, with_caption};
pub use curves::{Curve, CurveChart, CurvePoint, curve_chart};
pub use distributions::{Distribution, DistributionChart, distribution_chart, shares};
pub use grid::{TileGrid, TileScale, min_max, to_level};
pub use scatter::{DIGIT_COLORS, digit_scatter};

/// Encodes an image as PNG bytes.
pub fn encode_png(image: &image::DynamicImage) -> Result<Vec<u8>, image::ImageError> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png)?;
    Ok(bytes.into_inner())
}

pub use image;
