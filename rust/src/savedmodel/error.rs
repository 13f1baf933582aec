use std::path::{Path, PathBuf};

use crate::policy::PolicyError;

/// Why a SavedModel folder could not be read, always naming the file.
#[derive(Debug, thiserror::Error)]
pub enum SavedModelError {
    /// The file could not be opened or read.
    #[error("{}: {}", path.display(), io_reason(source))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not what its format says it should be (truncated, a checksum
    /// that does not match, a field out of range).
    #[error("{}: {message}", path.display())]
    Malformed { path: PathBuf, message: String },
    /// The file is valid but uses a feature this reader does not handle
    /// (compressed blocks, a big-endian bundle, a partitioned variable, a dtype).
    #[error("{}: {message}", path.display())]
    Unsupported { path: PathBuf, message: String },
    /// A node, signature or signature key asked for is not there; `found` says
    /// what there is.
    #[error("{}: there is no {what}; {found}", path.display())]
    Missing {
        path: PathBuf,
        what: String,
        found: String,
    },
    /// The nodes taken out do not form a graph the evaluator accepts.
    #[error("{}: {source}", path.display())]
    Policy {
        path: PathBuf,
        #[source]
        source: PolicyError,
    },
}

/// What an I/O error means for the file: it is not there, or it cannot be read.
fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "does not exist".into(),
        _ => format!("cannot be read ({err})"),
    }
}

impl SavedModelError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn malformed(path: &Path, message: impl Into<String>) -> Self {
        Self::Malformed {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    pub(crate) fn unsupported(path: &Path, message: impl Into<String>) -> Self {
        Self::Unsupported {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Io { path, .. }
            | Self::Malformed { path, .. }
            | Self::Unsupported { path, .. }
            | Self::Missing { path, .. }
            | Self::Policy { path, .. } => path,
        }
    }
}
