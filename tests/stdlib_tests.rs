//! Tests of the pure prelude semantics in `atlas::stdlib` (LANGUAGE.md, "Printing numbers
//! and values", "Prelude" and "Precise rules"). Expected values agree with JavaScript and
//! with the Python oracle `shared/difftest/prelude.py`.

// `3.14` is tested as a literal number, not as an approximation of pi.
#![allow(clippy::approx_constant)]

use atlas::stdlib::math;
use atlas::stdlib::number::to_fixed;
use atlas::stdlib::number::{format_number, js_remainder, parse_number, write_number};
use atlas::stdlib::random::Rng;
use atlas::stdlib::strings::{
    bound, char_at, char_code, char_len, ends_with, from_char_code, includes, index_of,
    is_js_whitespace, join, last_index_of, pad_length, repeat_count, replace, replaced_len, split,
    split_str, starts_with, substring, to_lower_case, to_upper_case, trim,
};
use atlas::vm::value::Str;
use rstest::rstest;

const NAN: f64 = f64::NAN;
const INF: f64 = f64::INFINITY;

/// Same f64, including NaN and the sign of zero.
fn same(actual: f64, expected: f64) -> bool {
    (actual.is_nan() && expected.is_nan()) || actual.to_bits() == expected.to_bits()
}

fn assert_same(actual: f64, expected: f64) {
    assert!(
        same(actual, expected),
        "got {actual:?} ({:#x}), expected {expected:?} ({:#x})",
        actual.to_bits(),
        expected.to_bits()
    );
}

// ---------------------------------------------------------------- format_number

#[rstest]
#[case(0.0, "0")]
#[case(-0.0, "0")]
#[case(1.0, "1")]
#[case(-1.0, "-1")]
#[case(3.0, "3")]
#[case(-5.0, "-5")]
#[case(42.0, "42")]
#[case(100.0, "100")]
#[case(1000000.0, "1000000")]
#[case(-123456789.0, "-123456789")]
#[case(2.5, "2.5")]
#[case(-2.5, "-2.5")]
#[case(0.5, "0.5")]
#[case(0.1, "0.1")]
#[case(3.14, "3.14")]
#[case(0.001, "0.001")]
#[case(0.1 + 0.2, "0.30000000000000004")]
#[case(1.0 / 3.0, "0.3333333333333333")]
#[case(2.0 / 3.0, "0.6666666666666666")]
#[case(-1.0 / 3.0, "-0.3333333333333333")]
#[case(100.5, "100.5")]
#[case(123.456, "123.456")]
#[case(1e21, "1e+21")]
#[case(-1e21, "-1e+21")]
#[case(1e20, "100000000000000000000")]
#[case(123456789012345680000.0, "123456789012345680000")]
#[case(999999999999999900000.0, "999999999999999900000")]
#[case(1.2345e25, "1.2345e+25")]
#[case(1e100, "1e+100")]
#[case(1.7976931348623157e308, "1.7976931348623157e+308")]
#[case(-1.7976931348623157e308, "-1.7976931348623157e+308")]
#[case(5e-324, "5e-324")]
#[case(2.2250738585072014e-308, "2.2250738585072014e-308")]
#[case(1e-6, "0.000001")]
#[case(0.000001, "0.000001")]
#[case(1.5e-6, "0.0000015")]
#[case(0.0000001, "1e-7")]
#[case(1e-7, "1e-7")]
#[case(1.5e-7, "1.5e-7")]
#[case(-1.5e-7, "-1.5e-7")]
#[case(1.2345e-10, "1.2345e-10")]
#[case(9007199254740992.0, "9007199254740992")]
#[case(9007199254740993.0, "9007199254740992")]
#[case(9007199254740994.0, "9007199254740994")]
#[case(-9007199254740992.0, "-9007199254740992")]
#[case(18014398509481984.0, "18014398509481984")]
#[case(1152921504606846976.0, "1152921504606847000")]
#[case(4503599627370495.5, "4503599627370495.5")]
#[case(NAN, "NaN")]
#[case(INF, "Infinity")]
#[case(-INF, "-Infinity")]
#[case(1e16, "10000000000000000")]
#[case(12345678.9, "12345678.9")]
#[case(0.1 * 3.0, "0.30000000000000004")]
// Exact halfway between two shortest candidates: JavaScript picks the even digit.
#[case(-689761146579780.2, "-689761146579780.2")]
#[case(-152.15866088867188, "-152.15866088867188")]
#[case(-18050132957.820312, "-18050132957.820312")]
#[case(107730572.32617188, "107730572.32617188")]
fn formats_numbers_like_javascript(#[case] x: f64, #[case] expected: &str) {
    assert_eq!(format_number(x), expected);
    let mut out = String::from(">");
    write_number(&mut out, x);
    assert_eq!(out, format!(">{expected}"));
}

