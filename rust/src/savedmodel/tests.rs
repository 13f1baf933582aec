//! The reader against TensorFlow: `tests/fixtures/savedmodel/reference.json` holds
//! what TensorFlow's own loader and `policy_graph.extract_policy_graph` (through a
//! TF session) give for the bundled agent and the real agents in shared/; its
//! script `make_reference.py` regenerates it. Then the rules one by one on small
//! hand-made inputs, and mutations of the real files (no panic, only errors).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use prost::Message;
use serde_json::Value;

use super::bundle::mask;
use super::*;
use crate::policy::{Attr, Evaluator, OutputData, TensorData};

const REFERENCE: &str = include_str!("../../../tests/fixtures/savedmodel/reference.json");
const BUNDLED: &str = "python/spinfast/example_agent/simple_save";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// shared/ beside the repository, or `SPINFAST_SHARED`.
fn shared() -> PathBuf {
    std::env::var_os("SPINFAST_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared"))
}

/// The folder of a reference agent (`repo:...` or `shared:...`); `None` when shared/
/// is not there, which fails under CI (where it always is).
fn agent_dir(id: &str) -> Option<PathBuf> {
    let (place, rel) = id.split_once(':').unwrap();
    let dir = if place == "repo" { repo() } else { shared() }.join(rel);
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing (set SPINFAST_SHARED)",
        dir.display()
    );
    eprintln!(
        "skipping {id}: {} is not there (set SPINFAST_SHARED)",
        dir.display()
    );
    None
}

/// (agent id, folder, TensorFlow's record) for each reference agent present.
fn reference_agents() -> Vec<(String, PathBuf, Value)> {
    let reference: Value = serde_json::from_str(REFERENCE).unwrap();
    let agents = reference["agents"].as_object().unwrap();
    assert_eq!(agents.len(), 5);
    agents
        .iter()
        .filter_map(|(id, record)| Some((id.clone(), agent_dir(id)?, record.clone())))
        .collect()
}

