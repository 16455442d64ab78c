//! Loss curves drawn with plotters on a bitmap, with an embedded font (no system fonts needed).

use std::sync::Once;

use image::RgbImage;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn ensure_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        if register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            panic!("the embedded DejaVu Sans font does not load");
        }
    });
}

/// A white `width × height` image that `draw` paints with plotters (the embedded font registered).
pub(crate) fn render(
    (width, height): (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<RgbImage, String> {
    ensure_font();
    let mut buffer = vec![255u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (width, height)).into_drawing_area();
        draw(&root)?;
        root.present().map_err(|e| e.to_string())?;
    }
    RgbImage::from_raw(width, height, buffer)
        .ok_or_else(|| "bitmap buffer has the wrong size".into())
}

/// Font size of legend labels.
const LEGEND_FONT_SIZE: u32 = 14;
/// Padding inside the legend's frame, in pixels.
const LEGEND_MARGIN: i32 = 10;
/// Width of the legend's column of line samples, left of the labels, in pixels.
const LEGEND_SAMPLE_AREA: i32 = 30;
/// Length of a legend's line sample in pixels: three dashes and two gaps of a test line.
const LEGEND_SAMPLE: i32 = 26;
/// Distance plotters leaves between a legend in a corner and the plot's edges, in pixels.
const LEGEND_INSET: i32 = 5;
/// Least distance between the legend and a curve's line or point, markers included, in pixels.
const LEGEND_CLEARANCE: i32 = 8;
/// Dash and gap lengths of the test-loss lines and of their legend samples, in pixels.
const DASH: (u32, u32) = (6, 4);

/// The legend of every chart here: upper right, on translucent white, framed.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> Result<(), String> {
    draw_legend_at(chart, SeriesLabelPosition::UpperRight)
}

