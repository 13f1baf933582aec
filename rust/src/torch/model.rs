//! Spinning Up's PyTorch actor-critics, recognised by their structure.
//!
//! Forks move `core.py` around (`PPO.core`, `src.sac.core`, a bare `core`), so
//! the module path of the actor-critic and actor classes is not looked at: the
//! root module's `pi` child is the actor, and its own children say which one it
//! is (see `spinup/algos/pytorch/*/core.py`):
//!
//! | actor | children and attributes | action |
//! | --- | --- | --- |
//! | MLPCategoricalActor | `logits_net` | a category drawn from `softmax(logits_net(x))` |
//! | MLPGaussianActor | `mu_net`, parameter `log_std` | `mu_net(x) + exp(log_std) * eps` |
//! | MLPActor (DDPG, TD3) | `pi`, `act_limit` | `act_limit * pi(x)` (`pi` ends in Tanh) |
//! | SquashedGaussianMLPActor (SAC) | `net`, `mu_layer`, `log_std_layer`, `act_limit` | `act_limit * tanh(mu + exp(clamp(log_std, -20, 2)) * eps)` |
//!
//! The networks are `torch.nn.Sequential`s of `Linear` layers and activations;
//! those are torch's own classes and are matched by name.

use std::fmt::Write as _;

use super::archive::{Format, Loaded};
use super::error::TorchError;
use super::pickle::{Global, Id, Obj};
use super::tensor::{self, Floats};

/// Spinning Up's clamp of SAC's log standard deviation.
pub const LOG_STD_MIN: f32 = -20.0;
pub const LOG_STD_MAX: f32 = 2.0;

/// The four actors of Spinning Up's PyTorch algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// MLPCategoricalActor (VPG, PPO, TRPO on a Discrete action space).
    Categorical,
    /// MLPGaussianActor (VPG, PPO, TRPO on a Box action space).
    Gaussian,
    /// MLPActor (DDPG, TD3).
    Deterministic,
    /// SquashedGaussianMLPActor (SAC).
    SquashedGaussian,
}

impl ActorKind {
    pub fn describe(self) -> &'static str {
        match self {
            ActorKind::Categorical => "categorical policy (VPG/PPO/TRPO)",
            ActorKind::Gaussian => "Gaussian policy (VPG/PPO/TRPO)",
            ActorKind::Deterministic => "deterministic policy (DDPG/TD3)",
            ActorKind::SquashedGaussian => "squashed Gaussian policy (SAC)",
        }
    }

    /// The graph outputs: `pi` samples an action as `model.act(obs)` does; SAC
    /// also has `mu`, its deterministic action.
    pub fn outputs(self) -> &'static [&'static str] {
        match self {
            ActorKind::SquashedGaussian => &["pi", "mu"],
            _ => &["pi"],
        }
    }
}

/// Activation modules with a native equivalent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    Identity,
    Tanh,
    Relu,
    Elu,
    Sigmoid,
    Softplus,
    /// `max(x, slope * x)` for a slope in [0, 1].
    LeakyRelu(f32),
}

/// Activation classes of `torch.nn` that are read (the others are named in the
/// refusal).
pub const ACTIVATIONS: &[&str] = &[
    "Identity",
    "Tanh",
    "ReLU",
    "ELU",
    "Sigmoid",
    "Softplus",
    "LeakyReLU",
];

/// `torch.nn.Linear`: `y = x W^T + b`.
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    /// Where it is in the model, as torch's state dict names it (`pi.mu_net.0`).
    pub name: String,
    pub in_features: usize,
    pub out_features: usize,
    /// `(out_features, in_features)`, row-major, as torch stores it.
    pub weight: Vec<f32>,
    pub bias: Option<Vec<f32>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    Linear(Linear),
    Activation(Activation),
}

/// A `torch.nn.Sequential` of Linear layers and activations.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    /// Where it is in the model, e.g. `pi.mu_net`.
    pub name: String,
    pub layers: Vec<Layer>,
}

