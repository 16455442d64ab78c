//! The study's figures for a trained run, written as PNG files into `<run>/figures/`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use figures::image::{DynamicImage, GrayImage, RgbImage, imageops};
use figures::{
    ChartOptions, LossCurves, TileGrid, TileScale, digit_scatter, loss_chart, with_caption,
};

use crate::codes::{CodeMap, CodeMapSummary};

use crate::artifacts::write_atomic;
use crate::inference::{
    ModelChoice, TrainedRun, decoder_filters, encoder_filters, logged_losses, pairs, sample_indices,
};
use crate::training::datasets;

/// Images per row in reconstructions and noised samples.
pub const IMAGES_PER_ROW: usize = 10;
/// Most test images in reconstructions.png (a grid about 2 900 pixels tall at zoom 1).
pub const MAX_SAMPLES: usize = 1000;
/// Largest pixel zoom of the image grids.
pub const MAX_ZOOM: u32 = 8;
/// Largest figure, in pixels: 64 megapixels (a 64 MB grey image before compression).
pub const MAX_PIXELS: u64 = 64 << 20;
/// Weight tiles per row, as in the study.
pub const FILTERS_PER_ROW: usize = 15;

/// Choices for the figures.
#[derive(Debug, Clone)]
pub struct FigureOptions {
    /// Directory of the MNIST files.
    pub data_dir: PathBuf,
    /// Where the PNG files go.
    pub out_dir: PathBuf,
    /// Which model the figures show, for their titles: `case7 (20 epochs)`, `case7 at epoch 2
    /// of 3`.
    pub label: String,
    /// Added to every file name before `.png` (`-epoch-2` for a checkpoint; empty for the final
    /// model), so that a checkpoint's figures never carry the final figures' names.
    pub suffix: String,
    /// Test images in reconstructions.png (at least 50 in the study).
    pub samples: usize,
    /// Scale each reconstruction tile to its own min–max (the study's look) instead of 0–1.
    pub per_tile_scale: bool,
    /// Draw weights on one scale symmetric about 0 instead of per tile.
    pub symmetric_weights: bool,
    /// Logarithmic loss axis.
    pub log_y: bool,
    /// Pixel zoom of the image grids (nearest neighbour).
    pub zoom: u32,
    /// Other runs whose losses are overlaid in loss-compare.png.
    pub compare: Vec<(String, PathBuf)>,
}

impl FigureOptions {
    /// `visualize`'s defaults: 50 samples on a fixed 0–1 scale, weight tiles each on its own
    /// scale, a linear loss axis, zoom 2, no other runs.
    pub fn new(data_dir: PathBuf, out_dir: PathBuf, label: String) -> Self {
        Self {
            data_dir,
            out_dir,
            label,
            suffix: String::new(),
            samples: 50,
            per_tile_scale: false,
            symmetric_weights: false,
            log_y: false,
            zoom: 2,
            compare: Vec::new(),
        }
    }
}

/// What [`write_figures`] drew.
#[derive(Debug, Clone)]
pub struct Drawn {
    /// The files written, in order.
    pub files: Vec<PathBuf>,
    /// The numbers of `codes.png`.
    pub codes: CodeMapSummary,
}

