//! Values crossing between Rust and Atlas: [`Dynamic`], and the traits [`FromAtlas`] and
//! [`IntoAtlas`] that convert Rust types to and from it.
//!
//! | Atlas | Rust |
//! |---|---|
//! | `number` | `f64`, `f32`, `i64`, `i32`, `u32`, `u64`, `usize` |
//! | `string` | `String` (and `&str` into Atlas) |
//! | `bool` | `bool` |
//! | `T[]` | `Vec<T>` (and `&[T]` into Atlas) |
//! | `map<K, V>` | `IndexMap<K, V>` (order kept both ways), `HashMap<K, V>`, `BTreeMap<K, V>` (`K`: `String`, `bool` or an integer type) |
//! | `void` | `()` |
//! | any | [`Dynamic`] |
//!
//! Integer types accept only integral numbers within their range (`2.5` or `-1` is not a
//! `u32`), and integers beyond 2^53 are refused as numbers, since an `f64` cannot hold
//! them exactly. Values are copied across: an array returned to Rust is a new `Vec`, and
//! changing it does not change the script's array.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use indexmap::IndexMap;
use std::rc::{Rc, Weak};

use crate::builtins::Builtin;
use crate::stdlib::number::write_number;
use crate::types::Type;
use crate::verify::VerifiedModule;
use crate::vm::natives::NATIVES;
use crate::vm::table::{KeyRef, Map};
use crate::vm::value::Closure;
use crate::vm::value::Value;

/// An Atlas value of any type, as Rust sees it.
///
/// ```
/// use atlas::{Dynamic, Engine};
///
/// let mut engine = Engine::new();
/// let value: Dynamic = engine.eval(r#"["a", "b"]"#).unwrap();
/// assert_eq!(value, Dynamic::Array(vec!["a".into(), "b".into()]));
/// assert_eq!(value.to_string(), r#"["a", "b"]"#);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Dynamic {
    /// `null` (and the value of a `void` call).
    Null,
    /// A `bool`.
    Bool(bool),
    /// A `number`.
    Number(f64),
    /// A `string`.
    String(String),
    /// An array (`T[]`), copied.
    Array(Vec<Dynamic>),
    /// A map (`map<K, V>`), copied: its entries in the map's order.
    Map(Vec<(Dynamic, Dynamic)>),
    /// A function value of the script (or of the prelude).
    Function(Function),
}

/// A function value that came out of a script: it can go back into the same script
/// (as an argument or a global), not into another one.
#[derive(Debug, Clone)]
pub struct Function {
    name: String,
    target: Target,
}

#[derive(Debug, Clone)]
enum Target {
    User {
        index: u32,
        /// The closure, when the function captured variables (its cells go with it).
        closure: Option<Rc<Closure>>,
        module: Weak<VerifiedModule>,
    },
    Native(u32),
}

impl Function {
    /// The function's name (`<fn>` for a function expression).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The function index and captures of this user function, if it belongs to
    /// `module`.
    pub(crate) fn in_module(&self, module: &Rc<VerifiedModule>) -> Option<(u32, Vec<Value>)> {
        match &self.target {
            Target::User {
                index,
                closure,
                module: m,
            } if std::ptr::eq(m.as_ptr(), Rc::as_ptr(module)) => {
                let captures = closure
                    .as_ref()
                    .map_or_else(Vec::new, |c| c.captures.to_vec());
                Some((*index, captures))
            }
            _ => None,
        }
    }
}

impl PartialEq for Function {
    fn eq(&self, other: &Function) -> bool {
        match (&self.target, &other.target) {
            (
                Target::User {
                    index: a,
                    closure: c,
                    module: m,
                },
                Target::User {
                    index: b,
                    closure: d,
                    module: n,
                },
            ) => {
                let same_closure = match (c, d) {
                    (Some(c), Some(d)) => Rc::ptr_eq(c, d),
                    (None, None) => true,
                    _ => false,
                };
                a == b && same_closure && m.ptr_eq(n)
            }
            (Target::Native(a), Target::Native(b)) => a == b,
            _ => false,
        }
    }
}

