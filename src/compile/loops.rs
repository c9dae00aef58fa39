//! Compiling `while` and C-style `for` loops.
//!
//! The test sits at the bottom, so each iteration runs one branch. When optimizing, two
//! more things happen:
//! - a condition operand that the loop cannot change (arithmetic on locals that neither
//!   the body nor the step assigns, like `n - 1 - i` in an inner loop) is computed once,
//!   before the loop;
//! - a loop whose step adds a constant to a local number counter (`i++`, `i += 2`,
//!   `i = i + 1`, also as the last statement of a `while` body) and whose condition
//!   compares that counter with a register or a constant is closed by one `loop_lt`
//!   (`_le`, `_gt`, `_ge`, `_k`) instruction doing the step and the test together. The
//!   first test is then a separate branch at the top (loop rotation).

use super::emit::Reg;
use super::expr::mirror;
use super::{Compiler, FnState, LoopCx, Place};
use crate::diag::CompileError;
use crate::span::Span;
use crate::syntax::ast::{BinOp, Block, DeclId, Expr, ExprKind, LValue, Name, Res, Stmt, UnOp};
use crate::types::Type;

type Result<T = ()> = std::result::Result<T, CompileError>;

/// The closing instruction of a fused loop: `counter += step; if counter op limit`.
struct FusedStep {
    counter: Reg,
    step: f64,
    op: BinOp,
    limit: Limit,
}

enum Limit {
    Reg(Reg),
    Imm(f64),
}

