//! `train`: trains the study's MNIST autoencoders with Burn, draws their figures, compares
//! backends, writes the study report and serves a local page — one program, one build.
//!
//! ```text
//! cargo run --release -p train -- --case 7                    # flex, the default CPU backend
//! cargo run --release -p train -- --case 1 --backend wgpu --epochs 5
//! cargo run --release -p train -- --case 1 --resume           # continue from the last checkpoint
//! cargo run --release -p train -- visualize --case 7          # figures from the saved model
//! cargo run --release -p train -- compare --case 7 --backends flex,ndarray,wgpu --epochs 2 --limit 10000
//! cargo run --release -p train -- report                      # all seven cases, measured, as HTML
//! cargo run --release -p train -- serve                       # the runs and a canvas, on a local page
//! ```

fn main() -> std::process::ExitCode {
    train::main()
}
