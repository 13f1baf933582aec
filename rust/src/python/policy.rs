//! The native policy evaluator as seen from Python: `NativePolicy` and `native_ops`.
//!
//! A graph arrives as a list of nodes `(name, op, inputs, attrs, value)` built by
//! `spinfast.policy_graph`. Compile errors become `spinfast.errors.NativePolicyError`
//! (with the op types that have no kernel); a panic becomes a `RuntimeError` and the
//! evaluator drops its plans, so it never crosses into Python as a panic.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use numpy::ndarray::{ArrayViewD, IxDyn};
use numpy::npyffi::PY_ARRAY_API;
use numpy::{
    AllowTypeChange, Element, PyArrayDescrMethods, PyArrayDyn, PyArrayLikeDyn, PyArrayMethods,
    PyReadonlyArrayDyn, PyUntypedArrayMethods, ToPyArray,
};
use pyo3::exceptions::{PyIndexError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use crate::panic::panic_message;
use crate::policy::{
    Attr, DType, Evaluator, Graph, Node, Output, OutputData, PolicyError, Tensor, SUPPORTED_OPS,
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

type PyNode<'py> = (
    String,
    String,
    Vec<(String, usize)>,
    HashMap<String, PyAttr>,
    Option<PyValue<'py>>,
);

fn node_from_python((name, op, inputs, attrs, value): PyNode<'_>) -> Node {
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
        PyValue::F32(a) => Tensor::f32(a.shape().to_vec(), a.as_array().iter().copied().collect()),
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
    Node {
        name,
        op,
        inputs,
        attrs,
        value,
    }
}

/// A policy output compiled for native evaluation.
///
/// `act(obs)` (or calling it) takes one observation and returns one action, as
/// Spinning Up's `get_action` does; `act_batch(obs)` takes `(N, *obs_shape)` and
/// returns N. `spinfast.native_policy.NativePolicy` subclasses it.
#[pyclass(module = "spinfast._core", subclass)]
pub struct NativePolicy {
    evaluator: Evaluator,
    /// Reused for each call's batch shape and for non-contiguous observations.
    shape: Vec<usize>,
    scratch: Vec<f32>,
}

#[pymethods]
impl NativePolicy {
    #[new]
    fn new(
        py: Python<'_>,
        nodes: Vec<PyNode<'_>>,
        input: &str,
        output: &str,
        seed: u64,
    ) -> PyResult<Self> {
        let nodes: Vec<Node> = nodes.into_iter().map(node_from_python).collect();
        let built = guarded(|| {
            let graph = Graph::new(nodes)?;
            Evaluator::new(&graph, input, output, seed)
        });
        match built {
            Ok(evaluator) => Ok(Self {
                evaluator,
                shape: Vec::new(),
                scratch: Vec::new(),
            }),
            Err(err) => Err(compile_error(py, &err)),
        }
    }

    /// Restart the sampling generator: the same seed gives the same actions.
    fn seed(&mut self, seed: u64) {
        self.evaluator.seed(seed);
    }

    /// Lay out the evaluator for observations of `shape` (batch first) now.
    fn prepare(&mut self, py: Python<'_>, shape: Vec<usize>) -> PyResult<()> {
        let evaluator = &mut self.evaluator;
        let result = guarded(|| evaluator.prepare(&shape));
        result.map_err(|err| self.fail(py, &err))
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
        let out = self.evaluate(py, obs, true)?;
        let Some((&rows, rest)) = out.shape.split_first() else {
            return Err(PyIndexError::new_err(
                "the action output is a scalar: it has no batch axis to take one action from",
            ));
        };
        if rows == 0 {
            return Err(PyIndexError::new_err("the action output is empty"));
        }
        let row: usize = rest.iter().product();
        to_numpy(py, rest, out.data, out.dtype, row)
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
        let out = self.evaluate(py, obs, false)?;
        let len = out.shape.iter().product();
        to_numpy(py, out.shape, out.data, out.dtype, len)
    }
}

impl NativePolicy {
    /// Run on `obs` (a batch, or with `one` a single observation made a batch of
    /// one). A C-contiguous float32 array is read in place; anything else is
    /// converted by NumPy first.
    fn evaluate(
        &mut self,
        py: Python<'_>,
        obs: &Bound<'_, PyAny>,
        one: bool,
    ) -> PyResult<Output<'_>> {
        let converted;
        let array: &Bound<'_, PyArrayDyn<f32>> = match obs.cast::<PyArrayDyn<f32>>() {
            Ok(array) => array,
            Err(_) => {
                converted = obs.extract::<PyArrayLikeDyn<'_, f32, AllowTypeChange>>()?;
                &converted
            }
        };
        self.shape.clear();
        if one {
            self.shape.push(1);
        }
        self.shape.extend_from_slice(array.shape());
        // SAFETY: the GIL is held and no Python code runs while `values` is alive:
        // the evaluator copies the observations into its own input buffer before
        // anything else, so nothing can write to the array while it is read.
        let values = match unsafe { array.as_slice() } {
            Ok(values) => values,
            Err(_) => {
                self.scratch.clear();
                self.scratch.extend(unsafe { array.as_array() }.iter());
                &self.scratch
            }
        };
        let evaluator = &mut self.evaluator;
        let shape = &self.shape;
        // The output borrows the evaluator, so the guard returns only whether the
        // run succeeded; the output is read afterwards.
        let ran = guarded(|| evaluator.run(values, shape).map(|_| ()));
        if let Err(err) = ran {
            return Err(self.fail(py, &err));
        }
        self.evaluator
            .output(&self.shape)
            .ok_or_else(|| PyRuntimeError::new_err("internal error: the plan that ran is gone"))
    }

    fn fail(&mut self, py: Python<'_>, err: &PolicyError) -> PyErr {
        match err {
            PolicyError::InputShape { .. } => PyValueError::new_err(err.to_string()),
            PolicyError::Internal(_) => {
                self.evaluator.reset_plans();
                PyRuntimeError::new_err(err.to_string())
            }
            _ => compile_error(py, err),
        }
    }
}

/// The first `len` values of `data` as a NumPy array of `shape`, or a NumPy scalar
/// when `shape` is empty (as indexing TensorFlow's output gives).
fn to_numpy<'py>(
    py: Python<'py>,
    shape: &[usize],
    data: OutputData<'_>,
    dtype: DType,
    len: usize,
) -> PyResult<Bound<'py, PyAny>> {
    match data {
        OutputData::F32(v) => array(py, shape, &v[..len]),
        OutputData::I64(v) if dtype == DType::I32 => {
            let narrow: Vec<i32> = v[..len].iter().map(|&x| x as i32).collect();
            array(py, shape, &narrow)
        }
        OutputData::I64(v) => array(py, shape, &v[..len]),
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

/// Run `f`, turning a panic into [`PolicyError::Internal`].
fn guarded<T>(f: impl FnOnce() -> Result<T, PolicyError>) -> Result<T, PolicyError> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|panic| Err(PolicyError::Internal(panic_message(panic.as_ref()))))
}

/// `spinfast.errors.NativePolicyError(message, ops)`.
fn compile_error(py: Python<'_>, err: &PolicyError) -> PyErr {
    let ops: Vec<String> = match err {
        PolicyError::Unsupported(list) => list.iter().map(|u| u.op.clone()).collect(),
        _ => Vec::new(),
    };
    let made = py
        .import("spinfast.errors")
        .and_then(|m| m.getattr("NativePolicyError"))
        .and_then(|cls| cls.call1((err.to_string(), ops)));
    match made {
        Ok(value) => PyErr::from_value(value),
        Err(import_failed) => import_failed,
    }
}
