//! The report's measurements of a trained autoencoder: test errors and the output-intensity
//! effect, baselines at the same width (PCA), the identity test, how stroke-like its weight tiles
//! are, the map of its codes, and linear probes on its codes; and what the page shows of a model's
//! inside: interpolations, hidden units, nearest digits.

mod calibration;
mod case_numbers;
mod code_map;
mod image_sets;
mod interpolation;
mod liveness;
mod nearest;
mod pca;
mod probe;
mod stats;
mod structure;
mod units;

pub use calibration::{
    CALIBRATION_COMPONENTS, Calibration, CalibrationSummary, KnownTiles, NOISE_BELOW_THRESHOLD,
    share_below,
};
pub use case_numbers::{
    ACTIVE_PIXEL_SHARE, Against, CONSTANT_WITHIN, COPIES_BELOW, CaseNumbers, IDENTITY_TEST_IMAGES,
    IdentityProbes, IdentityReading, Pairs, TRAIN_MSE_IMAGES, active_pixels, dead_units,
    learned_digits_from, measure,
};
pub use code_map::{CodeMap, CodeMapSummary, code_rows, nearest_mean_accuracy};
pub use image_sets::{Images, mse, to_rows};
pub use interpolation::{mixing_weights, through_codes, through_components, through_pixels};
pub use liveness::{LiveAndDead, UnitGroup, UnitTiles, relative_change};
pub use nearest::{ByteRows, Element, Neighbour, nearest};
pub use pca::{Pca, centred_covariance, principal_components};
pub use probe::{Classifier, Labelled, fit, study_linear};
pub use stats::mean_and_spread;
pub use structure::{
    FilterStructure, FilterSummary, masked_structure_ratio, median, quantile, ratios, roughness,
    structure_ratio,
};
pub use units::{ALONE_PERCENTILE, UnitActivity, unit_activity, unit_alone};
