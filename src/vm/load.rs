//! Handlers of the `load` opcodes: moves, constants, function values, globals.

use super::dispatch::{Cx, Flow, LoadHandlers};
use super::value::Value;
use super::Vm;

impl LoadHandlers for Vm<'_> {
    #[inline(always)]
    fn mov(&mut self, cx: &mut Cx, dst: u8, src: u8) -> Flow {
        cx.copy(dst, src);
        Flow::Next
    }

    #[inline(always)]
    fn load_num(&mut self, cx: &mut Cx, dst: u8, value: f64) -> Flow {
        cx.set_num(dst, value);
        Flow::Next
    }

    #[inline(always)]
    fn load_const(&mut self, cx: &mut Cx, dst: u8, k: u16) -> Flow {
        let func = self.stack.top().func as usize;
        // A clone of an `Rc`: the constant is shared, not copied.
        let value = self.module.functions[func].consts[k as usize].clone();
        cx.set(dst, value);
        Flow::Next
    }

    #[inline(always)]
    fn load_null(&mut self, cx: &mut Cx, dst: u8) -> Flow {
        cx.set(dst, Value::Null);
        Flow::Next
    }

    #[inline(always)]
    fn load_bool(&mut self, cx: &mut Cx, dst: u8, value: u8) -> Flow {
        cx.set_bool(dst, value != 0);
        Flow::Next
    }

    #[inline(always)]
    fn load_fn(&mut self, cx: &mut Cx, dst: u8, f: u16) -> Flow {
        cx.set(dst, Value::Func(f as u32));
        Flow::Next
    }

    #[inline(always)]
    fn load_native(&mut self, cx: &mut Cx, dst: u8, n: u8) -> Flow {
        cx.set(dst, Value::Native(n as u32));
        Flow::Next
    }

    #[inline(always)]
    fn get_global(&mut self, cx: &mut Cx, dst: u8, g: u16) -> Flow {
        match &self.globals[g as usize] {
            Value::Uninit => {
                let message = format!(
                    "global '{}' is not initialized: its declaration has not run yet",
                    self.module.globals[g as usize]
                );
                self.fail(cx, message)
            }
            Value::Num(n) => {
                cx.set_num(dst, *n);
                Flow::Next
            }
            value => {
                cx.set(dst, value.clone());
                Flow::Next
            }
        }
    }

    #[inline(always)]
    fn set_global(&mut self, cx: &mut Cx, g: u16, src: u8) -> Flow {
        let slot = &mut self.globals[g as usize];
        match (cx.reg(src), &mut *slot) {
            (Value::Num(n), Value::Num(old)) => *old = *n,
            (value, slot) => *slot = value.clone(),
        }
        Flow::Next
    }
}
