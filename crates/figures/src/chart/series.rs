//! Drawing a loss chart's plot: the mesh, each run's curves and markers, and their legend.

use plotters::coord::ranged1d::ValueFormatter;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::axis::{EpochAxis, tick};
use super::legend::{LEGEND_SAMPLE, draw_legend_at};
use super::loss_plot::{LossPlot, TABLEAU_10, series_name};

/// Curves take the first eight colours of [`TABLEAU_10`], then repeat them.
pub(crate) const CURVE_COLORS: usize = 8;
/// Dash and gap lengths of the test-loss lines and of their legend samples, in pixels.
pub(crate) const DASH: (u32, u32) = (6, 4);

/// A loss chart's plot, on the epoch axis and a linear or logarithmic loss axis `Y`.
type LossChart<'a, DB, Y> = ChartContext<'a, DB, Cartesian2d<EpochAxis, Y>>;

/// Draws `plot` on `chart`: the mesh, then each run's curves, then the legend at `legend`.
pub(super) fn draw_plot<'a, DB, Y>(
    chart: &mut LossChart<'a, DB, Y>,
    plot: &LossPlot<'_>,
    legend: SeriesLabelPosition,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    draw_mesh(chart, plot.log_y)?;
    let single = plot.single;
    for (i, run) in plot.runs.iter().enumerate() {
        let color = TABLEAU_10[i % CURVE_COLORS];
        // Per-batch losses only for a single run: several would hide each other.
        if single && !run.batches.is_empty() {
            draw_batches(chart, &run.batches, color)?;
        }
        let train = series_name(run, single, "train (epoch mean)");
        draw_train(chart, &run.train, color, train)?;
        // A single run's test loss takes the second colour, to stand apart from its training.
        let test_color = if single { TABLEAU_10[1] } else { color };
        draw_test(
            chart,
            &run.test,
            test_color,
            series_name(run, single, "test"),
        )?;
    }
    draw_legend_at(chart, legend)
}

/// The grid, axes, tick labels and axis names.
fn draw_mesh<'a, DB, Y>(chart: &mut LossChart<'a, DB, Y>, log_y: bool) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(if log_y { "MSE (log scale)" } else { "MSE" })
        .x_label_formatter(&|x| tick(*x))
        .y_label_formatter(&|y| tick(*y))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(|e| e.to_string())
}

/// The per-batch training loss: a thin, light line.
fn draw_batches<'a, DB, Y>(
    chart: &mut LossChart<'a, DB, Y>,
    batches: &[(f64, f64)],
    color: RGBColor,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .draw_series(LineSeries::new(batches.iter().copied(), color.mix(0.25)))
        .map_err(|e| e.to_string())?
        .label("train, per batch")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + LEGEND_SAMPLE, y)], color.mix(0.25)));
    Ok(())
}

/// The per-epoch training mean: a solid line with a circle at each epoch.
fn draw_train<'a, DB, Y>(
    chart: &mut LossChart<'a, DB, Y>,
    train: &[(f64, f64)],
    color: RGBColor,
    label: String,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .draw_series(LineSeries::new(
            train.iter().copied(),
            color.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?
        .label(label)
        .legend(move |(x, y)| {
            PathElement::new([(x, y), (x + LEGEND_SAMPLE, y)], color.stroke_width(2))
        });
    chart
        .draw_series(train.iter().map(|&p| Circle::new(p, 3, color.filled())))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// The per-epoch test loss: a dashed line with a triangle at each epoch.
fn draw_test<'a, DB, Y>(
    chart: &mut LossChart<'a, DB, Y>,
    test: &[(f64, f64)],
    color: RGBColor,
    label: String,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let style = color.stroke_width(2);
    chart
        .draw_series(DashedLineSeries::new(
            test.iter().copied(),
            DASH.0,
            DASH.1,
            style,
        ))
        .map_err(|e| e.to_string())?
        .label(label)
        // Dashed like the line it stands for.
        .legend(move |(x, y)| {
            DashedPathElement::new([(x, y), (x + LEGEND_SAMPLE, y)], DASH.0, DASH.1, style)
        });
    chart
        .draw_series(
            test.iter()
                .map(|&p| TriangleMarker::new(p, 4, color.filled())),
        )
        .map_err(|e| e.to_string())?;
    Ok(())
}