impl Compiler<'_> {
    /// `while (cond) body` (`step` None) and `for (...; cond; step) body`. `fresh` is
    /// the cell of a captured `for` header variable: each iteration gets a copy, made
    /// before the step (LANGUAGE.md: the step runs on the next iteration's copy).
    pub(super) fn loop_stmt(
        &mut self,
        f: &mut FnState,
        cond: Option<&Expr>,
        step: Option<&Stmt>,
        body: &Block,
        fresh: Option<Reg>,
        span: Span,
    ) -> Result {
        let hoisted_before = self.hoisted.len();
        let result = self.loop_parts(f, cond, step, body, fresh, span);
        self.hoisted.truncate(hoisted_before);
        result
    }

    fn loop_parts(
        &mut self,
        f: &mut FnState,
        cond: Option<&Expr>,
        step: Option<&Stmt>,
        body: &Block,
        fresh: Option<Reg>,
        span: Span,
    ) -> Result {
        let always = cond.is_none_or(|c| matches!(c.kind, ExprKind::Bool(true)));
        if self.options.optimize && !always {
            if let Some(cond) = cond {
                self.hoist_invariant_operands(f, cond, step, body)?;
                // A `while` body ending in the counter's step fuses like a `for` step,
                // unless a `continue` would skip that step.
                let (stmts, step) = match (step, body.stmts.split_last()) {
                    (None, Some((last, rest))) if !continues_this_loop(&body.stmts) => {
                        (rest, Some(last))
                    }
                    _ => (&body.stmts[..], step),
                };
                if let Some(fused) = step.and_then(|s| self.fused_step(cond, s)) {
                    return self.rotated_loop(f, cond, stmts, fused, fresh, span);
                }
            }
        }
        let to_test = (!always).then(|| f.emit_jump(span));
        let top = f.here();
        let lp = self.loop_body(f, &body.stmts)?;
        let continue_target = f.here();
        f.patch_all(lp.continues, continue_target)?;
        if let Some(cell) = fresh {
            f.emit_fresh_cell(cell, span);
        }
        if let Some(step) = step {
            self.stmt(f, step)?;
        }
        if let Some(at) = to_test {
            let test = f.here();
            f.patch(at, test)?;
        }
        match cond {
            Some(cond) if !always => {
                let back = self.cond_jump(f, cond, true)?;
                f.patch_all(back, top)?;
            }
            _ => {
                let at = f.emit_jump(span);
                f.patch(at, top)?;
            }
        }
        let end = f.here();
        f.patch_all(lp.breaks, end)?;
        Ok(())
    }

    /// Compiles loop body statements in their own scope, collecting breaks/continues.
    fn loop_body(&mut self, f: &mut FnState, stmts: &[Stmt]) -> Result<LoopCx> {
        f.loops.push(LoopCx {
            breaks: Vec::new(),
            continues: Vec::new(),
        });
        let compiled = self.block_body(f, stmts, false);
        let lp = f.loops.pop().expect("pushed above");
        compiled.map(|()| lp)
    }

    /// `if (!cond) goto end; top: body; counter += step; if (counter op limit) goto top`.
    fn rotated_loop(
        &mut self,
        f: &mut FnState,
        cond: &Expr,
        stmts: &[Stmt],
        fused: FusedStep,
        fresh: Option<Reg>,
        span: Span,
    ) -> Result {
        let exits = self.cond_jump(f, cond, false)?;
        let top = f.here();
        let lp = self.loop_body(f, stmts)?;
        let continue_target = f.here();
        f.patch_all(lp.continues, continue_target)?;
        if let Some(cell) = fresh {
            f.emit_fresh_cell(cell, span);
        }
        let (counter, step) = (fused.counter, fused.step);
        let back = match (fused.op, fused.limit) {
            (BinOp::Lt, Limit::Reg(limit)) => f.emit_loop_lt(counter, step, limit, span),
            (BinOp::Lt, Limit::Imm(k)) => f.emit_loop_lt_k(counter, step, k, span),
            (BinOp::Le, Limit::Reg(limit)) => f.emit_loop_le(counter, step, limit, span),
            (BinOp::Le, Limit::Imm(k)) => f.emit_loop_le_k(counter, step, k, span),
            (BinOp::Gt, Limit::Reg(limit)) => f.emit_loop_gt(counter, step, limit, span),
            (BinOp::Gt, Limit::Imm(k)) => f.emit_loop_gt_k(counter, step, k, span),
            (_, Limit::Reg(limit)) => f.emit_loop_ge(counter, step, limit, span),
            (_, Limit::Imm(k)) => f.emit_loop_ge_k(counter, step, k, span),
        };
        f.patch(back, top)?;
        let end = f.here();
        f.patch_all(exits, end)?;
        f.patch_all(lp.breaks, end)?;
        Ok(())
    }

    /// The fused form of `step` and `cond`, if `step` adds a constant to a local number
    /// and `cond` compares that local with a register or an immediate.
    fn fused_step(&self, cond: &Expr, step: &Stmt) -> Option<FusedStep> {
        let (var, amount) = self.constant_step(step)?;
        let counter = self.local_register(var)?;
        let ExprKind::Binary(op, lhs, rhs) = &cond.kind else {
            return None;
        };
        if !matches!(op, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge) || lhs.ty != Type::Number {
            return None;
        }
        let is_counter = |e: &Expr| matches!(&e.kind, ExprKind::Var(n) if decl_of(n) == Some(var));
        let (op, limit) = if is_counter(lhs) {
            (*op, &**rhs)
        } else if is_counter(rhs) {
            (mirror(*op), &**lhs)
        } else {
            return None;
        };
        let limit = match self.immediate(limit) {
            Some(k) => Limit::Imm(k),
            None => Limit::Reg(self.register_of(limit)?),
        };
        Some(FusedStep {
            counter,
            step: amount,
            op,
            limit,
        })
    }

    /// `x++`, `x--`, `x += k`, `x -= k`, `x = x + k`, `x = x - k` on a number variable:
    /// the variable and the amount added.
    fn constant_step(&self, step: &Stmt) -> Option<(DeclId, f64)> {
        let (name, amount) = match step {
            Stmt::IncDec { target, inc, .. } => (target, if *inc { 1.0 } else { -1.0 }),
            Stmt::Assign {
                target: LValue::Var(name),
                op: Some(op @ (BinOp::Add | BinOp::Sub)),
                value,
                ..
            } => (name, signed(*op, self.immediate(value)?)),
            Stmt::Assign {
                target: LValue::Var(name),
                op: None,
                value,
                ..
            } => match &value.kind {
                ExprKind::Binary(op @ (BinOp::Add | BinOp::Sub), lhs, rhs) if matches!(&lhs.kind, ExprKind::Var(n) if decl_of(n) == decl_of(name)) => {
                    (name, signed(*op, self.immediate(rhs)?))
                }
                _ => return None,
            },
            _ => return None,
        };
        let decl = decl_of(name)?;
        (self.info.decls[decl as usize].ty == Type::Number).then_some((decl, amount))
    }

    fn local_register(&self, decl: DeclId) -> Option<Reg> {
        match self.places[decl as usize]? {
            Place::Reg(reg) => Some(reg),
            Place::Global(_) | Place::Cell(_) => None,
        }
    }

    /// The register holding `e` without evaluating anything: a variable in a register
    /// or an expression hoisted out of the loop.
    fn register_of(&self, e: &Expr) -> Option<Reg> {
        if let Some(&(_, reg)) = self.hoisted.iter().find(|(p, _)| std::ptr::eq(*p, e)) {
            return Some(reg);
        }
        match &e.kind {
            ExprKind::Var(name) => self.local_register(decl_of(name)?),
            _ => None,
        }
    }

    /// Computes the operands of a number comparison that the loop cannot change into
    /// registers before the loop, when they are more than a variable or a constant.
    fn hoist_invariant_operands(
        &mut self,
        f: &mut FnState,
        cond: &Expr,
        step: Option<&Stmt>,
        body: &Block,
    ) -> Result {
        let ExprKind::Binary(op, lhs, rhs) = &cond.kind else {
            return Ok(());
        };
        if !matches!(
            op,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne
        ) || lhs.ty != Type::Number
        {
            return Ok(());
        }
        let mut assigned = Vec::new();
        assigned_variables(&body.stmts, &mut assigned);
        if let Some(step) = step {
            assigned_variables(std::slice::from_ref(step), &mut assigned);
        }
        for operand in [&**lhs, &**rhs] {
            let trivial = matches!(operand.kind, ExprKind::Var(_) | ExprKind::Number(_));
            if !trivial
                && self.immediate(operand).is_none()
                && self.is_invariant(operand, &assigned)
            {
                let reg = self.push_expr(f, operand)?;
                self.hoisted.push((operand as *const Expr, reg));
            }
        }
        Ok(())
    }

    /// Whether `e` is arithmetic that cannot fail on constants and local number
    /// variables outside `assigned`.
    pub(super) fn is_invariant(&self, e: &Expr, assigned: &[DeclId]) -> bool {
        match &e.kind {
            ExprKind::Number(_) => true,
            ExprKind::Var(name) => decl_of(name)
                .is_some_and(|d| !assigned.contains(&d) && self.local_register(d).is_some()),
            ExprKind::Unary(UnOp::Neg, inner) => self.is_invariant(inner, assigned),
            ExprKind::Binary(BinOp::Add | BinOp::Sub | BinOp::Mul, lhs, rhs) => {
                lhs.ty == Type::Number
                    && self.is_invariant(lhs, assigned)
                    && self.is_invariant(rhs, assigned)
            }
            _ => false,
        }
    }
}

