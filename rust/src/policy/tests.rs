//! The evaluator against hand-computed values. (Parity with TensorFlow itself is
//! tested from Python, against a TF session.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;

use super::ops::Unary;
use super::*;

/// Counts this thread's allocations, to check that evaluating allocates nothing.
struct CountingAlloc;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

fn node(name: &str, op: &str, inputs: &[&str]) -> Node {
    Node {
        name: name.into(),
        op: op.into(),
        inputs: inputs.iter().map(|i| (i.to_string(), 0)).collect(),
        attrs: HashMap::new(),
        value: None,
    }
}

fn with_attr(mut n: Node, key: &str, value: Attr) -> Node {
    n.attrs.insert(key.into(), value);
    n
}

fn placeholder(dims: &[i64]) -> Node {
    with_attr(
        node("x", "Placeholder", &[]),
        "shape",
        Attr::Ints(dims.to_vec()),
    )
}

fn constant(name: &str, shape: &[usize], data: &[f32]) -> Node {
    let mut n = node(name, "Const", &[]);
    n.value = Some(Tensor::f32(shape.to_vec(), data.to_vec()));
    n
}

fn int_const(name: &str, data: &[i64]) -> Node {
    let mut n = node(name, "Const", &[]);
    let shape = if data.len() == 1 {
        vec![]
    } else {
        vec![data.len()]
    };
    n.value = Some(Tensor::int(DType::I32, shape, data.to_vec()));
    n
}

fn evaluator(nodes: Vec<Node>, output: &str) -> Evaluator {
    Evaluator::new(&Graph::new(nodes).unwrap(), "x", output, 7).unwrap()
}

fn floats(out: Output<'_>) -> (Vec<usize>, Vec<f32>) {
    match out.data {
        OutputData::F32(v) => (out.shape.to_vec(), v.to_vec()),
        OutputData::I64(_) => panic!("integer output"),
    }
}

fn ints(out: Output<'_>) -> (Vec<usize>, Vec<i64>) {
    match out.data {
        OutputData::I64(v) => (out.shape.to_vec(), v.to_vec()),
        OutputData::F32(_) => panic!("float output"),
    }
}

fn assert_close(got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= 1e-6 * w.abs().max(1.0),
            "{got:?} vs {want:?}"
        );
    }
}

/// x (N, 2) -> relu(x W + b) with W (2, 3), the dense layer of Spinning Up's mlp.
fn dense_relu() -> Vec<Node> {
    vec![
        placeholder(&[-1, 2]),
        constant("w", &[2, 3], &[1.0, 2.0, -1.0, 0.5, -3.0, 1.0]),
        constant("b", &[3], &[0.1, 0.2, 0.3]),
        node("mm", "MatMul", &["x", "w"]),
        node("ba", "BiasAdd", &["mm", "b"]),
        node("y", "Relu", &["ba"]),
    ]
}

#[test]
fn dense_layer_one_row_and_a_batch() {
    let mut e = evaluator(dense_relu(), "y");
    // [1, 2] W + b = [1 + 1, 2 - 6, -1 + 2] + b = [2.1, -3.8, 1.3], relu -> [2.1, 0, 1.3]
    let (shape, y) = floats(e.run(&[1.0, 2.0], &[1, 2]).unwrap());
    assert_eq!(shape, [1, 3]);
    assert_close(&y, &[2.1, 0.0, 1.3]);
    // A batch (the sgemm path) gives each row what one row alone gives (the matvec path).
    let (shape, y) = floats(e.run(&[1.0, 2.0, -1.0, 0.0, 0.0, 1.0], &[3, 2]).unwrap());
    assert_eq!(shape, [3, 3]);
    assert_close(&y, &[2.1, 0.0, 1.3, 0.0, 0.0, 1.3, 0.6, 0.0, 1.3]);
}

