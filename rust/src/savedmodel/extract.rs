//! From a GraphDef's nodes to the policy evaluator's [`Node`]s: the walk back from
//! the outputs, attributes reduced to plain values, constants decoded, and which
//! checkpoint key restores each variable. Each rule is the one of
//! `python/spinfast/policy_graph.py::extract_policy_graph`, which does the same
//! through a TensorFlow session.

use std::collections::{HashMap, HashSet};

use crate::policy::{Attr, DType, Tensor};

use super::proto::{attr_value::Value, dt, dtype_name, AttrValue, NodeDef, TensorProto};

/// Element types whose constants and variables get a value (`VALUE_DTYPES`).
pub(super) const VALUE_DTYPES: [&str; 3] = ["float32", "int32", "int64"];

/// The most elements a constant may be expanded to from fewer stored values (a
/// scalar filling a shape): the shape is a length field, not data.
pub(super) const MAX_EXPANDED_ELEMENTS: usize = 1 << 24;

/// An input string of a NodeDef: `name`, `name:k` (output k) or `^name` (a
/// control input, `None`).
pub(super) fn parse_input(input: &str) -> Result<Option<(&str, usize)>, String> {
    if input.starts_with('^') {
        return Ok(None);
    }
    parse_tensor_name(input).map(Some)
}

/// `name:k` or `name` (output 0).
pub(super) fn parse_tensor_name(name: &str) -> Result<(&str, usize), String> {
    match name.rsplit_once(':') {
        None => Ok((name, 0)),
        Some((node, index)) => index
            .parse::<usize>()
            .ok()
            .filter(|_| index.bytes().all(|b| b.is_ascii_digit()))
            .map(|i| (node, i))
            .ok_or_else(|| format!("{name:?} is not a tensor name (node:index)")),
    }
}

/// The nodes the `starts` depend on through data inputs, not past `stop`; inputs
/// before the nodes that read them. The same order as `policy_graph._upstream`.
pub(super) fn upstream(
    nodes: &[NodeDef],
    index: &HashMap<String, usize>,
    stop: usize,
    starts: &[usize],
) -> Result<Vec<usize>, String> {
    let mut order = Vec::new();
    let mut seen = vec![false; nodes.len()];
    let mut stack: Vec<(usize, bool)> = starts.iter().rev().map(|&s| (s, false)).collect();
    while let Some((at, expanded)) = stack.pop() {
        if expanded {
            order.push(at);
            continue;
        }
        if seen[at] {
            continue;
        }
        seen[at] = true;
        stack.push((at, true));
        if at != stop {
            let inputs = data_inputs(&nodes[at], index)?;
            stack.extend(
                inputs
                    .into_iter()
                    .rev()
                    .filter(|&(i, _)| !seen[i])
                    .map(|(i, _)| (i, false)),
            );
        }
    }
    Ok(order)
}

/// A node's data inputs as (node index, output index).
pub(super) fn data_inputs(
    node: &NodeDef,
    index: &HashMap<String, usize>,
) -> Result<Vec<(usize, usize)>, String> {
    let mut out = Vec::with_capacity(node.input.len());
    for input in &node.input {
        let Some((name, k)) =
            parse_input(input).map_err(|e| format!("node {:?}: {e}", node.name))?
        else {
            continue;
        };
        let &i = index.get(name).ok_or_else(|| {
            format!(
                "node {:?} reads {name:?}, which is not a node of the graph",
                node.name
            )
        })?;
        out.push((i, k));
    }
    Ok(out)
}

/// The dtype name of an attribute holding a type, `None` if it is absent or not one.
pub(super) fn type_attr(node: &NodeDef, key: &str) -> Option<String> {
    match node.attr.get(key)?.value {
        Some(Value::Type(t)) => dtype_name(t),
        _ => None,
    }
}

