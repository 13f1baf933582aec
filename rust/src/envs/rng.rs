//! NumPy's default generator as Gymnasium seeds it: `SeedSequence(seed)` feeding
//! `PCG64`, wrapped in `Generator`, and the one distribution the classic-control
//! envs draw from, `uniform`.

use rand_pcg::Lcg128Xsl64;

use super::error::EnvError;

/// A seed as Gymnasium takes it: a nonnegative Python int of any size, kept as
/// its little-endian 32-bit words (NumPy's `_int_to_uint32_array`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Seed {
    words: Vec<u32>,
}

impl Seed {
    /// A seed from the little-endian 32-bit words of a nonnegative integer (any
    /// length; high zero words are dropped, as Python's int has none).
    pub fn from_le_words(words: &[u32]) -> Self {
        let len = words.iter().rposition(|&w| w != 0).map_or(0, |i| i + 1);
        let words = if len == 0 {
            vec![0]
        } else {
            words[..len].to_vec()
        };
        Self { words }
    }

    /// The integer's little-endian 32-bit words (`[0]` for zero).
    pub fn words(&self) -> &[u32] {
        &self.words
    }

    /// The seed as a `u128` when it fits.
    pub fn to_u128(&self) -> Option<u128> {
        if self.words.len() > 4 {
            return None;
        }
        Some(
            self.words
                .iter()
                .rev()
                .fold(0u128, |acc, &w| (acc << 32) | u128::from(w)),
        )
    }
}

impl From<u64> for Seed {
    fn from(seed: u64) -> Self {
        Self::from_le_words(&[seed as u32, (seed >> 32) as u32])
    }
}

impl From<u128> for Seed {
    fn from(seed: u128) -> Self {
        let words: [u32; 4] = std::array::from_fn(|i| (seed >> (32 * i)) as u32);
        Self::from_le_words(&words)
    }
}

impl TryFrom<i64> for Seed {
    type Error = EnvError;

    /// Refuses a negative seed with Gymnasium's message.
    fn try_from(seed: i64) -> Result<Self, EnvError> {
        u64::try_from(seed)
            .map(Seed::from)
            .map_err(|_| EnvError::NegativeSeed(i128::from(seed)))
    }
}

const INIT_A: u32 = 0x43b0_d7e5;
const MULT_A: u32 = 0x931e_8875;
const INIT_B: u32 = 0x8b51_f9dd;
const MULT_B: u32 = 0x58f3_8ded;
const MIX_MULT_L: u32 = 0xca01_f9dd;
const MIX_MULT_R: u32 = 0x4973_f715;
const XSHIFT: u32 = 16;
const POOL_SIZE: usize = 4;

fn hashmix(value: u32, hash_const: &mut u32) -> u32 {
    let mut value = value ^ *hash_const;
    *hash_const = hash_const.wrapping_mul(MULT_A);
    value = value.wrapping_mul(*hash_const);
    value ^ (value >> XSHIFT)
}

fn mix(x: u32, y: u32) -> u32 {
    let result = MIX_MULT_L
        .wrapping_mul(x)
        .wrapping_sub(MIX_MULT_R.wrapping_mul(y));
    result ^ (result >> XSHIFT)
}

/// `np.random.SeedSequence(entropy).generate_state(4, np.uint64)`.
pub fn seed_sequence_state(entropy: &[u32]) -> [u64; 4] {
    // mix_entropy
    let mut pool = [0u32; POOL_SIZE];
    let mut hash_const = INIT_A;
    for (i, slot) in pool.iter_mut().enumerate() {
        *slot = hashmix(entropy.get(i).copied().unwrap_or(0), &mut hash_const);
    }
    for i_src in 0..POOL_SIZE {
        for i_dst in 0..POOL_SIZE {
            if i_src != i_dst {
                pool[i_dst] = mix(pool[i_dst], hashmix(pool[i_src], &mut hash_const));
            }
        }
    }
    for &word in entropy.iter().skip(POOL_SIZE) {
        for slot in pool.iter_mut() {
            *slot = mix(*slot, hashmix(word, &mut hash_const));
        }
    }
    // generate_state: 8 u32 words, paired little-endian into u64
    let mut hash_const = INIT_B;
    let mut words = [0u32; 8];
    for (i, out) in words.iter_mut().enumerate() {
        let mut value = pool[i % POOL_SIZE] ^ hash_const;
        hash_const = hash_const.wrapping_mul(MULT_B);
        value = value.wrapping_mul(hash_const);
        *out = value ^ (value >> XSHIFT);
    }
    std::array::from_fn(|i| u64::from(words[2 * i]) | (u64::from(words[2 * i + 1]) << 32))
}

/// `np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))`, the
/// generator `gymnasium.utils.seeding.np_random(seed)` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpRandom {
    pcg: Lcg128Xsl64,
}

