//! The learner's per-batch loss logs (`<run>/train/epoch-N/Loss.log`, `valid/…`) read back as
//! curves for the loss charts.

use std::path::Path;

use figures::LossCurves;

use crate::study_error::Result;

/// Reads the losses the learner logged in `dir/train` and `dir/valid`.
pub fn logged_losses(dir: &Path, label: &str) -> Result<LossCurves> {
    let mut curves = LossCurves {
        label: label.to_string(),
        ..Default::default()
    };
    for epoch in 1.. {
        let train = dir.join(format!("train/epoch-{epoch}/Loss.log"));
        let valid = dir.join(format!("valid/epoch-{epoch}/Loss.log"));
        if !train.exists() {
            break;
        }
        let (batches, train_final) = read_loss_log(&train)?;
        let n = batches.len().max(1) as f64;
        for (i, loss) in batches.iter().enumerate() {
            curves
                .batches
                .push(((epoch - 1) as f64 + (i + 1) as f64 / n, *loss));
        }
        let mean = train_final.unwrap_or_else(|| batches.iter().sum::<f64>() / n);
        curves.train.push((epoch as f64, mean));
        if valid.exists() {
            let (batches, valid_final) = read_loss_log(&valid)?;
            let mean = valid_final
                .unwrap_or_else(|| batches.iter().sum::<f64>() / batches.len().max(1) as f64);
            curves.test.push((epoch as f64, mean));
        }
    }
    if curves.train.is_empty() {
        return Err(trainer::Error::File {
            path: dir.to_path_buf(),
            what: "no training logs (train/epoch-1/Loss.log is missing)".into(),
        }
        .into());
    }
    Ok(curves)
}

/// Per-batch values and the epoch's final value of one `Loss.log`.
fn read_loss_log(path: &Path) -> Result<(Vec<f64>, Option<f64>)> {
    let unreadable = |what: String| trainer::Error::File {
        path: path.to_path_buf(),
        what,
    };
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(e.to_string()))?;
    let mut batches = Vec::new();
    let mut last = None;
    for line in text.lines().filter(|l| !l.is_empty()) {
        let mut fields = line.split(',');
        let value: f64 = fields
            .next()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| unreadable(format!("unreadable line {line:?}")))?;
        match fields.next() {
            Some("final") => last = Some(value),
            _ => batches.push(value),
        }
    }
    Ok((batches, last))
}
