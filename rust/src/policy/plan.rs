//! A program laid out for one observation shape: every value's shape worked out,
//! every buffer allocated, everything that does not depend on the observations'
//! values (weights, `exp(log_std)`, shapes) computed once. Running it then only
//! copies the observations in and runs the remaining kernels.

use ndarray::ArrayView2;
use rand::rngs::ChaCha8Rng;

use super::error::PolicyError;
use super::graph::{DType, TensorData};
use super::kernels::{Broadcast, Buffer, Kernel};
use super::ops::{Binary, Op};
use super::program::{Program, Step};

/// From this many outputs on, a single row's product with constant weights runs
/// as one axpy per row of the weights (vectorised along the output); below it, as
/// one dot product per output.
const WIDE_OUTPUT: usize = 16;

/// Where a node's value lives and its shape. Views (Identity, Reshape, Squeeze)
/// share their input's slot.
#[derive(Debug, Clone)]
struct Value {
    slot: usize,
    shape: Vec<usize>,
    /// Computed at plan time (it does not change from call to call).
    constant: bool,
}

#[derive(Debug, Clone)]
struct Task {
    kernel: Kernel,
    out: usize,
}

/// The result of a run: a row-major view of the output buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OutputData<'a> {
    F32(&'a [f32]),
    I64(&'a [i64]),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Output<'a> {
    pub shape: &'a [usize],
    pub dtype: DType,
    pub data: OutputData<'a>,
}

/// A [`Program`] ready to run on observations of one shape.
#[derive(Debug, Clone)]
pub struct Plan {
    input_shape: Vec<usize>,
    input_slot: Option<usize>,
    buffers: Vec<Buffer>,
    tasks: Vec<Task>,
    output: Value,
    output_dtype: DType,
}

impl Plan {
    /// Lay out `program` for observations of shape `input_shape` (batch first).
    pub fn build(
        program: &Program,
        input_shape: &[usize],
        rng: &mut ChaCha8Rng,
    ) -> Result<Self, PolicyError> {
        check_input_shape(program, input_shape)?;
        let mut builder = Builder {
            buffers: Vec::new(),
            tasks: Vec::new(),
            values: Vec::with_capacity(program.nodes.len()),
        };
        let mut input_slot = None;
        for (i, step) in program.nodes.iter().enumerate() {
            let value = if Some(i) == program.input {
                let slot = builder.alloc(DType::F32, input_shape.iter().product());
                input_slot = Some(slot);
                Value {
                    slot,
                    shape: input_shape.to_vec(),
                    constant: false,
                }
            } else {
                builder.lay_out(step, rng)?
            };
            builder.values.push(value);
        }
        Ok(Plan {
            input_shape: input_shape.to_vec(),
            input_slot,
            output: builder.values[program.output].clone(),
            output_dtype: program.nodes[program.output].dtype,
            buffers: builder.buffers,
            tasks: builder.tasks,
        })
    }

    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    #[cfg(test)]
    pub(crate) fn tasks(&self) -> usize {
        self.tasks.len()
    }

    /// Evaluate on `obs` (row-major, `input_shape`'s number of elements).
    pub fn run(&mut self, obs: &[f32], rng: &mut ChaCha8Rng) -> Output<'_> {
        if let Some(slot) = self.input_slot {
            self.buffers[slot].f32_mut().copy_from_slice(obs);
        }
        for task in &mut self.tasks {
            let mut out = std::mem::take(&mut self.buffers[task.out]);
            task.kernel.run(&self.buffers, &mut out, rng);
            self.buffers[task.out] = out;
        }
        self.output()
    }

    /// The output of the last run (or the constant output).
    pub fn output(&self) -> Output<'_> {
        let data = match &self.buffers[self.output.slot] {
            Buffer::F32(v) => OutputData::F32(v),
            Buffer::I64(v) => OutputData::I64(v),
        };
        Output {
            shape: &self.output.shape,
            dtype: self.output_dtype,
            data,
        }
    }
}

fn check_input_shape(program: &Program, shape: &[usize]) -> Result<(), PolicyError> {
    let Some(dims) = &program.input_dims else {
        return Ok(());
    };
    let fits = dims.len() == shape.len()
        && dims
            .iter()
            .zip(shape)
            .all(|(&d, &s)| d < 0 || d as usize == s);
    if fits {
        return Ok(());
    }
    let expected: Vec<String> = dims
        .iter()
        .map(|&d| if d < 0 { "None".into() } else { d.to_string() })
        .collect();
    Err(PolicyError::InputShape {
        node: program.input_name.clone(),
        expected: format!("({})", expected.join(", ")),
        got: shape.to_vec(),
    })
}

