//! Numbers for the study report that need no tensors: the eigendecomposition of a symmetric
//! matrix (PCA's components) and how stroke-like or noise-like a weight tile is.

mod eigen;
mod structure;

pub use eigen::{SymmetricEigen, symmetric_eigen};
pub use structure::{
    FilterStructure, STRUCTURED_BELOW, masked_structure_ratio, roughness, structure_ratio,
};
