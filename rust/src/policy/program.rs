//! Compiling a graph into a program: the nodes from the observation to one output,
//! in evaluation order, each with its op, element type, and whether its value is
//! known once the batch's shape is known (weights, shapes) or needs each call's data.

use super::error::{PolicyError, Unsupported};
use super::graph::{DType, Graph, Node, Tensor};
use super::ops::Op;

/// One compiled node. `inputs` index into [`Program::nodes`].
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub op_type: String,
    pub op: Op,
    pub inputs: Vec<usize>,
    pub dtype: DType,
    /// Known without the observations' values (it may still need their shape).
    pub is_static: bool,
    pub value: Option<Tensor>,
}

impl Step {
    pub(crate) fn invalid(&self, reason: impl Into<String>) -> PolicyError {
        PolicyError::invalid(&self.name, &self.op_type, reason)
    }
}

/// The nodes one output depends on, inputs first.
#[derive(Debug, Clone)]
pub struct Program {
    pub nodes: Vec<Step>,
    /// The observation placeholder, unless the output does not depend on it.
    pub input: Option<usize>,
    pub output: usize,
    /// The placeholder's declared shape (-1: any size), when it declares one.
    pub input_dims: Option<Vec<i64>>,
    pub input_name: String,
}

impl Program {
    /// Compile the part of `graph` that computes `output` (a node name; its first
    /// output) from the placeholder named `input`. Every op without a kernel is
    /// listed in the one error, so a caller can say all of them at once.
    pub fn compile(graph: &Graph, input: &str, output: &str) -> Result<Self, PolicyError> {
        let input_node = graph.find(input)?;
        if graph.node(input_node).op != "Placeholder" {
            let node = graph.node(input_node);
            return Err(PolicyError::invalid(
                &node.name,
                &node.op,
                "the observation input must be a Placeholder",
            ));
        }
        let order = graph.upstream(graph.find(output)?, input_node)?;
        let mut position = vec![usize::MAX; order.iter().max().map_or(0, |m| m + 1)];
        for (i, &g) in order.iter().enumerate() {
            position[g] = i;
        }

        let mut unsupported = Vec::new();
        let mut ops = Vec::with_capacity(order.len());
        for &g in &order {
            let node = graph.node(g);
            match Op::parse(node)? {
                Ok(op) => ops.push(Some(op)),
                Err(why) => {
                    unsupported.push(why);
                    ops.push(None);
                }
            }
        }
        // Type-check only a graph whose every op is known; otherwise the error
        // lists the unknown ops (plus the known ones used in an unsupported way).
        let mut nodes: Vec<Step> = Vec::with_capacity(order.len());
        for (&g, op) in order.iter().zip(ops) {
            let node = graph.node(g);
            let Some(op) = op else { continue };
            let mut inputs = Vec::with_capacity(node.inputs.len());
            for (name, index) in &node.inputs {
                if *index != 0 {
                    return Err(PolicyError::OutputIndex {
                        node: node.name.clone(),
                        input: name.clone(),
                        index: *index,
                    });
                }
                inputs.push(position[graph.find(name)?]);
            }
            if op == Op::Input && g != input_node {
                return Err(PolicyError::invalid(
                    &node.name,
                    &node.op,
                    format!("the action also depends on this placeholder, not only on {input:?}"),
                ));
            }
            if !unsupported.is_empty() {
                continue;
            }
            match typed(node, op, inputs, &nodes) {
                Ok(step) => nodes.push(step),
                Err(Rejection::Unsupported(why)) => unsupported.push(why),
                Err(Rejection::Invalid(err)) => return Err(err),
            }
        }
        if !unsupported.is_empty() {
            return Err(PolicyError::Unsupported(unsupported));
        }
        let input_dims = graph
            .node(input_node)
            .ints_attr("shape")?
            .map(<[i64]>::to_vec);
        Ok(Program {
            input: order.iter().position(|&g| g == input_node),
            output: nodes.len() - 1,
            nodes,
            input_dims,
            input_name: input.to_string(),
        })
    }
}