impl Mlp {
    fn linears(&self) -> impl Iterator<Item = &Linear> {
        self.layers.iter().filter_map(|l| match l {
            Layer::Linear(l) => Some(l),
            Layer::Activation(_) => None,
        })
    }

    pub fn in_dim(&self) -> Option<usize> {
        self.linears().next().map(|l| l.in_features)
    }

    pub fn out_dim(&self) -> Option<usize> {
        self.linears().last().map(|l| l.out_features)
    }

    /// Hidden sizes and activations, e.g. `hidden 64x64 (Tanh)`; the last
    /// layer's outputs are hidden ones too when `all` (SAC's `net`).
    fn hidden(&self, all: bool) -> String {
        let linears: Vec<&Linear> = self.linears().collect();
        let n = if all {
            linears.len()
        } else {
            linears.len().saturating_sub(1)
        };
        let sizes: Vec<String> = linears
            .iter()
            .take(n)
            .map(|l| l.out_features.to_string())
            .collect();
        let mut acts: Vec<String> = Vec::new();
        for layer in &self.layers {
            if let Layer::Activation(a) = layer {
                if *a == Activation::Identity {
                    continue;
                }
                let name = format!("{a:?}");
                if !acts.contains(&name) {
                    acts.push(name);
                }
            }
        }
        format!("hidden {} ({})", sizes.join("x"), acts.join(", "))
    }
}

/// The actor's networks and constants.
#[derive(Debug, Clone, PartialEq)]
pub enum Actor {
    Categorical {
        logits_net: Mlp,
    },
    Gaussian {
        mu_net: Mlp,
        log_std: Vec<f32>,
    },
    Deterministic {
        pi: Mlp,
        act_limit: f32,
    },
    SquashedGaussian {
        net: Mlp,
        mu_layer: Linear,
        log_std_layer: Linear,
        act_limit: f32,
    },
}

impl Actor {
    pub fn kind(&self) -> ActorKind {
        match self {
            Actor::Categorical { .. } => ActorKind::Categorical,
            Actor::Gaussian { .. } => ActorKind::Gaussian,
            Actor::Deterministic { .. } => ActorKind::Deterministic,
            Actor::SquashedGaussian { .. } => ActorKind::SquashedGaussian,
        }
    }
}

/// A Spinning Up PyTorch actor-critic read from a `model.pt`, without torch.
#[derive(Debug, Clone, PartialEq)]
pub struct TorchModel {
    /// The file, as given (for messages).
    pub path: String,
    pub format: Format,
    /// The actor-critic's class, e.g. `core.MLPActorCritic`.
    pub class: String,
    /// The actor's class, e.g. `core.MLPGaussianActor`.
    pub actor_class: String,
    /// The actor-critic's children and their classes (`pi`, `v`, `q1`, ...).
    pub children: Vec<(String, String)>,
    pub obs_dim: usize,
    /// Action dimensions (Box), or the number of actions (Discrete).
    pub act_dim: usize,
    pub actor: Actor,
}

impl TorchModel {
    pub fn kind(&self) -> ActorKind {
        self.actor.kind()
    }

    /// One line for messages: classes, algorithm family, sizes, file format.
    pub fn describe(&self) -> String {
        let net = match &self.actor {
            Actor::Categorical { logits_net: m }
            | Actor::Gaussian { mu_net: m, .. }
            | Actor::Deterministic { pi: m, .. } => m.hidden(false),
            Actor::SquashedGaussian { net, .. } => net.hidden(true),
        };
        let children: Vec<String> = self
            .children
            .iter()
            .map(|(n, c)| format!("{n}: {c}"))
            .collect();
        let mut out = format!(
            "{} ({}), pi = {}: {}, obs {} -> act {}, {}, {} file",
            self.class,
            children.join(", "),
            self.actor_class,
            self.kind().describe(),
            self.obs_dim,
            self.act_dim,
            net,
            self.format
        );
        if let Actor::Deterministic { act_limit, .. } | Actor::SquashedGaussian { act_limit, .. } =
            &self.actor
        {
            let _ = write!(out, ", act_limit {act_limit}");
        }
        out
    }
}

