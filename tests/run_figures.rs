//! `train visualize` on runs trained by the real `train` binary: every figure, the same pictures
//! on two backends and when drawn again, checkpoints, and one-line errors for what cannot be drawn.

use std::path::Path;

use figures::image::{self, GrayImage};

use crate::util::*;

fn gray(path: &Path) -> GrayImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_luma8()
}

#[test]
fn draws_every_figure_from_a_checkpoint_on_two_backends() {
    let dir = scratch();
    let root = arg(dir.path());
    case(7).limit(1000).epochs(2).artifacts(root).stdout();
    let stdout = visualize(7, root).stdout();
    let figures = dir.path().join("case7/figures");
    for name in [
        "loss.png",
        "reconstructions.png",
        "w1.png",
        "w2t.png",
        "noised.png",
        "codes.png",
    ] {
        assert!(stdout.contains(name), "{name} not reported:\n{stdout}");
    }
    assert!(stdout.contains("nearest-digit-mean classifier"), "{stdout}");
    let codes = image::open(figures.join("codes.png")).unwrap().to_rgb8();
    assert_eq!(codes.dimensions(), (960, 720));
    // Every digit's colour is on the map (the legend at least).
    for color in figures::DIGIT_COLORS {
        assert!(
            codes.pixels().any(|p| p.0 == [color.0, color.1, color.2]),
            "{color:?}"
        );
    }

    // Zoom 2, a 26-pixel caption band on top; tiles of 28 + 1 gap.
    let caption = 26;
    let w1 = gray(&figures.join("w1.png"));
    assert_eq!(
        w1.height(),
        caption + 2 * (1 + 7 * 29),
        "100 units → 7 rows of 15"
    );
    assert_eq!(w1.width(), 2 * (1 + 15 * 29));
    let recon = gray(&figures.join("reconstructions.png"));
    // 50 images with noise → 5 blocks of (noised, output, clean) rows = 15 rows.
    assert_eq!(recon.height(), caption + 2 * (1 + 15 * 29));
    let noised = gray(&figures.join("noised.png"));
    assert_eq!(noised.height(), caption + 2 * (1 + 2 * 29));
    for img in [
        &w1,
        &recon,
        &noised,
        &gray(&figures.join("w2t.png")),
        &gray(&figures.join("loss.png")),
    ] {
        assert!(grey_levels(img) > 20, "figure looks blank");
    }
    // Noised row: exactly 156 zeroed pixels can only darken; the clean row below has more ink.
    let ink = |row: u32| -> u64 {
        let y0 = caption + 2 * (1 + row * 29);
        (0..2 * 28)
            .flat_map(|y| (0..2 * 28).map(move |x| (x, y)))
            .map(|(x, y)| noised.get_pixel(2 + x, y0 + y).0[0] as u64)
            .sum()
    };
    assert!(ink(0) < ink(1));

    // The same checkpoint on ndarray gives the same pictures up to float rounding.
    let other = dir.path().join("ndarray-figures");
    visualize(7, root)
        .args(["--backend", "ndarray", "--out", arg(&other)])
        .stdout();
    for name in [
        "reconstructions.png",
        "w1.png",
        "w2t.png",
        "noised.png",
        "loss.png",
    ] {
        let (a, b) = (gray(&figures.join(name)), gray(&other.join(name)));
        assert_eq!(a.dimensions(), b.dimensions());
        let worst = a
            .pixels()
            .zip(b.pixels())
            .map(|(p, q)| p.0[0].abs_diff(q.0[0]))
            .max()
            .unwrap();
        assert!(
            worst <= 1,
            "{name} differs by {worst} grey levels between flex and ndarray"
        );
    }

    // Figures are deterministic: drawing again gives identical files.
    let again = dir.path().join("again");
    visualize(7, root).args(["--out", arg(&again)]).stdout();
    for name in ["reconstructions.png", "w1.png", "noised.png"] {
        assert_eq!(
            std::fs::read(figures.join(name)).unwrap(),
            std::fs::read(again.join(name)).unwrap(),
            "{name}"
        );
    }

    // A kept checkpoint draws too; a missing one is a one-line error naming the file.
    visualize(7, root)
        .args(["--epoch", "1", "--out", arg(&again)])
        .stdout();
    let out = visualize(7, root).args(["--epoch", "9"]).output();
    assert_one_line_error(&out, "model-9.bpk");

    // A corrupt checkpoint and one of another shape are reported with their path.
    let bad = dir.path().join("corrupt.bpk");
    let with_checkpoint = |checkpoint: &Path| {
        visualize(7, root)
            .args(["--checkpoint", arg(checkpoint)])
            .output()
    };
    std::fs::write(&bad, b"not a burnpack file").unwrap();
    assert_one_line_error(&with_checkpoint(&bad), "corrupt.bpk");
    let mut truncated = std::fs::read(dir.path().join("case7/model.bpk")).unwrap();
    truncated.truncate(truncated.len() / 2);
    std::fs::write(&bad, truncated).unwrap();
    assert_one_line_error(&with_checkpoint(&bad), "corrupt.bpk");
    case(1).limit(200).epochs(1).artifacts(root).stdout();
    assert_one_line_error(
        &with_checkpoint(&dir.path().join("case1/model.bpk")),
        "does not match config.json",
    );
    // The loss chart can overlay several runs.
    let stdout = visualize(1, root)
        .args(["--compare", "case7", "--samples", "10"])
        .stdout();
    assert!(stdout.contains("loss-compare.png"), "{stdout}");
}

#[test]
fn a_missing_run_is_a_one_line_error() {
    let dir = scratch();
    assert_one_line_error(&visualize(3, dir.path()).output(), "no such run directory");
}