/// Why [`typed`] turned a node down: a use of an op the kernels do not cover (so
/// the graph can run elsewhere), or a graph that is wrong.
enum Rejection {
    Unsupported(Unsupported),
    Invalid(PolicyError),
}

impl From<PolicyError> for Rejection {
    fn from(err: PolicyError) -> Self {
        Rejection::Invalid(err)
    }
}

/// The step for `node`: its element type and whether it is static, after checking
/// its inputs' types.
fn typed(node: &Node, op: Op, inputs: Vec<usize>, done: &[Step]) -> Result<Step, Rejection> {
    let unsupported = |detail: String| {
        Rejection::Unsupported(Unsupported {
            node: node.name.clone(),
            op: node.op.clone(),
            detail: Some(detail),
        })
    };
    let invalid = |reason: String| PolicyError::invalid(&node.name, &node.op, reason);
    if let Some(n) = op.arity() {
        if inputs.len() != n {
            return Err(invalid(format!("expects {n} inputs, has {}", inputs.len())).into());
        }
    } else if inputs.len() < 2 {
        return Err(invalid("expects values and an axis".into()).into());
    }
    let dtype_of = |i: usize| done[inputs[i]].dtype;
    let all_static = inputs.iter().all(|&i| done[i].is_static);
    // The first `n` inputs must be floats.
    let floats = |n: usize| match (0..n).map(dtype_of).find(|d| *d != DType::F32) {
        Some(d) => Err(unsupported(format!("{d:?} input"))),
        None => Ok(()),
    };
    // An integer parameter (axis, shape, count) must be known from the shapes alone.
    let static_int = |i: usize, what: &str| {
        let step = &done[inputs[i]];
        if !step.dtype.is_int() {
            return Err(invalid(format!("its {what} is not an integer tensor")));
        }
        if !step.is_static {
            return Err(invalid(format!(
                "its {what} depends on the observations' values"
            )));
        }
        Ok(())
    };
    // The element type a dtype attribute gives the output, if `allowed`.
    let output = |key: &str, default: &str, allowed: fn(DType) -> bool| match node
        .dtype_attr(key, default)
    {
        Ok(d) if allowed(d) => Ok(d),
        Ok(d) => Err(unsupported(format!("{d:?} output"))),
        Err(why) => Err(unsupported(why)),
    };
    let is_float = |d: DType| d == DType::F32;
    let mut value = None;
    let (dtype, is_static) = match &op {
        Op::Input => (output("dtype", "float32", is_float)?, false),
        Op::Constant => {
            node.dtype_attr("dtype", "float32").map_err(unsupported)?;
            let Some(v) = &node.value else {
                return Err(invalid("no value was given for it".into()).into());
            };
            if v.elements() != v.data.len() {
                let reason = format!(
                    "its value has {} elements for shape {:?}",
                    v.data.len(),
                    v.shape
                );
                return Err(invalid(reason).into());
            }
            value = Some(v.clone());
            (v.dtype, true)
        }
        Op::View | Op::Squeeze { .. } => (dtype_of(0), all_static),
        Op::Reshape => {
            static_int(1, "shape")?;
            (dtype_of(0), done[inputs[0]].is_static)
        }
        Op::MatMul { .. } | Op::BiasAdd | Op::Binary(_) | Op::Unary(_) | Op::Softmax => {
            floats(inputs.len())?;
            (DType::F32, all_static)
        }
        Op::Concat => {
            let n = inputs.len() - 1;
            floats(n)?;
            static_int(n, "axis")?;
            (DType::F32, all_static)
        }
        Op::Shape => (output("out_type", "int32", DType::is_int)?, true),
        Op::ArgMax => {
            floats(1)?;
            static_int(1, "axis")?;
            (output("output_type", "int64", DType::is_int)?, all_static)
        }
        Op::RandomNormal => {
            static_int(0, "shape")?;
            (output("dtype", "float32", is_float)?, false)
        }
        Op::Multinomial => {
            floats(1)?;
            static_int(1, "number of samples")?;
            (output("output_dtype", "int64", DType::is_int)?, false)
        }
    };
    Ok(Step {
        name: node.name.clone(),
        op_type: node.op.clone(),
        op,
        inputs,
        dtype,
        is_static,
        value,
    })
}
