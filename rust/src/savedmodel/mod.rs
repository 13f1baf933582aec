//! Spinning Up's TF1 agents read without TensorFlow: a SavedModel folder
//! (`simple_save[N]/` or `tf1_save[N]/`) to the policy graph the native evaluator
//! compiles.
//!
//! [`read_saved_model`] decodes `saved_model.pb` (the meta graph tagged `serve`, its
//! signatures and SaverDef) and opens the checkpoint index
//! `variables/variables.index` (a [`Bundle`], every block checksum checked).
//! [`SavedModel::policy_graph`] then takes out the nodes the action outputs depend
//! on, back to the observation input, with the values of their constants and of
//! their variables (read from the data shard, each tensor's checksum checked): the
//! [`Graph`] that `python/spinfast/policy_graph.py::extract_policy_graph` builds
//! through a TensorFlow session, node for node.
//!
//! ```no_run
//! use std::path::Path;
//! use _core::policy::Evaluator;
//! use _core::savedmodel::read_saved_model;
//!
//! let model = read_saved_model(Path::new("example_agent/simple_save"))?;
//! let policy = model.signature_policy_graph("x", &["pi"])?;
//! let mut evaluator = Evaluator::new(&policy.graph, &policy.input, &policy.outputs[0], 0)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bundle;
mod error;
mod extract;
pub mod proto;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use prost::Message;

use crate::policy::{DType, Graph, Node, Tensor};

pub use bundle::{Bundle, BundleData, BundleTensor};
pub use error::SavedModelError;

/// The tag of the meta graph Spinning Up's `simple_save` writes.
pub const SERVE_TAG: &str = "serve";
/// The signature `simple_save` writes.
pub const SERVING_SIGNATURE: &str = "serving_default";

/// A signature: input and output keys to tensor names (`"x"` -> `"x:0"`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Signature {
    pub method_name: String,
    pub inputs: BTreeMap<String, String>,
    pub outputs: BTreeMap<String, String>,
}

/// The policy part of a graph: the nodes and the node names of its input and
/// outputs, in the order asked for.
#[derive(Debug, Clone)]
pub struct PolicyGraph {
    pub input: String,
    pub outputs: Vec<String>,
    /// The nodes, inputs before the nodes that read them.
    pub nodes: Vec<Node>,
    /// The same nodes, indexed for [`crate::policy::Evaluator::new`].
    pub graph: Graph,
}

/// A SavedModel folder, read: the `serve` meta graph and the checkpoint index.
#[derive(Debug, Clone)]
pub struct SavedModel {
    dir: PathBuf,
    graph_path: PathBuf,
    tags: Vec<String>,
    tensorflow_version: String,
    nodes: Vec<proto::NodeDef>,
    index: HashMap<String, usize>,
    signatures: BTreeMap<String, Signature>,
    restore_op: Option<String>,
    bundle: Option<Bundle>,
}

/// Read `dir/saved_model.pb` and open `dir/variables/variables.index` (when the
/// folder has variables).
pub fn read_saved_model(dir: &Path) -> Result<SavedModel, SavedModelError> {
    SavedModel::read(dir)
}

impl SavedModel {
    /// See [`read_saved_model`].
    pub fn read(dir: &Path) -> Result<Self, SavedModelError> {
        let graph_path = dir.join("saved_model.pb");
        let graph = std::fs::read(&graph_path).map_err(|e| SavedModelError::io(&graph_path, e))?;
        let index_path = Bundle::index_path_of(&dir.join("variables").join("variables"));
        let index = match std::fs::read(&index_path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(SavedModelError::io(&index_path, e)),
        };
        Self::from_bytes(dir, &graph, index.as_deref())
    }

