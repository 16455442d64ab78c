//! What can go wrong in the study's jobs, report, sweeps and figures, as values: the caller puts
//! them into words and adds the ways out.

use std::path::PathBuf;

/// A result of the study's library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every failure of the study's library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A failure of one of its runs.
    #[error(transparent)]
    Run(#[from] trainer::Error),
    /// A run asked for by name is not one of the job's.
    #[error("{name:?} is not a run of this job (its runs: {})", shorten(runs))]
    NotInJob {
        /// The name asked for.
        name: String,
        /// The job's runs.
        runs: Vec<String>,
    },
    /// A figure would be larger than a figure may be.
    #[error(
        "{name} would be {width} × {height} pixels at zoom {zoom}, more than {megapixels} megapixels"
    )]
    FigureTooLarge {
        /// The figure's file name.
        name: String,
        /// Its width in pixels.
        width: u64,
        /// Its height in pixels.
        height: u64,
        /// The zoom asked for.
        zoom: u32,
        /// The largest zoom at which it fits, if any.
        fits: Option<u32>,
        /// The largest figure drawn, in megapixels.
        megapixels: u64,
    },
    /// Seeds of one run whose configurations differ.
    #[error("{} and {} are seeds of one run but differ ({diffs}); their mean would mix two experiments", runs.0, runs.1)]
    Pooling {
        /// The two runs.
        runs: (String, String),
        /// How they differ.
        diffs: String,
    },
    /// The report found no finished run.
    #[error("{}: no finished runs to report on", root.display())]
    NothingToReport {
        /// The artifacts directory.
        root: PathBuf,
    },
    /// The drawing library failed.
    #[error("{0}")]
    Figure(String),
}

trainer::from_run_errors!(Error);

/// The first names of a list, and how many more.
fn shorten(names: &[String]) -> String {
    match names.len() {
        0..=6 => names.join(", "),
        n => format!("{}, … {} more", names[..5].join(", "), n - 5),
    }
}
