//! What a loss chart shows, worked out before anything is drawn: the runs' curves, the axes'
//! ranges, the legend's labels; and the colours every chart here draws with.

use plotters::style::RGBColor;

use super::axis::{EpochAxis, epoch_axis};

/// The logged losses of one training run.
#[derive(Debug, Clone, Default)]
pub struct LossCurves {
    /// Name shown in the legend.
    pub label: String,
    /// Per-batch training loss as `(epoch position, loss)`, e.g. batch 30 of 600 in epoch 2 → 1.05.
    pub batches: Vec<(f64, f64)>,
    /// Mean training loss of each epoch, at `(epoch, loss)`.
    pub train: Vec<(f64, f64)>,
    /// Test loss of each epoch, at `(epoch, loss)`.
    pub test: Vec<(f64, f64)>,
}

/// Tableau 10: ten well-separated colours, for curves and for the digits of a code map.
pub(crate) const TABLEAU_10: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The name of a run's series `what` in the legend: prefixed by the run's label when there are
/// several runs.
pub(super) fn series_name(run: &LossCurves, single: bool, what: &str) -> String {
    if single {
        what.to_string()
    } else {
        format!("{} {what}", run.label)
    }
}

/// The legend's labels, in the order [`draw_plot`] draws the series.
fn legend_labels(runs: &[LossCurves], single: bool) -> Vec<String> {
    let mut labels = Vec::new();
    if single && !runs[0].batches.is_empty() {
        labels.push("train, per batch".to_string());
    }
    for run in runs {
        labels.push(series_name(run, single, "train (epoch mean)"));
        labels.push(series_name(run, single, "test"));
    }
    labels
}

/// What one loss chart shows, worked out before drawing: the runs, every polyline, the axes'
/// ranges and the legend's labels.
pub(super) struct LossPlot<'r> {
    /// The runs, their undrawable points left out.
    pub(super) runs: &'r [LossCurves],
    /// One run only: its per-batch losses are drawn, and its series named without its label.
    pub(super) single: bool,
    /// Logarithmic loss axis.
    pub(super) log_y: bool,
    /// Every polyline drawn, as `(epoch, loss)`.
    pub(super) curves: Vec<&'r [(f64, f64)]>,
    /// The epoch axis, past the last point.
    pub(super) x_axis: EpochAxis,
    /// Bottom and top of the loss axis around the values, before the top rises for the legend.
    pub(super) y_range: (f64, f64),
    /// The legend's labels, in the order the series are drawn.
    pub(super) labels: Vec<String>,
}

impl<'r> LossPlot<'r> {
    /// The plot of `runs` (all points drawable); an error when they have no positive loss.
    pub(super) fn new(runs: &'r [LossCurves], log_y: bool) -> Result<Self, String> {
        let single = runs.len() == 1;
        // Per-batch losses are drawn for a single run only.
        let curves: Vec<&[(f64, f64)]> = runs
            .iter()
            .flat_map(|r| {
                let batches = if single { &r.batches[..] } else { &[][..] };
                [batches, &r.train[..], &r.test[..]]
            })
            .collect();
        let y_range = loss_range(&curves, log_y)?;
        let last = curves
            .iter()
            .flat_map(|c| c.iter())
            .map(|p| p.0)
            .fold(0.0, f64::max);
        Ok(Self {
            runs,
            single,
            log_y,
            x_axis: epoch_axis(last),
            y_range,
            labels: legend_labels(runs, single),
            curves,
        })
    }
}

/// The loss axis's bottom and top around the positive values of `curves`: from 0 with 5 % room
/// above on a linear axis, 10 % room either side on a log one.
fn loss_range(curves: &[&[(f64, f64)]], log_y: bool) -> Result<(f64, f64), String> {
    let ys: Vec<f64> = curves
        .iter()
        .flat_map(|c| c.iter())
        .map(|p| p.1)
        .filter(|y| y.is_finite() && *y > 0.0)
        .collect();
    if ys.is_empty() {
        return Err("no loss values to plot".into());
    }
    let y_min = ys.iter().copied().fold(f64::INFINITY, f64::min);
    let y_max = ys.iter().copied().fold(0.0, f64::max);
    Ok(if log_y {
        (y_min * 0.9, y_max * 1.1)
    } else {
        (0.0, y_max * 1.05)
    })
}
