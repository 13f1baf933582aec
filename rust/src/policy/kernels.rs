//! The numeric kernels. Each reads its inputs from the plan's buffers and writes
//! one preallocated output buffer; none allocates. Matrix products go through
//! ndarray: matrixmultiply's sgemm for batches, and for a single row (one env)
//! whichever of ndarray's vector products suits the weights' shape, since sgemm
//! would repack the whole weight matrix on every call.

use ndarray::linalg::{general_mat_mul, general_mat_vec_mul};
use ndarray::{ArrayView1, ArrayView2, ArrayViewD, ArrayViewMut1, ArrayViewMut2, ArrayViewMutD};
use ndarray::{IxDyn, Zip};
use rand::rngs::ChaCha8Rng;
use rand::RngExt;
use rand_distr::StandardNormal;

use super::ops::{Binary, Unary};

/// A value's storage: floats, or integers of any TensorFlow width.
#[derive(Debug, Clone, PartialEq)]
pub enum Buffer {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

impl Default for Buffer {
    fn default() -> Self {
        Buffer::F32(Vec::new())
    }
}

impl Buffer {
    pub fn f32(&self) -> &[f32] {
        match self {
            Buffer::F32(v) => v,
            Buffer::I64(_) => unreachable!("a float kernel got an integer buffer"),
        }
    }

    pub fn f32_mut(&mut self) -> &mut [f32] {
        match self {
            Buffer::F32(v) => v,
            Buffer::I64(_) => unreachable!("a float kernel got an integer buffer"),
        }
    }

    pub fn ints(&self) -> &[i64] {
        match self {
            Buffer::I64(v) => v,
            Buffer::F32(_) => unreachable!("an integer parameter is a float buffer"),
        }
    }

    fn ints_mut(&mut self) -> &mut [i64] {
        match self {
            Buffer::I64(v) => v,
            Buffer::F32(_) => unreachable!("an integer kernel got a float buffer"),
        }
    }
}

/// How the two operands of a binary op line up with its output.
#[derive(Debug, Clone, PartialEq)]
pub enum Broadcast {
    /// Both have the output's elements.
    Same,
    /// `a` has the output's elements; `b` repeats every `period` of them (a
    /// scalar, a bias row, ...).
    RepeatB(usize),
    /// The mirror case: `a` repeats.
    RepeatA(usize),
    /// Anything else NumPy allows, through ndarray's broadcasting views.
    General {
        a: Vec<usize>,
        b: Vec<usize>,
        out: Vec<usize>,
    },
}

/// One step's computation; the `usize`s are buffer slots.
#[derive(Debug, Clone, PartialEq)]
pub enum Kernel {
    /// One row times constant weights `W` (`(k, n)`, contiguous), for a wide
    /// output: `y = sum_i x_i W[i, :]`, one ndarray `scaled_add` (axpy) per row of W.
    MatVecRows {
        x: usize,
        w: usize,
        k: usize,
        n: usize,
    },
    /// One row times constant weights for a narrow output: `y = Wt x`, with `Wt`
    /// the `(n, k)` transposed weights, contiguous (ndarray's matrix-vector product).
    MatVecDots {
        x: usize,
        wt: usize,
        k: usize,
        n: usize,
    },
    /// `op(a) op(b)` for `a` of shape `a_dims` (and `b` of `b_dims`), where `op`
    /// transposes when the flag is set; the output is `(m, n)`.
    MatMul {
        a: usize,
        b: usize,
        a_dims: (usize, usize),
        b_dims: (usize, usize),
        transpose_a: bool,
        transpose_b: bool,
        m: usize,
        n: usize,
    },
    Unary {
        f: Unary,
        x: usize,
    },
    Binary {
        f: Binary,
        a: usize,
        b: usize,
        broadcast: Broadcast,
    },
    /// Softmax over rows of `cols` values.
    Softmax {
        x: usize,
        cols: usize,
    },
    /// Concatenation: for each of `outer` blocks, `len` values from each part in turn.
    Concat {
        parts: Vec<(usize, usize)>,
        outer: usize,
    },
    /// Index of the largest value along an axis of length `axis`.
    ArgMax {
        x: usize,
        outer: usize,
        axis: usize,
        inner: usize,
    },
    /// Standard normal samples filling the output.
    Normal,
    /// `samples` class indices per row of `classes` logits; `cdf` is scratch.
    Multinomial {
        logits: usize,
        classes: usize,
        samples: usize,
        cdf: Vec<f64>,
    },
}

impl Kernel {
    /// Compute into `out` from `buffers` (which never holds `out` itself).
    pub fn run(&mut self, buffers: &[Buffer], out: &mut Buffer, rng: &mut ChaCha8Rng) {
        match self {
            Kernel::MatVecRows { x, w, k, n } => {
                let w = ArrayView2::from_shape((*k, *n), buffers[*w].f32()).expect("W shape");
                let mut y = ArrayViewMut1::from(out.f32_mut());
                y.fill(0.0);
                for (&xi, row) in buffers[*x].f32().iter().zip(w.rows()) {
                    y.scaled_add(xi, &row);
                }
            }
            Kernel::MatVecDots { x, wt, k, n } => {
                let wt = ArrayView2::from_shape((*n, *k), buffers[*wt].f32()).expect("Wt shape");
                let x = ArrayView1::from(buffers[*x].f32());
                let mut y = ArrayViewMut1::from(out.f32_mut());
                general_mat_vec_mul(1.0, &wt, &x, 0.0, &mut y);
            }
            Kernel::MatMul {
                a,
                b,
                a_dims,
                b_dims,
                transpose_a,
                transpose_b,
                m,
                n,
            } => {
                let a = matrix(buffers[*a].f32(), *a_dims, *transpose_a);
                let b = matrix(buffers[*b].f32(), *b_dims, *transpose_b);
                let mut c = ArrayViewMut2::from_shape((*m, *n), out.f32_mut()).expect("C shape");
                general_mat_mul(1.0, &a, &b, 0.0, &mut c);
            }
            Kernel::Unary { f, x } => {
                let f = *f;
                for (o, &v) in out.f32_mut().iter_mut().zip(buffers[*x].f32()) {
                    *o = f.apply(v);
                }
            }
            Kernel::Binary { f, a, b, broadcast } => binary(
                *f,
                buffers[*a].f32(),
                buffers[*b].f32(),
                broadcast,
                out.f32_mut(),
            ),
            Kernel::Softmax { x, cols } => softmax(buffers[*x].f32(), *cols, out.f32_mut()),
            Kernel::Concat { parts, outer } => {
                let out = out.f32_mut();
                let mut at = 0;
                for block in 0..*outer {
                    for &(slot, len) in parts.iter() {
                        let src = &buffers[slot].f32()[block * len..(block + 1) * len];
                        out[at..at + len].copy_from_slice(src);
                        at += len;
                    }
                }
            }
            Kernel::ArgMax {
                x,
                outer,
                axis,
                inner,
            } => argmax(buffers[*x].f32(), (*outer, *axis, *inner), out.ints_mut()),
            Kernel::Normal => {
                for o in out.f32_mut() {
                    *o = rng.sample(StandardNormal);
                }
            }
            Kernel::Multinomial {
                logits,
                classes,
                samples,
                cdf,
            } => {
                let rows = buffers[*logits].f32().chunks_exact(*classes);
                let draws = out.ints_mut().chunks_exact_mut((*samples).max(1));
                for (row, draws) in rows.zip(draws) {
                    multinomial_row(row, cdf, &mut draws[..*samples], rng);
                }
            }
        }
    }
}

fn matrix(data: &[f32], dims: (usize, usize), transpose: bool) -> ArrayView2<'_, f32> {
    let view = ArrayView2::from_shape(dims, data).expect("matrix shape");
    if transpose {
        view.reversed_axes()
    } else {
        view
    }
}