#[test]
fn matmul_transpose_flags() {
    // W stored transposed (3, 2): x W^T with transpose_b equals the plain product.
    let wt = constant("w", &[3, 2], &[1.0, 0.5, 2.0, -3.0, -1.0, 1.0]);
    for batch in [1usize, 2] {
        let nodes = vec![
            placeholder(&[-1, 2]),
            wt.clone(),
            with_attr(
                node("y", "MatMul", &["x", "w"]),
                "transpose_b",
                Attr::Bool(true),
            ),
        ];
        let mut e = evaluator(nodes, "y");
        let obs: Vec<f32> = [1.0, 2.0].repeat(batch);
        let (shape, y) = floats(e.run(&obs, &[batch, 2]).unwrap());
        assert_eq!(shape, [batch, 3]);
        assert_close(&y, &[2.0, -4.0, 1.0].repeat(batch));
    }
    // transpose_a: x is (2, N) and the product is x^T W.
    let nodes = vec![
        placeholder(&[2, -1]),
        constant("w", &[2, 1], &[1.0, 10.0]),
        with_attr(
            node("y", "MatMul", &["x", "w"]),
            "transpose_a",
            Attr::Bool(true),
        ),
    ];
    let mut e = evaluator(nodes, "y");
    let (shape, y) = floats(e.run(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap());
    assert_eq!(shape, [3, 1]);
    assert_close(&y, &[41.0, 52.0, 63.0]);
}

#[test]
fn broadcasting_like_numpy() {
    let nodes = vec![
        placeholder(&[-1, 3]),
        constant("row", &[3], &[1.0, 2.0, 3.0]),
        constant("col", &[2, 1], &[10.0, 20.0]),
        constant("two", &[], &[2.0]),
        node("a", "Sub", &["row", "x"]), // the repeating operand first
        node("b", "Mul", &["a", "two"]), // a scalar
        node("c", "Minimum", &["b", "col"]), // (2, 3) with (2, 1): general broadcasting
        node("d", "RealDiv", &["c", "two"]),
    ];
    let mut e = evaluator(nodes, "d");
    let (shape, d) = floats(e.run(&[0.0, 0.0, 10.0, -5.0, -5.0, -5.0], &[2, 3]).unwrap());
    assert_eq!(shape, [2, 3]);
    // a = [[1, 2, -7], [6, 7, 8]]; b = 2a; min with 10 / 20 per row; halved.
    assert_close(&d, &[1.0, 2.0, -7.0, 6.0, 7.0, 8.0]);
}

#[test]
fn unary_functions() {
    let ops = [
        ("Tanh", 0.5f32.tanh()),
        ("Sigmoid", 1.0 / (1.0 + (-0.5f32).exp())),
        ("Exp", 0.5f32.exp()),
        ("Elu", 0.5),
        ("Neg", -0.5),
        ("Softplus", (1.0 + 0.5f32.exp()).ln()),
        ("Square", 0.25),
        ("Sqrt", 0.5f32.sqrt()),
        ("Log", 0.5f32.ln()),
        ("Relu", 0.5),
    ];
    for (op, want) in ops {
        let mut e = evaluator(vec![placeholder(&[-1, 1]), node("y", op, &["x"])], "y");
        assert_close(&floats(e.run(&[0.5], &[1, 1]).unwrap()).1, &[want]);
    }
    let mut e = evaluator(vec![placeholder(&[-1, 1]), node("y", "Elu", &["x"])], "y");
    assert_close(
        &floats(e.run(&[-1.0], &[1, 1]).unwrap()).1,
        &[(-1.0f32).exp() - 1.0],
    );
}

#[test]
fn tanh_is_within_2e7_everywhere() {
    let mut worst = 0.0f64;
    for i in -400_000..=400_000 {
        let x = i as f32 * 5e-5;
        worst = worst.max((Unary::Tanh.apply(x) as f64 - (x as f64).tanh()).abs());
    }
    assert!(worst < 2e-7, "{worst}");
    assert_eq!(Unary::Tanh.apply(f32::INFINITY), 1.0);
    assert_eq!(Unary::Tanh.apply(f32::NEG_INFINITY), -1.0);
    assert!(Unary::Tanh.apply(f32::NAN).is_nan());
}

#[test]
fn softmax_argmax_concat_reshape_squeeze() {
    let nodes = vec![
        placeholder(&[-1, 2]),
        node("sm", "Softmax", &["x"]),
        int_const("axis", &[-1]),
        node("am", "ArgMax", &["x", "axis"]),
        node("cat", "ConcatV2", &["x", "sm", "axis"]),
        int_const("flat", &[-1]),
        node("rs", "Reshape", &["cat", "flat"]),
    ];
    let graph = Graph::new(nodes).unwrap();
    let obs = [0.0, (3.0f32).ln(), 2.0, 1.0];
    let mut sm = Evaluator::new(&graph, "x", "sm", 0).unwrap();
    assert_close(
        &floats(sm.run(&obs, &[2, 2]).unwrap()).1,
        &[0.25, 0.75, 0.731_058_6, 0.268_941_4],
    );
    let mut am = Evaluator::new(&graph, "x", "am", 0).unwrap();
    assert_eq!(ints(am.run(&obs, &[2, 2]).unwrap()), (vec![2], vec![1, 0]));
    let mut rs = Evaluator::new(&graph, "x", "rs", 0).unwrap();
    let (shape, flat) = floats(rs.run(&obs, &[2, 2]).unwrap());
    assert_eq!(shape, [8]);
    assert_close(&flat[..4], &[0.0, 3.0f32.ln(), 0.25, 0.75]);

    // Squeeze with no axes drops every axis of size 1, the batch axis of a batch of one too.
    let nodes = vec![placeholder(&[-1, 1]), node("sq", "Squeeze", &["x"])];
    let mut e = evaluator(nodes, "sq");
    assert_eq!(
        floats(e.run(&[4.0], &[1, 1]).unwrap()).0,
        Vec::<usize>::new()
    );
    assert_eq!(floats(e.run(&[4.0, 5.0], &[2, 1]).unwrap()).0, vec![2]);
}

#[test]
fn unsupported_ops_are_all_named() {
    let nodes = vec![
        placeholder(&[-1, 2]),
        node("c", "Cast", &["x"]),
        node("a", "Atan2", &["c", "c"]),
        node("y", "Tanh", &["a"]),
    ];
    let err = Evaluator::new(&Graph::new(nodes).unwrap(), "x", "y", 0).unwrap_err();
    let PolicyError::Unsupported(list) = &err else {
        panic!("{err}")
    };
    let ops: Vec<&str> = list.iter().map(|u| u.op.as_str()).collect();
    assert_eq!(ops, ["Cast", "Atan2"]);
    assert_eq!(
        err.to_string(),
        "no native kernel for op Cast (node \"c\"), op Atan2 (node \"a\")"
    );
}

#[test]
fn graph_errors() {
    // The action needs another placeholder (e.g. Spinning Up's `a`).
    let nodes = vec![
        placeholder(&[-1, 2]),
        node("a", "Placeholder", &[]),
        node("y", "Add", &["x", "a"]),
    ];
    let err = Evaluator::new(&Graph::new(nodes).unwrap(), "x", "y", 0).unwrap_err();
    assert!(
        err.to_string().contains("also depends on this placeholder"),
        "{err}"
    );
    // Observations of the wrong width.
    let mut e = evaluator(dense_relu(), "y");
    let err = e.run(&[1.0, 2.0, 3.0], &[1, 3]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "observations of shape [1, 3] do not fit the input \"x\" of shape (None, 2)"
    );
    assert!(matches!(
        Graph::new(vec![node("y", "Tanh", &["nowhere"])]),
        Err(PolicyError::UnknownNode(n)) if n == "nowhere"
    ));
    let cycle = vec![
        placeholder(&[-1]),
        node("a", "Tanh", &["b"]),
        node("b", "Tanh", &["a"]),
    ];
    let err = Evaluator::new(&Graph::new(cycle).unwrap(), "x", "b", 0).unwrap_err();
    assert!(matches!(err, PolicyError::Cycle(_)), "{err}");
}

/// Spinning Up's Gaussian policy head: mu + exp(log_std) * N(0, 1) of mu's shape.
fn gaussian(log_std: f32) -> Vec<Node> {
    vec![
        placeholder(&[-1, 1]),
        constant("log_std", &[1], &[log_std]),
        node("std", "Exp", &["log_std"]),
        node("shape", "Shape", &["x"]),
        node("noise", "RandomStandardNormal", &["shape"]),
        node("scaled", "Mul", &["noise", "std"]),
        node("pi", "AddV2", &["x", "scaled"]),
    ]
}

/// Spinning Up's categorical head on `logits`: pi = squeeze(multinomial(logits, 1), axis=1).
fn categorical_head(logits: &str) -> [Node; 3] {
    [
        int_const("one", &[1]),
        node("draw", "Multinomial", &[logits, "one"]),
        with_attr(
            node("pi", "Squeeze", &["draw"]),
            "squeeze_dims",
            Attr::Ints(vec![1]),
        ),
    ]
}

/// The categorical head straight on the observations (3 logits).
fn categorical() -> Vec<Node> {
    let mut nodes = vec![placeholder(&[-1, 3])];
    nodes.extend(categorical_head("x"));
    nodes
}

#[test]
fn sampling_is_seeded_and_has_the_right_distribution() {
    let n = 20_000usize;
    let mut e = evaluator(gaussian(0.5f32.ln()), "pi");
    let (shape, draws) = floats(e.run(&vec![3.0; n], &[n, 1]).unwrap());
    assert_eq!(shape, [n, 1]);
    let mean = draws.iter().sum::<f32>() / n as f32;
    let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f32>() / n as f32;
    // mean 3, std 0.5: the standard error of the mean is 0.5 / sqrt(n) = 0.0035.
    assert!(
        (mean - 3.0).abs() < 5.0 * 0.5 / (n as f32).sqrt(),
        "mean {mean}"
    );
    assert!((var.sqrt() - 0.5).abs() < 0.02, "std {}", var.sqrt());

    let logits: Vec<f32> = [0.0f32, 1.0, 2.0].map(f32::ln).repeat(n);
    let mut e = evaluator(categorical(), "pi");
    let (shape, classes) = ints(e.run(&logits, &[n, 3]).unwrap());
    assert_eq!(shape, [n]);
    // Probabilities 0, 1/3, 2/3 (log 0 = -inf has weight 0).
    assert_eq!(classes.iter().filter(|&&c| c == 0).count(), 0);
    let p1 = classes.iter().filter(|&&c| c == 1).count() as f64 / n as f64;
    let sigma = (1.0 / 3.0 * 2.0 / 3.0 / n as f64).sqrt();
    assert!((p1 - 1.0 / 3.0).abs() < 5.0 * sigma, "p1 {p1}");

    // The same seed repeats the same draws, a new seed does not.
    let first = ints(e.run(&logits[..30], &[10, 3]).unwrap()).1;
    e.seed(11);
    let a = ints(e.run(&logits[..30], &[10, 3]).unwrap()).1;
    e.seed(11);
    let b = ints(e.run(&logits[..30], &[10, 3]).unwrap()).1;
    assert_eq!(a, b);
    e.seed(12);
    let c = ints(e.run(&logits[..300], &[100, 3]).unwrap()).1;
    e.seed(11);
    let d = ints(e.run(&logits[..300], &[100, 3]).unwrap()).1;
    assert_ne!(c, d);
    assert_eq!(first.len(), 10);
}

#[test]
fn weights_and_exp_log_std_are_folded() {
    let mut e = evaluator(gaussian(0.0), "pi");
    e.prepare(&[1, 1]).unwrap();
    // At run time: the noise, its scaling, the sum. Shape, Exp and the constants are done.
    assert_eq!(e.tasks_per_run(&[1, 1]), Some(3));
}

#[test]
fn evaluating_allocates_nothing_of_its_own() {
    let mut nodes = dense_relu();
    nodes.extend([
        constant("w2", &[3, 2], &[1.0, -1.0, 0.5, 0.5, 2.0, 0.0]),
        node("logits", "MatMul", &["y", "w2"]),
    ]);
    nodes.extend(categorical_head("logits"));
    let mut e = evaluator(nodes, "pi");
    let obs = [0.5f32, -0.25];
    let before = allocations();
    e.run(&obs, &[1, 2]).unwrap(); // lays out the plan: the counter sees that
    assert!(allocations() > before);
    let before = allocations();
    for _ in 0..100 {
        e.run(&obs, &[1, 2]).unwrap();
    }
    assert_eq!(allocations() - before, 0);
    let batch = obs.repeat(8);
    e.run(&batch, &[8, 2]).unwrap();
    let before = allocations();
    for _ in 0..100 {
        e.run(&batch, &[8, 2]).unwrap();
    }
    // Batches go through matrixmultiply's sgemm, which allocates its packing scratch
    // once per product: at most one allocation per MatMul, none from the evaluator.
    let per_run = (allocations() - before) as f64 / 100.0;
    assert!(per_run <= 2.0, "{per_run} allocations per run");
}
