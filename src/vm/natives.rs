//! Prelude functions that are plain functions of their arguments (no callbacks): called
//! by `call_native` straight on the caller's registers, without boxing the arguments.
//! `print`, `str`, `len`, `push`, `pop` are opcodes and `map`, `filter`, `reduce` are
//! compiled into loops, so they are not here.

use std::mem::size_of;
use std::rc::Rc;

use super::hostio;
use super::value::{Str, Value, STR_OVERHEAD};
use super::Runtime;
use crate::builtins::Builtin;
use crate::stdlib::strings::Scalars;
use crate::stdlib::{math, number, strings};

/// A native function: arguments in, result or error message out.
pub type NativeFn = fn(&Runtime, &[Value]) -> Result<Value, String>;

/// The native functions; `call_native` operands and `Value::Native` index this table.
pub static NATIVES: &[(Builtin, NativeFn)] = &[
    (Builtin::Slice, slice),
    (Builtin::Concat, concat),
    (Builtin::Join, join),
    (Builtin::Split, split),
    (Builtin::Substring, substring),
    (Builtin::CharAt, char_at),
    (Builtin::IndexOf, |_, a| {
        Ok(Value::Num(strings::index_of(s(a, 0), s(a, 1))))
    }),
    (Builtin::Includes, |_, a| {
        Ok(Value::Bool(strings::includes(s(a, 0), s(a, 1))))
    }),
    (Builtin::StartsWith, |_, a| {
        Ok(Value::Bool(strings::starts_with(s(a, 0), s(a, 1))))
    }),
    (Builtin::EndsWith, |_, a| {
        Ok(Value::Bool(strings::ends_with(s(a, 0), s(a, 1))))
    }),
    (Builtin::ToUpperCase, |_, a| {
        Ok(Value::str(strings::to_upper_case(s(a, 0))))
    }),
    (Builtin::ToLowerCase, |_, a| {
        Ok(Value::str(strings::to_lower_case(s(a, 0))))
    }),
    (Builtin::Trim, trim),
    (Builtin::ParseNumber, parse_number),
    (Builtin::Sqrt, |_, a| Ok(Value::Num(math::sqrt(n(a, 0))))),
    (Builtin::Abs, |_, a| Ok(Value::Num(math::abs(n(a, 0))))),
    (Builtin::Floor, |_, a| Ok(Value::Num(math::floor(n(a, 0))))),
    (Builtin::Ceil, |_, a| Ok(Value::Num(math::ceil(n(a, 0))))),
    (Builtin::Round, |_, a| Ok(Value::Num(math::round(n(a, 0))))),
    (Builtin::Min, |_, a| {
        Ok(Value::Num(math::min(n(a, 0), n(a, 1))))
    }),
    (Builtin::Max, |_, a| {
        Ok(Value::Num(math::max(n(a, 0), n(a, 1))))
    }),
    (Builtin::Pow, |_, a| {
        Ok(Value::Num(math::pow(n(a, 0), n(a, 1))))
    }),
    (Builtin::Clock, |rt, _| {
        Ok(Value::Num(rt.start.elapsed().as_secs_f64()))
    }),
    (Builtin::Replace, replace),
    (Builtin::Repeat, repeat),
    (Builtin::PadStart, |rt, a| pad(rt, a, Side::Start)),
    (Builtin::PadEnd, |rt, a| pad(rt, a, Side::End)),
    (Builtin::LastIndexOf, |_, a| {
        Ok(Value::Num(strings::last_index_of(s(a, 0), s(a, 1))))
    }),
    (Builtin::CharCode, char_code),
    (Builtin::FromCharCode, |_, a| {
        strings::from_char_code(n(a, 0)).map(Value::str)
    }),
    (Builtin::ToFixed, |_, a| {
        number::to_fixed(n(a, 0), n(a, 1)).map(Value::str)
    }),
    (Builtin::Random, |rt, _| Ok(Value::Num(rt.random()))),
    (Builtin::Args, hostio::args),
    (Builtin::ReadLine, hostio::read_line),
    (Builtin::Eof, hostio::eof),
    (Builtin::ReadAll, hostio::read_all),
    (Builtin::ReadFile, hostio::read_file),
    (Builtin::WriteFile, hostio::write_file),
];

/// The index of `builtin` in [`NATIVES`], if it is a native.
pub fn index_of(builtin: Builtin) -> Option<u8> {
    NATIVES
        .iter()
        .position(|(b, _)| *b == builtin)
        .map(|i| i as u8)
}

// The checker proved the argument types; these accessors only keep bytecode that lies
// about them from doing anything worse than computing with a default.

fn n(args: &[Value], i: usize) -> f64 {
    match args.get(i) {
        Some(Value::Num(x)) => *x,
        _ => f64::NAN,
    }
}

fn s(args: &[Value], i: usize) -> &str {
    str_arg(args, i).map_or("", |s| s.as_str())
}

fn str_arg(args: &[Value], i: usize) -> Option<&Rc<Str>> {
    match args.get(i) {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    }
}

/// String argument `i` with its scalar index (`""` if it is not a string).
fn scalars_arg(args: &[Value], i: usize) -> &dyn Scalars {
    match args.get(i) {
        Some(Value::Str(s)) => &**s,
        _ => &"",
    }
}

fn array_items(args: &[Value], i: usize) -> Vec<Value> {
    match args.get(i) {
        Some(Value::Array(items)) => items.borrow().clone(),
        _ => Vec::new(),
    }
}

fn slice(_: &Runtime, args: &[Value]) -> Result<Value, String> {
    let items = match args.first() {
        Some(Value::Array(items)) => items.borrow(),
        _ => return Ok(Value::array(Vec::new())),
    };
    let start = strings::bound(n(args, 1), items.len());
    let end = strings::bound(n(args, 2), items.len());
    let part = if start < end {
        items[start..end].to_vec()
    } else {
        Vec::new()
    };
    Ok(Value::array(part))
}