#[test]
fn formatted_numbers_read_back() {
    let mut x = 1.0e-310f64;
    while x < 1e300 {
        for v in [x, -x, x * 1.000001, x / 7.0] {
            let text = format_number(v);
            assert_eq!(text.parse::<f64>().ok(), Some(v), "{text}");
        }
        x *= 3.7;
    }
}

// ---------------------------------------------------------------- parse_number

#[rstest]
#[case("0", 0.0)]
#[case("-0", -0.0)]
#[case("+0", 0.0)]
#[case("42", 42.0)]
#[case("-42", -42.0)]
#[case("+42", 42.0)]
#[case("3.14", 3.14)]
#[case(".5", 0.5)]
#[case("-.5", -0.5)]
#[case("5.", 5.0)]
#[case("5.e3", 5000.0)]
#[case("1e3", 1000.0)]
#[case("1E3", 1000.0)]
#[case("1e+3", 1000.0)]
#[case("1.5e-3", 0.0015)]
#[case("00012", 12.0)]
#[case("  12  ", 12.0)]
#[case("\t\n 7 \r\n", 7.0)]
#[case("\u{a0}\u{feff}8\u{2028}\u{3000}", 8.0)]
#[case("Infinity", INF)]
#[case("+Infinity", INF)]
#[case("-Infinity", -INF)]
#[case(" Infinity ", INF)]
#[case("1e999", INF)]
#[case("-1e999", -INF)]
#[case("1e-999", 0.0)]
#[case("0.1", 0.1)]
#[case("123456789012345678901234567890", 1.2345678901234568e29)]
#[case("5e-324", 5e-324)]
#[case("1.7976931348623157e308", 1.7976931348623157e308)]
fn parses_numbers(#[case] text: &str, #[case] expected: f64) {
    assert_same(parse_number(text).expect(text), expected);
}

#[rstest]
#[case("")]
#[case("   ")]
#[case(".")]
#[case("-")]
#[case("+")]
#[case("-.")]
#[case("e5")]
#[case(".e5")]
#[case("1e")]
#[case("1e+")]
#[case("1e5.5")]
#[case("1.2.3")]
#[case("--1")]
#[case("+-1")]
#[case("NaN")]
#[case("inf")]
#[case("infinity")]
#[case("-inf")]
#[case("Infinityx")]
#[case("0x10")]
#[case("0b1")]
#[case("1_000")]
#[case("12abc")]
#[case("abc")]
#[case("1 2")]
#[case("\u{0663}")]
#[case("\u{ff11}")]
#[case("\u{85}12")]
#[case("12\u{180e}")]
#[case("\u{200b}1")]
fn rejects_non_numbers(#[case] text: &str) {
    assert_eq!(parse_number(text), None, "{text:?}");
}

// ---------------------------------------------------------------- js_remainder

#[rstest]
#[case(7.0, 3.0, 1.0)]
#[case(-7.0, 3.0, -1.0)]
#[case(7.0, -3.0, 1.0)]
#[case(-7.0, -3.0, -1.0)]
#[case(6.0, 3.0, 0.0)]
#[case(-6.0, 3.0, -0.0)]
#[case(-6.0, -3.0, -0.0)]
#[case(0.0, 5.0, 0.0)]
#[case(-0.0, 5.0, -0.0)]
#[case(5.5, 2.0, 1.5)]
#[case(-5.5, 2.0, -1.5)]
#[case(5.0, 2.5, 0.0)]
#[case(0.3, 0.1, 0.09999999999999998)]
#[case(INF, 2.0, NAN)]
#[case(-INF, 2.0, NAN)]
#[case(2.0, INF, 2.0)]
#[case(-2.0, -INF, -2.0)]
#[case(-0.0, INF, -0.0)]
#[case(NAN, 2.0, NAN)]
#[case(2.0, NAN, NAN)]
#[case(5.0, 0.0, NAN)]
#[case(1e20, 3.0, 1.0)]
#[case(-1e20, 7.0, -2.0)]
#[case(9007199254740993.0, 2.0, 0.0)]
#[case(18014398509481984.0, 10.0, 4.0)]
#[case(1e300, 1e-300, 4.891554850853602e-301)]
fn remainder_like_javascript(#[case] a: f64, #[case] b: f64, #[case] expected: f64) {
    assert_same(js_remainder(a, b), expected);
}

