//! Handlers of the `arith` opcodes: number arithmetic with no type dispatch (the checker
//! proved the operand types).

use super::dispatch::{ArithHandlers, Cx, Flow};
use super::Vm;
use crate::stdlib::number::{fastmod, js_remainder};

/// `R[dst] := R[a] op R[b]` and `R[dst] := R[a] op k` for operators that cannot fail.
macro_rules! number_ops {
    ($($name:ident, $name_k:ident => $op:tt;)*) => {$(
        #[inline(always)]
        fn $name(&mut self, cx: &mut Cx, dst: u8, a: u8, b: u8) -> Flow {
            cx.set_num(dst, cx.num(a) $op cx.num(b));
            Flow::Next
        }

        #[inline(always)]
        fn $name_k(&mut self, cx: &mut Cx, dst: u8, a: u8, k: f64) -> Flow {
            cx.set_num(dst, cx.num(a) $op k);
            Flow::Next
        }
    )*};
}

impl ArithHandlers for Vm<'_> {
    number_ops! {
        add_num, add_num_k => +;
        sub_num, sub_num_k => -;
        mul_num, mul_num_k => *;
    }

    #[inline(always)]
    fn div_num(&mut self, cx: &mut Cx, dst: u8, a: u8, b: u8) -> Flow {
        let divisor = cx.num(b);
        if divisor == 0.0 {
            return self.fail(cx, "division by zero".to_string());
        }
        cx.set_num(dst, cx.num(a) / divisor);
        Flow::Next
    }

    #[inline(always)]
    fn div_num_k(&mut self, cx: &mut Cx, dst: u8, a: u8, k: f64) -> Flow {
        cx.set_num(dst, cx.num(a) / k);
        Flow::Next
    }

    #[inline(always)]
    fn mod_num(&mut self, cx: &mut Cx, dst: u8, a: u8, b: u8) -> Flow {
        let divisor = cx.num(b);
        if divisor == 0.0 {
            return self.fail(cx, "remainder by zero".to_string());
        }
        cx.set_num(dst, js_remainder(cx.num(a), divisor));
        Flow::Next
    }

    #[inline(always)]
    fn mod_num_k(&mut self, cx: &mut Cx, dst: u8, a: u8, k: f64) -> Flow {
        cx.set_num(dst, js_remainder(cx.num(a), k));
        Flow::Next
    }

    #[inline(always)]
    fn mod_num_ki(&mut self, cx: &mut Cx, dst: u8, a: u8, k: u32, magic: u64) -> Flow {
        let x = cx.num(a);
        let r = if (0.0..4_294_967_296.0).contains(&x) {
            // SAFETY: 0 <= x < 2^32 is in range for u32 (and not NaN).
            let xi = unsafe { x.to_int_unchecked::<u32>() };
            if xi as f64 == x {
                // Lemire's fastmod: the remainder by a constant with two multiplications
                // instead of a division (~25 cycles on this machine's cores). x >= 0,
                // so the result's sign is x's (which makes -0 % k give -0).
                (fastmod(xi, magic, k) as f64).copysign(x)
            } else {
                js_remainder(x, k as f64)
            }
        } else {
            js_remainder(x, k as f64)
        };
        cx.set_num(dst, r);
        Flow::Next
    }

    #[inline(always)]
    fn neg_num(&mut self, cx: &mut Cx, dst: u8, a: u8) -> Flow {
        cx.set_num(dst, -cx.num(a));
        Flow::Next
    }
}
