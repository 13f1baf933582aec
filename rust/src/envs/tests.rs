//! The envs against Gymnasium itself: trajectories recorded by
//! `tests/fixtures/envs/make_reference.py` (gymnasium 1.4.0, NumPy 2) replayed
//! action for action, every observation compared bit for bit.
//!
//! `SPINFAST_ENV_REFERENCE=DIR cargo test envs::tests -- --ignored` replays a
//! larger set written with `make_reference.py --out DIR --steps N`.

use std::path::{Path, PathBuf};

use super::*;

const STEP: u8 = 0;
const RESET_SEEDED: u8 = 2;

/// A little-endian reader over a reference file.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        out
    }
    fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.take(2).try_into().unwrap())
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().unwrap())
    }
    fn i64(&mut self) -> i64 {
        i64::from_le_bytes(self.take(8).try_into().unwrap())
    }
    fn f32(&mut self) -> f32 {
        f32::from_le_bytes(self.take(4).try_into().unwrap())
    }
    fn f64(&mut self) -> f64 {
        f64::from_le_bytes(self.take(8).try_into().unwrap())
    }
}

enum RefAction {
    Discrete(i64),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

enum Outcome {
    Ok {
        obs: Vec<f32>,
        step: Option<(f64, bool, bool)>,
    },
    Error(String),
}

enum Event {
    Reset {
        seed: Option<Seed>,
        options: Option<ResetOptions>,
        outcome: Outcome,
    },
    Step {
        action: RefAction,
        outcome: Outcome,
    },
}

/// `make`'s keywords from the file header (`name=repr(value)` joined by `;`).
fn parse_kwargs(text: &str) -> EnvKwargs {
    let mut kwargs = EnvKwargs::default();
    for pair in text.split(';').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap();
        match name {
            "sutton_barto_reward" => kwargs.sutton_barto_reward = Some(value == "True"),
            "g" => kwargs.g = Some(value.parse().unwrap()),
            "goal_velocity" => kwargs.goal_velocity = Some(value.parse().unwrap()),
            "max_episode_steps" => kwargs.max_episode_steps = Some(value.parse().unwrap()),
            _ => panic!("unknown keyword {name}"),
        }
    }
    kwargs
}

/// Set the constants Python changed on `env.unwrapped` (`name=repr(value)`
/// joined by `;`), through the same downcast a caller would use.
fn set_attributes(env: &mut dyn Env, text: &str) {
    let any = env.unwrapped_mut().as_any_mut();
    for pair in text.split(';').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap();
        let number = || value.parse::<f64>().unwrap();
        if let Some(env) = any.downcast_mut::<CartPole>() {
            match name {
                "gravity" => env.gravity = number(),
                "force_mag" => env.force_mag = number(),
                "kinematics_integrator" => {
                    env.kinematics_integrator = if value == "'euler'" {
                        KinematicsIntegrator::Euler
                    } else {
                        KinematicsIntegrator::SemiImplicitEuler
                    }
                }
                _ => panic!("CartPole.{name}"),
            }
        } else if let Some(env) = any.downcast_mut::<Pendulum>() {
            match name {
                "max_speed" => env.max_speed = number(),
                "m" => env.m = number(),
                _ => panic!("Pendulum.{name}"),
            }
        } else if let Some(env) = any.downcast_mut::<MountainCar>() {
            match name {
                "force" => env.force = number(),
                _ => panic!("MountainCar.{name}"),
            }
        } else if let Some(env) = any.downcast_mut::<MountainCarContinuous>() {
            match name {
                "power" => env.power = number(),
                _ => panic!("MountainCarContinuous.{name}"),
            }
        } else if let Some(env) = any.downcast_mut::<Acrobot>() {
            match name {
                "dt" => env.dt = number(),
                "torque_noise_max" => env.torque_noise_max = number(),
                "LINK_MASS_2" => env.link_mass_2 = number(),
                "book_or_nips" => {
                    env.book_or_nips = if value == "'book'" {
                        BookOrNips::Book
                    } else {
                        BookOrNips::Nips
                    }
                }
                _ => panic!("Acrobot.{name}"),
            }
        } else {
            panic!("no env to set {name} on");
        }
    }
}

