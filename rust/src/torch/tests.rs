//! The reader against independent oracles: the real agents' facts as
//! PROVENANCE.tsv records them, fixtures written by CPython's pickler with
//! weights given by formulas (testdata/make_fixtures.py), hand-computed network
//! outputs, and crafted malicious or broken files.

use std::io::{Cursor, Write};
use std::path::PathBuf;

use crate::policy::{Evaluator, OutputData};

use super::pickle::{self, Arena, NoPersistentIds, PickleError};
use super::*;

pub(super) fn shared() -> PathBuf {
    std::env::var_os("SPINFAST_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

pub(super) fn agent_model(name: &str) -> PathBuf {
    shared()
        .join("agents")
        .join(name)
        .join("pyt_save")
        .join("model.pt")
}

/// The fixtures, as make_fixtures.py wrote them.
pub(super) const FIXTURES: &[(&str, &[u8])] = &[
    (
        "gaussian_zip.pt",
        include_bytes!("testdata/gaussian_zip.pt"),
    ),
    (
        "categorical_legacy.pt",
        include_bytes!("testdata/categorical_legacy.pt"),
    ),
    ("ddpg_legacy.pt", include_bytes!("testdata/ddpg_legacy.pt")),
    ("sac_zip.pt", include_bytes!("testdata/sac_zip.pt")),
    ("td3_zip.pt", include_bytes!("testdata/td3_zip.pt")),
    ("evil_zip.pt", include_bytes!("testdata/evil_zip.pt")),
    ("evil_legacy.pt", include_bytes!("testdata/evil_legacy.pt")),
];

fn fixture(name: &str) -> &'static [u8] {
    FIXTURES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| *b)
        .expect("a fixture")
}

// ---- the formulas of make_fixtures.py, and the networks by hand -------------------

fn weight(l: usize, i: usize, j: usize) -> f32 {
    ((i * 7 + j * 3 + l) % 11) as f32 / 8.0 - 5.0 / 8.0
}

fn bias(l: usize, i: usize) -> f32 {
    ((i + l) % 5) as f32 / 4.0 - 0.5
}

/// Linear layer `l` of the formulas: `y_i = sum_j w(l, i, j) x_j + b(l, i)`.
fn dense(l: usize, out: usize, x: &[f32]) -> Vec<f32> {
    (0..out)
        .map(|i| {
            let dot: f64 = x
                .iter()
                .enumerate()
                .map(|(j, &v)| weight(l, i, j) as f64 * v as f64)
                .sum();
            (dot + bias(l, i) as f64) as f32
        })
        .collect()
}

fn map(x: Vec<f32>, f: impl Fn(f32) -> f32) -> Vec<f32> {
    x.into_iter().map(f).collect()
}

fn relu(x: f32) -> f32 {
    x.max(0.0)
}

fn floats(out: OutputData<'_>) -> Vec<f32> {
    match out {
        OutputData::F32(v) => v.to_vec(),
        OutputData::I64(_) => panic!("a float output was expected"),
    }
}

fn ints(out: OutputData<'_>) -> Vec<i64> {
    match out {
        OutputData::I64(v) => v.to_vec(),
        OutputData::F32(_) => panic!("an integer output was expected"),
    }
}

fn assert_close(got: &[f32], expected: &[f32], tol: f32) {
    assert_eq!(got.len(), expected.len(), "{got:?} vs {expected:?}");
    for (g, e) in got.iter().zip(expected) {
        assert!(
            (g - e).abs() <= tol * (1.0 + e.abs()),
            "{got:?} vs {expected:?}"
        );
    }
}

/// Run `output` on `rows` copies of `obs`.
fn run(model: &TorchModel, output: &str, obs: &[f32], rows: usize, seed: u64) -> Vec<f32> {
    let (graph, outputs) = model.policy_graph().unwrap();
    assert!(outputs.iter().any(|o| o == output), "{outputs:?}");
    let mut policy = Evaluator::new(&graph, "x", output, seed).unwrap();
    let batch: Vec<f32> = obs.iter().copied().cycle().take(obs.len() * rows).collect();
    let out = policy.run(&batch, &[rows, obs.len()]).unwrap();
    match out.data {
        OutputData::F32(v) => v.to_vec(),
        OutputData::I64(v) => v.iter().map(|&i| i as f32).collect(),
    }
}

