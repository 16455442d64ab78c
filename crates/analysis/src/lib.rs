//! The report's measurements of a trained autoencoder: test errors and the output-intensity
//! effect, baselines at the same width (PCA), the identity test, how stroke-like its weight tiles
//! are, the map of its codes, and linear probes on its codes.

mod codes;
mod images;
mod measure;
mod pca;
mod probe;
mod stats;
mod structure;

pub use codes::{CodeMap, CodeMapSummary, nearest_mean_accuracy};
pub use images::{Images, mse};
pub use measure::{
    ACTIVE_PIXEL_SHARE, CaseNumbers, FilterSummary, IDENTITY_TEST_IMAGES, IdentityProbes, TestSet,
    active_pixels, dead_units, measure,
};
pub use pca::{Pca, centred_covariance, principal_components};
pub use probe::{Classifier, Labelled, fit, study_linear};
pub use stats::mean_and_spread;
pub use structure::{
    FilterStructure, STRUCTURED_BELOW, masked_structure_ratio, roughness, structure_ratio,
};