fn read_reference(path: &Path) -> (String, EnvKwargs, String, Vec<Vec<Event>>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut r = Reader {
        bytes: &bytes,
        at: 0,
    };
    assert_eq!(r.take(10), b"SFENVREF1\n");
    let n = r.u8() as usize;
    let id = String::from_utf8(r.take(n).to_vec()).unwrap();
    let n = r.u8() as usize;
    let kwargs = parse_kwargs(std::str::from_utf8(r.take(n)).unwrap());
    let n = r.u8() as usize;
    let attributes = String::from_utf8(r.take(n).to_vec()).unwrap();
    let trajectories = (0..r.u32())
        .map(|_| {
            (0..r.u32())
                .map(|_| {
                    let kind = r.u8();
                    let head = if kind == STEP {
                        Err(match r.u8() {
                            0 => RefAction::Discrete(r.i64()),
                            1 => RefAction::F32((0..r.u8()).map(|_| r.f32()).collect()),
                            _ => RefAction::F64((0..r.u8()).map(|_| r.f64()).collect()),
                        })
                    } else {
                        let seed = (kind == RESET_SEEDED).then(|| {
                            let words: Vec<u32> = (0..r.u8()).map(|_| r.u32()).collect();
                            Seed::from_le_words(&words)
                        });
                        let flags = r.u8();
                        let options = (flags != 0xff).then(|| {
                            let mut get = |bit: u8| (flags & (1 << bit) != 0).then(|| r.f64());
                            ResetOptions {
                                low: get(0),
                                high: get(1),
                                x_init: get(2),
                                y_init: get(3),
                            }
                        });
                        Ok((seed, options))
                    };
                    let outcome = if r.u8() == 1 {
                        let n = r.u16() as usize;
                        Outcome::Error(String::from_utf8(r.take(n).to_vec()).unwrap())
                    } else {
                        let obs = (0..r.u8()).map(|_| r.f32()).collect();
                        let step = (kind == STEP).then(|| {
                            let reward = r.f64();
                            let flags = r.u8();
                            (reward, flags & 1 != 0, flags & 2 != 0)
                        });
                        Outcome::Ok { obs, step }
                    };
                    match head {
                        Ok((seed, options)) => Event::Reset {
                            seed,
                            options,
                            outcome,
                        },
                        Err(action) => Event::Step { action, outcome },
                    }
                })
                .collect()
        })
        .collect();
    assert_eq!(r.at, bytes.len(), "trailing bytes in {}", path.display());
    (id, kwargs, attributes, trajectories)
}

fn python_error(err: &EnvError) -> String {
    let kind = err.python_type().rsplit('.').next().unwrap();
    format!("{kind}: {err}")
}

fn bits(obs: &[f32]) -> Vec<u32> {
    obs.iter().map(|x| x.to_bits()).collect()
}

/// Replay one file; returns the number of steps compared.
fn replay(path: &Path) -> usize {
    let (id, kwargs, attributes, trajectories) = read_reference(path);
    let mut steps = 0;
    for (t, events) in trajectories.iter().enumerate() {
        let mut env = make(&id, &kwargs).unwrap();
        set_attributes(&mut *env, &attributes);
        let mut obs = vec![0.0f32; env.obs_dim()];
        for (i, event) in events.iter().enumerate() {
            let at = format!("{id} trajectory {t} event {i}");
            let (result, outcome) = match event {
                Event::Reset {
                    seed,
                    options,
                    outcome,
                } => (
                    env.reset(seed.as_ref(), &options.unwrap_or_default(), &mut obs)
                        .map(|()| None),
                    outcome,
                ),
                Event::Step { action, outcome } => {
                    let action = match action {
                        RefAction::Discrete(a) => Action::Discrete(*a),
                        RefAction::F32(a) => Action::Continuous(a),
                        RefAction::F64(a) => Action::Continuous64(a),
                    };
                    (env.step(action, &mut obs).map(Some), outcome)
                }
            };
            match (result, outcome) {
                (
                    Ok(step),
                    Outcome::Ok {
                        obs: want,
                        step: want_step,
                    },
                ) => {
                    assert_eq!(bits(&obs), bits(want), "{at}: obs {obs:?} != {want:?}");
                    if let (Some(step), Some((reward, terminated, truncated))) = (step, want_step) {
                        steps += 1;
                        assert_eq!(
                            step.reward.to_bits(),
                            reward.to_bits(),
                            "{at}: reward {} != {reward}",
                            step.reward
                        );
                        assert_eq!(
                            (step.terminated, step.truncated),
                            (*terminated, *truncated),
                            "{at}: flags"
                        );
                    }
                }
                (Err(err), Outcome::Error(want)) => {
                    assert_eq!(&python_error(&err), want, "{at}");
                }
                (Ok(_), Outcome::Error(want)) => {
                    panic!("{at}: Gymnasium raised {want}, Rust did not")
                }
                (Err(err), Outcome::Ok { .. }) => {
                    panic!("{at}: Rust raised {err}, Gymnasium did not")
                }
            }
        }
    }
    steps
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/envs")
}

