//! Handlers of the `array` opcodes. Arrays are shared and mutated in place.

use std::rc::Rc;

use super::dispatch::{store, ArrayHandlers, Cx, Flow};
use super::sort::{self, MergeSort, Step};
use super::value::Value;
use super::Vm;
use crate::stdlib::number::format_number;

/// Elements `new_array` preallocates at most; longer literals grow as they are pushed.
const MAX_PREALLOCATED: usize = 1 << 12;

/// The element index for `index` in an array of `len`, if it is an integer in range.
#[inline(always)]
fn element_index(index: f64, len: usize) -> Option<usize> {
    if (0.0..9.0e18).contains(&index) {
        // SAFETY: 0 <= index < 9e18 < 2^63: in range for i64 (and not NaN).
        // (i64 rather than usize: one instruction each way on x86-64.)
        let k = unsafe { index.to_int_unchecked::<i64>() } as usize;
        // The round trip rejects fractions; the integer comparison doubles as the
        // bounds check of the access that follows.
        if k as f64 == index && k < len {
            return Some(k);
        }
    }
    None
}

/// An element read out of an array, numbers apart so they take the cheap store.
enum Element {
    Num(f64),
    Other(Value),
}

#[cold]
fn index_error(index: f64, len: usize) -> String {
    if index.fract() != 0.0 || index.is_nan() {
        format!(
            "index {} is not an integer (array of length {len})",
            format_number(index)
        )
    } else {
        format!(
            "index {} out of bounds for array of length {len}",
            format_number(index)
        )
    }
}

