//! The prelude's math functions with JavaScript's results for NaN, infinities and -0
//! (LANGUAGE.md, "Precise rules" > Evaluation), except that [`round`] rounds halves away
//! from zero.

/// `sqrt(x)`: NaN for negative `x` and NaN, `-0` for `-0`.
pub fn sqrt(x: f64) -> f64 {
    x.sqrt()
}

/// `abs(x)`: absolute value (`abs(-0)` is `0`, `abs(NaN)` is NaN).
pub fn abs(x: f64) -> f64 {
    x.abs()
}

/// `floor(x)`: largest integral value `<= x`; NaN, infinities and zeros pass through.
pub fn floor(x: f64) -> f64 {
    x.floor()
}

/// `ceil(x)`: smallest integral value `>= x` (`ceil(-0.5)` is `-0`); NaN, infinities and
/// zeros pass through.
pub fn ceil(x: f64) -> f64 {
    x.ceil()
}

/// `round(x)`: nearest integral value, halves away from zero (`round(0.5)` is `1`,
/// `round(-0.5)` is `-1`, `round(2.5)` is `3`). The result keeps the sign of `x`, so
/// `round(-0.4)` is `-0`; NaN, infinities and zeros pass through. Exact for every f64.
pub fn round(x: f64) -> f64 {
    // C's `round`: half away from zero, exact (no `x + 0.5` double rounding), sign kept.
    x.round()
}

/// `min(a, b)`: JavaScript's `Math.min`: NaN when either is NaN, and `-0` is below `0`.
pub fn min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a == 0.0 && b == 0.0 {
        return if a.is_sign_negative() { a } else { b };
    }
    if a <= b {
        a
    } else {
        b
    }
}

/// `max(a, b)`: JavaScript's `Math.max`: NaN when either is NaN, and `0` is above `-0`.
pub fn max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a == 0.0 && b == 0.0 {
        return if a.is_sign_negative() { b } else { a };
    }
    if a >= b {
        a
    } else {
        b
    }
}

/// Whether `b` is an odd integer.
fn is_odd_integer(b: f64) -> bool {
    b.is_finite() && b == b.trunc() && b % 2.0 != 0.0
}

/// `pow(a, b)`: JavaScript's `Math.pow` (ECMAScript Number::exponentiate).
///
/// Differs from C's `pow` where JavaScript says NaN: `pow(1, NaN)`, `pow(±1, ±Infinity)`.
/// `pow(x, 0)` is `1` for every `x`, NaN included.
pub fn pow(a: f64, b: f64) -> f64 {
    if b.is_nan() {
        return f64::NAN;
    }
    if b == 0.0 {
        return 1.0;
    }
    if a.is_nan() {
        return f64::NAN;
    }
    if b.is_infinite() {
        let m = a.abs();
        if m == 1.0 {
            return f64::NAN;
        }
        return if (m > 1.0) == (b > 0.0) {
            f64::INFINITY
        } else {
            0.0
        };
    }
    if a == f64::INFINITY {
        return if b > 0.0 { f64::INFINITY } else { 0.0 };
    }
    if a == f64::NEG_INFINITY {
        let odd = is_odd_integer(b);
        return match (b > 0.0, odd) {
            (true, true) => f64::NEG_INFINITY,
            (true, false) => f64::INFINITY,
            (false, true) => -0.0,
            (false, false) => 0.0,
        };
    }
    if a == 0.0 {
        let negative = a.is_sign_negative() && is_odd_integer(b);
        return match (b > 0.0, negative) {
            (true, true) => -0.0,
            (true, false) => 0.0,
            (false, true) => f64::NEG_INFINITY,
            (false, false) => f64::INFINITY,
        };
    }
    if a < 0.0 && b != b.trunc() {
        return f64::NAN;
    }
    if b == 1.0 {
        return a;
    }
    // Finite, non-zero operands: C's `pow` (correctly handled signs and exact cases).
    a.powf(b)
}
