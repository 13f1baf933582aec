//! The arithmetic Gymnasium's Python and NumPy code does, operation for
//! operation: glibc's `pow` where Python writes `x**2`, NumPy's float32
//! sine/cosine kernel, Python's `%` and `max`/`min`, NumPy's `clip`, and NEP 50
//! promotion between float32, float64 and Python floats.

use std::f32::consts::FRAC_2_PI;

// glibc's libm, which Python's float `**`/`math.pow` and NumPy's scalar power
// call. Rust's std already links it. Neither `x * x` (glibc's pow is not always
// correctly rounded) nor `powf(2.0)` (LLVM folds it into `x * x`) would do, and
// LLVM knows these names too: with a constant exponent of 2 an optimized build
// turns even this FFI call into `x * x`, so the exponent goes through black_box.
extern "C" {
    #[link_name = "pow"]
    fn c_pow(x: f64, y: f64) -> f64;
    #[link_name = "powf"]
    fn c_powf(x: f32, y: f32) -> f32;
    #[link_name = "sinf"]
    fn c_sinf(x: f32) -> f32;
    #[link_name = "cosf"]
    fn c_cosf(x: f32) -> f32;
}

/// libm's `pow(x, y)`: Python's `x ** y` on floats and NumPy's on float64.
#[inline]
pub fn pow(x: f64, y: f64) -> f64 {
    // SAFETY: a pure libm function on plain floats.
    unsafe { c_pow(x, std::hint::black_box(y)) }
}

/// libm's `powf(x, y)`: NumPy's `x ** y` on float32.
#[inline]
pub fn powf(x: f32, y: f32) -> f32 {
    // SAFETY: a pure libm function on plain floats.
    unsafe { c_powf(x, std::hint::black_box(y)) }
}

fn libm_sinf(x: f32) -> f32 {
    // SAFETY: a pure libm function on plain floats.
    unsafe { c_sinf(x) }
}

fn libm_cosf(x: f32) -> f32 {
    // SAFETY: a pure libm function on plain floats.
    unsafe { c_cosf(x) }
}

/// Whether NumPy would run its FMA3 float32 sin/cos kernel on this CPU (its
/// dispatch needs AVX2 and FMA3; without them it calls libm's `sinf`/`cosf`).
fn numpy_has_fma_kernel() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("fma") && std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        true
    }
}

// NumPy's Cody-Waite limits, 71476.0625f and 117435.992f (shortest spellings)
const MAX_CODY_COS: f32 = 71_476.06;
const MAX_CODY_SIN: f32 = 117_435.99;
const RINT_MAGIC: f32 = 12_582_912.0; // 0x1.8p23
const PIO2_HIGH: f32 = f32::from_bits(0xbfc9_0fd8); // -0x1.921fb0p+00
const PIO2_MED: f32 = f32::from_bits(0xb4a8_885a); // -0x1.5110b4p-22
const PIO2_LOW: f32 = f32::from_bits(0xa7c2_34c4); // -0x1.846988p-48

fn numpy_f32_trig(x: f32, cosine: bool) -> f32 {
    if x.is_nan() {
        return f32::NAN;
    }
    let max_cody = if cosine { MAX_CODY_COS } else { MAX_CODY_SIN };
    if !numpy_has_fma_kernel() || x.abs() > max_cody {
        return if cosine { libm_cosf(x) } else { libm_sinf(x) };
    }
    // GCC contracts NumPy's `x * 2/pi + magic` into one FMA.
    let q = x.mul_add(FRAC_2_PI, RINT_MAGIC) - RINT_MAGIC;
    let mut r = q.mul_add(PIO2_HIGH, x);
    r = q.mul_add(PIO2_MED, r);
    r = q.mul_add(PIO2_LOW, r);
    let r2 = r * r;
    let mut iq = q as i32;
    if cosine {
        iq += 1;
    }
    let res = if iq & 1 == 0 {
        // sine polynomial
        let mut p = f32::from_bits(0x363e_9dde).mul_add(r2, f32::from_bits(0xb950_35dd)); // 0x1.7d3bbcp-19, -0x1.a06bbap-13
        p = p.mul_add(r2, f32::from_bits(0x3c08_88cd)); // 0x1.11119ap-7
        p = p.mul_add(r2, f32::from_bits(0xbe2a_aaab)); // -0x1.555556p-3
        p = p.mul_add(r2, 0.0);
        p.mul_add(r, r)
    } else {
        // cosine polynomial
        let mut p = f32::from_bits(0x37cc_730b).mul_add(r2, f32::from_bits(0xbab6_036e)); // 0x1.98e616p-16, -0x1.6c06dcp-10
        p = p.mul_add(r2, f32::from_bits(0x3d2a_aa9e)); // 0x1.55553cp-5
        p = p.mul_add(r2, -0.5);
        p.mul_add(r2, 1.0)
    };
    if iq & 2 != 0 {
        0.0 - res
    } else {
        res
    }
}

/// `np.cos` on a float32 value.
pub fn numpy_cos_f32(x: f32) -> f32 {
    numpy_f32_trig(x, true)
}

/// `np.sin` on a float32 value.
pub fn numpy_sin_f32(x: f32) -> f32 {
    numpy_f32_trig(x, false)
}

/// Python's (and NumPy's) float `a % b`: `fmod`, moved into the divisor's sign.
#[inline]
pub fn py_mod(a: f64, b: f64) -> f64 {
    let m = a % b;
    if m != 0.0 {
        if (b < 0.0) != (m < 0.0) {
            m + b
        } else {
            m
        }
    } else {
        0.0f64.copysign(b)
    }
}

