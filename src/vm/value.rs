//! Runtime values: numbers, bools and null unboxed; strings and arrays behind `Rc`, so
//! copying a value or loading a constant never copies text or elements.

use std::cell::{Cell, OnceCell, Ref, RefCell, RefMut};
use std::fmt;
use std::mem::size_of;
use std::rc::Rc;

use super::heap;
use super::natives::NATIVES;
use super::table::Map;
use crate::bytecode::Module;
use crate::stdlib::strings::Scalars;

/// An immutable string. It knows how many Unicode scalar values it holds, so `len` is
/// O(1), and it is ASCII exactly when that count equals its byte length (then byte index
/// = scalar index). A non-ASCII string builds, on the first `charAt`, `charCode` or
/// `substring` that needs one, an index of every [`CHECKPOINT_STRIDE`]th scalar's byte
/// offset: each later lookup walks at most that many scalars instead of the whole string
/// (a `charAt` loop over 100 k `é` went from 3.3 s to linear time).
#[derive(Debug)]
pub struct Str {
    text: Box<str>,
    scalars: usize,
    /// Byte offsets of scalars 0, STRIDE, 2 * STRIDE, ... (non-ASCII strings only).
    checkpoints: OnceCell<Box<[usize]>>,
    /// The hash of the text as a map key, computed the first time it is needed (0: not
    /// yet), so a string used as a key again and again is hashed once.
    hash: Cell<u64>,
}

/// Scalars between two checkpoints: the index costs a word per this many scalars (an
/// eighth of the text for two-byte scalars) and a lookup walks fewer than this many.
pub const CHECKPOINT_STRIDE: usize = 64;

/// Bytes an `Rc` allocation of a `T` takes besides what `T` owns: the two counts.
const fn rc_allocation<T>() -> usize {
    2 * size_of::<usize>() + size_of::<T>()
}

/// Bytes a string holds in the heap account besides its text.
pub const STR_OVERHEAD: usize = rc_allocation::<Str>();

impl Str {
    pub fn new(text: impl Into<Box<str>>) -> Str {
        let text = text.into();
        let scalars = if text.is_ascii() {
            text.len()
        } else {
            text.chars().count()
        };
        Str::with_count(text, scalars)
    }

    /// A string whose scalar count the caller knows, e.g. the sum of the counts of the
    /// strings it was joined from: concatenation need not scan the result again.
    pub fn with_count(text: impl Into<Box<str>>, scalars: usize) -> Str {
        let text = text.into();
        debug_assert_eq!(scalars, text.chars().count());
        let s = Str {
            text,
            scalars,
            checkpoints: OnceCell::new(),
            hash: Cell::new(0),
        };
        heap::acquire(s.footprint());
        s
    }

    /// Bytes this string holds in the heap account (`--max-memory`), its checkpoint
    /// index included once built.
    fn footprint(&self) -> usize {
        STR_OVERHEAD
            + self.text.len()
            + self
                .checkpoints
                .get()
                .map_or(0, |c| c.len() * size_of::<usize>())
    }

    #[inline]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    #[inline]
    pub fn is_ascii(&self) -> bool {
        self.scalars == self.text.len()
    }

    /// The hash of the text as a map key (see `table.rs`), computed once.
    #[inline(always)]
    pub fn hash_code(&self) -> u64 {
        match self.hash.get() {
            0 => self.compute_hash(),
            h => h,
        }
    }

    #[inline(never)]
    fn compute_hash(&self) -> u64 {
        // 0 means "not computed": a text that hashes to 0 takes 1 instead.
        let h = super::table::hash_bytes(self.text.as_bytes()).max(1);
        self.hash.set(h);
        h
    }

    /// Number of Unicode scalar values.
    #[inline]
    pub fn char_len(&self) -> usize {
        self.scalars
    }

    /// The checkpoint index, built (and charged to the heap account) on first use.
    #[cold]
    fn build_checkpoints(&self) -> Box<[usize]> {
        let marks: Box<[usize]> = self
            .text
            .char_indices()
            .step_by(CHECKPOINT_STRIDE)
            .map(|(b, _)| b)
            .collect();
        heap::acquire(marks.len() * size_of::<usize>());
        marks
    }
}

impl Scalars for Str {
    fn text(&self) -> &str {
        &self.text
    }

    fn scalar_count(&self) -> usize {
        self.scalars
    }

    fn byte_offset(&self, k: usize) -> usize {
        if self.is_ascii() {
            return k.min(self.text.len());
        }
        if k >= self.scalars {
            return self.text.len();
        }
        let marks = self.checkpoints.get_or_init(|| self.build_checkpoints());
        let from = marks[k / CHECKPOINT_STRIDE];
        let rest = &self.text[from..];
        from + rest
            .char_indices()
            .nth(k % CHECKPOINT_STRIDE)
            .map_or(rest.len(), |(b, _)| b)
    }
}

