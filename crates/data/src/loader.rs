//! The training and test batches, with each epoch's randomness derived from `(seed, epoch)`.
//!
//! Burn's `DataLoaderBuilder::shuffle` advances one RNG across epochs, so a run resumed at epoch
//! k would replay epoch 1's order; the device's dropout stream has the same problem. This loader
//! shuffles epoch e with a permutation drawn from `(seed, e)` and, when asked, re-seeds the device
//! at the start of each epoch, so an interrupted run resumed from a checkpoint trains exactly as
//! an uninterrupted one. It also builds batches straight from the image bytes, without per-item
//! allocations, one batch ahead on a thread of its own, so that the training step does not wait
//! for them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::data::dataset::DatasetError;
use burn::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::mnist::PIXELS;
use crate::noise::NoisedMnist;

/// A batch of inputs and targets, both `[batch, 784]`.
#[derive(Debug, Clone)]
pub struct AutoencoderBatch {
    /// Possibly noised inputs.
    pub inputs: Tensor<2>,
    /// Clean targets.
    pub targets: Tensor<2>,
}

/// Batches of a [`NoisedMnist`], optionally shuffled per epoch.
#[derive(Clone)]
pub struct EpochLoader {
    set: Arc<NoisedMnist>,
    batch_size: usize,
    device: Device,
    /// `Some(seed)`: shuffle each epoch and re-seed the device with `(seed, epoch)`.
    seed: Option<u64>,
    /// The epoch the next `iter()` call serves (1-based), shared by clones.
    next_epoch: Arc<AtomicUsize>,
    range: (usize, usize),
}

impl EpochLoader {
    /// Batches of `set` in order (the test split).
    pub fn sequential(set: NoisedMnist, batch_size: usize, device: Device) -> Self {
        let len = set.len();
        Self {
            set: Arc::new(set),
            batch_size,
            device,
            seed: None,
            next_epoch: Arc::new(AtomicUsize::new(1)),
            range: (0, len),
        }
    }

    /// Batches of `set` shuffled per epoch from `seed`, starting at epoch `first_epoch`
    /// (greater than 1 when resuming); the device is re-seeded at the start of each epoch.
    pub fn shuffled(
        set: NoisedMnist,
        batch_size: usize,
        device: Device,
        seed: u64,
        first_epoch: usize,
    ) -> Self {
        let mut loader = Self::sequential(set, batch_size, device);
        loader.seed = Some(seed);
        loader
            .next_epoch
            .store(first_epoch.max(1), Ordering::SeqCst);
        loader
    }

    /// The order in which epoch `epoch` visits the images.
    pub fn order(&self, epoch: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (self.range.0..self.range.1).collect();
        if let Some(seed) = self.seed {
            order.shuffle(&mut StdRng::seed_from_u64(epoch_seed(seed, epoch)));
        }
        order
    }
}

/// The seed of epoch `epoch`'s shuffle and dropout masks.
pub fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    // SplitMix64 step: nearby (seed, epoch) pairs give unrelated streams.
    let mut z = seed.wrapping_add((epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One epoch's batches, built by a thread of their own while the previous batch trains.
struct EpochIter {
    device: Device,
    /// Each batch's inputs, targets and image count, in order.
    batches: Receiver<(Vec<f32>, Vec<f32>, usize)>,
    builder: Option<JoinHandle<()>>,
    position: usize,
    len: usize,
}

impl EpochIter {
    fn new(loader: &EpochLoader, order: Vec<usize>) -> Self {
        let len = order.len();
        let (set, batch_size) = (Arc::clone(&loader.set), loader.batch_size);
        // One batch waits in the channel while the next is built: two ahead at most.
        let (sender, batches) = sync_channel(1);
        let builder = std::thread::Builder::new()
            .name("batches".into())
            .spawn(move || {
                run_only_on_idle_cores();
                for indices in order.chunks(batch_size) {
                    let n = indices.len();
                    let mut inputs = Vec::with_capacity(n * PIXELS);
                    let mut targets = Vec::with_capacity(n * PIXELS);
                    set.fill_batch(indices, &mut inputs, &mut targets);
                    if sender.send((inputs, targets, n)).is_err() {
                        return; // The epoch was abandoned (an interrupt, an error).
                    }
                }
            })
            .expect("spawning the batch thread");
        Self {
            device: loader.device.clone(),
            batches,
            builder: Some(builder),
            position: 0,
            len,
        }
    }
}

/// Gives the calling thread Linux's idle scheduling class: it runs only on a core nothing else
/// wants. The batch thread must not take a core from one of the threads a matrix product is split
/// over, or the whole product waits for that thread (measured in BENCHMARKS.md, session 6).
fn run_only_on_idle_cores() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: pid 0 is the calling thread; `param` is a valid sched_param. A failure only
        // leaves the thread at normal priority.
        unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
    }
}

