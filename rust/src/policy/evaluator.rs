//! A compiled policy: the program, one plan per observation shape seen (built on
//! first use, then reused: no allocation per call), and a seeded generator.

use rand::rngs::ChaCha8Rng;
use rand::SeedableRng;

use super::error::PolicyError;
use super::graph::Graph;
use super::plan::{Output, Plan};
use super::program::Program;

/// Plans kept at once; the oldest goes when a new shape needs room.
const MAX_PLANS: usize = 8;

/// Evaluates one output of a policy graph on batches of observations.
#[derive(Debug)]
pub struct Evaluator {
    program: Program,
    plans: Vec<Plan>,
    rng: ChaCha8Rng,
}

impl Evaluator {
    /// Compile `output` (a node name) from the placeholder `input`, with the
    /// sampling generator seeded by `seed`.
    pub fn new(graph: &Graph, input: &str, output: &str, seed: u64) -> Result<Self, PolicyError> {
        Ok(Self {
            program: Program::compile(graph, input, output)?,
            plans: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
        })
    }

    /// Restart the sampling generator: the same seed gives the same draws.
    pub fn seed(&mut self, seed: u64) {
        self.rng = ChaCha8Rng::seed_from_u64(seed);
    }

    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Lay out a plan for observations of `shape` now, so that the first call with
    /// it does no work (and so that a shape the graph cannot take fails here).
    pub fn prepare(&mut self, shape: &[usize]) -> Result<(), PolicyError> {
        self.plan_index(shape).map(|_| ())
    }

    /// Evaluate on `obs`, row-major of `shape` (batch first).
    pub fn run(&mut self, obs: &[f32], shape: &[usize]) -> Result<Output<'_>, PolicyError> {
        let expected: usize = shape.iter().product();
        if obs.len() != expected {
            return Err(PolicyError::Internal(format!(
                "{} observation values for shape {shape:?}",
                obs.len()
            )));
        }
        let i = self.plan_index(shape)?;
        Ok(self.plans[i].run(obs, &mut self.rng))
    }

    /// The output of the last run on observations of `shape`, if there is a plan
    /// for that shape.
    pub fn output(&self, shape: &[usize]) -> Option<Output<'_>> {
        let plan = self.plans.iter().find(|p| p.input_shape() == shape)?;
        Some(plan.output())
    }

    /// How many kernels a call on observations of `shape` runs (the rest was
    /// folded into constants when the plan was laid out).
    #[cfg(test)]
    pub(crate) fn tasks_per_run(&self, shape: &[usize]) -> Option<usize> {
        let plan = self.plans.iter().find(|p| p.input_shape() == shape)?;
        Some(plan.tasks())
    }

    /// Drop every plan (after a failure left one in an unknown state).
    pub fn reset_plans(&mut self) {
        self.plans.clear();
    }

    fn plan_index(&mut self, shape: &[usize]) -> Result<usize, PolicyError> {
        if let Some(i) = self.plans.iter().position(|p| p.input_shape() == shape) {
            return Ok(i);
        }
        let plan = Plan::build(&self.program, shape, &mut self.rng)?;
        if self.plans.len() == MAX_PLANS {
            self.plans.remove(0);
        }
        self.plans.push(plan);
        Ok(self.plans.len() - 1)
    }
}
