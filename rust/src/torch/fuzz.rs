//! Fuzzing the readers (pickle, zip, legacy) and what follows them (model
//! recognition, graph, evaluator): random and mutated files must give an error
//! or a model, never a panic.
//!
//! `SPINFAST_FUZZ_ITERS` sets how many mutated files the seeded loop tries per
//! seed file (default 100, a few seconds in a debug build; proptest's own cases follow
//! `PROPTEST_CASES`); the count that ran is
//! printed (`cargo test fuzz -- --nocapture`).

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};

use proptest::prelude::*;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

use crate::policy::Evaluator;

use super::pickle::{self, Arena, NoPersistentIds};
use super::tests::{agent_model, FIXTURES};
use super::{read_model_bytes, TorchError};

/// Everything a caller would do with a file: read it, compile every output, run
/// it. Returns how far it got: the error's kind, or "model".
fn exercise(data: &[u8]) -> &'static str {
    let model = match read_model_bytes("fuzz.pt", data) {
        Ok(model) => model,
        Err(TorchError::Io { .. }) => return "io",
        Err(TorchError::Malformed { .. }) => return "malformed",
        Err(TorchError::Refused { .. }) => return "refused",
        Err(TorchError::NotActorCritic { .. }) => return "not an actor-critic",
        Err(TorchError::Unsupported { .. }) => return "unsupported",
        Err(TorchError::Policy { .. }) => return "policy",
    };
    let _ = model.describe();
    let Ok((graph, outputs)) = model.policy_graph() else {
        return "graph error";
    };
    for output in outputs {
        if let Ok(mut policy) = Evaluator::new(&graph, "x", &output, 0) {
            let obs = vec![0.5f32; model.obs_dim.min(1 << 16)];
            let _ = policy.run(&obs, &[1, obs.len()]);
        }
    }
    "model"
}

const INTERESTING: &[u32] = &[
    0,
    1,
    2,
    0x7f,
    0x80,
    0xff,
    0x7fff_ffff,
    0xffff_ffff,
    0x8000_0000,
];

/// One to eight random edits: bit flips, interesting bytes and lengths, deleted,
/// duplicated or inserted ranges, truncation, or bytes spliced from elsewhere.
fn mutate(data: &mut Vec<u8>, rng: &mut ChaCha8Rng) {
    let edits = rng.random_range(1..=8);
    for _ in 0..edits {
        if data.is_empty() {
            data.push(rng.random());
            continue;
        }
        let len = data.len();
        let at = rng.random_range(0..len);
        match rng.random_range(0..8) {
            0 => data[at] ^= 1 << rng.random_range(0..8),
            1 => data[at] = INTERESTING[rng.random_range(0..INTERESTING.len())] as u8,
            2 => {
                let v = INTERESTING[rng.random_range(0..INTERESTING.len())].to_le_bytes();
                let n = (len - at).min(4);
                data[at..at + n].copy_from_slice(&v[..n]);
            }
            3 => {
                let n = rng.random_range(1..=(len - at).min(64));
                data.drain(at..at + n);
            }
            4 => {
                let n = rng.random_range(1..=(len - at).min(64));
                let chunk = data[at..at + n].to_vec();
                let to = rng.random_range(0..=data.len());
                data.splice(to..to, chunk);
            }
            5 => data.truncate(at),
            6 => {
                let n = rng.random_range(1..=16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
                data.splice(at..at, bytes);
            }
            _ => {
                let from = rng.random_range(0..len);
                let n = rng.random_range(1..=(len - from).min(32)).min(len - at);
                let chunk = data[from..from + n].to_vec();
                data[at..at + n].copy_from_slice(&chunk);
            }
        }
    }
}

/// A zip's records, to mutate the pickle inside without breaking the checksums.
fn records(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(data)).expect("a zip seed");
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).expect("a record");
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).expect("readable");
            (f.name().to_string(), bytes)
        })
        .collect()
}

fn zip_of(records: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in records {
        w.start_file(name.as_str(), options).expect("a record");
        w.write_all(data).expect("written");
    }
    w.finish().expect("a zip").into_inner()
}