impl Dynamic {
    /// The Atlas type of this value, when the value alone tells it: `None` for an empty
    /// array, an array whose elements differ in type, and functions.
    pub fn atlas_type(&self) -> Option<Type> {
        Some(match self {
            Dynamic::Null => Type::Null,
            Dynamic::Bool(_) => Type::Bool,
            Dynamic::Number(_) => Type::Number,
            Dynamic::String(_) => Type::String,
            Dynamic::Array(items) => {
                let elem = items.first()?.atlas_type()?;
                if !items.iter().all(|item| fits(item, &elem)) {
                    return None;
                }
                Type::array(elem)
            }
            Dynamic::Map(entries) => {
                let (k, v) = entries.first()?;
                let (kt, vt) = (k.atlas_type()?, v.atlas_type()?);
                if !entries.iter().all(|(k, v)| fits(k, &kt) && fits(v, &vt)) {
                    return None;
                }
                Type::map(kt, vt)
            }
            Dynamic::Function(_) => return None,
        })
    }

    /// What kind of value this is, for messages: `number`, `string`, `array`, ...
    pub fn kind_name(&self) -> &'static str {
        match self {
            Dynamic::Null => "null",
            Dynamic::Bool(_) => "bool",
            Dynamic::Number(_) => "number",
            Dynamic::String(_) => "string",
            Dynamic::Array(_) => "array",
            Dynamic::Map(_) => "map",
            Dynamic::Function(_) => "function",
        }
    }
}

/// Renders like Atlas's `print` (numbers as JavaScript writes them, strings inside
/// arrays quoted, functions as `<fn name>`).
impl fmt::Display for Dynamic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        write_dynamic(&mut out, self, false);
        f.write_str(&out)
    }
}

fn write_dynamic(out: &mut String, value: &Dynamic, quoted: bool) {
    match value {
        Dynamic::Null => out.push_str("null"),
        Dynamic::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Dynamic::Number(n) => write_number(out, *n),
        Dynamic::String(s) if quoted => {
            out.push('"');
            out.push_str(s);
            out.push('"');
        }
        Dynamic::String(s) => out.push_str(s),
        Dynamic::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_dynamic(out, item, true);
            }
            out.push(']');
        }
        Dynamic::Map(entries) => {
            out.push('{');
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_dynamic(out, key, true);
                out.push_str(": ");
                write_dynamic(out, value, true);
            }
            out.push('}');
        }
        Dynamic::Function(f) => {
            out.push_str("<fn ");
            out.push_str(&f.name);
            out.push('>');
        }
    }
}

impl From<f64> for Dynamic {
    fn from(x: f64) -> Dynamic {
        Dynamic::Number(x)
    }
}

impl From<bool> for Dynamic {
    fn from(b: bool) -> Dynamic {
        Dynamic::Bool(b)
    }
}

impl From<&str> for Dynamic {
    fn from(s: &str) -> Dynamic {
        Dynamic::String(s.to_string())
    }
}

impl From<String> for Dynamic {
    fn from(s: String) -> Dynamic {
        Dynamic::String(s)
    }
}

impl<T: Into<Dynamic>> From<Vec<T>> for Dynamic {
    fn from(items: Vec<T>) -> Dynamic {
        Dynamic::Array(items.into_iter().map(Into::into).collect())
    }
}

/// Whether `value` is a value of Atlas type `ty` (function values are checked by
/// [`to_value`], which knows their signatures).
pub(crate) fn fits(value: &Dynamic, ty: &Type) -> bool {
    match (value, ty) {
        (_, Type::Unknown) => true,
        (Dynamic::Null, Type::Null)
        | (Dynamic::Bool(_), Type::Bool)
        | (Dynamic::Number(_), Type::Number)
        | (Dynamic::String(_), Type::String)
        | (Dynamic::Function(_), Type::Func(_)) => true,
        (Dynamic::Array(items), Type::Array(elem)) => items.iter().all(|i| fits(i, elem)),
        (Dynamic::Map(entries), Type::Map(kv)) => entries
            .iter()
            .all(|(k, v)| fits(k, &kv.0) && fits(v, &kv.1)),
        _ => false,
    }
}

