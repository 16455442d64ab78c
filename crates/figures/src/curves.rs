//! A measurement along a sweep's axis: one curve per series (mean ± sd as error bars), the axis's
//! values as its ticks, reference lines, and the study's own case marked.

use image::RgbImage;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::chart::{CURVE_COLORS, DASH, LEGEND_SAMPLE, TABLEAU_10, draw_legend_at, render};

/// One point of a curve: its position on the axis, the mean and the spread (sd; 0 for none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    /// Position on the x axis.
    pub x: f64,
    /// Mean value.
    pub mean: f64,
    /// Standard deviation, drawn as an error bar when positive.
    pub spread: f64,
}

/// A named series of points, solid or dashed.
#[derive(Debug, Clone, Default)]
pub struct Curve {
    /// Its name in the legend.
    pub label: String,
    /// Its points, in axis order.
    pub points: Vec<CurvePoint>,
    /// Dashed (a baseline) rather than solid.
    pub dashed: bool,
}

/// What a curve chart shows.
#[derive(Debug, Clone, Default)]
pub struct CurveChart {
    /// Title above the plot.
    pub title: String,
    /// The x axis's name.
    pub x_label: String,
    /// The y axis's name.
    pub y_label: String,
    /// The axis's values: position and label, one tick each.
    pub ticks: Vec<(f64, String)>,
    /// The series; the first is the one marked.
    pub curves: Vec<Curve>,
    /// Horizontal reference lines and their names.
    pub references: Vec<(f64, String)>,
    /// Values the y axis shows whatever the points (`[0, 1]` for a share).
    pub y_includes: Vec<f64>,
    /// A position on the x axis to mark on the first curve, and its label (`case 7`).
    pub mark: Option<(f64, String)>,
    /// Size in pixels.
    pub size: (u32, u32),
}

/// Draws `chart`; an error when it has no finite point.
pub fn curve_chart(chart: &CurveChart) -> Result<RgbImage, String> {
    let (x_range, y_range) = ranges(chart)?;
    render(chart.size, |root| {
        let mut plot = ChartBuilder::on(root)
            .caption(&chart.title, ("sans-serif", 18))
            .margin(14)
            .x_label_area_size(58)
            .y_label_area_size(64)
            .build_cartesian_2d(x_range.clone(), y_range.clone())
            .map_err(|e| e.to_string())?;
        plot.configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc(&chart.y_label)
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 14))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()
            .map_err(|e| e.to_string())?;
        let bottom = y_range.start;
        // A label that would touch the one before it (784 and 1000 on a log axis) goes a row lower.
        let mut right_end = [i32::MIN; 2];
        for (x, label) in &chart.ticks {
            let (px, py) = plot.backend_coord(&(*x, bottom));
            root.draw(&PathElement::new([(px, py), (px, py + 5)], BLACK))
                .map_err(|e| e.to_string())?;
            let half = 4 * label.chars().count() as i32;
            let row = usize::from(px - half < right_end[0] + 6);
            right_end[row] = px + half;
            let style = ("sans-serif", 13)
                .into_text_style(root)
                .pos(Pos::new(HPos::Center, VPos::Top));
            let y = py + 7 + 15 * row as i32;
            root.draw(&Text::new(label.clone(), (px, y), style))
                .map_err(|e| e.to_string())?;
        }
        let (_, axis_y) = plot.backend_coord(&(x_range.start, bottom));
        let centre = root.dim_in_pixel().0 as i32 / 2;
        let style = ("sans-serif", 14)
            .into_text_style(root)
            .pos(Pos::new(HPos::Center, VPos::Top));
        root.draw(&Text::new(
            chart.x_label.clone(),
            (centre, axis_y + 38),
            style,
        ))
        .map_err(|e| e.to_string())?;
        for (y, label) in &chart.references {
            let line = [(x_range.start, *y), (x_range.end, *y)];
            let style = RGBColor(120, 120, 120).stroke_width(1);
            plot.draw_series(std::iter::once(DashedPathElement::new(line, 2, 3, style)))
                .map_err(|e| e.to_string())?
                .label(label.clone())
                .legend(move |(x, y)| {
                    DashedPathElement::new([(x, y), (x + LEGEND_SAMPLE, y)], 2, 3, style)
                });
        }
        for (i, curve) in chart.curves.iter().enumerate() {
            draw_curve(&mut plot, curve, TABLEAU_10[i % CURVE_COLORS])?;
        }
        if let (Some((x, label)), Some(first)) = (&chart.mark, chart.curves.first()) {
            if let Some(p) = first
                .points
                .iter()
                .find(|p| p.x == *x && p.mean.is_finite())
            {
                let ring = Circle::new((0, 0), 8, BLACK.stroke_width(2));
                let text = Text::new(label.clone(), (8, -24), ("sans-serif", 13));
                plot.draw_series([EmptyElement::at((p.x, p.mean)) + ring + text])
                    .map_err(|e| e.to_string())?;
            }
        }
        draw_legend_at(&mut plot, free_corner(chart, &x_range, &y_range))
    })
}

