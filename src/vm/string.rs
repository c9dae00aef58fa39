//! Handlers of the `string` opcodes.

use std::rc::Rc;

use super::dispatch::{Cx, Flow, StringHandlers};
use super::value::{Str, Value};
use super::Vm;
use crate::stdlib::strings;

impl Vm<'_> {
    /// One string from the texts of `parts`, allocated once at its final size (out of
    /// line: the buffer's address escapes, which would block the handler's tail call);
    /// `None` when that size would take a metered run past its memory limit.
    ///
    /// Checked before allocating: with up to 255 parts that may all be the same long
    /// string, one `concat` can build hundreds of times the limit, far too late for the
    /// meter's check after the instruction (verified bytecode spent seconds copying 4 GB
    /// here under a 32 MiB limit).
    #[inline(never)]
    fn join_texts(&self, parts: &[Value]) -> Option<Value> {
        let size: usize = parts
            .iter()
            .map(|p| match p {
                Value::Str(s) => s.as_str().len(),
                _ => 24,
            })
            .fold(0, usize::saturating_add);
        if !self.rt.fits(size) {
            return None;
        }
        let mut text = String::with_capacity(size);
        let mut scalars = 0;
        let printer = self.printer();
        for part in parts {
            match part {
                Value::Str(s) => {
                    text.push_str(s.as_str());
                    scalars += s.char_len();
                }
                other => {
                    let from = text.len();
                    if !printer.write(&mut text, other) {
                        return None;
                    }
                    scalars += strings::char_len(&text[from..]);
                }
            }
        }
        Some(Value::Str(Rc::new(Str::with_count(text, scalars))))
    }
}

impl StringHandlers for Vm<'_> {
    #[inline(always)]
    fn add_str(&mut self, cx: &mut Cx, dst: u8, a: u8, b: u8) -> Flow {
        let joined = match (cx.reg(a), cx.reg(b)) {
            (Value::Str(x), Value::Str(y)) => {
                let mut text = String::with_capacity(x.as_str().len() + y.as_str().len());
                text.push_str(x.as_str());
                text.push_str(y.as_str());
                Value::Str(Rc::new(Str::with_count(text, x.char_len() + y.char_len())))
            }
            _ => Value::str(""),
        };
        cx.set(dst, joined);
        Flow::Next
    }

    #[inline(always)]
    fn concat(&mut self, cx: &mut Cx, dst: u8, base: u8, count: u8) -> Flow {
        match self.join_texts(cx.regs_from(base, count)) {
            Some(joined) => {
                cx.set(dst, joined);
                Flow::Next
            }
            None => self.fail_memory(cx),
        }
    }

    #[inline(always)]
    fn str_len(&mut self, cx: &mut Cx, dst: u8, s: u8) -> Flow {
        let len = match cx.reg(s) {
            Value::Str(s) => s.char_len(),
            _ => 0,
        };
        cx.set_num(dst, len as f64);
        Flow::Next
    }

    #[inline(always)]
    fn to_str(&mut self, cx: &mut Cx, dst: u8, a: u8) -> Flow {
        let text = match cx.reg(a) {
            Value::Str(_) => cx.reg(a).clone(),
            other => match self.display_value(other) {
                Some(text) => text,
                None => return self.fail_memory(cx),
            },
        };
        cx.set(dst, text);
        Flow::Next
    }
}
