//! Every exception the Rust core raises, bound once, and every Rust error type
//! mapped to its Python exception in one `From` impl (as polars' `error.rs` and
//! orjson's `exc.rs` do).
//!
//! The exception classes are Python's, defined in `spinfast.errors` (they carry
//! attributes such as `path` and `line`, and pickle); `import_exception!` imports
//! each once, on first use, and caches it.

use std::path::Path;

use pyo3::exceptions::{
    PyAssertionError, PyIndexError, PyOSError, PyOverflowError, PyRuntimeError, PyTypeError,
    PyValueError,
};
use pyo3::PyErr;

use crate::envs::EnvError;
use crate::panic::Panic;
use crate::policy::PolicyError;
use crate::progress::ProgressError;
use crate::rollout::{NativeError, RolloutError};
use crate::savedmodel::SavedModelError;
use crate::torch::TorchError;

pyo3::import_exception!(spinfast.errors, ProgressParseError);
pyo3::import_exception!(spinfast.errors, NativePolicyError);
pyo3::import_exception!(spinfast.errors, EnvironmentMismatch);
pyo3::import_exception!(spinfast.errors, SnapshotError);

/// Gymnasium's exceptions, raised where Gymnasium raises them.
mod gymnasium {
    pyo3::import_exception!(gymnasium.error, Error);
    pyo3::import_exception!(gymnasium.error, ResetNeeded);
    pyo3::import_exception!(gymnasium.error, NameNotFound);
}
pub use gymnasium::Error as GymnasiumError;

/// The exception Gymnasium raises in the same case, with its message.
impl From<EnvError> for PyErr {
    fn from(err: EnvError) -> PyErr {
        let message = err.to_string();
        match err.python_type() {
            "AssertionError" => PyAssertionError::new_err(message),
            "TypeError" => PyTypeError::new_err(message),
            "IndexError" => PyIndexError::new_err(message),
            "OverflowError" => PyOverflowError::new_err(message),
            "OSError" => PyOSError::new_err(message),
            "gymnasium.error.ResetNeeded" => gymnasium::ResetNeeded::new_err(message),
            "gymnasium.error.NameNotFound" => gymnasium::NameNotFound::new_err(message),
            "gymnasium.error.Error" => gymnasium::Error::new_err(message),
            _ => PyValueError::new_err(message),
        }
    }
}

/// A caught panic: `RuntimeError`, saying it is a bug to report.
impl From<Panic> for PyErr {
    fn from(panic: Panic) -> PyErr {
        PyRuntimeError::new_err(panic.to_string())
    }
}

/// A progress.txt that cannot be read, with the file it is about.
pub struct ProgressFileError<'a> {
    pub path: &'a Path,
    pub error: ProgressError,
}

/// `ProgressParseError(reason, path, line)`.
impl From<ProgressFileError<'_>> for PyErr {
    fn from(err: ProgressFileError<'_>) -> PyErr {
        let path = err.path.to_string_lossy().into_owned();
        ProgressParseError::new_err((err.error.to_string(), path, err.error.line))
    }
}

/// `NativePolicyError(message, ops)` for a graph the evaluator cannot run;
/// `ValueError` for observations of the wrong shape; `RuntimeError` for a bug.
impl From<PolicyError> for PyErr {
    fn from(err: PolicyError) -> PyErr {
        match &err {
            PolicyError::InputShape { .. } => PyValueError::new_err(err.to_string()),
            PolicyError::Internal(_) => PyRuntimeError::new_err(err.to_string()),
            PolicyError::Unsupported(list) => {
                let ops: Vec<String> = list.iter().map(|u| u.op.clone()).collect();
                NativePolicyError::new_err((err.to_string(), ops))
            }
            _ => NativePolicyError::new_err((err.to_string(), Vec::<String>::new())),
        }
    }
}

/// `ValueError` for a rollout that cannot run as asked; `RuntimeError` for a bug.
impl From<RolloutError> for PyErr {
    fn from(err: RolloutError) -> PyErr {
        match err {
            RolloutError::Internal(_) => PyRuntimeError::new_err(err.to_string()),
            _ => PyValueError::new_err(err.to_string()),
        }
    }
}

/// A native run's error as the exception its part raises: the env's
/// Gymnasium exception, the policy's, the loop's, or the hook's own.
impl From<NativeError<PyErr>> for PyErr {
    fn from(err: NativeError<PyErr>) -> PyErr {
        match err {
            NativeError::Env(err) => err.into(),
            NativeError::Policy(err) => err.into(),
            NativeError::Rollout(err) => err.into(),
            NativeError::Hook(err) => err,
        }
    }
}

/// A model.pt that cannot be read, or was refused (`SnapshotError(reason, path)`);
/// one that is not an actor-critic the native program runs (`NativePolicyError`).
impl From<TorchError> for PyErr {
    fn from(err: TorchError) -> PyErr {
        let message = err.to_string();
        let path = match &err {
            TorchError::Io { path, .. }
            | TorchError::Malformed { path, .. }
            | TorchError::Refused { path, .. }
            | TorchError::NotActorCritic { path, .. }
            | TorchError::Unsupported { path, .. }
            | TorchError::Policy { path, .. } => path.clone(),
        };
        let reason = message
            .strip_prefix(&format!("{path}: "))
            .unwrap_or(&message)
            .to_string();
        match err {
            TorchError::NotActorCritic { .. } | TorchError::Unsupported { .. } => {
                NativePolicyError::new_err((message, Vec::<String>::new()))
            }
            _ => SnapshotError::new_err((reason, path)),
        }
    }
}

/// A SavedModel folder that cannot be read: `SnapshotError(reason, file)`.
impl From<SavedModelError> for PyErr {
    fn from(err: SavedModelError) -> PyErr {
        let path = err.path().to_string_lossy().into_owned();
        let message = err.to_string();
        let reason = message
            .strip_prefix(&format!("{path}: "))
            .unwrap_or(&message);
        SnapshotError::new_err((reason.to_string(), path))
    }
}
