//! The end-to-end tests: the real `train` binary on a small MNIST subset, one module per concern,
//! one test binary (Burn is linked once).
//!
//! The slow ones (training on wgpu, a cold `cargo check --features vulkan`) are ignored by
//! default; CI runs them too: `cargo test --release --workspace --locked -- --ignored`, after the default tests.

mod backends_compared;
mod claims_from_numbers;
mod cluster;
mod foreign_files;
mod gpu;
mod identity;
mod inside_models;
mod integrity;
mod library_use;
mod local_page;
mod readme;
mod robustness;
mod run_figures;
mod sharp_edges;
mod study_report;
mod sweeps;
mod training_runs;
mod util;
mod weights_in_out;