/// The Linear layers of a network, in order.
fn linears(mlp: &Mlp) -> Vec<&Linear> {
    mlp.layers
        .iter()
        .filter_map(|l| match l {
            Layer::Linear(l) => Some(l),
            Layer::Activation(_) => None,
        })
        .collect()
}

fn activations(mlp: &Mlp) -> Vec<Activation> {
    mlp.layers
        .iter()
        .filter_map(|l| match l {
            Layer::Activation(a) => Some(*a),
            Layer::Linear(_) => None,
        })
        .collect()
}

/// Every weight and bias of `layer` is the formula's (checks offsets, strides, views).
fn assert_formula(layer: &Linear, l: usize) {
    for i in 0..layer.out_features {
        for j in 0..layer.in_features {
            assert_eq!(
                layer.weight[i * layer.in_features + j],
                weight(l, i, j),
                "layer {l} weight ({i}, {j})"
            );
        }
        assert_eq!(
            layer.bias.as_ref().unwrap()[i],
            bias(l, i),
            "layer {l} bias {i}"
        );
    }
}

/// Mean and standard deviation of column `c` of rows of `cols` values.
fn column_stats(values: &[f32], cols: usize, c: usize) -> (f64, f64) {
    let col: Vec<f64> = values
        .iter()
        .skip(c)
        .step_by(cols)
        .map(|&v| v as f64)
        .collect();
    let n = col.len() as f64;
    let mean = col.iter().sum::<f64>() / n;
    let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// `samples` (n rows) are `center + std * N(0, 1)` per column, within sampling error.
fn assert_normal(samples: &[f32], center: &[f32], std: &[f32]) {
    let cols = center.len();
    let n = (samples.len() / cols) as f64;
    for c in 0..cols {
        let (mean, sd) = column_stats(samples, cols, c);
        let s = std[c] as f64;
        assert!(
            (mean - center[c] as f64).abs() < 5.0 * s / n.sqrt(),
            "column {c}: mean {mean} for {}",
            center[c]
        );
        assert!((sd / s - 1.0).abs() < 0.06, "column {c}: std {sd} for {s}");
    }
}

// ---- fixtures ----------------------------------------------------------------------

#[test]
fn gaussian_zip_reads_strided_weights_and_samples_around_mu() {
    let model = read_model_bytes("gaussian_zip.pt", fixture("gaussian_zip.pt")).unwrap();
    assert_eq!(model.kind(), ActorKind::Gaussian);
    assert_eq!(
        model.format,
        Format::Zip {
            prefix: "gaussian_zip".into()
        }
    );
    assert_eq!(
        (model.class.as_str(), model.obs_dim, model.act_dim),
        ("PPO.core.MLPActorCritic", 3, 2)
    );
    assert_eq!(model.actor_class, "PPO.core.MLPGaussianActor");
    let Actor::Gaussian { mu_net, log_std } = &model.actor else {
        panic!("{:?}", model.actor)
    };
    // Layer 0 is a transposed view sharing its storage with its bias at an offset.
    let layers = linears(mu_net);
    assert_formula(layers[0], 0);
    assert_formula(layers[1], 1);
    assert_eq!(log_std, &[-0.5, -1.0]);
    assert_eq!(
        activations(mu_net),
        [Activation::Tanh, Activation::Identity]
    );

    let obs = [0.5, -1.0, 2.0];
    let mu = dense(1, 2, &map(dense(0, 4, &obs), f32::tanh));
    let std = [(-0.5f32).exp(), (-1.0f32).exp()];
    let samples = run(&model, "pi", &obs, 20_000, 1);
    assert_normal(&samples, &mu, &std);
}

#[test]
fn categorical_legacy_reads_storage_views_and_draws_by_softmax() {
    let model =
        read_model_bytes("categorical_legacy.pt", fixture("categorical_legacy.pt")).unwrap();
    assert_eq!(model.kind(), ActorKind::Categorical);
    assert_eq!(model.format, Format::Legacy);
    assert_eq!(
        (model.class.as_str(), model.obs_dim, model.act_dim),
        ("core.MLPActorCritic", 4, 3)
    );
    let Actor::Categorical { logits_net } = &model.actor else {
        panic!()
    };
    for (l, layer) in linears(logits_net).into_iter().enumerate() {
        assert_formula(layer, l); // layer 1 is a view into a larger storage
    }

    let obs = [0.3, -0.2, 0.1, 0.4];
    let logits = dense(2, 3, &map(dense(1, 5, &map(dense(0, 5, &obs), relu)), relu));
    let max = logits.iter().copied().fold(f32::MIN, f32::max);
    let z: f32 = logits.iter().map(|l| (l - max).exp()).sum();
    let p: Vec<f64> = logits
        .iter()
        .map(|l| ((l - max).exp() / z) as f64)
        .collect();
    let n = 30_000;
    let (graph, _) = model.policy_graph().unwrap();
    let mut policy = Evaluator::new(&graph, "x", "pi", 7).unwrap();
    let batch: Vec<f32> = obs.iter().copied().cycle().take(4 * n).collect();
    let out = policy.run(&batch, &[n, 4]).unwrap();
    assert_eq!(out.shape, &[n]);
    let draws = ints(out.data);
    for (c, &pc) in p.iter().enumerate() {
        let freq = draws.iter().filter(|&&d| d == c as i64).count() as f64 / n as f64;
        let sigma = (pc * (1.0 - pc) / n as f64).sqrt();
        assert!(
            (freq - pc).abs() < 5.0 * sigma + 1e-9,
            "class {c}: {freq} vs {pc}"
        );
    }
}

#[test]
fn ddpg_legacy_from_cuda_with_numpy2_act_limit_is_exact() {
    let model = read_model_bytes("ddpg_legacy.pt", fixture("ddpg_legacy.pt")).unwrap();
    assert_eq!(model.kind(), ActorKind::Deterministic);
    let Actor::Deterministic { pi, act_limit } = &model.actor else {
        panic!()
    };
    assert_eq!(*act_limit, 2.0);
    assert_eq!(
        activations(pi),
        [Activation::Relu, Activation::Tanh],
        "the Sequential ends in Tanh"
    );
    for obs in [[0.1, 0.2, 0.3], [-3.0, 1.0, 0.5]] {
        let expected = map(dense(1, 2, &map(dense(0, 6, &obs), relu)), |v| {
            2.0 * v.tanh()
        });
        assert_close(&run(&model, "pi", &obs, 1, 0), &expected, 1e-6);
        // A batch gives the same rows, and there is no randomness.
        let rows = run(&model, "pi", &obs, 3, 9);
        assert_close(&rows, &expected.repeat(3), 1e-6);
    }
}

#[test]
fn sac_zip_protocol4_clamps_log_std_and_squashes() {
    let model = read_model_bytes("sac_zip.pt", fixture("sac_zip.pt")).unwrap();
    assert_eq!(model.kind(), ActorKind::SquashedGaussian);
    assert_eq!(
        model.format,
        Format::Zip {
            prefix: "archive".into()
        }
    );
    let Actor::SquashedGaussian { net, act_limit, .. } = &model.actor else {
        panic!()
    };
    assert_eq!(*act_limit, 2.0, "a 0-d float64 tensor on cuda:0");
    assert_eq!(
        activations(net),
        [Activation::LeakyRelu(0.2), Activation::LeakyRelu(0.2)]
    );
    let leaky = |v: f32| if v < 0.0 { 0.2 * v } else { v };
    let mut clamped = 0;
    for obs in [[0.2, -0.4, 0.6], [9.0, -8.0, 7.0], [-6.0, 5.0, -9.0]] {
        let h = map(dense(1, 4, &map(dense(0, 4, &obs), leaky)), leaky);
        let mu = dense(2, 2, &h);
        let raw_log_std = dense(3, 2, &h);
        clamped += raw_log_std.iter().filter(|&&v| v > 2.0).count();
        let std = map(raw_log_std, |v| v.clamp(-20.0, 2.0).exp());
        let expected_mu = map(mu.clone(), |v| 2.0 * v.tanh());
        assert_close(&run(&model, "mu", &obs, 1, 0), &expected_mu, 1e-6);
        // pi = 2 tanh(mu + std * eps): P(pi <= t) = Phi((atanh(t / 2) - mu) / std).
        let n = 20_000;
        let samples = run(&model, "pi", &obs, n, 3);
        assert!(samples.iter().all(|a| a.abs() <= 2.0));
        for c in 0..2 {
            for t in [-1.9f32, -1.0, 0.0, 1.0, 1.9] {
                let z = (((t / 2.0).atanh() - mu[c]) / std[c]) as f64;
                let p = normal_cdf(z);
                let below = samples
                    .iter()
                    .skip(c)
                    .step_by(2)
                    .filter(|&&a| a <= t)
                    .count();
                let freq = below as f64 / n as f64;
                let tol = 5.0 * (p * (1.0 - p) / n as f64).sqrt() + 1e-3;
                assert!(
                    (freq - p).abs() < tol,
                    "obs {obs:?} column {c} t {t}: {freq} vs {p}"
                );
            }
        }
    }
    assert!(
        clamped > 0,
        "no log_std above the clamp: the test would not see it"
    );
}

/// The standard normal CDF, from erfc by Abramowitz and Stegun 7.1.26 (error < 1.5e-7).
fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.3275911 * x);
    let poly = t
        * (0.254829592
            + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    let erfc = poly * (-x * x).exp();
    if z >= 0.0 {
        1.0 - 0.5 * erfc
    } else {
        0.5 * erfc
    }
}