/// Plain attribute values, as `policy_graph._attrs` makes them: keys starting with
/// `_` and tensor, function and placeholder values left out; dtypes by name; shapes
/// as dimensions (-1 unknown) unless the rank is unknown; lists as their ints when
/// they hold no strings, types or shapes.
pub(super) fn attrs(node: &NodeDef) -> Result<HashMap<String, Attr>, String> {
    let mut out = HashMap::new();
    for (key, value) in &node.attr {
        if key.starts_with('_') {
            continue;
        }
        if let Some(attr) =
            attr(value).map_err(|e| format!("node {:?}: attribute {key:?}: {e}", node.name))?
        {
            out.insert(key.clone(), attr);
        }
    }
    Ok(out)
}

fn attr(value: &AttrValue) -> Result<Option<Attr>, String> {
    Ok(match &value.value {
        None | Some(Value::Tensor(_) | Value::Func(_) | Value::Placeholder(_)) => None,
        Some(Value::B(b)) => Some(Attr::Bool(*b)),
        Some(Value::I(i)) => Some(Attr::Int(*i)),
        Some(Value::F(f)) => Some(Attr::Float(f64::from(*f))),
        Some(Value::S(s)) => Some(Attr::Str(String::from_utf8_lossy(s).into_owned())),
        Some(Value::Type(t)) => Some(Attr::Str(
            dtype_name(*t).ok_or_else(|| format!("unknown dtype enum {t}"))?,
        )),
        Some(Value::Shape(shape)) if shape.unknown_rank => None,
        Some(Value::Shape(shape)) => Some(Attr::Ints(shape.dim.iter().map(|d| d.size).collect())),
        Some(Value::List(list)) => {
            if list.s.is_empty() && list.r#type.is_empty() && list.shape.is_empty() {
                Some(Attr::Ints(list.i.clone()))
            } else {
                None
            }
        }
    })
}