impl Iterator for EpochIter {
    type Item = Result<AutoencoderBatch, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        let Ok((inputs, targets, n)) = self.batches.recv() else {
            // The builder is done: after the last batch, or because it panicked.
            if let Some(Err(panic)) = self.builder.take().map(JoinHandle::join) {
                std::panic::resume_unwind(panic);
            }
            return None;
        };
        self.position += n;
        Some(Ok(AutoencoderBatch {
            inputs: Tensor::from_data(TensorData::new(inputs, [n, PIXELS]), &self.device),
            targets: Tensor::from_data(TensorData::new(targets, [n, PIXELS]), &self.device),
        }))
    }
}

impl DataLoaderIterator<AutoencoderBatch> for EpochIter {
    fn progress(&self) -> Progress {
        Progress::new(self.position, self.len, Some("items".into()))
    }
}

impl DataLoader<AutoencoderBatch> for EpochLoader {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<AutoencoderBatch> + 'a> {
        let epoch = self.next_epoch.fetch_add(1, Ordering::SeqCst);
        if let Some(seed) = self.seed {
            self.device.seed(epoch_seed(seed, epoch));
        }
        Box::new(EpochIter::new(self, self.order(epoch)))
    }

    fn num_items(&self) -> usize {
        self.range.1 - self.range.0
    }

    fn to_device(&self, device: &Device) -> Arc<dyn DataLoader<AutoencoderBatch>> {
        Arc::new(Self {
            device: device.clone(),
            ..self.clone()
        })
    }

    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<AutoencoderBatch>> {
        let base = self.range.0;
        Arc::new(Self {
            range: (base + start, (base + end).min(self.range.1)),
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Mnist, Split, default_dir};

    fn loader(seed: Option<u64>, first_epoch: usize) -> EpochLoader {
        let set = NoisedMnist::new(
            Mnist::load(&default_dir(), Split::Test).unwrap().limit(250),
            0.2,
            0,
        );
        match seed {
            Some(seed) => EpochLoader::shuffled(set, 100, Device::flex(), seed, first_epoch),
            None => EpochLoader::sequential(set, 100, Device::flex()),
        }
    }

    #[test]
    fn batches_cover_the_set_once_per_epoch() {
        let l = loader(Some(3), 1);
        let sizes: Vec<usize> = l.iter().map(|b| b.unwrap().inputs.dims()[0]).collect();
        assert_eq!(sizes, vec![100, 100, 50]);
        let mut order = l.order(1);
        order.sort_unstable();
        assert_eq!(order, (0..250).collect::<Vec<_>>());
        assert_eq!(loader(None, 1).order(1), (0..250).collect::<Vec<_>>());
    }

    #[test]
    fn an_epoch_left_halfway_lets_the_next_one_run() {
        let l = loader(Some(3), 1);
        let mut first = l.iter();
        assert!(first.next().is_some());
        // Dropped with batches still being built: the batch thread ends, nothing waits on it.
        drop(first);
        let second: Vec<usize> = l.iter().map(|b| b.unwrap().inputs.dims()[0]).collect();
        assert_eq!(second, vec![100, 100, 50]);
    }

    #[test]
    fn each_epoch_has_its_own_order_and_resuming_replays_it() {
        let l = loader(Some(3), 1);
        assert_ne!(l.order(1), l.order(2));
        assert_eq!(l.order(2), loader(Some(3), 1).order(2));
        assert_ne!(l.order(2), loader(Some(4), 1).order(2));
        // A loader resumed at epoch 3 serves the same first batch as epoch 3 of a full run.
        let full = loader(Some(3), 1);
        let _ = (full.iter().count(), full.iter().count());
        let third = full.iter().next().unwrap().unwrap().inputs.into_data();
        let resumed = loader(Some(3), 3)
            .iter()
            .next()
            .unwrap()
            .unwrap()
            .inputs
            .into_data();
        assert_eq!(third, resumed);
    }
}