/// An `nn.Module` as pickled: an inert object whose state has `_modules`.
struct Module<'a> {
    loaded: &'a Loaded,
    class: &'a Global,
    state: Id,
}

impl<'a> Module<'a> {
    fn new(loaded: &'a Loaded, id: Id) -> Option<Self> {
        let Obj::Object {
            class,
            state: Some(state),
            ..
        } = loaded.arena.get(id)
        else {
            return None;
        };
        loaded.arena.dict_get(*state, "_modules")?;
        Some(Self {
            loaded,
            class,
            state: *state,
        })
    }

    fn attr(&self, name: &str) -> Option<Id> {
        self.loaded.arena.dict_get(self.state, name)
    }

    fn entries(&self, dict: &str) -> Vec<(String, Id)> {
        let arena = &self.loaded.arena;
        match self.attr(dict).map(|d| arena.get(d)) {
            Some(Obj::Dict(items)) => items
                .iter()
                .map(|&(k, v)| (arena.str(k).unwrap_or("?").to_string(), v))
                .collect(),
            _ => Vec::new(),
        }
    }

    fn children(&self) -> Vec<(String, Id)> {
        self.entries("_modules")
    }

    fn child(&self, name: &str) -> Option<Id> {
        let modules = self.attr("_modules")?;
        self.loaded.arena.dict_get(modules, name)
    }

    fn param(&self, name: &str) -> Option<Id> {
        let params = self.attr("_parameters")?;
        self.loaded.arena.dict_get(params, name)
    }

    fn has_children(&self, names: &[&str]) -> bool {
        names.iter().all(|n| self.child(n).is_some())
    }

    /// A torch.nn class: `torch.nn.modules.<file>.<name>`.
    fn is_torch(&self, name: &str) -> bool {
        self.class.module.starts_with("torch.nn.modules.") && self.class.name == name
    }
}

/// What a value is, for messages: a module's class and children, two levels deep.
fn describe(loaded: &Loaded, id: Id, depth: usize) -> String {
    let Some(module) = Module::new(loaded, id) else {
        return loaded.arena.get(id).kind();
    };
    let mut out = module.class.full_name();
    let children = module.children();
    if depth > 0 && !children.is_empty() {
        let shown: Vec<String> = children
            .iter()
            .take(8)
            .map(|(name, c)| format!("{name}: {}", describe(loaded, *c, depth - 1)))
            .collect();
        let more = if children.len() > 8 { ", ..." } else { "" };
        let _ = write!(out, " with children {{{}{more}}}", shown.join(", "));
    }
    out
}

/// The keys of a root that is a state dict (a non-empty dict of tensors).
fn state_dict_keys(loaded: &Loaded) -> Option<Vec<String>> {
    let Obj::Dict(items) = loaded.arena.get(loaded.root) else {
        return None;
    };
    let keys: Option<Vec<String>> = items
        .iter()
        .map(|&(k, v)| match loaded.arena.get(v) {
            Obj::Tensor(_) => loaded.arena.str(k).map(str::to_string),
            _ => None,
        })
        .collect();
    keys.filter(|k| !k.is_empty())
}

