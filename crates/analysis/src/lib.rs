//! The report's measurements of a trained autoencoder: test errors and the output-intensity
//! effect, baselines at the same width (PCA), the identity test, how stroke-like its weight tiles
//! are, the map of its codes, and linear probes on its codes; and what the page shows of a model's
//! inside: interpolations, hidden units, nearest digits.

mod codes;
mod images;
mod interpolation;
mod measure;
mod nearest;
mod pca;
mod probe;
mod stats;
mod structure;
mod units;

pub use codes::{CodeMap, CodeMapSummary, code_rows, nearest_mean_accuracy};
pub use images::{Images, mse, to_rows};
pub use interpolation::{mixing_weights, through_codes, through_components, through_pixels};
pub use measure::{
    ACTIVE_PIXEL_SHARE, CaseNumbers, FilterSummary, IDENTITY_TEST_IMAGES, IdentityProbes, TestSet,
    active_pixels, dead_units, measure,
};
pub use nearest::{ByteRows, Element, Neighbour, nearest};
pub use pca::{Pca, centred_covariance, principal_components};
pub use probe::{Classifier, Labelled, fit, study_linear};
pub use stats::mean_and_spread;
pub use structure::{
    FilterStructure, STRUCTURED_BELOW, masked_structure_ratio, roughness, structure_ratio,
};
pub use units::{ALONE_PERCENTILE, UnitActivity, unit_activity, unit_alone};
