//! The legend of every chart here, and where a loss chart's legend goes so no curve runs under it.

use plotters::prelude::*;

use super::loss_plot::LossPlot;

/// Font size of legend labels.
const LEGEND_FONT_SIZE: u32 = 14;
/// Padding inside the legend's frame, in pixels.
const LEGEND_MARGIN: i32 = 10;
/// Width of the legend's column of line samples, left of the labels, in pixels.
const LEGEND_SAMPLE_AREA: i32 = 30;
/// Length of a legend's line sample in pixels: three dashes and two gaps of a test line.
pub(crate) const LEGEND_SAMPLE: i32 = 26;
/// Distance plotters leaves between a legend in a corner and the plot's edges, in pixels.
const LEGEND_INSET: i32 = 5;
/// Least distance between the legend and a curve's line or point, markers included, in pixels.
const LEGEND_CLEARANCE: i32 = 8;

/// The legend of every chart here: upper right, on translucent white, framed.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> Result<(), String> {
    draw_legend_at(chart, SeriesLabelPosition::UpperRight)
}

/// [`draw_legend`] at `position` in the plot.
pub(crate) fn draw_legend_at<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .label_font(("sans-serif", LEGEND_FONT_SIZE))
        .margin(LEGEND_MARGIN)
        .legend_area_size(LEGEND_SAMPLE_AREA)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(position)
        .draw()
        .map_err(|e| e.to_string())
}

/// Size in pixels of the framed box [`draw_legend`] draws for these labels, computed as plotters
/// lays it out (text block, sample column, padding).
pub(super) fn legend_size(labels: &[String]) -> Result<(i32, i32), String> {
    let font: TextStyle = ("sans-serif", LEGEND_FONT_SIZE).into();
    let mut text = MultiLineText::<_, &str>::new((0, 0), &font);
    for label in labels {
        text.push_line(label.as_str());
    }
    let (w, h) = text.estimate_dimension().map_err(|e| e.to_string())?;
    Ok((
        w + LEGEND_SAMPLE_AREA + 2 * LEGEND_MARGIN,
        h + 2 * LEGEND_MARGIN,
    ))
}

/// The legend's position in a loss chart whose plotting area is `(plot_w, plot_h)` pixels, and
/// the top of its loss axis (in losses) that keeps the curves out of the legend's corner.
/// Needs the embedded font registered, as it measures the labels.
pub(super) fn fit_legend(
    plot: &LossPlot<'_>,
    (plot_w, plot_h): (u32, u32),
) -> Result<(SeriesLabelPosition, f64), String> {
    let (legend_w, legend_h) = legend_size(&plot.labels)?;
    // The legend's corner: its box, the inset plotters leaves, and a gap to the curves.
    let clearance = LEGEND_INSET + LEGEND_CLEARANCE;
    let legend = (
        f64::from(legend_w + clearance) / f64::from(plot_w.max(1)),
        f64::from(legend_h + clearance) / f64::from(plot_h.max(1)),
    );
    // Loss to axis units and back: the axis is linear in the loss, or in its logarithm.
    let log_y = plot.log_y;
    let to_axis = |y: f64| if log_y { y.ln() } else { y };
    let from_axis = |v: f64| if log_y { v.exp() } else { v };
    let in_axis: Vec<Vec<(f64, f64)>> = plot
        .curves
        .iter()
        .map(|c| c.iter().map(|&(x, y)| (x, to_axis(y))).collect())
        .collect();
    let (y_bottom, y_top) = plot.y_range;
    let (corner, y_top) = legend_placement(
        &in_axis,
        plot.x_axis.end,
        (to_axis(y_bottom), to_axis(y_top)),
        legend,
    );
    let position = match corner {
        Corner::Left => SeriesLabelPosition::UpperLeft,
        Corner::Right => SeriesLabelPosition::UpperRight,
    };
    Ok((position, from_axis(y_top)))
}

