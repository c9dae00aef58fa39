//! Handlers of the `compare` opcodes: comparisons that produce a bool.

use super::dispatch::{CompareHandlers, Cx, Flow};
use super::value::Value;
use super::Vm;

/// `R[dst] := R[a] op R[b]` on numbers.
macro_rules! number_comparisons {
    ($($name:ident => $op:tt;)*) => {$(
        #[inline(always)]
        fn $name(&mut self, cx: &mut Cx, dst: u8, a: u8, b: u8) -> Flow {
            cx.set_bool(dst, cx.num(a) $op cx.num(b));
            Flow::Next
        }
    )*};
}

/// `R[dst] := R[a] op R[b]` on strings (by code point, which UTF-8 byte order matches).
macro_rules! string_comparisons {
    ($($name:ident => $op:tt;)*) => {$(
        #[inline(always)]
        fn $name(&mut self, cx: &mut Cx, dst: u8, a: u8, b: u8) -> Flow {
            let result = match (cx.reg(a), cx.reg(b)) {
                (Value::Str(x), Value::Str(y)) => x.as_str() $op y.as_str(),
                _ => false,
            };
            cx.set_bool(dst, result);
            Flow::Next
        }
    )*};
}

impl CompareHandlers for Vm<'_> {
    number_comparisons! {
        lt_num => <;
        le_num => <=;
        eq_num => ==;
        ne_num => !=;
    }

    string_comparisons! {
        lt_str => <;
        le_str => <=;
    }

    #[inline(always)]
    fn not(&mut self, cx: &mut Cx, dst: u8, a: u8) -> Flow {
        cx.set_bool(dst, !cx.boolean(a));
        Flow::Next
    }

    #[inline(always)]
    fn eq(&mut self, cx: &mut Cx, dst: u8, a: u8, b: u8) -> Flow {
        cx.set_bool(dst, cx.reg(a).equals(cx.reg(b)));
        Flow::Next
    }

    #[inline(always)]
    fn ne(&mut self, cx: &mut Cx, dst: u8, a: u8, b: u8) -> Flow {
        cx.set_bool(dst, !cx.reg(a).equals(cx.reg(b)));
        Flow::Next
    }
}
