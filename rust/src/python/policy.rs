//! The native policy evaluator as seen from Python: `GraphNode`, `NativePolicy`
//! and `native_ops`.
//!
//! A graph arrives as a list of `GraphNode`s (built by `spinfast.policy_graph`
//! from a loaded agent). Errors map through `python/errors.rs`; a panic becomes
//! a `RuntimeError` and the evaluator drops its plans.

use std::collections::{BTreeMap, HashMap};

use numpy::ndarray::{ArrayViewD, IxDyn};
use numpy::npyffi::PY_ARRAY_API;
use numpy::{
    AllowTypeChange, Element, PyArrayDescrMethods, PyArrayDyn, PyArrayLikeDyn, PyArrayMethods,
    PyReadonlyArrayDyn, PyUntypedArrayMethods, ToPyArray,
};
use pyo3::exceptions::{PyIndexError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3::IntoPyObjectExt;

use crate::panic::catch;
use crate::policy::{
    Attr, DType, Evaluator, Graph, Node, Output, OutputData, PolicyError, Tensor, TensorData,
    SUPPORTED_OPS,
};

/// The TensorFlow op types the native evaluator runs.
#[pyfunction]
pub fn native_ops() -> Vec<&'static str> {
    SUPPORTED_OPS.to_vec()
}

#[derive(FromPyObject)]
enum PyAttr {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Ints(Vec<i64>),
}

#[derive(FromPyObject)]
enum PyValue<'py> {
    F32(PyReadonlyArrayDyn<'py, f32>),
    I32(PyReadonlyArrayDyn<'py, i32>),
    I64(PyReadonlyArrayDyn<'py, i64>),
}

/// One node of a policy graph: op type, data inputs, plain attributes, and the
/// value of a constant or variable.
#[pyclass(module = "spinfast._core", frozen, eq)]
#[derive(PartialEq)]
pub struct GraphNode(pub Node);

#[pymethods]
impl GraphNode {
    #[new]
    #[pyo3(signature = (name, op, inputs, attrs, value=None))]
    fn new(
        name: String,
        op: String,
        inputs: Vec<(String, usize)>,
        attrs: HashMap<String, PyAttr>,
        value: Option<PyValue<'_>>,
    ) -> Self {
        let attrs = attrs
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    PyAttr::Bool(b) => Attr::Bool(b),
                    PyAttr::Int(i) => Attr::Int(i),
                    PyAttr::Float(f) => Attr::Float(f),
                    PyAttr::Str(s) => Attr::Str(s),
                    PyAttr::Ints(v) => Attr::Ints(v),
                };
                (k, v)
            })
            .collect();
        let value = value.map(|v| match v {
            PyValue::F32(a) => {
                Tensor::f32(a.shape().to_vec(), a.as_array().iter().copied().collect())
            }
            PyValue::I32(a) => Tensor::int(
                DType::I32,
                a.shape().to_vec(),
                a.as_array().iter().map(|&x| x as i64).collect(),
            ),
            PyValue::I64(a) => Tensor::int(
                DType::I64,
                a.shape().to_vec(),
                a.as_array().iter().copied().collect(),
            ),
        });
        Self(Node {
            name,
            op,
            inputs,
            attrs,
            value,
        })
    }

    /// The node's name, e.g. `pi/dense/MatMul`.
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }

    /// The TensorFlow op type, e.g. `MatMul`.
    #[getter]
    fn op(&self) -> &str {
        &self.0.op
    }

    /// Data inputs as `(node name, output index)`.
    #[getter]
    fn inputs(&self) -> Vec<(String, usize)> {
        self.0.inputs.clone()
    }

    /// Plain attributes: bools, ints, floats, strings (dtypes by name), int lists.
    #[getter]
    fn attrs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (key, value) in &self.0.attrs {
            let value = match value {
                Attr::Bool(b) => b.into_bound_py_any(py)?,
                Attr::Int(i) => i.into_bound_py_any(py)?,
                Attr::Float(f) => f.into_bound_py_any(py)?,
                Attr::Str(s) => s.into_bound_py_any(py)?,
                Attr::Ints(v) => v.into_bound_py_any(py)?,
            };
            dict.set_item(key, value)?;
        }
        Ok(dict)
    }

    /// The value of a constant or variable as a NumPy array, else None.
    #[getter]
    fn value<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(tensor) = &self.0.value else {
            return Ok(None);
        };
        let shape = &tensor.shape;
        let n = tensor.elements();
        let value = match (&tensor.data, tensor.dtype) {
            (TensorData::F32(v), _) => array(py, shape, &v[..n])?,
            (TensorData::I64(v), DType::I32) => array(
                py,
                shape,
                &v[..n].iter().map(|&x| x as i32).collect::<Vec<_>>(),
            )?,
            (TensorData::I64(v), _) => array(py, shape, &v[..n])?,
        };
        Ok(Some(value))
    }

    fn __repr__(&self) -> String {
        format!("GraphNode(name={:?}, op={:?})", self.0.name, self.0.op)
    }
}

