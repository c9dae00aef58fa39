//! Compiling expressions into registers, and conditions into branches.
//!
//! Three ways to evaluate an expression:
//! - [`Compiler::expr_into`] writes it into a given register;
//! - [`Compiler::push_expr`] writes it into a new register on top of the temporaries;
//! - [`Compiler::any_expr`] returns any register holding it: a local variable's own
//!   register needs no instruction at all (within one expression no local can change:
//!   assignments are statements and functions cannot reach their caller's locals).

use super::{int, num, Compiler, FnState, Place};
use crate::builtins::Builtin;
use crate::bytecode::Opcode;
use crate::diag::CompileError;
use crate::span::Span;
use crate::syntax::ast::{BinOp, Expr, ExprKind, Res, UnOp};
use crate::types::Type;

type Result<T = ()> = std::result::Result<T, CompileError>;

impl Compiler<'_> {
    /// Evaluates `e` into a new register at the top; temporaries above it are released.
    pub(super) fn push_expr(&mut self, f: &mut FnState, e: &Expr) -> Result<u8> {
        if let ExprKind::Call(callee, args) = &e.kind {
            // A call leaves its result in its base register, which is normally the next
            // free one (unless a temporary for the callee came first).
            let reg = f.free_reg as u8;
            let result = self.call(f, callee, args, e.span)?;
            if result != reg {
                f.emit(Opcode::Mov, &[int(reg), int(result)], e.span);
            }
            f.free_reg = reg as u16 + 1;
            return Ok(reg);
        }
        let reg = f.alloc(e.span)?;
        self.expr_into(f, e, reg)?;
        f.free_reg = reg as u16 + 1;
        Ok(reg)
    }

    /// A register holding the value of `e`.
    pub(super) fn any_expr(&mut self, f: &mut FnState, e: &Expr) -> Result<u8> {
        if let Some(&(_, reg)) = self.hoisted.iter().find(|(p, _)| std::ptr::eq(*p, e)) {
            return Ok(reg);
        }
        if let ExprKind::Var(name) = &e.kind {
            if let Res::Local(decl) | Res::Global(decl) = name.res {
                if let Place::Reg(reg) = self.place(decl) {
                    return Ok(reg);
                }
            }
        }
        self.push_expr(f, e)
    }

    /// Evaluates `e` for its effects only.
    pub(super) fn effect_expr(&mut self, f: &mut FnState, e: &Expr) -> Result {
        let mark = f.free_reg;
        self.push_expr(f, e)?;
        f.free_reg = mark;
        Ok(())
    }

    /// A register holding the operand `e` of a unary operator whose result goes to
    /// `dst`: `dst` itself, unless `e` is already in a register (a variable) or lands in
    /// one of its own (a call). So `- - - x` or `!!!!b` needs one register, not one per
    /// operator: a few hundred of them made the unoptimized build fail with "too many
    /// registers" where constant folding let the optimized one compile.
    fn unary_operand(&mut self, f: &mut FnState, e: &Expr, dst: u8) -> Result<u8> {
        if !self.computed_in_place(e) {
            return self.any_expr(f, e);
        }
        self.expr_into(f, e, dst)?;
        Ok(dst)
    }

    /// Whether `e` is best evaluated straight into the register its parent writes: it
    /// takes instructions of its own, and is neither already in a register (a variable,
    /// a hoisted loop invariant, a literal that costs one load anywhere) nor a call,
    /// whose result lands in a register of its own (a move would be needed).
    fn computed_in_place(&self, e: &Expr) -> bool {
        let in_register = matches!(
            e.kind,
            ExprKind::Var(_)
                | ExprKind::Call(..)
                | ExprKind::Number(_)
                | ExprKind::Str(_)
                | ExprKind::Bool(_)
                | ExprKind::Null
        );
        !in_register && !self.hoisted.iter().any(|(p, _)| std::ptr::eq(*p, e))
    }

    /// Whether `e` is a literal: evaluating it has no effect and sees none, so it may
    /// be evaluated after its right-hand neighbour.
    fn is_literal(e: &Expr) -> bool {
        matches!(
            e.kind,
            ExprKind::Number(_) | ExprKind::Str(_) | ExprKind::Bool(_) | ExprKind::Null
        )
    }

    /// Whether evaluating `e` into a register may write it before reading all of its
    /// operands (so the register must not be one of the operands' variables).
    pub(super) fn writes_destination_early(e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Array(_) | ExprKind::Binary(BinOp::And | BinOp::Or, _, _) => true,
            // The operand of a unary operator is evaluated into the destination, and so
            // is the right operand of a literal (`1 - (...)`, see `literal_first`).
            ExprKind::Unary(_, operand) => Self::writes_destination_early(operand),
            ExprKind::Binary(_, lhs, rhs) if Self::is_literal(lhs) => {
                Self::writes_destination_early(rhs)
            }
            ExprKind::Call(callee, _) => matches!(
                &callee.kind,
                ExprKind::Var(n) if matches!(n.res, Res::Builtin(Builtin::Map | Builtin::Filter | Builtin::Reduce))
            ),
            _ => false,
        }
    }

    /// Evaluates `e` into register `dst`.
    pub(super) fn expr_into(&mut self, f: &mut FnState, e: &Expr, dst: u8) -> Result {
        let mark = f.free_reg;
        let span = e.span;
        if self.options.optimize {
            if let Some(value) = fold(e) {
                f.emit(Opcode::LoadNum, &[int(dst), num(value)], span);
                return Ok(());
            }
        }
        match &e.kind {
            ExprKind::Number(value) => {
                f.emit(Opcode::LoadNum, &[int(dst), num(*value)], span);
            }
            ExprKind::Str(text) => {
                let k = f.string_const(text, span)?;
                f.emit(Opcode::LoadConst, &[int(dst), int(k)], span);
            }
            ExprKind::Bool(b) => {
                f.emit(Opcode::LoadBool, &[int(dst), int(*b as u8)], span);
            }
            ExprKind::Null => {
                f.emit(Opcode::LoadNull, &[int(dst)], span);
            }
            ExprKind::Var(name) => match name.res {
                Res::Local(decl) | Res::Global(decl) => match self.place(decl) {
                    Place::Reg(reg) => {
                        if reg != dst {
                            f.emit(Opcode::Mov, &[int(dst), int(reg)], span);
                        }
                    }
                    Place::Global(slot) => {
                        f.emit(Opcode::GetGlobal, &[int(dst), int(slot)], span);
                    }
                },
                Res::Func(id) => {
                    f.emit(Opcode::LoadFn, &[int(dst), int(id as u16)], span);
                }
                Res::Builtin(b) => {
                    let n = self.native(b);
                    f.emit(Opcode::LoadNative, &[int(dst), int(n)], span);
                }
                Res::Host(_) => {
                    return Err(CompileError::new("host functions can only be called", span))
                }
                Res::Unresolved => unreachable!("the checker resolves every name"),
            },
            ExprKind::Array(items) => {
                let capacity = u32::try_from(items.len()).unwrap_or(u32::MAX);
                f.emit(Opcode::NewArray, &[int(dst), int(capacity)], span);
                for item in items {
                    let reg = self.any_expr(f, item)?;
                    f.emit(Opcode::Push, &[int(dst), int(reg)], item.span);
                    f.free_reg = mark;
                }
            }
            ExprKind::Unary(UnOp::Neg, operand) => {
                let a = self.unary_operand(f, operand, dst)?;
                f.emit(Opcode::NegNum, &[int(dst), int(a)], span);
            }
            ExprKind::Unary(UnOp::Not, operand) => {
                let a = self.unary_operand(f, operand, dst)?;
                f.emit(Opcode::Not, &[int(dst), int(a)], span);
            }
            ExprKind::Binary(op @ (BinOp::And | BinOp::Or), lhs, rhs) => {
                self.expr_into(f, lhs, dst)?;
                let jump = if *op == BinOp::And {
                    Opcode::Jfalse
                } else {
                    Opcode::Jtrue
                };
                let skip = f.emit(jump, &[int(dst), int(0)], span);
                self.expr_into(f, rhs, dst)?;
                let end = f.here();
                f.patch(skip, end);
            }
            ExprKind::Binary(BinOp::Add, lhs, _)
                if self.options.optimize && lhs.ty == Type::String =>
            {
                self.concat_into(f, e, dst)?;
            }
            ExprKind::Binary(op, lhs, rhs) => {
                if is_comparison(*op) {
                    self.comparison_into(f, *op, lhs, rhs, dst)?;
                } else if let Some(a) = self.literal_first(f, lhs, rhs, dst)? {
                    let opcode = if lhs.ty == Type::String {
                        Opcode::AddStr
                    } else {
                        arithmetic_opcode(*op)
                    };
                    f.emit(opcode, &[int(dst), int(a), int(dst)], span);
                } else {
                    let a = self.any_expr(f, lhs)?;
                    self.binary_into(f, *op, &lhs.ty, dst, a, rhs, span)?;
                }
            }
            ExprKind::Index(array, index)
                if self.options.optimize && self.is_pure_number(index) =>
            {
                // `xs[i][j]` with a `j` that cannot fail or have effects: one instruction,
                // without copying the row `xs[i]` out (and its refcount traffic). Not
                // when parentheses around the whole expression widen its span
                // (`(xs[i][j])`): an error of `xs[i]` covers the first bytes of the
                // instruction's span, which would then start at the parenthesis.
                if let (ExprKind::Index(rows, i), true) =
                    (&array.kind, array.span.start == span.start)
                {
                    let rows = self.any_expr(f, rows)?;
                    let i = self.any_expr(f, i)?;
                    let j = self.any_expr(f, index)?;
                    // An error of `xs[i]` underlines `xs[i]`, as the unfused code does.
                    let row = array.span.end.saturating_sub(span.start);
                    f.emit(
                        Opcode::GetIndex2,
                        &[int(dst), int(rows), int(i), int(j), int(row)],
                        span,
                    );
                } else {
                    let arr = self.any_expr(f, array)?;
                    let idx = self.any_expr(f, index)?;
                    f.emit(Opcode::GetIndex, &[int(dst), int(arr), int(idx)], span);
                }
            }
            ExprKind::Index(array, index) => {
                let arr = self.any_expr(f, array)?;
                let idx = self.any_expr(f, index)?;
                f.emit(Opcode::GetIndex, &[int(dst), int(arr), int(idx)], span);
            }
            ExprKind::Call(callee, args) => {
                let result = self.call(f, callee, args, span)?;
                if result != dst {
                    f.emit(Opcode::Mov, &[int(dst), int(result)], span);
                }
            }
        }
        f.free_reg = mark;
        Ok(())
    }

    /// A chain of string `+` as one `concat` of its parts: the result is allocated once,
    /// and `str(x)` parts are rendered straight into it instead of into strings of
    /// their own.
    fn concat_into(&mut self, f: &mut FnState, e: &Expr, dst: u8) -> Result {
        let mut parts = Vec::new();
        let rendered = string_parts(e, &mut parts);
        if parts.len() == 2 && !rendered {
            // `a + b`: `add_str` reads the operands where they are.
            let ExprKind::Binary(_, lhs, rhs) = &e.kind else {
                unreachable!("a chain of two parts is one `+`")
            };
            let a = self.any_expr(f, lhs)?;
            return self.binary_into(f, BinOp::Add, &Type::String, dst, a, rhs, e.span);
        }
        // Long chains are joined in groups, each group's text becoming the first part of
        // the next, so a chain never needs more than `CONCAT_GROUP` registers. (Joining
        // early is unobservable: a join has no effects and cannot fail.)
        const CONCAT_GROUP: usize = 32;
        let base = f.free_reg as u8;
        let mut count = 0;
        for part in &parts {
            if count == CONCAT_GROUP {
                f.emit(
                    Opcode::Concat,
                    &[int(base), int(base), int(count as u8)],
                    e.span,
                );
                f.free_reg = base as u16 + 1;
                count = 1;
            }
            self.push_expr(f, part)?;
            count += 1;
        }
        f.emit(
            Opcode::Concat,
            &[int(dst), int(base), int(count as u8)],
            e.span,
        );
        Ok(())
    }

    /// Arithmetic that cannot fail or have effects, on constants and variables in
    /// registers.
    pub(super) fn is_pure_number(&self, e: &Expr) -> bool {
        self.is_invariant(e, &[])
    }

    /// `R[dst] := R[a] op rhs` for an arithmetic operator on operands of type `ty`
    /// (strings for `+` joins). Used by expressions and compound assignments.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn binary_into(
        &mut self,
        f: &mut FnState,
        op: BinOp,
        ty: &Type,
        dst: u8,
        a: u8,
        rhs: &Expr,
        span: Span,
    ) -> Result {
        if *ty == Type::String {
            let b = self.any_expr(f, rhs)?;
            f.emit(Opcode::AddStr, &[int(dst), int(a), int(b)], span);
            return Ok(());
        }
        let reg_op = arithmetic_opcode(op);
        let k_op = match op {
            BinOp::Add => Some(Opcode::AddNumK),
            BinOp::Sub => Some(Opcode::SubNumK),
            BinOp::Mul => Some(Opcode::MulNumK),
            BinOp::Div => Some(Opcode::DivNumK),
            BinOp::Mod => Some(Opcode::ModNumK),
            _ => unreachable!("{op:?} is not arithmetic"),
        };
        if let (BinOp::Mod, Some(k)) = (op, self.immediate(rhs)) {
            if (1.0..4_294_967_296.0).contains(&k) && k.fract() == 0.0 {
                let d = k as u32;
                let magic = crate::stdlib::number::fastmod_magic(d) as i64;
                f.emit(
                    Opcode::ModNumKi,
                    &[int(dst), int(a), int(d), int(magic)],
                    span,
                );
                return Ok(());
            }
        }
        if let (Some(k_op), Some(k)) = (k_op, self.immediate(rhs)) {
            // Division and remainder by an immediate zero keep their runtime check.
            if k != 0.0 || !matches!(op, BinOp::Div | BinOp::Mod) {
                f.emit(k_op, &[int(dst), int(a), num(k)], span);
                return Ok(());
            }
        }
        let b = self.any_expr(f, rhs)?;
        f.emit(reg_op, &[int(dst), int(a), int(b)], span);
        Ok(())
    }

    /// For `literal op rhs`: evaluates `rhs` into `dst` first and then the literal into
    /// a new register, which it returns (`None`, emitting nothing, in other cases).
    /// Nothing can observe the order, and a right-nested chain such as
    /// `1 - (1 - (1 - ...))` then needs two registers instead of one per level: with a
    /// few hundred levels the unoptimized build failed with "too many registers" where
    /// the optimizer folds the chain to a constant.
    fn literal_first(
        &mut self,
        f: &mut FnState,
        lhs: &Expr,
        rhs: &Expr,
        dst: u8,
    ) -> Result<Option<u8>> {
        if !Self::is_literal(lhs) || !self.computed_in_place(rhs) {
            return Ok(None);
        }
        self.expr_into(f, rhs, dst)?;
        Ok(Some(self.push_expr(f, lhs)?))
    }

    /// A number known at compile time, when immediates are enabled.
    pub(super) fn immediate(&self, e: &Expr) -> Option<f64> {
        if self.options.optimize {
            fold(e)
        } else {
            None
        }
    }

    fn comparison_into(
        &mut self,
        f: &mut FnState,
        op: BinOp,
        lhs: &Expr,
        rhs: &Expr,
        dst: u8,
    ) -> Result {
        let span = lhs.span.to(rhs.span);
        let (a, b) = match self.literal_first(f, lhs, rhs, dst)? {
            Some(a) => (a, dst),
            None => {
                let a = self.any_expr(f, lhs)?;
                (a, self.any_expr(f, rhs)?)
            }
        };
        let (opcode, x, y) = match (op, &lhs.ty) {
            (BinOp::Eq, Type::Number) => (Opcode::EqNum, a, b),
            (BinOp::Ne, Type::Number) => (Opcode::NeNum, a, b),
            (BinOp::Eq, _) => (Opcode::Eq, a, b),
            (BinOp::Ne, _) => (Opcode::Ne, a, b),
            (BinOp::Lt, Type::String) => (Opcode::LtStr, a, b),
            (BinOp::Le, Type::String) => (Opcode::LeStr, a, b),
            (BinOp::Gt, Type::String) => (Opcode::LtStr, b, a),
            (BinOp::Ge, Type::String) => (Opcode::LeStr, b, a),
            (BinOp::Lt, _) => (Opcode::LtNum, a, b),
            (BinOp::Le, _) => (Opcode::LeNum, a, b),
            (BinOp::Gt, _) => (Opcode::LtNum, b, a),
            (BinOp::Ge, _) => (Opcode::LeNum, b, a),
            _ => unreachable!("{op:?} is not a comparison"),
        };
        f.emit(opcode, &[int(dst), int(x), int(y)], span);
        Ok(())
    }

    /// Emits code that jumps when `cond` evaluates to `when` and falls through
    /// otherwise; returns the jumps to patch.
    pub(super) fn cond_jump(
        &mut self,
        f: &mut FnState,
        cond: &Expr,
        when: bool,
    ) -> Result<Vec<usize>> {
        let mark = f.free_reg;
        let span = cond.span;
        let jumps = match &cond.kind {
            ExprKind::Bool(b) if self.options.optimize => {
                if *b == when {
                    vec![f.emit(Opcode::Jump, &[int(0)], span)]
                } else {
                    Vec::new()
                }
            }
            ExprKind::Unary(UnOp::Not, inner) => self.cond_jump(f, inner, !when)?,
            ExprKind::Binary(op @ (BinOp::And | BinOp::Or), lhs, rhs) => {
                // `a && b` jumps on false if either does; on true only if both are.
                let short_circuit_on = *op == BinOp::Or;
                if when == short_circuit_on {
                    let mut jumps = self.cond_jump(f, lhs, when)?;
                    jumps.extend(self.cond_jump(f, rhs, when)?);
                    jumps
                } else {
                    let skip = self.cond_jump(f, lhs, !when)?;
                    let jumps = self.cond_jump(f, rhs, when)?;
                    let here = f.here();
                    f.patch_all(skip, here);
                    jumps
                }
            }
            ExprKind::Binary(op, lhs, rhs)
                if self.options.optimize && is_comparison(*op) && lhs.ty == Type::Number =>
            {
                vec![self.compare_and_branch(f, *op, lhs, rhs, when)?]
            }
            _ => {
                let reg = self.any_expr(f, cond)?;
                let op = if when { Opcode::Jtrue } else { Opcode::Jfalse };
                vec![f.emit(op, &[int(reg), int(0)], span)]
            }
        };
        f.free_reg = mark;
        Ok(jumps)
    }

    /// A fused number comparison and branch, jumping when `lhs op rhs` is `when`.
    fn compare_and_branch(
        &mut self,
        f: &mut FnState,
        op: BinOp,
        lhs: &Expr,
        rhs: &Expr,
        when: bool,
    ) -> Result<usize> {
        let span = lhs.span.to(rhs.span);
        // An immediate on either side: `x op k`, or `k op x` read as `x op' k`.
        let with_k = match (self.immediate(lhs), self.immediate(rhs)) {
            (_, Some(k)) => Some((lhs, op, k)),
            (Some(k), None) => Some((rhs, mirror(op), k)),
            (None, None) => None,
        };
        if let Some((x, op, k)) = with_k {
            let a = self.any_expr(f, x)?;
            let opcode = match (op, when) {
                (BinOp::Lt, true) => Opcode::JltNumK,
                (BinOp::Lt, false) => Opcode::JnltNumK,
                (BinOp::Le, true) => Opcode::JleNumK,
                (BinOp::Le, false) => Opcode::JnleNumK,
                (BinOp::Gt, true) => Opcode::JgtNumK,
                (BinOp::Gt, false) => Opcode::JngtNumK,
                (BinOp::Ge, true) => Opcode::JgeNumK,
                (BinOp::Ge, false) => Opcode::JngeNumK,
                (BinOp::Eq, true) | (BinOp::Ne, false) => Opcode::JeqNumK,
                (BinOp::Eq, false) | (BinOp::Ne, true) => Opcode::JneNumK,
                _ => unreachable!("{op:?} is not a comparison"),
            };
            return Ok(f.emit(opcode, &[int(a), num(k), int(0)], span));
        }
        let a = self.any_expr(f, lhs)?;
        let b = self.any_expr(f, rhs)?;
        // `a > b` is `b < a`; swapping registers keeps the evaluation order.
        let (opcode, x, y) = match (op, when) {
            (BinOp::Lt, true) => (Opcode::JltNum, a, b),
            (BinOp::Lt, false) => (Opcode::JnltNum, a, b),
            (BinOp::Le, true) => (Opcode::JleNum, a, b),
            (BinOp::Le, false) => (Opcode::JnleNum, a, b),
            (BinOp::Gt, true) => (Opcode::JltNum, b, a),
            (BinOp::Gt, false) => (Opcode::JnltNum, b, a),
            (BinOp::Ge, true) => (Opcode::JleNum, b, a),
            (BinOp::Ge, false) => (Opcode::JnleNum, b, a),
            (BinOp::Eq, true) | (BinOp::Ne, false) => (Opcode::JeqNum, a, b),
            (BinOp::Eq, false) | (BinOp::Ne, true) => (Opcode::JneNum, a, b),
            _ => unreachable!("{op:?} is not a comparison"),
        };
        Ok(f.emit(opcode, &[int(x), int(y), int(0)], span))
    }

    /// Compiles a call; returns the register holding its result (the call's base, a
    /// new register at the top).
    pub(super) fn call(
        &mut self,
        f: &mut FnState,
        callee: &Expr,
        args: &[Expr],
        span: Span,
    ) -> Result<u8> {
        if let ExprKind::Var(name) = &callee.kind {
            match name.res {
                Res::Func(id) => {
                    let base = self.push_args(f, args, span)?;
                    f.emit(
                        Opcode::Call,
                        &[int(id as u16), int(base), int(args.len() as u8)],
                        span,
                    );
                    return Ok(base);
                }
                Res::Builtin(b) => return self.builtin_call(f, b, args, span),
                Res::Host(h) => return self.call_with(f, Opcode::CallHost, h as i64, args, span),
                _ => {}
            }
        }
        let callee_reg = self.any_expr(f, callee)?;
        self.call_with(f, Opcode::CallValue, callee_reg as i64, args, span)
    }

    /// `op callee base argc` after evaluating `args` from a new register `base` on,
    /// which then holds the result.
    fn call_with(
        &mut self,
        f: &mut FnState,
        op: Opcode,
        callee: i64,
        args: &[Expr],
        span: Span,
    ) -> Result<u8> {
        let base = self.push_args(f, args, span)?;
        f.emit(op, &[int(callee), int(base), int(args.len() as u8)], span);
        Ok(base)
    }

    /// Evaluates `args` into consecutive new registers (at least one: the result slot);
    /// returns the first. Afterwards only the first stays allocated.
    fn push_args(&mut self, f: &mut FnState, args: &[Expr], span: Span) -> Result<u8> {
        let base = f.alloc(span)?;
        f.free_reg = base as u16;
        for arg in args {
            self.push_expr(f, arg)?;
        }
        f.free_reg = base as u16 + 1;
        Ok(base)
    }

    /// Prelude calls: opcodes for the common ones, loops for the higher-order ones,
    /// `call_native` for the rest.
    fn builtin_call(
        &mut self,
        f: &mut FnState,
        b: Builtin,
        args: &[Expr],
        span: Span,
    ) -> Result<u8> {
        // Each result register is allocated first, so it is the one left at the top.
        let single = |op: Opcode, this: &mut Self, f: &mut FnState| -> Result<u8> {
            let dst = f.alloc(span)?;
            let a = this.any_expr(f, &args[0])?;
            f.emit(op, &[int(dst), int(a)], span);
            Ok(dst)
        };
        match b {
            Builtin::Print => {
                let dst = f.alloc(span)?;
                let a = self.any_expr(f, &args[0])?;
                f.emit(Opcode::Print, &[int(a)], span);
                Ok(dst)
            }
            Builtin::Str => single(Opcode::ToStr, self, f),
            Builtin::Len if args[0].ty == Type::String => single(Opcode::StrLen, self, f),
            Builtin::Len => single(Opcode::ArrayLen, self, f),
            Builtin::Pop => single(Opcode::Pop, self, f),
            Builtin::Push => {
                let dst = f.alloc(span)?;
                let arr = self.any_expr(f, &args[0])?;
                let value = self.any_expr(f, &args[1])?;
                f.emit(Opcode::Push, &[int(arr), int(value)], span);
                Ok(dst)
            }
            Builtin::Map | Builtin::Filter | Builtin::Reduce => self.higher_order(f, b, args, span),
            _ => {
                let n = self.native(b);
                self.call_with(f, Opcode::CallNative, n as i64, args, span)
            }
        }
    }

    /// `map`, `filter` and `reduce` as loops over the array calling the function on
    /// each element, so the VM never re-enters itself for a callback.
    fn higher_order(
        &mut self,
        f: &mut FnState,
        b: Builtin,
        args: &[Expr],
        span: Span,
    ) -> Result<u8> {
        // The result register comes first so it is the one left at the top.
        let result = f.alloc(span)?;
        let array = self.any_expr(f, &args[0])?;
        let callback = Callback::new(self, f, &args[1])?;
        let argc = if b == Builtin::Reduce { 2 } else { 1 };
        match b {
            Builtin::Reduce => self.expr_into(f, &args[2], result)?,
            _ => {
                f.emit(Opcode::NewArray, &[int(result), int(0u32)], span);
            }
        }
        let counter = f.alloc(span)?;
        f.emit(Opcode::LoadNum, &[int(counter), num(0.0)], span);
        // The element goes straight into its argument slot, except for `filter`,
        // which still needs it after the call.
        let kept = f.alloc(span)?;
        let base = f.alloc(span)?;
        for _ in 1..argc {
            f.alloc(span)?;
        }
        let item = match b {
            Builtin::Map => base,
            Builtin::Filter => kept,
            _ => base + 1,
        };
        let to_step = f.emit(Opcode::Jump, &[int(0)], span);
        let top = f.here();
        match b {
            Builtin::Map => {
                callback.emit(self, f, base, 1, span);
                f.emit(Opcode::Push, &[int(result), int(base)], span);
            }
            Builtin::Filter => {
                f.emit(Opcode::Mov, &[int(base), int(item)], span);
                callback.emit(self, f, base, 1, span);
                let skip = f.emit(Opcode::Jfalse, &[int(base), int(0)], span);
                f.emit(Opcode::Push, &[int(result), int(item)], span);
                let next = f.here();
                f.patch(skip, next);
            }
            _ => {
                f.emit(Opcode::Mov, &[int(base), int(result)], span);
                callback.emit(self, f, base, 2, span);
                f.emit(Opcode::Mov, &[int(result), int(base)], span);
            }
        }
        let step = f.here();
        f.patch(to_step, step);
        let back = f.emit(
            Opcode::ForInNext,
            &[int(item), int(array), int(counter), int(0)],
            span,
        );
        f.patch(back, top);
        f.free_reg = result as u16 + 1;
        Ok(result)
    }
}

