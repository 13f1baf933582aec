//! What can go wrong when compiling or running a policy graph, as a type.

use std::fmt;

/// An op (or a dtype of an op) that has no native kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// The node's name in the graph, e.g. `pi/Cast`.
    pub node: String,
    /// The TensorFlow op type, e.g. `Cast`.
    pub op: String,
    /// Why, when the op itself is known but this use of it is not (e.g. its dtype).
    pub detail: Option<String>,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "op {} (node {:?}", self.op, self.node)?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        write!(f, ")")
    }
}

/// Why a graph cannot be compiled or evaluated natively.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("no native kernel for {}", list(.0))]
    Unsupported(Vec<Unsupported>),
    #[error("the graph has no node named {0:?}")]
    UnknownNode(String),
    #[error("two nodes are named {0:?}")]
    DuplicateNode(String),
    #[error("node {node:?} reads output {index} of {input:?}, which has a single output")]
    OutputIndex {
        node: String,
        input: String,
        index: usize,
    },
    #[error("the graph has a cycle through node {0:?}")]
    Cycle(String),
    #[error("node {node:?} ({op}): {reason}")]
    Invalid {
        node: String,
        op: String,
        reason: String,
    },
    #[error("observations of shape {got:?} do not fit the input {node:?} of shape {expected}")]
    InputShape {
        node: String,
        expected: String,
        got: Vec<usize>,
    },
    #[error("internal error in the native policy evaluator (please report it): {0}")]
    Internal(String),
}

fn list(items: &[Unsupported]) -> String {
    items
        .iter()
        .map(Unsupported::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl PolicyError {
    pub(crate) fn invalid(node: &str, op: &str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            node: node.to_string(),
            op: op.to_string(),
            reason: reason.into(),
        }
    }
}