/// The part of a saved agent's graph that acting needs: the nodes its action
/// outputs depend on, back to the observation input; from a TF session
/// (`spinfast.agent.graph`), or read natively (`read_torch_model`).
#[pyclass(module = "spinfast._core", frozen)]
pub struct PolicyGraph {
    /// The observation input's node name (Spinning Up's `x`).
    #[pyo3(get)]
    input: String,
    /// Output key (`"pi"`, `"mu"`) to node name.
    #[pyo3(get)]
    outputs: BTreeMap<String, String>,
    nodes: Vec<Py<GraphNode>>,
    /// What the graph was read from, in one line (may be empty).
    #[pyo3(get)]
    description: String,
}

#[pymethods]
impl PolicyGraph {
    #[new]
    #[pyo3(signature = (input, outputs, nodes, description=None))]
    fn new(
        input: String,
        outputs: BTreeMap<String, String>,
        nodes: Vec<Py<GraphNode>>,
        description: Option<String>,
    ) -> Self {
        Self {
            input,
            outputs,
            nodes,
            description: description.unwrap_or_default(),
        }
    }

    /// Every node an output depends on, inputs first.
    #[getter]
    fn nodes(&self, py: Python<'_>) -> Vec<Py<GraphNode>> {
        self.nodes.iter().map(|n| n.clone_ref(py)).collect()
    }

    /// The op types of the nodes.
    #[getter]
    fn op_types(&self) -> std::collections::BTreeSet<String> {
        self.nodes.iter().map(|n| n.get().0.op.clone()).collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "PolicyGraph(input={:?}, outputs={:?}, {} nodes)",
            self.input,
            self.outputs,
            self.nodes.len()
        )
    }
}

impl PolicyGraph {
    /// A graph read natively: its nodes become `GraphNode`s.
    pub(crate) fn from_rust(
        py: Python<'_>,
        graph: Graph,
        input: &str,
        outputs: BTreeMap<String, String>,
        description: String,
    ) -> PyResult<Self> {
        let nodes = graph
            .into_nodes()
            .into_iter()
            .map(|node| Py::new(py, GraphNode(node)))
            .collect::<PyResult<_>>()?;
        Ok(Self {
            input: input.to_string(),
            outputs,
            nodes,
            description,
        })
    }
}

/// A policy output compiled for native evaluation.
///
/// `act(obs)` (or calling it) takes one observation and returns one action, as
/// Spinning Up's `get_action` does; `act_batch(obs)` takes `(N, *obs_shape)` and
/// returns N. `spinfast.native_policy.NativePolicy` subclasses it; the rollout
/// (`python/rollout.rs`) runs it directly through [`NativePolicy::act_each`].
#[pyclass(module = "spinfast._core", subclass)]
pub struct NativePolicy {
    evaluator: Evaluator,
    /// Reused for each call's batch shape and for observations not read in place.
    shape: Vec<usize>,
    scratch: Vec<f32>,
}

#[pymethods]
impl NativePolicy {
    #[new]
    fn new(
        nodes: Vec<PyRef<'_, GraphNode>>,
        input: &str,
        output: &str,
        seed: u64,
    ) -> PyResult<Self> {
        let nodes: Vec<Node> = nodes.iter().map(|n| n.0.clone()).collect();
        let evaluator = catch(|| {
            let graph = crate::policy::Graph::new(nodes)?;
            Evaluator::new(&graph, input, output, seed)
        })??;
        Ok(Self {
            evaluator,
            shape: Vec::new(),
            scratch: Vec::new(),
        })
    }