struct Builder {
    buffers: Vec<Buffer>,
    tasks: Vec<Task>,
    values: Vec<Value>,
}

impl Builder {
    fn alloc(&mut self, dtype: DType, len: usize) -> usize {
        self.buffers.push(match dtype {
            DType::F32 => Buffer::F32(vec![0.0; len]),
            DType::I32 | DType::I64 => Buffer::I64(vec![0; len]),
        });
        self.buffers.len() - 1
    }

    fn constant(&mut self, buffer: Buffer, shape: Vec<usize>) -> Value {
        self.buffers.push(buffer);
        Value {
            slot: self.buffers.len() - 1,
            shape,
            constant: true,
        }
    }

    fn input(&self, step: &Step, i: usize) -> &Value {
        &self.values[step.inputs[i]]
    }

    /// The integers of a static input (an axis, a shape, a count).
    fn ints(&self, step: &Step, i: usize) -> &[i64] {
        self.buffers[self.input(step, i).slot].ints()
    }

    /// An axis given as a scalar input, made non-negative for a value of `rank`.
    fn axis(&self, step: &Step, i: usize, rank: usize) -> Result<usize, PolicyError> {
        match self.ints(step, i) {
            &[a] => normalize_axis(a, rank)
                .ok_or_else(|| step.invalid(format!("axis {a} is out of range for rank {rank}"))),
            other => Err(step.invalid(format!("the axis {other:?} is not a scalar"))),
        }
    }

    fn lay_out(&mut self, step: &Step, rng: &mut ChaCha8Rng) -> Result<Value, PolicyError> {
        let shape_of = |i: usize| self.input(step, i).shape.clone();
        let alias = |this: &Self, shape: Vec<usize>| Value {
            shape,
            ..this.input(step, 0).clone()
        };
        let (kernel, shape) = match &step.op {
            Op::Input => unreachable!("the observation input is laid out by the plan"),
            Op::Constant => {
                let value = step.value.as_ref().expect("compile checked the value");
                let buffer = match &value.data {
                    TensorData::F32(v) => Buffer::F32(v.clone()),
                    TensorData::I64(v) => Buffer::I64(v.clone()),
                };
                return Ok(self.constant(buffer, value.shape.clone()));
            }
            Op::View => return Ok(alias(self, shape_of(0))),
            Op::Squeeze { dims } => return Ok(alias(self, squeeze(step, &shape_of(0), dims)?)),
            Op::Reshape => {
                let target = reshape(step, &shape_of(0), self.ints(step, 1))?;
                return Ok(alias(self, target));
            }
            Op::Shape => {
                let dims = shape_of(0);
                let buffer = Buffer::I64(dims.iter().map(|&d| d as i64).collect());
                return Ok(self.constant(buffer, vec![dims.len()]));
            }
            Op::MatMul {
                transpose_a,
                transpose_b,
            } => self.matmul(step, *transpose_a, *transpose_b)?,
            Op::BiasAdd => {
                let (x, bias) = (shape_of(0), shape_of(1));
                if x.len() < 2 || bias.len() != 1 || x.last() != bias.last() {
                    return Err(step.invalid(format!("cannot add a bias {bias:?} to {x:?}")));
                }
                let kernel = Kernel::Binary {
                    f: Binary::Add,
                    a: self.input(step, 0).slot,
                    b: self.input(step, 1).slot,
                    broadcast: Broadcast::RepeatB(bias[0]),
                };
                (kernel, x)
            }
            Op::Unary(f) => {
                let x = self.input(step, 0).slot;
                (Kernel::Unary { f: *f, x }, shape_of(0))
            }
            Op::Binary(f) => {
                let (a, b) = (shape_of(0), shape_of(1));
                let out = broadcast_shape(&a, &b).ok_or_else(|| {
                    step.invalid(format!("shapes {a:?} and {b:?} do not broadcast"))
                })?;
                let kernel = Kernel::Binary {
                    f: *f,
                    a: self.input(step, 0).slot,
                    b: self.input(step, 1).slot,
                    broadcast: broadcast_kind(&a, &b, &out),
                };
                (kernel, out)
            }
            Op::Softmax => {
                let shape = shape_of(0);
                let Some(&cols) = shape.last().filter(|&&c| c > 0) else {
                    return Err(step.invalid(format!("no classes in logits of shape {shape:?}")));
                };
                let x = self.input(step, 0).slot;
                (Kernel::Softmax { x, cols }, shape)
            }
            Op::Concat => self.concat(step)?,
            Op::ArgMax => {
                let shape = shape_of(0);
                let axis = self.axis(step, 1, shape.len())?;
                if shape[axis] == 0 {
                    return Err(step.invalid("argmax over an empty axis"));
                }
                let kernel = Kernel::ArgMax {
                    x: self.input(step, 0).slot,
                    outer: shape[..axis].iter().product(),
                    axis: shape[axis],
                    inner: shape[axis + 1..].iter().product(),
                };
                let mut out = shape;
                out.remove(axis);
                (kernel, out)
            }
            Op::RandomNormal => {
                let dims = self.ints(step, 0);
                if dims.iter().any(|&d| d < 0) {
                    return Err(step.invalid(format!("negative dimension in shape {dims:?}")));
                }
                (Kernel::Normal, dims.iter().map(|&d| d as usize).collect())
            }
            Op::Multinomial => {
                let logits = shape_of(0);
                let samples = match self.ints(step, 1) {
                    &[n] if n >= 0 => n as usize,
                    other => return Err(step.invalid(format!("bad number of samples {other:?}"))),
                };
                let &[rows, classes] = logits.as_slice() else {
                    return Err(step.invalid(format!("logits of shape {logits:?} are not 2-D")));
                };
                if classes == 0 {
                    return Err(step.invalid("logits with no classes"));
                }
                let kernel = Kernel::Multinomial {
                    logits: self.input(step, 0).slot,
                    classes,
                    samples,
                    cdf: vec![0.0; classes],
                };
                (kernel, vec![rows, samples])
            }
        };
        let out = self.alloc(step.dtype, shape.iter().product());
        let constant = !step.op.is_random() && step.inputs.iter().all(|&i| self.values[i].constant);
        let mut task = Task { kernel, out };
        if constant {
            // Folded: computed once here, never again.
            let mut buffer = std::mem::take(&mut self.buffers[out]);
            task.kernel.run(&self.buffers, &mut buffer, rng);
            self.buffers[out] = buffer;
        } else {
            self.tasks.push(task);
        }
        Ok(Value {
            slot: out,
            shape,
            constant,
        })
    }