#[test]
fn td3_zip_protocol5_with_numpy1_act_limit_and_elu() {
    let model = read_model_bytes("td3_zip.pt", fixture("td3_zip.pt")).unwrap();
    assert_eq!(
        model.format,
        Format::Zip {
            prefix: "some folder".into()
        }
    );
    let Actor::Deterministic { pi, act_limit } = &model.actor else {
        panic!()
    };
    assert_eq!(*act_limit, 1.5, "a numpy.core float64 scalar");
    assert_eq!(activations(pi), [Activation::Elu, Activation::Tanh]);
    let elu = |v: f32| if v < 0.0 { v.exp_m1() } else { v };
    for obs in [[0.7, -0.3], [-4.0, -2.0]] {
        let expected = map(dense(1, 1, &map(dense(0, 3, &obs), elu)), |v| {
            1.5 * v.tanh()
        });
        assert_close(&run(&model, "pi", &obs, 1, 0), &expected, 1e-6);
    }
}

// ---- malicious and broken files ---------------------------------------------------------

/// The file make_fixtures.py's os.system call would create.
const MARKER: &str = "/tmp/spinfast_torch_fixture_was_executed";

#[test]
fn os_system_in_a_zip_or_legacy_file_is_refused_and_nothing_runs() {
    let _ = std::fs::remove_file(MARKER);
    for (name, place) in [
        ("evil_zip.pt", "archive/data.pkl, byte "),
        ("evil_legacy.pt", "legacy object pickle, byte "),
    ] {
        let err = read_model_bytes(name, fixture(name)).unwrap_err();
        let TorchError::Refused { what, .. } = &err else {
            panic!("{err}")
        };
        // CPython pickles os.system under its real module, posix.
        assert_eq!(what, "posix.system", "{err}");
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("{name}: {place}")),
            "{message}"
        );
    }
    assert!(!std::path::Path::new(MARKER).exists(), "something ran");
}