fn replay_fixture(id: &str) {
    let steps = replay(&fixtures().join(format!("{id}.bin")));
    assert!(steps >= 1000, "{id}: only {steps} steps in the fixture");
}

/// `gym.make(id, **kwargs)` with each env's own keywords and `max_episode_steps`,
/// and constants changed on `env.unwrapped` (Acrobot's torque noise draws from
/// the generator on every step).
#[test]
fn make_keywords_match_gymnasium() {
    for id in [
        "CartPole-v1",
        "Pendulum-v1",
        "MountainCar-v0",
        "MountainCarContinuous-v0",
        "Acrobot-v1",
    ] {
        let steps = replay(&fixtures().join(format!("{id}-kwargs.bin")));
        assert!(steps >= 300, "{id}: only {steps} steps");
    }
}

#[test]
fn cartpole_v0_matches_gymnasium() {
    replay_fixture("CartPole-v0");
}

#[test]
fn cartpole_v1_matches_gymnasium() {
    replay_fixture("CartPole-v1");
}

#[test]
fn pendulum_matches_gymnasium() {
    replay_fixture("Pendulum-v1");
}

#[test]
fn acrobot_matches_gymnasium() {
    replay_fixture("Acrobot-v1");
}

#[test]
fn mountain_car_matches_gymnasium() {
    replay_fixture("MountainCar-v0");
}

#[test]
fn mountain_car_continuous_matches_gymnasium() {
    replay_fixture("MountainCarContinuous-v0");
}

/// The large local run: every `*.bin` in `$SPINFAST_ENV_REFERENCE`.
#[test]
#[ignore = "needs SPINFAST_ENV_REFERENCE=DIR written by make_reference.py"]
fn large_reference_matches_gymnasium() {
    let dir = std::env::var("SPINFAST_ENV_REFERENCE").expect("SPINFAST_ENV_REFERENCE");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .filter(|p| !p.ends_with("numpy_f32_trig.bin"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    for path in paths {
        let steps = replay(&path);
        eprintln!("{}: {steps} steps, 0 mismatches", path.display());
    }
    let dir = std::env::var("SPINFAST_ENV_REFERENCE").unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "vbin") {
            let (steps, ends) = replay_vector(&path);
            eprintln!(
                "{}: {steps} batched steps, {ends} ends, 0 mismatches",
                path.display()
            );
        }
    }
}