// Strings compare by their text alone: whether the index is built says nothing about it.
impl PartialEq for Str {
    fn eq(&self, other: &Str) -> bool {
        self.text == other.text
    }
}

impl Eq for Str {}

impl PartialOrd for Str {
    fn partial_cmp(&self, other: &Str) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Str {
    fn cmp(&self, other: &Str) -> std::cmp::Ordering {
        self.text.cmp(&other.text)
    }
}

impl Drop for Str {
    fn drop(&mut self) {
        heap::release(self.footprint());
    }
}

/// The element storage of an array: shared and mutable in place. Its buffer is counted
/// in the heap account (`--max-memory`), so it grows only through `push`.
#[derive(Debug)]
pub struct Array {
    items: RefCell<Vec<Value>>,
    /// Counts the changes (wrapping): a sort fails when its comparator made one.
    edits: Cell<u32>,
}

impl Array {
    pub fn new(items: Vec<Value>) -> Array {
        heap::acquire(Array::footprint(items.capacity()));
        Array {
            items: RefCell::new(items),
            edits: Cell::new(0),
        }
    }

    /// Bytes an array with room for `capacity` elements holds in the heap account.
    fn footprint(capacity: usize) -> usize {
        rc_allocation::<Array>() + capacity * size_of::<Value>()
    }

    /// The elements, read-only.
    #[inline(always)]
    pub fn borrow(&self) -> Ref<'_, Vec<Value>> {
        self.items.borrow()
    }

    /// The elements, writable in place (the length cannot change).
    #[inline(always)]
    pub fn elements_mut(&self) -> RefMut<'_, [Value]> {
        self.edited();
        RefMut::map(self.items.borrow_mut(), Vec::as_mut_slice)
    }

    /// How many times the array was changed (wrapping).
    pub fn edits(&self) -> u32 {
        self.edits.get()
    }

    #[inline(always)]
    fn edited(&self) {
        self.edits.set(self.edits.get().wrapping_add(1));
    }

    #[inline(always)]
    pub fn push(&self, item: Value) {
        self.edited();
        let mut items = self.items.borrow_mut();
        let capacity = items.capacity();
        // `Vec::push` grows the buffer itself (doubling); the account learns of it after,
        // so the pushed value never lives across a call (which spilled it to the stack
        // twice per push: +7% on array_push.at).
        items.push(item);
        if items.capacity() != capacity {
            grown(capacity, items.capacity());
        }
    }

    #[inline(always)]
    pub fn pop(&self) -> Option<Value> {
        self.edited();
        self.items.borrow_mut().pop()
    }
}

/// Records the growth of an element buffer from `before` to `after` elements.
#[cold]
#[inline(never)]
fn grown(before: usize, after: usize) {
    heap::acquire((after - before) * size_of::<Value>());
}

impl Drop for Array {
    fn drop(&mut self) {
        let items = self.items.get_mut();
        heap::release(Array::footprint(items.capacity()));
        if items.iter().any(Value::holds_values) {
            dismantle(std::mem::take(items));
        }
    }
}

/// A variable that a closure captures: the declaring frame and every closure that
/// refers to it share it (LANGUAGE.md: captures are by reference). A `Cell`, not a
/// `RefCell`: reads clone the value out and writes replace it, so no borrow is ever
/// held and there is no flag to check.
#[derive(Default)]
pub struct VarCell {
    value: Cell<Value>,
}

impl fmt::Debug for VarCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VarCell").field(&self.get()).finish()
    }
}

/// Bytes a captured variable holds in the heap account.
const VAR_CELL_BYTES: usize = rc_allocation::<VarCell>();

impl VarCell {
    pub fn new(value: Value) -> VarCell {
        heap::acquire(VAR_CELL_BYTES);
        VarCell {
            value: Cell::new(value),
        }
    }

    /// A copy of the value (an `Rc` clone for strings, arrays, maps, closures).
    #[inline(always)]
    pub fn get(&self) -> Value {
        let value = self.value.take();
        let copy = value.fast_clone();
        self.value.set(value);
        copy
    }

    #[inline(always)]
    pub fn set(&self, value: Value) {
        // The old value is dropped after the cell holds the new one.
        drop(self.value.replace(value));
    }
}

impl Drop for VarCell {
    fn drop(&mut self) {
        heap::release(VAR_CELL_BYTES);
        if self.value.get_mut().holds_values() {
            dismantle(vec![self.value.take()]);
        }
    }
}