/// Writes every figure of `run` and returns the files written.
pub fn write_figures(run: &TrainedRun, options: &FigureOptions) -> Result<Drawn> {
    let name = &options.label;
    // Everything that can fail for want of input is read before the first file is written.
    let curves = logged_losses(&run.dir, &run.config.name)?;
    let mut compared = vec![curves.clone()];
    for (label, dir) in &options.compare {
        if !dir.is_dir() {
            bail!(
                "--compare {label}: {}: no such run directory",
                dir.display()
            );
        }
        compared.push(logged_losses(dir, label)?);
    }
    let (train_set, test_set) = datasets(&run.config, &options.data_dir)?;
    let noisy = run.config.noise > 0.0;
    let reconstruction_rows = options.samples.div_ceil(IMAGES_PER_ROW) * if noisy { 3 } else { 2 };
    let filter_rows = run.model.hidden().div_ceil(FILTERS_PER_ROW);
    check_size(
        "reconstructions.png",
        IMAGES_PER_ROW,
        reconstruction_rows,
        options.zoom,
    )?;
    check_size("w1.png", FILTERS_PER_ROW, filter_rows, options.zoom)?;

    std::fs::create_dir_all(&options.out_dir)
        .with_context(|| format!("{}: cannot create", options.out_dir.display()))?;
    let mut written = Vec::new();
    let mut save = |name: &str, image: DynamicImage| -> Result<()> {
        let stem = name.strip_suffix(".png").unwrap_or(name);
        let path = options
            .out_dir
            .join(format!("{stem}{}.png", options.suffix));
        let bytes = figures::encode_png(&image)?;
        write_atomic(&path, &bytes).map_err(|e| crate::artifacts::io_error_at(&path, e))?;
        written.push(path);
        Ok(())
    };

    save(
        "loss.png",
        loss_figure(
            &[curves],
            &format!("{}: training and test loss", run.config.name),
            options.log_y,
        )?,
    )?;
    if compared.len() > 1 {
        save(
            "loss-compare.png",
            loss_figure(
                &compared,
                "training (solid) and test (dashed) loss",
                options.log_y,
            )?,
        )?;
    }

    let indices = sample_indices(test_set.len(), options.samples);
    let (inputs, targets) = pairs(&test_set, &indices);
    let outputs = run.reconstruct(&inputs);
    let scale = if options.per_tile_scale {
        TileScale::PerTile
    } else {
        TileScale::Fixed { lo: 0.0, hi: 1.0 }
    };
    let rows: Vec<&[Vec<f32>]> = if noisy {
        vec![&inputs, &outputs, &targets]
    } else {
        vec![&inputs, &outputs]
    };
    let grid = interleaved_rows(&rows, scale);
    let legend = format!(
        "{name}: rows {} · {}",
        if noisy {
            "noised input / output / clean target"
        } else {
            "input / output"
        },
        if options.per_tile_scale {
            "each tile scaled to its own min-max"
        } else {
            "fixed scale 0 (black) to 1 (white)"
        }
    );
    save(
        "reconstructions.png",
        captioned(&grid.render(), options.zoom, &legend)?,
    )?;

    let weight_scale = if options.symmetric_weights {
        TileScale::SymmetricGlobal
    } else {
        TileScale::PerTile
    };
    let scale_text = if options.symmetric_weights {
        "one scale, 0 = mid-grey"
    } else {
        "each tile scaled to its min-max"
    };
    let w1 = filter_grid(&encoder_filters(&run.model), weight_scale);
    save(
        "w1.png",
        captioned(
            &w1.render(),
            options.zoom,
            &format!("{name}: first-layer weights, one tile per hidden unit ({scale_text})"),
        )?,
    )?;
    let w2t = filter_grid(&decoder_filters(&run.model), weight_scale);
    save(
        "w2t.png",
        captioned(
            &w2t.render(),
            options.zoom,
            &format!("{name}: second-layer weights transposed ({scale_text})"),
        )?,
    )?;

    let codes = code_map(run, &test_set);
    save(
        "codes.png",
        DynamicImage::ImageRgb8(
            digit_scatter(
                &codes.points,
                &codes.labels,
                &format!(
                    "{name}: hidden codes of the {} test {}, first two principal components",
                    codes.points.len(),
                    if noisy { "inputs (noised)" } else { "images" }
                ),
                (
                    &format!(
                        "PC 1 · PCs 1–2 hold {:.0} % of the codes' variance · nearest digit mean right for {:.1} %",
                        100.0 * codes.summary.variance_explained,
                        100.0 * codes.summary.nearest_mean_accuracy
                    ),
                    "PC 2",
                ),
                (960, 720),
            )
            .map_err(anyhow::Error::msg)?,
        ),
    )?;

    if noisy {
        let ten = sample_indices(train_set.len(), IMAGES_PER_ROW);
        let (noised, clean) = pairs(&train_set, &ten);
        let grid = interleaved_rows(&[&noised, &clean], TileScale::Fixed { lo: 0.0, hi: 1.0 });
        let legend = format!(
            "{name}: noised training inputs ({} pixels zeroed) above the clean images",
            train_set.masked_per_image()
        );
        save(
            "noised.png",
            captioned(&grid.render(), options.zoom, &legend)?,
        )?;
    }
    Ok(Drawn {
        files: written,
        codes: codes.summary,
    })
}

/// The map of `run`'s codes of every image of `test_set` (its inputs: noised where the case adds
/// noise), labelled by digit.
pub fn code_map(run: &TrainedRun, test_set: &data::NoisedMnist) -> CodeMap {
    let n = test_set.len();
    let flat: Vec<f32> = (0..n).flat_map(|i| test_set.input(i)).collect();
    let labels: Vec<u8> = (0..n).map(|i| test_set.clean().label(i)).collect();
    let images = burn::tensor::Tensor::<2>::from_data(
        burn::tensor::TensorData::new(flat, [n, data::PIXELS]),
        &run.device,
    );
    CodeMap::new(&run.model, &images, &labels)
}

