//! Handlers of the `closure` opcodes: the cells of captured variables, and closures.
//!
//! Only variables that the checker found captured, and assigned after their
//! initialization (or readable before it), live in cells; a cell is shared by the frame
//! declaring the variable and by every closure that refers to it, which is what makes
//! captures by reference. The other captured variables are copied: nothing can tell
//! the difference, and they stay plain registers. A closure is its function and its
//! captures; a call copies them into the registers after the arguments (see
//! `call_value`), so the body reads a cell with the same `get_cell` as the declaring
//! frame, and a copied value as a plain register.

use std::rc::Rc;

use super::dispatch::{ClosureHandlers, Cx, Flow};
use super::value::{Closure, Value, VarCell};
use super::Vm;

/// The message for a register that should hold a cell and does not (only ill-typed
/// bytecode makes one).
const NOT_A_CELL: &str = "internal error: captured variable without its cell";

/// A new cell holding `value`. Out of line, like every constructor here: a handler whose
/// local's address escapes (as an allocation's temporaries can) cannot tail-call the
/// next handler, and the threaded loop then grew the stack by a frame per instruction
/// until a 200k-closure loop overflowed it.
#[inline(never)]
fn new_cell_value(value: Value) -> Value {
    Value::Cell(Rc::new(VarCell::new(value)))
}

/// The closure of user function `f` with the captures in `R[base..base+count]`.
#[inline(never)]
fn new_closure(cx: &Cx, f: u16, base: u8, count: u8) -> Value {
    // The verifier keeps the window below the frame's register count.
    let captures: Box<[Value]> = (base as usize..base as usize + count as usize)
        .map(|r| cx.reg(r as u8).fast_clone())
        .collect();
    Value::Closure(Rc::new(Closure::new(f as u32, captures)))
}

impl Vm<'_> {
    /// The cell in register `r`.
    #[inline(always)]
    fn cell(cx: &Cx, r: u8) -> Option<&Rc<VarCell>> {
        match cx.reg(r) {
            Value::Cell(cell) => Some(cell),
            _ => None,
        }
    }

    #[cold]
    #[inline(never)]
    fn used_before_declaration(&mut self, cx: &mut Cx, name: u16) -> Flow {
        let func = self.stack.top().func as usize;
        let name = match &self.module.functions[func].consts[name as usize] {
            Value::Str(s) => s.as_str().to_string(),
            _ => "?".to_string(),
        };
        self.fail(cx, format!("'{name}' is used before its declaration"))
    }
}

impl ClosureHandlers for Vm<'_> {
    #[inline(always)]
    fn new_cell(&mut self, cx: &mut Cx, dst: u8, src: u8) -> Flow {
        let value = cx.reg(src).fast_clone();
        cx.set(dst, new_cell_value(value));
        Flow::Next
    }

    #[inline(always)]
    fn new_cell_empty(&mut self, cx: &mut Cx, dst: u8) -> Flow {
        cx.set(dst, new_cell_value(Value::Uninit));
        Flow::Next
    }

    #[inline(always)]
    fn get_cell(&mut self, cx: &mut Cx, dst: u8, cell: u8, name: u16) -> Flow {
        let value = match Self::cell(cx, cell) {
            Some(cell) => cell.get(),
            None => return self.fail(cx, NOT_A_CELL.to_string()),
        };
        if matches!(value, Value::Uninit) {
            return self.used_before_declaration(cx, name);
        }
        cx.set(dst, value);
        Flow::Next
    }

    #[inline(always)]
    fn set_cell(&mut self, cx: &mut Cx, cell: u8, src: u8) -> Flow {
        let value = cx.reg(src).fast_clone();
        match Self::cell(cx, cell) {
            Some(cell) => {
                cell.set(value);
                Flow::Next
            }
            None => self.fail(cx, NOT_A_CELL.to_string()),
        }
    }

    #[inline(always)]
    fn fresh_cell(&mut self, cx: &mut Cx, cell: u8) -> Flow {
        let value = match Self::cell(cx, cell) {
            Some(cell) => cell.get(),
            None => return self.fail(cx, NOT_A_CELL.to_string()),
        };
        cx.set(cell, new_cell_value(value));
        Flow::Next
    }

    #[inline(always)]
    fn make_closure(&mut self, cx: &mut Cx, dst: u8, f: u16, base: u8, count: u8) -> Flow {
        let closure = new_closure(cx, f, base, count);
        cx.set(dst, closure);
        Flow::Next
    }
}