/// The value of a constant as `tf.make_ndarray` gives it: the raw bytes, or the
/// typed values with the last one repeated to fill the shape (zeros when there
/// are none). `None` for element types the evaluator does not take.
pub(super) fn const_value(tensor: &TensorProto) -> Result<Option<Tensor>, String> {
    let (dtype, width) = match tensor.dtype {
        dt::FLOAT => (DType::F32, 4),
        dt::INT32 => (DType::I32, 4),
        dt::INT64 => (DType::I64, 8),
        _ => return Ok(None),
    };
    let shape = match &tensor.tensor_shape {
        None => Vec::new(),
        Some(s) if s.unknown_rank => return Err("the constant's shape has an unknown rank".into()),
        Some(s) => s
            .dim
            .iter()
            .map(|d| usize::try_from(d.size))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| "the constant's shape has a negative dimension".to_string())?,
    };
    let elements = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or("the constant's shape holds too many elements")?;
    if !tensor.tensor_content.is_empty() {
        let bytes = &tensor.tensor_content;
        if elements.checked_mul(width) != Some(bytes.len()) {
            return Err(format!(
                "{} bytes of content for {elements} elements of {width} bytes",
                bytes.len()
            ));
        }
        return Ok(Some(match dtype {
            DType::F32 => Tensor::f32(
                shape,
                bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
            DType::I32 => Tensor::int(
                dtype,
                shape,
                bytes
                    .chunks_exact(4)
                    .map(|c| i64::from(i32::from_le_bytes(c.try_into().unwrap())))
                    .collect(),
            ),
            DType::I64 => Tensor::int(
                dtype,
                shape,
                bytes
                    .chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
        }));
    }
    Ok(Some(match dtype {
        DType::F32 => Tensor::f32(shape, fill(&tensor.float_val, elements)?),
        DType::I32 => {
            let values: Vec<i64> = tensor.int_val.iter().map(|&v| i64::from(v)).collect();
            Tensor::int(dtype, shape, fill(&values, elements)?)
        }
        DType::I64 => Tensor::int(dtype, shape, fill(&tensor.int64_val, elements)?),
    }))
}

/// `values` as `elements` values: as they are, or the last repeated (zeros if none).
fn fill<T: Copy + Default>(values: &[T], elements: usize) -> Result<Vec<T>, String> {
    if values.len() == elements {
        return Ok(values.to_vec());
    }
    if values.len() > elements {
        return Err(format!(
            "{} values for a shape of {elements} elements",
            values.len()
        ));
    }
    if elements > MAX_EXPANDED_ELEMENTS {
        return Err(format!(
            "{} stored values would fill {elements} elements, more than this reader expands \
             ({MAX_EXPANDED_ELEMENTS})",
            values.len()
        ));
    }
    let last = values.last().copied().unwrap_or_default();
    let mut out = values.to_vec();
    out.resize(elements, last);
    Ok(out)
}

/// Which checkpoint key restores each variable node, read from the restore op the
/// SaverDef names (what TensorFlow's loader runs): its `Assign` and
/// `AssignVariableOp` nodes take a variable and an output `i` of a `RestoreV2`
/// (through `Identity` nodes), whose `tensor_names` constant holds the key at `i`.
/// A variable restored from a slice (`shape_and_slices` not empty) maps to `Err`.
pub(super) fn restore_keys(
    nodes: &[NodeDef],
    index: &HashMap<String, usize>,
    restore_op: &str,
) -> Result<HashMap<usize, Result<String, String>>, String> {
    let mut keys = HashMap::new();
    let (start, _) = parse_input(restore_op.trim_start_matches('^'))?.unwrap_or((restore_op, 0));
    let Some(&start) = index.get(start) else {
        return Ok(keys);
    };
    let mut seen = HashSet::from([start]);
    let mut stack = vec![start];
    while let Some(at) = stack.pop() {
        let node = &nodes[at];
        if matches!(node.op.as_str(), "Assign" | "AssignVariableOp") {
            let inputs = data_inputs(node, index)?;
            if let [(variable, _), (value, k), ..] = inputs[..] {
                if let Some(key) = restored_key(nodes, index, value, k)? {
                    keys.entry(variable).or_insert(key);
                }
            }
            continue;
        }
        for input in &node.input {
            let name = input.trim_start_matches('^');
            let (name, _) = parse_tensor_name(name)?;
            if let Some(&i) = index.get(name) {
                if seen.insert(i) {
                    stack.push(i);
                }
            }
        }
    }
    Ok(keys)
}

/// The key of output `k` of the `RestoreV2` that `at` reads (through `Identity`
/// nodes), or `None` if the value does not come from one.
fn restored_key(
    nodes: &[NodeDef],
    index: &HashMap<String, usize>,
    mut at: usize,
    mut k: usize,
) -> Result<Option<Result<String, String>>, String> {
    for _ in 0..nodes.len() {
        let node = &nodes[at];
        match node.op.as_str() {
            "Identity" => match data_inputs(node, index)?.first() {
                Some(&(input, output)) => (at, k) = (input, output),
                None => return Ok(None),
            },
            "RestoreV2" => {
                let inputs = data_inputs(node, index)?;
                let (Some(&(names, _)), Some(&(slices, _))) = (inputs.get(1), inputs.get(2)) else {
                    return Ok(None);
                };
                let Some(key) = string_at(&nodes[names], k) else {
                    return Ok(None);
                };
                return Ok(Some(match string_at(&nodes[slices], k) {
                    Some(slice) if !slice.is_empty() => Err(format!(
                        "it is restored from the slice {slice:?} of {key:?} (a partitioned variable)"
                    )),
                    _ => Ok(key),
                }));
            }
            _ => return Ok(None),
        }
    }
    Ok(None)
}

/// Element `k` of a string `Const` (the last one repeated, as `make_ndarray` fills).
fn string_at(node: &NodeDef, k: usize) -> Option<String> {
    if node.op != "Const" {
        return None;
    }
    let Some(Value::Tensor(tensor)) = &node.attr.get("value")?.value else {
        return None;
    };
    let values = &tensor.string_val;
    let value = values.get(k).or_else(|| values.last())?;
    Some(String::from_utf8_lossy(value).into_owned())
}
