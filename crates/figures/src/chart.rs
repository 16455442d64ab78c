//! Loss curves drawn with plotters on a bitmap, with an embedded font (no system fonts needed).

use std::sync::Once;

use image::RgbImage;
use plotters::coord::Shift;
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

/// The legend of every chart here: upper right, on translucent white, framed.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| e.to_string())
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
/// drawn (NaN, infinite) are left out and counted in the title.
pub fn loss_chart(runs: &[LossCurves], options: &ChartOptions) -> Result<RgbImage, String> {
    let (runs, dropped) = drawable(runs, options.log_y);
    let runs = &runs[..];
    let title = match dropped {
        0 => options.title.clone(),
        n => format!("{} ({n} non-finite values not drawn)", options.title),
    };
    render(options.size, |root| {
        let single = runs.len() == 1;
        let points = || {
            runs.iter().flat_map(|r| {
                let batches = if single { &r.batches[..] } else { &[][..] };
                batches.iter().chain(&r.train).chain(&r.test)
            })
        };
        let x_max = points().map(|p| p.0).fold(1.0f64, f64::max).ceil();
        let ys: Vec<f64> = points()
            .map(|p| p.1)
            .filter(|y| y.is_finite() && *y > 0.0)
            .collect();
        if ys.is_empty() {
            return Err("no loss values to plot".into());
        }
        let y_min = ys.iter().copied().fold(f64::INFINITY, f64::min);
        let y_max = ys.iter().copied().fold(0.0, f64::max);
        let mut chart = ChartBuilder::on(root);
        chart
            .caption(&title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70);
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
                    .y_label_formatter(&|y| tick(*y))
                    .label_style(("sans-serif", 14))
                    .axis_desc_style(("sans-serif", 16))
                    .light_line_style(RGBColor(235, 235, 235))
                    .draw()
                    .map_err(|e| e.to_string())?;
                for (i, run) in runs.iter().enumerate() {
                    let color = TABLEAU_10[i % CURVE_COLORS];
                    let name = |what: &str| {
                        if single {
                            what.to_string()
                        } else {
                            format!("{} {what}", run.label)
                        }
                    };
                    if single && !run.batches.is_empty() {
                        chart
                            .draw_series(LineSeries::new(
                                run.batches.iter().copied(),
                                color.mix(0.25),
                            ))
                            .map_err(|e| e.to_string())?
                            .label("train, per batch")
                            .legend(move |(x, y)| {
                                PathElement::new([(x, y), (x + 20, y)], color.mix(0.25))
                            });
                    }
                    chart
                        .draw_series(LineSeries::new(
                            run.train.iter().copied(),
                            color.stroke_width(2),
                        ))
                        .map_err(|e| e.to_string())?
                        .label(name("train (epoch mean)"))
                        .legend(move |(x, y)| {
                            PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                        });
                    chart
                        .draw_series(run.train.iter().map(|&p| Circle::new(p, 3, color.filled())))
                        .map_err(|e| e.to_string())?;
                    let test_color = if single { TABLEAU_10[1] } else { color };
                    chart
                        .draw_series(DashedLineSeries::new(
                            run.test.iter().copied(),
                            6,
                            4,
                            test_color.stroke_width(2),
                        ))
                        .map_err(|e| e.to_string())?
                        .label(name("test"))
                        .legend(move |(x, y)| {
                            PathElement::new([(x, y), (x + 20, y)], test_color.stroke_width(2))
                        });
                    chart
                        .draw_series(
                            run.test
                                .iter()
                                .map(|&p| TriangleMarker::new(p, 4, test_color.filled())),
                        )
                        .map_err(|e| e.to_string())?;
                }
                draw_legend(&mut chart)?;
            }};
        }
        if options.log_y {
            draw!(
                chart
                    .build_cartesian_2d(0f64..x_max, (y_min * 0.9..y_max * 1.1).log_scale())
                    .map_err(|e| e.to_string())?
            );
        } else {
            draw!(
                chart
                    .build_cartesian_2d(0f64..x_max, 0f64..y_max * 1.05)
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
