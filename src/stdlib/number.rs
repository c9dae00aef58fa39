//! Numbers: JavaScript's `String(x)` formatting, the `parseNumber` rule and the `%`
//! remainder (LANGUAGE.md, "Printing numbers and values", "Runtime semantics" and
//! "Prelude details").

use std::fmt::{self, Write as _};

use super::strings::is_js_whitespace;

/// 2^53: below it every integral f64 is exactly an `i64` and formats without exponent.
const TWO_POW_53: f64 = 9_007_199_254_740_992.0;

/// Formats `x` exactly as JavaScript's `String(x)` does.
///
/// Integral values have no fractional part (`3`, `-5`, `100`), others the shortest digits
/// that read back as the same f64 (`2.5`, `0.1`, `0.30000000000000004`); exponent form is
/// used when the decimal exponent is at least 21 or below -6 (`1e+21`, `1.5e-7`); special
/// values are `NaN`, `Infinity` and `-Infinity`, and `-0` is `0`.
pub fn format_number(x: f64) -> String {
    let mut out = String::new();
    write_number(&mut out, x);
    out
}

/// Appends the text of [`format_number`] for `x` to `out` without intermediate heap
/// allocations.
pub fn write_number(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("NaN");
        return;
    }
    if x.is_infinite() {
        out.push_str(if x > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    if x.abs() < TWO_POW_53 && x == x.trunc() {
        // Also covers -0, which prints as `0`.
        write_integer(out, x as i64);
        return;
    }
    if x < 0.0 {
        out.push('-');
    }
    // Shortest round-trip digits and the decimal exponent, laid out by ECMAScript's
    // Number::toString algorithm.
    let mut buf = StackBuf::new();
    if write!(buf, "{:e}", x.abs()).is_err() {
        // Cannot happen (the text is at most 25 bytes); stay correct regardless.
        let text = format!("{:e}", x.abs());
        layout(out, x.abs(), &text);
        return;
    }
    layout(out, x.abs(), buf.as_str());
}

/// Appends the decimal text of `v`.
fn write_integer(out: &mut String, v: i64) {
    let mut digits = [0u8; 20];
    let mut pos = digits.len();
    let mut m = v.unsigned_abs();
    loop {
        pos -= 1;
        digits[pos] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if v < 0 {
        out.push('-');
    }
    for &d in &digits[pos..] {
        out.push(d as char);
    }
}

/// Lays out Rust's `{:e}` text `sci` (`d[.ddd]e[-]x`) of the finite, positive, non-zero
/// number `x` following ECMAScript's Number::toString.
fn layout(out: &mut String, x: f64, sci: &str) {
    let (mantissa, exp) = match sci.split_once('e') {
        Some(parts) => parts,
        None => (sci, "0"),
    };
    let exp: i64 = exp.parse().unwrap_or(0);
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits = StackBuf::new();
    digits.push_str(int_part);
    digits.push_str(frac_part);
    let digits = digits.as_str().trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let mut even = StackBuf::new();
    let digits = match even_tie_digits(x, digits) {
        Some(d) => {
            even.push_str(d.as_str());
            even.as_str()
        }
        None => digits,
    };
    let k = digits.len() as i64;
    // The value is 0.digits × 10^n.
    let n = exp + 1;
    if k <= n && n <= 21 {
        out.push_str(digits);
        for _ in 0..(n - k) {
            out.push('0');
        }
    } else if 0 < n && n <= 21 {
        let (head, tail) = digits.split_at(n as usize);
        out.push_str(head);
        out.push('.');
        out.push_str(tail);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        for _ in 0..(-n) {
            out.push('0');
        }
        out.push_str(digits);
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        let e = n - 1;
        out.push(if e >= 0 { '+' } else { '-' });
        write_integer(out, e.abs());
    }
}

/// Fixes the one case where Rust's shortest digits differ from JavaScript's.
///
/// `digits` (k digits) are Rust's shortest round-trip digits of the positive finite `x`.
/// When the exact value of `x` lies exactly halfway between two k-digit candidates, Rust
/// picks the upper one while ECMAScript picks the even one. That needs the exact value to
/// have k + 1 significant digits ending in 5, so it is decided with integer arithmetic:
/// `x = m × 2^e` is `X × 10^q` with X below 10^18. Returns the even candidate's digits
/// when it differs from `digits` and reads back as `x`.
fn even_tie_digits(x: f64, digits: &str) -> Option<StackBuf> {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let fraction = bits & ((1u64 << 52) - 1);
    let (mut m, mut e) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), biased - 1075)
    };
    if m == 0 {
        return None;
    }
    let tz = m.trailing_zeros();
    m >>= tz;
    e += i64::from(tz);
    const LIMIT: u128 = 1_000_000_000_000_000_000;
    // Exact value X × 10^q with X not divisible by 10.
    let (big_x, q) = if e < 0 {
        if e < -30 {
            return None;
        }
        let x5 = u128::from(m).checked_mul(5u128.checked_pow((-e) as u32)?)?;
        (x5, e)
    } else {
        let mut p = 0i64;
        let mut m5 = m;
        while p < e && m5 % 5 == 0 {
            m5 /= 5;
            p += 1;
        }
        let shift = e - p;
        if shift >= 64 {
            return None;
        }
        (u128::from(m5) << shift, p)
    };
    if big_x >= LIMIT || big_x % 10 != 5 {
        return None;
    }
    let k = digits.len();
    let mut exact = StackBuf::new();
    write!(exact, "{}", big_x).ok()?;
    if exact.len != k + 1 {
        return None;
    }
    // Candidates at 10^(q+1): lower = X / 10 and lower + 1, both k digits unless the
    // upper one carries (then it is not a k-digit candidate and the lower one is right).
    let lower = big_x / 10;
    let candidate = if lower % 2 == 0 { lower } else { lower + 1 };
    let mut cand = StackBuf::new();
    write!(cand, "{}", candidate).ok()?;
    if cand.len != k || cand.as_str() == digits {
        return None;
    }
    // The candidate's value is cand × 10^(q+1), with its first digit at 10^(q+k) like
    // the first digit of `digits`.
    let mut text = StackBuf::new();
    write!(text, "{}e{}", cand.as_str(), q + 1).ok()?;
    if text.as_str().parse::<f64>().ok()? != x {
        return None;
    }
    Some(cand)
}

