//! The TensorFlow ops the evaluator runs, parsed from graph nodes.

use super::error::{PolicyError, Unsupported};
use super::graph::Node;

/// TensorFlow op types with a native kernel.
pub const SUPPORTED_OPS: &[&str] = &[
    "Placeholder",
    "Const",
    "VarHandleOp",
    "ReadVariableOp",
    "VariableV2",
    "Identity",
    "StopGradient",
    "MatMul",
    "BiasAdd",
    "Add",
    "AddV2",
    "Sub",
    "Mul",
    "RealDiv",
    "Maximum",
    "Minimum",
    "Tanh",
    "Relu",
    "Elu",
    "Sigmoid",
    "Exp",
    "Log",
    "Neg",
    "Softplus",
    "Square",
    "Sqrt",
    "Softmax",
    "Shape",
    "Reshape",
    "ConcatV2",
    "Squeeze",
    "ArgMax",
    "RandomStandardNormal",
    "Multinomial",
];

/// Element-wise functions of one float.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unary {
    Tanh,
    Relu,
    Elu,
    Sigmoid,
    Exp,
    Log,
    Neg,
    Softplus,
    Square,
    Sqrt,
}

/// Element-wise functions of two floats, with NumPy broadcasting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Maximum,
    Minimum,
}

/// A node's computation. Inputs are in the node; attributes that matter are here.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// The observation placeholder, fed at each call.
    Input,
    /// A constant or a variable: its value is in the node.
    Constant,
    /// The input's value unchanged: Identity, ReadVariableOp, StopGradient.
    View,
    MatMul {
        transpose_a: bool,
        transpose_b: bool,
    },
    BiasAdd,
    Unary(Unary),
    Binary(Binary),
    /// Softmax over the last axis.
    Softmax,
    Shape,
    Reshape,
    /// ConcatV2: n values, then the axis.
    Concat,
    /// Squeeze the listed axes, or every axis of size 1 when the list is empty.
    Squeeze {
        dims: Vec<i64>,
    },
    ArgMax,
    /// RandomStandardNormal: the input is the shape.
    RandomNormal,
    /// Multinomial: logits and the number of samples.
    Multinomial,
}

impl Op {
    /// The op of `node`, or why it has no kernel. Attributes that would change the
    /// result and are not handled make the op unsupported rather than wrong.
    pub fn parse(node: &Node) -> Result<Result<Op, Unsupported>, PolicyError> {
        let unsupported = |detail: Option<String>| Unsupported {
            node: node.name.clone(),
            op: node.op.clone(),
            detail,
        };
        let op = match node.op.as_str() {
            "Placeholder" => Op::Input,
            "Const" | "VarHandleOp" | "VariableV2" => Op::Constant,
            "Identity" | "ReadVariableOp" | "StopGradient" => Op::View,
            "MatMul" => Op::MatMul {
                transpose_a: node.bool_attr("transpose_a")?,
                transpose_b: node.bool_attr("transpose_b")?,
            },
            "BiasAdd" => match node.str_attr("data_format")? {
                None | Some("NHWC") => Op::BiasAdd,
                Some(other) => return Ok(Err(unsupported(Some(format!("data_format {other}"))))),
            },
            "Tanh" => Op::Unary(Unary::Tanh),
            "Relu" => Op::Unary(Unary::Relu),
            "Elu" => Op::Unary(Unary::Elu),
            "Sigmoid" => Op::Unary(Unary::Sigmoid),
            "Exp" => Op::Unary(Unary::Exp),
            "Log" => Op::Unary(Unary::Log),
            "Neg" => Op::Unary(Unary::Neg),
            "Softplus" => Op::Unary(Unary::Softplus),
            "Square" => Op::Unary(Unary::Square),
            "Sqrt" => Op::Unary(Unary::Sqrt),
            "Add" | "AddV2" => Op::Binary(Binary::Add),
            "Sub" => Op::Binary(Binary::Sub),
            "Mul" => Op::Binary(Binary::Mul),
            "RealDiv" => Op::Binary(Binary::Div),
            "Maximum" => Op::Binary(Binary::Maximum),
            "Minimum" => Op::Binary(Binary::Minimum),
            "Softmax" => Op::Softmax,
            "Shape" => Op::Shape,
            "Reshape" => Op::Reshape,
            "ConcatV2" => Op::Concat,
            "Squeeze" => Op::Squeeze {
                dims: node.ints_attr("squeeze_dims")?.unwrap_or(&[]).to_vec(),
            },
            "ArgMax" => Op::ArgMax,
            "RandomStandardNormal" => Op::RandomNormal,
            "Multinomial" => Op::Multinomial,
            _ => return Ok(Err(unsupported(None))),
        };
        Ok(Ok(op))
    }

    /// How many data inputs the op takes (`None`: any number, checked elsewhere).
    pub fn arity(&self) -> Option<usize> {
        match self {
            Op::Input | Op::Constant => Some(0),
            Op::View | Op::Unary(_) | Op::Softmax | Op::Shape | Op::Squeeze { .. } => Some(1),
            Op::RandomNormal => Some(1),
            Op::MatMul { .. } | Op::BiasAdd | Op::Binary(_) | Op::Reshape | Op::ArgMax => Some(2),
            Op::Multinomial => Some(2),
            Op::Concat => None,
        }
    }

    /// Whether the op draws random numbers (never folded into a constant).
    pub fn is_random(&self) -> bool {
        matches!(self, Op::RandomNormal | Op::Multinomial)
    }
}

impl Unary {
    /// The function on one value, as TensorFlow defines it.
    #[inline(always)]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            // 1 - 2 / (e^2x + 1): within 2e-7 of tanh, and several times faster than
            // libm's tanhf (TensorFlow too uses an approximation).
            Unary::Tanh => {
                let e = (2.0 * x.clamp(-10.0, 10.0)).exp();
                1.0 - 2.0 / (e + 1.0)
            }
            Unary::Relu => x.max(0.0),
            Unary::Elu => {
                if x < 0.0 {
                    x.exp_m1()
                } else {
                    x
                }
            }
            Unary::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Unary::Exp => x.exp(),
            Unary::Log => x.ln(),
            Unary::Neg => -x,
            // log(1 + e^x) without overflow: x + log(1 + e^-x) for positive x.
            Unary::Softplus => {
                if x > 0.0 {
                    x + (-x).exp().ln_1p()
                } else {
                    x.exp().ln_1p()
                }
            }
            Unary::Square => x * x,
            Unary::Sqrt => x.sqrt(),
        }
    }
}

impl Binary {
    #[inline(always)]
    pub fn apply(self, a: f32, b: f32) -> f32 {
        match self {
            Binary::Add => a + b,
            Binary::Sub => a - b,
            Binary::Mul => a * b,
            Binary::Div => a / b,
            // TensorFlow's Maximum/Minimum propagate NaN.
            Binary::Maximum => {
                if a.is_nan() || a > b {
                    a
                } else {
                    b
                }
            }
            Binary::Minimum => {
                if a.is_nan() || a < b {
                    a
                } else {
                    b
                }
            }
        }
    }
}