/// How a higher-order prelude function calls its function argument.
enum Callback {
    User(u16),
    Native(u8),
    Value(u8),
}

impl Callback {
    fn new(c: &mut Compiler<'_>, f: &mut FnState, e: &Expr) -> Result<Callback> {
        if let ExprKind::Var(name) = &e.kind {
            match name.res {
                Res::Func(id) => return Ok(Callback::User(id as u16)),
                Res::Builtin(b) => return Ok(Callback::Native(c.native(b))),
                _ => {}
            }
        }
        Ok(Callback::Value(c.any_expr(f, e)?))
    }

    fn emit(&self, _c: &Compiler<'_>, f: &mut FnState, base: u8, argc: u8, span: Span) {
        let (op, callee) = match *self {
            Callback::User(id) => (Opcode::Call, id as i64),
            Callback::Native(n) => (Opcode::CallNative, n as i64),
            Callback::Value(reg) => (Opcode::CallValue, reg as i64),
        };
        f.emit(op, &[int(callee), int(base), int(argc)], span);
    }
}

fn is_comparison(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne
    )
}

/// The operands of a chain of string `+`, left to right, with `str(x)` replaced by `x`;
/// true when some `str(x)` was.
fn string_parts<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) -> bool {
    match &e.kind {
        ExprKind::Binary(BinOp::Add, lhs, rhs) if lhs.ty == Type::String => {
            let left = string_parts(lhs, out);
            string_parts(rhs, out) || left
        }
        // Not an array: the concat renders its parts after evaluating all of them, and
        // a later part could change the array (`str(xs) + f()` with `f` pushing to `xs`
        // must show `xs` as it was before the call).
        ExprKind::Call(callee, args)
            if args.len() == 1
                && !matches!(args[0].ty, Type::Array(_))
                && matches!(&callee.kind, ExprKind::Var(n) if n.res == Res::Builtin(Builtin::Str)) =>
        {
            out.push(&args[0]);
            true
        }
        _ => {
            out.push(e);
            false
        }
    }
}

