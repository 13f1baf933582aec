//! The actor as a native policy graph: the same TensorFlow-style program the TF1
//! agents run, with the observation placeholder `x` and the outputs `pi` (and
//! `mu` for SAC), so [`crate::policy::Evaluator`] runs a PyTorch agent unchanged.
//!
//! `nn.Linear` is `MatMul(x, W, transpose_b) + b` with torch's `(out, in)` weights
//! as stored; sampling uses the evaluator's `RandomStandardNormal` and
//! `Multinomial` as Spinning Up's TF1 policies do.
//!
//! For inspection (and tests against torch), the graph also names what the
//! sampling starts from: `pi/logits` (categorical), `pi/mu` and `pi/std` (Gaussian,
//! SAC before squashing), and `pi/log_std` (SAC, clamped).

use std::collections::HashMap;

use crate::policy::{Attr, DType, Graph, Node, Tensor};

use super::error::TorchError;
use super::model::{Activation, Actor, Layer, Linear, Mlp, TorchModel, LOG_STD_MAX, LOG_STD_MIN};

struct Builder {
    nodes: Vec<Node>,
}

impl Builder {
    fn node(&mut self, name: String, op: &str, inputs: &[&str]) -> String {
        self.nodes.push(Node {
            name: name.clone(),
            op: op.into(),
            inputs: inputs.iter().map(|i| (i.to_string(), 0)).collect(),
            attrs: HashMap::new(),
            value: None,
        });
        name
    }

    fn attr(&mut self, key: &str, value: Attr) {
        let node = self.nodes.last_mut().expect("a node was just added");
        node.attrs.insert(key.into(), value);
    }

    fn constant(&mut self, name: String, value: Tensor) -> String {
        let dtype = match value.dtype {
            DType::F32 => "float32",
            DType::I32 => "int32",
            DType::I64 => "int64",
        };
        let name = self.node(name, "Const", &[]);
        self.attr("dtype", Attr::Str(dtype.into()));
        self.nodes.last_mut().expect("just added").value = Some(value);
        name
    }

    fn scalar(&mut self, name: String, value: f32) -> String {
        self.constant(name, Tensor::f32(vec![], vec![value]))
    }

    fn linear(&mut self, scope: &str, x: &str, layer: &Linear) -> String {
        let w = self.constant(
            format!("{scope}/weight"),
            Tensor::f32(
                vec![layer.out_features, layer.in_features],
                layer.weight.clone(),
            ),
        );
        let y = self.node(format!("{scope}/MatMul"), "MatMul", &[x, &w]);
        self.attr("transpose_b", Attr::Bool(true));
        match &layer.bias {
            None => y,
            Some(bias) => {
                let b = self.constant(
                    format!("{scope}/bias"),
                    Tensor::f32(vec![bias.len()], bias.clone()),
                );
                self.node(format!("{scope}/BiasAdd"), "BiasAdd", &[&y, &b])
            }
        }
    }

    fn activation(&mut self, scope: &str, x: &str, act: Activation) -> String {
        let op = match act {
            Activation::Identity => return x.to_string(),
            Activation::LeakyRelu(slope) => {
                let a = self.scalar(format!("{scope}/negative_slope"), slope);
                let ax = self.node(format!("{scope}/mul"), "Mul", &[x, &a]);
                return self.node(format!("{scope}/LeakyRelu"), "Maximum", &[x, &ax]);
            }
            Activation::Tanh => "Tanh",
            Activation::Relu => "Relu",
            Activation::Elu => "Elu",
            Activation::Sigmoid => "Sigmoid",
            Activation::Softplus => "Softplus",
        };
        self.node(format!("{scope}/{op}"), op, &[x])
    }

    /// The layers of `mlp` applied to `x`; nodes are scoped by the module path
    /// (`pi.mu_net.0` becomes `pi/mu_net/0/...`).
    fn mlp(&mut self, x: &str, mlp: &Mlp) -> String {
        let scope = mlp.name.replace('.', "/");
        let mut at = x.to_string();
        for (i, layer) in mlp.layers.iter().enumerate() {
            let scope = format!("{scope}/{i}");
            at = match layer {
                Layer::Linear(l) => self.linear(&scope, &at, l),
                Layer::Activation(a) => self.activation(&scope, &at, *a),
            };
        }
        at
    }