/// A pickle written opcode by opcode.
struct P(Vec<u8>);

impl P {
    fn new() -> Self {
        P(vec![0x80, 2])
    }

    fn op(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }

    fn global(self, module: &str, name: &str) -> Self {
        self.op(b"c")
            .op(module.as_bytes())
            .op(b"\n")
            .op(name.as_bytes())
            .op(b"\n")
    }

    fn str(self, s: &str) -> Self {
        self.op(b"X")
            .op(&(s.len() as u32).to_le_bytes())
            .op(s.as_bytes())
    }

    fn stop(self) -> Vec<u8> {
        self.op(b".").0
    }
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in entries {
        w.start_file(*name, options).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A legacy file around `object` (a pickle with no storages).
fn legacy_of(object: &[u8]) -> Vec<u8> {
    let mut out = vec![0x80, 2, 0x8a, 10];
    out.extend_from_slice(&0x1950a86a20f9469cfc6c_u128.to_le_bytes()[..10]);
    out.push(b'.');
    out.extend_from_slice(b"\x80\x02M\xe9\x03.");
    out.extend(P::new().op(b"}").str("little_endian").op(b"\x88s").stop());
    out.extend_from_slice(object);
    out.extend(P::new().op(b"]").stop());
    out
}

fn read_zip_pickle(pkl: &[u8]) -> Result<TorchModel, TorchError> {
    read_model_bytes("crafted.pt", &zip_of(&[("archive/data.pkl", pkl)]))
}

#[test]
fn callables_that_would_run_code_are_refused_by_name() {
    let calls = [
        ("os", "system"),
        ("posix", "system"),
        ("nt", "system"),
        ("builtins", "eval"),
        ("__builtin__", "exec"),
        ("builtins", "getattr"),
        ("subprocess", "Popen"),
        ("subprocess", "check_output"),
        ("importlib", "import_module"),
        ("torch", "load"),
        ("numpy", "load"),
        ("torch.hub", "load"),
    ];
    for (module, name) in calls {
        let pkl = P::new()
            .global(module, name)
            .str("touch /tmp/spinfast_torch_crafted")
            .op(b"\x85R")
            .stop();
        for (file, result) in [
            ("zip", read_zip_pickle(&pkl)),
            ("legacy", read_model_bytes("crafted.pt", &legacy_of(&pkl))),
        ] {
            let err = result.unwrap_err();
            let shown = module.replace("__builtin__", "builtins");
            let TorchError::Refused { what, .. } = &err else {
                panic!("{file}: {err}")
            };
            assert_eq!(what, &format!("{shown}.{name}"), "{file}: {err}");
        }
    }
    // NEWOBJ of a function, or REDUCE of a lowercase name with no arguments.
    let newobj = P::new().global("torch", "manual_seed").op(b")\x81").stop();
    assert!(matches!(
        read_zip_pickle(&newobj),
        Err(TorchError::Refused { .. })
    ));
    let call = P::new().global("torch", "manual_seed").op(b")R").stop();
    assert!(matches!(
        read_zip_pickle(&call),
        Err(TorchError::Refused { .. })
    ));
    assert!(!std::path::Path::new("/tmp/spinfast_torch_crafted").exists());
}

#[test]
fn unknown_opcodes_and_protocols_are_refused_by_name() {
    for (pkl, named) in [
        (P::new().op(b"I1\n").stop(), "INT"),
        (P::new().op(b"(ios\nsystem\n").stop(), "INST"),
        (P::new().op(b"\x82\x01").stop(), "EXT1"),
        (vec![0x80, 6, b'N', b'.'], "pickle protocol 6"),
    ] {
        let err = read_zip_pickle(&pkl).unwrap_err();
        assert!(err.to_string().contains(named), "{err}");
    }
}

#[test]
fn length_fields_beyond_the_input_are_errors_not_allocations() {
    let cases: Vec<Vec<u8>> = vec![
        P::new().op(b"X\xff\xff\xff\xff").stop(),
        P::new().op(b"\x8d\xff\xff\xff\xff\xff\xff\xff\x7f").stop(),
        P::new().op(b"\x8e\x00\x00\x00\x00\x00\x00\x00\x80").stop(),
        P::new().op(b"\x95\xff\xff\xff\xff\xff\xff\xff\xff").stop(),
        P::new().op(b"\x8b\xff\xff\xff\x7f").stop(),
        P::new().op(b"j\xff\xff\xff\xff").stop(),
    ];
    for pkl in cases {
        let mut arena = Arena::new();
        let err = pickle::load(&pkl, 0, &mut arena, &mut NoPersistentIds).unwrap_err();
        assert!(matches!(err, PickleError::Malformed { .. }), "{err:?}");
    }
    // A storage that claims more elements than the file has.
    let pkl = P::new()
        .global("torch._utils", "_rebuild_tensor_v2")
        .op(b"(")
        .op(b"(")
        .str("storage")
        .global("torch", "FloatStorage")
        .str("0")
        .str("cpu")
        .op(b"J\xff\xff\xff\x7f")
        .op(b"tQK\x00K\x01\x85K\x01\x85\x89}tR")
        .stop();
    let err = read_model_bytes(
        "crafted.pt",
        &zip_of(&[("archive/data.pkl", &pkl), ("archive/data/0", &[0; 8])]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("storage \"0\""), "{err}");
}

#[test]
fn deep_nesting_and_cycles_do_not_exhaust_the_stack() {
    // 200,000 nested one-tuples, then a list that contains itself.
    let mut deep = P::new().op(b"N");
    deep.0.extend(std::iter::repeat_n(0x85u8, 200_000));
    let deep = deep.stop();
    let err = read_zip_pickle(&deep).unwrap_err();
    assert!(matches!(err, TorchError::NotActorCritic { .. }), "{err}");
    let cycle = P::new().op(b"]q\x00h\x00a").stop();
    let err = read_zip_pickle(&cycle).unwrap_err();
    assert!(matches!(err, TorchError::NotActorCritic { .. }), "{err}");
}

#[test]
fn structure_that_is_not_an_actor_critic_is_named() {
    // The Gaussian fixture's pickle with the actor's child renamed mu_net -> mu_nut.
    let data = fixture("gaussian_zip.pt");
    let mut archive = zip::ZipArchive::new(Cursor::new(data)).unwrap();
    let mut pkl = Vec::new();
    std::io::Read::read_to_end(
        &mut archive.by_name("gaussian_zip/data.pkl").unwrap(),
        &mut pkl,
    )
    .unwrap();
    let at = pkl.windows(6).position(|w| w == b"mu_net").unwrap();
    pkl[at + 4] = b'u';
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut bytes).unwrap();
        let name = f.name().to_string();
        entries.push((
            name.clone(),
            if name.ends_with("data.pkl") {
                pkl.clone()
            } else {
                bytes
            },
        ));
    }
    let refs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let err = read_model_bytes("renamed.pt", &zip_of(&refs)).unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("renamed.pt: not a Spinning Up actor-critic: found PPO.core.MLPActorCritic with children {pi: PPO.core.MLPGaussianActor with children {mu_nut: torch.nn.modules.container.Sequential}, v: PPO.core.MLPCritic"),
        "{message}"
    );

