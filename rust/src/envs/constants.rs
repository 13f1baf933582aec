//! Setting an env's constants by their Python attribute names, so that an env
//! rebuilt in Rust from a Gymnasium instance keeps what was changed on it
//! (`env.unwrapped.gravity = 20.0` stays 20.0).

use super::{Acrobot, BookOrNips, CartPole, Env, KinematicsIntegrator, MountainCar};
use super::{MountainCarContinuous, NpRandom, Pendulum, RngSlot, Seed};

/// A constant's value as Python holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Constant<'a> {
    Float(f64),
    Bool(bool),
    Text(&'a str),
}

/// Sets the constant `name` (the attribute's name on Gymnasium's env, e.g.
/// `gravity`, `LINK_LENGTH_1`, `kinematics_integrator`) of the env under its
/// wrappers. Returns false when the env has no such constant or the value is
/// not one it can take (the caller then keeps Gymnasium's env).
pub fn set_constant(env: &mut dyn Env, name: &str, value: Constant<'_>) -> bool {
    let any = env.unwrapped_mut().as_any_mut();
    if let Some(e) = any.downcast_mut::<CartPole>() {
        return match (name, value) {
            ("kinematics_integrator", Constant::Text(t)) => {
                e.kinematics_integrator = match t {
                    "euler" => KinematicsIntegrator::Euler,
                    // CartPoleEnv.step: anything but "euler" is semi-implicit Euler
                    _ => KinematicsIntegrator::SemiImplicitEuler,
                };
                true
            }
            ("_sutton_barto_reward", Constant::Bool(b)) => {
                e.sutton_barto_reward = b;
                true
            }
            (_, Constant::Float(v)) => set_float(
                v,
                match name {
                    "gravity" => &mut e.gravity,
                    "masscart" => &mut e.masscart,
                    "masspole" => &mut e.masspole,
                    "total_mass" => &mut e.total_mass,
                    "length" => &mut e.length,
                    "polemass_length" => &mut e.polemass_length,
                    "force_mag" => &mut e.force_mag,
                    "tau" => &mut e.tau,
                    "theta_threshold_radians" => &mut e.theta_threshold_radians,
                    "x_threshold" => &mut e.x_threshold,
                    _ => return false,
                },
            ),
            _ => false,
        };
    }
    if let Some(e) = any.downcast_mut::<Pendulum>() {
        let Constant::Float(v) = value else {
            return false;
        };
        return set_float(
            v,
            match name {
                "max_speed" => &mut e.max_speed,
                "max_torque" => &mut e.max_torque,
                "dt" => &mut e.dt,
                "g" => &mut e.g,
                "m" => &mut e.m,
                "l" => &mut e.l,
                _ => return false,
            },
        );
    }
    if let Some(e) = any.downcast_mut::<Acrobot>() {
        return match (name, value) {
            ("book_or_nips", Constant::Text(t)) => {
                e.book_or_nips = match t {
                    "book" => BookOrNips::Book,
                    "nips" => BookOrNips::Nips,
                    _ => return false,
                };
                true
            }
            (_, Constant::Float(v)) => set_float(
                v,
                match name {
                    "dt" => &mut e.dt,
                    "LINK_LENGTH_1" => &mut e.link_length_1,
                    "LINK_LENGTH_2" => &mut e.link_length_2,
                    "LINK_MASS_1" => &mut e.link_mass_1,
                    "LINK_MASS_2" => &mut e.link_mass_2,
                    "LINK_COM_POS_1" => &mut e.link_com_pos_1,
                    "LINK_COM_POS_2" => &mut e.link_com_pos_2,
                    "LINK_MOI" => &mut e.link_moi,
                    "MAX_VEL_1" => &mut e.max_vel_1,
                    "MAX_VEL_2" => &mut e.max_vel_2,
                    "torque_noise_max" => &mut e.torque_noise_max,
                    _ => return false,
                },
            ),
            _ => false,
        };
    }
    if let Some(e) = any.downcast_mut::<MountainCar>() {
        let Constant::Float(v) = value else {
            return false;
        };
        return set_float(
            v,
            match name {
                "min_position" => &mut e.min_position,
                "max_position" => &mut e.max_position,
                "max_speed" => &mut e.max_speed,
                "goal_position" => &mut e.goal_position,
                "goal_velocity" => &mut e.goal_velocity,
                "force" => &mut e.force,
                "gravity" => &mut e.gravity,
                _ => return false,
            },
        );
    }
    if let Some(e) = any.downcast_mut::<MountainCarContinuous>() {
        let Constant::Float(v) = value else {
            return false;
        };
        return set_float(
            v,
            match name {
                "min_action" => &mut e.min_action,
                "max_action" => &mut e.max_action,
                "min_position" => &mut e.min_position,
                "max_position" => &mut e.max_position,
                "max_speed" => &mut e.max_speed,
                "goal_position" => &mut e.goal_position,
                "goal_velocity" => &mut e.goal_velocity,
                "power" => &mut e.power,
                _ => return false,
            },
        );
    }
    false
}

/// Gives the env under its wrappers the generator `rng` (and Gymnasium's
/// `np_random_seed`), as if it had drawn what a Python env's generator drew;
/// false for an env that is not one of these.
pub fn set_generator(env: &mut dyn Env, rng: NpRandom, seed: Option<Seed>) -> bool {
    let any = env.unwrapped_mut().as_any_mut();
    let slot: &mut RngSlot = if let Some(e) = any.downcast_mut::<CartPole>() {
        &mut e.np_random
    } else if let Some(e) = any.downcast_mut::<Pendulum>() {
        &mut e.np_random
    } else if let Some(e) = any.downcast_mut::<Acrobot>() {
        &mut e.np_random
    } else if let Some(e) = any.downcast_mut::<MountainCar>() {
        &mut e.np_random
    } else if let Some(e) = any.downcast_mut::<MountainCarContinuous>() {
        &mut e.np_random
    } else {
        return false;
    };
    slot.set(rng, seed);
    true
}

fn set_float(value: f64, field: &mut f64) -> bool {
    *field = value;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::{make, EnvKwargs};

    #[test]
    fn constants_are_set_under_the_wrappers_by_python_name() {
        let mut env = make("CartPole-v1", &EnvKwargs::default()).unwrap();
        assert!(set_constant(env.as_mut(), "gravity", Constant::Float(20.0)));
        assert!(!set_constant(env.as_mut(), "no_such", Constant::Float(1.0)));
        assert!(!set_constant(env.as_mut(), "gravity", Constant::Text("x")));
        let cartpole = env.unwrapped_mut().as_any_mut().downcast_mut::<CartPole>();
        assert_eq!(cartpole.unwrap().gravity, 20.0);
        let mut acrobot = make("Acrobot-v1", &EnvKwargs::default()).unwrap();
        assert!(set_constant(
            acrobot.as_mut(),
            "LINK_MASS_2",
            Constant::Float(2.0)
        ));
        assert!(set_constant(
            acrobot.as_mut(),
            "book_or_nips",
            Constant::Text("nips")
        ));
    }
}
