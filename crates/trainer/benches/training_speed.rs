//! Training speed of the study's cases on the CPU backends.
//!
//! ```text
//! cargo bench --workspace --bench training_speed                 # cases 1 and 7, flex and ndarray
//! cargo bench --workspace --bench training_speed -- --quick      # fewer repetitions
//! ```
//!
//! For each case and backend it measures, on a fixed subset of the real data:
//! - `step`: one training step (batch 100: forward, MSE, backward, Adam update) in a plain Burn
//!   loop, median over the steps of three passes over the subset after one pass of warm-up;
//! - `products`: the step's five matrix products alone on the same backend (two forward, three
//!   backward, transposes as views, as Burn's autodiff does them), median of 200 after 50 of
//!   warm-up — `step ÷ products` is what the rest of the step costs;
//! - `Adam`: the optimizer's share of `step` (the update of every parameter), median;
//! - `learner epoch`: Burn's learner (`trainer::training::train`) on the same subset for one epoch,
//!   training part only, as logged, fastest of three runs; the learner's overhead compares it
//!   with the fastest of the plain loop's three passes (whole passes on both sides: a median step
//!   times the step count would leave the passes' slow moments out of one side only);
//! - `eval`: the 10 000 test images through the trained model (no dropout), one pass, median of 5;
//! - `data`: loading and checking the four MNIST files, median of 3;
//! and prints one table with seconds, images per second and GFLOP/s of the matrix products.

use std::time::Instant;

use burn::prelude::*;
use burn::train::TrainStep;
use data::{Mnist, NoisedMnist, Split};
use trainer::backend::Backend;
use trainer::data::EpochLoader;
use trainer::training::{Outcome, RunOptions, train};

/// Training images in the subset (120 steps of 100).
const SUBSET: usize = 12_000;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Floating-point operations of the matrix products of one training step: forward (2 products),
/// backward (the decoder's input and weight gradients, the encoder's weight gradient).
fn step_flops(batch: usize, hidden: usize) -> f64 {
    5.0 * 2.0 * (batch * 784 * hidden) as f64
}

struct Row {
    case: usize,
    backend: Backend,
    step: f64,
    products: f64,
    update: f64,
    learner_epoch: f64,
    plain_pass: f64,
    steps: usize,
    eval: f64,
    hidden: usize,
}

fn bench_case(case: usize, backend: Backend, data_dir: &std::path::Path, quick: bool) -> Row {
    let mut config = trainer::cases::case(case).expect("study case");
    config.limit = Some(SUBSET);
    config.epochs = 1;
    let device = backend.device().expect("CPU backend");
    device.seed(config.seed);

    // Plain loop: the same batches the learner sees, no metrics, no events.
    let (train_set, test_set) = config.datasets(data_dir).expect("MNIST");
    let ad = device.clone().autodiff();
    let mut model = config.model.init(&ad);
    let mut optimizer = trainer::adam::optimizer(&config.optimizer, backend);
    let loader = EpochLoader::shuffled(train_set, config.batch_size, ad.clone(), config.seed, 1);
    let (mut times, mut updates) = (Vec::new(), Vec::new());
    let passes = if quick { 2 } else { 4 };
    let mut plain_pass = f64::INFINITY;
    for pass in 0..passes {
        let pass_started = Instant::now();
        for batch in burn::data::dataloader::DataLoader::iter(&loader) {
            let started = Instant::now();
            let output = TrainStep::step(&model, batch.expect("batch"));
            // The CPU backends run eagerly: the gradients are computed when `step` returns.
            let before_update = Instant::now();
            model = optimizer.step(config.learning_rate, model, output.grads);
            let _ = model
                .encoder
                .weight
                .val()
                .slice([0..1, 0..1])
                .into_scalar::<f32>();
            if pass > 0 {
                times.push(started.elapsed().as_secs_f64());
                updates.push(before_update.elapsed().as_secs_f64());
            }
        }
        if pass > 0 {
            plain_pass = plain_pass.min(pass_started.elapsed().as_secs_f64());
        }
    }
    let step = median(times);
    let update = median(updates);
    let steps = SUBSET / config.batch_size;
    let products = products_alone(config.batch_size, config.model.hidden, &device);

    // The real learner on the same subset, one epoch, fastest of three fresh runs.
    let mut learner_epoch = f64::INFINITY;
    let mut summary = None;
    for run in 0..if quick { 1 } else { 3 } {
        let dir = std::env::temp_dir().join(format!(
            "burn-ae-bench-{}-case{case}-{}-{run}",
            std::process::id(),
            backend.name()
        ));
        let options = RunOptions::new(dir.clone(), data_dir.to_path_buf(), backend);
        let Outcome::Trained {
            epochs, model_path, ..
        } = train(&config, &options).expect("training")
        else {
            panic!("a fresh directory trains");
        };
        learner_epoch = learner_epoch.min(epochs[0].train_seconds);
        if let Some((_, old_dir)) = summary.replace((model_path, dir)) {
            std::fs::remove_dir_all(old_dir).ok();
        }
    }
    let (model_path, dir) = summary.expect("one learner run");

    // Evaluation of the whole test set in one pass.
    let trained =
        trainer::checkpoint::load_model_file(&model_path, &config, &device).expect("trained model");
    let inputs: Vec<f32> = (0..test_set.len())
        .flat_map(|i| test_set.input(i))
        .collect();
    let x = Tensor::<2>::from_data(TensorData::new(inputs, [test_set.len(), 784]), &device);
    let eval = median(
        (0..if quick { 2 } else { 5 })
            .map(|_| {
                let started = Instant::now();
                let _ = trained.forward(x.clone()).mean().into_scalar::<f32>();
                started.elapsed().as_secs_f64()
            })
            .collect(),
    );
    std::fs::remove_dir_all(&dir).ok();
    Row {
        case,
        backend,
        step,
        products,
        update,
        learner_epoch,
        plain_pass,
        steps,
        eval,
        hidden: config.model.hidden,
    }
}

