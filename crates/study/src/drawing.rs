//! The study's figures of a trained run, written as PNG files: loss curves, reconstructions,
//! weight tiles, the map of the codes and noised inputs. A run's own figures of its final model
//! go to `<run>/figures/` with the hash of that model; a checkpoint's figures go to a folder of
//! their own, under names and titles that say which model they show.

use std::path::{Path, PathBuf};

use analysis::{CodeMap, CodeMapSummary};
use data::NoisedMnist;
use figures::image::{DynamicImage, GrayImage, RgbImage, imageops};
use figures::{
    ChartOptions, LossCurves, TileGrid, TileScale, digit_scatter, loss_chart, with_caption,
};

use crate::study_error::{Error, Result};
use trainer::files::{file_error, write_atomic};
use trainer::inference::{ModelChoice, TrainedRun, pairs, sample_indices};
use trainer::origin::Origin;

use crate::loss_logs::logged_losses;

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
/// Figures count as the final model's only while [`FIGURES_STAMP`] holds `model.bpk`'s hash.
pub use trainer::layout::{FIGURES_DIR, FIGURES_STAMP};

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
    /// Other runs whose losses are overlaid in loss-compare.png: their labels and directories.
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

/// Where, under which names and titles, the figures of `run`'s chosen model go by default:
/// `<run>/figures/` for the final model, `<run>/figures/epoch-N/` with `-epoch-N` names for a
/// checkpoint, `<run>/figures/file-STEM/` for another model file. Returns (folder, label, suffix).
pub fn default_place(run: &TrainedRun, choice: &ModelChoice) -> (PathBuf, String, String) {
    let figures = run.dir.join(FIGURES_DIR);
    let name = &run.config.name;
    let epochs = run.config.epochs;
    match choice {
        ModelChoice::Final => {
            let trained = match &run.origin {
                Origin::Imported(provenance) => format!("imported from {}", provenance.file_name()),
                trained => trained.short(),
            };
            (figures, format!("{name} ({trained})"), String::new())
        }
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

/// Records that the figures in `dir` show the model whose SHA-256 is `model_hash`.
pub fn stamp_figures(dir: &Path, model_hash: &str) -> Result<()> {
    let path = dir.join(FIGURES_STAMP);
    write_atomic(&path, format!("{model_hash}\n").as_bytes())
        .map_err(|e| file_error(&path, e).into())
}

/// Whether the figures in `dir` were drawn from the model whose SHA-256 is `model_hash`.
pub fn figures_show(dir: &Path, model_hash: &str) -> bool {
    std::fs::read_to_string(dir.join(FIGURES_STAMP)).is_ok_and(|s| s.trim() == model_hash)
}

/// Writes every figure of `run` into `options.out_dir` and returns the files written. Everything
/// that can fail for want of input is read, and every size checked, before the first file is
/// written.
pub fn write_figures(run: &TrainedRun, options: &FigureOptions) -> Result<Drawn> {
    // An imported run has no training logs: no loss figures.
    let curves = match run.dir.join("train").is_dir() {
        true => Some(logged_losses(&run.dir, &run.config.name)?),
        false => None,
    };
    let mut compared: Vec<LossCurves> = curves.iter().cloned().collect();
    for (label, dir) in &options.compare {
        compared.push(logged_losses(dir, label)?);
    }
    let (train_set, test_set) = run.config.datasets(&options.data_dir)?;
    check_sizes(run, options)?;
    std::fs::create_dir_all(&options.out_dir).map_err(|e| trainer::Error::File {
        path: options.out_dir.clone(),
        what: format!("cannot create ({e})"),
    })?;
    let mut figures = Figures {
        options,
        files: Vec::new(),
    };
    if let Some(curves) = curves {
        let title = format!("{}: training and test loss", run.config.name);
        figures.save("loss.png", loss_figure(&[curves], &title, options.log_y)?)?;
    }
    if compared.len() > 1 {
        let title = "training (solid) and test (dashed) loss";
        figures.save(
            "loss-compare.png",
            loss_figure(&compared, title, options.log_y)?,
        )?;
    }
    figures.save(
        "reconstructions.png",
        reconstructions(run, &test_set, options)?,
    )?;
    let (w1, w2t) = weights(run, options)?;
    figures.save("w1.png", w1)?;
    figures.save("w2t.png", w2t)?;
    let codes = code_map(run, &test_set);
    figures.save(
        "codes.png",
        code_figure(&codes, run.config.noise > 0.0, &options.label)?,
    )?;
    if run.config.noise > 0.0 {
        figures.save("noised.png", noised(&train_set, options)?)?;
    }
    Ok(Drawn {
        files: figures.files,
        codes: codes.summary,
    })
}

/// The figures being written: where, and which so far.
struct Figures<'a> {
    options: &'a FigureOptions,
    files: Vec<PathBuf>,
}

impl Figures<'_> {
    /// Writes `image` as `name` (with the options' suffix) into the output folder.
    fn save(&mut self, name: &str, image: DynamicImage) -> Result<()> {
        let stem = name.strip_suffix(".png").unwrap_or(name);
        let path = self
            .options
            .out_dir
            .join(format!("{stem}{}.png", self.options.suffix));
        write_png(&path, &image)?;
        self.files.push(path);
        Ok(())
    }
}