    // A big byteorder record, a TorchScript archive, no data.pkl.
    let with = |extra: (&str, &[u8])| {
        let mut e = refs.clone();
        e.push(extra);
        read_model_bytes("x.pt", &zip_of(&e))
            .unwrap_err()
            .to_string()
    };
    let mut big = refs.clone();
    big.retain(|(n, _)| !n.ends_with("byteorder"));
    big.push(("gaussian_zip/byteorder", b"big"));
    let err = read_model_bytes("x.pt", &zip_of(&big))
        .unwrap_err()
        .to_string();
    assert!(err.contains("refused big-endian storages"), "{err}");
    let err = with(("gaussian_zip/constants.pkl", b""));
    assert!(err.contains("TorchScript"), "{err}");
    let err = read_model_bytes("x.pt", &zip_of(&[("a/b/data.pkl", b".")])).unwrap_err();
    assert!(err.to_string().contains("no <folder>/data.pkl"), "{err}");
}

#[test]
fn an_activation_without_a_kernel_is_named() {
    // ReLU -> GELU in the legacy categorical fixture (same length; no checksum).
    let mut data = fixture("categorical_legacy.pt").to_vec();
    let at = data.windows(11).position(|w| w == b"activation\n").unwrap();
    let name = at + 11;
    assert_eq!(&data[name..name + 4], b"ReLU");
    data[name..name + 4].copy_from_slice(b"GELU");
    let err = read_model_bytes("gelu.pt", &data).unwrap_err().to_string();
    assert!(
        err.starts_with("gelu.pt: pi.logits_net.1 is torch.nn.modules.activation.GELU, which has no native equivalent"),
        "{err}"
    );
}

