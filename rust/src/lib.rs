//! spinfast's Rust core, imported from Python as `spinfast._core`.
//!
//! Pure-Rust modules (no Python types) sit at the top; `python/` holds the thin
//! PyO3 layer over each of them. `python/spinfast/_core.pyi` documents what
//! Python sees.

mod panic;
pub mod policy;
pub mod progress;
mod python;
pub mod rollout;
pub mod savedmodel;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(python::progress::read_progress, m)?)?;
    m.add_function(wrap_pyfunction!(python::progress::read_run_folders, m)?)?;
    m.add_function(wrap_pyfunction!(python::policy::native_ops, m)?)?;
    m.add_class::<python::policy::NativePolicy>()?;
    m.add_function(wrap_pyfunction!(python::rollout::rollout, m)?)?;
    m.add_class::<python::rollout::PyEpisodeBar>()?;
    Ok(())
}
