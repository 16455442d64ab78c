//! An axis's figures: one PNG per measurement, the points' means with their seeds' spread, PCA-n
//! beside the test MSE, the lines a measurement is read against, and the study case marked.

use std::path::Path;

use figures::image::DynamicImage;
use figures::{Curve, CurveChart, CurvePoint, curve_chart};

use crate::drawing::write_png;
use crate::study_error::{Error, Result};
use trainer::files::file_error;
use trainer::wording::count;

use super::sweep_data::{AxisReport, Measure};

/// Draws every figure of `axis` into `dir/<axis id>/`; returns their paths relative to `dir`.
pub(super) fn draw_axis(axis: &AxisReport, dir: &Path) -> Result<Vec<String>> {
    let folder = dir.join(&axis.id);
    std::fs::create_dir_all(&folder).map_err(|e| file_error(&folder, e))?;
    let mut files = Vec::new();
    for measure in Measure::ALL {
        let chart = chart_of(axis, measure);
        let image = curve_chart(&chart).map_err(Error::Figure)?;
        let name = format!("{}/{}.png", axis.id, measure.file_stem());
        write_png(&dir.join(&name), &DynamicImage::ImageRgb8(image))?;
        files.push(name);
    }
    Ok(files)
}

/// The chart of `measure` along `axis`.
fn chart_of(axis: &AxisReport, measure: Measure) -> CurveChart {
    let point = |x: f64, (mean, spread): (f64, f64)| CurvePoint { x, mean, spread };
    let mut curves = vec![Curve {
        label: "autoencoder".into(),
        points: axis
            .points
            .iter()
            .map(|p| point(p.position, p.mean_and_spread(measure)))
            .collect(),
        dashed: false,
    }];
    if measure == Measure::TestMse {
        curves.push(Curve {
            label: "PCA, as many components as hidden units".into(),
            points: axis
                .points
                .iter()
                .map(|p| point(p.position, (p.pca_mse(), 0.0)))
                .collect(),
            dashed: true,
        });
    }
    let base = axis.points.iter().find(|p| p.is_base);
    let seeds = match axis.seeds {
        1 => String::new(),
        n => format!(", mean ± sd of {n} seeds"),
    };
    CurveChart {
        title: format!(
            "{} — {} around case {}",
            measure.title(),
            axis.axis.quantity(),
            axis.base
        ),
        x_label: format!(
            "{} ({}, {} images{seeds})",
            axis.axis.quantity(),
            count(axis.epochs, "epoch"),
            axis.train_images
        ),
        y_label: measure.title().into(),
        ticks: axis
            .points
            .iter()
            .map(|p| (p.position, p.label.clone()))
            .collect(),
        curves,
        references: measure.references(axis),
        y_includes: match measure.is_share() {
            true => vec![0.0, 1.0],
            false => Vec::new(),
        },
        mark: base.map(|p| (p.position, format!("case {}", axis.base))),
        size: (720, 420),
    }
}