/// A Rust type that Atlas values convert to: the result of
/// [`Engine::eval`](crate::Engine::eval) and [`Engine::call`](crate::Engine::call), a
/// global read with [`Engine::global`](crate::Engine::global), a parameter of a host
/// function.
///
/// Implement it to read your own types from Atlas values:
///
/// ```
/// use atlas::{Dynamic, Engine, FromAtlas, Type};
///
/// /// A point written `[x, y]` in Atlas.
/// #[derive(Debug, PartialEq)]
/// struct Point(f64, f64);
///
/// impl FromAtlas for Point {
///     fn atlas_type() -> Option<Type> {
///         Some(Type::array(Type::Number))
///     }
///     fn from_atlas(value: Dynamic) -> Result<Point, String> {
///         match <Vec<f64>>::from_atlas(value)?.as_slice() {
///             [x, y] => Ok(Point(*x, *y)),
///             other => Err(format!("a point needs 2 numbers, found {}", other.len())),
///         }
///     }
/// }
///
/// let mut engine = Engine::new();
/// assert_eq!(engine.eval::<Point>("[1, 2]").unwrap(), Point(1.0, 2.0));
/// assert!(engine.eval::<Point>("[1, 2, 3]").is_err());
/// ```
pub trait FromAtlas: Sized {
    /// The Atlas type this Rust type is read from; `None` when any type will do (a
    /// `Dynamic`, or `()`, which ignores the value). A host function's parameters need
    /// one.
    fn atlas_type() -> Option<Type>;

    /// Converts the value, or says why it cannot.
    fn from_atlas(value: Dynamic) -> Result<Self, String>;
}

/// A Rust type that converts to an Atlas value: arguments of
/// [`Engine::call`](crate::Engine::call), values given to
/// [`Engine::set_global`](crate::Engine::set_global) and
/// [`Engine::define_global`](crate::Engine::define_global), results of host functions.
///
/// A host function may return `Result<T, E>` for any `T: IntoAtlas` and `E: Display`:
/// an `Err` becomes an Atlas runtime error with `E`'s text as its message.
pub trait IntoAtlas {
    /// The Atlas type of the converted values; `None` when only the value can tell (a
    /// `Dynamic`). A host function's result needs one.
    fn atlas_type() -> Option<Type>;

    /// Converts the value, or says why it cannot.
    fn into_atlas(self) -> Result<Dynamic, String>;
}

fn mismatch(expected: &str, found: &Dynamic) -> String {
    format!("expected {expected}, found {}", describe(found))
}

/// A value as messages show it: numbers and short strings by value.
fn describe(value: &Dynamic) -> String {
    match value {
        Dynamic::Number(n) => format!("the number {}", Dynamic::Number(*n)),
        Dynamic::String(s) if s.chars().count() <= 20 => format!("the string \"{s}\""),
        other => format!("a {}", other.kind_name()),
    }
}

impl FromAtlas for f64 {
    fn atlas_type() -> Option<Type> {
        Some(Type::Number)
    }
    fn from_atlas(value: Dynamic) -> Result<f64, String> {
        match value {
            Dynamic::Number(n) => Ok(n),
            other => Err(mismatch("a number", &other)),
        }
    }
}

impl IntoAtlas for f64 {
    fn atlas_type() -> Option<Type> {
        Some(Type::Number)
    }
    fn into_atlas(self) -> Result<Dynamic, String> {
        Ok(Dynamic::Number(self))
    }
}

impl FromAtlas for f32 {
    fn atlas_type() -> Option<Type> {
        Some(Type::Number)
    }
    /// Rounds to the nearest `f32`, and refuses a finite number that would become an
    /// infinity or a non-zero one that would become zero.
    fn from_atlas(value: Dynamic) -> Result<f32, String> {
        let n = f64::from_atlas(value)?;
        let x = n as f32;
        if x.is_infinite() && n.is_finite() || x == 0.0 && n != 0.0 {
            return Err(format!("{} is out of the range of f32", Dynamic::Number(n)));
        }
        Ok(x)
    }
}

impl IntoAtlas for f32 {
    fn atlas_type() -> Option<Type> {
        Some(Type::Number)
    }
    fn into_atlas(self) -> Result<Dynamic, String> {
        Ok(Dynamic::Number(self as f64))
    }
}

/// The largest integer an f64 holds exactly, with all below it.
const EXACT: f64 = 9_007_199_254_740_992.0;

/// An integral number within `min ..= max` (as f64 bounds; `max` exclusive when it is
/// a power of two beyond the type's range).
fn integer(value: Dynamic, name: &str, min: f64, max_exclusive: f64) -> Result<f64, String> {
    let n = f64::from_atlas(value).map_err(|e| format!("{e} (for {name})"))?;
    if n.fract() != 0.0 || !n.is_finite() {
        return Err(format!(
            "expected an integer for {name}, found {}",
            describe(&Dynamic::Number(n))
        ));
    }
    if n < min || n >= max_exclusive {
        return Err(format!(
            "{} is out of the range of {name}",
            Dynamic::Number(n)
        ));
    }
    Ok(n)
}

