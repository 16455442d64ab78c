//! The epoch axis of a loss chart, with whole-epoch ticks, and the labels of both axes' ticks.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// A tick label: at most four decimals without trailing zeros (`0.3`, not `0.30000000000000004`),
/// scientific below 0.001.
pub(super) fn tick(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    if value.abs() < 1e-3 {
        return format!("{value:.0e}");
    }
    let text = format!("{value:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The epoch axis of a chart: its range `0..end` and where its labelled and light grid lines go.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct EpochAxis {
    /// Right end of the axis: a little after the last epoch, so its points are off the frame.
    pub(super) end: f64,
    /// Labelled ticks: whole epochs from 0, every 1, 2, 5, 10, 20, … epochs (at most 10 steps).
    ticks: Vec<f64>,
    /// Light grid lines between the ticks, at whole epochs too (none when ticks are every epoch).
    light: Vec<f64>,
}

/// The epoch axis for curves whose last point is at epoch position `last` (at least one epoch):
/// whole-epoch ticks only, as a run's epochs are whole; fractions would be labels of no epoch.
pub(super) fn epoch_axis(last: f64) -> EpochAxis {
    let epochs = if last.is_finite() {
        last.ceil().max(1.0)
    } else {
        1.0
    };
    // Steps 1, 2, 5, 10, 20, 50, …: the first giving at most 10 intervals.
    let mut step = 1.0;
    for factor in [2.0, 2.5, 2.0].into_iter().cycle() {
        if epochs / step <= 10.0 {
            break;
        }
        step *= factor;
    }
    let every = |step: f64| (0..=(epochs / step) as usize).map(move |i| i as f64 * step);
    let light_step = (step / 5.0).max(1.0);
    EpochAxis {
        end: epochs + (epochs * 0.04).max(0.15),
        ticks: every(step).collect(),
        light: if step > 1.0 {
            every(light_step).collect()
        } else {
            Vec::new()
        },
    }
}

/// The axis as plotters draws it: linear over `0..end`, bold grid lines and labels at `ticks`,
/// light ones at `light`. (plotters' own custom key points, `with_key_points`, cannot be used on
/// an `f64` axis with a mesh: it loses the axis's value formatter.)
impl Ranged for EpochAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        RangedCoordf64::from(0.0..self.end).map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        0.0..self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_short_and_exact() {
        assert_eq!(tick(0.30000000000000004), "0.3");
        assert_eq!(tick(0.05), "0.05");
        assert_eq!(tick(1.0), "1");
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(0.0002), "2e-4");
    }

    #[test]
    fn epoch_axis_has_whole_epoch_ticks_and_room_after_the_last() {
        for (last, ticks) in [
            (1.0, vec![0.0, 1.0]),
            (0.3, vec![0.0, 1.0]),
            (f64::NAN, vec![0.0, 1.0]),
            (3.0, vec![0.0, 1.0, 2.0, 3.0]),
            (2.02, vec![0.0, 1.0, 2.0, 3.0]),
        ] {
            let axis = epoch_axis(last);
            assert_eq!(axis.ticks, ticks, "last {last}");
            assert!(axis.light.is_empty(), "last {last}");
            let epochs = ticks[ticks.len() - 1];
            assert!(axis.end > epochs && axis.end < epochs * 1.2, "{axis:?}");
        }
        let axis = epoch_axis(20.0);
        assert_eq!(
            axis.ticks,
            (0..=10).map(|i| f64::from(i * 2)).collect::<Vec<_>>()
        );
        assert_eq!(axis.light, (0..=20).map(f64::from).collect::<Vec<_>>());
        assert!(axis.end > 20.0 && axis.end <= 21.0, "{axis:?}");
        // At most 10 steps of 1, 2, 5, 10, 20, 50, …, every tick a whole epoch.
        for (last, step) in [
            (10.0, 1.0),
            (11.0, 2.0),
            (37.0, 5.0),
            (100.0, 10.0),
            (1000.0, 100.0),
        ] {
            let axis = epoch_axis(last);
            assert_eq!(axis.ticks[1], step, "last {last}");
            assert!(axis.ticks.len() <= 11 && axis.ticks.iter().all(|t| t.fract() == 0.0));
            assert!(axis.ticks[axis.ticks.len() - 1] <= last && axis.end > last);
        }
    }
}