/// A function value with what it captured: user function `func` and one value per
/// entry of its capture list, in that order (a cell for a variable shared by
/// reference, the value itself for one captured by value); a call copies them into
/// the registers after the arguments.
#[derive(Debug)]
pub struct Closure {
    pub func: u32,
    pub captures: Box<[Value]>,
}

impl Closure {
    pub fn new(func: u32, captures: Box<[Value]>) -> Closure {
        heap::acquire(Closure::footprint(captures.len()));
        Closure { func, captures }
    }

    fn footprint(captures: usize) -> usize {
        rc_allocation::<Closure>() + captures * size_of::<Value>()
    }
}

impl Drop for Closure {
    fn drop(&mut self) {
        heap::release(Closure::footprint(self.captures.len()));
        if self.captures.iter().any(Value::holds_values) {
            dismantle(std::mem::take(&mut self.captures).into_vec());
        }
    }
}

/// Drops `items` and the values nested in them one at a time, instead of through the
/// recursive drop glue: verified bytecode can nest arrays a hundred thousand deep, and
/// closures chain through their captured variables as deep as a loop makes them (each
/// closure capturing the previous one); dropping such a chain took a stack frame per
/// level until the stack overflowed.
#[cold]
#[inline(never)]
pub(super) fn dismantle(mut pending: Vec<Value>) {
    while let Some(item) = pending.pop() {
        // The last reference: move the nested values it holds out before it is dropped,
        // so that its own drop finds none; its other contents are dropped here.
        match item {
            Value::Array(array) => {
                if let Some(array) = Rc::into_inner(array) {
                    let mut items = array.items.borrow_mut();
                    pending.extend(items.drain(..).filter(Value::holds_values));
                }
            }
            Value::Map(map) => {
                if let Some(mut map) = Rc::into_inner(map) {
                    map.drain_nested(&mut pending);
                }
            }
            Value::Cell(cell) => {
                if let Some(cell) = Rc::into_inner(cell) {
                    let value = cell.value.take();
                    if value.holds_values() {
                        pending.push(value);
                    }
                }
            }
            Value::Closure(closure) => {
                if let Some(mut closure) = Rc::into_inner(closure) {
                    let captures = std::mem::take(&mut closure.captures).into_vec();
                    pending.extend(captures.into_iter().filter(Value::holds_values));
                }
            }
            _ => {}
        }
    }
}

/// A value: 16 bytes, a tag byte and an 8-byte payload.
///
/// `repr(C, u8)` puts every payload at offset 8. (The default layout keeps a `Bool` at
/// offset 1, so moving a value copied bytes 1 to 7 piecewise through the stack, and the
/// overlapping partial stores stalled store forwarding in the array handlers.)
#[derive(Debug, Clone, Default)]
#[repr(C, u8)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Num(f64),
    Str(Rc<Str>),
    Array(Rc<Array>),
    Map(Rc<Map>),
    /// A user function, by index into the module's functions.
    Func(u32),
    /// A user function with the variables it captured.
    Closure(Rc<Closure>),
    /// A captured variable's cell, in a register of the frame declaring it or of a
    /// closure using it (never a value a program sees).
    Cell(Rc<VarCell>),
    /// A prelude function, by index into the native table.
    Native(u32),
    /// A global slot that neither its declaration nor a write has set yet.
    Uninit,
}

impl Value {
    /// `clone` with the common case first: copying a number needs no refcount and no
    /// jump on the tag.
    #[inline(always)]
    pub fn fast_clone(&self) -> Value {
        match self {
            Value::Num(n) => Value::Num(*n),
            other => other.clone(),
        }
    }

    pub fn str(text: impl Into<Box<str>>) -> Value {
        Value::Str(Rc::new(Str::new(text)))
    }

    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Rc::new(Array::new(items)))
    }

    /// Whether this value owns nothing (no `Rc`): dropping it does nothing.
    #[inline(always)]
    pub fn is_plain(&self) -> bool {
        matches!(
            self,
            Value::Null
                | Value::Bool(_)
                | Value::Num(_)
                | Value::Func(_)
                | Value::Native(_)
                | Value::Uninit
        )
    }

    /// Whether dropping this value may drop other values it holds (arrays, maps,
    /// closures and cells): those are dropped through [`dismantle`].
    #[inline]
    pub fn holds_values(&self) -> bool {
        matches!(
            self,
            Value::Array(_) | Value::Map(_) | Value::Closure(_) | Value::Cell(_)
        )
    }

    pub fn map(capacity: usize) -> Value {
        Value::Map(Rc::new(Map::with_capacity(capacity)))
    }

    /// Equality of `==`: by value for numbers, bools, strings and null; by identity for
    /// arrays and functions.
    pub fn equals(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Num(a), Value::Num(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => Rc::ptr_eq(a, b) || a.text == b.text,
            (Value::Array(a), Value::Array(b)) => Rc::ptr_eq(a, b),
            (Value::Map(a), Value::Map(b)) => Rc::ptr_eq(a, b),
            (Value::Func(a), Value::Func(b)) => a == b,
            (Value::Closure(a), Value::Closure(b)) => Rc::ptr_eq(a, b),
            (Value::Native(a), Value::Native(b)) => a == b,
            _ => false,
        }
    }
}

