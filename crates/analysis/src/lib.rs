//! Numbers for the study report that need no tensors: how stroke-like or noise-like a weight
//! tile is.

mod structure;

pub use structure::{
    FilterStructure, STRUCTURED_BELOW, masked_structure_ratio, roughness, structure_ratio,
};
