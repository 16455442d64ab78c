//! How the program ends: one line on stderr for any failure (bad arguments, errors, panics),
//! never a backtrace, and the exit code that says which.
//!
//! | code | meaning |
//! |---:|---|
//! | 0 | done |
//! | 1 | a failure, said in one line |
//! | 2 | a usage error |
//! | 101 | an internal failure (a panic) |
//! | 128 + signal | stopped by Ctrl-C (130), SIGTERM (143) or SIGHUP (129), as asked |

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// A usage error found after parsing (exit code 2): what is wrong with the flags.
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// A usage error as an error value.
pub fn usage(message: impl std::fmt::Display) -> anyhow::Error {
    Usage(message.to_string()).into()
}

/// A command stopped as asked (a signal), with its last words: exit code `128 + signal`.
#[derive(Debug)]
pub struct Signalled {
    /// The signal.
    pub signal: i32,
    /// What to print on stderr (`error: stopped by …`), or nothing for a server stopped as asked.
    pub message: Option<String>,
}

impl std::fmt::Display for Signalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message.as_deref().unwrap_or("stopped"))
    }
}

impl std::error::Error for Signalled {}

/// The exit code and the line for what `run` returned.
pub fn finish(result: anyhow::Result<()>) -> ExitCode {
    let Err(e) = result else {
        return ExitCode::SUCCESS;
    };
    if let Some(usage) = e.downcast_ref::<Usage>() {
        crate::output::err!("error: {usage} (see --help)");
        return ExitCode::from(2);
    }
    if let Some(stop) = e.downcast_ref::<Signalled>() {
        if let Some(message) = &stop.message {
            crate::output::err!("error: {message}");
        }
        return ExitCode::from((128 + stop.signal).clamp(0, 255) as u8);
    }
    crate::output::err!("error: {e:#}");
    ExitCode::FAILURE
}

/// A parse error of clap on one line, with its details and without the usage block.
pub fn one_line(error: &clap::Error) -> String {
    let text = |kind| match error.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => Some(v.join(", ")),
        Some(ContextValue::StyledStr(s)) => Some(s.to_string()),
        Some(ContextValue::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let arg = text(ContextKind::InvalidArg);
    let value = text(ContextKind::InvalidValue);
    let mut line = match (error.kind(), arg, value) {
        (ErrorKind::InvalidValue | ErrorKind::ValueValidation, Some(a), Some(v))
            if v.is_empty() =>
        {
            format!("a value is required for '{a}' but none was supplied")
        }
        (ErrorKind::InvalidValue | ErrorKind::ValueValidation, Some(a), Some(v)) => {
            format!("invalid value '{v}' for '{a}'")
        }
        (ErrorKind::MissingRequiredArgument, Some(a), _) => {
            format!("the following required arguments were not provided: {a}")
        }
        (ErrorKind::ArgumentConflict, Some(a), _) => match text(ContextKind::PriorArg) {
            Some(prior) if prior == a => {
                format!("the argument '{a}' cannot be used multiple times")
            }
            Some(prior) => format!("the argument '{a}' cannot be used with '{prior}'"),
            None => format!("the argument '{a}' cannot be used with the others given"),
        },
        (ErrorKind::UnknownArgument, Some(a), _) => format!("unexpected argument '{a}' found"),
        (ErrorKind::InvalidSubcommand, ..) => match text(ContextKind::InvalidSubcommand) {
            Some(sub) => format!("unrecognized subcommand '{sub}'"),
            None => "unrecognized subcommand".into(),
        },
        (kind, ..) => kind.as_str().unwrap_or("invalid arguments").to_string(),
    };
    if let Some(source) = std::error::Error::source(error) {
        line.push_str(&format!(": {source}"));
    }
    if let Some(valid) = text(ContextKind::ValidValue).filter(|v| !v.is_empty()) {
        line.push_str(&format!(" (possible values: {valid})"));
    }
    for kind in [ContextKind::SuggestedArg, ContextKind::SuggestedSubcommand] {
        if let Some(suggestion) = text(kind) {
            line.push_str(&format!("; a similar one exists: '{suggestion}'"));
        }
    }
    format!("error: {line} (see --help)")
}

/// Replaces Rust's panic message and backtrace with one line and exits, so that an unexpected
/// failure inside a dependency reads as an error rather than a crash dump or a hang.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let message = message.lines().next().unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" ({}:{})", l.file(), l.line()))
            .unwrap_or_default();
        crate::output::err!("error: internal failure: {message}{at}");
        // A panic on a backend's device thread would leave the training thread waiting for an
        // answer forever: end the process instead of hanging.
        std::process::exit(101);
    }));
}

/// Mesa's Vulkan and GL drivers print "XDG_RUNTIME_DIR is invalid or not set" at every device
/// start on machines without a login session (CI, containers); give them a private one.
pub fn quiet_mesa_runtime_dir() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some() {
        return;
    }
    let user = std::env::var("USER").unwrap_or_else(|_| "user".into());
    let dir = std::env::temp_dir().join(format!("burn-autoencoder-runtime-{user}"));
    use std::os::unix::fs::DirBuilderExt;
    let created = std::fs::DirBuilder::new()
        .mode(0o700)
        .recursive(true)
        .create(&dir);
    if created.is_ok() {
        // SAFETY: called at the start of `main`, before any other thread exists.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    fn error_of(args: &[&str]) -> String {
        one_line(&Cli::try_parse_from(args).unwrap_err())
    }

    #[test]
    fn usage_errors_keep_their_details_on_one_line() {
        let e = error_of(&["train", "compare"]);
        assert!(
            e.starts_with("error: the following required arguments were not provided: ")
                && e.contains("--case")
                && e.ends_with("(see --help)")
                && !e.contains('\n'),
            "{e}"
        );
        let e = error_of(&["train", "--case", "9"]);
        assert_eq!(
            e,
            "error: invalid value '9' for '--case <N>': unknown case 9: the study has cases 1 to 7 (see --help)"
        );
        let e = error_of(&["train", "--case", "7", "--config", "x.toml"]);
        assert!(e.contains("cannot be used with"), "{e}");
        let e = error_of(&["train", "--case", "7", "--resum"]);
        assert!(
            e.contains("unexpected argument '--resum'") && e.contains("'--resume'"),
            "{e}"
        );
    }
}
