//! The compact description of a TensorFlow graph that the evaluator compiles:
//! nodes with their op type, data inputs, plain attributes, and the values of
//! constants and variables. Python builds it from a SavedModel's GraphDef.

use std::collections::HashMap;

use super::error::PolicyError;

/// Element types the evaluator handles. Integers are held as `i64` whatever their
/// TensorFlow width; the type is kept to give results back as TensorFlow would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    F32,
    I32,
    I64,
}

impl DType {
    /// From a NumPy/TensorFlow dtype name: `float32`, `int32` or `int64`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "float32" => Some(Self::F32),
            "int32" => Some(Self::I32),
            "int64" => Some(Self::I64),
            _ => None,
        }
    }

    pub fn is_int(self) -> bool {
        matches!(self, Self::I32 | Self::I64)
    }
}

/// The elements of a tensor, row-major.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

impl TensorData {
    pub fn len(&self) -> usize {
        match self {
            Self::F32(v) => v.len(),
            Self::I64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A constant or variable value.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub data: TensorData,
}

impl Tensor {
    pub fn f32(shape: Vec<usize>, data: Vec<f32>) -> Self {
        Self {
            dtype: DType::F32,
            shape,
            data: TensorData::F32(data),
        }
    }

    pub fn int(dtype: DType, shape: Vec<usize>, data: Vec<i64>) -> Self {
        Self {
            dtype,
            shape,
            data: TensorData::I64(data),
        }
    }

    /// Number of elements the shape holds.
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A node attribute, reduced to plain values (dtypes arrive as their names,
/// shapes as dimension lists with -1 for an unknown dimension).
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Ints(Vec<i64>),
}

/// One node of the graph. `inputs` are `(node name, output index)` data inputs in
/// order; control inputs are left out (they carry no value).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub name: String,
    pub op: String,
    pub inputs: Vec<(String, usize)>,
    pub attrs: HashMap<String, Attr>,
    /// The value of a `Const`, or of a variable (`VarHandleOp`, `VariableV2`).
    pub value: Option<Tensor>,
}

impl Node {
    pub fn attr(&self, key: &str) -> Option<&Attr> {
        self.attrs.get(key)
    }

    pub fn bool_attr(&self, key: &str) -> Result<bool, PolicyError> {
        match self.attr(key) {
            None => Ok(false),
            Some(Attr::Bool(b)) => Ok(*b),
            Some(other) => Err(self.bad_attr(key, other)),
        }
    }

    pub fn ints_attr(&self, key: &str) -> Result<Option<&[i64]>, PolicyError> {
        match self.attr(key) {
            None => Ok(None),
            Some(Attr::Ints(v)) => Ok(Some(v)),
            Some(other) => Err(self.bad_attr(key, other)),
        }
    }

    /// A dtype attribute (`default` when absent), or why it is not one the
    /// evaluator handles.
    pub fn dtype_attr(&self, key: &str, default: &str) -> Result<DType, String> {
        let name = match self.attr(key) {
            None => default,
            Some(Attr::Str(s)) => s.as_str(),
            Some(other) => return Err(format!("attribute {key:?} = {other:?} is not a dtype")),
        };
        DType::from_name(name).ok_or_else(|| format!("dtype {name}"))
    }

    pub fn str_attr(&self, key: &str) -> Result<Option<&str>, PolicyError> {
        match self.attr(key) {
            None => Ok(None),
            Some(Attr::Str(s)) => Ok(Some(s)),
            Some(other) => Err(self.bad_attr(key, other)),
        }
    }

    fn bad_attr(&self, key: &str, value: &Attr) -> PolicyError {
        PolicyError::invalid(
            &self.name,
            &self.op,
            format!("attribute {key:?} has an unexpected value {value:?}"),
        )
    }
}

/// The nodes of a graph, looked up by name.
#[derive(Debug, Clone)]
pub struct Graph {
    nodes: Vec<Node>,
    index: HashMap<String, usize>,
}

impl Graph {
    /// Index the nodes; every data input must name a node of the graph.
    pub fn new(nodes: Vec<Node>) -> Result<Self, PolicyError> {
        let mut index = HashMap::with_capacity(nodes.len());
        for (i, node) in nodes.iter().enumerate() {
            if index.insert(node.name.clone(), i).is_some() {
                return Err(PolicyError::DuplicateNode(node.name.clone()));
            }
        }
        for node in &nodes {
            for (input, _) in &node.inputs {
                if !index.contains_key(input) {
                    return Err(PolicyError::UnknownNode(input.clone()));
                }
            }
        }
        Ok(Self { nodes, index })
    }

    /// The nodes, in the order given.
    pub fn into_nodes(self) -> Vec<Node> {
        self.nodes
    }

    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    pub fn find(&self, name: &str) -> Result<usize, PolicyError> {
        self.index
            .get(name)
            .copied()
            .ok_or_else(|| PolicyError::UnknownNode(name.to_string()))
    }

    /// The nodes `output` depends on (itself included), inputs before the nodes
    /// that read them. The walk stops at `input`, whose own inputs are not followed.
    pub fn upstream(&self, output: usize, input: usize) -> Result<Vec<usize>, PolicyError> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Open,
            Done,
        }
        let mut mark = vec![Mark::New; self.nodes.len()];
        let mut order = Vec::new();
        // Iterative depth-first search: (node, next input to visit).
        let mut stack = vec![(output, 0usize)];
        mark[output] = Mark::Open;
        while let Some((at, next)) = stack.pop() {
            let inputs = if at == input {
                &[][..]
            } else {
                &self.nodes[at].inputs[..]
            };
            if next < inputs.len() {
                stack.push((at, next + 1));
                let child = self.index[&inputs[next].0];
                match mark[child] {
                    Mark::New => {
                        mark[child] = Mark::Open;
                        stack.push((child, 0));
                    }
                    Mark::Open => return Err(PolicyError::Cycle(self.nodes[child].name.clone())),
                    Mark::Done => {}
                }
            } else {
                mark[at] = Mark::Done;
                order.push(at);
            }
        }
        Ok(order)
    }
}