/// NumPy's float32 `np.cos`/`np.sin` (Acrobot's reset observation), recorded
/// by `make_reference.py` on inputs where it differs from the correctly
/// rounded result, on random inputs and on edges. Without FMA3 NumPy calls
/// libm instead, and so does `numpy_cos_f32`; the fixture is from an FMA3 CPU.
#[test]
fn numpy_f32_trig_matches_numpy() {
    let bytes = std::fs::read(fixtures().join("numpy_f32_trig.bin")).unwrap();
    let mut r = Reader {
        bytes: &bytes,
        at: 0,
    };
    let n = r.u32();
    assert!(n > 3000);
    let mut differs_from_libm = 0;
    for _ in 0..n {
        let (x, cos, sin) = (r.f32(), r.f32(), r.f32());
        assert_eq!(numpy_cos_f32(x).to_bits(), cos.to_bits(), "cos({x:e})");
        assert_eq!(numpy_sin_f32(x).to_bits(), sin.to_bits(), "sin({x:e})");
        let rounded = |v: f64| (v as f32).to_bits();
        differs_from_libm += usize::from(
            rounded(f64::from(x).cos()) != cos.to_bits()
                || rounded(f64::from(x).sin()) != sin.to_bits(),
        );
    }
    assert_eq!(r.at, bytes.len());
    // the fixture does tell NumPy's kernel from a correctly rounded cosine
    assert!(differs_from_libm > 1000, "{differs_from_libm}");
}

/// The error and its message for one call, as `TypeName: message`.
fn failure<T>(result: Result<T, EnvError>) -> String {
    match result {
        Ok(_) => panic!("Gymnasium raises here"),
        Err(err) => python_error(&err),
    }
}

/// Messages as Gymnasium 1.4.0 prints them for the same calls (recorded from
/// `gym.make(...)` runs; the replayed fixtures hold more).
#[test]
fn errors_carry_gymnasiums_type_and_message() {
    let none = ResetOptions::default();
    let mut obs4 = [0.0f32; 4];
    let mut env = make("CartPole-v1", &EnvKwargs::default()).unwrap();
    assert_eq!(
        failure(env.step(Action::Discrete(0), &mut obs4)),
        "ResetNeeded: Cannot call env.step() before calling env.reset()"
    );
    env.reset(Some(&Seed::from(0u64)), &none, &mut obs4)
        .unwrap();
    assert_eq!(
        failure(env.step(Action::Continuous(&[1.0]), &mut obs4)),
        "AssertionError: array([1.], dtype=float32) (<class 'numpy.ndarray'>) invalid"
    );
    assert_eq!(
        failure(env.step(Action::Continuous(&[0.1]), &mut obs4)),
        "AssertionError: array([0.1], dtype=float32) (<class 'numpy.ndarray'>) invalid"
    );
    let kwargs = EnvKwargs {
        g: Some(1.5),
        ..Default::default()
    };
    assert_eq!(
        failure(make("CartPole-v1", &kwargs)),
        "TypeError: CartPoleEnv.__init__() got an unexpected keyword argument 'g' was raised \
         from the environment creator for CartPole-v1 with kwargs ({'g': 1.5})"
    );
    let kwargs = EnvKwargs {
        max_episode_steps: Some(-3),
        ..Default::default()
    };
    assert_eq!(
        failure(make("CartPole-v1", &kwargs)),
        "ValueError: Expect the `max_episode_steps` to be positive, actually: -3"
    );
    assert_eq!(
        failure(Seed::try_from(-1i64)),
        "Error: Seed must be greater or equal to zero, actual value: -1"
    );

    let mut pendulum = make("Pendulum-v1", &EnvKwargs::default()).unwrap();
    let mut obs3 = [0.0f32; 3];
    pendulum
        .reset(Some(&Seed::from(0u64)), &none, &mut obs3)
        .unwrap();
    assert_eq!(
        failure(pendulum.step(Action::Discrete(1), &mut obs3)),
        "IndexError: invalid index to scalar variable."
    );
    assert_eq!(
        failure(pendulum.step(Action::Continuous(&[]), &mut obs3)),
        "IndexError: index 0 is out of bounds for axis 0 with size 0"
    );
    let mut car = make("MountainCarContinuous-v0", &EnvKwargs::default()).unwrap();
    let mut obs2 = [0.0f32; 2];
    car.reset(Some(&Seed::from(0u64)), &none, &mut obs2)
        .unwrap();
    assert_eq!(
        failure(car.step(Action::Discrete(1), &mut obs2)),
        "TypeError: 'int' object is not subscriptable"
    );
    let mut acrobot = make("Acrobot-v1", &EnvKwargs::default()).unwrap();
    let mut obs6 = [0.0f32; 6];
    acrobot
        .reset(Some(&Seed::from(0u64)), &none, &mut obs6)
        .unwrap();
    assert_eq!(
        failure(acrobot.step(Action::Continuous(&[1.0]), &mut obs6)),
        "TypeError: only integer scalar arrays can be converted to a scalar index"
    );
}

