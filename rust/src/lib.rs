//! spinfast's Rust core, imported from Python as `spinfast._core`.
//!
//! Pure-Rust modules (no Python types) sit at the top; `python/` holds the thin
//! PyO3 layer over each of them. `python/spinfast/_core.pyi` documents what
//! Python sees.

pub mod envs;
mod panic;
pub mod policy;
pub mod progress;
mod python;
pub mod rollout;
pub mod savedmodel;
pub mod torch;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(python::progress::read_progress, m)?)?;
    m.add_function(wrap_pyfunction!(python::progress::read_run_folders, m)?)?;
    m.add_class::<python::progress::PyTable>()?;
    m.add_class::<python::progress::RunFolder>()?;
    m.add_function(wrap_pyfunction!(python::policy::native_ops, m)?)?;
    m.add_class::<python::policy::GraphNode>()?;
    m.add_class::<python::policy::PolicyGraph>()?;
    m.add_function(wrap_pyfunction!(python::agents::read_saved_model, m)?)?;
    m.add_function(wrap_pyfunction!(python::agents::read_torch_model, m)?)?;
    m.add_class::<python::policy::NativePolicy>()?;
    m.add_function(wrap_pyfunction!(python::envs::native_env_ids, m)?)?;
    m.add_class::<python::envs::NativeEnv>()?;
    m.add_function(wrap_pyfunction!(python::rollout::rollout, m)?)?;
    m.add_function(wrap_pyfunction!(python::rollout::episode_numbers, m)?)?;
    m.add_class::<python::rollout::Episode>()?;
    Ok(())
}