/// Rows of `IMAGES_PER_ROW` images taken in turn from each list: a block of input, output (and
/// target) rows per ten images.
pub fn interleaved_rows(lists: &[&[Vec<f32>]], scale: TileScale) -> TileGrid {
    let mut grid = TileGrid::new(data::SIDE, IMAGES_PER_ROW, scale);
    let n = lists.first().map_or(0, |l| l.len());
    for start in (0..n).step_by(IMAGES_PER_ROW) {
        for list in lists {
            for k in 0..IMAGES_PER_ROW {
                match list.get(start + k) {
                    Some(image) if start + k < n => grid.push(image.clone()),
                    _ => grid.push_blank(),
                }
            }
        }
    }
    grid
}

/// One tile per filter, `FILTERS_PER_ROW` per row.
pub fn filter_grid(filters: &[Vec<f32>], scale: TileScale) -> TileGrid {
    let mut grid = TileGrid::new(data::SIDE, FILTERS_PER_ROW, scale);
    for filter in filters {
        grid.push(filter.clone());
    }
    grid
}

/// Refuses a figure of `columns` × `rows` MNIST-sized tiles that would exceed [`MAX_PIXELS`] at
/// `zoom`, naming the largest zoom that fits.
fn check_size(name: &str, columns: usize, rows: usize, zoom: u32) -> Result<()> {
    let side = (data::SIDE + 1) as u64;
    let (w, h) = (1 + columns as u64 * side, 1 + rows as u64 * side);
    let pixels = |z: u64| w * h * z * z;
    if pixels(zoom as u64) > MAX_PIXELS {
        let fits = (1..=zoom as u64).rev().find(|&z| pixels(z) <= MAX_PIXELS);
        bail!(
            "{name} would be {} × {} pixels at --zoom {zoom}, more than {} megapixels: {}",
            w * zoom as u64,
            h * zoom as u64,
            MAX_PIXELS >> 20,
            match fits {
                Some(z) => format!("use --zoom {z} or less (or fewer --samples)"),
                None => "draw fewer --samples".to_string(),
            }
        );
    }
    Ok(())
}

fn captioned(grid: &GrayImage, zoom: u32, text: &str) -> Result<DynamicImage> {
    let zoom = zoom.max(1);
    let big = imageops::resize(
        grid,
        grid.width() * zoom,
        grid.height() * zoom,
        imageops::FilterType::Nearest,
    );
    let rgb: RgbImage = DynamicImage::ImageLuma8(big).to_rgb8();
    let captioned = with_caption(&rgb, text).map_err(anyhow::Error::msg)?;
    // Everything here is grey: store one channel (a third of the size).
    Ok(DynamicImage::ImageLuma8(
        DynamicImage::ImageRgb8(captioned).to_luma8(),
    ))
}

fn loss_figure(curves: &[LossCurves], title: &str, log_y: bool) -> Result<DynamicImage> {
    let options = ChartOptions {
        title: title.to_string(),
        log_y,
        ..Default::default()
    };
    Ok(DynamicImage::ImageRgb8(
        loss_chart(curves, &options).map_err(anyhow::Error::msg)?,
    ))
}

/// File beside a run's own figures that holds the SHA-256 of the model they show: figures
/// count as the final model's only while it matches `model.bpk`.
pub const FIGURES_STAMP: &str = "model.sha256";

/// Where, under which names and titles, the figures of `run`'s chosen model go by default:
/// `<run>/figures/` for the final model, `<run>/figures/epoch-N/` with `-epoch-N` names for a
/// checkpoint, `<run>/figures/file-STEM/` for another model file.
pub fn default_place(run: &TrainedRun, choice: &ModelChoice) -> (PathBuf, String, String) {
    let figures = run.dir.join("figures");
    let name = &run.config.name;
    let epochs = run.config.epochs;
    match choice {
        ModelChoice::Final => (
            figures,
            format!("{name} ({})", epochs_text(epochs)),
            String::new(),
        ),
        ModelChoice::Epoch(n) => (
            figures.join(format!("epoch-{n}")),
            format!("{name} at epoch {n} of {epochs}"),
            format!("-epoch-{n}"),
        ),
        ModelChoice::File(path) => {
            let stem: String = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "model".into())
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let shown = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            (
                figures.join(format!("file-{stem}")),
                format!("{name}, weights of {shown}"),
                format!("-file-{stem}"),
            )
        }
    }
}