// ---------------------------------------------------------------- math

#[rstest]
#[case(0.5, 1.0)]
#[case(-0.5, -1.0)]
#[case(1.5, 2.0)]
#[case(2.5, 3.0)]
#[case(-2.5, -3.0)]
#[case(2.4, 2.0)]
#[case(-2.6, -3.0)]
#[case(-0.4, -0.0)]
#[case(0.4, 0.0)]
#[case(-0.0, -0.0)]
#[case(0.0, 0.0)]
#[case(0.49999999999999994, 0.0)]
#[case(-0.49999999999999994, -0.0)]
#[case(4503599627370495.5, 4503599627370496.0)]
#[case(4503599627370497.0, 4503599627370497.0)]
#[case(1e300, 1e300)]
#[case(NAN, NAN)]
#[case(INF, INF)]
#[case(-INF, -INF)]
fn round_half_away_from_zero(#[case] x: f64, #[case] expected: f64) {
    assert_same(math::round(x), expected);
}

#[rstest]
#[case(1.0, 2.0, 1.0, 2.0)]
#[case(2.0, 1.0, 1.0, 2.0)]
#[case(-3.0, 3.0, -3.0, 3.0)]
#[case(NAN, 1.0, NAN, NAN)]
#[case(1.0, NAN, NAN, NAN)]
#[case(NAN, NAN, NAN, NAN)]
#[case(0.0, -0.0, -0.0, 0.0)]
#[case(-0.0, 0.0, -0.0, 0.0)]
#[case(-0.0, -0.0, -0.0, -0.0)]
#[case(0.0, 0.0, 0.0, 0.0)]
#[case(-INF, INF, -INF, INF)]
#[case(INF, 5.0, 5.0, INF)]
fn min_and_max(#[case] a: f64, #[case] b: f64, #[case] lo: f64, #[case] hi: f64) {
    assert_same(math::min(a, b), lo);
    assert_same(math::max(a, b), hi);
}

#[rstest]
#[case(2.0, 10.0, 1024.0)]
#[case(2.0, -1.0, 0.5)]
#[case(-2.0, 3.0, -8.0)]
#[case(4.0, 0.5, 2.0)]
#[case(1.0, INF, NAN)]
#[case(1.0, -INF, NAN)]
#[case(-1.0, INF, NAN)]
#[case(-1.0, -INF, NAN)]
#[case(1.0, NAN, NAN)]
#[case(NAN, 0.0, 1.0)]
#[case(NAN, -0.0, 1.0)]
#[case(INF, 0.0, 1.0)]
#[case(NAN, 1.0, NAN)]
#[case(2.0, INF, INF)]
#[case(0.5, INF, 0.0)]
#[case(2.0, -INF, 0.0)]
#[case(0.5, -INF, INF)]
#[case(-2.0, INF, INF)]
#[case(INF, 2.0, INF)]
#[case(INF, -2.0, 0.0)]
#[case(-INF, 3.0, -INF)]
#[case(-INF, 2.0, INF)]
#[case(-INF, -3.0, -0.0)]
#[case(-INF, -2.0, 0.0)]
#[case(0.0, 3.0, 0.0)]
#[case(-0.0, 3.0, -0.0)]
#[case(-0.0, 2.0, 0.0)]
#[case(0.0, -3.0, INF)]
#[case(-0.0, -3.0, -INF)]
#[case(-0.0, -2.0, INF)]
#[case(-8.0, 1.0 / 3.0, NAN)]
#[case(-2.0, 0.5, NAN)]
#[case(10.0, 308.0, 1e308)]
#[case(10.0, 400.0, INF)]
fn pow_like_javascript(#[case] a: f64, #[case] b: f64, #[case] expected: f64) {
    assert_same(math::pow(a, b), expected);
}

