//! How values are spread: each set drawn as the share of its values in each bin (a histogram's
//! outline), several sets on one axis, with a vertical threshold line.

use image::RgbImage;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use crate::chart::{CURVE_COLORS, DASH, LEGEND_SAMPLE, TABLEAU_10, draw_legend, render};

/// A named set of values, drawn solid or dashed.
#[derive(Debug, Clone, Default)]
pub struct Distribution {
    /// Its name in the legend (its count is added).
    pub label: String,
    /// The values (those outside the chart's range count in its first or last bin).
    pub values: Vec<f64>,
    /// Dashed (a reference) rather than solid.
    pub dashed: bool,
}

/// What a distribution chart shows.
#[derive(Debug, Clone, Default)]
pub struct DistributionChart {
    /// Title above the plot.
    pub title: String,
    /// The values' name, under the x axis.
    pub x_label: String,
    /// The x axis: the range the bins cover.
    pub range: (f64, f64),
    /// How many bins.
    pub bins: usize,
    /// The sets, in legend order; an empty one is left out.
    pub distributions: Vec<Distribution>,
    /// A vertical line and its name.
    pub threshold: Option<(f64, String)>,
    /// Size in pixels.
    pub size: (u32, u32),
}

/// The share of `values` in each of `bins` equal bins over `range`.
pub fn shares(values: &[f64], range: (f64, f64), bins: usize) -> Vec<f64> {
    let mut counts = vec![0usize; bins.max(1)];
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let width = (range.1 - range.0) / counts.len() as f64;
    for v in &finite {
        let bin = ((v - range.0) / width)
            .floor()
            .clamp(0.0, (counts.len() - 1) as f64);
        counts[bin as usize] += 1;
    }
    let total = finite.len().max(1) as f64;
    counts.iter().map(|&c| c as f64 / total).collect()
}

/// Draws `chart`; an error when no set has a value.
pub fn distribution_chart(chart: &DistributionChart) -> Result<RgbImage, String> {
    let sets: Vec<&Distribution> = chart
        .distributions
        .iter()
        .filter(|d| d.values.iter().any(|v| v.is_finite()))
        .collect();
    if sets.is_empty() {
        return Err(format!("{}: no values to draw", chart.title));
    }
    let (lo, hi) = chart.range;
    let width = (hi - lo) / chart.bins.max(1) as f64;
    let all: Vec<Vec<f64>> = sets
        .iter()
        .map(|d| shares(&d.values, chart.range, chart.bins))
        .collect();
    // Head room for the legend (top right, a line per set) above the highest bar.
    let head_room = 1.15 + 0.1 * sets.len() as f64;
    let top = all.iter().flatten().fold(0.0f64, |a, &b| a.max(b)) * head_room;
    render(chart.size, |root| {
        let mut plot = ChartBuilder::on(root)
            .caption(&chart.title, ("sans-serif", 18))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(lo..hi, 0.0..top.max(1e-9))
            .map_err(|e| e.to_string())?;
        plot.configure_mesh()
            .disable_x_mesh()
            .x_desc(&chart.x_label)
            .y_desc("share of the tiles")
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()
            .map_err(|e| e.to_string())?;
        if let Some((x, label)) = &chart.threshold {
            let line = [(*x, 0.0), (*x, top)];
            let style = BLACK.stroke_width(1);
            plot.draw_series(std::iter::once(DashedPathElement::new(line, 3, 3, style)))
                .map_err(|e| e.to_string())?
                .label(label.clone())
                .legend(move |(x, y)| {
                    DashedPathElement::new([(x, y), (x + LEGEND_SAMPLE, y)], 3, 3, style)
                });
        }
        for (i, (set, shares)) in sets.iter().zip(&all).enumerate() {
            let color = TABLEAU_10[i % CURVE_COLORS];
            let style = color.stroke_width(2);
            // The outline: up and across each bin.
            let mut outline = vec![(lo, 0.0)];
            for (b, &share) in shares.iter().enumerate() {
                let x = lo + b as f64 * width;
                outline.extend([(x, share), (x + width, share)]);
            }
            outline.push((hi, 0.0));
            let label = format!("{} ({})", set.label, set.values.len());
            let drawn = match set.dashed {
                true => plot.draw_series(std::iter::once(DashedPathElement::new(
                    outline, DASH.0, DASH.1, style,
                ))),
                false => plot.draw_series(std::iter::once(PathElement::new(outline, style))),
            };
            let dashed = set.dashed;
            drawn
                .map_err(|e| e.to_string())?
                .label(label)
                .legend(move |(x, y)| {
                    let sample = [(x, y), (x + LEGEND_SAMPLE, y)];
                    match dashed {
                        true => DashedPathElement::new(sample, DASH.0, DASH.1, style).into_dyn(),
                        false => PathElement::new(sample, style).into_dyn(),
                    }
                });
        }
        draw_legend(&mut plot)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_count_every_value_once_edges_included() {
        let s = shares(&[-1.0, 0.1, 0.6, 0.7, 5.0, f64::NAN], (0.0, 1.0), 2);
        assert_eq!(s, [0.4, 0.6]);
    }

    #[test]
    fn a_chart_draws_and_refuses_nothing_to_draw() {
        let chart = DistributionChart {
            title: "t".into(),
            x_label: "ratio".into(),
            range: (0.0, 1.2),
            bins: 24,
            distributions: vec![
                Distribution {
                    label: "noise".into(),
                    values: vec![0.9, 1.0, 1.05],
                    dashed: true,
                },
                Distribution {
                    label: "live".into(),
                    values: vec![0.3, 0.5],
                    dashed: false,
                },
            ],
            threshold: Some((0.85, "threshold".into())),
            size: (640, 400),
        };
        let image = distribution_chart(&chart).unwrap();
        assert_eq!(image.dimensions(), (640, 400));
        let empty = DistributionChart {
            distributions: Vec::new(),
            ..chart
        };
        assert!(distribution_chart(&empty).is_err());
    }
}
