//! String functions of the prelude. Indices and lengths count Unicode scalar values (Rust
//! `char`s), as LANGUAGE.md requires.
//!
//! Functions that index by scalar (`substring`, `charAt`, `charCode`) take any
//! [`Scalars`]: a plain `str` walks from its start (O(1) only when ASCII), the VM's
//! strings keep a count and checkpoints so every lookup is O(1) amortized.

use super::number::format_number;

/// Whether `c` is removed by JavaScript's `trim`: the WhiteSpace and LineTerminator sets
/// (tab, vertical tab, form feed, space, no-break space, BOM, the Unicode `Zs` category,
/// LF, CR, U+2028 and U+2029; not U+0085 or U+180E).
pub fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\u{0009}'
            | '\u{000A}'
            | '\u{000B}'
            | '\u{000C}'
            | '\u{000D}'
            | '\u{0020}'
            | '\u{00A0}'
            | '\u{1680}'
            | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

/// Number of Unicode scalar values in `s` (`len` of a string).
pub fn char_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// A `slice`/`substring` bound: `v` truncated toward zero, then clamped to `0 ..= n`
/// (negative values and NaN give 0, values beyond `n` give `n`).
pub fn bound(v: f64, n: usize) -> usize {
    if v.is_nan() || v <= 0.0 {
        0
    } else if v >= n as f64 {
        n
    } else {
        // 0 < v < n, so the truncation fits.
        v as usize
    }
}

/// A text that knows how many Unicode scalar values it holds and where each begins.
pub trait Scalars {
    fn text(&self) -> &str;
    /// Number of scalar values.
    fn scalar_count(&self) -> usize;
    /// The byte offset where scalar `k` begins (the text's length for `k >= count`).
    fn byte_offset(&self, k: usize) -> usize;
}

/// A plain `str` counts and walks from its start (O(1) when it is ASCII).
impl Scalars for str {
    fn text(&self) -> &str {
        self
    }

    fn scalar_count(&self) -> usize {
        char_len(self)
    }

    fn byte_offset(&self, k: usize) -> usize {
        if self.is_ascii() {
            return k.min(self.len());
        }
        self.char_indices().nth(k).map_or(self.len(), |(b, _)| b)
    }
}

impl<T: Scalars + ?Sized> Scalars for &T {
    fn text(&self) -> &str {
        (**self).text()
    }

    fn scalar_count(&self) -> usize {
        (**self).scalar_count()
    }

    fn byte_offset(&self, k: usize) -> usize {
        (**self).byte_offset(k)
    }
}

/// `substring(s, start, end)`: the scalar values `start ..< end` after [`bound`]ing both;
/// reversed bounds are swapped, as in JavaScript.
pub fn substring<S: Scalars + ?Sized>(s: &S, start: f64, end: f64) -> &str {
    let n = s.scalar_count();
    let (a, b) = ordered(bound(start, n), bound(end, n));
    if a == b {
        return "";
    }
    s.text()
        .get(s.byte_offset(a)..s.byte_offset(b))
        .unwrap_or("")
}

/// `(x, y)` in increasing order.
fn ordered(x: usize, y: usize) -> (usize, usize) {
    if x <= y {
        (x, y)
    } else {
        (y, x)
    }
}

/// `charAt(s, i)`: the scalar value at integral index `i` in `0 ..= len-1`, or the error
/// `charAt index I out of range for string of length N`.
pub fn char_at<S: Scalars + ?Sized>(s: &S, i: f64) -> Result<&str, String> {
    scalar_at(s, i).ok_or_else(|| char_at_error(i, s.scalar_count()))
}

/// The scalar value at `i` as a one-scalar slice, if `i` is an integral index in range.
fn scalar_at<S: Scalars + ?Sized>(s: &S, i: f64) -> Option<&str> {
    let integral = i.is_finite() && i == i.trunc() && i >= 0.0;
    if !integral || i >= s.scalar_count() as f64 {
        return None;
    }
    let text = s.text();
    let from = s.byte_offset(i as usize);
    let c = text.get(from..)?.chars().next()?;
    text.get(from..from + c.len_utf8())
}

/// The runtime error message of an out-of-range `charAt`.
fn char_at_error(i: f64, n: usize) -> String {
    format!(
        "charAt index {} out of range for string of length {}",
        format_number(i),
        n
    )
}

/// `indexOf(s, sub)`: the scalar index of the first occurrence of `sub` in `s`, or -1
/// (`indexOf(s, "")` is 0).
pub fn index_of(s: &str, sub: &str) -> f64 {
    match s.find(sub) {
        Some(b) => {
            let head = &s[..b];
            if head.is_ascii() {
                b as f64
            } else {
                head.chars().count() as f64
            }
        }
        None => -1.0,
    }
}

/// `includes(s, sub)`: whether `sub` occurs in `s`.
pub fn includes(s: &str, sub: &str) -> bool {
    s.contains(sub)
}

/// `startsWith(s, prefix)`.
pub fn starts_with(s: &str, prefix: &str) -> bool {
    s.starts_with(prefix)
}

/// `endsWith(s, suffix)`.
pub fn ends_with(s: &str, suffix: &str) -> bool {
    s.ends_with(suffix)
}