#[rstest]
#[case(4.0, 2.0, 4.0, 4.0, 4.0)]
#[case(-1.0, NAN, 1.0, -1.0, -1.0)]
#[case(-0.0, -0.0, 0.0, -0.0, -0.0)]
#[case(2.5, 1.5811388300841898, 2.5, 2.0, 3.0)]
#[case(-2.5, NAN, 2.5, -3.0, -2.0)]
#[case(-0.5, NAN, 0.5, -1.0, -0.0)]
#[case(INF, INF, INF, INF, INF)]
#[case(-INF, NAN, INF, -INF, -INF)]
#[case(NAN, NAN, NAN, NAN, NAN)]
fn sqrt_abs_floor_ceil(
    #[case] x: f64,
    #[case] sqrt: f64,
    #[case] abs: f64,
    #[case] floor: f64,
    #[case] ceil: f64,
) {
    assert_same(math::sqrt(x), sqrt);
    assert_same(math::abs(x), abs);
    assert_same(math::floor(x), floor);
    assert_same(math::ceil(x), ceil);
}

// ---------------------------------------------------------------- strings

#[rstest]
#[case("", 0)]
#[case("abc", 3)]
#[case("é", 1)]
#[case("😀", 1)]
#[case("a😀é b", 5)]
fn counts_scalar_values(#[case] s: &str, #[case] n: usize) {
    assert_eq!(char_len(s), n);
}

#[rstest]
#[case(0.0, 5, 0)]
#[case(-0.0, 5, 0)]
#[case(2.0, 5, 2)]
#[case(2.9, 5, 2)]
#[case(-2.9, 5, 0)]
#[case(-1.0, 5, 0)]
#[case(5.0, 5, 5)]
#[case(7.5, 5, 5)]
#[case(INF, 5, 5)]
#[case(-INF, 5, 0)]
#[case(NAN, 5, 0)]
#[case(1e300, 0, 0)]
fn clamps_bounds(#[case] v: f64, #[case] n: usize, #[case] expected: usize) {
    assert_eq!(bound(v, n), expected);
}

#[rstest]
#[case("hello", 1.0, 3.0, "el")]
#[case("hello", 3.0, 1.0, "el")]
#[case("hello", 0.0, 5.0, "hello")]
#[case("hello", -3.0, 2.0, "he")]
#[case("hello", 2.0, 100.0, "llo")]
#[case("hello", 1.9, 3.9, "el")]
#[case("hello", 4.0, 4.0, "")]
#[case("hello", 100.0, -100.0, "hello")]
#[case("hello", NAN, 2.0, "he")]
#[case("hello", INF, -INF, "hello")]
#[case("", 0.0, 1.0, "")]
#[case("héllo", 1.0, 3.0, "él")]
#[case("a😀b😀c", 1.0, 4.0, "😀b😀")]
#[case("a😀b😀c", 4.0, 1.0, "😀b😀")]
#[case("a😀b😀c", 3.0, 5.0, "😀c")]
#[case("a😀b😀c", 5.0, 9.0, "")]
#[case("😀😀", 0.0, 1.0, "😀")]
fn substrings(#[case] s: &str, #[case] start: f64, #[case] end: f64, #[case] expected: &str) {
    assert_eq!(substring(s, start, end), expected);
    assert_eq!(substring(&Str::new(s), start, end), expected);
}

#[rstest]
#[case("abc", 0.0, "a")]
#[case("abc", 2.0, "c")]
#[case("abc", -0.0, "a")]
#[case("é😀x", 0.0, "é")]
#[case("é😀x", 1.0, "😀")]
#[case("é😀x", 2.0, "x")]
fn char_at_in_range(#[case] s: &str, #[case] i: f64, #[case] expected: &str) {
    assert_eq!(char_at(s, i).as_deref(), Ok(expected));
    assert_eq!(char_at(&Str::new(s), i), Ok(expected));
}