fn iterations() -> usize {
    std::env::var("SPINFAST_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100)
}

/// Run `exercise` on `input`, recording a panic with what reproduces it, or how
/// far it got.
fn checked(
    input: &[u8],
    what: &str,
    panics: &mut Vec<String>,
    outcomes: &mut BTreeMap<&str, usize>,
) {
    match catch_unwind(AssertUnwindSafe(|| exercise(input))) {
        Ok(outcome) => *outcomes.entry(outcome).or_default() += 1,
        Err(_) => panics.push(what.to_string()),
    }
}

#[test]
fn mutated_model_files_never_panic() {
    let iters = iterations();
    let mut seeds: Vec<(String, Vec<u8>)> = FIXTURES
        .iter()
        .map(|(n, b)| (n.to_string(), b.to_vec()))
        .collect();
    // The real agents too (the legacy ones whole; the zip ones through their
    // pickles below, since a random edit of a zip mostly breaks a checksum).
    for name in [
        "rainbow_ppo_invdpend",
        "rainbow_sac_reacher",
        "pei_trpo_cartpole",
    ] {
        let path = agent_model(name);
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        seeds.push((name.to_string(), data));
    }
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut panics = Vec::new();
    let mut outcomes = BTreeMap::new();
    let mut ran = 0usize;
    for (s, (name, seed)) in seeds.iter().enumerate() {
        let is_zip = seed.starts_with(b"PK\x03\x04");
        let recs = if is_zip { records(seed) } else { Vec::new() };
        for i in 0..iters {
            let mut rng = ChaCha8Rng::seed_from_u64((s * 1_000_003 + i) as u64);
            let input = if is_zip && rng.random_bool(0.8) {
                // Mutate one record (usually data.pkl) and zip it again.
                let mut recs = recs.clone();
                let pick = match recs.iter().position(|(n, _)| n.ends_with("data.pkl")) {
                    Some(p) if rng.random_bool(0.8) => p,
                    _ => rng.random_range(0..recs.len()),
                };
                mutate(&mut recs[pick].1, &mut rng);
                zip_of(&recs)
            } else {
                let mut data = seed.clone();
                mutate(&mut data, &mut rng);
                data
            };
            let what = format!("{name} iteration {i}");
            checked(&input, &what, &mut panics, &mut outcomes);
            ran += 1;
        }
    }
    std::panic::set_hook(previous_hook);
    println!(
        "fuzz: {ran} mutated model files, {} panics; outcomes {outcomes:?}",
        panics.len()
    );
    assert!(
        panics.is_empty(),
        "panics on: {:?}",
        &panics[..panics.len().min(10)]
    );
}

proptest! {
    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = exercise(&data);
        // The same bytes as a pickle, a zip's start and a legacy file's start.
        let mut arena = Arena::new();
        let _ = pickle::load(&data, 0, &mut arena, &mut NoPersistentIds);
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend_from_slice(&data);
        let _ = exercise(&zip);
        let mut legacy = vec![0x80, 2, 0x8a, 10];
        legacy.extend_from_slice(&data);
        let _ = exercise(&legacy);
    }

    #[test]
    fn random_opcode_streams_never_panic(ops in proptest::collection::vec(
        (prop::sample::select(b"().012NKJMXhqbRtue]}\x81\x85\x86\x87\x88\x89\x8a\x8c\x8f\x90\x91\x93\x94\x95Qslad".to_vec()), any::<u8>()),
        0..200,
    )) {
        // Opcodes with one argument byte each: random but mostly well-formed streams.
        let mut data = vec![0x80, 4];
        for (op, arg) in ops {
            data.push(op);
            data.push(arg);
        }
        data.push(b'.');
        let mut arena = Arena::new();
        let _ = pickle::load(&data, 0, &mut arena, &mut NoPersistentIds);
        let mut zip = zip_of(&[("archive/data.pkl".to_string(), data)]);
        let _ = exercise(&zip);
        zip.truncate(zip.len() / 2);
        let _ = exercise(&zip);
    }
}
