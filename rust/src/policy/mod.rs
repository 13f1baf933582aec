//! Native policy inference: Spinning Up's TF1 policies evaluated in Rust.
//!
//! Python hands over a compact description of the graph ([`Graph`]: the nodes from
//! the observation placeholder to an action output, with constant and variable
//! values). [`Evaluator::new`] compiles it into a [`Program`] (op kernels in
//! evaluation order, element types checked; every op without a kernel reported at
//! once as [`PolicyError::Unsupported`]). For each observation shape the program is
//! laid out once into a plan (shapes, buffers, constants folded); evaluating then
//! allocates nothing.
//!
//! ```
//! use std::collections::HashMap;
//! use _core::policy::{Attr, Evaluator, Graph, Node, OutputData, Tensor};
//!
//! let node = |name: &str, op: &str, inputs: &[&str]| Node {
//!     name: name.into(),
//!     op: op.into(),
//!     inputs: inputs.iter().map(|i| (i.to_string(), 0)).collect(),
//!     attrs: HashMap::new(),
//!     value: None,
//! };
//! let mut x = node("x", "Placeholder", &[]);
//! x.attrs.insert("shape".into(), Attr::Ints(vec![-1, 2]));
//! let mut w = node("w", "Const", &[]);
//! w.value = Some(Tensor::f32(vec![2, 1], vec![1.0, -1.0]));
//! let graph = Graph::new(vec![x, w, node("y", "MatMul", &["x", "w"]), node("mu", "Tanh", &["y"])])?;
//!
//! let mut policy = Evaluator::new(&graph, "x", "mu", 0)?;
//! let out = policy.run(&[0.5, 0.25], &[1, 2])?;
//! assert_eq!(out.shape, &[1, 1]);
//! let OutputData::F32(mu) = out.data else { unreachable!() };
//! assert!((mu[0] - 0.25f32.tanh()).abs() < 1e-6);
//! # Ok::<(), _core::policy::PolicyError>(())
//! ```

mod error;
mod evaluator;
mod graph;
mod kernels;
mod ops;
mod plan;
mod program;

pub use error::{PolicyError, Unsupported};
pub use evaluator::Evaluator;
pub use graph::{Attr, DType, Graph, Node, Tensor, TensorData};
pub use ops::SUPPORTED_OPS;
pub use plan::{Output, OutputData};
pub use program::Program;

#[cfg(test)]
mod tests;