/// Recognise the actor-critic pickled in `loaded`.
pub fn recognise(path: &str, loaded: &Loaded) -> Result<TorchModel, TorchError> {
    let not_ac = |found: String| TorchError::NotActorCritic {
        path: path.into(),
        found,
    };
    let root = Module::new(loaded, loaded.root).ok_or_else(|| match state_dict_keys(loaded) {
        Some(keys) => not_ac(format!(
            "found a state dict of {} tensors ({}), not the whole module that Spinning Up saves",
            keys.len(),
            keys.iter().take(4).cloned().collect::<Vec<_>>().join(", ")
                + if keys.len() > 4 { ", ..." } else { "" }
        )),
        None => not_ac(format!(
            "found {}, not a torch.nn.Module",
            describe(loaded, loaded.root, 0)
        )),
    })?;
    let found = || format!("found {}", describe(loaded, loaded.root, 2));
    let pi_id = root.child("pi").ok_or_else(|| not_ac(found()))?;
    let pi = Module::new(loaded, pi_id).ok_or_else(|| not_ac(found()))?;
    let reader = Reader { path, loaded };

    let actor = if pi.has_children(&["logits_net"]) {
        Actor::Categorical {
            logits_net: reader.mlp(pi.child("logits_net"), "pi.logits_net")?,
        }
    } else if pi.has_children(&["mu_net"]) && pi.param("log_std").is_some() {
        let mu_net = reader.mlp(pi.child("mu_net"), "pi.mu_net")?;
        let log_std = reader.floats(pi.param("log_std"), "pi.log_std")?;
        if log_std.shape.len() != 1 || Some(log_std.data.len()) != mu_net.out_dim() {
            return Err(reader.unsupported(format!(
                "pi.log_std has shape {:?} for {:?} actions",
                log_std.shape,
                mu_net.out_dim()
            )));
        }
        Actor::Gaussian {
            mu_net,
            log_std: log_std.data,
        }
    } else if pi.has_children(&["net", "mu_layer", "log_std_layer"]) {
        let net = reader.mlp(pi.child("net"), "pi.net")?;
        let mu_layer = reader.linear_module(pi.child("mu_layer"), "pi.mu_layer")?;
        let log_std_layer = reader.linear_module(pi.child("log_std_layer"), "pi.log_std_layer")?;
        for layer in [&mu_layer, &log_std_layer] {
            if Some(layer.in_features) != net.out_dim() && net.out_dim().is_some() {
                return Err(reader.unsupported(format!(
                    "pi.net gives {:?} features to a layer that takes {}",
                    net.out_dim(),
                    layer.in_features
                )));
            }
        }
        if mu_layer.out_features != log_std_layer.out_features {
            return Err(reader.unsupported(format!(
                "pi.mu_layer has {} outputs and pi.log_std_layer {}",
                mu_layer.out_features, log_std_layer.out_features
            )));
        }
        let act_limit = reader.act_limit(&pi)?;
        Actor::SquashedGaussian {
            net,
            mu_layer,
            log_std_layer,
            act_limit,
        }
    } else if pi.has_children(&["pi"]) && pi.attr("act_limit").is_some() {
        let net = reader.mlp(pi.child("pi"), "pi.pi")?;
        let act_limit = reader.act_limit(&pi)?;
        Actor::Deterministic { pi: net, act_limit }
    } else {
        return Err(not_ac(found()));
    };

    let (obs_dim, act_dim) = match &actor {
        Actor::Categorical { logits_net: m }
        | Actor::Gaussian { mu_net: m, .. }
        | Actor::Deterministic { pi: m, .. } => (m.in_dim(), m.out_dim()),
        Actor::SquashedGaussian { net, mu_layer, .. } => (
            Some(net.in_dim().unwrap_or(mu_layer.in_features)),
            Some(mu_layer.out_features),
        ),
    };
    let (Some(obs_dim), Some(act_dim)) = (obs_dim, act_dim) else {
        return Err(reader.unsupported(format!(
            "the actor {} has no Linear layer",
            pi.class.full_name()
        )));
    };
    Ok(TorchModel {
        path: path.into(),
        format: loaded.format.clone(),
        class: root.class.full_name(),
        actor_class: pi.class.full_name(),
        children: root
            .children()
            .iter()
            .map(|(n, c)| (n.clone(), describe(loaded, *c, 0)))
            .collect(),
        obs_dim,
        act_dim,
        actor,
    })
}

