//! The end-to-end tests: the real `train` binary on a small MNIST subset, one module per concern,
//! one test binary (Burn is linked once).
//!
//! The slow ones (training on wgpu, a cold `cargo check --features vulkan`) are ignored by
//! default; CI runs them too: `cargo test --release --workspace --locked -- --ignored`, after the default tests.

mod claims;
mod cluster;
mod compare;
mod foreign_files;
mod gpu;
mod identity;
mod inside;
mod integrity;
mod readme;
mod report;
mod robustness;
mod serve;
mod sharp_edges;
mod sweep;
mod train;
mod util;
mod visualize;
mod weights;