/// An unseeded first reset draws OS entropy into `SeedSequence`, and reports
/// it as `np_random_seed`; later unseeded resets continue that generator.
#[test]
fn unseeded_reset_draws_entropy_then_continues() {
    let none = ResetOptions::default();
    let run = |seed: Option<&Seed>| {
        let mut env = make("CartPole-v1", &EnvKwargs::default()).unwrap();
        let mut first = [0.0f32; 4];
        let mut second = [0.0f32; 4];
        env.reset(seed, &none, &mut first).unwrap();
        env.reset(None, &none, &mut second).unwrap();
        (first, second, env.np_random_seed().cloned().unwrap())
    };
    let (a1, a2, seed_a) = run(None);
    let (b1, _, seed_b) = run(None);
    assert_ne!(seed_a, seed_b);
    assert_ne!(bits(&a1), bits(&b1));
    // the same stream from the seed it reports
    let (c1, c2, seed_c) = run(Some(&seed_a));
    assert_eq!(seed_c, seed_a);
    assert_eq!((bits(&a1), bits(&a2)), (bits(&c1), bits(&c2)));
    assert_ne!(bits(&a1), bits(&a2));
}

#[test]
fn seeds_are_pythons_int_words() {
    assert_eq!(Seed::from(0u64).words(), &[0]);
    assert_eq!(Seed::from(1u64 << 32).words(), &[0, 1]);
    assert_eq!(Seed::from_le_words(&[5, 0, 0]), Seed::from(5u64));
    assert_eq!(Seed::from(u128::MAX).to_u128(), Some(u128::MAX));
    assert_eq!(Seed::from_le_words(&[]), Seed::from(0u64));
}

/// A wrong buffer is refused before the env changes.
#[test]
fn observation_buffer_is_checked_first() {
    let none = ResetOptions::default();
    let mut env = CartPole::new();
    let mut obs = [0.0f32; 4];
    env.reset(Some(&Seed::from(3u64)), &none, &mut obs).unwrap();
    let before = env.state;
    let err = env.step(Action::Discrete(1), &mut [0.0; 3]).unwrap_err();
    assert_eq!(
        err,
        EnvError::ObsBuffer {
            expected: 4,
            got: 3
        }
    );
    assert_eq!(env.state, before);
}

/// `gym.make_vec("CartPole-v1", n, vectorization_mode="vector_entry_point")`
/// (CartPoleVectorEnv) replayed: batched resets, next-step autoresets drawn
/// from the one generator, float32 rewards (-0.0 with the Sutton-Barto reward).
#[test]
fn cartpole_vector_env_matches_gymnasium() {
    for name in ["CartPoleVectorEnv.vbin", "CartPoleVectorEnv-kwargs.vbin"] {
        let (steps, ends) = replay_vector(&fixtures().join(name));
        assert!(
            steps > 300 && ends > 20,
            "{name}: {steps} steps, {ends} ends"
        );
    }
}