macro_rules! integers {
    ($($ty:ty: $min:expr, $max:expr;)*) => {$(
        impl FromAtlas for $ty {
            fn atlas_type() -> Option<Type> {
                Some(Type::Number)
            }
            fn from_atlas(value: Dynamic) -> Result<$ty, String> {
                integer(value, stringify!($ty), $min, $max).map(|n| n as $ty)
            }
        }

        impl IntoAtlas for $ty {
            fn atlas_type() -> Option<Type> {
                Some(Type::Number)
            }
            fn into_atlas(self) -> Result<Dynamic, String> {
                // Checked on the integer: as an f64, 2^53 + 1 has already become 2^53.
                if (self as i128).unsigned_abs() <= EXACT as u128 {
                    Ok(Dynamic::Number(self as f64))
                } else {
                    Err(format!(
                        "the integer {self} is too large for a number (f64 holds integers exactly up to 2^53)"
                    ))
                }
            }
        }
    )*};
}

integers! {
    i64: -9_223_372_036_854_775_808.0, 9_223_372_036_854_775_808.0;
    u64: 0.0, 18_446_744_073_709_551_616.0;
    usize: 0.0, usize::MAX as f64 + 1.0;
    i32: i32::MIN as f64, i32::MAX as f64 + 1.0;
    u32: 0.0, u32::MAX as f64 + 1.0;
}

impl FromAtlas for bool {
    fn atlas_type() -> Option<Type> {
        Some(Type::Bool)
    }
    fn from_atlas(value: Dynamic) -> Result<bool, String> {
        match value {
            Dynamic::Bool(b) => Ok(b),
            other => Err(mismatch("a bool", &other)),
        }
    }
}

impl IntoAtlas for bool {
    fn atlas_type() -> Option<Type> {
        Some(Type::Bool)
    }
    fn into_atlas(self) -> Result<Dynamic, String> {
        Ok(Dynamic::Bool(self))
    }
}

impl FromAtlas for String {
    fn atlas_type() -> Option<Type> {
        Some(Type::String)
    }
    fn from_atlas(value: Dynamic) -> Result<String, String> {
        match value {
            Dynamic::String(s) => Ok(s),
            other => Err(mismatch("a string", &other)),
        }
    }
}

impl IntoAtlas for String {
    fn atlas_type() -> Option<Type> {
        Some(Type::String)
    }
    fn into_atlas(self) -> Result<Dynamic, String> {
        Ok(Dynamic::String(self))
    }
}

impl IntoAtlas for &str {
    fn atlas_type() -> Option<Type> {
        Some(Type::String)
    }
    fn into_atlas(self) -> Result<Dynamic, String> {
        Ok(Dynamic::String(self.to_string()))
    }
}

impl<T: FromAtlas> FromAtlas for Vec<T> {
    fn atlas_type() -> Option<Type> {
        T::atlas_type().map(Type::array)
    }
    fn from_atlas(value: Dynamic) -> Result<Vec<T>, String> {
        match value {
            Dynamic::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| T::from_atlas(item).map_err(|e| format!("element {i}: {e}")))
                .collect(),
            other => Err(mismatch("an array", &other)),
        }
    }
}

impl<T: IntoAtlas> IntoAtlas for Vec<T> {
    fn atlas_type() -> Option<Type> {
        T::atlas_type().map(Type::array)
    }
    fn into_atlas(self) -> Result<Dynamic, String> {
        let items: Result<Vec<Dynamic>, String> = self
            .into_iter()
            .enumerate()
            .map(|(i, item)| item.into_atlas().map_err(|e| format!("element {i}: {e}")))
            .collect();
        Ok(Dynamic::Array(items?))
    }
}

/// The entries of a map value, each converted.
fn map_entries<K: FromAtlas, V: FromAtlas>(value: Dynamic) -> Result<Vec<(K, V)>, String> {
    match value {
        Dynamic::Map(entries) => entries
            .into_iter()
            .map(|(k, v)| {
                let key = K::from_atlas(k).map_err(|e| format!("map key: {e}"))?;
                let value = V::from_atlas(v).map_err(|e| format!("map value: {e}"))?;
                Ok((key, value))
            })
            .collect(),
        other => Err(mismatch("a map", &other)),
    }
}