#[rstest]
#[case("abc", 3.0, "charAt index 3 out of range for string of length 3")]
#[case("abc", -1.0, "charAt index -1 out of range for string of length 3")]
#[case("abc", 1.5, "charAt index 1.5 out of range for string of length 3")]
#[case("abc", NAN, "charAt index NaN out of range for string of length 3")]
#[case(
    "abc",
    INF,
    "charAt index Infinity out of range for string of length 3"
)]
#[case("", 0.0, "charAt index 0 out of range for string of length 0")]
#[case("é😀", 2.0, "charAt index 2 out of range for string of length 2")]
#[case("é😀", 1e21, "charAt index 1e+21 out of range for string of length 2")]
fn char_at_out_of_range(#[case] s: &str, #[case] i: f64, #[case] message: &str) {
    assert_eq!(char_at(s, i), Err(message.to_string()));
    assert_eq!(char_at(&Str::new(s), i), Err(message.to_string()));
}

#[rstest]
#[case("hello", "l", 2.0)]
#[case("hello", "lo", 3.0)]
#[case("hello", "", 0.0)]
#[case("", "", 0.0)]
#[case("", "a", -1.0)]
#[case("hello", "z", -1.0)]
#[case("hello", "hello!", -1.0)]
#[case("é😀x😀", "x", 2.0)]
#[case("é😀x😀", "😀", 1.0)]
#[case("é😀x😀", "😀", 1.0)]
#[case("aé", "é", 1.0)]
fn index_of_counts_scalars(#[case] s: &str, #[case] sub: &str, #[case] expected: f64) {
    assert_same(index_of(s, sub), expected);
    assert_eq!(includes(s, sub), expected >= 0.0);
}

#[rstest]
#[case("hello", "he", true, false)]
#[case("hello", "lo", false, true)]
#[case("hello", "", true, true)]
#[case("hello", "hello", true, true)]
#[case("hi", "hi!", false, false)]
#[case("😀é", "😀", true, false)]
#[case("😀é", "é", false, true)]
fn prefixes_and_suffixes(
    #[case] s: &str,
    #[case] part: &str,
    #[case] starts: bool,
    #[case] ends: bool,
) {
    assert_eq!(starts_with(s, part), starts);
    assert_eq!(ends_with(s, part), ends);
}

#[rstest]
#[case("Hello, World!", "HELLO, WORLD!", "hello, world!")]
#[case("", "", "")]
#[case("éÉüÜ😀", "ÉÉÜÜ😀", "ééüü😀")]
#[case("straße", "STRASSE", "straße")]
#[case("ΣΑΣ", "ΣΑΣ", "σας")]
fn case_mapping(#[case] s: &str, #[case] upper: &str, #[case] lower: &str) {
    assert_eq!(to_upper_case(s), upper);
    assert_eq!(to_lower_case(s), lower);
}

#[rstest]
#[case("  hi  ", "hi")]
#[case("\t\n\r hi \u{b}\u{c}", "hi")]
#[case(
    "\u{a0}\u{feff}\u{1680}\u{2000}\u{200a}\u{202f}\u{205f}\u{3000}x\u{2028}\u{2029}",
    "x"
)]
#[case("\u{85}x\u{85}", "\u{85}x\u{85}")]
#[case("\u{180e}x", "\u{180e}x")]
#[case("\u{200b}x", "\u{200b}x")]
#[case("a b", "a b")]
#[case("   ", "")]
#[case("", "")]
#[case(" é😀 ", "é😀")]
fn trims_javascript_whitespace(#[case] s: &str, #[case] expected: &str) {
    assert_eq!(trim(s), expected);
}

#[test]
fn whitespace_set() {
    for c in [
        '\t', '\n', '\u{b}', '\u{c}', '\r', ' ', '\u{a0}', '\u{feff}', '\u{2028}',
    ] {
        assert!(is_js_whitespace(c), "{c:?}");
    }
    for c in ['\u{85}', '\u{180e}', '\u{200b}', 'a', '0', '\0'] {
        assert!(!is_js_whitespace(c), "{c:?}");
    }
}

#[rstest]
#[case("a,b,c", ",", &["a", "b", "c"])]
#[case("a,b,", ",", &["a", "b", ""])]
#[case(",a", ",", &["", "a"])]
#[case("a,,b", ",", &["a", "", "b"])]
#[case(",", ",", &["", ""])]
#[case("", ",", &[""])]
#[case("abc", ",", &["abc"])]
#[case("abc", "", &["a", "b", "c"])]
#[case("", "", &[])]
#[case("é😀x", "", &["é", "😀", "x"])]
#[case("a😀b😀", "😀", &["a", "b", ""])]
#[case("a, b, c", ", ", &["a", "b", "c"])]
#[case("aaa", "aa", &["", "a"])]
#[case("abc", "abcd", &["abc"])]
fn splits_like_javascript(#[case] s: &str, #[case] sep: &str, #[case] expected: &[&str]) {
    assert_eq!(split(s, sep), expected);
    assert_eq!(split_str(s, sep), expected);
}

