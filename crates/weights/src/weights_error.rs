//! Why a model cannot come in or go out, as values: the caller puts them into words and adds the
//! ways out.

use std::path::PathBuf;

/// A result of an import or an export.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every failure of an import or an export.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A failure of the run the model comes from or goes into.
    #[error(transparent)]
    Run(#[from] trainer::Error),
    /// A file cannot be written where it was asked to go (nothing was written).
    #[error("{}: {error}", path.display())]
    Output {
        /// Where it was to go.
        path: PathBuf,
        /// Why not.
        error: OutputError,
    },
    /// A model file to import cannot be used.
    #[error("{}: {error}", path.display())]
    Weights {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        error: WeightsError,
    },
}

trainer::from_run_errors!(Error);

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
    #[error(
        "a TorchScript archive (torch.jit.save): save the model's state dict instead, torch.save(model.state_dict(), FILE)"
    )]
    TorchScript,
    /// An array of Python objects, as Chainer saves a parameter whose link was never initialised.
    #[error(
        "{tensor} holds a Python object, not numbers: this is how Chainer saves an uninitialised parameter (a link that saw no input before save_npz); run the model once, then save it"
    )]
    Uninitialised {
        /// The parameter.
        tensor: String,
    },
    /// Tensors that are not two linear layers.
    #[error(
        "its tensors are not two linear layers 784 → n → 784: {found} (accepted: the weight and bias of two torch.nn.Linear layers under any two names, such as l1/l2, nn.Sequential's 0/2 or encoder/decoder, or Chainer's l1/W …; alone or under state_dict, model_state_dict or model)"
    )]
    NotTwoLayers {
        /// The file's tensors with their shapes.
        found: String,
    },
    /// Two `784 → 784` layers whose names do not say which comes first.
    #[error(
        "two 784 → 784 layers, {first} and {second}: their names do not say which is the encoder (name them l1 and l2, or encoder and decoder)"
    )]
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