/// `k op x` as `x op' k`.
pub(super) fn mirror(op: BinOp) -> BinOp {
    match op {
        BinOp::Lt => BinOp::Gt,
        BinOp::Le => BinOp::Ge,
        BinOp::Gt => BinOp::Lt,
        BinOp::Ge => BinOp::Le,
        other => other,
    }
}

/// The value of a number expression made of literals and arithmetic, if it is known at
/// compile time and computing it cannot fail (no division by zero).
fn fold(e: &Expr) -> Option<f64> {
    match &e.kind {
        ExprKind::Number(x) => Some(*x),
        ExprKind::Unary(UnOp::Neg, inner) => fold(inner).map(|x| -x),
        ExprKind::Binary(op, lhs, rhs) if lhs.ty == Type::Number => {
            let (a, b) = (fold(lhs)?, fold(rhs)?);
            match op {
                BinOp::Add => Some(a + b),
                BinOp::Sub => Some(a - b),
                BinOp::Mul => Some(a * b),
                BinOp::Div if b != 0.0 => Some(a / b),
                BinOp::Mod if b != 0.0 => Some(crate::stdlib::number::js_remainder(a, b)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The opcode of an arithmetic operator on two number registers.
fn arithmetic_opcode(op: BinOp) -> Opcode {
    match op {
        BinOp::Add => Opcode::AddNum,
        BinOp::Sub => Opcode::SubNum,
        BinOp::Mul => Opcode::MulNum,
        BinOp::Div => Opcode::DivNum,
        BinOp::Mod => Opcode::ModNum,
        _ => unreachable!("{op:?} is not arithmetic"),
    }
}