impl ArrayHandlers for Vm<'_> {
    #[inline(always)]
    fn new_array(&mut self, cx: &mut Cx, dst: u8, capacity: u32) -> Flow {
        // The capacity is a hint (the literal's length): bytecode that asks for billions
        // of elements must not abort the process on a failed allocation.
        let capacity = (capacity as usize).min(MAX_PREALLOCATED);
        cx.set(dst, Value::array(Vec::with_capacity(capacity)));
        Flow::Next
    }

    #[inline(always)]
    fn push(&mut self, cx: &mut Cx, arr: u8, value: u8) -> Flow {
        let item = cx.reg(value).fast_clone();
        if let Value::Array(items) = cx.reg(arr) {
            items.push(item);
        }
        Flow::Next
    }

    #[inline(always)]
    fn pop(&mut self, cx: &mut Cx, dst: u8, arr: u8) -> Flow {
        let popped = match cx.reg(arr) {
            Value::Array(items) => items.pop(),
            _ => None,
        };
        match popped {
            Some(item) => {
                cx.set(dst, item);
                Flow::Next
            }
            None => self.fail(cx, "pop from an empty array".to_string()),
        }
    }

    #[inline(always)]
    fn get_index(&mut self, cx: &mut Cx, dst: u8, arr: u8, index: u8) -> Flow {
        let i = cx.num(index);
        let element = match cx.reg(arr) {
            Value::Array(items) => {
                let items = items.borrow();
                match element_index(i, items.len()) {
                    // Numbers skip the generic clone and store.
                    Some(k) => match &items[k] {
                        Value::Num(n) => Ok(Element::Num(*n)),
                        other => Ok(Element::Other(other.clone())),
                    },
                    None => Err(items.len()),
                }
            }
            _ => Err(0),
        };
        match element {
            Ok(Element::Num(n)) => cx.set_num(dst, n),
            Ok(Element::Other(value)) => cx.set(dst, value),
            Err(len) => return self.fail(cx, index_error(i, len)),
        }
        Flow::Next
    }

    #[inline(always)]
    fn get_index2(&mut self, cx: &mut Cx, dst: u8, arr: u8, i: u8, j: u8, row: u32) -> Flow {
        let (i, j) = (cx.num(i), cx.num(j));
        let element = match cx.reg(arr) {
            Value::Array(rows) => {
                let rows = rows.borrow();
                match element_index(i, rows.len()) {
                    Some(r) => match &rows[r] {
                        Value::Array(row) => {
                            let row = row.borrow();
                            match element_index(j, row.len()) {
                                Some(k) => match &row[k] {
                                    Value::Num(n) => Ok(Element::Num(*n)),
                                    other => Ok(Element::Other(other.clone())),
                                },
                                None => Err((j, row.len(), false)),
                            }
                        }
                        _ => Err((j, 0, false)),
                    },
                    None => Err((i, rows.len(), true)),
                }
            }
            _ => Err((i, 0, true)),
        };
        match element {
            Ok(Element::Num(n)) => cx.set_num(dst, n),
            Ok(Element::Other(value)) => cx.set(dst, value),
            // An error of the row access `xs[i]` points at `xs[i]`, as without the fusion.
            Err((index, len, true)) => return self.fail_within(cx, index_error(index, len), row),
            Err((index, len, false)) => return self.fail(cx, index_error(index, len)),
        }
        Flow::Next
    }

    #[inline(always)]
    fn set_index(&mut self, cx: &mut Cx, arr: u8, index: u8, src: u8) -> Flow {
        let i = cx.num(index);
        let Value::Array(items) = cx.reg(arr) else {
            return self.fail(cx, index_error(i, 0));
        };
        let mut items = items.elements_mut();
        let len = items.len();
        let Some(k) = element_index(i, len) else {
            drop(items);
            return self.fail(cx, index_error(i, len));
        };
        let old = match (&mut items[k], cx.reg(src)) {
            // A number over a number: just the payload, nothing to drop.
            (Value::Num(slot), Value::Num(n)) => {
                *slot = *n;
                return Flow::Next;
            }
            // Nothing to drop: no call of the drop glue (see `store`).
            (slot, item) if slot.is_plain() => {
                store(slot, item.clone());
                return Flow::Next;
            }
            (slot, item) => std::mem::replace(slot, item.clone()),
        };
        // The old element is dropped after the borrow ends, so a destructor never runs
        // while the array is borrowed.
        drop(items);
        drop(old);
        Flow::Next
    }

    #[inline(always)]
    fn array_len(&mut self, cx: &mut Cx, dst: u8, arr: u8) -> Flow {
        let len = match cx.reg(arr) {
            Value::Array(items) => items.borrow().len(),
            _ => 0,
        };
        cx.set_num(dst, len as f64);
        Flow::Next
    }

    #[inline(always)]
    fn for_in_next(&mut self, cx: &mut Cx, item: u8, arr: u8, counter: u8, off: i32) -> Flow {
        let i = cx.num(counter);
        let next = match cx.reg(arr) {
            Value::Array(items) => match items.borrow().get(i as usize) {
                Some(Value::Num(n)) => Some(Element::Num(*n)),
                Some(other) => Some(Element::Other(other.clone())),
                None => None,
            },
            _ => None,
        };
        match next {
            Some(Element::Num(n)) => cx.set_num(item, n),
            Some(Element::Other(value)) => cx.set(item, value),
            None => return Flow::Next,
        }
        cx.set_num(counter, i + 1.0);
        Flow::Jump(off)
    }

    #[inline(never)]
    fn sort_begin(&mut self, cx: &mut Cx, arr: u8) -> Flow {
        let Value::Array(items) = cx.reg(arr) else {
            return self.fail(cx, "sort of a value that is not an array".to_string());
        };
        if !self.rt.fits(MergeSort::footprint(items.borrow().len())) {
            return self.fail_memory(cx);
        }
        let sort = MergeSort::new(Rc::clone(items));
        self.sorts.push(sort);
        Flow::Next
    }

    #[inline(never)]
    fn sort_step(&mut self, cx: &mut Cx, a: u8, b: u8, answer: u8, off: i32) -> Flow {
        let answer = match cx.reg(answer) {
            Value::Num(n) => *n,
            _ => 0.0,
        };
        let Some(sort) = self.sorts.last_mut() else {
            return self.fail(cx, "sort_step without a sort in progress".to_string());
        };
        match sort.step(answer) {
            Step::Compare(x, y) => {
                cx.set(a, x);
                cx.set(b, y);
                Flow::Jump(off)
            }
            Step::Done => {
                self.sorts.pop();
                Flow::Next
            }
            Step::Changed => {
                self.sorts.pop();
                self.fail(cx, sort::CHANGED.to_string())
            }
        }
    }
}