struct Reader<'a> {
    path: &'a str,
    loaded: &'a Loaded,
}

impl Reader<'_> {
    fn unsupported(&self, what: String) -> TorchError {
        TorchError::Unsupported {
            path: self.path.into(),
            what,
        }
    }

    fn floats(&self, id: Option<Id>, name: &str) -> Result<Floats, TorchError> {
        let id = id.ok_or_else(|| self.unsupported(format!("{name} is missing")))?;
        tensor::floats(self.loaded, id).map_err(|reason| TorchError::Malformed {
            path: self.path.into(),
            place: format!("tensor {name}"),
            reason,
        })
    }

    /// A float attribute of a module (`alpha`, `beta`, ...), with its default.
    fn float_attr(&self, module: &Module, key: &str, default: f64) -> Result<f64, TorchError> {
        match module.attr(key).map(|v| self.loaded.arena.get(v)) {
            None => Ok(default),
            Some(Obj::Float(f)) => Ok(*f),
            Some(Obj::Int(i)) => Ok(*i as f64),
            Some(other) => Err(self.unsupported(format!(
                "{}.{key} is a {}",
                module.class.full_name(),
                other.kind()
            ))),
        }
    }

    fn linear_module(&self, id: Option<Id>, name: &str) -> Result<Linear, TorchError> {
        let id = id.ok_or_else(|| self.unsupported(format!("{name} is missing")))?;
        let module = Module::new(self.loaded, id)
            .filter(|m| m.is_torch("Linear"))
            .ok_or_else(|| {
                self.unsupported(format!(
                    "{name} is {}, not torch.nn.Linear",
                    describe(self.loaded, id, 0)
                ))
            })?;
        self.linear(&module, name)
    }

    fn linear(&self, module: &Module, name: &str) -> Result<Linear, TorchError> {
        let weight = self.floats(module.param("weight"), &format!("{name}.weight"))?;
        let &[out_features, in_features] = weight.shape.as_slice() else {
            return Err(self.unsupported(format!(
                "{name}.weight has shape {:?}, not (out, in)",
                weight.shape
            )));
        };
        let bias = match module.param("bias") {
            None => None,
            Some(b) if matches!(self.loaded.arena.get(b), Obj::None) => None,
            Some(b) => {
                let bias = self.floats(Some(b), &format!("{name}.bias"))?;
                if bias.shape != [out_features] {
                    return Err(self.unsupported(format!(
                        "{name}.bias has shape {:?} for {out_features} outputs",
                        bias.shape
                    )));
                }
                Some(bias.data)
            }
        };
        for (key, value) in [("in_features", in_features), ("out_features", out_features)] {
            if let Some(v) = module.attr(key).and_then(|v| self.loaded.arena.int(v)) {
                if v != value as i128 {
                    return Err(self.unsupported(format!(
                        "{name}.{key} is {v} but its weight has shape {:?}",
                        weight.shape
                    )));
                }
            }
        }
        Ok(Linear {
            name: name.into(),
            in_features,
            out_features,
            weight: weight.data,
            bias,
        })
    }

    fn activation(&self, module: &Module, name: &str) -> Result<Activation, TorchError> {
        let class = module.class.name.as_str();
        let unsupported =
            |why: String| self.unsupported(format!("{name} is {}{why}", module.class.full_name()));
        if !module.class.module.starts_with("torch.nn.modules.") || !ACTIVATIONS.contains(&class) {
            return Err(unsupported(format!(
                ", which has no native equivalent (layers read: Linear, {})",
                ACTIVATIONS.join(", ")
            )));
        }
        Ok(match class {
            "Identity" => Activation::Identity,
            "Tanh" => Activation::Tanh,
            "ReLU" => Activation::Relu,
            "Sigmoid" => Activation::Sigmoid,
            "ELU" => {
                let alpha = self.float_attr(module, "alpha", 1.0)?;
                if alpha != 1.0 {
                    return Err(unsupported(format!(" with alpha {alpha} (only 1 is read)")));
                }
                Activation::Elu
            }
            "Softplus" => {
                let beta = self.float_attr(module, "beta", 1.0)?;
                let threshold = self.float_attr(module, "threshold", 20.0)?;
                // Above the threshold torch returns x itself; from 15 on that is
                // log(1 + e^x) to float32 precision.
                if beta != 1.0 || threshold < 15.0 {
                    return Err(unsupported(format!(
                        " with beta {beta} and threshold {threshold} (only beta 1 and \
                         threshold >= 15 are read)"
                    )));
                }
                Activation::Softplus
            }
            "LeakyReLU" => {
                let slope = self.float_attr(module, "negative_slope", 0.01)?;
                if !(0.0..=1.0).contains(&slope) {
                    return Err(unsupported(format!(
                        " with negative_slope {slope} (only 0 to 1 is read)"
                    )));
                }
                Activation::LeakyRelu(slope as f32)
            }
            _ => unreachable!("ACTIVATIONS lists the classes matched above"),
        })
    }

    /// A Sequential of Linear layers and activations; consecutive Linear sizes
    /// must chain.
    fn mlp(&self, id: Option<Id>, name: &str) -> Result<Mlp, TorchError> {
        let id = id.ok_or_else(|| self.unsupported(format!("{name} is missing")))?;
        let seq = Module::new(self.loaded, id)
            .filter(|m| m.is_torch("Sequential"))
            .ok_or_else(|| {
                self.unsupported(format!(
                    "{name} is {}, not torch.nn.Sequential",
                    describe(self.loaded, id, 0)
                ))
            })?;
        let children = seq.children();
        let mut layers = Vec::with_capacity(children.len());
        let mut width: Option<usize> = None;
        for (i, (key, child)) in children.iter().enumerate() {
            if children[..i].iter().any(|(k, _)| k == key) {
                return Err(self.unsupported(format!("{name} has two layers named {key:?}")));
            }
            let layer_name = format!("{name}.{key}");
            let module = Module::new(self.loaded, *child).ok_or_else(|| {
                self.unsupported(format!(
                    "{layer_name} is {}, not a module",
                    describe(self.loaded, *child, 0)
                ))
            })?;
            if module.is_torch("Linear") {
                let linear = self.linear(&module, &layer_name)?;
                if let Some(w) = width.filter(|&w| w != linear.in_features) {
                    return Err(self.unsupported(format!(
                        "{layer_name} takes {} features but the layer before gives {w}",
                        linear.in_features
                    )));
                }
                width = Some(linear.out_features);
                layers.push(Layer::Linear(linear));
            } else {
                layers.push(Layer::Activation(self.activation(&module, &layer_name)?));
            }
        }
        Ok(Mlp {
            name: name.into(),
            layers,
        })
    }

    /// `act_limit`: a float, a NumPy scalar, or a one-element tensor.
    fn act_limit(&self, pi: &Module) -> Result<f32, TorchError> {
        let id = pi
            .attr("act_limit")
            .ok_or_else(|| self.unsupported("pi.act_limit is missing".into()))?;
        let bad = |what: String| self.unsupported(format!("pi.act_limit is {what}"));
        let value = match self.loaded.arena.get(id) {
            Obj::Float(f) => *f,
            Obj::Int(i) => *i as f64,
            Obj::NumpyScalar {
                name,
                byteorder,
                bytes,
            } => tensor::numpy_value(name, *byteorder, bytes)
                .ok_or_else(|| bad(format!("a NumPy scalar of dtype {name:?}")))?,
            Obj::Tensor(_) => tensor::scalar(self.loaded, id).map_err(bad)?,
            other => return Err(bad(format!("a {}", other.kind()))),
        };
        Ok(value as f32)
    }
}
