//! The progress.txt reader as seen from Python: `read_progress` and `read_run_folders`.
//!
//! Files are read and parsed with the GIL released. Tables cross into Python as
//! `(columns, values, truncated)` where `values` is a `(n_columns, n_rows)`
//! float64 array that takes over the Rust buffer without a copy. Errors become
//! `spinfast.errors.ProgressParseError` naming the file and line.

use std::path::{Path, PathBuf};

use numpy::ndarray::Array2;
use numpy::IntoPyArray;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::progress::{self, ProgressError, Table};

/// Reads one progress.txt; raises `ProgressParseError` when it is broken.
#[pyfunction]
pub fn read_progress(py: Python<'_>, path: PathBuf) -> PyResult<Bound<'_, PyTuple>> {
    let result = py.detach(|| progress::read_table_guarded(&path));
    match result {
        Ok(table) => table_to_python(py, table),
        Err(err) => Err(PyErr::from_value(parse_error(py, &path, &err)?)),
    }
}

/// Reads `progress.txt` and `config.json` in every folder, in parallel. Returns,
/// per folder and in order, `(table_or_error, config_text_or_None)` where a
/// broken table comes back as a `ProgressParseError` instance, not raised.
#[pyfunction]
#[pyo3(signature = (folders, threads=None))]
pub fn read_run_folders(
    py: Python<'_>,
    folders: Vec<PathBuf>,
    threads: Option<usize>,
) -> PyResult<Vec<(Py<PyAny>, Option<String>)>> {
    if threads == Some(0) {
        return Err(PyValueError::new_err("threads must be at least 1"));
    }
    let results = py.detach(|| progress::read_run_folders(&folders, threads));
    folders
        .iter()
        .zip(results)
        .map(|(dir, files)| {
            let table = match files.progress {
                Ok(table) => table_to_python(py, table)?.into_any().unbind(),
                Err(err) => parse_error(py, &dir.join("progress.txt"), &err)?.unbind(),
            };
            Ok((table, files.config_json))
        })
        .collect()
}

fn table_to_python(py: Python<'_>, table: Table) -> PyResult<Bound<'_, PyTuple>> {
    let Table {
        columns,
        rows,
        values,
        truncated,
    } = table;
    let values = Array2::from_shape_vec((columns.len(), rows), values)
        .map_err(|err| PyValueError::new_err(format!("internal shape error: {err}")))?
        .into_pyarray(py);
    (columns, values, truncated).into_pyobject(py)
}

/// A `ProgressParseError(reason, path, line)` instance, from spinfast.errors.
fn parse_error<'py>(
    py: Python<'py>,
    path: &Path,
    err: &ProgressError,
) -> PyResult<Bound<'py, PyAny>> {
    py.import("spinfast.errors")?
        .getattr("ProgressParseError")?
        .call1((
            err.to_string(),
            path.to_string_lossy().into_owned(),
            err.line,
        ))
}
