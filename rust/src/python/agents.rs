//! Saved agents read natively, as seen from Python: `read_saved_model` (TF1) and
//! `read_torch_model` (PyTorch) give the `PolicyGraph` a `NativePolicy` compiles.

use std::collections::BTreeMap;
use std::path::PathBuf;

use pyo3::prelude::*;

use super::errors::SnapshotError;
use super::policy::PolicyGraph;
use crate::panic::catch;
use crate::savedmodel::{SavedModel, SavedModelError};
use crate::torch;

/// The action outputs a Spinning Up agent may have, in the order looked for.
const ACTION_KEYS: [&str; 2] = ["pi", "mu"];

/// Read a TF1 SavedModel folder (`simple_save[N]/`, `tf1_save[N]/`) without
/// TensorFlow: its policy graph from the input `x` to the action outputs (`pi`, and
/// `mu` where there is one). `tensors` maps Spinning Up's keys to tensor names, as
/// `model_info.pkl` holds them (with `x` and `pi`); None: the graph's
/// `serving_default` signature.
#[pyfunction]
#[pyo3(signature = (path, tensors=None))]
pub fn read_saved_model(
    py: Python<'_>,
    path: PathBuf,
    tensors: Option<BTreeMap<String, String>>,
) -> PyResult<PolicyGraph> {
    let (graph, keys, version) = py
        .detach(|| catch(|| read_policy(&path, tensors.as_ref())))?
        .map_err(|err| match err {
            ReadError::Model(err) => PyErr::from(err),
            ReadError::Tensor { key, name } => SnapshotError::new_err((
                format!(
                    "model_info.pkl names the tensor '{name}' for '{key}', and the saved graph \
                     has none"
                ),
                path.to_string_lossy().into_owned(),
            )),
        })?;
    let outputs = keys.into_iter().zip(graph.outputs).collect();
    let description = format!(
        "a TF {} SavedModel ({} nodes from x to the actions)",
        if version.is_empty() { "1.x" } else { &version },
        graph.nodes.len()
    );
    PolicyGraph::from_rust(py, graph.graph, &graph.input, outputs, description)
}

/// Why `read_saved_model` failed: the folder, or a model_info.pkl naming a tensor
/// the graph does not have.
enum ReadError {
    Model(SavedModelError),
    Tensor { key: String, name: String },
}

impl From<SavedModelError> for ReadError {
    fn from(err: SavedModelError) -> Self {
        Self::Model(err)
    }
}

type ReadPolicy = (crate::savedmodel::PolicyGraph, Vec<String>, String);

fn read_policy(
    path: &std::path::Path,
    tensors: Option<&BTreeMap<String, String>>,
) -> Result<ReadPolicy, ReadError> {
    let model = SavedModel::read(path)?;
    let version = model.tensorflow_version().to_string();
    let Some(tensors) = tensors else {
        let signature = model.serving_signature()?;
        let keys: Vec<&str> = ACTION_KEYS
            .into_iter()
            .filter(|k| *k == "pi" || signature.outputs.contains_key(*k))
            .collect();
        let graph = model.signature_policy_graph("x", &keys)?;
        return Ok((graph, keys.iter().map(|k| k.to_string()).collect(), version));
    };
    let mut keys = vec!["x"];
    keys.extend(ACTION_KEYS.into_iter().filter(|k| tensors.contains_key(*k)));
    for key in &keys {
        let name = tensors.get(*key).map(String::as_str).unwrap_or_default();
        let node = name.split(':').next().unwrap_or_default();
        if model.node_op(node).is_none() {
            return Err(ReadError::Tensor {
                key: key.to_string(),
                name: name.to_string(),
            });
        }
    }
    let names: Vec<&str> = keys[1..].iter().map(|k| tensors[*k].as_str()).collect();
    let graph = model.policy_graph(&tensors["x"], &names)?;
    Ok((
        graph,
        keys[1..].iter().map(|k| k.to_string()).collect(),
        version,
    ))
}

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
