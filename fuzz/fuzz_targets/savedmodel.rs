//! The SavedModel reader on arbitrary bytes: the first byte picks the file the rest
//! replaces (0: saved_model.pb, 1: variables/variables.index) in the bundled agent,
//! whose other file and data shard stay as they are. Anything may be refused; no
//! input may panic, hang or allocate without bound.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use _core::policy::Evaluator;
use _core::savedmodel::SavedModel;
use libfuzzer_sys::fuzz_target;

struct Agent {
    dir: PathBuf,
    graph: Vec<u8>,
    index: Vec<u8>,
}

fn agent() -> &'static Agent {
    static AGENT: OnceLock<Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../python/spinfast/example_agent/simple_save");
        Agent {
            graph: std::fs::read(dir.join("saved_model.pb")).unwrap(),
            index: std::fs::read(dir.join("variables/variables.index")).unwrap(),
            dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    let agent = agent();
    let (graph, index) = if which % 2 == 0 {
        (bytes, &agent.index[..])
    } else {
        (&agent.graph[..], bytes)
    };
    let Ok(model) = SavedModel::from_bytes(&agent.dir, graph, Some(index)) else {
        return;
    };
    if let Some(bundle) = model.checkpoint() {
        for key in bundle.keys().collect::<Vec<_>>() {
            let _ = bundle.read(&key);
        }
    }
    let Ok(policy) = model.signature_policy_graph("x", &["pi", "v"]) else {
        return;
    };
    if let Ok(mut evaluator) = Evaluator::new(&policy.graph, &policy.input, "v", 0) {
        let _ = evaluator.run(&[0.1; 8], &[2, 4]);
    }
});