/// A map value of the entries, each converted.
fn map_value<K: IntoAtlas, V: IntoAtlas>(
    entries: impl Iterator<Item = (K, V)>,
) -> Result<Dynamic, String> {
    let entries: Result<Vec<(Dynamic, Dynamic)>, String> = entries
        .map(|(k, v)| {
            let key = k.into_atlas().map_err(|e| format!("map key: {e}"))?;
            let value = v.into_atlas().map_err(|e| format!("map value: {e}"))?;
            Ok((key, value))
        })
        .collect();
    Ok(Dynamic::Map(entries?))
}

/// `map<K, V>` for the key and value types `k` and `v`, when both are known.
fn map_type(k: Option<Type>, v: Option<Type>) -> Option<Type> {
    Some(Type::map(k?, v?))
}

/// `FromAtlas` and `IntoAtlas` for a Rust map type (`$($bound)*` the key's bounds).
macro_rules! map_conversions {
    ($map:ident<K, V $(, $s:ident)?>, $($bound:tt)*) => {
        impl<K: FromAtlas + $($bound)*, V: FromAtlas $(, $s: std::hash::BuildHasher + Default)?>
            FromAtlas for $map<K, V $(, $s)?>
        {
            fn atlas_type() -> Option<Type> {
                map_type(K::atlas_type(), V::atlas_type())
            }
            fn from_atlas(value: Dynamic) -> Result<Self, String> {
                Ok(map_entries::<K, V>(value)?.into_iter().collect())
            }
        }

        impl<K: IntoAtlas + $($bound)*, V: IntoAtlas $(, $s: std::hash::BuildHasher)?>
            IntoAtlas for $map<K, V $(, $s)?>
        {
            fn atlas_type() -> Option<Type> {
                map_type(K::atlas_type(), V::atlas_type())
            }
            fn into_atlas(self) -> Result<Dynamic, String> {
                map_value(self.into_iter())
            }
        }
    };
}

map_conversions!(IndexMap<K, V, S>, std::hash::Hash + Eq);
map_conversions!(HashMap<K, V, S>, std::hash::Hash + Eq);
map_conversions!(BTreeMap<K, V>, Ord);

impl<T: IntoAtlas + Clone> IntoAtlas for &[T] {
    fn atlas_type() -> Option<Type> {
        T::atlas_type().map(Type::array)
    }
    fn into_atlas(self) -> Result<Dynamic, String> {
        self.to_vec().into_atlas()
    }
}

/// `()` reads any value and ignores it.
impl FromAtlas for () {
    fn atlas_type() -> Option<Type> {
        None
    }
    fn from_atlas(_: Dynamic) -> Result<(), String> {
        Ok(())
    }
}

/// A host function returning `()` is `void` for scripts.
impl IntoAtlas for () {
    fn atlas_type() -> Option<Type> {
        Some(Type::Void)
    }
    fn into_atlas(self) -> Result<Dynamic, String> {
        Ok(Dynamic::Null)
    }
}

impl FromAtlas for Dynamic {
    fn atlas_type() -> Option<Type> {
        None
    }
    fn from_atlas(value: Dynamic) -> Result<Dynamic, String> {
        Ok(value)
    }
}

impl IntoAtlas for Dynamic {
    fn atlas_type() -> Option<Type> {
        None
    }
    fn into_atlas(self) -> Result<Dynamic, String> {
        Ok(self)
    }
}

impl<T: IntoAtlas, E: fmt::Display> IntoAtlas for Result<T, E> {
    fn atlas_type() -> Option<Type> {
        T::atlas_type()
    }
    fn into_atlas(self) -> Result<Dynamic, String> {
        match self {
            Ok(value) => value.into_atlas(),
            Err(e) => Err(e.to_string()),
        }
    }
}

// ----- internal values ---------------------------------------------------------------