/// Replay one vector file; returns the batched steps and the episode ends.
fn replay_vector(path: &Path) -> (usize, usize) {
    let name = path.display();
    {
        let bytes = std::fs::read(path).unwrap();
        let mut r = Reader {
            bytes: &bytes,
            at: 0,
        };
        assert_eq!(r.take(10), b"SFVECREF1\n");
        let n = r.u32() as usize;
        let len = r.u8() as usize;
        let kwargs = parse_kwargs(std::str::from_utf8(r.take(len)).unwrap());
        let mut envs = CartPoleVectorEnv::new(
            n,
            kwargs.max_episode_steps.unwrap_or(500),
            kwargs.sutton_barto_reward.unwrap_or(false),
        );
        let (mut obs, mut rewards) = (vec![0.0f32; 4 * n], vec![0.0f32; n]);
        let (mut terminated, mut truncated) = (vec![false; n], vec![false; n]);
        let (mut steps, mut autoresets) = (0, 0);
        for i in 0..r.u32() {
            let at = format!("{name} event {i}");
            let kind = r.u8();
            if kind == STEP {
                let actions: Vec<i64> = (0..n).map(|_| i64::from(r.u8())).collect();
                envs.step(
                    &actions,
                    &mut obs,
                    &mut rewards,
                    &mut terminated,
                    &mut truncated,
                )
                .unwrap();
            } else {
                let seed = (kind == RESET_SEEDED).then(|| {
                    let words: Vec<u32> = (0..r.u8()).map(|_| r.u32()).collect();
                    Seed::from_le_words(&words)
                });
                let flags = r.u8();
                let mut options = ResetOptions::default();
                if flags != 0xff {
                    options.low = (flags & 1 != 0).then(|| r.f64());
                    options.high = (flags & 2 != 0).then(|| r.f64());
                }
                envs.reset(seed.as_ref(), &options, &mut obs).unwrap();
            }
            let want: Vec<f32> = (0..4 * n).map(|_| r.f32()).collect();
            assert_eq!(bits(&obs), bits(&want), "{at}: obs");
            if kind == STEP {
                steps += 1;
                let want: Vec<f32> = (0..n).map(|_| r.f32()).collect();
                assert_eq!(bits(&rewards), bits(&want), "{at}: rewards");
                for k in 0..n {
                    let flags = r.u8();
                    assert_eq!(
                        (terminated[k], truncated[k]),
                        (flags & 1 != 0, flags & 2 != 0),
                        "{at}: env {k} flags"
                    );
                    autoresets += usize::from(terminated[k] || truncated[k]);
                }
            }
        }
        assert_eq!(r.at, bytes.len());
        (steps, autoresets)
    }
}

/// Steps per second, single-threaded, through `make`'s wrappers:
/// `cargo test --release --lib envs::tests::step_speed -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement; run it in a release build"]
fn step_speed() {
    let none = ResetOptions::default();
    let n = 2_000_000u32;
    for id in REGISTRY.iter().map(|s| s.id) {
        let mut env = make(id, &EnvKwargs::default()).unwrap();
        let mut obs = vec![0.0f32; env.obs_dim()];
        let discrete = match env.action_space() {
            ActionSpace::Discrete(n) => Some(n),
            ActionSpace::Box(_) => None,
        };
        env.reset(Some(&Seed::from(0u64)), &none, &mut obs).unwrap();
        let mut lcg = 1u64;
        let start = std::time::Instant::now();
        for _ in 0..n {
            lcg = lcg
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let u = (lcg >> 40) as f32 / (1u64 << 24) as f32;
            let continuous = [u * 2.0 - 1.0];
            let action = match discrete {
                Some(k) => Action::Discrete((lcg >> 33) as i64 % k),
                None => Action::Continuous(&continuous),
            };
            let step = env.step(action, &mut obs).unwrap();
            if step.terminated || step.truncated {
                env.reset(None, &none, &mut obs).unwrap();
            }
        }
        let ns = start.elapsed().as_nanos() as f64 / f64::from(n);
        eprintln!("{id}: {ns:.1} ns per step (with resets)");
    }
    let num_envs = 64;
    let mut envs = CartPoleVectorEnv::new(num_envs, 500, false);
    let mut obs = vec![0.0f32; 4 * num_envs];
    let (mut rewards, mut term, mut trunc) = (
        vec![0.0; num_envs],
        vec![false; num_envs],
        vec![false; num_envs],
    );
    envs.reset(Some(&Seed::from(0u64)), &none, &mut obs)
        .unwrap();
    let actions: Vec<i64> = (0..num_envs as i64).map(|i| i % 2).collect();
    let batches = 40_000u32;
    let start = std::time::Instant::now();
    for _ in 0..batches {
        envs.step(&actions, &mut obs, &mut rewards, &mut term, &mut trunc)
            .unwrap();
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(batches) / num_envs as f64;
    eprintln!("CartPoleVectorEnv(64): {ns:.1} ns per env step");
}