/// The highest value of the polyline `points` over epochs `from..=to`: its points there and
/// where its segments cross either end. `None` when no part of it is there.
fn highest_within(points: &[(f64, f64)], (from, to): (f64, f64)) -> Option<f64> {
    let inside = points
        .iter()
        .filter(|p| (from..=to).contains(&p.0))
        .map(|p| p.1);
    let crossings = points.windows(2).flat_map(|w| {
        [from, to]
            .into_iter()
            .filter(|x| (w[0].0 - x) * (w[1].0 - x) < 0.0)
            .map(|x| w[0].1 + (w[1].1 - w[0].1) * (x - w[0].0) / (w[1].0 - w[0].0))
    });
    inside.chain(crossings).reduce(f64::max)
}

/// Which upper corner of the plot holds a loss chart's legend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Corner {
    /// Upper left: free when the curves start low or late (all points of a one-epoch run lie at
    /// its end).
    Left,
    /// Upper right: free when the curves fall, as losses do.
    Right,
}

/// Where the legend goes and the top of the loss axis that keeps the curves out of it: of the two
/// upper corners, the one needing the lower top (the right one on a tie), with the top raised
/// from `top` only as far as needed to pass the curves below the legend.
///
/// Values are in axis units (the loss, or its logarithm on a log axis) so that the axis is linear
/// in them; `curves` are polylines of `(epoch, value)` on an epoch axis `0..x_end`. `legend` is
/// the corner's size as fractions `(width, height)` of the plot.
fn legend_placement(
    curves: &[Vec<(f64, f64)>],
    x_end: f64,
    (bottom, top): (f64, f64),
    legend: (f64, f64),
) -> (Corner, f64) {
    // A legend over half the plot's height would squash the curves: let it cover them instead.
    let share = legend.1.min(0.5);
    let top_clear_of = |span: (f64, f64)| {
        let highest = curves
            .iter()
            .filter_map(|curve| highest_within(curve, span))
            .reduce(f64::max);
        // The top putting `highest` on the legend's lower edge:
        // top − highest = share · (top − bottom).
        highest.map_or(top, |h| top.max((h - share * bottom) / (1.0 - share)))
    };
    let width = x_end * legend.0;
    let right = top_clear_of((x_end - width, x_end));
    let left = top_clear_of((0.0, width));
    if left < right {
        (Corner::Left, left)
    } else {
        (Corner::Right, right)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legend_takes_a_free_corner_or_the_axis_top_rises() {
        let legend = (0.25, 0.2);
        let place = |curves: &[Vec<(f64, f64)>]| legend_placement(curves, 4.0, (0.0, 10.5), legend);
        // On an epoch axis 0..4 the corners span epochs 0..1 and 3..4, the top 20 %.
        // Falling curves leave the upper right free.
        let falling = vec![(0.5, 10.0), (2.0, 5.0), (3.0, 2.0)];
        assert_eq!(place(&[falling]), (Corner::Right, 10.5));
        // Points at the end only (a one-epoch run, scaled): the upper left is free.
        let late = vec![(3.5, 10.0)];
        assert_eq!(place(&[late]), (Corner::Left, 10.5));
        // High across the whole axis: the top rises until the highest point is 20 % of the axis
        // below it, in the corner that needs less (the right one, here).
        let flat = vec![(0.5, 10.0), (3.5, 8.0), (4.0, 9.0)];
        let (corner, top) = place(&[flat]);
        assert_eq!(corner, Corner::Right);
        assert!((top - 11.25).abs() < 1e-9, "{top}");
        // In log units (negative values), with a bottom other than 0.
        let (_, top) =
            legend_placement(&[vec![(0.5, -1.0), (3.5, -1.0)]], 4.0, (-5.0, -1.0), legend);
        assert!((top - 0.0).abs() < 1e-9, "{top}");
    }

    #[test]
    fn highest_within_counts_segments_crossing_the_span() {
        // A segment entering the span counts where it enters: 8 at epoch 3.
        assert_eq!(
            highest_within(&[(2.0, 6.0), (4.0, 10.0)], (3.0, 5.0)),
            Some(10.0)
        );
        assert_eq!(
            highest_within(&[(2.0, 6.0), (4.0, 10.0)], (1.0, 3.0)),
            Some(8.0)
        );
        // One passing over the whole span counts at both ends.
        assert_eq!(
            highest_within(&[(0.0, 0.0), (4.0, 8.0)], (1.0, 2.0)),
            Some(4.0)
        );
        assert_eq!(highest_within(&[(2.0, 6.0), (2.5, 1.0)], (3.0, 4.0)), None);
    }
}