#[rstest]
#[case(&[], ",", "")]
#[case(&["a"], ",", "a")]
#[case(&["a", "b", "c"], ", ", "a, b, c")]
#[case(&["", ""], ",", ",")]
#[case(&["é", "😀"], "", "é😀")]
fn joins(#[case] parts: &[&str], #[case] sep: &str, #[case] expected: &str) {
    assert_eq!(join(parts, sep), expected);
    let owned: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
    assert_eq!(join(&owned, sep), expected);
    assert_eq!(join(owned.iter().map(String::as_str), sep), expected);
}

// ---------------------------------------------------------------- version 2 prelude

/// JavaScript's `replaceAll`, checked against node: `"aaa".replaceAll("aa", "b")` is `"ba"`.
#[rstest]
#[case("a-b-c", "-", "+", "a+b+c")]
#[case("aaaa", "aa", "b", "bb")]
#[case("aaa", "aa", "b", "ba")]
#[case("abc", "", "-", "-a-b-c-")]
#[case("", "", "-", "-")]
#[case("", "a", "b", "")]
#[case("héé", "é", "e", "hee")]
#[case("é", "", "|", "|é|")]
#[case("x", "x", "", "")]
#[case("a$b", "$", "$&", "a$&b")]
fn replace_every_occurrence(
    #[case] s: &str,
    #[case] from: &str,
    #[case] to: &str,
    #[case] expected: &str,
) {
    assert_eq!(replace(s, from, to), expected);
    assert_eq!(
        replaced_len(s, from, to),
        expected.len(),
        "the size reserved"
    );
}

#[rstest]
#[case(0.0, Some(0))]
#[case(3.0, Some(3))]
#[case(-0.0, Some(0))]
#[case(-1.0, None)]
#[case(1.5, None)]
#[case(NAN, None)]
#[case(INF, None)]
fn repeat_counts(#[case] n: f64, #[case] expected: Option<usize>) {
    assert_eq!(repeat_count(n).ok(), expected);
}

/// JavaScript's ToLength for the pad target.
#[rstest]
#[case(5.0, 5)]
#[case(5.9, 5)]
#[case(-3.0, 0)]
#[case(NAN, 0)]
#[case(INF, usize::MAX)]
fn pad_lengths(#[case] n: f64, #[case] expected: usize) {
    assert_eq!(pad_length(n), expected);
}

#[rstest]
#[case("héllo héllo", "é", 7.0)]
#[case("abcabc", "abc", 3.0)]
#[case("abc", "d", -1.0)]
#[case("abc", "", 3.0)]
#[case("ééé", "", 3.0)]
#[case("", "", 0.0)]
fn last_index_of_counts_scalars(#[case] s: &str, #[case] sub: &str, #[case] expected: f64) {
    assert_same(last_index_of(s, sub), expected);
}

#[rstest]
#[case("A", 0.0, Ok(65.0))]
#[case("héllo", 1.0, Ok(233.0))]
#[case("a😀", 1.0, Ok(128512.0))]
#[case(
    "héllo",
    5.0,
    Err("charCode index 5 out of range for string of length 5")
)]
#[case("abc", -1.0, Err("charCode index -1 out of range for string of length 3"))]
#[case(
    "abc",
    0.5,
    Err("charCode index 0.5 out of range for string of length 3")
)]
fn char_codes(#[case] s: &str, #[case] i: f64, #[case] expected: Result<f64, &str>) {
    let expected = expected.map_err(str::to_owned);
    assert_eq!(char_code(s, i), expected);
    assert_eq!(char_code(&Str::new(s), i), expected);
}

#[rstest]
#[case(65.0, Some("A"))]
#[case(0.0, Some("\0"))]
#[case(233.0, Some("é"))]
#[case(1114111.0, Some("\u{10FFFF}"))]
#[case(55296.0, None)]
#[case(57343.0, None)]
#[case(1114112.0, None)]
#[case(-1.0, None)]
#[case(65.5, None)]
#[case(NAN, None)]
fn from_char_codes(#[case] n: f64, #[case] expected: Option<&str>) {
    assert_eq!(from_char_code(n).ok().as_deref(), expected);
}

