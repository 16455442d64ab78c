//! A map of hidden codes: points in a plane, coloured by digit, with a legend.

use image::RgbImage;
use plotters::prelude::*;

use crate::chart::{TABLEAU_10, draw_legend, render};

/// Ten well-separated colours, one per digit (Tableau 10).
pub const DIGIT_COLORS: [RGBColor; 10] = TABLEAU_10;
/// Draws `points` (x, y) coloured by `labels` (digits 0–9) on a `size` chart titled `title`,
/// axes named `x_label` and `y_label`, with a legend of the digits.
pub fn digit_scatter(
    points: &[(f64, f64)],
    labels: &[u8],
    title: &str,
    (x_label, y_label): (&str, &str),
    size: (u32, u32),
) -> Result<RgbImage, String> {
    if points.is_empty() || points.len() != labels.len() {
        return Err(format!(
            "{} points and {} labels to plot",
            points.len(),
            labels.len()
        ));
    }
    let finite = |v: f64| v.is_finite();
    let bounds = |pick: fn(&(f64, f64)) -> f64| {
        let values = points.iter().map(pick).filter(|v| finite(*v));
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let pad = ((hi - lo) * 0.05).max(1e-6);
        (lo - pad)..(hi + pad)
    };
    let (x_range, y_range) = (bounds(|p| p.0), bounds(|p| p.1));
    if !(x_range.start.is_finite() && y_range.start.is_finite()) {
        return Err("no finite points to plot".into());
    }
    render(size, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(x_range, y_range)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 15))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()
            .map_err(|e| e.to_string())?;
        for digit in 0..10u8 {
            let color = DIGIT_COLORS[digit as usize];
            chart
                .draw_series(
                    points
                        .iter()
                        .zip(labels)
                        .filter(|&(p, &l)| l == digit && finite(p.0) && finite(p.1))
                        .map(|(&p, _)| Circle::new(p, 2, color.mix(0.55).filled())),
                )
                .map_err(|e| e.to_string())?
                .label(digit.to_string())
                .legend(move |(x, y)| Circle::new((x + 6, y), 5, color.filled()));
        }
        draw_legend(&mut chart)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_each_digit_in_its_colour() {
        let points: Vec<(f64, f64)> = (0..500)
            .map(|i| {
                (
                    (i % 10) as f64 + (i as f64 * 0.37).sin() * 0.2,
                    (i / 10) as f64,
                )
            })
            .collect();
        let labels: Vec<u8> = (0..500).map(|i| (i % 10) as u8).collect();
        let img = digit_scatter(&points, &labels, "codes", ("PC 1", "PC 2"), (640, 480)).unwrap();
        assert_eq!(img.dimensions(), (640, 480));
        for color in DIGIT_COLORS {
            assert!(
                img.pixels().any(|p| p.0 == [color.0, color.1, color.2]),
                "{color:?} missing (legend)"
            );
        }
        assert!(digit_scatter(&[], &[], "t", ("x", "y"), (100, 100)).is_err());
        assert!(digit_scatter(&points, &labels[..3], "t", ("x", "y"), (100, 100)).is_err());
    }
}