    /// Standard normal noise of `like`'s shape.
    fn noise(&mut self, scope: &str, like: &str) -> String {
        let shape = self.node(format!("{scope}/Shape"), "Shape", &[like]);
        self.node(
            format!("{scope}/random_normal"),
            "RandomStandardNormal",
            &[&shape],
        )
    }
}

impl TorchModel {
    /// The actor as a policy graph, and the names of its outputs (`pi`, and `mu`
    /// for SAC). Run it with `Evaluator::new(&graph, "x", "pi", seed)`.
    pub fn policy_graph(&self) -> Result<(Graph, Vec<String>), TorchError> {
        let mut b = Builder { nodes: Vec::new() };
        let x = b.node("x".into(), "Placeholder", &[]);
        b.attr("dtype", Attr::Str("float32".into()));
        b.attr("shape", Attr::Ints(vec![-1, self.obs_dim as i64]));
        match &self.actor {
            Actor::Categorical { logits_net } => {
                // pi = squeeze(multinomial(logits, 1), axis=1), as Spinning Up's TF1 does.
                let logits = b.mlp(&x, logits_net);
                let logits = b.node("pi/logits".into(), "Identity", &[&logits]);
                let one = b.constant(
                    "pi/num_samples".into(),
                    Tensor::int(DType::I32, vec![], vec![1]),
                );
                let draw = b.node("pi/multinomial".into(), "Multinomial", &[&logits, &one]);
                b.node("pi".into(), "Squeeze", &[&draw]);
                b.attr("squeeze_dims", Attr::Ints(vec![1]));
            }
            Actor::Gaussian { mu_net, log_std } => {
                // pi = mu + exp(log_std) * eps
                let mu = b.mlp(&x, mu_net);
                let mu = b.node("pi/mu".into(), "Identity", &[&mu]);
                let log_std = b.constant(
                    "pi/log_std".into(),
                    Tensor::f32(vec![log_std.len()], log_std.clone()),
                );
                let std = b.node("pi/std".into(), "Exp", &[&log_std]);
                let eps = b.noise("pi", &mu);
                let scaled = b.node("pi/mul".into(), "Mul", &[&eps, &std]);
                b.node("pi".into(), "AddV2", &[&mu, &scaled]);
            }
            Actor::Deterministic { pi, act_limit } => {
                // pi = act_limit * pi(x)
                let y = b.mlp(&x, pi);
                let limit = b.scalar("pi/act_limit".into(), *act_limit);
                b.node("pi".into(), "Mul", &[&limit, &y]);
            }
            Actor::SquashedGaussian {
                net,
                mu_layer,
                log_std_layer,
                act_limit,
            } => {
                // pi = act_limit * tanh(mu + exp(clamp(log_std, -20, 2)) * eps);
                // mu = act_limit * tanh(mu)
                let h = b.mlp(&x, net);
                let mu = b.linear("pi/mu_layer", &h, mu_layer);
                let mu = b.node("pi/mu".into(), "Identity", &[&mu]);
                let log_std = b.linear("pi/log_std_layer", &h, log_std_layer);
                let lo = b.scalar("pi/log_std_min".into(), LOG_STD_MIN);
                let hi = b.scalar("pi/log_std_max".into(), LOG_STD_MAX);
                let clamped = b.node("pi/clamp/max".into(), "Maximum", &[&log_std, &lo]);
                let clamped = b.node("pi/log_std".into(), "Minimum", &[&clamped, &hi]);
                let std = b.node("pi/std".into(), "Exp", &[&clamped]);
                let eps = b.noise("pi", &mu);
                let scaled = b.node("pi/mul".into(), "Mul", &[&eps, &std]);
                let sample = b.node("pi/sample".into(), "AddV2", &[&mu, &scaled]);
                let squashed = b.node("pi/Tanh".into(), "Tanh", &[&sample]);
                let limit = b.scalar("pi/act_limit".into(), *act_limit);
                b.node("pi".into(), "Mul", &[&limit, &squashed]);
                let mu_squashed = b.node("mu/Tanh".into(), "Tanh", &[&mu]);
                b.node("mu".into(), "Mul", &[&limit, &mu_squashed]);
            }
        }
        let graph = Graph::new(b.nodes).map_err(|source| TorchError::Policy {
            path: self.path.clone(),
            source,
        })?;
        let outputs = self
            .kind()
            .outputs()
            .iter()
            .map(|s| s.to_string())
            .collect();
        Ok((graph, outputs))
    }
}