fn signed(op: BinOp, k: f64) -> f64 {
    if op == BinOp::Sub {
        -k
    } else {
        k
    }
}

fn decl_of(name: &Name) -> Option<DeclId> {
    match name.res {
        Res::Local(d) | Res::Global(d) => Some(d),
        _ => None,
    }
}

/// Variables that `stmts` assign (directly, or in nested statements; nested functions
/// are skipped: the locals they can assign are captured ones, which live in cells and
/// are never loop invariants).
fn assigned_variables(stmts: &[Stmt], out: &mut Vec<DeclId>) {
    for stmt in stmts {
        match stmt {
            Stmt::Assign {
                target: LValue::Var(name),
                ..
            }
            | Stmt::IncDec { target: name, .. } => out.extend(decl_of(name)),
            Stmt::If { then, els, .. } => {
                assigned_variables(&then.stmts, out);
                if let Some(els) = els {
                    assigned_variables(std::slice::from_ref(&**els), out);
                }
            }
            Stmt::While { body, .. } | Stmt::ForIn { body, .. } => {
                assigned_variables(&body.stmts, out)
            }
            Stmt::For {
                init, step, body, ..
            } => {
                for part in [init, step].into_iter().flatten() {
                    assigned_variables(std::slice::from_ref(&**part), out);
                }
                assigned_variables(&body.stmts, out);
            }
            Stmt::Block(block) => assigned_variables(&block.stmts, out),
            _ => {}
        }
    }
}

/// Whether `stmts` contain a `continue` of the loop they are the body of (not of a
/// nested loop).
fn continues_this_loop(stmts: &[Stmt]) -> bool {
    stmts.iter().any(|stmt| match stmt {
        Stmt::Continue(_) => true,
        Stmt::If { then, els, .. } => {
            continues_this_loop(&then.stmts)
                || els
                    .as_deref()
                    .is_some_and(|e| continues_this_loop(std::slice::from_ref(e)))
        }
        Stmt::Block(block) => continues_this_loop(&block.stmts),
        _ => false,
    })
}
