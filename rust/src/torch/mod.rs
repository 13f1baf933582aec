//! Spinning Up's PyTorch agents (`pyt_save/model.pt`) without torch, and without
//! running anything the file says.
//!
//! Spinning Up saves the whole `MLPActorCritic` module with `torch.save`, so the
//! file is a pickle of module objects whose tensors live in storages beside it.
//! This module reads both layouts ([`Format`]: the zip archive of torch >= 1.6 and
//! the legacy stream of torch <= 1.5) with a pickle reader that interprets an
//! allowlist of data constructors and records every class as inert data
//! (`os.system` and friends are refused, naming them). It then recognises the
//! actor by structure ([`ActorKind`]), whatever package path a fork gave the
//! classes, and compiles it into the native policy program the TF1 agents use:
//!
//! ```no_run
//! use _core::policy::Evaluator;
//! use _core::torch::read_model;
//!
//! let model = read_model("data/ppo/ppo_s0/pyt_save/model.pt".as_ref())?;
//! println!("{}", model.describe());
//! let (graph, outputs) = model.policy_graph()?;
//! let mut policy = Evaluator::new(&graph, "x", &outputs[0], 0)?;
//! let action = policy.run(&vec![0.0; model.obs_dim], &[1, model.obs_dim])?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod archive;
mod error;
mod globals;
mod graph;
mod model;
mod pickle;
mod tensor;

use std::path::Path;

pub use archive::Format;
pub use error::TorchError;
pub use model::{
    Activation, Actor, ActorKind, Layer, Linear, Mlp, TorchModel, ACTIVATIONS, LOG_STD_MAX,
    LOG_STD_MIN,
};

/// Read a Spinning Up PyTorch `model.pt` and recognise its actor.
pub fn read_model(path: &Path) -> Result<TorchModel, TorchError> {
    let name = path.display().to_string();
    let data = std::fs::read(path).map_err(|source| TorchError::Io {
        path: name.clone(),
        source,
    })?;
    read_model_bytes(&name, &data)
}

/// [`read_model`] on a file's bytes; `name` stands for the file in messages.
pub fn read_model_bytes(name: &str, data: &[u8]) -> Result<TorchModel, TorchError> {
    let loaded = archive::load(name, data)?;
    model::recognise(name, &loaded)
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod oracle;
#[cfg(test)]
mod tests;