/// Refuses the reconstruction and weight grids when they would exceed [`MAX_PIXELS`].
fn check_sizes(run: &TrainedRun, options: &FigureOptions) -> Result<()> {
    let noisy = run.config.noise > 0.0;
    let rows = options.samples.div_ceil(IMAGES_PER_ROW) * if noisy { 3 } else { 2 };
    check_size("reconstructions.png", IMAGES_PER_ROW, rows, options.zoom)?;
    let filter_rows = run.model.hidden().div_ceil(FILTERS_PER_ROW);
    check_size("w1.png", FILTERS_PER_ROW, filter_rows, options.zoom)
}

/// Test inputs above their reconstructions (and clean targets, with noise), in blocks of ten.
fn reconstructions(
    run: &TrainedRun,
    test_set: &NoisedMnist,
    options: &FigureOptions,
) -> Result<DynamicImage> {
    let noisy = run.config.noise > 0.0;
    let indices = sample_indices(test_set.len(), options.samples);
    let (inputs, targets) = pairs(test_set, &indices);
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
        "{}: rows {} · {}",
        options.label,
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
    captioned(&grid.render(), options.zoom, &legend)
}

/// The first-layer weights and the second layer's transposed, one tile per hidden unit.
fn weights(run: &TrainedRun, options: &FigureOptions) -> Result<(DynamicImage, DynamicImage)> {
    let (scale, scale_text) = if options.symmetric_weights {
        (TileScale::SymmetricGlobal, "one scale, 0 = mid-grey")
    } else {
        (TileScale::PerTile, "each tile scaled to its min-max")
    };
    let name = &options.label;
    let w1 = filter_grid(&run.model.encoder_filters(), scale);
    let w1_text = format!("{name}: first-layer weights, one tile per hidden unit ({scale_text})");
    let w2t = filter_grid(&run.model.decoder_filters(), scale);
    let w2t_text = format!("{name}: second-layer weights transposed ({scale_text})");
    Ok((
        captioned(&w1.render(), options.zoom, &w1_text)?,
        captioned(&w2t.render(), options.zoom, &w2t_text)?,
    ))
}

/// The map of the codes: each test image's code on the first two principal components.
fn code_figure(codes: &CodeMap, noisy: bool, label: &str) -> Result<DynamicImage> {
    let title = format!(
        "{label}: hidden codes of the {} test {}, first two principal components",
        codes.points.len(),
        if noisy { "inputs (noised)" } else { "images" }
    );
    let x_axis = format!(
        "PC 1 · PCs 1–2 hold {:.0} % of the codes' variance · nearest digit mean right for {:.1} %",
        100.0 * codes.summary.variance_explained,
        100.0 * codes.summary.nearest_mean_accuracy
    );
    let chart = digit_scatter(
        &codes.points,
        &codes.labels,
        &title,
        (&x_axis, "PC 2"),
        (960, 720),
    )
    .map_err(Error::Figure)?;
    Ok(DynamicImage::ImageRgb8(chart))
}

/// Ten noised training inputs above their clean originals.
fn noised(train_set: &NoisedMnist, options: &FigureOptions) -> Result<DynamicImage> {
    let ten = sample_indices(train_set.len(), IMAGES_PER_ROW);
    let (noised, clean) = pairs(train_set, &ten);
    let grid = interleaved_rows(&[&noised, &clean], TileScale::Fixed { lo: 0.0, hi: 1.0 });
    let legend = format!(
        "{}: noised training inputs ({} pixels zeroed) above the clean images",
        options.label,
        train_set.masked_per_image()
    );
    captioned(&grid.render(), options.zoom, &legend)
}

/// The map of `run`'s codes of every image of `test_set` (its inputs: noised where the case adds
/// noise), labelled by digit.
pub fn code_map(run: &TrainedRun, test_set: &NoisedMnist) -> CodeMap {
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
        return Err(Error::FigureTooLarge {
            name: name.to_string(),
            width: w * zoom as u64,
            height: h * zoom as u64,
            zoom,
            fits: fits.map(|z| z as u32),
            megapixels: MAX_PIXELS >> 20,
        });
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
    let captioned = with_caption(&rgb, text).map_err(Error::Figure)?;
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
        loss_chart(curves, &options).map_err(Error::Figure)?,
    ))
}

/// Writes `image` to `path` as PNG (atomically).
pub fn write_png(
    path: &Path,
    image: &figures::image::DynamicImage,
) -> crate::study_error::Result<()> {
    let bytes = figures::encode_png(image).map_err(|e| Error::Figure(e.to_string()))?;
    write_atomic(path, &bytes).map_err(|e| file_error(path, e).into())
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
        let w1 = filter_grid(&model.encoder_filters(), TileScale::PerTile);
        let w2t = filter_grid(&model.decoder_filters(), TileScale::PerTile);
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
