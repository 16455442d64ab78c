//! What can go wrong in the study's library, as values: the program puts them into words and
//! adds the ways out, which name its flags.

use std::path::PathBuf;

use crate::refusal::RunError;
use crate::stop::Stopped;

/// A result of the study's library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every failure of the study's library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A run directory cannot be used as asked (a refusal: nothing was changed).
    #[error(transparent)]
    Run(#[from] RunError),
    /// Training stopped before its last epoch.
    #[error(transparent)]
    Stopped(#[from] Stopped),
    /// A case file or a saved configuration is not valid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// MNIST cannot be read.
    #[error(transparent)]
    Data(#[from] data::DataError),
    /// wgpu finds no GPU adapter (nor a software Vulkan driver).
    #[error(
        "wgpu: no Vulkan, Metal or DirectX 12 adapter ({reason}); on a machine without a GPU install a software Vulkan driver (Debian: mesa-vulkan-drivers) or use a CPU backend"
    )]
    NoAdapter {
        /// What wgpu said.
        reason: String,
    },
    /// The batch is larger than the training set.
    #[error("the batch size ({batch}) is larger than the {images} training image{} this run uses", if *images == 1 { "" } else { "s" })]
    BatchTooLarge {
        /// Images per batch.
        batch: usize,
        /// Training images.
        images: usize,
    },
    /// A limit of more images than the training set has.
    #[error("limit: {limit} is more than the {images} training images")]
    LimitTooLarge {
        /// The limit asked for.
        limit: usize,
        /// Training images there are.
        images: usize,
    },
    /// Not enough free space for a run's checkpoints.
    #[error("{}: not enough free space for this run's checkpoints (needs about {needed_mb} MB, {free_mb} MB free)", dir.display())]
    NoSpace {
        /// The run directory.
        dir: PathBuf,
        /// Megabytes needed.
        needed_mb: u64,
        /// Megabytes free.
        free_mb: u64,
    },
    /// Another process writes the run.
    #[error("{} is in use by {holder}", dir.display())]
    Busy {
        /// The run directory.
        dir: PathBuf,
        /// The lock's record: `pid … on …, started …`.
        holder: String,
    },
    /// The run's lock was left by a process on another machine, which cannot be asked whether
    /// it still runs: the lock is not taken over unless asked.
    #[error("{} is locked by {holder}, a process on another machine that cannot be checked from {here}; nothing was changed", dir.display())]
    LockedElsewhere {
        /// The run directory.
        dir: PathBuf,
        /// The lock's record: `pid … on <host>, started …`.
        holder: String,
        /// The holder's machine.
        host: String,
        /// This machine.
        here: String,
    },
    /// A model file cannot be used: absent, unreadable, or of another shape.
    #[error("{}: {reason}", path.display())]
    Model {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A run asked for by name is not one of the job's.
    #[error("{name} is not a run of this job (its runs: {})", shorten(runs))]
    NotInJob {
        /// The name asked for.
        name: String,
        /// The job's runs.
        runs: Vec<String>,
    },
    /// A file cannot be written where it was asked to go (nothing was written).
    #[error("{}: {error}", path.display())]
    Output {
        /// Where it was to go.
        path: PathBuf,
        /// Why not.
        error: OutputError,
    },
    /// A file or directory cannot be read or written (a full disk says so).
    #[error("{}: {what}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        what: String,
    },
    /// A figure would be larger than a figure may be.
    #[error(
        "{name} would be {width} × {height} pixels at zoom {zoom}, more than {megapixels} megapixels"
    )]
    FigureTooLarge {
        /// The figure's file name.
        name: String,
        /// Its width in pixels.
        width: u64,
        /// Its height in pixels.
        height: u64,
        /// The zoom asked for.
        zoom: u32,
        /// The largest zoom at which it fits, if any.
        fits: Option<u32>,
        /// The largest figure drawn, in megapixels.
        megapixels: u64,
    },
    /// Seeds of one run whose configurations differ.
    #[error("{} and {} are seeds of one run but differ ({diffs}); their mean would mix two experiments", runs.0, runs.1)]
    Pooling {
        /// The two runs.
        runs: (String, String),
        /// How they differ.
        diffs: String,
    },
    /// The report found no finished run.
    #[error("{}: no finished runs to report on", root.display())]
    NothingToReport {
        /// The artifacts directory.
        root: PathBuf,
    },
    /// A model file to import cannot be used.
    #[error("{}: {error}", path.display())]
    Weights {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        error: WeightsError,
    },
    /// The drawing library failed.
    #[error("{0}")]
    Figure(String),
}

/// Why a file cannot be written where it was asked to go.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutputError {
    /// Something that is not a regular file is there.
    #[error("{what} is in the way; nothing was written")]
    InTheWay {
        /// What it is.
        what: &'static str,
    },
    /// A symbolic link to nothing is there.
    #[error("a link to nothing is in the way; nothing was written")]
    DanglingLink,
    /// A file of another kind is there, which is never replaced.
    #[error("exists and is not a {kind} file; nothing was written")]
    OtherKind {
        /// The kind that would be written.
        kind: &'static str,
    },
    /// A file of the same kind with other contents is there.
    #[error("exists and holds something else; nothing was written")]
    Exists,
    /// A file appeared there while this one was being written (another process).
    #[error("appeared while this export ran (another process writing it?); not replaced")]
    Appeared,
}

