use std::path::PathBuf;

use super::*;

fn shared() -> PathBuf {
    std::env::var_os("SPINFAST_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

#[test]
fn smoke() {
    for name in ["rainbow_ppo_invdpend", "rainbow_sac_reacher", "rainbow_td3_invdpend", "rainbow_ddpg_walker2d", "pei_trpo_cartpole", "hw8_ppo", "nlietzow_sac_cheetah"] {
        let p = shared().join("agents").join(name).join("pyt_save/model.pt");
        match read_model(&p) {
            Ok(m) => {
                println!("{}", m.describe());
                let (g, outs) = m.policy_graph().unwrap();
                for o in &outs {
                    let mut e = crate::policy::Evaluator::new(&g, "x", o, 0).unwrap();
                    let out = e.run(&vec![0.1; m.obs_dim * 2], &[2, m.obs_dim]).unwrap();
                    println!("  {o}: {:?}", out);
                }
            }
            Err(e) => println!("ERR {e}"),
        }
    }
}
