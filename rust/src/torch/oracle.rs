//! The numeric oracle: torch's own outputs for agents that torch saved
//! (`tests/fixtures/torch/`, made by its make_fixtures.py with torch 2.x; see
//! its README for the keys). Checks are plain functions; the test runs them on
//! every generated agent (zip and legacy file) and every shared agent, and is
//! skipped only when that folder is absent (`SPINFAST_TORCH_FIXTURES` points
//! elsewhere).
//!
//! - `state_dict.npz`: every actor tensor as read equals torch's, bit for bit;
//! - `reference.npz`: the graph's `pi/logits`, `pi/mu`, `pi/std`, `pi/log_std`,
//!   `mu` and (deterministic) `pi` match torch's on the same observations within
//!   `rtol 1e-5, atol 1e-6`; samples of `pi` have torch's distribution (class
//!   frequencies, or a two-sample Kolmogorov-Smirnov test per action dimension).

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use crate::policy::{Evaluator, OutputData};

use super::{read_model, Actor, ActorKind, Layer, Linear, TorchModel};

/// An array from a `.npy` record: float32 or int64, row-major.
#[derive(Debug, Clone)]
pub enum Npy {
    F32(Vec<usize>, Vec<f32>),
    I64(Vec<usize>, Vec<i64>),
}

impl Npy {
    fn floats(&self) -> Result<(&[usize], &[f32]), String> {
        match self {
            Npy::F32(shape, data) => Ok((shape, data)),
            Npy::I64(..) => Err("an int64 array where float32 was expected".into()),
        }
    }
}

fn parse_npy(bytes: &[u8]) -> Result<Npy, String> {
    if !bytes.starts_with(b"\x93NUMPY") || bytes.len() < 10 {
        return Err("not a .npy record".into());
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        _ => (
            u32::from_le_bytes(bytes[8..12].try_into().map_err(|_| "short header")?) as usize,
            12,
        ),
    };
    let header =
        std::str::from_utf8(&bytes[start..start + header_len]).map_err(|e| e.to_string())?;
    let field = |key: &str| {
        let at = header.find(key).ok_or(format!("no {key} in {header}"))? + key.len();
        Ok::<&str, String>(header[at..].trim_start_matches([':', ' ']))
    };
    let descr = field("'descr'")?;
    let descr = descr.split('\'').nth(1).ok_or("descr")?;
    if field("'fortran_order'")?.starts_with("True") {
        return Err("a Fortran-order array".into());
    }
    let shape_text = field("'shape'")?;
    let shape_text = &shape_text[1..shape_text.find(')').ok_or("shape")?];
    let shape: Vec<usize> = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| format!("dimension {s}")))
        .collect::<Result<_, String>>()?;
    let data = &bytes[start + header_len..];
    let n: usize = shape.iter().product();
    match descr {
        "<f4" => Ok(Npy::F32(
            shape,
            data.chunks_exact(4)
                .take(n)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4")))
                .collect(),
        )),
        "<i8" => Ok(Npy::I64(
            shape,
            data.chunks_exact(8)
                .take(n)
                .map(|c| i64::from_le_bytes(c.try_into().expect("8")))
                .collect(),
        )),
        other => Err(format!("dtype {other}")),
    }
}

/// The arrays of an `.npz` file, by name (without `.npy`).
pub fn read_npz(path: &Path) -> Result<HashMap<String, Npy>, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut archive = zip::ZipArchive::new(Cursor::new(data)).map_err(|e| e.to_string())?;
    let mut out = HashMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).map_err(|e| e.to_string())?;
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        let name = f.name().trim_end_matches(".npy").to_string();
        out.insert(
            name.clone(),
            parse_npy(&bytes).map_err(|e| format!("{name}: {e}"))?,
        );
    }
    Ok(out)
}

fn get<'a>(arrays: &'a HashMap<String, Npy>, key: &str) -> Result<&'a Npy, String> {
    arrays
        .get(key)
        .ok_or_else(|| format!("no {key} in the reference"))
}

fn close(got: &[f32], expected: &[f32], what: &str) -> Result<(), String> {
    if got.len() != expected.len() {
        return Err(format!(
            "{what}: {} values for {}",
            got.len(),
            expected.len()
        ));
    }
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        // Written so that a NaN on either side fails.
        let within = (g - e).abs() <= 1e-6 + 1e-5 * e.abs();
        if !within {
            return Err(format!("{what}[{i}]: {g} where torch gives {e}"));
        }
    }
    Ok(())
}