/// Expected values from node's `Number.prototype.toFixed` (3,000 more random cases
/// agreed with node when this was written).
#[rstest]
#[case(3.14159, 2.0, "3.14")]
#[case(2.5, 0.0, "3")]
#[case(-2.5, 0.0, "-3")]
#[case(1.005, 2.0, "1.00")]
#[case(1.45, 1.0, "1.4")]
#[case(0.125, 2.0, "0.13")]
#[case(-0.0001, 2.0, "-0.00")]
#[case(-0.0, 2.0, "0.00")]
#[case(9.995, 2.0, "9.99")]
#[case(99.5, 0.0, "100")]
#[case(999.99, 1.0, "1000.0")]
#[case(0.000001, 7.0, "0.0000010")]
#[case(1e21, 2.0, "1e+21")]
#[case(-1e21, 2.0, "-1e+21")]
#[case(INF, 1.0, "Infinity")]
#[case(NAN, 1.0, "NaN")]
#[case(0.1, 20.0, "0.10000000000000000555")]
#[case(5e-324, 3.0, "0.000")]
#[case(123456789012345680000.0, 1.0, "123456789012345683968.0")]
fn to_fixed_is_javascripts(#[case] x: f64, #[case] digits: f64, #[case] expected: &str) {
    assert_eq!(to_fixed(x, digits).unwrap(), expected);
}

#[rstest]
#[case(-1.0)]
#[case(101.0)]
#[case(1.5)]
#[case(NAN)]
fn to_fixed_digits_out_of_range(#[case] digits: f64) {
    assert!(to_fixed(1.0, digits)
        .unwrap_err()
        .starts_with("toFixed digits must be an integer in 0..=100"));
}

#[test]
fn random_is_uniform_and_repeatable_by_seed() {
    let mut a = Rng::from_seed(42);
    let mut b = Rng::from_seed(42);
    let mut c = Rng::from_seed(43);
    let xs: Vec<f64> = (0..10_000).map(|_| a.next_f64()).collect();
    let ys: Vec<f64> = (0..10_000).map(|_| b.next_f64()).collect();
    assert_eq!(xs, ys, "the same seed, the same numbers");
    assert_ne!(
        xs[..8],
        (0..8).map(|_| c.next_f64()).collect::<Vec<_>>()[..]
    );
    assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
    // Ten buckets of about 1,000 each (a 5-sigma band of a binomial(10000, 0.1)).
    let mut buckets = [0u32; 10];
    for x in &xs {
        buckets[(x * 10.0) as usize] += 1;
    }
    assert!(
        buckets.iter().all(|&n| (850..=1150).contains(&n)),
        "{buckets:?}"
    );
    assert_ne!(Rng::from_entropy(), Rng::from_entropy());
}

/// A long string of one- to four-byte scalars: `charAt`, `charCode` and `substring` on the
/// VM's `Str` (through its checkpoint index) agree with a walk from the start at every
/// index, on both sides of every checkpoint.
#[test]
fn indexed_lookups_agree_with_a_walk() {
    let pieces = ["a", "é", "€", "😀", "z", "ß"];
    let text: String = (0..1000)
        .map(|i| pieces[(i * 7 + i / 5) % pieces.len()])
        .collect();
    let chars: Vec<char> = text.chars().collect();
    let s = Str::new(text.as_str());
    assert_eq!(s.char_len(), chars.len());
    for (k, c) in chars.iter().enumerate() {
        let i = k as f64;
        assert_eq!(char_at(&s, i), Ok(c.to_string().as_str()), "charAt {k}");
        assert_eq!(char_code(&s, i), Ok(*c as u32 as f64), "charCode {k}");
    }
    for (a, b) in [
        (0, 1000),
        (63, 65),
        (64, 128),
        (1, 999),
        (500, 500),
        (127, 129),
        (999, 2000),
    ] {
        let expected: String = chars[a.min(1000)..b.min(1000)].iter().collect();
        assert_eq!(
            substring(&s, a as f64, b as f64),
            expected,
            "substring {a} {b}"
        );
    }
    assert!(char_at(&s, 1000.0).is_err());
}
