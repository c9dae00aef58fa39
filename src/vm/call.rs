//! Handlers of the `call` opcodes. A call leaves the arguments where the caller put them:
//! they become the callee's first registers, so nothing is copied.

use super::dispatch::{CallHandlers, Cx, Flow, Handlers};
use super::natives::NATIVES;
use super::value::Value;
use super::Vm;
use crate::bytecode::Opcode;

impl Vm<'_> {
    /// Enters user function `f` with its registers starting at the caller's `R[base]`;
    /// the caller resumes `call_size` bytes after the call instruction.
    #[inline(always)]
    fn enter(&mut self, cx: &mut Cx, f: u32, base: u8, call_size: usize) -> Flow {
        if self.interrupt_requested() {
            self.stop_interrupted(cx);
            return Flow::Stop;
        }
        let callee = &self.module.functions[f as usize];
        let (code, num_regs) = (callee.code.as_ptr(), callee.num_regs as usize);
        let new_base = self.stack.top().base + base as usize;
        // SAFETY: the call instruction lies within verified code.
        let ret_ip = unsafe { cx.ip.add(call_size) };
        match self.stack.push_frame(f, new_base, num_regs, ret_ip) {
            Some(regs) => {
                cx.regs = regs;
                cx.ip = code;
                Flow::Continue
            }
            None => self.fail(cx, "stack overflow".to_string()),
        }
    }

    /// Enters the closure in `R[callee]`, whose arguments are in `R[base..base+argc]`:
    /// its captures go into the callee's registers after the arguments, where its body
    /// reads them. Out of line, so plain function calls stay small.
    #[inline(never)]
    fn enter_closure(&mut self, cx: &mut Cx, callee: u8, base: u8, argc: u8) -> Flow {
        let Value::Closure(closure) = cx.reg(callee).clone() else {
            return self.fail(cx, "called value is not a closure".to_string());
        };
        let flow = self.enter(cx, closure.func, base, const { Opcode::CallValue.size() });
        if flow == Flow::Continue {
            for (i, capture) in closure.captures.iter().enumerate() {
                // The verifier checked, at `make_closure`, that the function has a
                // register for every capture after its parameters.
                cx.set(argc + i as u8, capture.fast_clone());
            }
        }
        flow
    }

    /// Calls prelude function `n` on `R[base..base+argc]`, result in `R[base]`.
    /// Out of line: its locals would otherwise keep the threaded handler from
    /// tail-calling the next one.
    #[inline(never)]
    fn call_prelude(&mut self, cx: &mut Cx, n: u32, base: u8, argc: u8) -> Flow {
        let (builtin, native) = NATIVES[n as usize];
        if builtin.reads_input() {
            if let Err(e) = self.flush_output() {
                return self.fail(cx, format!("cannot write output: {e}"));
            }
        }
        match native(&self.rt, cx.regs_from(base, argc)) {
            Ok(result) => {
                cx.set(base, result);
                Flow::Next
            }
            Err(message) => self.fail(cx, message),
        }
    }

    /// Leaves the current function, first copying `R[result]` into the caller's
    /// `R[base]`, which is the callee's `R[0]`.
    #[inline(always)]
    fn leave(&mut self, cx: &mut Cx, result: Option<u8>) -> Flow {
        let (frame, caller_regs) = self.stack.pop_frame();
        match caller_regs {
            Some(regs) => {
                if let Some(result) = result {
                    cx.copy(0, result);
                }
                cx.regs = regs;
                cx.ip = frame.ret_ip;
                Flow::Continue
            }
            None => Flow::Stop,
        }
    }
}

impl CallHandlers for Vm<'_> {
    #[inline(always)]
    fn call(&mut self, cx: &mut Cx, f: u16, base: u8, _argc: u8) -> Flow {
        self.enter(cx, f as u32, base, const { Opcode::Call.size() })
    }

    #[inline(always)]
    fn call_value(&mut self, cx: &mut Cx, callee: u8, base: u8, argc: u8) -> Flow {
        match *cx.reg(callee) {
            Value::Func(f) if self.module.functions[f as usize].arity == argc => {
                self.enter(cx, f, base, const { Opcode::CallValue.size() })
            }
            Value::Native(n) => self.call_prelude(cx, n, base, argc),
            Value::Closure(ref closure)
                if self.module.functions[closure.func as usize].arity == argc =>
            {
                self.enter_closure(cx, callee, base, argc)
            }
            _ => self.fail(
                cx,
                "called value is not a function of this arity".to_string(),
            ),
        }
    }

    #[inline(always)]
    fn call_native(&mut self, cx: &mut Cx, n: u8, base: u8, argc: u8) -> Flow {
        self.call_prelude(cx, n as u32, base, argc)
    }

    #[inline(always)]
    fn call_host(&mut self, cx: &mut Cx, host: u32, base: u8, argc: u8) -> Flow {
        self.call_host_fn(cx, host, base, argc)
    }

    #[inline(always)]
    fn ret(&mut self, cx: &mut Cx, src: u8) -> Flow {
        self.leave(cx, Some(src))
    }

    #[inline(always)]
    fn ret_void(&mut self, cx: &mut Cx) -> Flow {
        self.leave(cx, None)
    }
}