/// Run the graph node `node` on `obs` (rows of the model's observation size).
fn eval(
    model: &TorchModel,
    node: &str,
    obs: &[f32],
    seed: u64,
) -> Result<(Vec<usize>, OwnedOutput), String> {
    let (graph, _) = model.policy_graph().map_err(|e| e.to_string())?;
    let mut policy = Evaluator::new(&graph, "x", node, seed).map_err(|e| e.to_string())?;
    let rows = obs.len() / model.obs_dim;
    let out = policy
        .run(obs, &[rows, model.obs_dim])
        .map_err(|e| e.to_string())?;
    let data = match out.data {
        OutputData::F32(v) => OwnedOutput::F32(v.to_vec()),
        OutputData::I64(v) => OwnedOutput::I64(v.to_vec()),
    };
    Ok((out.shape.to_vec(), data))
}

enum OwnedOutput {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

fn eval_floats(model: &TorchModel, node: &str, obs: &[f32]) -> Result<Vec<f32>, String> {
    match eval(model, node, obs, 0)?.1 {
        OwnedOutput::F32(v) => Ok(v),
        OwnedOutput::I64(_) => Err(format!("{node} gave integers")),
    }
}

/// The two-sample Kolmogorov-Smirnov statistic.
fn ks_statistic(a: &[f32], b: &[f32]) -> f64 {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_by(f32::total_cmp);
    b.sort_by(f32::total_cmp);
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
    }
    d
}

/// Every actor tensor equals torch's state dict entry, bit for bit.
pub fn check_state_dict(model: &TorchModel, state: &HashMap<String, Npy>) -> Result<usize, String> {
    fn linears_of(layers: &[Layer]) -> impl Iterator<Item = &Linear> {
        layers.iter().filter_map(|l| match l {
            Layer::Linear(l) => Some(l),
            Layer::Activation(_) => None,
        })
    }
    let mut linears: Vec<&Linear> = Vec::new();
    let mut checked = 0;
    match &model.actor {
        Actor::Categorical { logits_net: m } | Actor::Deterministic { pi: m, .. } => {
            linears.extend(linears_of(&m.layers))
        }
        Actor::Gaussian { mu_net, log_std } => {
            linears.extend(linears_of(&mu_net.layers));
            let (_, expected) = get(state, "pi.log_std")?.floats()?;
            if log_std.as_slice() != expected {
                return Err("pi.log_std differs".into());
            }
            checked += 1;
        }
        Actor::SquashedGaussian {
            net,
            mu_layer,
            log_std_layer,
            ..
        } => {
            linears.extend(linears_of(&net.layers));
            linears.push(mu_layer);
            linears.push(log_std_layer);
        }
    }
    for l in linears {
        let (shape, w) = get(state, &format!("{}.weight", l.name))?.floats()?;
        if shape != [l.out_features, l.in_features] || w != l.weight.as_slice() {
            return Err(format!("{}.weight differs", l.name));
        }
        let (_, b) = get(state, &format!("{}.bias", l.name))?.floats()?;
        if Some(b) != l.bias.as_deref() {
            return Err(format!("{}.bias differs", l.name));
        }
        checked += 2;
    }
    Ok(checked)
}