/// A small fixed-size text buffer on the stack.
struct StackBuf {
    bytes: [u8; 48],
    len: usize,
}

impl StackBuf {
    fn new() -> Self {
        StackBuf {
            bytes: [0; 48],
            len: 0,
        }
    }

    fn as_str(&self) -> &str {
        // Only whole `&str`s are ever appended, so the contents are valid UTF-8.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }

    fn push_str(&mut self, s: &str) {
        let _ = fmt::Write::write_str(self, s);
    }
}

impl fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.bytes.len() {
            return Err(fmt::Error);
        }
        self.bytes[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The `parseNumber` rule: `None` when `s` is not a number.
///
/// Surrounding whitespace (the set JavaScript's `trim` removes) is ignored. Accepted: an
/// optional `+`/`-`, then either `Infinity` or ASCII digits with an optional fraction
/// (`.5` and `5.` included, `.` alone not) and an optional exponent (`e`/`E`, optional
/// sign, digits). Too large values (`1e999`) give `Infinity`. Everything else (empty,
/// `NaN`, `inf`, hex, non-ASCII digits, trailing characters) is `None`.
pub fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim_matches(is_js_whitespace);
    let bytes = t.as_bytes();
    let mut i = 0;
    let negative = match bytes.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let body = &bytes[i..];
    if body == b"Infinity" {
        return Some(if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    let count_digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let int_digits = count_digits(i);
    i += int_digits;
    let mut frac_digits = 0;
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = count_digits(i);
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_digits = count_digits(i);
        if exp_digits == 0 {
            return None;
        }
        i += exp_digits;
    }
    if i != bytes.len() {
        return None;
    }
    // The text is now plain ASCII decimal syntax that Rust's parser reads correctly
    // rounded (overflow to infinity, underflow to zero, `-0` to negative zero).
    t.parse::<f64>().ok()
}

/// The `%` operator: JavaScript's remainder, with the sign of the dividend (`-7 % 3` is
/// `-1`, `-6 % 3` is `-0`), NaN when either operand is NaN or `a` is infinite, `a` when
/// `b` is infinite.
///
/// The VM reports remainder by zero as an error before calling this; here `b == 0` gives
/// NaN, as in JavaScript. Integral operands below 2^53 take an exact integer fast path.
pub fn js_remainder(a: f64, b: f64) -> f64 {
    if a.abs() < TWO_POW_53 && b.abs() < TWO_POW_53 {
        let (ia, ib) = (a as i64, b as i64);
        if ia as f64 == a && ib as f64 == b && ib != 0 {
            let r = ia % ib;
            return if r == 0 { 0.0f64.copysign(a) } else { r as f64 };
        }
    }
    // Rust's f64 `%` is C's fmod, which agrees with JavaScript on NaN, infinities,
    // zeros and the sign of the result.
    a % b
}

/// `a % d` for `magic = fastmod_magic(d)` (Lemire, Kaser and Kurz, "Faster Remainder by
/// Direct Computation", 2019), exact for all 32-bit `a` and `d`.
#[inline(always)]
pub fn fastmod(a: u32, magic: u64, d: u32) -> u32 {
    let low = magic.wrapping_mul(a as u64);
    ((low as u128 * d as u128) >> 64) as u32
}

/// The constant `fastmod` needs for divisor `d` (>= 1): ceil(2^64 / d), wrapping to 0 for 1.
pub fn fastmod_magic(d: u32) -> u64 {
    (u64::MAX / d as u64).wrapping_add(1)
}

/// `toFixed(x, digits)`: JavaScript's `Number.prototype.toFixed`: `x` with exactly
/// `digits` (an integer in `0 ..= 100`, else the runtime error) decimals, rounded on the
/// exact value of the double with ties away from zero (`toFixed(2.5, 0)` is `"3"`,
/// `toFixed(1.005, 2)` is `"1.00"`: the double is just below 1.005); `NaN`, infinities
/// and magnitudes from 1e21 are printed as `str` prints them.
pub fn to_fixed(x: f64, digits: f64) -> Result<String, String> {
    if !(0.0..=100.0).contains(&digits) || digits != digits.trunc() {
        return Err(format!(
            "toFixed digits must be an integer in 0..=100, got {}",
            format_number(digits)
        ));
    }
    let digits = digits as usize;
    if !x.is_finite() || x.abs() >= 1e21 {
        return Ok(format_number(x));
    }
    // The exact decimal expansion (a double has at most 1074 fractional digits), then
    // rounding half up on the first digit dropped: `format!` rounds ties to even.
    let exact = format!("{:.1074}", x.abs());
    let point = exact.find('.').unwrap_or(exact.len());
    let mut kept: Vec<u8> = exact.as_bytes()[..point + 1 + digits].to_vec();
    if exact.as_bytes()[point + 1 + digits] >= b'5' {
        round_up(&mut kept);
    }
    if digits == 0 {
        kept.pop(); // the point
    }
    let mut out = String::with_capacity(kept.len() + 1);
    // JavaScript keeps the sign of a negative that rounds to zero ("-0.00"), not of -0.
    if x < 0.0 {
        out.push('-');
    }
    out.push_str(std::str::from_utf8(&kept).unwrap_or_default());
    Ok(out)
}

/// Adds one unit in the last place to a decimal `digits[.digits]`, carrying leftwards.
fn round_up(number: &mut Vec<u8>) {
    for i in (0..number.len()).rev() {
        match number[i] {
            b'.' => continue,
            b'9' => number[i] = b'0',
            d => {
                number[i] = d + 1;
                return;
            }
        }
    }
    number.insert(0, b'1');
}

#[cfg(test)]
mod fastmod_tests {
    use super::{fastmod, fastmod_magic};

    #[test]
    fn fastmod_matches_the_remainder() {
        for d in [1u32, 2, 3, 7, 10, 1000, 1_000_003, 2_147_483_647, u32::MAX] {
            let magic = fastmod_magic(d);
            for a in [
                0u32,
                1,
                2,
                6,
                7,
                99,
                12345,
                2_147_483_646,
                2_147_483_647,
                u32::MAX - 1,
                u32::MAX,
            ] {
                assert_eq!(fastmod(a, magic, d), a % d, "{a} % {d}");
            }
        }
    }
}
