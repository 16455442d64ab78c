//! A run's epoch log, `epochs.csv`: one row per finished epoch, read and written with `csv` and
//! serde. Rows are appended whole (one write each), and readers take whole rows only, so a reader
//! (`train serve`) never sees a torn row of a run that trains.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize, Serializer};

use crate::files::write_atomic;

pub use crate::layout::EPOCHS_CSV;

/// The numbers of one finished epoch: a row of `epochs.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch's images (with dropout, on noised inputs).
    #[serde(serialize_with = "shortest")]
    pub train_loss: f64,
    /// Mean test MSE (no dropout).
    #[serde(serialize_with = "shortest")]
    pub test_mse: f64,
    /// Seconds spent in the training pass.
    #[serde(serialize_with = "milliseconds")]
    pub train_seconds: f64,
    /// Seconds spent in the test pass.
    #[serde(serialize_with = "milliseconds")]
    pub test_seconds: f64,
}

impl EpochRecord {
    /// Seconds of the whole epoch.
    pub fn seconds(&self) -> f64 {
        self.train_seconds + self.test_seconds
    }
}

/// A loss as Rust prints it: the shortest decimal that reads back as the same number.
fn shortest<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// Seconds to the millisecond.
fn milliseconds<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{value:.3}"))
}

/// `records` as CSV, with the header when `header`.
fn to_csv(records: &[EpochRecord], header: bool) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(header)
        .from_writer(Vec::new());
    for record in records {
        writer.serialize(record).expect("a row serialises");
    }
    writer.into_inner().expect("writing to memory")
}

/// Reads `epochs.csv`: whole rows only (a last row without its newline is being written), rows
/// that do not parse skipped; an absent file has none.
pub fn read_epochs(path: &Path) -> Vec<EpochRecord> {
    let Ok(text) = std::fs::read(path) else {
        return Vec::new();
    };
    let whole = text
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(&text[..0], |end| &text[..=end]);
    csv::Reader::from_reader(whole)
        .deserialize()
        .filter_map(Result::ok)
        .collect()
}

/// Appends `record` in one write (the header first, into a new file).
pub fn append_epoch(path: &Path, record: &EpochRecord) -> std::io::Result<()> {
    let new = !path.exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(&to_csv(std::slice::from_ref(record), new))
}

/// Rewrites `epochs.csv` keeping only the rows of epochs `1..=last` (for a resumed run).
pub fn truncate_epochs(path: &Path, last: usize) -> std::io::Result<()> {
    let kept: Vec<EpochRecord> = read_epochs(path)
        .into_iter()
        .filter(|r| r.epoch <= last)
        .collect();
    let mut bytes = to_csv(&kept, true);
    if kept.is_empty() {
        // The header alone (the writer writes it with the first row).
        bytes = b"epoch,train_loss,test_mse,train_seconds,test_seconds\n".to_vec();
    }
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(epoch: usize, loss: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: loss,
            test_mse: loss / 2.0,
            train_seconds: 3.14159,
            test_seconds: 0.2,
        }
    }

    #[test]
    fn rows_are_written_as_before_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EPOCHS_CSV);
        append_epoch(&path, &record(1, 0.011527627)).unwrap();
        append_epoch(&path, &record(2, 0.00034)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "epoch,train_loss,test_mse,train_seconds,test_seconds\n\
             1,0.011527627,0.0057638135,3.142,0.200\n2,0.00034,0.00017,3.142,0.200\n"
        );
        let rows = read_epochs(&path);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].train_loss, 0.011527627);
        truncate_epochs(&path, 1).unwrap();
        assert_eq!(read_epochs(&path).len(), 1);
        truncate_epochs(&path, 0).unwrap();
        assert!(read_epochs(&path).is_empty() && path.exists());
    }

    #[test]
    fn a_row_being_written_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EPOCHS_CSV);
        // The third row is cut inside its last number: "0.1" of "0.15" would parse.
        let text = "epoch,train_loss,test_mse,train_seconds,test_seconds\n1,0.2,0.1,3.5,0.2\n2,0.1,0.09,3.4,0.2\n3,0.09,0.08,3.3,0.1";
        std::fs::write(&path, text).unwrap();
        let rows = read_epochs(&path);
        assert_eq!(rows.iter().map(|r| r.epoch).collect::<Vec<_>>(), [1, 2]);
        std::fs::write(&path, format!("{text}5\n")).unwrap();
        assert_eq!(read_epochs(&path).len(), 3);
    }
}