/// The corner of the plot that the fewest points fall in, for the legend (upper right first).
fn free_corner(
    chart: &CurveChart,
    x: &std::ops::Range<f64>,
    y: &std::ops::Range<f64>,
) -> SeriesLabelPosition {
    let share = |v: f64, r: &std::ops::Range<f64>| (v - r.start) / (r.end - r.start);
    let points: Vec<(f64, f64)> = chart
        .curves
        .iter()
        .flat_map(|c| &c.points)
        .filter(|p| p.mean.is_finite())
        .map(|p| (share(p.x, x), share(p.mean, y)))
        .collect();
    let corners = [
        (SeriesLabelPosition::UpperRight, true, true),
        (SeriesLabelPosition::UpperLeft, false, true),
        (SeriesLabelPosition::LowerRight, true, false),
        (SeriesLabelPosition::LowerLeft, false, false),
    ];
    let in_corner = |&(px, py): &(f64, f64), right: bool, upper: bool| {
        (if right { px > 0.5 } else { px < 0.5 }) && (if upper { py > 0.7 } else { py < 0.3 })
    };
    corners
        .into_iter()
        .min_by_key(|&(_, right, upper)| {
            points.iter().filter(|p| in_corner(p, right, upper)).count()
        })
        .map_or(SeriesLabelPosition::UpperRight, |c| c.0)
}

/// The x range (the ticks, padded) and the y range (every mean ± spread and the reference).
fn ranges(chart: &CurveChart) -> Result<(std::ops::Range<f64>, std::ops::Range<f64>), String> {
    let finite: Vec<&CurvePoint> = chart
        .curves
        .iter()
        .flat_map(|c| &c.points)
        .filter(|p| p.mean.is_finite())
        .collect();
    if finite.is_empty() || chart.ticks.is_empty() {
        return Err(format!("{}: no finite point to plot", chart.title));
    }
    let spread = |p: &CurvePoint| if p.spread.is_finite() { p.spread } else { 0.0 };
    let mut lo = finite
        .iter()
        .map(|p| p.mean - spread(p))
        .fold(f64::INFINITY, f64::min);
    let mut hi = finite
        .iter()
        .map(|p| p.mean + spread(p))
        .fold(f64::NEG_INFINITY, f64::max);
    let references = chart.references.iter().map(|r| r.0);
    for y in chart.y_includes.iter().copied().chain(references) {
        (lo, hi) = (lo.min(y), hi.max(y));
    }
    // A flat curve gets a range around its value, not one of rounding errors.
    let pad = match hi - lo {
        span if span > 1e-12 * hi.abs().max(1.0) => span * 0.12,
        _ => hi.abs().max(1.0) * 0.5,
    };
    let xs = chart.ticks.iter().map(|t| t.0);
    let (x_lo, x_hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    let x_pad = ((x_hi - x_lo) * 0.06).max(0.5);
    Ok(((x_lo - x_pad)..(x_hi + x_pad), (lo - pad)..(hi + pad)))
}

/// One curve: its line, its points, and an error bar where the spread is positive.
fn draw_curve<'a, DB: DrawingBackend + 'a>(
    plot: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    curve: &Curve,
    color: RGBColor,
) -> Result<(), String> {
    let points: Vec<(f64, f64)> = curve
        .points
        .iter()
        .filter(|p| p.mean.is_finite())
        .map(|p| (p.x, p.mean))
        .collect();
    let style = color.stroke_width(2);
    let series = if curve.dashed {
        plot.draw_series(DashedLineSeries::new(points.clone(), DASH.0, DASH.1, style))
    } else {
        plot.draw_series(LineSeries::new(points.clone(), style))
    };
    let dashed = curve.dashed;
    series
        .map_err(|e| e.to_string())?
        .label(curve.label.clone())
        .legend(move |(x, y)| {
            let (dash, gap) = if dashed {
                DASH
            } else {
                (LEGEND_SAMPLE as u32, 0)
            };
            DashedPathElement::new([(x, y), (x + LEGEND_SAMPLE, y)], dash, gap, style)
        });
    plot.draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))
        .map_err(|e| e.to_string())?;
    let bars = curve
        .points
        .iter()
        .filter(|p| p.mean.is_finite() && p.spread.is_finite() && p.spread > 0.0);
    for p in bars {
        let (lo, hi) = (p.mean - p.spread, p.mean + p.spread);
        plot.draw_series(std::iter::once(PathElement::new(
            [(p.x, lo), (p.x, hi)],
            style,
        )))
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(points: Vec<CurvePoint>) -> CurveChart {
        CurveChart {
            title: "test MSE".into(),
            x_label: "hidden units".into(),
            y_label: "MSE".into(),
            ticks: points.iter().map(|p| (p.x, format!("{}", p.x))).collect(),
            curves: vec![
                Curve {
                    label: "autoencoder".into(),
                    points: points.clone(),
                    dashed: false,
                },
                Curve {
                    label: "PCA-n".into(),
                    points: points
                        .iter()
                        .map(|p| CurvePoint {
                            mean: p.mean * 0.5,
                            ..*p
                        })
                        .collect(),
                    dashed: true,
                },
            ],
            references: vec![(0.5, "reference".into())],
            y_includes: vec![0.0],
            mark: Some((points[1].x, "case 7".into())),
            size: (640, 400),
        }
    }

    #[test]
    fn draws_each_series_in_its_colour_and_refuses_nothing_to_draw() {
        let points = vec![
            CurvePoint {
                x: 4.0,
                mean: 1.0,
                spread: 0.1,
            },
            CurvePoint {
                x: 5.0,
                mean: 0.8,
                spread: 0.0,
            },
            CurvePoint {
                x: 6.0,
                mean: f64::NAN,
                spread: 0.0,
            },
        ];
        let img = curve_chart(&chart(points)).unwrap();
        assert_eq!(img.dimensions(), (640, 400));
        for color in &TABLEAU_10[..2] {
            assert!(img.pixels().any(|p| p.0 == [color.0, color.1, color.2]));
        }
        let nothing = vec![
            CurvePoint {
                x: 1.0,
                mean: f64::NAN,
                spread: 0.0
            };
            2
        ];
        assert!(curve_chart(&chart(nothing)).is_err());
    }
}
