//! Why a run stopped before its last epoch, as values: a signal, a loss that diverged, a failed
//! write; and what of the run is kept. The program adds how to go on.

/// The first batch whose loss was not finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Divergence {
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based step within the epoch's pass.
    pub step: usize,
    /// Whether it happened in the test pass (else in training).
    pub testing: bool,
    /// The loss (NaN or ±inf).
    pub loss: f64,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the loss became {} at epoch {}, {} step {}",
            self.loss,
            self.epoch,
            if self.testing { "test" } else { "training" },
            self.step
        )
    }
}

/// Why a run stopped before its last epoch, and what of it is kept; the program adds how to go on.
#[derive(Debug, thiserror::Error)]
pub enum Stopped {
    /// Stopped as the caller asked (through the run's interrupter: Ctrl-C, say).
    #[error("stopped by {} {}; {}", reason.as_deref().unwrap_or("request"), when_text(*during), kept_text(*kept))]
    Asked {
        /// What asked, as the caller told the interrupter (`Ctrl-C (SIGINT)`).
        reason: Option<String>,
        /// The epoch that was cut short; none when the signal came after the last one.
        during: Option<usize>,
        /// The newest epoch whose checkpoint is kept (0: none).
        kept: usize,
    },
    /// A loss became NaN or infinite.
    #[error("training diverged: {divergence} (learning rate {learning_rate:?}); {}", kept_text(*kept))]
    Diverged {
        /// Where.
        divergence: Divergence,
        /// The run's learning rate.
        learning_rate: f64,
        /// The newest epoch whose checkpoint is kept (0: none).
        kept: usize,
    },
    /// Writing a checkpoint or a log failed (a full disk, say), or training failed otherwise.
    #[error("{message}; {}{}", match unsaved { Some(e) => format!("epoch {e} was shown but could not be saved; "), None => String::new() }, kept_text(*kept))]
    Failed {
        /// What failed.
        message: String,
        /// The newest epoch that finished but has no checkpoint, if any.
        unsaved: Option<usize>,
        /// The newest epoch whose checkpoint is kept (0: none).
        kept: usize,
    },
}

impl Stopped {
    /// Whether the caller asked for the stop (rather than a divergence or a failure).
    pub fn asked(&self) -> bool {
        matches!(self, Stopped::Asked { .. })
    }
}

fn when_text(during: Option<usize>) -> String {
    match during {
        Some(epoch) => format!("during epoch {epoch}"),
        None => "after the last epoch, before the final model was written".to_string(),
    }
}

fn kept_text(kept: usize) -> String {
    match kept {
        0 => "no epoch was saved".to_string(),
        k => format!("the checkpoint of epoch {k} is kept"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_after_the_last_epoch_names_no_epoch_beyond_it() {
        let ctrl_c = Some("Ctrl-C (SIGINT)".to_string());
        let during = Stopped::Asked {
            reason: ctrl_c.clone(),
            during: Some(2),
            kept: 1,
        };
        assert_eq!(
            during.to_string(),
            "stopped by Ctrl-C (SIGINT) during epoch 2; the checkpoint of epoch 1 is kept"
        );
        let after = Stopped::Asked {
            reason: ctrl_c,
            during: None,
            kept: 3,
        };
        assert_eq!(
            after.to_string(),
            "stopped by Ctrl-C (SIGINT) after the last epoch, before the final model was written; the checkpoint of epoch 3 is kept"
        );
    }
}
