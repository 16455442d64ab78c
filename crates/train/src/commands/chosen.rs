//! The run a command's `--case N` or `--name NAME` chooses (for `visualize` and `export`).

/// The run directory's name that `--case N` or `--name NAME` (checked) chooses; clap requires one.
pub(super) fn chosen_run(case: Option<usize>, name: Option<&String>) -> anyhow::Result<String> {
    match (case, name) {
        (Some(case), _) => Ok(trainer::cases::case_name(case).expect("clap checks the case")),
        (None, Some(name)) => {
            trainer::names::check_run_name(name).map_err(|e| crate::advice::name_refused(e, ""))?;
            Ok(name.clone())
        }
        (None, None) => unreachable!("clap requires --case or --name"),
    }
}