fn string_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// FNV-1a 64 of a tensor's little-endian bytes, as the reference script hashes them.
fn fnv1a64(tensor: &Tensor) -> String {
    let bytes: Vec<u8> = match (&tensor.data, tensor.dtype) {
        (TensorData::F32(v), _) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        (TensorData::I64(v), DType::I32) => {
            v.iter().flat_map(|&x| (x as i32).to_le_bytes()).collect()
        }
        (TensorData::I64(v), _) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn dtype_name(dtype: DType) -> &'static str {
    match dtype {
        DType::F32 => "float32",
        DType::I32 => "int32",
        DType::I64 => "int64",
    }
}

fn json_attr(value: &Value) -> Attr {
    match value {
        Value::Bool(b) => Attr::Bool(*b),
        Value::Number(n) if n.is_f64() => Attr::Float(n.as_f64().unwrap()),
        Value::Number(n) => Attr::Int(n.as_i64().unwrap()),
        Value::String(s) => Attr::Str(s.clone()),
        Value::Array(items) => Attr::Ints(items.iter().map(|i| i.as_i64().unwrap()).collect()),
        other => panic!("unexpected attribute {other}"),
    }
}

#[test]
fn signatures_are_tensorflows() {
    for (id, dir, record) in reference_agents() {
        let model = read_saved_model(&dir).unwrap();
        assert_eq!(model.tags(), ["serve"], "{id}");
        assert_eq!(
            model.tensorflow_version(),
            record["tensorflow_version"],
            "{id}"
        );
        let signature = model.serving_signature().unwrap();
        assert_eq!(signature.inputs, string_map(&record["inputs"]), "{id}");
        assert_eq!(signature.outputs, string_map(&record["outputs"]), "{id}");
    }
}

/// Node for node what `extract_policy_graph` takes out of a TF session: names in
/// the same order, ops, inputs, values (the variables as TF restored them), and the
/// attributes; TF's importer adds the attributes an op's definition gives a default
/// (`grad_a` on a TF 1.12 MatMul), which the GraphDef does not hold, so ours must be
/// a subset with the same values.
#[test]
fn policy_graphs_are_the_python_extractions() {
    let mut compared = 0;
    for (id, dir, record) in reference_agents() {
        let Some(reference) = record.get("policy_graph") else {
            continue;
        };
        let model = read_saved_model(&dir).unwrap();
        let keys = strings(&reference["output_keys"]);
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let policy = model.signature_policy_graph("x", &keys).unwrap();
        assert_eq!(policy.input, reference["input"], "{id}");
        assert_eq!(policy.outputs, strings(&reference["outputs"]), "{id}");
        let theirs = reference["nodes"].as_array().unwrap();
        let names = |nodes: &[Node]| nodes.iter().map(|n| n.name.clone()).collect::<Vec<_>>();
        let their_names: Vec<String> = theirs
            .iter()
            .map(|n| n["name"].as_str().unwrap().into())
            .collect();
        assert_eq!(names(&policy.nodes), their_names, "{id}");
        for (ours, theirs) in policy.nodes.iter().zip(theirs) {
            let at = format!("{id} node {}", ours.name);
            assert_eq!(ours.op, theirs["op"], "{at}");
            let inputs: Vec<(String, usize)> = theirs["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    (
                        i[0].as_str().unwrap().into(),
                        i[1].as_u64().unwrap() as usize,
                    )
                })
                .collect();
            assert_eq!(ours.inputs, inputs, "{at}");
            let their_attrs: HashMap<String, Attr> = theirs["attrs"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), json_attr(v)))
                .collect();
            for (key, value) in &ours.attrs {
                assert_eq!(Some(value), their_attrs.get(key), "{at} attribute {key}");
            }
            match (&ours.value, &theirs["value"]) {
                (None, Value::Null) => {}
                (Some(value), v) if !v.is_null() => {
                    assert_eq!(dtype_name(value.dtype), v["dtype"], "{at}");
                    let shape: Vec<usize> = v["shape"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|d| d.as_u64().unwrap() as usize)
                        .collect();
                    // TF's shape: the Python extraction turns a 0-d value into shape [1].
                    assert_eq!(value.shape, shape, "{at}");
                    assert_eq!(
                        fnv1a64(value),
                        v["fnv1a64"],
                        "{at}: the values differ from TF's"
                    );
                }
                (ours, theirs) => panic!("{at}: value {ours:?} where TF has {theirs}"),
            }
            compared += 1;
        }
    }
    assert!(compared >= 90, "only {compared} nodes compared");
}