// ---- the real agents ---------------------------------------------------------------------

/// What PROVENANCE.tsv says of each PyTorch agent: kind, obs and action sizes,
/// layout (and zip folder), classes.
type AgentFacts = (
    &'static str,
    ActorKind,
    usize,
    usize,
    Option<&'static str>,
    &'static str,
);

const AGENTS: &[AgentFacts] = &[
    (
        "rainbow_ppo_invdpend",
        ActorKind::Gaussian,
        11,
        1,
        None,
        "PPO.core.MLPActorCritic",
    ),
    (
        "rainbow_sac_reacher",
        ActorKind::SquashedGaussian,
        11,
        2,
        None,
        "SAC.core.MLPActorCritic",
    ),
    (
        "rainbow_td3_invdpend",
        ActorKind::Deterministic,
        11,
        1,
        None,
        "TD3.core.MLPActorCritic",
    ),
    (
        "rainbow_ddpg_walker2d",
        ActorKind::Deterministic,
        17,
        6,
        None,
        "DDPG.core.MLPActorCritic",
    ),
    (
        "pei_trpo_cartpole",
        ActorKind::Categorical,
        4,
        2,
        Some("archive"),
        "spinup.alogos.trpo.core.MLPActorCritic",
    ),
    (
        "hw8_ppo",
        ActorKind::Gaussian,
        103,
        8,
        Some("archive"),
        "core.MLPActorCritic",
    ),
    (
        "nlietzow_sac_cheetah",
        ActorKind::SquashedGaussian,
        17,
        6,
        Some("model"),
        "src.sac.core.MLPActorCritic",
    ),
];

