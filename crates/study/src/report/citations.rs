//! The sweeps beside a report: each claim cites the findings of the sweeps that bear on it,
//! where a curve settles it better than the seven points.

use crate::sweep::{AxisKind, Measure, SweepReport};
use trainer::wording::count;

use super::report_data::{Claim, Topic};

/// The axes, their base case where the claim is about one case (any base otherwise), and the
/// measurements that bear on claims of `topic`; each citation names the case swept around.
fn bearing(topic: Topic) -> &'static [(AxisKind, Option<usize>, Measure)] {
    match topic {
        Topic::Strokes => &[(AxisKind::Hidden, Some(1), Measure::W1Structure)],
        Topic::Dropout => &[(AxisKind::Dropout, None, Measure::W1Structure)],
        Topic::Copying => &[
            (AxisKind::Hidden, Some(1), Measure::IdentityRatio),
            (AxisKind::Dropout, None, Measure::IdentityRatio),
        ],
        Topic::Activation => &[(AxisKind::Activation, None, Measure::W1Structure)],
        Topic::Efficiency => &[(AxisKind::Hidden, Some(7), Measure::TestMse)],
        Topic::SecondLayer => &[
            (AxisKind::Noise, Some(7), Measure::W2tStructure),
            (AxisKind::Noise, Some(7), Measure::W1Structure),
        ],
        Topic::FineTuning => &[],
        Topic::OutputDropout => &[(AxisKind::Dropout, None, Measure::Brightness)],
    }
}

/// Fills each claim's `sweep` with the findings of `sweeps` that bear on it.
pub(super) fn cite(claims: &mut [Claim], sweeps: &SweepReport) {
    for claim in claims {
        claim.sweep = bearing(claim.topic)
            .iter()
            .flat_map(|&(kind, base, measure)| {
                sweeps
                    .axes
                    .iter()
                    .filter(move |axis| axis.axis == kind && base.is_none_or(|b| axis.base == b))
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