/// The graph's values and samples match torch's reference outputs.
pub fn check_reference(model: &TorchModel, reference: &HashMap<String, Npy>) -> Result<(), String> {
    let (obs_shape, obs) = get(reference, "obs")?.floats()?;
    if obs_shape.get(1) != Some(&model.obs_dim) {
        return Err(format!(
            "observations of shape {obs_shape:?} for obs_dim {}",
            model.obs_dim
        ));
    }
    let (_, sample_obs) = get(reference, "sample_obs")?.floats()?;
    let kind = if reference.contains_key("logits") {
        ActorKind::Categorical
    } else if reference.contains_key("act") && reference.contains_key("mu") {
        ActorKind::SquashedGaussian
    } else if reference.contains_key("act") {
        ActorKind::Deterministic
    } else {
        ActorKind::Gaussian
    };
    if model.kind() != kind {
        return Err(format!(
            "read as {:?}, torch's reference is {kind:?}",
            model.kind()
        ));
    }
    let floats = |key: &str| get(reference, key).and_then(|a| a.floats().map(|(_, d)| d.to_vec()));
    match kind {
        ActorKind::Categorical => close(
            &eval_floats(model, "pi/logits", obs)?,
            &floats("logits")?,
            "logits",
        )?,
        ActorKind::Gaussian => {
            close(&eval_floats(model, "pi/mu", obs)?, &floats("mu")?, "mu")?;
            close(&eval_floats(model, "pi/std", obs)?, &floats("std")?, "std")?;
        }
        ActorKind::Deterministic => close(&eval_floats(model, "pi", obs)?, &floats("act")?, "act")?,
        ActorKind::SquashedGaussian => {
            close(
                &eval_floats(model, "mu", obs)?,
                &floats("act")?,
                "act (deterministic)",
            )?;
            close(&eval_floats(model, "pi/mu", obs)?, &floats("mu")?, "mu")?;
            close(
                &eval_floats(model, "pi/log_std", obs)?,
                &floats("log_std")?,
                "log_std",
            )?;
        }
    }
    if let Actor::Deterministic { act_limit, .. } | Actor::SquashedGaussian { act_limit, .. } =
        &model.actor
    {
        close(&[*act_limit], &floats("act_limit")?, "act_limit")?;
    }

    // Samples on sample_obs, as many as torch drew.
    let Some(samples) = reference.get("sample_act") else {
        return Ok(());
    };
    let rows = match samples {
        Npy::F32(shape, _) | Npy::I64(shape, _) => shape[0],
    };
    // Twice torch's number of draws (more would be sharper, and slow in debug builds).
    let ours_rows = 2 * rows;
    let batch: Vec<f32> = sample_obs
        .iter()
        .copied()
        .cycle()
        .take(ours_rows * model.obs_dim)
        .collect();
    let (_, ours) = eval(model, "pi", &batch, 12345)?;
    match (samples, ours) {
        (Npy::I64(_, theirs), OwnedOutput::I64(ours)) => {
            for class in 0..model.act_dim as i64 {
                let p1 = ours.iter().filter(|&&a| a == class).count() as f64 / ours_rows as f64;
                let p2 = theirs.iter().filter(|&&a| a == class).count() as f64 / rows as f64;
                let p = (p1 + p2) / 2.0;
                let spread = 1.0 / ours_rows as f64 + 1.0 / rows as f64;
                let tol = 5.0 * (p * (1.0 - p) * spread).sqrt() + 1e-9;
                if (p1 - p2).abs() > tol {
                    return Err(format!("action {class}: drawn {p1}, torch {p2}"));
                }
            }
        }
        (Npy::F32(shape, theirs), OwnedOutput::F32(ours)) => {
            let cols = shape.get(1).copied().unwrap_or(1);
            let (n, m) = (ours_rows as f64, rows as f64);
            // Two-sample KS at significance 1e-4: c(a) = sqrt(-ln(a / 2) / 2).
            let limit = (-(1e-4f64 / 2.0).ln() / 2.0).sqrt() * ((n + m) / (n * m)).sqrt();
            for c in 0..cols {
                let a: Vec<f32> = ours.iter().skip(c).step_by(cols).copied().collect();
                let b: Vec<f32> = theirs.iter().skip(c).step_by(cols).copied().collect();
                let d = ks_statistic(&a, &b);
                if d > limit {
                    return Err(format!("action dimension {c}: KS distance {d} > {limit}"));
                }
            }
        }
        _ => return Err("samples of another type than torch's".into()),
    }
    Ok(())
}

fn fixtures_dir() -> PathBuf {
    std::env::var_os("SPINFAST_TORCH_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch"))
}

#[test]
fn models_match_torch_reference_outputs() {
    let dir = fixtures_dir();
    if !dir.is_dir() {
        eprintln!(
            "skipped: no torch fixtures at {} (set SPINFAST_TORCH_FIXTURES)",
            dir.display()
        );
        return;
    }
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut agents: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("reference.npz").is_file())
        .collect();
    agents.sort();
    for agent in &agents {
        let reference = read_npz(&agent.join("reference.npz")).unwrap();
        let state = read_npz(&agent.join("state_dict.npz")).unwrap();
        for layout in ["zip", "legacy"] {
            let path = agent.join(layout).join("pyt_save/model.pt");
            let result = read_model(&path).map_err(|e| e.to_string()).and_then(|m| {
                check_state_dict(&m, &state)?;
                check_reference(&m, &reference)
            });
            if let Err(e) = result {
                failures.push(format!("{}: {e}", path.display()));
            }
            checked += 1;
        }
    }
    let shared = dir.join("shared_agents");
    let mut names: Vec<String> = std::fs::read_dir(&shared)
        .map(|d| {
            d.filter_map(|e| {
                e.ok()?
                    .file_name()
                    .to_str()?
                    .strip_suffix(".npz")
                    .map(String::from)
            })
            .collect()
        })
        .unwrap_or_default();
    names.sort();
    for name in &names {
        let reference = read_npz(&shared.join(format!("{name}.npz"))).unwrap();
        let path = super::tests::agent_model(name);
        let result = read_model(&path)
            .map_err(|e| e.to_string())
            .and_then(|m| check_reference(&m, &reference));
        if let Err(e) = result {
            failures.push(format!("{}: {e}", path.display()));
        }
        checked += 1;
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} differ from torch:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 14 + 7, "only {checked} models checked");
    eprintln!(
        "{checked} models match torch ({} generated agents x 2 layouts, {} shared)",
        agents.len(),
        names.len()
    );
}