fn concat(_: &Runtime, args: &[Value]) -> Result<Value, String> {
    let mut items = array_items(args, 0);
    if let Some(Value::Array(tail)) = args.get(1) {
        items.extend(tail.borrow().iter().cloned());
    }
    Ok(Value::array(items))
}

fn join(rt: &Runtime, args: &[Value]) -> Result<Value, String> {
    let parts = match args.first() {
        Some(Value::Array(items)) => items.borrow(),
        _ => return Ok(Value::str("")),
    };
    if rt.limits_memory() {
        let separators = s(args, 1)
            .len()
            .saturating_mul(parts.len().saturating_sub(1));
        let size = parts
            .iter()
            .map(|v| match v {
                Value::Str(t) => t.as_str().len(),
                _ => 0,
            })
            .fold(separators, usize::saturating_add);
        rt.reserve(size.saturating_add(STR_OVERHEAD))?;
    }
    let texts = parts.iter().map(|v| match v {
        Value::Str(t) => t.as_str(),
        _ => "",
    });
    Ok(Value::str(strings::join(texts, s(args, 1))))
}

fn split(rt: &Runtime, args: &[Value]) -> Result<Value, String> {
    let (text, separator) = (s(args, 0), s(args, 1));
    if rt.limits_memory() {
        let pieces = if separator.is_empty() {
            text.chars().count()
        } else {
            text.matches(separator).count() + 1
        };
        let each = size_of::<Value>() + STR_OVERHEAD;
        rt.reserve(pieces.saturating_mul(each).saturating_add(text.len()))?;
    }
    let parts = strings::split_str(text, separator);
    Ok(Value::array(parts.into_iter().map(Value::str).collect()))
}

fn substring(_: &Runtime, args: &[Value]) -> Result<Value, String> {
    let text = match str_arg(args, 0) {
        Some(text) => text,
        None => return Ok(Value::str("")),
    };
    let part = strings::substring(&**text, n(args, 1), n(args, 2));
    // The whole string: share it instead of copying.
    if part.len() == text.as_str().len() {
        return Ok(Value::Str(Rc::clone(text)));
    }
    Ok(Value::str(part))
}

fn char_at(_: &Runtime, args: &[Value]) -> Result<Value, String> {
    strings::char_at(scalars_arg(args, 0), n(args, 1)).map(Value::str)
}

fn char_code(_: &Runtime, args: &[Value]) -> Result<Value, String> {
    strings::char_code(scalars_arg(args, 0), n(args, 1)).map(Value::Num)
}

/// An empty string with room for a result of `bytes`, checked against the memory limit
/// before anything is built (one `repeat` or `padStart` can ask for terabytes), and
/// allocated fallibly, so a request the system refuses is an error, not an abort.
fn string_for(rt: &Runtime, name: &str, bytes: usize) -> Result<String, String> {
    if rt.limits_memory() {
        rt.reserve(bytes.saturating_add(STR_OVERHEAD))?;
    }
    let mut text = String::new();
    text.try_reserve_exact(bytes)
        .map_err(|_| format!("{name}: out of memory for a string of {bytes} bytes"))?;
    Ok(text)
}

fn replace(rt: &Runtime, args: &[Value]) -> Result<Value, String> {
    let (text, from, to) = (s(args, 0), s(args, 1), s(args, 2));
    let mut out = string_for(rt, "replace", strings::replaced_len(text, from, to))?;
    strings::replace_into(&mut out, text, from, to);
    Ok(Value::str(out))
}

fn repeat(rt: &Runtime, args: &[Value]) -> Result<Value, String> {
    let text = s(args, 0);
    let count = strings::repeat_count(n(args, 1))?;
    let mut out = string_for(rt, "repeat", text.len().saturating_mul(count))?;
    out.extend(std::iter::repeat_n(text, count));
    Ok(Value::str(out))
}

#[derive(Clone, Copy)]
enum Side {
    Start,
    End,
}

fn pad(rt: &Runtime, args: &[Value], side: Side) -> Result<Value, String> {
    let (text, fill) = (s(args, 0), s(args, 2));
    let target = strings::pad_length(n(args, 1));
    let missing = target.saturating_sub(strings::char_len(text));
    if missing == 0 || fill.is_empty() {
        return Ok(args.first().cloned().unwrap_or_else(|| Value::str("")));
    }
    let name = match side {
        Side::Start => "padStart",
        Side::End => "padEnd",
    };
    // At most 4 bytes a scalar value, and no more than the fill has.
    let padding = missing.saturating_mul(fill.len().min(4));
    let mut out = string_for(rt, name, text.len().saturating_add(padding))?;
    let fill = fill.chars().cycle().take(missing);
    match side {
        Side::Start => {
            out.extend(fill);
            out.push_str(text);
        }
        Side::End => {
            out.push_str(text);
            out.extend(fill);
        }
    }
    Ok(Value::str(out))
}

fn trim(_: &Runtime, args: &[Value]) -> Result<Value, String> {
    let text = match str_arg(args, 0) {
        Some(text) => text,
        None => return Ok(Value::str("")),
    };
    let trimmed = strings::trim(text.as_str());
    if trimmed.len() == text.as_str().len() {
        return Ok(Value::Str(Rc::clone(text)));
    }
    Ok(Value::str(trimmed))
}

fn parse_number(_: &Runtime, args: &[Value]) -> Result<Value, String> {
    let text = s(args, 0);
    number::parse_number(text)
        .map(Value::Num)
        .ok_or_else(|| format!("parseNumber: \"{text}\" is not a number"))
}