    /// Restart the sampling generator: the same seed gives the same actions.
    fn seed(&mut self, seed: u64) {
        self.evaluator.seed(seed);
    }

    /// Lay out the evaluator for observations of `shape` (batch first) now.
    fn prepare(&mut self, shape: Vec<usize>) -> PyResult<()> {
        let evaluator = &mut self.evaluator;
        let result = catch(|| evaluator.prepare(&shape));
        self.settle(result)
    }

    /// The placeholder's declared shape (None for an unknown dimension), or None.
    #[getter]
    fn input_shape(&self) -> Option<Vec<Option<usize>>> {
        let dims = self.evaluator.program().input_dims.as_ref()?;
        Some(dims.iter().map(|&d| usize::try_from(d).ok()).collect())
    }

    /// One action for one observation: the first row of the batch of one.
    fn act<'py>(
        &mut self,
        py: Python<'py>,
        obs: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.shape.clear();
        self.shape.push(1);
        self.scratch.clear();
        let array = self.push_obs(obs)?;
        self.shape.extend_from_slice(array.shape());
        let out = self.run()?;
        let Some((&rows, rest)) = out.shape.split_first() else {
            return Err(PyIndexError::new_err(
                "the action output is a scalar: it has no batch axis to take one action from",
            ));
        };
        if rows == 0 {
            return Err(PyIndexError::new_err("the action output is empty"));
        }
        let row: usize = rest.iter().product();
        to_numpy(py, rest, out.data, out.dtype, 0, row)
    }

    /// `policy(obs)` is `policy.act(obs)`, with no Python frame in between.
    fn __call__<'py>(
        &mut self,
        py: Python<'py>,
        obs: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.act(py, obs)
    }

    /// Actions for a batch of observations, `(N, *obs_shape)`.
    fn act_batch<'py>(
        &mut self,
        py: Python<'py>,
        obs: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.shape.clear();
        self.scratch.clear();
        let array = self.push_obs(obs)?;
        self.shape.extend_from_slice(array.shape());
        let out = self.run()?;
        let len = out.shape.iter().product();
        to_numpy(py, out.shape, out.data, out.dtype, 0, len)
    }
}

impl NativePolicy {
    /// The evaluator, for a rollout that runs it without Python.
    pub(crate) fn evaluator_mut(&mut self) -> &mut Evaluator {
        &mut self.evaluator
    }

    /// Drop the laid-out plans (after an error that may have left one half-run).
    pub(crate) fn reset_plans(&mut self) {
        self.evaluator.reset_plans();
    }

    /// One action per observation, pushed onto `actions`, from one evaluation of
    /// the observations batched here in Rust: what the rollout calls each step.
    pub(crate) fn act_each<'py>(
        &mut self,
        py: Python<'py>,
        obs: &[Bound<'py, PyAny>],
        actions: &mut Vec<Bound<'py, PyAny>>,
    ) -> PyResult<()> {
        self.scratch.clear();
        self.shape.clear();
        self.shape.push(obs.len());
        for (k, o) in obs.iter().enumerate() {
            let array = self.push_obs(o)?;
            if k == 0 {
                self.shape.extend_from_slice(array.shape());
            } else if &self.shape[1..] != array.shape() {
                return Err(PyValueError::new_err(format!(
                    "the envs gave observations of shapes {:?} and {:?}: \
                     envs stepped together must give the same shape",
                    &self.shape[1..],
                    array.shape()
                )));
            }
        }
        let evaluator = &mut self.evaluator;
        let (values, shape) = (&self.scratch, &self.shape);
        let ran = catch(|| evaluator.run(values, shape).map(|_| ()));
        self.settle(ran)?;
        let out = self.output()?;
        let Some((&rows, rest)) = out.shape.split_first() else {
            return Err(PyIndexError::new_err(
                "the action output is a scalar: it has no batch axis to take actions from",
            ));
        };
        if rows != obs.len() {
            return Err(PyValueError::new_err(format!(
                "the policy gave {rows} actions for {} observations",
                obs.len()
            )));
        }
        let row: usize = rest.iter().product();
        for k in 0..rows {
            actions.push(to_numpy(py, rest, out.data, out.dtype, k * row, row)?);
        }
        Ok(())
    }