/// An internal value as a `Dynamic`; `module` (the running one) names and identifies
/// function values.
pub(crate) fn to_dynamic(value: &Value, module: Option<&Rc<VerifiedModule>>) -> Dynamic {
    match value {
        Value::Null | Value::Uninit => Dynamic::Null,
        Value::Bool(b) => Dynamic::Bool(*b),
        Value::Num(n) => Dynamic::Number(*n),
        Value::Str(s) => Dynamic::String(s.as_str().to_string()),
        Value::Array(items) => Dynamic::Array(
            items
                .borrow()
                .iter()
                .map(|v| to_dynamic(v, module))
                .collect(),
        ),
        Value::Map(map) => Dynamic::Map(
            map.borrow()
                .iter()
                .map(|(k, v)| (to_dynamic(&k.to_value(), module), to_dynamic(v, module)))
                .collect(),
        ),
        Value::Func(f) => user_function(*f, None, module),
        Value::Closure(c) => user_function(c.func, Some(Rc::clone(c)), module),
        Value::Cell(cell) => to_dynamic(&cell.get(), module),
        Value::Native(n) => Dynamic::Function(Function {
            name: NATIVES
                .get(*n as usize)
                .map_or("?", |(b, _)| b.name())
                .to_string(),
            target: Target::Native(*n),
        }),
    }
}

/// User function `index` of `module` (a closure of it, with its cells) as a `Dynamic`.
fn user_function(
    index: u32,
    closure: Option<Rc<Closure>>,
    module: Option<&Rc<VerifiedModule>>,
) -> Dynamic {
    Dynamic::Function(Function {
        name: module
            .and_then(|m| m.functions.get(index as usize))
            .map_or_else(|| "?".to_string(), |f| f.name.clone()),
        target: Target::User {
            index,
            closure,
            module: module.map_or_else(Weak::new, Rc::downgrade),
        },
    })
}

/// A `Dynamic` as an internal value of Atlas type `ty`, for `module` (whose function
/// types are `fn_types`, by index); without a module, user functions are refused.
pub(crate) fn to_value(
    value: Dynamic,
    ty: &Type,
    module: Option<&Rc<VerifiedModule>>,
    fn_types: &[Type],
) -> Result<Value, String> {
    Ok(match (value, ty) {
        (Dynamic::Null, Type::Null | Type::Void) => Value::Null,
        (Dynamic::Bool(b), Type::Bool) => Value::Bool(b),
        (Dynamic::Number(n), Type::Number) => Value::Num(n),
        (Dynamic::String(s), Type::String) => Value::str(s),
        (Dynamic::Array(items), Type::Array(elem)) => {
            let values: Result<Vec<Value>, String> = items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    to_value(item, elem, module, fn_types).map_err(|e| format!("element {i}: {e}"))
                })
                .collect();
            Value::array(values?)
        }
        (Dynamic::Map(entries), Type::Map(kv)) => {
            let map = Map::with_capacity(entries.len());
            for (i, (key, value)) in entries.into_iter().enumerate() {
                let key = to_value(key, &kv.0, module, fn_types)
                    .map_err(|e| format!("key of entry {i}: {e}"))?;
                let value = to_value(value, &kv.1, module, fn_types)
                    .map_err(|e| format!("value of entry {i}: {e}"))?;
                let key_ref = KeyRef::of(&key).map_err(|e| format!("key of entry {i}: {e}"))?;
                map.insert(key_ref, &key, value);
            }
            Value::Map(Rc::new(map))
        }
        (Dynamic::Function(f), Type::Func(_)) => {
            let (value, found) = match &f.target {
                Target::User {
                    index,
                    closure,
                    module: m,
                } => {
                    let same =
                        module.is_some_and(|module| std::ptr::eq(m.as_ptr(), Rc::as_ptr(module)));
                    if !same {
                        return Err(format!(
                            "the function '{}' belongs to another script",
                            f.name
                        ));
                    }
                    let found = fn_types.get(*index as usize).cloned();
                    let value = match closure {
                        Some(closure) => Value::Closure(Rc::clone(closure)),
                        None => Value::Func(*index),
                    };
                    (value, found)
                }
                Target::Native(n) => {
                    let found = NATIVES
                        .get(*n as usize)
                        .and_then(|(b, _)| Builtin::signature(*b));
                    (Value::Native(*n), found)
                }
            };
            match found {
                Some(found) if found == *ty => value,
                Some(found) => {
                    return Err(format!(
                        "expected a function of type {ty}, found '{}' of type {found}",
                        f.name
                    ))
                }
                None => return Err(format!("unknown function '{}'", f.name)),
            }
        }
        (value, ty) => return Err(mismatch(&format!("a value of type {ty}"), &value)),
    })
}
