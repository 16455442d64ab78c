//! Run names: one plain path component, and the names that belong to the study's cases, the
//! report, a comparison or the sweeps.

use crate::cases::CASE_COUNT;

/// Why a run name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Not one plain path component.
    #[error(
        "run name {name:?}: use ASCII letters and digits, '-', '_' and '.' (not first), at most 100 characters"
    )]
    NotPlain {
        /// The name.
        name: String,
    },
    /// It names a directory that another run owns.
    #[error("run name {name:?} belongs to {owner}'s directory")]
    Owned {
        /// The name.
        name: String,
        /// Who owns it.
        owner: Owner,
    },
}

/// Checks a run name: one plain path component.
pub fn check_run_name(name: &str) -> Result<(), NameError> {
    let plain = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if plain {
        Ok(())
    } else {
        Err(NameError::NotPlain {
            name: name.to_string(),
        })
    }
}

/// Who a run directory's name belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Study case `case`'s runs: `caseN`, `caseN-seedK`, and the report's variants
    /// `caseN-hidden-dropout[-seedK]`.
    Case {
        /// The study case.
        case: usize,
        /// `K` of a `-seedK` name.
        seed: Option<u64>,
        /// Whether it is the report's hidden-dropout variant.
        variant: bool,
    },
    /// The report (`report`, `quick`).
    Report,
    /// A backend comparison (`compare-…`).
    Compare,
    /// A sweep's page (`sweep`) or one of its points (`sweep-…`).
    Sweep,
}

impl Owner {
    /// Who owns `name`, if anyone.
    pub fn of(name: &str) -> Option<Owner> {
        match name {
            "report" | "quick" => return Some(Owner::Report),
            _ if name.starts_with("compare-") => return Some(Owner::Compare),
            "sweep" => return Some(Owner::Sweep),
            _ if name.starts_with("sweep-") => return Some(Owner::Sweep),
            _ => {}
        }
        let (run, seed) = match name.rsplit_once("-seed") {
            Some((run, k)) if k.parse::<u64>().is_ok() => (run, k.parse().ok()),
            _ => (name, None),
        };
        let (case, variant) = match run.strip_suffix("-hidden-dropout") {
            Some(case) => (case, true),
            None => (run, false),
        };
        let case: usize = case.strip_prefix("case")?.parse().ok()?;
        (1..=CASE_COUNT).contains(&case).then_some(Owner::Case {
            case,
            seed,
            variant,
        })
    }
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::Case {
                case,
                seed: Some(seed),
                ..
            } => write!(f, "study case {case}'s run of seed {seed}"),
            Owner::Case { case, .. } => write!(f, "study case {case}"),
            Owner::Report => f.write_str("the report"),
            Owner::Compare => f.write_str("the backend comparison"),
            Owner::Sweep => f.write_str("a sweep"),
        }
    }
}

/// Checks that a run of the user's own (a name the user chose, or a config file's stem) does not take a
/// directory that a study case, the report or a comparison owns. `case` and `seed` are the
/// study case and seed being trained: case N's own names (`caseN`, and `caseN-seedK` for seed K)
/// are theirs.
pub fn check_own_name(name: &str, case: Option<usize>, seed: u64) -> Result<(), NameError> {
    check_run_name(name)?;
    match Owner::of(name) {
        None => Ok(()),
        Some(Owner::Case {
            case: n,
            seed: k,
            variant: false,
        }) if case == Some(n) && k.is_none_or(|k| k == seed) => Ok(()),
        Some(owner) => Err(NameError::Owned {
            name: name.to_string(),
            owner,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_plain_component_and_owned_names_are_refused() {
        for good in ["seed1", "case7x", "my_run", "case8", "case7-seedling"] {
            check_own_name(good, None, 0).unwrap();
        }
        for bad in ["", "..", ".hidden", "a/b", "a b", "/abs", "é"] {
            assert!(check_run_name(bad).is_err(), "{bad:?}");
        }
        check_own_name("case7", Some(7), 0).unwrap();
        check_own_name("case7-seed2", Some(7), 2).unwrap();
        for (owned, case, seed) in [
            ("case1", None, 0),
            ("case7", Some(3), 0),
            ("case1-seed2", Some(7), 2),
            ("case7-seed2", Some(7), 1),
            ("case3-hidden-dropout", Some(3), 0),
            ("case3-hidden-dropout-seed1", Some(3), 1),
            ("report", None, 0),
            ("quick", None, 0),
            ("compare-case7", None, 0),
            ("sweep", None, 0),
            ("sweep-case7-h16-e5", Some(7), 0),
        ] {
            let e = check_own_name(owned, case, seed).unwrap_err().to_string();
            assert!(e.contains("belongs to"), "{e}");
        }
        assert_eq!(
            Owner::of("case1-hidden-dropout-seed2"),
            Some(Owner::Case {
                case: 1,
                seed: Some(2),
                variant: true
            })
        );
    }
}