/// `toUpperCase(s)`: full Unicode uppercase mapping (`ß` becomes `SS`).
pub fn to_upper_case(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_uppercase()
    } else {
        s.to_uppercase()
    }
}

/// `toLowerCase(s)`: full Unicode lowercase mapping (final sigma handled).
pub fn to_lower_case(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

/// `trim(s)`: `s` without the surrounding whitespace JavaScript's `trim` removes (see
/// [`is_js_whitespace`]), borrowed from `s`.
pub fn trim(s: &str) -> &str {
    s.trim_matches(is_js_whitespace)
}

/// `split(s, sep)` as owned strings; see [`split_str`].
pub fn split(s: &str, sep: &str) -> Vec<String> {
    split_str(s, sep).into_iter().map(str::to_owned).collect()
}

/// `split(s, sep)` borrowing from `s`: with an empty `sep`, the scalar values of `s`
/// (`[]` for an empty `s`); otherwise JavaScript's `split` (`split("", ",")` is `[""]`, a
/// separator not found gives `[s]`, adjacent or edge separators give empty parts).
pub fn split_str<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    if sep.is_empty() {
        if s.is_ascii() {
            (0..s.len()).filter_map(|i| s.get(i..i + 1)).collect()
        } else {
            s.char_indices()
                .map(|(b, c)| &s[b..b + c.len_utf8()])
                .collect()
        }
    } else {
        s.split(sep).collect()
    }
}

/// `join(parts, sep)`: the parts with `sep` between each two.
pub fn join<I>(parts: I, sep: &str) -> String
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let mut out = String::new();
    for (k, part) in parts.into_iter().enumerate() {
        if k > 0 {
            out.push_str(sep);
        }
        out.push_str(part.as_ref());
    }
    out
}

/// `replace(s, from, to)`: every occurrence of `from`, left to right and without
/// overlaps, replaced by `to` inserted literally; an empty `from` inserts `to` between
/// scalar values and at both ends (JavaScript's `replaceAll`).
pub fn replace(s: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(replaced_len(s, from, to));
    replace_into(&mut out, s, from, to);
    out
}

/// [`replace`], appending to `out`.
pub fn replace_into(out: &mut String, s: &str, from: &str, to: &str) {
    if from.is_empty() {
        out.push_str(to);
        for c in s.chars() {
            out.push(c);
            out.push_str(to);
        }
        return;
    }
    let mut rest = 0;
    for (at, _) in s.match_indices(from) {
        out.push_str(&s[rest..at]);
        out.push_str(to);
        rest = at + from.len();
    }
    out.push_str(&s[rest..]);
}

/// The byte length of [`replace`]'s result, computed without building it (for the
/// memory limit); saturating.
pub fn replaced_len(s: &str, from: &str, to: &str) -> usize {
    let matches = if from.is_empty() {
        char_len(s) + 1
    } else {
        s.matches(from).count()
    };
    let removed = matches.saturating_mul(from.len());
    s.len()
        .saturating_sub(removed)
        .saturating_add(matches.saturating_mul(to.len()))
}

/// The count of `repeat(s, n)`: `n` integral and `>= 0`, or the runtime error.
pub fn repeat_count(n: f64) -> Result<usize, String> {
    if n >= 0.0 && n == n.trunc() && n <= usize::MAX as f64 {
        Ok(n as usize)
    } else {
        Err(format!(
            "repeat count must be an integer >= 0, got {}",
            format_number(n)
        ))
    }
}

/// The target length of `padStart`/`padEnd` (JavaScript's ToLength: truncated, NaN and
/// negatives 0), saturating at `usize::MAX`.
pub fn pad_length(n: f64) -> usize {
    if n.is_nan() || n <= 0.0 {
        0
    } else if n >= usize::MAX as f64 {
        usize::MAX
    } else {
        n as usize
    }
}

/// `lastIndexOf(s, sub)`: the scalar index of the last occurrence of `sub` in `s`, or -1
/// (`lastIndexOf(s, "")` is `len(s)`).
pub fn last_index_of(s: &str, sub: &str) -> f64 {
    match s.rfind(sub) {
        Some(b) => char_len(&s[..b]) as f64,
        None => -1.0,
    }
}

/// `charCode(s, i)`: the Unicode scalar value at integral index `i` in `0 ..= len-1`,
/// or the error `charCode index I out of range for string of length N`.
pub fn char_code<S: Scalars + ?Sized>(s: &S, i: f64) -> Result<f64, String> {
    match scalar_at(s, i).and_then(|c| c.chars().next()) {
        Some(c) => Ok(c as u32 as f64),
        None => Err(format!(
            "charCode index {} out of range for string of length {}",
            format_number(i),
            s.scalar_count()
        )),
    }
}

/// `fromCharCode(n)`: the one-scalar string of Unicode scalar value `n`, or the runtime
/// error (a fraction, a negative, a surrogate, or beyond U+10FFFF).
pub fn from_char_code(n: f64) -> Result<String, String> {
    let scalar = (n >= 0.0 && n == n.trunc() && n <= 0x10FFFF as f64)
        .then(|| char::from_u32(n as u32))
        .flatten();
    scalar.map(String::from).ok_or_else(|| {
        format!(
            "fromCharCode: {} is not a Unicode scalar value",
            format_number(n)
        )
    })
}