/// Median seconds of one step's five matrix products alone (no autodiff, no element-wise ops).
fn products_alone(batch: usize, hidden: usize, device: &Device) -> f64 {
    let normal = burn::tensor::Distribution::Normal(0.0, 0.1);
    let x = Tensor::<2>::random([batch, 784], normal, device);
    let w1 = Tensor::<2>::random([784, hidden], normal, device);
    let w2 = Tensor::<2>::random([hidden, 784], normal, device);
    let dy = Tensor::<2>::random([batch, 784], normal, device);
    let mut times = Vec::new();
    for round in 0..250 {
        let started = Instant::now();
        let h = x.clone().matmul(w1.clone()); // forward, encoder
        let _y = h.clone().matmul(w2.clone()); // forward, decoder
        let _dw2 = h.transpose().matmul(dy.clone()); // decoder weight gradient
        let dh = dy.clone().matmul(w2.clone().transpose()); // decoder input gradient
        let dw1 = x.clone().transpose().matmul(dh); // encoder weight gradient
        let _ = dw1.slice([0..1, 0..1]).into_scalar::<f32>();
        if round >= 50 {
            times.push(started.elapsed().as_secs_f64());
        }
    }
    median(times)
}

fn main() {
    trainer::cpu::configure_float_mode();
    // Where the `train` binary runs its commands too.
    trainer::cpu::on_thread_pool(bench);
}

fn bench() {
    let quick = std::env::args().any(|a| a == "--quick");
    let data_dir = data::default_dir();
    let started = Instant::now();
    let loads: Vec<f64> = (0..3)
        .map(|_| {
            let t = Instant::now();
            let train = Mnist::load(&data_dir, Split::Train).expect("MNIST train");
            let test = Mnist::load(&data_dir, Split::Test).expect("MNIST test");
            let _ = NoisedMnist::new(train, 0.2, 0);
            let _ = NoisedMnist::new(test, 0.2, 1);
            t.elapsed().as_secs_f64()
        })
        .collect();
    let data_seconds = median(loads);

    let mut rows = Vec::new();
    for case in [1, 7] {
        for backend in [Backend::Flex, Backend::Ndarray] {
            eprintln!("bench: case {case} on {}", backend.name());
            rows.push(bench_case(case, backend, &data_dir, quick));
        }
    }
    println!(
        "\nbench `training` ({} build, {} threads, subnormals {}): {SUBSET} training images (\"subset\"), batch 100",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        if trainer::cpu::flushing_subnormals() {
            "flushed"
        } else {
            "kept"
        },
    );
    println!(
        "| case | backend | step (ms) | steps/s | GFLOP/s | products alone (ms) | their GFLOP/s | step ÷ products | Adam (ms) | plain loop, pass of the subset (s) | learner epoch on subset (s) | learner overhead | 600-step epoch est. (s) | eval 10k (s) |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {:.2} | {:.0} | {:.0} | {:.2} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:+.0} % | {:.2} | {:.3} |",
            r.case,
            r.backend.name(),
            1e3 * r.step,
            1.0 / r.step,
            step_flops(100, r.hidden) / r.step / 1e9,
            1e3 * r.products,
            step_flops(100, r.hidden) / r.products / 1e9,
            r.step / r.products,
            1e3 * r.update,
            r.plain_pass,
            r.learner_epoch,
            100.0 * (r.learner_epoch / r.plain_pass - 1.0),
            r.learner_epoch * 600.0 / r.steps as f64,
            r.eval,
        );
    }
    println!(
        "data loading (4 IDX files, checksums, noise masks for both splits): {data_seconds:.3} s"
    );
    println!("total bench time {:.0} s", started.elapsed().as_secs_f64());
}