/// Renders values the way `print` and `str` do; function names come from the module.
///
/// Only ill-typed bytecode can build an array that contains itself, or nests thousands
/// deep; such an array prints as `[...]` where it recurs or past [`MAX_PRINT_DEPTH`]
/// levels, instead of recursing until the stack overflows. Rows shared many times can
/// still make the text far larger than the values: `write` stops past `limit` bytes.
pub struct Printer<'a> {
    pub module: &'a Module,
    /// Most bytes `write` appends before it gives up (the room a metered run's memory
    /// limit leaves; `usize::MAX` for none).
    pub limit: usize,
}

/// Array nesting `Printer` follows; deeper arrays print as `[...]`. Well-typed programs
/// cannot nest deeper than their types, which are written out in the source.
pub const MAX_PRINT_DEPTH: usize = 1000;

impl Printer<'_> {
    /// The name of a function value.
    pub fn function_name(&self, value: &Value) -> &str {
        match value {
            Value::Func(f) => self.user_function_name(*f),
            Value::Closure(closure) => self.user_function_name(closure.func),
            Value::Native(n) => NATIVES.get(*n as usize).map_or("?", |(b, _)| b.name()),
            _ => "",
        }
    }

    fn user_function_name(&self, f: u32) -> &str {
        self.module
            .functions
            .get(f as usize)
            .map_or("?", |f| &f.name)
    }

    /// Appends the text of `value` to `out`; false if it stopped because the text grew
    /// past `limit` bytes.
    pub fn write(&self, out: &mut String, value: &Value) -> bool {
        let limit = out.len().saturating_add(self.limit);
        self.write_nested(out, value, false, &mut Vec::new(), limit)
    }

    /// `path` holds the arrays and maps being written, outermost first.
    fn write_nested(
        &self,
        out: &mut String,
        value: &Value,
        quoted: bool,
        path: &mut Vec<*const ()>,
        limit: usize,
    ) -> bool {
        match value {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Num(n) => crate::stdlib::number::write_number(out, *n),
            Value::Str(s) if quoted => {
                out.push('"');
                out.push_str(s.as_str());
                out.push('"');
            }
            Value::Str(s) => out.push_str(s.as_str()),
            Value::Map(map) => return self.write_map(out, map, path, limit),
            Value::Array(items) => {
                let id = Rc::as_ptr(items).cast();
                if path.len() >= MAX_PRINT_DEPTH || path.contains(&id) {
                    out.push_str("[...]");
                    return out.len() <= limit;
                }
                path.push(id);
                out.push('[');
                for (i, item) in items.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if !self.write_nested(out, item, true, path, limit) {
                        return false;
                    }
                }
                out.push(']');
                path.pop();
            }
            Value::Func(_) | Value::Native(_) | Value::Closure(_) => {
                // A function expression has no name (the compiler calls it `<fn>`):
                // it prints as `<fn>`.
                let name = self.function_name(value);
                out.push_str("<fn");
                if !name.is_empty() && !name.starts_with('<') {
                    out.push(' ');
                    out.push_str(name);
                }
                out.push('>');
            }
            Value::Cell(cell) => return self.write_nested(out, &cell.get(), quoted, path, limit),
            Value::Uninit => out.push_str("<uninitialized>"),
        }
        out.len() <= limit
    }

    /// `{"a": 1, "b": 2}`: keys and values as inside an array.
    fn write_map(
        &self,
        out: &mut String,
        map: &Rc<Map>,
        path: &mut Vec<*const ()>,
        limit: usize,
    ) -> bool {
        let id = Rc::as_ptr(map).cast();
        if path.len() >= MAX_PRINT_DEPTH || path.contains(&id) {
            out.push_str("{...}");
            return out.len() <= limit;
        }
        path.push(id);
        out.push('{');
        for (i, (key, value)) in map.borrow().iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            if !self.write_nested(out, &key.to_value(), true, path, limit) {
                return false;
            }
            out.push_str(": ");
            if !self.write_nested(out, value, true, path, limit) {
                return false;
            }
        }
        out.push('}');
        path.pop();
        out.len() <= limit
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