#[test]
fn every_shared_pytorch_agent_loads_and_runs() {
    for &(name, kind, obs, act, zip_folder, class) in AGENTS {
        let path = agent_model(name);
        let model = read_model(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(model.kind(), kind, "{name}");
        assert_eq!((model.obs_dim, model.act_dim), (obs, act), "{name}");
        assert_eq!(model.class, class, "{name}");
        let format = match zip_folder {
            Some(f) => Format::Zip { prefix: f.into() },
            None => Format::Legacy,
        };
        assert_eq!(model.format, format, "{name}");
        let (graph, outputs) = model.policy_graph().unwrap();
        assert_eq!(outputs, kind.outputs(), "{name}");
        for output in &outputs {
            let mut policy = Evaluator::new(&graph, "x", output, 0).unwrap();
            let batch: Vec<f32> = (0..3 * obs).map(|i| (i % 7) as f32 * 0.1 - 0.3).collect();
            let out = policy.run(&batch, &[3, obs]).unwrap();
            if kind == ActorKind::Categorical {
                assert_eq!(out.shape, &[3]);
                assert!(ints(out.data).iter().all(|&a| (0..act as i64).contains(&a)));
            } else {
                assert_eq!(out.shape, &[3, act], "{name} {output}");
                assert!(floats(out.data).iter().all(|a| a.is_finite()));
            }
        }
    }
}

/// `y = W x + b` with ndarray, from a layer as read.
fn ndarray_linear(layer: &Linear, x: &ndarray::Array1<f32>) -> ndarray::Array1<f32> {
    let w = ndarray::ArrayView2::from_shape((layer.out_features, layer.in_features), &layer.weight)
        .unwrap();
    let y = w.dot(x);
    match &layer.bias {
        Some(b) => y + ndarray::ArrayView1::from(b),
        None => y,
    }
}

#[test]
fn real_ddpg_and_sac_match_their_networks_computed_by_hand() {
    // DDPG: pi = act_limit * tanh(W3 relu(W2 relu(W1 x + b1) + b2) + b3).
    let model = read_model(&agent_model("rainbow_ddpg_walker2d")).unwrap();
    let Actor::Deterministic { pi, act_limit } = &model.actor else {
        panic!()
    };
    assert_eq!(*act_limit, 1.0, "Walker2d's action bound");
    let l = linears(pi);
    assert_eq!(l.len(), 3);
    let x = ndarray::Array1::from_iter((0..17).map(|i| ((i * 5) % 9) as f32 * 0.2 - 0.8));
    let h1 = ndarray_linear(l[0], &x).mapv(relu);
    let h2 = ndarray_linear(l[1], &h1).mapv(relu);
    let expected = ndarray_linear(l[2], &h2).mapv(|v| act_limit * v.tanh());
    let got = run(&model, "pi", x.as_slice().unwrap(), 1, 0);
    assert_close(&got, expected.as_slice().unwrap(), 1e-5);

    // SAC: mu = act_limit * tanh(mu_layer(relu(W2 relu(W1 x + b1) + b2))).
    let model = read_model(&agent_model("nlietzow_sac_cheetah")).unwrap();
    let Actor::SquashedGaussian {
        net,
        mu_layer,
        act_limit,
        ..
    } = &model.actor
    else {
        panic!()
    };
    let l = linears(net);
    let h1 = ndarray_linear(l[0], &x).mapv(relu);
    let h2 = ndarray_linear(l[1], &h1).mapv(relu);
    let expected = ndarray_linear(mu_layer, &h2).mapv(|v| act_limit * v.tanh());
    assert_close(
        &run(&model, "mu", x.as_slice().unwrap(), 1, 0),
        expected.as_slice().unwrap(),
        1e-5,
    );
}

#[test]
fn describe_names_classes_kind_sizes_and_format() {
    let model = read_model(&agent_model("hw8_ppo")).unwrap();
    assert_eq!(
        model.describe(),
        "core.MLPActorCritic (pi: core.MLPGaussianActor, v: core.MLPCritic), \
         pi = core.MLPGaussianActor: Gaussian policy (VPG/PPO/TRPO), obs 103 -> act 8, \
         hidden 64x64x64x64 (Tanh), zip (archive/) file"
    );
}

/// Reading and compiling time, per shared agent: `cargo test --release --lib
/// torch::tests::timing -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, for release builds"]
fn timing_read_and_compile() {
    for &(name, ..) in AGENTS {
        let path = agent_model(name);
        let mut best = std::time::Duration::MAX;
        for _ in 0..30 {
            let start = std::time::Instant::now();
            let model = read_model(&path).unwrap();
            let (graph, outputs) = model.policy_graph().unwrap();
            for output in &outputs {
                let mut policy = Evaluator::new(&graph, "x", output, 0).unwrap();
                policy.prepare(&[1, model.obs_dim]).unwrap();
            }
            best = best.min(start.elapsed());
        }
        let size = std::fs::metadata(&path).unwrap().len();
        println!("{name}: {size} bytes, read + compile {best:?} (best of 30)");
    }
}

#[test]
fn a_state_dict_instead_of_the_module_is_named() {
    let pkl = P::new()
        .global("collections", "OrderedDict")
        .op(b")R")
        .str("pi.mu_net.0.weight")
        .global("torch._utils", "_rebuild_tensor_v2")
        .op(b"((")
        .str("storage")
        .global("torch", "FloatStorage")
        .str("0")
        .str("cpu")
        .op(b"K\x02tQK\x00K\x02\x85K\x01\x85\x89}tRs")
        .stop();
    let data = zip_of(&[("sd/data.pkl", &pkl), ("sd/data/0", &[0; 8])]);
    let err = read_model_bytes("sd.pt", &data).unwrap_err().to_string();
    assert_eq!(
        err,
        "sd.pt: not a Spinning Up actor-critic: found a state dict of 1 tensors \
         (pi.mu_net.0.weight), not the whole module that Spinning Up saves"
    );
}