impl NpRandom {
    /// The generator for `seed`.
    pub fn new(seed: &Seed) -> Self {
        let w = seed_sequence_state(seed.words());
        let initstate = (u128::from(w[0]) << 64) | u128::from(w[1]);
        let initseq = (u128::from(w[2]) << 64) | u128::from(w[3]);
        // rand_pcg's Lcg128Xsl64::new(state, stream) is NumPy's
        // pcg64_set_seed(state, inc): the same increment and warm-up step.
        Self {
            pcg: Lcg128Xsl64::new(initstate, initseq),
        }
    }

    /// The generator in the state NumPy reports for a `PCG64`
    /// (`bit_generator.state["state"]`: `state` and `inc`), so that it continues
    /// with the draws NumPy's would make next (both step, then output).
    pub fn from_numpy_state(state: u128, inc: u128) -> Self {
        Self {
            pcg: Lcg128Xsl64::from_state(state, inc >> 1),
        }
    }

    /// A generator from 128 bits of OS entropy, as `SeedSequence(None)` draws
    /// them, and the seed it used (Gymnasium's `np_random_seed`).
    pub fn from_entropy() -> Result<(Self, Seed), EnvError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| EnvError::Entropy(e.to_string()))?;
        let seed = Seed::from(u128::from_le_bytes(bytes));
        Ok((Self::new(&seed), seed))
    }

    /// The next raw 64-bit output (`bit_generator.random_raw()`).
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let Ok(x) = rand_pcg::rand_core::TryRng::try_next_u64(&mut self.pcg);
        x
    }

    /// `Generator.random()`: 53 random bits in [0, 1).
    #[inline]
    pub fn random(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `Generator.uniform(low, high, size=out.len())` with scalar bounds: the
    /// range is checked once, then `low + range * random()` per value in order.
    pub fn uniform_fill(&mut self, low: f64, high: f64, out: &mut [f64]) -> Result<(), EnvError> {
        let range = high - low;
        if !range.is_finite() {
            return Err(EnvError::RangeOverflow(
                "high - low range exceeds valid bounds",
            ));
        }
        if range < 0.0 {
            return Err(EnvError::NegativeRange);
        }
        for value in out {
            *value = low + range * self.random();
        }
        Ok(())
    }

    /// `Generator.uniform(low, high)` with scalar bounds and no size.
    pub fn uniform(&mut self, low: f64, high: f64) -> Result<f64, EnvError> {
        let mut out = [0.0];
        self.uniform_fill(low, high, &mut out)?;
        Ok(out[0])
    }

    /// `Generator.uniform(low_array, high_array)`: every range is checked first
    /// (all finite, then all nonnegative), then one draw per element.
    pub fn uniform_arrays<const N: usize>(
        &mut self,
        low: [f64; N],
        high: [f64; N],
    ) -> Result<[f64; N], EnvError> {
        let range: [f64; N] = std::array::from_fn(|i| high[i] - low[i]);
        if !range.iter().all(|r| r.is_finite()) {
            return Err(EnvError::RangeOverflow("Range exceeds valid bounds"));
        }
        if range.iter().any(|&r| r < 0.0) {
            return Err(EnvError::NegativeRange);
        }
        Ok(std::array::from_fn(|i| low[i] + range[i] * self.random()))
    }
}

/// An env's `np_random`: made lazily from OS entropy by the first unseeded
/// reset, rebuilt by every seeded reset, continued by the other resets.
#[derive(Debug, Clone, Default)]
pub struct RngSlot {
    rng: Option<NpRandom>,
    seed: Option<Seed>,
}

impl RngSlot {
    /// What `super().reset(seed=seed)` and the first `self.np_random` do.
    pub fn reseed(&mut self, seed: Option<&Seed>) -> Result<&mut NpRandom, EnvError> {
        let rng = match (seed, self.rng.take()) {
            (Some(seed), _) => {
                self.seed = Some(seed.clone());
                NpRandom::new(seed)
            }
            (None, Some(rng)) => rng,
            (None, None) => {
                let (rng, seed) = NpRandom::from_entropy()?;
                self.seed = Some(seed);
                rng
            }
        };
        Ok(self.rng.insert(rng))
    }

    /// The generator, if one was made.
    pub fn get_mut(&mut self) -> Option<&mut NpRandom> {
        self.rng.as_mut()
    }

    /// Gymnasium's `np_random_seed`: the seed of the current generator.
    pub fn seed(&self) -> Option<&Seed> {
        self.seed.as_ref()
    }

    /// Replace the generator (e.g. with one continued from Python's state).
    pub fn set(&mut self, rng: NpRandom, seed: Option<Seed>) {
        self.rng = Some(rng);
        self.seed = seed;
    }
}
