//! The progress.txt reader as seen from Python: `read_progress`, `read_run_folders`,
//! and the `Table` and `RunFolder` they give.
//!
//! Files are read and parsed with the GIL released. A table's values cross as one
//! `(n_columns, n_rows)` float64 array that takes over the Rust buffer without a
//! copy. Errors become `spinfast.errors.ProgressParseError` naming the file and line.

use std::path::PathBuf;

use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::errors::ProgressFileError;
use crate::progress::{self, Table};

/// One progress.txt, read: its columns and their values.
#[pyclass(module = "spinfast._core", name = "Table", frozen)]
pub struct PyTable {
    /// The column names, in file order.
    #[pyo3(get)]
    columns: Vec<String>,
    /// `(n_columns, n_rows)` float64, each column contiguous.
    #[pyo3(get)]
    values: Py<PyArray2<f64>>,
    /// The file ended in a row cut mid-write or a block of NUL bytes.
    #[pyo3(get)]
    truncated: bool,
}

#[pymethods]
impl PyTable {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Table(columns={:?}, rows={}, truncated={})",
            self.columns,
            self.values.bind(py).shape()[1],
            if self.truncated { "True" } else { "False" }
        )
    }
}

impl PyTable {
    fn new(py: Python<'_>, table: Table) -> PyResult<Self> {
        let Table {
            columns,
            rows,
            values,
            truncated,
        } = table;
        let values = Array2::from_shape_vec((columns.len(), rows), values)
            .map_err(|err| PyValueError::new_err(format!("internal shape error: {err}")))?
            .into_pyarray(py)
            .unbind();
        Ok(Self {
            columns,
            values,
            truncated,
        })
    }
}

/// What one run folder held: its table or the error reading it, and config.json.
#[pyclass(module = "spinfast._core", frozen)]
pub struct RunFolder {
    /// The progress.txt table, or None when it could not be read.
    #[pyo3(get)]
    table: Option<Py<PyTable>>,
    /// The `ProgressParseError` reading progress.txt gave, or None.
    #[pyo3(get)]
    error: Option<Py<PyAny>>,
    /// The text of config.json, or None when it is absent or not UTF-8.
    #[pyo3(get)]
    config_json: Option<String>,
}

/// Reads one progress.txt; raises `ProgressParseError` when it is broken.
#[pyfunction]
pub fn read_progress(py: Python<'_>, path: PathBuf) -> PyResult<PyTable> {
    match py.detach(|| progress::read_table_guarded(&path)) {
        Ok(table) => PyTable::new(py, table),
        Err(error) => Err(ProgressFileError { path: &path, error }.into()),
    }
}

/// Reads `progress.txt` and `config.json` in every folder, in parallel; one
/// `RunFolder` per folder, in order. A broken file does not stop the rest.
#[pyfunction]
#[pyo3(signature = (folders, threads=None))]
pub fn read_run_folders(
    py: Python<'_>,
    folders: Vec<PathBuf>,
    threads: Option<usize>,
) -> PyResult<Vec<RunFolder>> {
    if threads == Some(0) {
        return Err(PyValueError::new_err("threads must be at least 1"));
    }
    let results = py.detach(|| progress::read_run_folders(&folders, threads));
    folders
        .iter()
        .zip(results)
        .map(|(dir, files)| {
            let (table, error) = match files.progress {
                Ok(table) => (Some(Py::new(py, PyTable::new(py, table)?)?), None),
                Err(error) => {
                    let path = dir.join("progress.txt");
                    let err = PyErr::from(ProgressFileError { path: &path, error });
                    (None, Some(err.into_value(py).into_any()))
                }
            };
            Ok(RunFolder {
                table,
                error,
                config_json: files.config_json,
            })
        })
        .collect()
}
