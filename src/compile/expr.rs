//! Compiling expressions into registers, and conditions into branches.
//!
//! Three ways to evaluate an expression:
//! - [`Compiler::expr_into`] writes it into a given register;
//! - [`Compiler::push_expr`] writes it into a new register on top of the temporaries;
//! - [`Compiler::any_expr`] returns any register holding it: a local variable's own
//!   register needs no instruction at all (within one expression no local can change:
//!   assignments are statements, and a function can reach only captured locals, which
//!   live in cells and are read into a temporary).

use super::emit::{FuncIdx, JumpSite, NativeIdx, Reg};
use super::{Compiler, FnState, Place};
use crate::builtins::Builtin;
use crate::diag::CompileError;
use crate::span::Span;
use crate::syntax::ast::{BinOp, Expr, ExprKind, Res, UnOp};
use crate::types::Type;

type Result<T = ()> = std::result::Result<T, CompileError>;

impl Compiler<'_> {
    /// Evaluates `e` into a new register at the top; temporaries above it are released.
    pub(super) fn push_expr(&mut self, f: &mut FnState, e: &Expr) -> Result<Reg> {
        if let ExprKind::Call(callee, args) = &e.kind {
            // A call leaves its result in its base register, which is normally the next
            // free one (unless a temporary for the callee came first).
            let reg = f.top();
            let result = self.call(f, callee, args, e.span)?;
            if result != reg {
                f.emit_mov(reg, result, e.span);
            }
            f.free_above(reg);
            return Ok(reg);
        }
        let reg = f.alloc(e.span)?;
        self.expr_into(f, e, reg)?;
        f.free_above(reg);
        Ok(reg)
    }

    /// A register holding the value of `e`.
    pub(super) fn any_expr(&mut self, f: &mut FnState, e: &Expr) -> Result<Reg> {
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
    fn unary_operand(&mut self, f: &mut FnState, e: &Expr, dst: Reg) -> Result<Reg> {
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
            ExprKind::Array(_)
            | ExprKind::Map(_)
            | ExprKind::Binary(BinOp::And | BinOp::Or, _, _) => true,
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
    pub(super) fn expr_into(&mut self, f: &mut FnState, e: &Expr, dst: Reg) -> Result {
        let mark = f.free_reg;
        let span = e.span;
        if self.options.optimize {
            if let Some(value) = fold(e) {
                f.emit_load_num(dst, value, span);
                return Ok(());
            }
        }
        match &e.kind {
            ExprKind::Number(value) => {
                f.emit_load_num(dst, *value, span);
            }
            ExprKind::Str(text) => {
                let k = f.string_const(text, span)?;
                f.emit_load_const(dst, k, span);
            }
            ExprKind::Bool(b) => {
                f.emit_load_bool(dst, *b as u8, span);
            }
            ExprKind::Null => {
                f.emit_load_null(dst, span);
            }
            ExprKind::Var(name) => match name.res {
                Res::Local(decl) | Res::Global(decl) => match self.place(decl) {
                    Place::Reg(reg) => {
                        if reg != dst {
                            f.emit_mov(dst, reg, span);
                        }
                    }
                    Place::Global(slot) => {
                        f.emit_get_global(dst, slot, span);
                    }
                    Place::Cell(cell) => {
                        let name = f.string_const(&name.name, span)?;
                        f.emit_get_cell(dst, cell, name, span);
                    }
                },
                Res::Func(id) => self.function_value(f, id, dst, span)?,
                Res::Builtin(b) => {
                    let n = self.native(b);
                    f.emit_load_native(dst, n, span);
                }
                Res::Host(_) => {
                    return Err(CompileError::new("host functions can only be called", span))
                }
                Res::Unresolved => unreachable!("the checker resolves every name"),
            },
            ExprKind::Func(decl) => {
                self.function(decl)?;
                self.function_value(f, decl.id, dst, span)?;
            }
            ExprKind::Array(items) => {
                // Only a hint: a longer literal grows the array as it is filled.
                let capacity = u32::try_from(items.len()).unwrap_or(u32::MAX);
                f.emit_new_array(dst, capacity, span);
                for item in items {
                    let reg = self.any_expr(f, item)?;
                    f.emit_push(dst, reg, item.span);
                    f.free_reg = mark;
                }
            }
            ExprKind::Map(entries) => {
                // Only a hint, like an array literal's.
                let capacity = u32::try_from(entries.len()).unwrap_or(u32::MAX);
                f.emit_new_map(dst, capacity, span);
                for (key, value) in entries {
                    let k = self.any_expr(f, key)?;
                    let v = self.any_expr(f, value)?;
                    // A NaN key is reported at the key.
                    f.emit_map_set(dst, k, v, key.span);
                    f.free_reg = mark;
                }
            }
            ExprKind::Index(map, key) if matches!(map.ty, Type::Map(_)) => {
                let m = self.any_expr(f, map)?;
                let k = self.any_expr(f, key)?;
                f.emit_map_get(dst, m, k, span);
            }
            ExprKind::Unary(UnOp::Neg, operand) => {
                let a = self.unary_operand(f, operand, dst)?;
                f.emit_neg_num(dst, a, span);
            }
            ExprKind::Unary(UnOp::Not, operand) => {
                let a = self.unary_operand(f, operand, dst)?;
                f.emit_not(dst, a, span);
            }
            ExprKind::Binary(op @ (BinOp::And | BinOp::Or), lhs, rhs) => {
                self.expr_into(f, lhs, dst)?;
                let skip = if *op == BinOp::And {
                    f.emit_jfalse(dst, span)
                } else {
                    f.emit_jtrue(dst, span)
                };
                self.expr_into(f, rhs, dst)?;
                let end = f.here();
                f.patch(skip, end)?;
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
                    if lhs.ty == Type::String {
                        f.emit_add_str(dst, a, dst, span);
                    } else {
                        emit_arithmetic(f, *op, dst, a, dst, span);
                    }
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
                    f.emit_get_index2(dst, rows, i, j, row, span);
                } else {
                    let arr = self.any_expr(f, array)?;
                    let idx = self.any_expr(f, index)?;
                    f.emit_get_index(dst, arr, idx, span);
                }
            }
            ExprKind::Index(array, index) => {
                let arr = self.any_expr(f, array)?;
                let idx = self.any_expr(f, index)?;
                f.emit_get_index(dst, arr, idx, span);
            }
            ExprKind::Call(callee, args) => {
                let result = self.call(f, callee, args, span)?;
                if result != dst {
                    f.emit_mov(dst, result, span);
                }
            }
        }
        f.free_reg = mark;
        Ok(())
    }

    /// A chain of string `+` as one `concat` of its parts: the result is allocated once,
    /// and `str(x)` parts are rendered straight into it instead of into strings of
    /// their own.
    fn concat_into(&mut self, f: &mut FnState, e: &Expr, dst: Reg) -> Result {
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
        const CONCAT_GROUP: u8 = 32;
        let base = f.top();
        let mut count = 0;
        for part in &parts {
            if count == CONCAT_GROUP {
                f.emit_concat(base, base, count, e.span);
                f.free_above(base);
                count = 1;
            }
            self.push_expr(f, part)?;
            count += 1;
        }
        f.emit_concat(dst, base, count, e.span);
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
        dst: Reg,
        a: Reg,
        rhs: &Expr,
        span: Span,
    ) -> Result {
        if *ty == Type::String {
            let b = self.any_expr(f, rhs)?;
            f.emit_add_str(dst, a, b, span);
            return Ok(());
        }
        if let (BinOp::Mod, Some(k)) = (op, self.immediate(rhs)) {
            if (1.0..4_294_967_296.0).contains(&k) && k.fract() == 0.0 {
                let d = k as u32;
                let magic = crate::stdlib::number::fastmod_magic(d);
                f.emit_mod_num_ki(dst, a, d, magic, span);
                return Ok(());
            }
        }
        if let Some(k) = self.immediate(rhs) {
            // Division and remainder by an immediate zero keep their runtime check.
            if k != 0.0 || !matches!(op, BinOp::Div | BinOp::Mod) {
                emit_arithmetic_k(f, op, dst, a, k, span);
                return Ok(());
            }
        }
        let b = self.any_expr(f, rhs)?;
        emit_arithmetic(f, op, dst, a, b, span);
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
        dst: Reg,
    ) -> Result<Option<Reg>> {
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
        dst: Reg,
    ) -> Result {
        let span = lhs.span.to(rhs.span);
        let (a, b) = match self.literal_first(f, lhs, rhs, dst)? {
            Some(a) => (a, dst),
            None => {
                let a = self.any_expr(f, lhs)?;
                (a, self.any_expr(f, rhs)?)
            }
        };
        match (op, &lhs.ty) {
            (BinOp::Eq, Type::Number) => f.emit_eq_num(dst, a, b, span),
            (BinOp::Ne, Type::Number) => f.emit_ne_num(dst, a, b, span),
            (BinOp::Eq, _) => f.emit_eq(dst, a, b, span),
            (BinOp::Ne, _) => f.emit_ne(dst, a, b, span),
            (BinOp::Lt, Type::String) => f.emit_lt_str(dst, a, b, span),
            (BinOp::Le, Type::String) => f.emit_le_str(dst, a, b, span),
            (BinOp::Gt, Type::String) => f.emit_lt_str(dst, b, a, span),
            (BinOp::Ge, Type::String) => f.emit_le_str(dst, b, a, span),
            (BinOp::Lt, _) => f.emit_lt_num(dst, a, b, span),
            (BinOp::Le, _) => f.emit_le_num(dst, a, b, span),
            (BinOp::Gt, _) => f.emit_lt_num(dst, b, a, span),
            (BinOp::Ge, _) => f.emit_le_num(dst, b, a, span),
            _ => unreachable!("{op:?} is not a comparison"),
        }
        Ok(())
    }

    /// Emits code that jumps when `cond` evaluates to `when` and falls through
    /// otherwise; returns the jumps to patch.
    pub(super) fn cond_jump(
        &mut self,
        f: &mut FnState,
        cond: &Expr,
        when: bool,
    ) -> Result<Vec<JumpSite>> {
        let mark = f.free_reg;
        let span = cond.span;
        let jumps = match &cond.kind {
            ExprKind::Bool(b) if self.options.optimize => {
                if *b == when {
                    vec![f.emit_jump(span)]
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
                    f.patch_all(skip, here)?;
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
                vec![if when {
                    f.emit_jtrue(reg, span)
                } else {
                    f.emit_jfalse(reg, span)
                }]
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
    ) -> Result<JumpSite> {
        let span = lhs.span.to(rhs.span);
        // An immediate on either side: `x op k`, or `k op x` read as `x op' k`.
        let with_k = match (self.immediate(lhs), self.immediate(rhs)) {
            (_, Some(k)) => Some((lhs, op, k)),
            (Some(k), None) => Some((rhs, mirror(op), k)),
            (None, None) => None,
        };
        if let Some((x, op, k)) = with_k {
            let a = self.any_expr(f, x)?;
            return Ok(match (op, when) {
                (BinOp::Lt, true) => f.emit_jlt_num_k(a, k, span),
                (BinOp::Lt, false) => f.emit_jnlt_num_k(a, k, span),
                (BinOp::Le, true) => f.emit_jle_num_k(a, k, span),
                (BinOp::Le, false) => f.emit_jnle_num_k(a, k, span),
                (BinOp::Gt, true) => f.emit_jgt_num_k(a, k, span),
                (BinOp::Gt, false) => f.emit_jngt_num_k(a, k, span),
                (BinOp::Ge, true) => f.emit_jge_num_k(a, k, span),
                (BinOp::Ge, false) => f.emit_jnge_num_k(a, k, span),
                (BinOp::Eq, true) | (BinOp::Ne, false) => f.emit_jeq_num_k(a, k, span),
                (BinOp::Eq, false) | (BinOp::Ne, true) => f.emit_jne_num_k(a, k, span),
                _ => unreachable!("{op:?} is not a comparison"),
            });
        }
        let a = self.any_expr(f, lhs)?;
        let b = self.any_expr(f, rhs)?;
        // `a > b` is `b < a`; swapping registers keeps the evaluation order.
        Ok(match (op, when) {
            (BinOp::Lt, true) => f.emit_jlt_num(a, b, span),
            (BinOp::Lt, false) => f.emit_jnlt_num(a, b, span),
            (BinOp::Le, true) => f.emit_jle_num(a, b, span),
            (BinOp::Le, false) => f.emit_jnle_num(a, b, span),
            (BinOp::Gt, true) => f.emit_jlt_num(b, a, span),
            (BinOp::Gt, false) => f.emit_jnlt_num(b, a, span),
            (BinOp::Ge, true) => f.emit_jle_num(b, a, span),
            (BinOp::Ge, false) => f.emit_jnle_num(b, a, span),
            (BinOp::Eq, true) | (BinOp::Ne, false) => f.emit_jeq_num(a, b, span),
            (BinOp::Eq, false) | (BinOp::Ne, true) => f.emit_jne_num(a, b, span),
            _ => unreachable!("{op:?} is not a comparison"),
        })
    }

    /// Compiles a call; returns the register holding its result (the call's base, a
    /// new register at the top).
    pub(super) fn call(
        &mut self,
        f: &mut FnState,
        callee: &Expr,
        args: &[Expr],
        span: Span,
    ) -> Result<Reg> {
        let callee = match &callee.kind {
            ExprKind::Var(name) => match name.res {
                Res::Func(id) => Callee::User(FuncIdx::new(id, span)?),
                Res::Builtin(b) => return self.builtin_call(f, b, args, span),
                Res::Host(h) => Callee::Host(h),
                _ => Callee::Value(self.any_expr(f, callee)?),
            },
            _ => Callee::Value(self.any_expr(f, callee)?),
        };
        self.call_with(f, callee, args, span)
    }

    /// Whether user function `id` captures variables (then it is called with its cells,
    /// and used as a value through a closure).
    fn captures(&self, id: u32) -> bool {
        !self.info.fns[id as usize].captures.is_empty()
    }

    /// A call of `callee` after evaluating `args` from a new register `base` on,
    /// which then holds the result.
    fn call_with(
        &mut self,
        f: &mut FnState,
        callee: Callee,
        args: &[Expr],
        span: Span,
    ) -> Result<Reg> {
        let base = f.alloc(span)?;
        f.free_reg = base.index();
        for arg in args {
            self.push_expr(f, arg)?;
        }
        // A named function that captures variables gets them after the arguments:
        // the caller has them, so a direct call makes no closure.
        if let Callee::User(func) = callee {
            self.push_captures(f, func.id(), span)?;
        }
        f.free_above(base);
        // Each argument took a register, so the register limit comes first.
        let argc = u8::try_from(args.len())
            .map_err(|_| CompileError::new("too many arguments in one call", span))?;
        callee.emit(f, base, argc, span);
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
    ) -> Result<Reg> {
        // Each result register is allocated first, so it is the one left at the top.
        type Unary = fn(&mut FnState, Reg, Reg, Span);
        let single = |emit: Unary, this: &mut Self, f: &mut FnState| -> Result<Reg> {
            let dst = f.alloc(span)?;
            let a = this.any_expr(f, &args[0])?;
            emit(f, dst, a, span);
            Ok(dst)
        };
        match b {
            Builtin::Print => {
                let dst = f.alloc(span)?;
                let a = self.any_expr(f, &args[0])?;
                f.emit_print(a, span);
                Ok(dst)
            }
            Builtin::Str => single(FnState::emit_to_str, self, f),
            Builtin::Len if args[0].ty == Type::String => single(FnState::emit_str_len, self, f),
            Builtin::Len if matches!(args[0].ty, Type::Map(_)) => {
                single(FnState::emit_map_len, self, f)
            }
            Builtin::Keys => single(FnState::emit_map_keys, self, f),
            Builtin::Values => single(FnState::emit_map_values, self, f),
            Builtin::Has | Builtin::Remove => {
                let dst = f.alloc(span)?;
                let m = self.any_expr(f, &args[0])?;
                let k = self.any_expr(f, &args[1])?;
                if b == Builtin::Has {
                    f.emit_map_has(dst, m, k, span);
                } else {
                    f.emit_map_remove(dst, m, k, span);
                }
                Ok(dst)
            }
            Builtin::Get => {
                let dst = f.alloc(span)?;
                let m = self.any_expr(f, &args[0])?;
                let k = self.any_expr(f, &args[1])?;
                let default = self.any_expr(f, &args[2])?;
                f.emit_map_get_or(dst, m, k, default, span);
                Ok(dst)
            }
            Builtin::Len => single(FnState::emit_array_len, self, f),
            Builtin::Pop => single(FnState::emit_pop, self, f),
            Builtin::Push => {
                let dst = f.alloc(span)?;
                let arr = self.any_expr(f, &args[0])?;
                let value = self.any_expr(f, &args[1])?;
                f.emit_push(arr, value, span);
                Ok(dst)
            }
            Builtin::Map | Builtin::Filter | Builtin::Reduce => self.higher_order(f, b, args, span),
            Builtin::Sort => self.sort(f, args, span),
            _ => {
                let n = self.native(b);
                self.call_with(f, Callee::Native(n), args, span)
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
    ) -> Result<Reg> {
        // The result register comes first so it is the one left at the top.
        let result = f.alloc(span)?;
        let array = self.any_expr(f, &args[0])?;
        let callback = self.callback(f, &args[1])?;
        match b {
            Builtin::Reduce => self.expr_into(f, &args[2], result)?,
            _ => f.emit_new_array(result, 0, span),
        }
        let counter = f.alloc(span)?;
        f.emit_load_num(counter, 0.0, span);
        // The element goes straight into its argument slot, except for `filter`,
        // which still needs it after the call.
        let kept = f.alloc(span)?;
        let base = f.alloc(span)?;
        let item = match b {
            Builtin::Map => base,
            Builtin::Filter => kept,
            // The second argument (the first is the accumulator).
            _ => f.alloc(span)?,
        };
        let to_step = f.emit_jump(span);
        let top = f.here();
        match b {
            Builtin::Map => {
                callback.emit(f, base, 1, span);
                f.emit_push(result, base, span);
            }
            Builtin::Filter => {
                f.emit_mov(base, item, span);
                callback.emit(f, base, 1, span);
                let skip = f.emit_jfalse(base, span);
                f.emit_push(result, item, span);
                let next = f.here();
                f.patch(skip, next)?;
            }
            _ => {
                f.emit_mov(base, result, span);
                callback.emit(f, base, 2, span);
                f.emit_mov(result, base, span);
            }
        }
        let step = f.here();
        f.patch(to_step, step)?;
        let back = f.emit_for_in_next(item, array, counter, span);
        f.patch(back, top)?;
        f.free_above(result);
        Ok(result)
    }

    /// `sort(xs, cmp)`: the VM sorts (src/vm/sort.rs) and this loop answers its
    /// comparisons, calling `cmp` on each pair `sort_step` hands out, so the comparator
    /// is an ordinary call and the VM never re-enters itself.
    fn sort(&mut self, f: &mut FnState, args: &[Expr], span: Span) -> Result<Reg> {
        let result = f.alloc(span)?;
        let array = self.any_expr(f, &args[0])?;
        let cmp = self.callback(f, &args[1])?;
        let (a, b) = (f.alloc(span)?, f.alloc(span)?);
        f.emit_sort_begin(array, span);
        let to_step = f.emit_jump(span);
        let top = f.here();
        cmp.emit(f, a, 2, span);
        let step = f.here();
        f.patch(to_step, step)?;
        let back = f.emit_sort_step(a, b, a, span);
        f.patch(back, top)?;
        f.free_above(result);
        Ok(result)
    }

    /// How a higher-order prelude function calls its function argument: directly
    /// when it names a function.
    fn callback(&mut self, f: &mut FnState, e: &Expr) -> Result<Callee> {
        if let ExprKind::Var(name) = &e.kind {
            match name.res {
                Res::Func(id) if !self.captures(id) => {
                    return Ok(Callee::User(FuncIdx::new(id, e.span)?))
                }
                Res::Builtin(b) => return Ok(Callee::Native(self.native(b))),
                _ => {}
            }
        }
        Ok(Callee::Value(self.any_expr(f, e)?))
    }
}

/// What a call instruction calls.
#[derive(Clone, Copy)]
enum Callee {
    User(FuncIdx),
    Native(NativeIdx),
    Host(u32),
    Value(Reg),
}

impl Callee {
    /// `R[base] := callee(R[base], ..., R[base + argc - 1])`.
    fn emit(self, f: &mut FnState, base: Reg, argc: u8, span: Span) {
        match self {
            Callee::User(id) => f.emit_call(id, base, argc, span),
            Callee::Native(n) => f.emit_call_native(n, base, argc, span),
            Callee::Host(h) => f.emit_call_host(h, base, argc, span),
            Callee::Value(reg) => f.emit_call_value(reg, base, argc, span),
        }
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

/// `R[dst] := R[a] op R[b]` for an arithmetic operator on numbers.
fn emit_arithmetic(f: &mut FnState, op: BinOp, dst: Reg, a: Reg, b: Reg, span: Span) {
    match op {
        BinOp::Add => f.emit_add_num(dst, a, b, span),
        BinOp::Sub => f.emit_sub_num(dst, a, b, span),
        BinOp::Mul => f.emit_mul_num(dst, a, b, span),
        BinOp::Div => f.emit_div_num(dst, a, b, span),
        BinOp::Mod => f.emit_mod_num(dst, a, b, span),
        _ => unreachable!("{op:?} is not arithmetic"),
    }
}

/// `R[dst] := R[a] op k` for an arithmetic operator on numbers.
fn emit_arithmetic_k(f: &mut FnState, op: BinOp, dst: Reg, a: Reg, k: f64, span: Span) {
    match op {
        BinOp::Add => f.emit_add_num_k(dst, a, k, span),
        BinOp::Sub => f.emit_sub_num_k(dst, a, k, span),
        BinOp::Mul => f.emit_mul_num_k(dst, a, k, span),
        BinOp::Div => f.emit_div_num_k(dst, a, k, span),
        BinOp::Mod => f.emit_mod_num_k(dst, a, k, span),
        _ => unreachable!("{op:?} is not arithmetic"),
    }
}
