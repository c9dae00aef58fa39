//! Compiling statements and control flow.

use super::{Compiler, FnState, LoopCx, Place};
use crate::diag::CompileError;
use crate::span::Span;
use crate::syntax::ast::{BinOp, Block, DeclId, Expr, ExprKind, LValue, Name, Res, Stmt};
use crate::types::Type;

type Result<T = ()> = std::result::Result<T, CompileError>;

impl Compiler<'_> {
    pub(super) fn stmt(&mut self, f: &mut FnState, stmt: &Stmt) -> Result {
        let mark = f.free_reg;
        match stmt {
            Stmt::Let {
                decl, init, span, ..
            } => {
                if self.in_cell(*decl) {
                    return self.captured_let(f, *decl, init, *span);
                }
                if self.in_register(f, *decl) {
                    // The register the initializer is evaluated into becomes the
                    // variable's, kept until the end of its block.
                    let reg = self.push_expr(f, init)?;
                    self.places[*decl as usize] = Some(Place::Reg(reg));
                    return Ok(());
                }
                // Evaluated before the slot is bound, so `let x = x + 1` never sees itself.
                let value = self.any_expr(f, init)?;
                let slot = match self.places[*decl as usize] {
                    Some(Place::Global(slot)) => slot,
                    _ => self.global_slot(*decl, *span)?,
                };
                f.emit_set_global(slot, value, *span);
            }
            Stmt::Fn(_) => {} // compiled when its block was entered (hoisting)
            Stmt::Expr(e) => {
                self.effect_expr(f, e)?;
            }
            Stmt::Assign {
                target,
                op,
                value,
                span,
            } => self.assign(f, target, *op, value, *span)?,
            Stmt::IncDec { target, inc, span } => {
                let one = Expr {
                    kind: ExprKind::Number(1.0),
                    span: *span,
                    ty: Type::Number,
                };
                let op = if *inc { BinOp::Add } else { BinOp::Sub };
                self.compound_var(f, target, op, &one, *span)?;
            }
            Stmt::If {
                cond, then, els, ..
            } => self.if_stmt(f, cond, then, els.as_deref())?,
            Stmt::While { cond, body, span } => {
                self.loop_stmt(f, Some(cond), None, body, None, *span)?;
            }
            Stmt::For {
                init,
                cond,
                step,
                body,
                span,
            } => {
                // The loop variable keeps its register for the loop's duration.
                let mut fresh = None;
                if let Some(init) = init {
                    self.stmt(f, init)?;
                    if let Stmt::Let { decl, .. } = &**init {
                        if let Some(Place::Cell(cell)) = self.places[*decl as usize] {
                            fresh = Some(cell);
                        }
                    }
                }
                self.loop_stmt(f, cond.as_ref(), step.as_deref(), body, fresh, *span)?;
            }
            Stmt::ForIn {
                decl,
                iter,
                body,
                span,
                ..
            } => self.for_in(f, *decl, iter, body, *span)?,
            Stmt::Break(span) => {
                let at = f.emit_jump(*span);
                f.loops
                    .last_mut()
                    .expect("the checker rejects break outside loops")
                    .breaks
                    .push(at);
            }
            Stmt::Continue(span) => {
                let at = f.emit_jump(*span);
                f.loops
                    .last_mut()
                    .expect("the checker rejects continue outside loops")
                    .continues
                    .push(at);
            }
            Stmt::Return(value, span) => match value {
                Some(e) => {
                    let reg = self.any_expr(f, e)?;
                    f.emit_ret(reg, *span);
                }
                None => f.emit_ret_void(*span),
            },
            Stmt::Block(block) => self.block(f, block)?,
        }
        f.free_reg = mark;
        Ok(())
    }

    /// `let x = e` of a captured variable: stores into the cell its block made, or (a
    /// `for` header's variable) into a new cell in a register kept for the loop.
    fn captured_let(&mut self, f: &mut FnState, decl: DeclId, init: &Expr, span: Span) -> Result {
        if let Some(Place::Cell(cell)) = self.places[decl as usize] {
            let mark = f.free_reg;
            let value = self.any_expr(f, init)?;
            f.emit_set_cell(cell, value, span);
            f.free_reg = mark;
            return Ok(());
        }
        let reg = self.push_expr(f, init)?;
        f.emit_new_cell(reg, reg, span);
        self.places[decl as usize] = Some(Place::Cell(reg));
        Ok(())
    }

    fn block(&mut self, f: &mut FnState, block: &Block) -> Result {
        self.block_body(f, &block.stmts, false)
    }

    fn if_stmt(
        &mut self,
        f: &mut FnState,
        cond: &Expr,
        then: &Block,
        els: Option<&Stmt>,
    ) -> Result {
        let to_else = self.cond_jump(f, cond, false)?;
        self.block(f, then)?;
        match els {
            None => {
                let here = f.here();
                f.patch_all(to_else, here)?;
            }
            Some(els) => {
                let to_end = f.emit_jump(els.span());
                let here = f.here();
                f.patch_all(to_else, here)?;
                self.stmt(f, els)?;
                let end = f.here();
                f.patch(to_end, end)?;
            }
        }
        Ok(())
    }

    fn for_in(
        &mut self,
        f: &mut FnState,
        decl: u32,
        iter: &Expr,
        body: &Block,
        span: Span,
    ) -> Result {
        let array = self.push_expr(f, iter)?;
        if matches!(iter.ty, Type::Map(_)) {
            // A map's loop runs over a snapshot of its keys, taken here.
            f.emit_map_keys(array, array, iter.span);
        }
        let counter = f.alloc(span)?;
        f.emit_load_num(counter, 0.0, span);
        let item = f.alloc(span)?;
        let captured = self.in_cell(decl);
        self.places[decl as usize] = Some(if captured {
            Place::Cell(item)
        } else {
            Place::Reg(item)
        });
        // The step sits at the bottom and jumps back into the body while elements
        // remain: one dispatch per iteration for the loop itself.
        let to_step = f.emit_jump(span);
        let top = f.here();
        f.loops.push(LoopCx {
            breaks: Vec::new(),
            continues: Vec::new(),
        });
        if captured {
            // Each iteration's variable is a cell of its own.
            f.emit_new_cell(item, item, span);
        }
        self.block(f, body)?;
        let lp = f.loops.pop().expect("pushed above");
        let step = f.here();
        f.patch(to_step, step)?;
        f.patch_all(lp.continues, step)?;
        let back = f.emit_for_in_next(item, array, counter, iter.span);
        f.patch(back, top)?;
        let end = f.here();
        f.patch_all(lp.breaks, end)?;
        Ok(())
    }

    fn assign(
        &mut self,
        f: &mut FnState,
        target: &LValue,
        op: Option<BinOp>,
        value: &Expr,
        span: Span,
    ) -> Result {
        match (target, op) {
            (LValue::Var(name), None) => match self.var_place(name) {
                Place::Reg(reg) => {
                    if Self::writes_destination_early(value) {
                        let tmp = self.push_expr(f, value)?;
                        f.emit_mov(reg, tmp, span);
                    } else {
                        self.expr_into(f, value, reg)?;
                    }
                }
                Place::Global(slot) => {
                    let reg = self.any_expr(f, value)?;
                    f.emit_set_global(slot, reg, span);
                }
                Place::Cell(cell) => {
                    let reg = self.any_expr(f, value)?;
                    f.emit_set_cell(cell, reg, span);
                }
            },
            (LValue::Var(name), Some(op)) => self.compound_var(f, name, op, value, span)?,
            (
                LValue::Index {
                    array: map,
                    index: key,
                    ..
                },
                op,
            ) if matches!(map.ty, Type::Map(_)) => {
                self.assign_entry(f, map, key, op, value, span)?
            }
            (LValue::Index { array, index, .. }, None) => {
                let arr = self.any_expr(f, array)?;
                let idx = self.any_expr(f, index)?;
                let src = self.any_expr(f, value)?;
                f.emit_set_index(arr, idx, src, span);
            }
            (LValue::Index { array, index, .. }, Some(op)) => {
                // xs, i, read (checked), e, store (checked again).
                let arr = self.any_expr(f, array)?;
                let idx = self.any_expr(f, index)?;
                let cur = f.alloc(span)?;
                f.emit_get_index(cur, arr, idx, span);
                self.binary_into(
                    f,
                    op,
                    &array.ty.elem().cloned().unwrap_or_default(),
                    cur,
                    cur,
                    value,
                    span,
                )?;
                f.emit_set_index(arr, idx, cur, span);
            }
        }
        Ok(())
    }

    /// `m[k] = e` (evaluates `m`, `k`, `e`, then stores) and `m[k] op= e`: reads the
    /// entry (the key must exist), evaluates `e`, then stores through the slot the read
    /// found, which hashes the key once, not twice (the store checks the slot still
    /// holds the key and else inserts, at the end, as the rule for an `e` that removed
    /// it says).
    fn assign_entry(
        &mut self,
        f: &mut FnState,
        map: &Expr,
        key: &Expr,
        op: Option<BinOp>,
        value: &Expr,
        span: Span,
    ) -> Result {
        let m = self.any_expr(f, map)?;
        let k = self.any_expr(f, key)?;
        let Some(op) = op else {
            let src = self.any_expr(f, value)?;
            f.emit_map_set(m, k, src, span);
            return Ok(());
        };
        let cur = f.alloc(span)?;
        let slot = f.alloc(span)?;
        f.emit_map_get_slot(cur, slot, m, k, span);
        let value_ty = match &map.ty {
            Type::Map(kv) => kv.1.clone(),
            _ => Type::Unknown,
        };
        self.binary_into(f, op, &value_ty, cur, cur, value, span)?;
        f.emit_map_set_slot(m, k, slot, cur, span);
        Ok(())
    }

    /// `x op= e`: reads `x`, evaluates `e`, stores.
    fn compound_var(
        &mut self,
        f: &mut FnState,
        name: &Name,
        op: BinOp,
        value: &Expr,
        span: Span,
    ) -> Result {
        let ty = self.var_type(name);
        match self.var_place(name) {
            Place::Reg(reg) => self.binary_into(f, op, &ty, reg, reg, value, span),
            Place::Global(slot) => {
                let cur = f.alloc(span)?;
                f.emit_get_global(cur, slot, span);
                self.binary_into(f, op, &ty, cur, cur, value, span)?;
                f.emit_set_global(slot, cur, span);
                Ok(())
            }
            Place::Cell(cell) => {
                let cur = f.alloc(span)?;
                let k = f.string_const(&name.name, span)?;
                f.emit_get_cell(cur, cell, k, span);
                self.binary_into(f, op, &ty, cur, cur, value, span)?;
                f.emit_set_cell(cell, cur, span);
                Ok(())
            }
        }
    }

    /// The place of an assignable name (a variable: the checker rejects the rest).
    pub(super) fn var_place(&self, name: &Name) -> Place {
        match name.res {
            Res::Local(decl) | Res::Global(decl) => self.place(decl),
            other => unreachable!("assignment to {other:?} passed the checker"),
        }
    }

    fn var_type(&self, name: &Name) -> Type {
        match name.res {
            Res::Local(decl) | Res::Global(decl) => self.info.decls[decl as usize].ty.clone(),
            _ => Type::Unknown,
        }
    }
}
