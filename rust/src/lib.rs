//! spinfast's Rust core, imported from Python as `spinfast._core`.
//!
//! Pure-Rust modules (no Python types) sit at the top; `python/` holds the thin
//! PyO3 layer over each of them. `python/spinfast/_core.pyi` documents what
//! Python sees.

pub mod progress;
mod python;
pub mod rollout;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(python::progress::read_progress, m)?)?;
    m.add_function(wrap_pyfunction!(python::progress::read_run_folders, m)?)?;
    m.add_function(wrap_pyfunction!(python::rollout::rollout, m)?)?;
    m.add_class::<python::rollout::PyEpisodeBar>()?;
    Ok(())
}