    fn matmul(
        &mut self,
        step: &Step,
        transpose_a: bool,
        transpose_b: bool,
    ) -> Result<(Kernel, Vec<usize>), PolicyError> {
        let (a, b) = (self.input(step, 0).clone(), self.input(step, 1).clone());
        let (&[a0, a1], &[b0, b1]) = (a.shape.as_slice(), b.shape.as_slice()) else {
            return Err(step.invalid(format!(
                "operands of shapes {:?} and {:?} are not matrices",
                a.shape, b.shape
            )));
        };
        let (m, k) = if transpose_a { (a1, a0) } else { (a0, a1) };
        let (k2, n) = if transpose_b { (b1, b0) } else { (b0, b1) };
        if k != k2 {
            return Err(step.invalid(format!(
                "inner dimensions differ: {:?} times {:?}",
                a.shape, b.shape
            )));
        }
        let kernel = if m == 1 && b.constant && !a.constant {
            // One row times constant weights: laid out once here in the order the
            // product reads them (W for a wide output, W transposed for a narrow one).
            let stored = ArrayView2::from_shape((b0, b1), self.buffers[b.slot].f32())
                .expect("weights shape");
            let by_rows = n >= WIDE_OUTPUT;
            let slot = if by_rows == transpose_b {
                let transposed: Vec<f32> = stored.t().iter().copied().collect();
                self.constant(Buffer::F32(transposed), vec![b1, b0]).slot
            } else {
                b.slot
            };
            if by_rows {
                Kernel::MatVecRows {
                    x: a.slot,
                    w: slot,
                    k,
                    n,
                }
            } else {
                Kernel::MatVecDots {
                    x: a.slot,
                    wt: slot,
                    k,
                    n,
                }
            }
        } else {
            Kernel::MatMul {
                a: a.slot,
                b: b.slot,
                a_dims: (a0, a1),
                b_dims: (b0, b1),
                transpose_a,
                transpose_b,
                m,
                n,
            }
        };
        Ok((kernel, vec![m, n]))
    }