    /// Append `obs` to the evaluator's input (`self.scratch`), read in place when it
    /// is a C-contiguous float32 array, else converted by NumPy; returns it as an array.
    fn push_obs<'py>(&mut self, obs: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        let array = match obs.cast::<PyArrayDyn<f32>>() {
            Ok(array) => array.clone(),
            Err(_) => {
                let converted = obs.extract::<PyArrayLikeDyn<'py, f32, AllowTypeChange>>()?;
                let array: &Bound<'py, PyArrayDyn<f32>> = &converted;
                array.clone()
            }
        };
        // SAFETY: the GIL is held and no Python code runs while the view is alive.
        match unsafe { array.as_slice() } {
            Ok(values) => self.scratch.extend_from_slice(values),
            Err(_) => self.scratch.extend(unsafe { array.as_array() }.iter()),
        }
        Ok(array)
    }

    /// Evaluate on `self.scratch` shaped `self.shape`.
    fn run(&mut self) -> PyResult<Output<'_>> {
        let evaluator = &mut self.evaluator;
        let (values, shape) = (&self.scratch, &self.shape);
        let ran = catch(|| evaluator.run(values, shape).map(|_| ()));
        self.settle(ran)?;
        self.output()
    }

    fn output(&self) -> PyResult<Output<'_>> {
        self.evaluator
            .output(&self.shape)
            .ok_or_else(|| PyRuntimeError::new_err("internal error: the plan that ran is gone"))
    }

    /// The Python error for a failed or panicked evaluation; after a panic or an
    /// internal error the plans, possibly half-updated, are dropped.
    fn settle<T>(
        &mut self,
        result: Result<Result<T, PolicyError>, crate::panic::Panic>,
    ) -> PyResult<T> {
        match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => {
                if matches!(err, PolicyError::Internal(_)) {
                    self.evaluator.reset_plans();
                }
                Err(err.into())
            }
            Err(panic) => {
                self.evaluator.reset_plans();
                Err(panic.into())
            }
        }
    }
}

/// `len` values of `data` from `start` as a NumPy array of `shape`, or a NumPy
/// scalar when `shape` is empty (as indexing TensorFlow's output gives).
fn to_numpy<'py>(
    py: Python<'py>,
    shape: &[usize],
    data: OutputData<'_>,
    dtype: DType,
    start: usize,
    len: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let range = start..start + len;
    match data {
        OutputData::F32(v) => array(py, shape, &v[range]),
        OutputData::I64(v) if dtype == DType::I32 => {
            let narrow: Vec<i32> = v[range].iter().map(|&x| x as i32).collect();
            array(py, shape, &narrow)
        }
        OutputData::I64(v) => array(py, shape, &v[range]),
    }
}

fn array<'py, T: Element + Copy>(
    py: Python<'py>,
    shape: &[usize],
    data: &[T],
) -> PyResult<Bound<'py, PyAny>> {
    if shape.is_empty() {
        return scalar(py, data[0]);
    }
    let view = ArrayViewD::from_shape(IxDyn(shape), data)
        .map_err(|err| PyRuntimeError::new_err(format!("internal shape error: {err}")))?;
    Ok(view.to_pyarray(py).into_any())
}

/// A NumPy scalar (`np.int64`, `np.float32`, ...) holding `value`.
fn scalar<T: Element + Copy>(py: Python<'_>, mut value: T) -> PyResult<Bound<'_, PyAny>> {
    let descr = numpy::dtype::<T>(py);
    // SAFETY: PyArray_Scalar copies the value out of `value` (a plain number of the
    // dtype's type, so no base object is needed) and does not steal `descr`.
    unsafe {
        let ptr = PY_ARRAY_API.PyArray_Scalar(
            py,
            (&mut value as *mut T).cast(),
            descr.as_dtype_ptr(),
            std::ptr::null_mut(),
        );
        Bound::from_owned_ptr_or_err(py, ptr)
    }
}
