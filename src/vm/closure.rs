//! Handlers of the `closure` opcodes: the cells of captured variables, and closures.
//!
//! Only variables that the checker found captured live in cells; a cell is shared by
//! the frame declaring the variable and by every closure that refers to it, which is
//! what makes captures by reference. A closure is its function and its cells; a call
//! copies the cells into the registers after the arguments (see `call_value`), so the
//! body reads them with the same `get_cell` as the declaring frame.

use std::rc::Rc;

use super::dispatch::{ClosureHandlers, Cx, Flow};
use super::value::{Closure, Value, VarCell};
use super::Vm;

/// The message for a register that should hold a cell and does not (only ill-typed
/// bytecode makes one).
const NOT_A_CELL: &str = "internal error: captured variable without its cell";

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
        cx.set(dst, Value::Cell(Rc::new(VarCell::new(value))));
        Flow::Next
    }

    #[inline(always)]
    fn new_cell_empty(&mut self, cx: &mut Cx, dst: u8) -> Flow {
        cx.set(dst, Value::Cell(Rc::new(VarCell::new(Value::Uninit))));
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
        cx.set(cell, Value::Cell(Rc::new(VarCell::new(value))));
        Flow::Next
    }

    #[inline(always)]
    fn make_closure(&mut self, cx: &mut Cx, dst: u8, f: u16, base: u8, count: u8) -> Flow {
        let mut cells = Vec::with_capacity(count as usize);
        // The verifier keeps the window below the frame's register count.
        for r in base as usize..base as usize + count as usize {
            match Self::cell(cx, r as u8) {
                Some(cell) => cells.push(Rc::clone(cell)),
                None => return self.fail(cx, NOT_A_CELL.to_string()),
            }
        }
        let closure = Closure::new(f as u32, cells.into_boxed_slice());
        cx.set(dst, Value::Closure(Rc::new(closure)));
        Flow::Next
    }
}