fn binary(f: Binary, a: &[f32], b: &[f32], broadcast: &Broadcast, out: &mut [f32]) {
    match broadcast {
        Broadcast::Same => {
            for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                *o = f.apply(x, y);
            }
        }
        Broadcast::RepeatB(period) => {
            for (o, x) in out.chunks_exact_mut(*period).zip(a.chunks_exact(*period)) {
                for ((o, &x), &y) in o.iter_mut().zip(x).zip(b) {
                    *o = f.apply(x, y);
                }
            }
        }
        Broadcast::RepeatA(period) => {
            for (o, y) in out.chunks_exact_mut(*period).zip(b.chunks_exact(*period)) {
                for ((o, &x), &y) in o.iter_mut().zip(a).zip(y) {
                    *o = f.apply(x, y);
                }
            }
        }
        Broadcast::General {
            a: a_shape,
            b: b_shape,
            out: out_shape,
        } => {
            let out_dim = IxDyn(out_shape);
            let a = ArrayViewD::from_shape(IxDyn(a_shape), a).expect("a shape");
            let b = ArrayViewD::from_shape(IxDyn(b_shape), b).expect("b shape");
            let a = a.broadcast(out_dim.clone()).expect("a broadcasts");
            let b = b.broadcast(out_dim.clone()).expect("b broadcasts");
            let mut out = ArrayViewMutD::from_shape(out_dim, out).expect("out shape");
            Zip::from(&mut out)
                .and(&a)
                .and(&b)
                .for_each(|o, &x, &y| *o = f.apply(x, y));
        }
    }
}

/// TensorFlow's Softmax: `exp(x - max) / sum` along each row.
fn softmax(x: &[f32], cols: usize, out: &mut [f32]) {
    for (row, o) in x.chunks_exact(cols).zip(out.chunks_exact_mut(cols)) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0f32;
        for (o, &v) in o.iter_mut().zip(row) {
            *o = (v - max).exp();
            sum += *o;
        }
        for o in o.iter_mut() {
            *o /= sum;
        }
    }
}

/// First index of the largest value along the middle axis.
fn argmax(x: &[f32], (outer, axis, inner): (usize, usize, usize), out: &mut [i64]) {
    for o in 0..outer {
        for i in 0..inner {
            let at = |j: usize| x[(o * axis + j) * inner + i];
            let mut best = 0;
            for j in 1..axis {
                if at(j) > at(best) {
                    best = j;
                }
            }
            out[o * inner + i] = best as i64;
        }
    }
}

/// Draws as TensorFlow's CPU Multinomial does: the unnormalised CDF of
/// `exp(logit - max)` over finite logits, then for each draw the first class
/// whose CDF exceeds `uniform[0, 1) * total`.
fn multinomial_row(logits: &[f32], cdf: &mut [f64], draws: &mut [i64], rng: &mut ChaCha8Rng) {
    let max = logits
        .iter()
        .copied()
        .filter(|l| l.is_finite())
        .fold(f32::MIN, f32::max) as f64;
    let mut total = 0.0f64;
    for (c, &l) in cdf.iter_mut().zip(logits) {
        if l.is_finite() {
            total += (l as f64 - max).exp();
        }
        *c = total;
    }
    for d in draws {
        let to_find = rng.random::<f64>() * total;
        *d = cdf.partition_point(|&c| c <= to_find) as i64;
    }
}
