//! Handlers of the `map` opcodes. Maps are shared and mutated in place; the table is in
//! `table.rs`.
//!
//! Handlers read the map and the key straight from their registers (the key is borrowed,
//! not cloned), and drop a replaced value only after the table's borrow ends.

use super::dispatch::{Cx, Flow, MapHandlers};
use super::table::{KeyRef, Map};
use super::value::Value;
use super::Vm;
use crate::stdlib::number::format_number;

/// The message of a missing key: `key not found: K`, K as `str` renders it inside an
/// array (strings quoted).
#[cold]
#[inline(never)]
fn key_not_found(key: &Value) -> String {
    let text = match key {
        Value::Str(s) => format!("\"{}\"", s.as_str()),
        Value::Num(n) => format_number(*n),
        Value::Bool(b) => b.to_string(),
        _ => "?".to_string(),
    };
    format!("key not found: {text}")
}

/// What a handler found wrong.
enum Miss {
    /// The key is not in the map.
    Missing,
    /// The key cannot be a key (NaN), or the operands are not a map and a key (only in
    /// ill-typed bytecode).
    Invalid(&'static str),
}

/// The map in `R[map]` and the key in `R[key]`.
#[inline(always)]
fn operands(cx: &Cx, map: u8, key: u8) -> Result<(&Map, KeyRef<'_>), Miss> {
    let key = KeyRef::of(cx.reg(key)).map_err(Miss::Invalid)?;
    match cx.reg(map) {
        Value::Map(m) => Ok((m, key)),
        _ => Err(Miss::Invalid("not a map")),
    }
}

impl Vm<'_> {
    /// Stops with the error for `miss` on the key in `R[key]`.
    #[cold]
    #[inline(never)]
    fn map_fail(&mut self, cx: &Cx, miss: Miss, key: u8) -> Flow {
        let message = match miss {
            Miss::Missing => key_not_found(cx.reg(key)),
            Miss::Invalid(why) => why.to_string(),
        };
        self.fail(cx, message)
    }

    /// Writes a value read out of a map to `R[dst]`, numbers through the cheap store.
    #[inline(always)]
    fn set_read(cx: &mut Cx, dst: u8, value: Value) {
        match value {
            Value::Num(n) => cx.set_num(dst, n),
            other => cx.set(dst, other),
        }
    }
}

impl MapHandlers for Vm<'_> {
    #[inline(always)]
    fn new_map(&mut self, cx: &mut Cx, dst: u8, capacity: u32) -> Flow {
        cx.set(dst, Value::map(capacity as usize));
        Flow::Next
    }

    #[inline(always)]
    fn map_get(&mut self, cx: &mut Cx, dst: u8, map: u8, key: u8) -> Flow {
        let found = operands(cx, map, key).and_then(|(m, k)| m.get(k).ok_or(Miss::Missing));
        match found {
            Ok(value) => {
                Self::set_read(cx, dst, value);
                Flow::Next
            }
            Err(miss) => self.map_fail(cx, miss, key),
        }
    }

    #[inline(always)]
    fn map_set(&mut self, cx: &mut Cx, map: u8, key: u8, src: u8) -> Flow {
        let value = cx.reg(src).fast_clone();
        let stored = operands(cx, map, key).map(|(m, k)| m.insert(k, cx.reg(key), value));
        match stored {
            Ok(_replaced) => Flow::Next,
            Err(miss) => self.map_fail(cx, miss, key),
        }
    }

    #[inline(always)]
    fn map_get_slot(&mut self, cx: &mut Cx, dst: u8, slot: u8, map: u8, key: u8) -> Flow {
        let found =
            operands(cx, map, key).and_then(|(m, k)| m.get_with_slot(k).ok_or(Miss::Missing));
        match found {
            Ok((value, at)) => {
                cx.set_num(slot, at as f64);
                Self::set_read(cx, dst, value);
                Flow::Next
            }
            Err(miss) => self.map_fail(cx, miss, key),
        }
    }

    #[inline(always)]
    fn map_set_slot(&mut self, cx: &mut Cx, map: u8, key: u8, slot: u8, src: u8) -> Flow {
        let value = cx.reg(src).fast_clone();
        // A slot that is not a position (ill-typed bytecode) finds no entry: the store
        // then hashes, as `map_set` does.
        let at = match cx.reg(slot) {
            Value::Num(n) if *n >= 0.0 => *n as usize,
            _ => usize::MAX,
        };
        let stored = operands(cx, map, key).map(|(m, k)| m.store_at(at, k, cx.reg(key), value));
        match stored {
            Ok(_replaced) => Flow::Next,
            Err(miss) => self.map_fail(cx, miss, key),
        }
    }

    #[inline(always)]
    fn map_has(&mut self, cx: &mut Cx, dst: u8, map: u8, key: u8) -> Flow {
        match operands(cx, map, key).map(|(m, k)| m.contains(k)) {
            Ok(found) => {
                cx.set_bool(dst, found);
                Flow::Next
            }
            Err(miss) => self.map_fail(cx, miss, key),
        }
    }

    #[inline(always)]
    fn map_get_or(&mut self, cx: &mut Cx, dst: u8, map: u8, key: u8, default: u8) -> Flow {
        match operands(cx, map, key).map(|(m, k)| m.get(k)) {
            Ok(Some(value)) => Self::set_read(cx, dst, value),
            Ok(None) => cx.copy(dst, default),
            Err(miss) => return self.map_fail(cx, miss, key),
        }
        Flow::Next
    }

    #[inline(always)]
    fn map_remove(&mut self, cx: &mut Cx, dst: u8, map: u8, key: u8) -> Flow {
        match operands(cx, map, key).map(|(m, k)| m.remove(k)) {
            Ok(removed) => {
                let found = removed.is_some();
                drop(removed);
                cx.set_bool(dst, found);
                Flow::Next
            }
            Err(miss) => self.map_fail(cx, miss, key),
        }
    }

    #[inline(always)]
    fn map_keys(&mut self, cx: &mut Cx, dst: u8, map: u8) -> Flow {
        let keys = match cx.reg(map) {
            Value::Map(m) => m.keys(),
            _ => Vec::new(),
        };
        cx.set(dst, Value::array(keys));
        Flow::Next
    }

    #[inline(always)]
    fn map_values(&mut self, cx: &mut Cx, dst: u8, map: u8) -> Flow {
        let values = match cx.reg(map) {
            Value::Map(m) => m.values(),
            _ => Vec::new(),
        };
        cx.set(dst, Value::array(values));
        Flow::Next
    }

    #[inline(always)]
    fn map_len(&mut self, cx: &mut Cx, dst: u8, map: u8) -> Flow {
        let len = match cx.reg(map) {
            Value::Map(m) => m.len(),
            _ => 0,
        };
        cx.set_num(dst, len as f64);
        Flow::Next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_keys_render_as_inside_an_array() {
        assert_eq!(key_not_found(&Value::str("a")), "key not found: \"a\"");
        assert_eq!(key_not_found(&Value::Num(2.5)), "key not found: 2.5");
        assert_eq!(key_not_found(&Value::Bool(false)), "key not found: false");
    }
}