fn epochs_text(n: usize) -> String {
    if n == 1 {
        "1 epoch".into()
    } else {
        format!("{n} epochs")
    }
}

/// Records that the figures in `dir` show the model whose SHA-256 is `model_hash`.
pub fn stamp_figures(dir: &Path, model_hash: &str) -> Result<()> {
    let path = dir.join(FIGURES_STAMP);
    write_atomic(&path, format!("{model_hash}\n").as_bytes())
        .map_err(|e| crate::artifacts::io_error_at(&path, e).into())
}

/// Whether the figures in `dir` were drawn from the model whose SHA-256 is `model_hash`.
pub fn figures_show(dir: &Path, model_hash: &str) -> bool {
    std::fs::read_to_string(dir.join(FIGURES_STAMP)).is_ok_and(|s| s.trim() == model_hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::prelude::*;
    use figures::{min_max, to_level};
    use model::{Activation, AutoencoderConfig};

    /// Grey levels of tile `k` of a rendered grid.
    fn tile(image: &GrayImage, grid: &TileGrid, k: usize) -> Vec<u8> {
        let (x0, y0) = grid.origin(k);
        (0..data::PIXELS)
            .map(|p| {
                image
                    .get_pixel(x0 + (p % data::SIDE) as u32, y0 + (p / data::SIDE) as u32)
                    .0[0]
            })
            .collect()
    }

    fn scaled(values: &[f32]) -> Vec<u8> {
        let (lo, hi) = min_max(values);
        values.iter().map(|&v| to_level(v, lo, hi)).collect()
    }

    #[test]
    fn weight_tiles_are_the_right_rows_and_columns() {
        let device = Device::flex();
        device.seed(11);
        let model = AutoencoderConfig::new(20, Activation::Sigmoid).init(&device);
        let w1 = filter_grid(&encoder_filters(&model), TileScale::PerTile);
        let w2t = filter_grid(&decoder_filters(&model), TileScale::PerTile);
        let (w1_image, w2t_image) = (w1.render(), w2t.render());
        assert_eq!(w1.len(), 20);
        assert_eq!(w1_image.dimensions(), (1 + 15 * 29, 1 + 2 * 29));
        for k in [0, 7, 19] {
            // Column k of the [784, n] encoder weight, cut out by Burn itself.
            let column = model.encoder.weight.val().slice([0..784, k..k + 1]);
            let column = column.into_data().try_to_vec::<f32>().unwrap();
            assert_eq!(tile(&w1_image, &w1, k), scaled(&column), "w1 tile {k}");
            // Row k of the [n, 784] decoder weight.
            let row = model.decoder.weight.val().slice([k..k + 1, 0..784]);
            let row = row.into_data().try_to_vec::<f32>().unwrap();
            assert_eq!(tile(&w2t_image, &w2t, k), scaled(&row), "w2t tile {k}");
        }
        // A transposed reading would differ: tile 0 is not the first row of the encoder weight.
        let wrong = model
            .encoder
            .weight
            .val()
            .slice([0..1, 0..20])
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_ne!(&tile(&w1_image, &w1, 0)[..20], &scaled(&wrong)[..]);
    }

    #[test]
    fn reconstruction_rows_interleave_in_blocks_of_ten() {
        let a: Vec<Vec<f32>> = (0..12)
            .map(|i| vec![i as f32 / 20.0; data::PIXELS])
            .collect();
        let b: Vec<Vec<f32>> = (0..12).map(|_| vec![1.0; data::PIXELS]).collect();
        let grid = interleaved_rows(&[&a, &b], TileScale::Fixed { lo: 0.0, hi: 1.0 });
        // Two blocks of (input row, output row): 4 rows of 10 cells.
        assert_eq!(grid.len(), 40);
        assert_eq!(grid.rows(), 4);
        let image = grid.render();
        assert_eq!(tile(&image, &grid, 3)[0], to_level(3.0 / 20.0, 0.0, 1.0));
        assert_eq!(tile(&image, &grid, 13)[0], 255);
        assert_eq!(tile(&image, &grid, 21)[0], to_level(11.0 / 20.0, 0.0, 1.0));
        // Cells past the 12th image stay background.
        assert_eq!(tile(&image, &grid, 25)[0], 128);
    }
}
