//! Loss curves drawn with plotters on a bitmap, with an embedded font (no system fonts needed).
//!
//! [`loss_chart`] works out what to show ([`LossPlot`]), then fits the legend ([`legend`]) and
//! draws the plot ([`series`]) on the epoch axis ([`axis`]).

mod axis;
mod legend;
mod loss_plot;
mod series;

use std::sync::Once;

use image::RgbImage;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

pub(crate) use legend::{LEGEND_SAMPLE, draw_legend, draw_legend_at};
pub use loss_plot::LossCurves;
use loss_plot::LossPlot;
pub(crate) use loss_plot::TABLEAU_10;
pub(crate) use series::{CURVE_COLORS, DASH};

/// DejaVu Sans, embedded so charts render the same without system fonts.
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Registers [`FONT`] as plotters' "sans-serif" once per process.
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

/// Size in pixels of the plotting area `chart` will have; it does not depend on the axes'
/// ranges, so placeholder ones measure it.
fn plot_size(chart: &mut ChartBuilder<'_, '_, BitMapBackend<'_>>) -> Result<(u32, u32), String> {
    Ok(chart
        .build_cartesian_2d(0f64..1.0, 0f64..1.0)
        .map_err(|e| e.to_string())?
        .plotting_area()
        .dim_in_pixel())
}

/// Draws the runs' curves on one chart: per-batch training loss (light, single run only), the
/// per-epoch training mean (solid) and the per-epoch test loss (dashed). Values that cannot be
/// drawn (NaN, infinite) are left out and counted in the title. The epoch axis has whole-epoch
/// ticks, and the legend takes the upper corner that is free of curves, or the loss
/// axis reaches high enough to make it so.
pub fn loss_chart(runs: &[LossCurves], options: &ChartOptions) -> Result<RgbImage, String> {
    let (runs, dropped) = drawable(runs, options.log_y);
    let title = match dropped {
        0 => options.title.clone(),
        n => format!("{} ({n} non-finite values not drawn)", options.title),
    };
    let plot = LossPlot::new(&runs, options.log_y)?;
    render(options.size, |root| {
        let area = root
            .margin(12, 12, 12, 12)
            .titled(&title, ("sans-serif", 22))
            .map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&area);
        chart.x_label_area_size(40).y_label_area_size(70);
        let (legend, y_top) = legend::fit_legend(&plot, plot_size(&mut chart)?)?;
        let (x_axis, y_bottom) = (plot.x_axis.clone(), plot.y_range.0);
        // The two loss axes are different types: each gets its own chart.
        if options.log_y {
            let y_axis = (y_bottom..y_top).log_scale();
            let mut chart = chart
                .build_cartesian_2d(x_axis, y_axis)
                .map_err(|e| e.to_string())?;
            series::draw_plot(&mut chart, &plot, legend)
        } else {
            let mut chart = chart
                .build_cartesian_2d(x_axis, y_bottom..y_top)
                .map_err(|e| e.to_string())?;
            series::draw_plot(&mut chart, &plot, legend)
        }
    })
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

#[cfg(test)]
mod tests {
    use super::legend::legend_size;
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
