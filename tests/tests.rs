//! The end-to-end tests: the real `train` binary on a small MNIST subset, one module per concern,
//! one test binary (Burn is linked once).

mod identity;
mod util;
