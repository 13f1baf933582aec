//! What can go wrong reading a PyTorch model file, as a type. Every message
//! starts with the file's path; format errors also say where in it (the zip
//! entry or legacy section, and the byte offset).

use crate::policy::PolicyError;

#[derive(Debug, thiserror::Error)]
pub enum TorchError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is not a well-formed torch.save file.
    #[error("{path}: {place}: {reason}")]
    Malformed {
        path: String,
        place: String,
        reason: String,
    },
    /// The file asks for something this reader will not do: call a function
    /// (`os.system`), use an unknown pickle feature, hold big-endian data, ...
    #[error("{path}: {place}: refused {what}: {why}")]
    Refused {
        path: String,
        place: String,
        what: String,
        why: String,
    },
    /// The pickled object is not one of Spinning Up's PyTorch actor-critics.
    #[error("{path}: not a Spinning Up actor-critic: {found}")]
    NotActorCritic { path: String, found: String },
    /// A Spinning Up actor-critic with a part that has no native equivalent (an
    /// activation without a kernel, float64 weights, ...).
    #[error("{path}: {what}")]
    Unsupported { path: String, what: String },
    /// The policy graph built from the model did not compile (a bug here).
    #[error("{path}: the policy graph does not compile: {source}")]
    Policy {
        path: String,
        #[source]
        source: PolicyError,
    },
}