/// Python's builtin `max(x, m)`: `m` only when `m > x`.
#[inline]
pub fn py_max(x: f64, m: f64) -> f64 {
    if m > x {
        m
    } else {
        x
    }
}

/// Python's builtin `min(x, m)`: `m` only when `m < x`.
#[inline]
pub fn py_min(x: f64, m: f64) -> f64 {
    if m < x {
        m
    } else {
        x
    }
}

/// `np.clip(x, lo, hi)` on float64: NaN stays NaN.
#[inline]
pub fn np_clip(x: f64, lo: f64, hi: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let y = if x > lo { x } else { lo };
    if y < hi {
        y
    } else {
        hi
    }
}

/// `np.clip(x, lo, hi)` on float32.
#[inline]
pub fn np_clip_f32(x: f32, lo: f32, hi: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    let y = if x > lo { x } else { lo };
    if y < hi {
        y
    } else {
        hi
    }
}

/// A scalar as NumPy 2 sees it when promoting (NEP 50): a float32 or float64
/// NumPy scalar is "strong", a Python float (or int) is "weak" and takes the
/// other operand's type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// `np.float32`
    F32(f32),
    /// `np.float64`
    F64(f64),
    /// A Python `float` (or `int`)
    Py(f64),
}

impl Num {
    /// The value as a double (Python's `float(x)`).
    #[inline]
    pub fn f64(self) -> f64 {
        match self {
            Num::F32(x) => f64::from(x),
            Num::F64(x) | Num::Py(x) => x,
        }
    }

    /// `np.float32(x)`.
    #[inline]
    pub fn f32(self) -> f32 {
        match self {
            Num::F32(x) => x,
            Num::F64(x) | Num::Py(x) => x as f32,
        }
    }

    #[inline]
    fn binary(self, other: Num, op32: fn(f32, f32) -> f32, op64: fn(f64, f64) -> f64) -> Num {
        use Num::*;
        match (self, other) {
            (F32(a), F32(b)) => F32(op32(a, b)),
            (F32(a), Py(b)) => F32(op32(a, b as f32)),
            (Py(a), F32(b)) => F32(op32(a as f32, b)),
            (Py(a), Py(b)) => Py(op64(a, b)),
            (a, b) => F64(op64(a.f64(), b.f64())),
        }
    }

    #[inline]
    fn compare(
        self,
        other: Num,
        op32: fn(&f32, &f32) -> bool,
        op64: fn(&f64, &f64) -> bool,
    ) -> bool {
        use Num::*;
        match (self, other) {
            (F32(a), F32(b)) => op32(&a, &b),
            (F32(a), Py(b)) => op32(&a, &(b as f32)),
            (Py(a), F32(b)) => op32(&(a as f32), &b),
            (a, b) => op64(&a.f64(), &b.f64()),
        }
    }

    pub fn add(self, o: Num) -> Num {
        self.binary(o, |a, b| a + b, |a, b| a + b)
    }
    pub fn sub(self, o: Num) -> Num {
        self.binary(o, |a, b| a - b, |a, b| a - b)
    }
    pub fn mul(self, o: Num) -> Num {
        self.binary(o, |a, b| a * b, |a, b| a * b)
    }
    pub fn gt(self, o: Num) -> bool {
        self.compare(o, f32::gt, f64::gt)
    }
    pub fn lt(self, o: Num) -> bool {
        self.compare(o, f32::lt, f64::lt)
    }
    pub fn ge(self, o: Num) -> bool {
        self.compare(o, f32::ge, f64::ge)
    }
    pub fn eq(self, o: Num) -> bool {
        self.compare(o, f32::eq, f64::eq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_constants_are_numpys_hex_floats() {
        assert_eq!(FRAC_2_PI.to_bits(), 0x3f22_f983); // 0x1.45f306p-1
        assert_eq!(RINT_MAGIC.to_bits(), 0x4b40_0000); // 0x1.8p23
        assert_eq!(MAX_CODY_COS, "71476.0625".parse::<f32>().unwrap());
        assert_eq!(MAX_CODY_SIN, "117435.992".parse::<f32>().unwrap());
    }

    /// CPython's `math.pow(x, 2)` (glibc) on inputs where it is one ulp off
    /// `x * x`: an optimized build must not fold the call into a multiply.
    #[test]
    fn pow_is_glibcs_not_a_multiply() {
        for (x, want) in [
            (0xbfec_4c36_2174_b820_u64, 0x3fe9_0614_3c06_bdb0_u64),
            (0x4006_8a6f_798e_6568, 0x401f_c160_5441_1967),
            (0xbfd9_1be0_22d3_04f0, 0x3fc3_b3a6_7ec6_6380),
        ] {
            let x = f64::from_bits(x);
            assert_eq!(pow(x, 2.0).to_bits(), want);
            assert_ne!((x * x).to_bits(), want);
        }
    }

    #[test]
    fn python_modulo_and_builtins() {
        // Hand-checked against CPython: -1.0 % 3.0 == 2.0, 1.0 % -3.0 == -2.0,
        // 3.0 % 3.0 == 0.0, -3.0 % 3.0 == 0.0 (positive zero)
        assert_eq!(py_mod(-1.0, 3.0), 2.0);
        assert_eq!(py_mod(1.0, -3.0), -2.0);
        assert_eq!(py_mod(-3.0, 3.0).to_bits(), 0.0f64.to_bits());
        assert!(py_max(f64::NAN, 1.0).is_nan());
        assert_eq!(py_min(5.0, 1.0), 1.0);
    }
}
