//! Handlers of the `string` opcodes.

use super::dispatch::{Cx, Flow, StringHandlers};
use super::value::Value;
use super::Vm;

impl StringHandlers for Vm<'_> {
    #[inline(always)]
    fn add_str(&mut self, cx: &mut Cx, dst: u8, a: u8, b: u8) -> Flow {
        let joined = match (cx.reg(a), cx.reg(b)) {
            (Value::Str(x), Value::Str(y)) => {
                let mut text = String::with_capacity(x.as_str().len() + y.as_str().len());
                text.push_str(x.as_str());
                text.push_str(y.as_str());
                Value::str(text)
            }
            _ => Value::str(""),
        };
        cx.set(dst, joined);
        Flow::Next
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
            other => self.display_value(other),
        };
        cx.set(dst, text);
        Flow::Next
    }
}