/// [`draw_legend`] at `position` in the plot.
fn draw_legend_at<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
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
fn legend_size(labels: &[String]) -> Result<(i32, i32), String> {
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

/// Options of a loss chart.
#[derive(Debug, Clone)]
pub struct ChartOptions {
    /// Title above the plot.
    pub title: String,
    /// Logarithmic loss axis.
    pub log_y: bool,
    /// Size in pixels.
    pub size: (u32, u32),
}

impl Default for ChartOptions {
    fn default() -> Self {
        Self {
            title: "MSE loss".into(),
            log_y: false,
            size: (900, 560),
        }
    }
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

/// Curves take the first eight colours of [`TABLEAU_10`], then repeat them.
const CURVE_COLORS: usize = 8;

/// A tick label: at most four decimals without trailing zeros (`0.3`, not `0.30000000000000004`),
/// scientific below 0.001.
fn tick(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    if value.abs() < 1e-3 {
        return format!("{value:.0e}");
    }
    let text = format!("{value:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The epoch axis of a chart: its range `0..end` and where its labelled and light grid lines go.
#[derive(Debug, Clone, PartialEq)]
struct EpochAxis {
    /// Right end of the axis: a little after the last epoch, so its points are off the frame.
    end: f64,
    /// Labelled ticks: whole epochs from 0, every 1, 2, 5, 10, 20, … epochs (at most 10 steps).
    ticks: Vec<f64>,
    /// Light grid lines between the ticks, at whole epochs too (none when ticks are every epoch).
    light: Vec<f64>,
}

/// The epoch axis for curves whose last point is at epoch position `last` (at least one epoch):
/// whole-epoch ticks only, as a run's epochs are whole; fractions would be labels of no epoch.
fn epoch_axis(last: f64) -> EpochAxis {
    let epochs = if last.is_finite() {
        last.ceil().max(1.0)
    } else {
        1.0
    };
    // Steps 1, 2, 5, 10, 20, 50, …: the first giving at most 10 intervals.
    let mut step = 1.0;
    for factor in [2.0, 2.5, 2.0].into_iter().cycle() {
        if epochs / step <= 10.0 {
            break;
        }
        step *= factor;
    }
    let every = |step: f64| (0..=(epochs / step) as usize).map(move |i| i as f64 * step);
    let light_step = (step / 5.0).max(1.0);
    EpochAxis {
        end: epochs + (epochs * 0.04).max(0.15),
        ticks: every(step).collect(),
        light: if step > 1.0 {
            every(light_step).collect()
        } else {
            Vec::new()
        },
    }
}

/// The axis as plotters draws it: linear over `0..end`, bold grid lines and labels at `ticks`,
/// light ones at `light`. (plotters' own custom key points, `with_key_points`, cannot be used on
/// an `f64` axis with a mesh: it loses the axis's value formatter.)
impl Ranged for EpochAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        RangedCoordf64::from(0.0..self.end).map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        0.0..self.end
    }
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

/// `runs` without the points that cannot be drawn (not finite; not positive on a log axis),
/// and how many were left out.
fn drawable(runs: &[LossCurves], log_y: bool) -> (Vec<LossCurves>, usize) {
    let mut dropped = 0;
    let mut keep = |points: &[(f64, f64)]| -> Vec<(f64, f64)> {
        let kept: Vec<(f64, f64)> = points
            .iter()
            .copied()
            .filter(|p| p.1.is_finite() && (!log_y || p.1 > 0.0))
            .collect();
        dropped += points.len() - kept.len();
        kept
    };
    let runs = runs
        .iter()
        .map(|r| LossCurves {
            label: r.label.clone(),
            batches: keep(&r.batches),
            train: keep(&r.train),
            test: keep(&r.test),
        })
        .collect();
    (runs, dropped)
}

/// Draws the runs' curves on one chart: per-batch training loss (light, single run only), the
/// per-epoch training mean (solid) and the per-epoch test loss (dashed). Values that cannot be
/// drawn (NaN, infinite) are left out and counted in the title. The epoch axis has whole-epoch
/// ticks, and the legend takes the upper corner that is free of curves, or the loss
/// axis reaches high enough to make it so.
pub fn loss_chart(runs: &[LossCurves], options: &ChartOptions) -> Result<RgbImage, String> {
    let (runs, dropped) = drawable(runs, options.log_y);
    let runs = &runs[..];
    let title = match dropped {
        0 => options.title.clone(),
        n => format!("{} ({n} non-finite values not drawn)", options.title),
    };
    let single = runs.len() == 1;
    // Every polyline drawn, as (epoch, loss): per-batch losses are drawn for a single run only.
    let curves: Vec<&[(f64, f64)]> = runs
        .iter()
        .flat_map(|r| {
            let batches = if single { &r.batches[..] } else { &[][..] };
            [batches, &r.train[..], &r.test[..]]
        })
        .collect();
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
    let x_axis = epoch_axis(
        curves
            .iter()
            .flat_map(|c| c.iter())
            .map(|p| p.0)
            .fold(0.0, f64::max),
    );
    let name = |run: &LossCurves, what: &str| {
        if single {
            what.to_string()
        } else {
            format!("{} {what}", run.label)
        }
    };
    // The legend's labels, in the order the series are drawn below.
    let mut labels = Vec::new();
    if single && !runs[0].batches.is_empty() {
        labels.push("train, per batch".to_string());
    }
    for run in runs {
        labels.push(name(run, "train (epoch mean)"));
        labels.push(name(run, "test"));
    }
    // Loss to axis units and back: the axis is linear in the loss, or in its logarithm.
    let to_axis = |y: f64| if options.log_y { y.ln() } else { y };
    let from_axis = |v: f64| if options.log_y { v.exp() } else { v };
    let (y_bottom, y_top) = if options.log_y {
        (y_min * 0.9, y_max * 1.1)
    } else {
        (0.0, y_max * 1.05)
    };
    render(options.size, |root| {
        let area = root
            .margin(12, 12, 12, 12)
            .titled(&title, ("sans-serif", 22))
            .map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&area);
        chart.x_label_area_size(40).y_label_area_size(70);
        // The plot's size does not depend on the axes' ranges: measure it with placeholder ones.
        let (plot_w, plot_h) = chart
            .build_cartesian_2d(0f64..1.0, 0f64..1.0)
            .map_err(|e| e.to_string())?
            .plotting_area()
            .dim_in_pixel();
        let (legend_w, legend_h) = legend_size(&labels)?;
        // The legend's corner: its box, the inset plotters leaves, and a gap to the curves.
        let clearance = LEGEND_INSET + LEGEND_CLEARANCE;
        let legend = (
            f64::from(legend_w + clearance) / f64::from(plot_w.max(1)),
            f64::from(legend_h + clearance) / f64::from(plot_h.max(1)),
        );
        let in_axis: Vec<Vec<(f64, f64)>> = curves
            .iter()
            .map(|c| c.iter().map(|&(x, y)| (x, to_axis(y))).collect())
            .collect();
        let (corner, y_top) = legend_placement(
            &in_axis,
            x_axis.end,
            (to_axis(y_bottom), to_axis(y_top)),
            legend,
        );
        let y_top = from_axis(y_top);
        let legend_position = match corner {
            Corner::Left => SeriesLabelPosition::UpperLeft,
            Corner::Right => SeriesLabelPosition::UpperRight,
        };
        macro_rules! draw {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_desc("epoch")
                    .y_desc(if options.log_y {
                        "MSE (log scale)"
                    } else {
                        "MSE"
                    })
                    .x_label_formatter(&|x| tick(*x))
                    .y_label_formatter(&|y| tick(*y))
                    .label_style(("sans-serif", 14))
                    .axis_desc_style(("sans-serif", 16))
                    .light_line_style(RGBColor(235, 235, 235))
                    .draw()
                    .map_err(|e| e.to_string())?;
                for (i, run) in runs.iter().enumerate() {
                    let color = TABLEAU_10[i % CURVE_COLORS];
                    if single && !run.batches.is_empty() {
                        chart
                            .draw_series(LineSeries::new(
                                run.batches.iter().copied(),
                                color.mix(0.25),
                            ))
                            .map_err(|e| e.to_string())?
                            .label("train, per batch")
                            .legend(move |(x, y)| {
                                PathElement::new([(x, y), (x + LEGEND_SAMPLE, y)], color.mix(0.25))
                            });
                    }
                    chart
                        .draw_series(LineSeries::new(
                            run.train.iter().copied(),
                            color.stroke_width(2),
                        ))
                        .map_err(|e| e.to_string())?
                        .label(name(run, "train (epoch mean)"))
                        .legend(move |(x, y)| {
                            PathElement::new(
                                [(x, y), (x + LEGEND_SAMPLE, y)],
                                color.stroke_width(2),
                            )
                        });
                    chart
                        .draw_series(run.train.iter().map(|&p| Circle::new(p, 3, color.filled())))
                        .map_err(|e| e.to_string())?;
                    let test_color = if single { TABLEAU_10[1] } else { color };
                    chart
                        .draw_series(DashedLineSeries::new(
                            run.test.iter().copied(),
                            DASH.0,
                            DASH.1,
                            test_color.stroke_width(2),
                        ))
                        .map_err(|e| e.to_string())?
                        .label(name(run, "test"))
                        // Dashed like the line it stands for.
                        .legend(move |(x, y)| {
                            DashedPathElement::new(
                                [(x, y), (x + LEGEND_SAMPLE, y)],
                                DASH.0,
                                DASH.1,
                                test_color.stroke_width(2),
                            )
                        });
                    chart
                        .draw_series(
                            run.test
                                .iter()
                                .map(|&p| TriangleMarker::new(p, 4, test_color.filled())),
                        )
                        .map_err(|e| e.to_string())?;
                }
                draw_legend_at(&mut chart, legend_position.clone())?;
            }};
        }
        if options.log_y {
            draw!(
                chart
                    .build_cartesian_2d(x_axis.clone(), (y_bottom..y_top).log_scale())
                    .map_err(|e| e.to_string())?
            );
        } else {
            draw!(
                chart
                    .build_cartesian_2d(x_axis.clone(), y_bottom..y_top)
                    .map_err(|e| e.to_string())?
            );
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(label: &str, scale: f64) -> LossCurves {
        LossCurves {
            label: label.into(),
            batches: (0..100)
                .map(|i| {
                    (
                        i as f64 / 50.0,
                        scale * (0.1 + 0.02 * ((i * 7 % 5) as f64)) / (1.0 + i as f64 / 20.0),
                    )
                })
                .collect(),
            train: vec![(1.0, scale * 0.06), (2.0, scale * 0.04)],
            test: vec![(1.0, scale * 0.05), (2.0, scale * 0.035)],
        }
    }

    #[test]
    fn draws_a_non_blank_chart_with_text() {
        for log_y in [false, true] {
            let img = loss_chart(
                &[run("case1", 1.0)],
                &ChartOptions {
                    log_y,
                    ..Default::default()
                },
            )
            .unwrap();
            assert_eq!(img.dimensions(), (900, 560));
            let non_white = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
            assert!(non_white > 5_000, "only {non_white} drawn pixels");
            // The light per-batch curve and the test colour are both present.
            assert!(img.pixels().any(|p| p.0 == [255, 127, 14]));
        }
    }

    #[test]
    fn overlays_several_runs() {
        let img = loss_chart(
            &[run("a", 1.0), run("b", 0.5), run("c", 0.2)],
            &ChartOptions::default(),
        )
        .unwrap();
        for color in [TABLEAU_10[0], TABLEAU_10[1], TABLEAU_10[2]] {
            assert!(
                img.pixels().any(|p| p.0 == [color.0, color.1, color.2]),
                "{color:?} missing"
            );
        }
    }

    #[test]
    fn ticks_are_short_and_exact() {
        assert_eq!(tick(0.30000000000000004), "0.3");
        assert_eq!(tick(0.05), "0.05");
        assert_eq!(tick(1.0), "1");
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(0.0002), "2e-4");
    }

    #[test]
    fn non_finite_values_are_left_out_and_counted() {
        let mut diverged = run("case1", 1.0);
        diverged.train.push((3.0, f64::INFINITY));
        diverged.test.push((3.0, f64::NAN));
        let (runs, dropped) = drawable(&[diverged.clone()], false);
        assert_eq!(dropped, 2);
        assert_eq!(runs[0].train.len(), 2);
        // Still drawable, with a finite axis.
        loss_chart(&[diverged], &ChartOptions::default()).unwrap();
    }

    #[test]
    fn epoch_axis_has_whole_epoch_ticks_and_room_after_the_last() {
        for (last, ticks) in [
            (1.0, vec![0.0, 1.0]),
            (0.3, vec![0.0, 1.0]),
            (f64::NAN, vec![0.0, 1.0]),
            (3.0, vec![0.0, 1.0, 2.0, 3.0]),
            (2.02, vec![0.0, 1.0, 2.0, 3.0]),
        ] {
            let axis = epoch_axis(last);
            assert_eq!(axis.ticks, ticks, "last {last}");
            assert!(axis.light.is_empty(), "last {last}");
            let epochs = ticks[ticks.len() - 1];
            assert!(axis.end > epochs && axis.end < epochs * 1.2, "{axis:?}");
        }
        let axis = epoch_axis(20.0);
        assert_eq!(
            axis.ticks,
            (0..=10).map(|i| f64::from(i * 2)).collect::<Vec<_>>()
        );
        assert_eq!(axis.light, (0..=20).map(f64::from).collect::<Vec<_>>());
        assert!(axis.end > 20.0 && axis.end <= 21.0, "{axis:?}");
        // At most 10 steps of 1, 2, 5, 10, 20, 50, …, every tick a whole epoch.
        for (last, step) in [
            (10.0, 1.0),
            (11.0, 2.0),
            (37.0, 5.0),
            (100.0, 10.0),
            (1000.0, 100.0),
        ] {
            let axis = epoch_axis(last);
            assert_eq!(axis.ticks[1], step, "last {last}");
            assert!(axis.ticks.len() <= 11 && axis.ticks.iter().all(|t| t.fract() == 0.0));
            assert!(axis.ticks[axis.ticks.len() - 1] <= last && axis.end > last);
        }
    }

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

    /// Number of separate runs of pixels of exactly `color` in row `y`, columns `xs`.
    fn runs_in_row(img: &RgbImage, y: u32, xs: std::ops::Range<u32>, color: RGBColor) -> usize {
        let is = |x: u32| img.get_pixel(x, y).0 == [color.0, color.1, color.2];
        xs.clone()
            .filter(|&x| is(x) && (x == xs.start || !is(x - 1)))
            .count()
    }

    /// The row of `ys` with the most pixels of exactly `color` in columns `xs`.
    fn fullest_row(
        img: &RgbImage,
        ys: std::ops::Range<u32>,
        xs: std::ops::Range<u32>,
        color: RGBColor,
    ) -> u32 {
        let count = |y: u32| {
            xs.clone()
                .filter(|&x| img.get_pixel(x, y).0 == [color.0, color.1, color.2])
                .count()
        };
        ys.max_by_key(|&y| count(y)).unwrap()
    }

    /// The legend's frame in a chart: `(left, top, right, bottom)` of the long black horizontal
    /// runs in the image's upper half (its top and bottom edges; the axes are not there).
    fn legend_frame(img: &RgbImage) -> (u32, u32, u32, u32) {
        let (w, h) = img.dimensions();
        let black = |x: u32, y: u32| img.get_pixel(x, y).0 == [0, 0, 0];
        let (left, top) = (0..h / 2)
            .flat_map(|y| (0..w - 100).map(move |x| (x, y)))
            .find(|&(x0, y)| (x0..x0 + 100).all(|x| black(x, y)))
            .expect("no legend frame");
        let right = (left..w).take_while(|&x| black(x, top)).last().unwrap();
        let bottom = (top + 1..h).find(|&y| black(left + 50, y)).unwrap();
        (left, top, right, bottom)
    }

    #[test]
    fn test_lines_and_their_legend_samples_are_dashed() {
        // Flat lines: the train mean high, the test loss low, epochs 1 to 3.
        let curves = LossCurves {
            label: "case1".into(),
            batches: Vec::new(),
            train: vec![(1.0, 0.8), (3.0, 0.8)],
            test: vec![(1.0, 0.3), (3.0, 0.3)],
        };
        let img = loss_chart(&[curves], &ChartOptions::default()).unwrap();
        let (train, test) = (TABLEAU_10[0], TABLEAU_10[1]);
        let (left, top, right, bottom) = legend_frame(&img);
        // Its size is the one the axis was fitted to.
        let labels = ["train (epoch mean)".to_string(), "test".to_string()];
        assert_eq!(
            legend_size(&labels).unwrap(),
            ((right - left) as i32, (bottom - top) as i32)
        );
        // In the plot: the test line in dashes (many runs), the train line in one stroke.
        let (w, h) = img.dimensions();
        let y = fullest_row(&img, 0..h, 0..w, test);
        assert!(runs_in_row(&img, y, 0..w, test) >= 20, "row {y}");
        let y = fullest_row(&img, 0..h, 0..w, train);
        assert_eq!(runs_in_row(&img, y, 0..w, train), 1, "row {y}");
        // In the legend: the test sample is three dashes, the train sample one stroke.
        let y = fullest_row(&img, top..bottom, left..right, test);
        assert_eq!(runs_in_row(&img, y, left..right, test), 3, "row {y}");
        let y = fullest_row(&img, top..bottom, left..right, train);
        assert_eq!(runs_in_row(&img, y, left..right, train), 1, "row {y}");
    }

    #[test]
    fn one_epoch_points_are_not_under_the_legend() {
        // Three runs of one epoch: every point at epoch 1, the highest at the top of the range.
        let runs: Vec<LossCurves> = (0..3)
            .map(|k| LossCurves {
                label: format!("case{k}"),
                batches: Vec::new(),
                train: vec![(1.0, 0.06 + 0.02 * f64::from(k))],
                test: vec![(1.0, 0.05 + 0.02 * f64::from(k))],
            })
            .collect();
        // And one run with its per-batch losses, falling from the upper left.
        let mut single = run("case1", 1.0);
        single.batches.retain(|p| p.0 <= 1.0);
        single.train.truncate(1);
        single.test.truncate(1);
        for (runs, colors) in [(&runs[..], 3), (&[single][..], 2)] {
            for log_y in [false, true] {
                let options = ChartOptions {
                    log_y,
                    ..Default::default()
                };
                let img = loss_chart(runs, &options).unwrap();
                let (left, top, right, bottom) = legend_frame(&img);
                let near_legend = |x: u32, y: u32| {
                    x + 3 >= left && x <= right + 3 && y + 3 >= top && y <= bottom + 3
                };
                for color in &TABLEAU_10[..colors] {
                    let marker = marker_pixels(&img, *color);
                    assert!(!marker.is_empty(), "{color:?} log {log_y}: no marker shows");
                    assert!(
                        marker.iter().all(|&(x, y)| !near_legend(x, y)),
                        "{color:?} log {log_y}: a marker by the legend"
                    );
                    // With several runs each colour has two markers, a circle above a triangle.
                    let ys = || marker.iter().map(|p| p.1);
                    if colors == 3 {
                        let spread = ys().max().unwrap() - ys().min().unwrap();
                        assert!(spread > 10, "{color:?} log {log_y}: one marker of two");
                    }
                }
            }
        }
    }

    /// The pixels of markers of exactly `color`: those with that colour 3 rows above and below
    /// too (a marker is at least 7 pixels tall, a line or legend sample 2).
    fn marker_pixels(img: &RgbImage, color: RGBColor) -> Vec<(u32, u32)> {
        let is = |x: u32, y: u32| img.get_pixel(x, y).0 == [color.0, color.1, color.2];
        (3..img.height() - 3)
            .flat_map(|y| (0..img.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| (y - 3..=y + 3).all(|y| is(x, y)))
            .collect()
    }

    #[test]
    fn empty_runs_are_an_error() {
        assert!(loss_chart(&[LossCurves::default()], &ChartOptions::default()).is_err());
    }
}

/// `image` below a white band holding one line of `text`, widened if the text needs it.
pub fn with_caption(image: &RgbImage, text: &str) -> Result<RgbImage, String> {
    let band = 26u32;
    let width = image.width().max(text.chars().count() as u32 * 8 + 12);
    let height = image.height() + band;
    let mut out = render((width, height), |root| {
        root.draw(&Text::new(
            text.to_string(),
            (6, 5),
            ("sans-serif", 15).into_font().color(&BLACK),
        ))
        .map_err(|e| e.to_string())
    })?;
    image::imageops::replace(&mut out, image, 0, i64::from(band));
    Ok(out)
}
