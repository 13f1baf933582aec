//! Saved agents read natively, as seen from Python: `read_torch_model` (and the
//! TF reader beside it) give the `PolicyGraph` a `NativePolicy` compiles.

use std::collections::BTreeMap;
use std::path::PathBuf;

use pyo3::prelude::*;

use super::policy::PolicyGraph;
use crate::panic::catch;
use crate::torch;

/// Read a Spinning Up PyTorch `model.pt` (zip or legacy format) without torch and
/// without running anything it names; its actor as a policy graph with input `x`
/// and outputs `pi` (and `mu` for SAC).
#[pyfunction]
pub fn read_torch_model(py: Python<'_>, path: PathBuf) -> PyResult<PolicyGraph> {
    let (graph, outputs, description) = py.detach(|| {
        catch(|| {
            let model = torch::read_model(&path)?;
            let (graph, outputs) = model.policy_graph()?;
            Ok::<_, torch::TorchError>((graph, outputs, model.describe()))
        })
    })??;
    let outputs: BTreeMap<String, String> = outputs.into_iter().map(|o| (o.clone(), o)).collect();
    PolicyGraph::from_rust(py, graph, "x", outputs, description)
}
