//! Handlers of the `branch` opcodes: jumps and fused compare-and-branch.

use super::dispatch::{BranchHandlers, Cx, Flow};
use super::Vm;

#[inline(always)]
fn branch_if(condition: bool, off: i32) -> Flow {
    if condition {
        Flow::Jump(off)
    } else {
        Flow::Next
    }
}

/// `if R[a] op R[b] then jump` (and its negation) on numbers.
macro_rules! compare_and_branch {
    ($($name:ident => |$x:ident, $y:ident| $test:expr;)*) => {$(
        #[inline(always)]
        fn $name(&mut self, cx: &mut Cx, a: u8, b: u8, off: i32) -> Flow {
            let ($x, $y) = (cx.num(a), cx.num(b));
            branch_if($test, off)
        }
    )*};
}

/// `if R[a] op k then jump` (and its negation) on a number and an immediate.
macro_rules! compare_k_and_branch {
    ($($name:ident => |$x:ident, $k:ident| $test:expr;)*) => {$(
        #[inline(always)]
        fn $name(&mut self, cx: &mut Cx, a: u8, $k: f64, off: i32) -> Flow {
            let $x = cx.num(a);
            branch_if($test, off)
        }
    )*};
}

/// `R[counter] += step; if R[counter] op limit then jump`: the step and test of a loop in
/// one dispatch, with the limit in a register or immediate.
macro_rules! loop_step_and_branch {
    ($($name:ident, $name_k:ident => $op:tt;)*) => {$(
        #[inline(always)]
        fn $name(&mut self, cx: &mut Cx, counter: u8, step: f64, limit: u8, off: i32) -> Flow {
            let next = cx.num(counter) + step;
            cx.set_num(counter, next);
            branch_if(next $op cx.num(limit), off)
        }

        #[inline(always)]
        fn $name_k(&mut self, cx: &mut Cx, counter: u8, step: f64, limit: f64, off: i32) -> Flow {
            let next = cx.num(counter) + step;
            cx.set_num(counter, next);
            branch_if(next $op limit, off)
        }
    )*};
}

// `!(x < y)` is not `x >= y` when either is NaN: the negated forms are deliberate.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
impl BranchHandlers for Vm<'_> {
    loop_step_and_branch! {
        loop_lt, loop_lt_k => <;
        loop_le, loop_le_k => <=;
        loop_gt, loop_gt_k => >;
        loop_ge, loop_ge_k => >=;
    }

    #[inline(always)]
    fn jump(&mut self, _cx: &mut Cx, off: i32) -> Flow {
        Flow::Jump(off)
    }

    #[inline(always)]
    fn jtrue(&mut self, cx: &mut Cx, a: u8, off: i32) -> Flow {
        branch_if(cx.boolean(a), off)
    }

    #[inline(always)]
    fn jfalse(&mut self, cx: &mut Cx, a: u8, off: i32) -> Flow {
        branch_if(!cx.boolean(a), off)
    }

    compare_and_branch! {
        jlt_num => |x, y| x < y;
        jnlt_num => |x, y| !(x < y);
        jle_num => |x, y| x <= y;
        jnle_num => |x, y| !(x <= y);
        jeq_num => |x, y| x == y;
        jne_num => |x, y| x != y;
    }

    compare_k_and_branch! {
        jlt_num_k => |x, k| x < k;
        jnlt_num_k => |x, k| !(x < k);
        jle_num_k => |x, k| x <= k;
        jnle_num_k => |x, k| !(x <= k);
        jgt_num_k => |x, k| x > k;
        jngt_num_k => |x, k| !(x > k);
        jge_num_k => |x, k| x >= k;
        jnge_num_k => |x, k| !(x >= k);
        jeq_num_k => |x, k| x == k;
        jne_num_k => |x, k| x != k;
    }
}