/// The evaluator, compiled from the graph read here, gives TensorFlow's outputs.
#[test]
fn evaluator_outputs_are_tensorflows() {
    let mut checked = 0;
    for (id, dir, record) in reference_agents() {
        let Some(outputs) = record.get("checked") else {
            continue;
        };
        let model = read_saved_model(&dir).unwrap();
        let input = record["inputs"]["x"].as_str().unwrap();
        let obs: Vec<Vec<f32>> = record["observations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                row.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap() as f32)
                    .collect()
            })
            .collect();
        let shape = [obs.len(), obs[0].len()];
        let flat: Vec<f32> = obs.concat();
        for (key, expected) in outputs.as_object().unwrap() {
            let node = expected["node"].as_str().unwrap();
            let policy = model.policy_graph(input, &[node]).unwrap();
            let mut evaluator = Evaluator::new(&policy.graph, &policy.input, node, 0)
                .unwrap_or_else(|e| panic!("{id} {key}: {e}"));
            let out = evaluator.run(&flat, &shape).unwrap();
            let want_shape: Vec<usize> = expected["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(out.shape, want_shape, "{id} {key}");
            let OutputData::F32(got) = out.data else {
                panic!("{id} {key}: not float32")
            };
            let want = expected["values"].as_array().unwrap();
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(want) {
                let w = w.as_f64().unwrap();
                assert!(
                    (f64::from(*g) - w).abs() <= 1e-5 * w.abs().max(1.0),
                    "{id} {key}: {g} vs TF's {w}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} outputs checked");
}

/// The bundled agent's categorical `pi` compiles and samples valid actions.
#[test]
fn bundled_agent_samples_actions() {
    let model = read_saved_model(&repo().join(BUNDLED)).unwrap();
    let policy = model.signature_policy_graph("x", &["pi"]).unwrap();
    let mut evaluator =
        Evaluator::new(&policy.graph, &policy.input, &policy.outputs[0], 7).unwrap();
    let out = evaluator
        .run(&[0.1, -0.2, 0.3, 0.05, 0.0, 0.0, 0.0, 0.0], &[2, 4])
        .unwrap();
    assert_eq!(out.shape, &[2]);
    let OutputData::I64(actions) = out.data else {
        panic!("not int")
    };
    assert!(actions.iter().all(|a| (0..2).contains(a)), "{actions:?}");
}

#[test]
fn ddpg_pi_reads_only_x() {
    let Some(dir) = agent_dir("shared:agents/windturbine_ddpg/simple_save") else {
        return;
    };
    let model = read_saved_model(&dir).unwrap();
    let placeholders = |policy: &PolicyGraph| -> Vec<String> {
        policy
            .nodes
            .iter()
            .filter(|n| n.op.starts_with("Placeholder"))
            .map(|n| n.name.clone())
            .collect()
    };
    let pi = model.signature_policy_graph("x", &["pi"]).unwrap();
    assert_eq!(placeholders(&pi), ["Placeholder"]);
    let q = model.signature_policy_graph("x", &["q"]).unwrap();
    assert_eq!(placeholders(&q), ["Placeholder", "Placeholder_1"]);
}

#[test]
fn two_head_agent_is_refused_naming_its_inputs() {
    let Some(dir) = agent_dir("shared:agents/hetsched_tf1_twohead/tf1_save") else {
        return;
    };
    let model = read_saved_model(&dir).unwrap();
    let err = model.signature_policy_graph("x", &["pi"]).unwrap_err();
    assert!(matches!(err, SavedModelError::Missing { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(
            "saved_model.pb: there is no input \"x\" in the serving_default signature; \
             its inputs are [adv (Placeholder_7:0), aj (Placeholder_3:0)"
        ),
        "{message}"
    );
    for input in [
        "xj (Placeholder:0)",
        "xn (Placeholder_1:0)",
        "maskj",
        "maskn",
        "co",
    ] {
        assert!(message.contains(input), "{input} not in {message}");
    }
    // By node name too: there is no node x, and the message says what there is.
    let message = model
        .policy_graph("x", &["pi_j/Squeeze_1"])
        .unwrap_err()
        .to_string();
    assert!(
        message.contains(
            "there is no node \"x\" in the graph; the serving_default signature's inputs are [adv"
        ),
        "{message}"
    );
    assert!(
        message.contains("xj (Placeholder:0)") && message.contains("Placeholder_10"),
        "{message}"
    );
}

#[test]
fn tensor_and_node_names_are_both_accepted() {
    let model = read_saved_model(&repo().join(BUNDLED)).unwrap();
    let by_tensor = model.policy_graph("x:0", &["v:0"]).unwrap();
    let by_node = model.policy_graph("x", &["v"]).unwrap();
    assert_eq!(by_tensor.nodes, by_node.nodes);
    assert_eq!(by_tensor.input, "x");
    let err = model
        .signature_policy_graph("x", &["mu"])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no output \"mu\" in the serving_default signature; its outputs are [pi (pi:0), v (v:0)]"),
        "{err}"
    );
}

/// The restore op's mapping (what TensorFlow's loader runs) and TF1 Saver's naming
/// rule agree on every variable of the agents, so either finds the values.
#[test]
fn restore_op_keys_are_the_savers_names() {
    for (id, dir, _) in reference_agents() {
        let model = read_saved_model(&dir).unwrap();
        let op = model.restore_op.clone().unwrap();
        let keys = extract::restore_keys(&model.nodes, &model.index, &op).unwrap();
        let variables: Vec<usize> = (0..model.nodes.len())
            .filter(|&i| matches!(model.nodes[i].op.as_str(), "VariableV2" | "VarHandleOp"))
            .collect();
        assert!(!variables.is_empty(), "{id}");
        let bundle = model.checkpoint().unwrap();
        for i in variables {
            let node = &model.nodes[i];
            let key = keys[&i].as_ref().unwrap();
            assert_eq!(*key, default_key(node), "{id}");
            assert!(bundle.contains(key), "{id}: {key}");
        }
    }
}

// ---- Hand-made inputs: the rules one by one ----

fn float_tensor(shape: &[i64], values: &[f32]) -> proto::TensorProto {
    proto::TensorProto {
        dtype: proto::dt::FLOAT,
        tensor_shape: Some(proto::TensorShapeProto {
            dim: shape
                .iter()
                .map(|&size| proto::Dim {
                    size,
                    name: String::new(),
                })
                .collect(),
            unknown_rank: false,
        }),
        float_val: values.to_vec(),
        ..Default::default()
    }
}

/// `tf.make_ndarray`: one stored value fills the shape, fewer are padded with the
/// last, none gives zeros, raw content is little-endian.
#[test]
fn constants_decode_as_make_ndarray() {
    let t = extract::const_value(&float_tensor(&[2, 2], &[3.5]))
        .unwrap()
        .unwrap();
    assert_eq!(t, Tensor::f32(vec![2, 2], vec![3.5; 4]));
    let t = extract::const_value(&float_tensor(&[3], &[1.0, 2.0]))
        .unwrap()
        .unwrap();
    assert_eq!(t, Tensor::f32(vec![3], vec![1.0, 2.0, 2.0]));
    let t = extract::const_value(&float_tensor(&[2], &[]))
        .unwrap()
        .unwrap();
    assert_eq!(t, Tensor::f32(vec![2], vec![0.0, 0.0]));
    let raw = proto::TensorProto {
        dtype: proto::dt::INT32,
        tensor_shape: float_tensor(&[2], &[]).tensor_shape,
        tensor_content: vec![1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
        ..Default::default()
    };
    let t = extract::const_value(&raw).unwrap().unwrap();
    assert_eq!(t, Tensor::int(DType::I32, vec![2], vec![1, -1]));
    // Too many values, short content, a huge shape from one value: errors.
    assert!(extract::const_value(&float_tensor(&[1], &[1.0, 2.0])).is_err());
    let short = proto::TensorProto {
        tensor_content: vec![0; 7],
        ..raw
    };
    assert!(extract::const_value(&short)
        .unwrap_err()
        .contains("7 bytes"));
    let huge = extract::const_value(&float_tensor(&[1 << 20, 1 << 20], &[1.0])).unwrap_err();
    assert!(huge.contains("more than this reader expands"), "{huge}");
    let overflow = extract::const_value(&float_tensor(&[1 << 40, 1 << 40], &[])).unwrap_err();
    assert!(overflow.contains("too many"), "{overflow}");
    // Other dtypes get no value.
    let b = proto::TensorProto {
        dtype: 10,
        ..Default::default()
    };
    assert_eq!(extract::const_value(&b).unwrap(), None);
}

#[test]
fn attributes_follow_the_python_rules() {
    use proto::attr_value::Value as V;
    let attr = |v: V| proto::AttrValue { value: Some(v) };
    let shape = |dims: &[i64], unknown_rank| proto::TensorShapeProto {
        dim: dims
            .iter()
            .map(|&size| proto::Dim {
                size,
                name: String::new(),
            })
            .collect(),
        unknown_rank,
    };
    let mut node = proto::NodeDef {
        name: "n".into(),
        op: "Op".into(),
        ..Default::default()
    };
    let list = |f: fn(&mut proto::ListValue)| {
        let mut l = proto::ListValue::default();
        f(&mut l);
        attr(V::List(l))
    };
    for (key, value) in [
        ("_class", attr(V::I(1))),
        ("t", attr(V::Type(1))),
        ("r", attr(V::Type(101))),
        ("known", attr(V::Shape(shape(&[-1, 3], false)))),
        ("unknown", attr(V::Shape(shape(&[], true)))),
        ("value", attr(V::Tensor(float_tensor(&[], &[1.0])))),
        ("ints", list(|l| l.i = vec![1, 2])),
        ("strs", list(|l| l.s = vec![b"a".to_vec()])),
        ("floats", list(|l| l.f = vec![0.5])),
        ("f", attr(V::F(0.1))),
        ("s", attr(V::S(vec![b'o', 0xff, b'k']))),
        ("b", attr(V::B(true))),
        ("p", attr(V::Placeholder("T".into()))),
    ] {
        node.attr.insert(key.into(), value);
    }
    node.attr
        .insert("none".into(), proto::AttrValue { value: None });
    let attrs = extract::attrs(&node).unwrap();
    let expected: HashMap<String, Attr> = [
        ("t", Attr::Str("float32".into())),
        ("r", Attr::Str("float32_ref".into())),
        ("known", Attr::Ints(vec![-1, 3])),
        ("ints", Attr::Ints(vec![1, 2])),
        ("floats", Attr::Ints(vec![])),
        ("f", Attr::Float(f64::from(0.1f32))),
        ("s", Attr::Str("o\u{fffd}k".into())),
        ("b", Attr::Bool(true)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(attrs, expected);
    node.attr.insert("bad".into(), attr(V::Type(77)));
    assert!(extract::attrs(&node)
        .unwrap_err()
        .contains("unknown dtype enum 77"));
}

#[test]
fn inputs_parse_as_tensorflow_names_them() {
    assert_eq!(extract::parse_input("a/b").unwrap(), Some(("a/b", 0)));
    assert_eq!(extract::parse_input("a/b:2").unwrap(), Some(("a/b", 2)));
    assert_eq!(extract::parse_input("^a/b").unwrap(), None);
    assert!(extract::parse_input("a:b").is_err());
    assert!(extract::parse_input("a:+1").is_err());
    assert!(extract::parse_input("a:").is_err());
}

// ---- The TensorBundle, with tables written here ----

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A LevelDB block: each entry sharing no prefix, one restart point.
fn block(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in entries {
        varint(&mut out, 0);
        varint(&mut out, k.len() as u64);
        varint(&mut out, v.len() as u64);
        out.extend_from_slice(k);
        out.extend_from_slice(v);
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    out
}

/// Append a block and its trailer; its handle.
fn push_block(file: &mut Vec<u8>, contents: &[u8], kind: u8) -> Vec<u8> {
    let mut handle = Vec::new();
    varint(&mut handle, file.len() as u64);
    varint(&mut handle, contents.len() as u64);
    file.extend_from_slice(contents);
    file.push(kind);
    let crc = crc32c::crc32c_append(crc32c::crc32c(contents), &[kind]);
    file.extend_from_slice(&mask(crc).to_le_bytes());
    handle
}

/// A table of one data block (compression `kind`), as TensorFlow's writer lays it out.
fn table(entries: &[(Vec<u8>, Vec<u8>)], kind: u8) -> Vec<u8> {
    let mut file = Vec::new();
    let data = push_block(&mut file, &block(entries), kind);
    let meta = push_block(&mut file, &block(&[]), 0);
    let last = entries.last().map(|(k, _)| k.clone()).unwrap_or_default();
    let index = push_block(&mut file, &block(&[(last, data)]), 0);
    let mut footer = [meta, index].concat();
    footer.resize(40, 0);
    footer.extend_from_slice(&0xdb47_7524_8b80_fb57u64.to_le_bytes());
    file.extend_from_slice(&footer);
    file
}

fn header(endianness: i32) -> (Vec<u8>, Vec<u8>) {
    let header = proto::BundleHeaderProto {
        num_shards: 1,
        endianness,
        version: Some(proto::VersionDef {
            producer: 1,
            ..Default::default()
        }),
    };
    (Vec::new(), header.encode_to_vec())
}

fn entry(key: &str, dtype: i32, shape: &[i64], data: &[u8], offset: i64) -> (Vec<u8>, Vec<u8>) {
    let e = proto::BundleEntryProto {
        dtype,
        shape: float_tensor(shape, &[]).tensor_shape,
        shard_id: 0,
        offset,
        size: data.len() as i64,
        crc32c: mask(crc32c::crc32c(data)),
        slices: Vec::new(),
    };
    (key.as_bytes().to_vec(), e.encode_to_vec())
}

/// A scratch folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("spinfast-savedmodel-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("variables")).unwrap();
        Self(dir)
    }

    fn prefix(&self) -> PathBuf {
        self.0.join("variables").join("variables")
    }

    fn write(&self, rel: &str, bytes: &[u8]) {
        std::fs::write(self.0.join(rel), bytes).unwrap();
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const DATA: &str = "variables/variables.data-00000-of-00001";

#[test]
fn bundle_reads_each_dtype() {
    let s = Scratch::new("dtypes");
    let f32s: Vec<u8> = [1.5f32, -2.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let f64s: Vec<u8> = 0.25f64.to_le_bytes().to_vec();
    let i32s: Vec<u8> = [-3i32, 4, 5].iter().flat_map(|v| v.to_le_bytes()).collect();
    let i64s: Vec<u8> = (1i64 << 40).to_le_bytes().to_vec();
    let data = [f32s.clone(), f64s.clone(), i32s.clone(), i64s.clone()].concat();
    s.write(DATA, &data);
    let index = table(
        &[
            header(0),
            entry("a", 1, &[2], &f32s, 0),
            entry("b", 2, &[], &f64s, 8),
            entry("c", 3, &[3, 1], &i32s, 16),
            entry("d", 9, &[1], &i64s, 28),
        ],
        0,
    );
    let bundle = Bundle::from_index(&s.prefix(), &index).unwrap();
    assert_eq!(bundle.keys().collect::<Vec<_>>(), ["a", "b", "c", "d"]);
    let read = |k| bundle.read(k).unwrap();
    assert_eq!(
        read("a"),
        BundleTensor {
            shape: vec![2],
            data: BundleData::F32(vec![1.5, -2.0])
        }
    );
    assert_eq!(
        read("b"),
        BundleTensor {
            shape: vec![],
            data: BundleData::F64(vec![0.25])
        }
    );
    assert_eq!(
        read("c"),
        BundleTensor {
            shape: vec![3, 1],
            data: BundleData::I32(vec![-3, 4, 5])
        }
    );
    assert_eq!(
        read("d"),
        BundleTensor {
            shape: vec![1],
            data: BundleData::I64(vec![1 << 40])
        }
    );
    assert_eq!(bundle.describe("c"), Some(("int32".into(), vec![3, 1])));
    let missing = bundle.read("e").unwrap_err().to_string();
    assert!(
        missing.ends_with("variables.index: no tensor \"e\" in the checkpoint"),
        "{missing}"
    );
}

/// Each thing this reader refuses, refused with the file and the reason.
#[test]
fn bundle_refusals_name_the_file_and_the_reason() {
    let s = Scratch::new("refusals");
    let bytes: Vec<u8> = [1.0f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    s.write(DATA, &bytes);
    let good = entry("w", 1, &[2], &bytes, 0);
    let open = |index: Vec<u8>| Bundle::from_index(&s.prefix(), &index);
    let message = |r: Result<BundleTensor, SavedModelError>| r.unwrap_err().to_string();

    let big = open(table(&[header(1), good.clone()], 0)).unwrap_err();
    assert!(matches!(big, SavedModelError::Unsupported { .. }));
    assert!(big
        .to_string()
        .ends_with("variables/variables.index: the bundle was written on a big-endian machine"));

    let snappy = open(table(&[header(0), good.clone()], 1)).unwrap_err();
    assert!(matches!(snappy, SavedModelError::Unsupported { .. }));
    assert!(
        snappy
            .to_string()
            .contains("the block at offset 0 is Snappy-compressed"),
        "{snappy}"
    );

    let mut sliced = proto::BundleEntryProto::decode(good.1.as_slice()).unwrap();
    sliced.slices.push(proto::TensorSliceProto::default());
    let b = open(table(
        &[header(0), (good.0.clone(), sliced.encode_to_vec())],
        0,
    ))
    .unwrap();
    assert!(
        message(b.read("w")).contains("tensor \"w\" is a partitioned variable saved in 1 slices")
    );

    let b = open(table(&[header(0), entry("w", 7, &[2], &bytes, 0)], 0)).unwrap();
    let m = message(b.read("w"));
    assert!(m.contains("tensor \"w\" has dtype string"), "{m}");

    let b = open(table(&[header(0), entry("w", 1, &[3], &bytes, 0)], 0)).unwrap();
    assert!(message(b.read("w")).contains("8 bytes for 3 elements of 4 bytes"));

    let b = open(table(&[header(0), entry("w", 1, &[2], &bytes, 4)], 0)).unwrap();
    let m = message(b.read("w"));
    assert!(m.contains("variables.data-00000-of-00001: a tensor of 8 bytes at offset 4 runs past the end of the file (8 bytes)"), "{m}");

    // A shape of 2^60 elements claiming as many bytes: refused before any allocation.
    let mut huge = proto::BundleEntryProto::decode(good.1.as_slice()).unwrap();
    huge.shape = float_tensor(&[1 << 30, 1 << 30], &[]).tensor_shape;
    huge.size = 1 << 62;
    let b = open(table(
        &[header(0), (good.0.clone(), huge.encode_to_vec())],
        0,
    ))
    .unwrap();
    assert!(message(b.read("w")).contains("runs past the end of the file"));

    let mut corrupt = bytes.clone();
    corrupt[5] ^= 1;
    s.write(DATA, &corrupt);
    let b = open(table(&[header(0), good.clone()], 0)).unwrap();
    let m = message(b.read("w"));
    assert!(
        m.contains("data-00000-of-00001: checksum mismatch for tensor \"w\""),
        "{m}"
    );

    std::fs::remove_file(s.0.join(DATA)).unwrap();
    let err = b.read("w").unwrap_err();
    assert!(
        matches!(err, SavedModelError::Io { .. }) && err.path().ends_with(DATA),
        "{err}"
    );

    let mut flipped = table(&[header(0), good.clone()], 0);
    flipped[3] ^= 0x10;
    let m = open(flipped).unwrap_err().to_string();
    assert!(
        m.ends_with("variables.index: block checksum mismatch at offset 0"),
        "{m}"
    );

    let mut magic = table(&[header(0), good.clone()], 0);
    let n = magic.len();
    magic[n - 1] ^= 1;
    assert!(open(magic)
        .unwrap_err()
        .to_string()
        .contains("not a table: footer magic"));
    assert!(open(vec![0; 20])
        .unwrap_err()
        .to_string()
        .contains("shorter than a table footer"));
    assert!(open(table(&[good], 0))
        .unwrap_err()
        .to_string()
        .contains("bundle header"));
}

/// A flipped bit in the real checkpoint is caught by the block or tensor checksum.
#[test]
fn real_checkpoint_corruption_is_caught() {
    let agent = repo().join(BUNDLED);
    let graph = std::fs::read(agent.join("saved_model.pb")).unwrap();
    let index = std::fs::read(agent.join("variables/variables.index")).unwrap();
    let data = std::fs::read(agent.join(DATA)).unwrap();
    let s = Scratch::new("real");
    let mut flipped = index.clone();
    flipped[100] ^= 4;
    let err = SavedModel::from_bytes(&s.0, &graph, Some(&flipped))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("variables.index: block checksum mismatch at offset"),
        "{err}"
    );

    let model = SavedModel::from_bytes(&s.0, &graph, Some(&index)).unwrap();
    let bundle = model.checkpoint().unwrap();
    let (_, shape) = bundle.describe("pi/hidden0/kernel").unwrap();
    assert_eq!(shape, [4, 32]);
    let mut corrupt = data.clone();
    for byte in corrupt.iter_mut() {
        *byte ^= 0x80;
    }
    s.write(DATA, &corrupt);
    let err = model
        .signature_policy_graph("x", &["pi"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("checksum mismatch for tensor"), "{err}");
    s.write(DATA, &data);
    model.signature_policy_graph("x", &["pi"]).unwrap();
}

// ---- Mutations of the real files: errors, never a panic ----

/// How many mutated folders the mutation test reads: `SPINFAST_MUTATIONS`, or 2000.
fn mutation_cases() -> u32 {
    std::env::var("SPINFAST_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Truncate { len: usize },
    Overwrite { at: usize, bytes: Vec<u8> },
    Insert { at: usize, bytes: Vec<u8> },
}

fn mutate(file: &[u8], m: &Mutation) -> Vec<u8> {
    let mut out = file.to_vec();
    let n = file.len().max(1);
    match m {
        Mutation::Flip { at, bit } => {
            if let Some(b) = out.get_mut(at % n) {
                *b ^= 1 << bit;
            }
        }
        Mutation::Truncate { len } => out.truncate(len % n),
        Mutation::Overwrite { at, bytes } => {
            for (i, b) in bytes.iter().enumerate() {
                if let Some(slot) = out.get_mut((at % n) + i) {
                    *slot = *b;
                }
            }
        }
        Mutation::Insert { at, bytes } => {
            let at = (at % n).min(out.len());
            out.splice(at..at, bytes.iter().copied());
        }
    }
    out
}

#[test]
fn mutated_agents_give_errors_not_panics() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let agent = repo().join(BUNDLED);
    let files = [
        std::fs::read(agent.join("saved_model.pb")).unwrap(),
        std::fs::read(agent.join("variables/variables.index")).unwrap(),
        std::fs::read(agent.join(DATA)).unwrap(),
    ];
    let s = Scratch::new("mutations");
    s.write(DATA, &files[2]);
    let base = SavedModel::from_bytes(&s.0, &files[0], Some(&files[1])).unwrap();
    let mutation = prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        any::<usize>().prop_map(|len| Mutation::Truncate { len }),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(at, bytes)| Mutation::Overwrite { at, bytes }),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
    ];
    let strategy = (0usize..3, proptest::collection::vec(mutation, 1..4));
    let cases = mutation_cases();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let mut outcomes: BTreeMap<&'static str, u32> = BTreeMap::new();
    let outcomes = std::cell::RefCell::new(&mut outcomes);
    runner
        .run(&strategy, |(which, mutations)| {
            let mut file = files[which].clone();
            for m in &mutations {
                file = mutate(&file, m);
            }
            if which == 2 {
                s.write(DATA, &file);
            }
            // The graph is decoded again only when it is the file mutated; a mutated
            // index has every tensor it names read.
            let read = match which {
                0 => SavedModel::from_bytes(&s.0, &file, Some(&files[1]))
                    .and_then(|m| m.signature_policy_graph("x", &["pi", "v"]))
                    .map(Some),
                1 => Bundle::from_index(&s.prefix(), &file).and_then(|bundle| {
                    let keys: Vec<String> = bundle.keys().collect();
                    keys.iter().try_for_each(|k| bundle.read(k).map(drop))?;
                    Ok(None)
                }),
                _ => base.signature_policy_graph("x", &["pi", "v"]).map(Some),
            };
            let outcome = match read {
                Ok(policy) => {
                    // A graph read must compile and run, or be refused, without panicking.
                    if let Some(policy) = policy {
                        if let Ok(mut e) = Evaluator::new(&policy.graph, &policy.input, "v", 0) {
                            let _ = e.run(&[0.1; 8], &[2, 4]);
                        }
                    }
                    "read"
                }
                Err(SavedModelError::Io { .. }) => "io error",
                Err(SavedModelError::Malformed { .. }) => "malformed",
                Err(SavedModelError::Unsupported { .. }) => "unsupported",
                Err(SavedModelError::Missing { .. }) => "missing",
                Err(SavedModelError::Policy { .. }) => "policy",
            };
            if which == 2 {
                s.write(DATA, &files[2]);
            }
            *outcomes.borrow_mut().entry(outcome).or_default() += 1;
            Ok(())
        })
        .unwrap();
    let outcomes = outcomes.into_inner();
    let total: u32 = outcomes.values().sum();
    eprintln!("{total} mutated agents read, no panic: {outcomes:?}");
    assert_eq!(total, cases);
    assert!(
        outcomes.get("malformed").copied().unwrap_or(0) > cases / 4,
        "{outcomes:?}"
    );
}