/// Why a foreign model file cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeightsError {
    /// It cannot be read, or read as the format it looks like.
    #[error("{what}")]
    Unreadable {
        /// What failed.
        what: String,
    },
    /// Not a regular file: a FIFO, a device, a socket, a directory.
    #[error("{kind}, not a regular file: only a model file can be imported")]
    NotRegular {
        /// What it is.
        kind: &'static str,
    },
    /// Larger than any file of a model the study allows.
    #[error("{}, larger than any model of at most {max} hidden units could make it ({}); not read", megabytes(*bytes), megabytes(*limit), max = model::MAX_HIDDEN)]
    TooLarge {
        /// Its size.
        bytes: u64,
        /// The largest size read.
        limit: u64,
    },
    /// More hidden units than any model may have.
    #[error("a model of {hidden} hidden units; at most {max} are allowed (as for sweeps and case files); not read", max = model::MAX_HIDDEN)]
    TooManyUnits {
        /// Hidden units, from the shapes in the header.
        hidden: usize,
    },
    /// A TorchScript archive (`torch.jit.save`), which holds code, not a state dict.
    #[error("a TorchScript archive (torch.jit.save): save the model's state dict instead, torch.save(model.state_dict(), FILE)")]
    TorchScript,
    /// An array of Python objects, as Chainer saves a parameter whose link was never initialised.
    #[error("{tensor} holds a Python object, not numbers: this is how Chainer saves an uninitialised parameter (a link that saw no input before save_npz); run the model once, then save it")]
    Uninitialised {
        /// The parameter.
        tensor: String,
    },
    /// Tensors that are not two linear layers.
    #[error("its tensors are not two linear layers 784 → n → 784: {found} (accepted: the weight and bias of two torch.nn.Linear layers under any two names, such as l1/l2, nn.Sequential's 0/2 or encoder/decoder, or Chainer's l1/W …; alone or under state_dict, model_state_dict or model)")]
    NotTwoLayers {
        /// The file's tensors with their shapes.
        found: String,
    },
    /// Two `784 → 784` layers whose names do not say which comes first.
    #[error("two 784 → 784 layers, {first} and {second}: their names do not say which is the encoder (name them l1 and l2, or encoder and decoder)")]
    Ambiguous {
        /// One layer's name.
        first: String,
        /// The other's.
        second: String,
    },
    /// Its content is none of the formats.
    #[error("not a safetensors, PyTorch or npz file (its first bytes match none of them)")]
    UnknownFormat,
    /// A PyTorch pickle that holds no state dict.
    #[error("a PyTorch file, but not a state dict of tensors ({what})")]
    NotStateDict {
        /// What was found instead.
        what: String,
    },
    /// A tensor of integers or booleans.
    #[error("{tensor} is {dtype}, not a floating-point tensor")]
    NotFloat {
        /// The tensor.
        tensor: String,
        /// Its type.
        dtype: String,
    },
    /// Tensors missing or left over.
    #[error("{} (expected exactly {expected})", key_differences(missing, extra))]
    Keys {
        /// Expected tensors not in the file.
        missing: Vec<String>,
        /// Tensors in the file not expected.
        extra: Vec<String>,
        /// The tensors expected.
        expected: String,
    },
    /// Shapes that do not make a `784 → n → 784` autoencoder.
    #[error("the tensors' shapes do not make a 784 → n → 784 autoencoder: {found}")]
    Shapes {
        /// Each tensor with its shape.
        found: String,
    },
    /// NaN or infinite values.
    #[error("{tensor} holds {count} NaN or infinite values")]
    NotFinite {
        /// The tensor.
        tensor: String,
        /// How many.
        count: usize,
    },
}

/// The first names of a list, and how many more.
fn shorten(names: &[String]) -> String {
    match names.len() {
        0..=6 => names.join(", "),
        n => format!("{}, … {} more", names[..5].join(", "), n - 5),
    }
}

/// `206.7 MB` (10⁶ bytes).
fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// `missing a, b; unexpected c`, the parts that are not empty.
fn key_differences(missing: &[String], extra: &[String]) -> String {
    let missing = (!missing.is_empty()).then(|| format!("missing {}", missing.join(", ")));
    let extra = (!extra.is_empty()).then(|| format!("unexpected {}", extra.join(", ")));
    [missing, extra]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why a case file or a saved configuration is not valid: where (the file, the line, the field)
/// and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}{}{message}", origin.as_ref().map(|o| format!("{o}: ")).unwrap_or_default(), line.map(|l| format!("invalid config at line {l}: ")).unwrap_or_default(), field.as_ref().map(|f| format!("{f}: ")).unwrap_or_default())]
pub struct ConfigError {
    /// The file (or case) it comes from.
    pub origin: Option<String>,
    /// The line of the TOML text, for a syntax or type error.
    pub line: Option<usize>,
    /// The field, dotted (`model.dropout`).
    pub field: Option<String>,
    /// What is wrong, and what is allowed.
    pub message: String,
}

impl ConfigError {
    /// A value out of its range.
    pub fn invalid(field: &str, message: String) -> Self {
        Self {
            origin: None,
            line: None,
            field: (!field.is_empty()).then(|| field.to_string()),
            message,
        }
    }

    /// TOML that does not parse or does not fit the case format.
    pub fn syntax(line: Option<usize>, field: Option<String>, message: String) -> Self {
        let message = match line {
            None => format!("invalid config: {message}"),
            Some(_) => message,
        };
        Self {
            origin: None,
            line,
            field,
            message,
        }
    }

    /// A file that cannot be read as a case file at all.
    pub fn unreadable(origin: &str, message: String) -> Self {
        Self {
            origin: Some(origin.to_string()),
            line: None,
            field: None,
            message,
        }
    }

    /// The same error, said of `origin` (a file).
    pub fn in_file(mut self, origin: &str) -> Self {
        self.origin = Some(origin.to_string());
        self
    }
}