    /// A SavedModel folder `dir` whose `saved_model.pb` holds `graph` and whose
    /// `variables/variables.index` holds `checkpoint_index` (`None`: the folder has none).
    /// Variables are read from the data shards in `dir/variables/`.
    pub fn from_bytes(
        dir: &Path,
        graph: &[u8],
        checkpoint_index: Option<&[u8]>,
    ) -> Result<Self, SavedModelError> {
        let graph_path = dir.join("saved_model.pb");
        let saved = proto::SavedModel::decode(graph).map_err(|e| {
            SavedModelError::malformed(&graph_path, format!("not a SavedModel protobuf: {e}"))
        })?;
        let tag_sets = |saved: &proto::SavedModel| {
            saved
                .meta_graphs
                .iter()
                .map(|m| format!("{:?}", m.meta_info_def.clone().unwrap_or_default().tags))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let found = tag_sets(&saved);
        let Some(meta) = saved.meta_graphs.into_iter().find(|m| {
            m.meta_info_def
                .as_ref()
                .is_some_and(|info| info.tags.iter().any(|t| t == SERVE_TAG))
        }) else {
            return Err(SavedModelError::Missing {
                path: graph_path,
                what: format!("meta graph tagged {SERVE_TAG:?}"),
                found: format!("the meta graphs have the tags [{found}]"),
            });
        };
        let info = meta.meta_info_def.unwrap_or_default();
        let nodes = meta.graph_def.unwrap_or_default().node;
        let mut index = HashMap::with_capacity(nodes.len());
        for (i, node) in nodes.iter().enumerate() {
            if index.insert(node.name.clone(), i).is_some() {
                return Err(SavedModelError::malformed(
                    &graph_path,
                    format!("two nodes are named {:?}", node.name),
                ));
            }
        }
        let signatures = meta
            .signature_def
            .into_iter()
            .map(|(key, sig)| {
                let names = |m: HashMap<String, proto::TensorInfo>| {
                    m.into_iter().map(|(k, info)| (k, info.name)).collect()
                };
                let signature = Signature {
                    method_name: sig.method_name,
                    inputs: names(sig.inputs),
                    outputs: names(sig.outputs),
                };
                (key, signature)
            })
            .collect();
        let restore_op = meta
            .saver_def
            .map(|s| s.restore_op_name)
            .filter(|name| !name.is_empty());
        let prefix = dir.join("variables").join("variables");
        let bundle = checkpoint_index
            .map(|bytes| Bundle::from_index(&prefix, bytes))
            .transpose()?;
        Ok(Self {
            dir: dir.to_path_buf(),
            graph_path,
            tags: info.tags,
            tensorflow_version: info.tensorflow_version,
            nodes,
            index,
            signatures,
            restore_op,
            bundle,
        })
    }

    /// The folder read.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The tags of the meta graph read (it has [`SERVE_TAG`]).
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// The TensorFlow version that wrote the graph (empty before TF 1.4 or so).
    pub fn tensorflow_version(&self) -> &str {
        &self.tensorflow_version
    }

    /// Every signature of the meta graph by key.
    pub fn signatures(&self) -> &BTreeMap<String, Signature> {
        &self.signatures
    }

    /// The `serving_default` signature (Spinning Up's `inputs` and `outputs`).
    pub fn serving_signature(&self) -> Result<&Signature, SavedModelError> {
        self.signatures
            .get(SERVING_SIGNATURE)
            .ok_or_else(|| SavedModelError::Missing {
                path: self.graph_path.clone(),
                what: format!("signature {SERVING_SIGNATURE:?}"),
                found: format!(
                    "the signatures are [{}]",
                    self.signatures
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
    }

    /// The number of nodes of the graph.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The op type of a node, if the graph has it.
    pub fn node_op(&self, name: &str) -> Option<&str> {
        self.index.get(name).map(|&i| self.nodes[i].op.as_str())
    }

    /// The checkpoint (`None` when the folder has no `variables/variables.index`).
    pub fn checkpoint(&self) -> Option<&Bundle> {
        self.bundle.as_ref()
    }

    /// [`Self::policy_graph`] from signature keys of `serving_default`, as Spinning
    /// Up's `restore_tf_graph` names them (`"x"`, `["pi"]`).
    pub fn signature_policy_graph(
        &self,
        input_key: &str,
        output_keys: &[&str],
    ) -> Result<PolicyGraph, SavedModelError> {
        let signature = self.serving_signature()?;
        let missing =
            |side: &str, key: &str, keys: &BTreeMap<String, String>| SavedModelError::Missing {
                path: self.graph_path.clone(),
                what: format!("{side} {key:?} in the {SERVING_SIGNATURE} signature"),
                found: format!("its {side}s are {}", describe(keys)),
            };
        let input = signature
            .inputs
            .get(input_key)
            .ok_or_else(|| missing("input", input_key, &signature.inputs))?;
        let outputs = output_keys
            .iter()
            .map(|&key| {
                signature
                    .outputs
                    .get(key)
                    .map(String::as_str)
                    .ok_or_else(|| missing("output", key, &signature.outputs))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.policy_graph(input, &outputs)
    }

    /// The nodes the `outputs` depend on through data inputs, back to `input` (whose
    /// own inputs are not followed), with the values of their constants and
    /// variables. Names are node names or tensor names (`"pi"` or `"pi:0"`; the walk
    /// starts from the node).
    pub fn policy_graph(
        &self,
        input: &str,
        outputs: &[&str],
    ) -> Result<PolicyGraph, SavedModelError> {
        let stop = self.find(input)?;
        let starts = outputs
            .iter()
            .map(|name| self.find(name))
            .collect::<Result<Vec<_>, _>>()?;
        let order = extract::upstream(&self.nodes, &self.index, stop, &starts)
            .map_err(|e| SavedModelError::malformed(&self.graph_path, e))?;
        let values = self.values(&order)?;
        let mut nodes = Vec::with_capacity(order.len());
        for &i in &order {
            let def = &self.nodes[i];
            let inputs = if i == stop {
                Vec::new()
            } else {
                extract::data_inputs(def, &self.index)
                    .map_err(|e| SavedModelError::malformed(&self.graph_path, e))?
                    .into_iter()
                    .map(|(n, k)| (self.nodes[n].name.clone(), k))
                    .collect()
            };
            nodes.push(Node {
                name: def.name.clone(),
                op: def.op.clone(),
                inputs,
                attrs: extract::attrs(def)
                    .map_err(|e| SavedModelError::malformed(&self.graph_path, e))?,
                value: values.get(&i).cloned(),
            });
        }
        let graph = Graph::new(nodes.clone()).map_err(|source| SavedModelError::Policy {
            path: self.graph_path.clone(),
            source,
        })?;
        Ok(PolicyGraph {
            input: self.nodes[stop].name.clone(),
            outputs: starts.iter().map(|&i| self.nodes[i].name.clone()).collect(),
            nodes,
            graph,
        })
    }

    /// The node a node or tensor name names.
    fn find(&self, name: &str) -> Result<usize, SavedModelError> {
        let node = extract::parse_tensor_name(name)
            .map(|(n, _)| n)
            .unwrap_or(name);
        self.index.get(node).copied().ok_or_else(|| {
            let placeholders: Vec<&str> = self
                .nodes
                .iter()
                .filter(|n| n.op == "Placeholder")
                .map(|n| n.name.as_str())
                .collect();
            let signature = self
                .signatures
                .get(SERVING_SIGNATURE)
                .map(|s| {
                    format!(
                        "the {SERVING_SIGNATURE} signature's inputs are {}; ",
                        describe(&s.inputs)
                    )
                })
                .unwrap_or_default();
            SavedModelError::Missing {
                path: self.graph_path.clone(),
                what: format!("node {node:?} in the graph"),
                found: format!(
                    "{signature}the placeholders are [{}]",
                    placeholders.join(", ")
                ),
            }
        })
    }

    /// Values of the constants and variables among `order`, by node index: a
    /// `Const` from its `value` attribute, a `VariableV2` from the checkpoint, and a
    /// `VarHandleOp` from the checkpoint when a `ReadVariableOp` among them reads it.
    fn values(&self, order: &[usize]) -> Result<HashMap<usize, Tensor>, SavedModelError> {
        let mut values = HashMap::new();
        let mut variables = Vec::new();
        let mut handles = std::collections::HashSet::new();
        let value_dtype = |node: &proto::NodeDef| {
            extract::type_attr(node, "dtype")
                .filter(|d| extract::VALUE_DTYPES.contains(&d.as_str()))
        };
        for &i in order {
            let node = &self.nodes[i];
            match node.op.as_str() {
                "Const" if value_dtype(node).is_some() => {
                    let tensor = match node.attr.get("value").and_then(|v| v.value.as_ref()) {
                        Some(proto::attr_value::Value::Tensor(t)) => t,
                        _ => {
                            return Err(self.node_error(
                                node,
                                "has no tensor in its \"value\" attribute".into(),
                            ))
                        }
                    };
                    if extract::type_attr(node, "dtype") != proto::dtype_name(tensor.dtype) {
                        return Err(self.node_error(
                            node,
                            "its value's dtype is not its dtype attribute".into(),
                        ));
                    }
                    match extract::const_value(tensor).map_err(|e| self.node_error(node, e))? {
                        Some(value) => {
                            values.insert(i, value);
                        }
                        None => {
                            return Err(self.node_error(node, "has a value of another dtype".into()))
                        }
                    }
                }
                "VariableV2" if value_dtype(node).is_some() => variables.push(i),
                "ReadVariableOp" => {
                    let inputs = extract::data_inputs(node, &self.index)
                        .map_err(|e| SavedModelError::malformed(&self.graph_path, e))?;
                    if let Some(&(handle, _)) = inputs.first() {
                        let h = &self.nodes[handle];
                        if h.op == "VarHandleOp"
                            && value_dtype(h).is_some()
                            && handles.insert(handle)
                        {
                            variables.push(handle);
                        }
                    }
                }
                _ => {}
            }
        }
        if variables.is_empty() {
            return Ok(values);
        }
        let bundle = self.bundle.as_ref().ok_or_else(|| {
            SavedModelError::io(
                &self.dir.join("variables").join("variables.index"),
                std::io::Error::from(std::io::ErrorKind::NotFound),
            )
        })?;
        let restored = match &self.restore_op {
            Some(op) => extract::restore_keys(&self.nodes, &self.index, op)
                .map_err(|e| SavedModelError::malformed(&self.graph_path, e))?,
            None => HashMap::new(),
        };
        for i in variables {
            let node = &self.nodes[i];
            let key = match restored.get(&i) {
                Some(Ok(key)) => key.clone(),
                Some(Err(why)) => {
                    return Err(SavedModelError::unsupported(
                        bundle.index_path(),
                        format!("variable {:?}: {why}", node.name),
                    ))
                }
                None => default_key(node),
            };
            let tensor = bundle.read(&key)?;
            values.insert(i, self.variable_value(node, &key, tensor, bundle)?);
        }
        Ok(values)
    }

    /// A checkpoint tensor as the value of variable `node`: the dtype and the known
    /// dimensions of the variable must match.
    fn variable_value(
        &self,
        node: &proto::NodeDef,
        key: &str,
        tensor: BundleTensor,
        bundle: &Bundle,
    ) -> Result<Tensor, SavedModelError> {
        let want = extract::type_attr(node, "dtype").unwrap_or_default();
        let mismatch = |what: String| {
            SavedModelError::malformed(
                bundle.index_path(),
                format!(
                    "tensor {key:?} restores variable {:?} but {what}",
                    node.name
                ),
            )
        };
        if tensor.data.dtype_name() != want {
            return Err(mismatch(format!(
                "is {} where the variable is {want}",
                tensor.data.dtype_name()
            )));
        }
        if let Some(proto::attr_value::Value::Shape(shape)) =
            node.attr.get("shape").and_then(|v| v.value.as_ref())
        {
            let fits = shape.unknown_rank
                || (shape.dim.len() == tensor.shape.len()
                    && shape
                        .dim
                        .iter()
                        .zip(&tensor.shape)
                        .all(|(d, &n)| d.size < 0 || d.size as u64 == n as u64));
            if !fits {
                let dims: Vec<i64> = shape.dim.iter().map(|d| d.size).collect();
                return Err(mismatch(format!(
                    "has the shape {:?} where the variable's is {dims:?}",
                    tensor.shape
                )));
            }
        }
        Ok(match tensor.data {
            BundleData::F32(v) => Tensor::f32(tensor.shape, v),
            BundleData::I32(v) => Tensor::int(
                DType::I32,
                tensor.shape,
                v.into_iter().map(i64::from).collect(),
            ),
            BundleData::I64(v) => Tensor::int(DType::I64, tensor.shape, v),
            BundleData::F64(_) => return Err(mismatch("float64 variables get no value".into())),
        })
    }

    fn node_error(&self, node: &proto::NodeDef, message: String) -> SavedModelError {
        SavedModelError::malformed(
            &self.graph_path,
            format!("{} node {:?}: {message}", node.op, node.name),
        )
    }
}

/// The key TF1's `Saver` gives a variable it was not told a name for: the node
/// name of a `VariableV2`, the `shared_name` of a resource variable.
fn default_key(node: &proto::NodeDef) -> String {
    if node.op == "VarHandleOp" {
        if let Some(proto::attr_value::Value::S(name)) =
            node.attr.get("shared_name").and_then(|v| v.value.as_ref())
        {
            if !name.is_empty() {
                return String::from_utf8_lossy(name).into_owned();
            }
        }
    }
    node.name.clone()
}

/// `key (tensor), ...` for an error message.
fn describe(map: &BTreeMap<String, String>) -> String {
    let items: Vec<String> = map.iter().map(|(k, v)| format!("{k} ({v})")).collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests;
