//! The sweeps beside a report: each claim cites the findings of the sweeps that bear on it,
//! where a curve settles it better than the seven points.

use crate::sweep::{AxisKind, Measure, SweepReport};
use trainer::wording::count;

use super::report_data::{Claim, Topic};

/// The axes and measurements that bear on claims of `topic`.
fn bearing(topic: Topic) -> &'static [(AxisKind, Measure)] {
    match topic {
        Topic::Dropout => &[(AxisKind::Dropout, Measure::W1Structure)],
        Topic::Copying => &[(AxisKind::Hidden, Measure::IdentityRatio)],
        Topic::Activation => &[(AxisKind::Activation, Measure::W1Structure)],
        Topic::Efficiency => &[(AxisKind::Hidden, Measure::TestMse)],
        Topic::SecondLayer => &[
            (AxisKind::Noise, Measure::W2tStructure),
            (AxisKind::Noise, Measure::W1Structure),
        ],
        Topic::FineTuning => &[],
        Topic::OutputDropout => &[(AxisKind::Dropout, Measure::Brightness)],
    }
}

/// Fills each claim's `sweep` with the findings of `sweeps` that bear on it.
pub(super) fn cite(claims: &mut [Claim], sweeps: &SweepReport) {
    for claim in claims {
        claim.sweep = bearing(claim.topic)
            .iter()
            .flat_map(|&(kind, measure)| {
                sweeps
                    .axes
                    .iter()
                    .filter(move |axis| axis.axis == kind)
                    .flat_map(move |axis| {
                        axis.findings
                            .iter()
                            .filter(move |f| f.measure == measure)
                            .map(move |f| {
                                format!(
                                    "{} around case {} ({}): {}",
                                    axis.axis.quantity(),
                                    axis.base,
                                    count(axis.epochs, "epoch"),
                                    f.text
                                )
                            })
                    })
            })
            .collect();
    }
}