    fn concat(&self, step: &Step) -> Result<(Kernel, Vec<usize>), PolicyError> {
        let n = step.inputs.len() - 1;
        let first = &self.input(step, 0).shape;
        let rank = first.len();
        let axis = self.axis(step, n, rank)?;
        let mut out = first.clone();
        out[axis] = 0;
        let inner: usize = first[axis + 1..].iter().product();
        let mut parts = Vec::with_capacity(n);
        for i in 0..n {
            let value = self.input(step, i);
            let s = &value.shape;
            let fits = s.len() == rank && (0..rank).all(|d| d == axis || s[d] == first[d]);
            if !fits {
                return Err(step.invalid(format!(
                    "cannot concatenate {s:?} with {first:?} along axis {axis}"
                )));
            }
            out[axis] += s[axis];
            parts.push((value.slot, s[axis] * inner));
        }
        let outer = first[..axis].iter().product();
        Ok((Kernel::Concat { parts, outer }, out))
    }
}

fn normalize_axis(axis: i64, rank: usize) -> Option<usize> {
    let rank = rank as i64;
    let a = if axis < 0 { axis + rank } else { axis };
    (0..rank).contains(&a).then_some(a as usize)
}

/// TensorFlow's Squeeze: the listed axes (each of size 1), or all axes of size 1.
fn squeeze(step: &Step, shape: &[usize], dims: &[i64]) -> Result<Vec<usize>, PolicyError> {
    if dims.is_empty() {
        return Ok(shape.iter().copied().filter(|&d| d != 1).collect());
    }
    let mut drop = vec![false; shape.len()];
    for &d in dims {
        let axis = normalize_axis(d, shape.len())
            .filter(|&a| shape[a] == 1)
            .ok_or_else(|| step.invalid(format!("cannot squeeze axis {d} of {shape:?}")))?;
        drop[axis] = true;
    }
    Ok(shape
        .iter()
        .zip(drop)
        .filter(|(_, drop)| !drop)
        .map(|(&d, _)| d)
        .collect())
}

/// TensorFlow's Reshape: at most one -1, which takes the remaining size.
fn reshape(step: &Step, shape: &[usize], target: &[i64]) -> Result<Vec<usize>, PolicyError> {
    let len: usize = shape.iter().product();
    let known: i64 = target.iter().filter(|&&d| d >= 0).product();
    let unknown = target.iter().filter(|&&d| d < 0).count();
    let bad = || step.invalid(format!("cannot reshape {shape:?} into {target:?}"));
    if target.iter().any(|&d| d < -1) || unknown > 1 {
        return Err(bad());
    }
    let fill = if unknown == 1 {
        if known == 0 || len % known as usize != 0 {
            return Err(bad());
        }
        len / known as usize
    } else {
        0
    };
    let out: Vec<usize> = target
        .iter()
        .map(|&d| if d < 0 { fill } else { d as usize })
        .collect();
    if out.iter().product::<usize>() != len {
        return Err(bad());
    }
    Ok(out)
}

/// NumPy's broadcasting of two shapes, or None when they are incompatible.
fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| {
        let pad = rank - s.len();
        if i < pad {
            1
        } else {
            s[i - pad]
        }
    };
    (0..rank)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// The cheapest way to run a binary op for these shapes.
fn broadcast_kind(a: &[usize], b: &[usize], out: &[usize]) -> Broadcast {
    let len: usize = out.iter().product();
    let (la, lb) = (a.iter().product::<usize>(), b.iter().product::<usize>());
    // `small` repeats along the output when, leading 1s aside, it is the output's tail.
    let repeats = |small: &[usize]| {
        let trimmed: &[usize] = {
            let lead = small.iter().take_while(|&&d| d == 1).count();
            &small[lead..]
        };
        trimmed.len() <= out.len() && out.ends_with(trimmed)
    };
    if la == len && lb == len {
        Broadcast::Same
    } else if la == len && lb > 0 && repeats(b) {
        Broadcast::RepeatB(lb)
    } else if lb == len && la > 0 && repeats(a) {
        Broadcast::RepeatA(la)
    } else {
        Broadcast::General {
            a: a.to_vec(),
            b: b.to_vec(),
            out: out.to_vec(),
        }
    }
}
