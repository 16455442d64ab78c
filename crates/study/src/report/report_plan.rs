//! What the report covers: its options, and the runs it plans (the seven cases, the corrected
//! variants, each seed).

use std::path::PathBuf;

use crate::study_error::Result;
use trainer::backend::Backend;
use trainer::cases::{CASE_COUNT, case};
use trainer::config::TrainingConfig;

/// The cases whose corrected variant (dropout on the hidden layer only) gets its own row.
pub const CORRECTED_CASES: [usize; 4] = [1, 3, 5, 6];
pub use crate::measuring::QUICK_IMAGES;
/// Seeds of the fine-tuning comparison.
pub const FINE_TUNE_SEEDS: u64 = 3;
/// Most seeds a report trains.
pub const MAX_SEEDS: u64 = 10;

/// How to build the report.
#[derive(Clone)]
pub struct ReportOptions {
    /// Root of the runs (`artifacts`): each case lives in `<root>/<name>`, the report in
    /// `<root>/report`.
    pub root: PathBuf,
    /// Directory of the MNIST files.
    pub data_dir: PathBuf,
    /// Backend for training missing runs (measurements run on the CPU).
    pub backend: Backend,
    /// Small runs for a smoke test: 2000 training images, 1 epoch, short probes.
    pub quick: bool,
    /// Use only runs that exist; train nothing.
    pub reuse: bool,
    /// Seeds of every run: 0..seeds (seed 0's runs keep the plain names).
    pub seeds: u64,
    /// Where its events go (the runs' training, the measuring).
    pub events: trainer::events::Sink,
    /// Take over a lock another machine's process left.
    pub break_lock: bool,
    /// How the caller stops the runs after their current step.
    pub interrupter: trainer::training::Interrupter,
}

impl ReportOptions {
    /// Epochs of each fine-tuning run.
    pub(super) fn fine_tune_epochs(&self) -> usize {
        if self.quick { 1 } else { 3 }
    }
}

/// The configs the report covers: the seven cases, then the corrected variants, for seed 0; then
/// the same for each further seed `k`, named `<run>-seed<k>`.
pub fn planned_configs(quick: bool, seeds: u64) -> Result<Vec<TrainingConfig>> {
    let base = seed_zero_configs(quick)?;
    let mut configs = base.clone();
    for seed in 1..seeds {
        for config in &base {
            let mut config = config.clone().with_seed(seed);
            config.name = format!("{}-seed{seed}", config.name);
            configs.push(config);
        }
    }
    Ok(configs)
}

/// The run a report run belongs to: `case1-hidden-dropout` for `case1-hidden-dropout-seed2`.
pub fn run_of(name: &str) -> &str {
    match name.rsplit_once("-seed") {
        Some((run, seed)) if seed.parse::<u64>().is_ok() => run,
        _ => name,
    }
}

fn seed_zero_configs(quick: bool) -> Result<Vec<TrainingConfig>> {
    let mut configs = Vec::new();
    for number in 1..=CASE_COUNT {
        configs.push(case(number)?);
    }
    for number in CORRECTED_CASES {
        let mut config = case(number)?;
        config.name = format!("case{number}-hidden-dropout");
        config.description = format!("{} — dropout on the hidden layer only", config.description);
        config.model.output_dropout = false;
        configs.push(config);
    }
    if quick {
        for config in &mut configs {
            config.epochs = 1;
            config.limit = Some(QUICK_IMAGES);
        }
    }
    Ok(configs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_seed_is_a_run_of_its_own_named_after_the_seed() {
        let configs = planned_configs(true, 3).unwrap();
        assert_eq!(configs.len(), 33);
        let names: Vec<&str> = configs.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names[0], "case1");
        assert_eq!(names[11], "case1-seed1");
        assert_eq!(names[32], "case6-hidden-dropout-seed2");
        for config in &configs {
            let seed = config.seed;
            assert_eq!(config.name.ends_with(&format!("-seed{seed}")), seed > 0);
            assert_eq!(config.epochs, 1);
        }
        assert_eq!(run_of("case6-hidden-dropout-seed2"), "case6-hidden-dropout");
        assert_eq!(run_of("case1"), "case1");
        assert_eq!(run_of("my-seedling"), "my-seedling");
    }
}
