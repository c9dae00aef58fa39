//! Statements, blocks and function bodies.

use super::bodies;
use super::checker::{Checker, DeclKind, FnCtx};
use super::returns::block_returns;
use super::ty::{compat, is_one_of, numbers_or_strings};
use crate::span::Span;
use crate::syntax::ast::{BinOp, Block, DeclId, Expr, FnDecl, LValue, Name, Res, Stmt, TypeAnn};
use crate::types::Type;

impl Checker {
    /// Checks a statement list in the current scope, after hoisting its functions.
    pub(super) fn stmts(&mut self, stmts: &mut [Stmt]) {
        self.hoist(stmts);
        for s in stmts.iter_mut() {
            self.stmt(s);
        }
        bodies::each_fn(stmts, false, &mut |f| self.body_at_scope_end(f));
    }

    /// Checks the body of a function of the scope being closed, now that all of the
    /// scope's names are bound; in top-level code, only once all globals are known too
    /// (see `check_deferred`), with the scopes that enclose it now.
    fn body_at_scope_end(&mut self, f: &mut FnDecl) {
        if self.ctx.id.is_none() {
            let snapshot = self.scopes[1..].to_vec();
            self.deferred.insert(f.id, snapshot);
        } else {
            self.check_fn(f);
        }
    }

    /// Checks a block in a new scope.
    pub(super) fn block(&mut self, block: &mut Block) {
        self.push_scope();
        self.stmts(&mut block.stmts);
        self.pop_scope();
    }

    /// Checks a loop body: a new scope, inside the loop.
    fn loop_body(&mut self, body: &mut Block) {
        self.ctx.loops += 1;
        self.block(body);
        self.ctx.loops -= 1;
    }

    /// Checks one statement. A thin dispatcher: each kind has its own method, so that the
    /// frames on the recursive path (blocks in blocks) stay small.
    pub(super) fn stmt(&mut self, stmt: &mut Stmt) {
        match stmt {
            Stmt::Let {
                decl,
                mutable,
                name,
                name_span,
                ann,
                init,
                span,
            } => {
                self.let_stmt(*decl, *mutable, name, *name_span, ann.as_ref(), init);
                self.declared_by_let(*decl, span.end);
            }
            Stmt::Fn(f) => self.fn_stmt(f),
            Stmt::Expr(e) => {
                self.expr(e, None);
            }
            Stmt::Assign {
                target, op, value, ..
            } => self.assign(target, *op, value),
            Stmt::IncDec { target, inc, .. } => self.inc_dec(target, *inc),
            Stmt::If {
                cond, then, els, ..
            } => {
                self.condition(cond);
                self.block(then);
                if let Some(els) = els {
                    self.stmt(els);
                }
            }
            Stmt::While { cond, body, .. } => {
                self.condition(cond);
                self.loop_body(body);
            }
            Stmt::For {
                init,
                cond,
                step,
                body,
                ..
            } => self.for_stmt(
                init.as_deref_mut(),
                cond.as_mut(),
                step.as_deref_mut(),
                body,
            ),
            Stmt::ForIn {
                decl,
                name,
                name_span,
                iter,
                body,
                ..
            } => self.for_in(*decl, name, *name_span, iter, body),
            Stmt::Break(span) => self.jump(*span, "break"),
            Stmt::Continue(span) => self.jump(*span, "continue"),
            Stmt::Return(value, span) => self.ret(value.as_mut(), *span),
            Stmt::Block(b) => self.block(b),
        }
    }

    fn let_stmt(
        &mut self,
        decl: DeclId,
        mutable: bool,
        name: &str,
        name_span: Span,
        ann: Option<&TypeAnn>,
        init: &mut Expr,
    ) {
        let ann_ty = ann.map(|a| self.resolve_ann(a, false));
        let init_ty = self.value(init, ann_ty.as_ref());
        let ty = match ann_ty {
            Some(t) => {
                if !compat(&t, &init_ty) {
                    let what = format!("type mismatch in declaration of '{name}'");
                    self.mismatch(init.span, &what, &t, &init_ty);
                }
                t
            }
            None => init_ty,
        };
        let kind = if mutable {
            DeclKind::Var
        } else {
            DeclKind::Let
        };
        self.declare_var(decl, name, name_span, ty, kind);
    }

    /// A function declaration: its body is checked at the end of its scope.
    fn fn_stmt(&mut self, f: &mut FnDecl) {
        if self.fn_info(f.id).is_none() {
            self.declare_fn(f);
        }
    }

    fn inc_dec(&mut self, target: &mut Name, inc: bool) {
        let ty = self.assign_target(target);
        if !is_one_of(&ty, &[Type::Number]) {
            let op = if inc { "++" } else { "--" };
            self.error(
                target.span,
                format!("operator '{op}' needs numbers, found {ty}"),
            );
        }
    }

    fn for_stmt(
        &mut self,
        init: Option<&mut Stmt>,
        cond: Option<&mut Expr>,
        step: Option<&mut Stmt>,
        body: &mut Block,
    ) {
        let (mut init, mut cond, mut step) = (init, cond, step);
        self.push_scope();
        if let Some(init) = init.as_deref_mut() {
            self.stmt(init);
        }
        if let Some(cond) = cond.as_deref_mut() {
            self.condition(cond);
        }
        if let Some(step) = step.as_deref_mut() {
            // The step of a header variable runs on the next iteration's copy, so
            // closures of an iteration never see it: it does not count as a write,
            // unless the step itself makes a closure.
            let header = match init.as_deref() {
                Some(Stmt::Let { decl, .. }) => Some((*decl, self.writes(*decl))),
                _ => None,
            };
            self.stmt(step);
            let mut makes_closure = false;
            bodies::each_fn(std::slice::from_mut(step), false, &mut |_| {
                makes_closure = true
            });
            if let (Some((decl, writes)), false) = (header, makes_closure) {
                self.forget_writes(decl, writes);
            }
        }
        self.loop_body(body);
        bodies::for_header(init, cond, step, &mut |f| self.body_at_scope_end(f));
        self.pop_scope();
    }

    fn for_in(
        &mut self,
        decl: DeclId,
        name: &str,
        name_span: Span,
        iter: &mut Expr,
        body: &mut Block,
    ) {
        let it = self.value(iter, None);
        let elem = self.iterated(&it, iter.span);
        self.push_scope();
        self.declare_var(decl, name, name_span, elem, DeclKind::LoopVar);
        self.loop_body(body);
        self.pop_scope();
    }

    /// The element type of a `for in` over a value of type `it`.
    fn iterated(&mut self, it: &Type, span: Span) -> Type {
        match it {
            Type::Array(e) => (**e).clone(),
            // A map's keys.
            Type::Map(kv) => kv.0.clone(),
            Type::Unknown => Type::Unknown,
            other => {
                self.error(
                    span,
                    format!("for-in needs an array or a map, found {other}"),
                );
                Type::Unknown
            }
        }
    }

    /// `break` or `continue`.
    fn jump(&mut self, span: Span, what: &str) {
        if self.ctx.loops == 0 {
            self.error(span, format!("{what} outside of a loop"));
        }
    }

    fn condition(&mut self, cond: &mut Expr) {
        let t = self.value(cond, Some(&Type::Bool));
        if !is_one_of(&t, &[Type::Bool]) {
            self.error(cond.span, format!("condition must be bool, found {t}"));
        }
    }

    fn ret(&mut self, value: Option<&mut Expr>, span: Span) {
        if self.ctx.id.is_none() {
            self.error(span, "return outside of a function");
            if let Some(v) = value {
                self.expr(v, None);
            }
            return;
        }
        let ret = self.ctx.ret.clone();
        let name = self.ctx.name.clone();
        match value {
            None => {
                if !is_one_of(&ret, &[Type::Void]) {
                    self.error(
                        span,
                        format!("missing return value: '{name}' must return a value of type {ret}"),
                    );
                }
            }
            Some(v) if ret == Type::Void => {
                let t = self.value(v, None);
                if t != Type::Unknown {
                    self.error(
                        v.span,
                        format!(
                            "type mismatch in return value of '{name}': expected void, found {t}"
                        ),
                    );
                }
            }
            Some(v) => {
                let t = self.value(v, Some(&ret));
                if !compat(&ret, &t) {
                    self.error(
                        v.span,
                        format!(
                            "type mismatch in return value of '{name}': expected {ret}, found {t}"
                        ),
                    );
                }
            }
        }
    }

    /// Resolves a variable being assigned (`x = e`, `x += e`, `x++`) and returns its type;
    /// reports assignments to `let` bindings, loop variables and functions.
    fn assign_target(&mut self, target: &mut Name) -> Type {
        let (res, ty) = self.lookup(&target.name, target.span);
        target.res = res;
        let name = &target.name;
        match res {
            Res::Func(_) | Res::Builtin(_) | Res::Host(_) => {
                self.error(target.span, format!("cannot assign to function '{name}'"));
                Type::Unknown
            }
            Res::Local(d) | Res::Global(d) => {
                self.assigned(d);
                match self.decl_kind(d) {
                    DeclKind::Let => self.error(
                        target.span,
                        format!("cannot assign to '{name}': it is declared with let"),
                    ),
                    DeclKind::LoopVar => self.error(
                        target.span,
                        format!("cannot assign to loop variable '{name}'"),
                    ),
                    DeclKind::Var | DeclKind::Param => {}
                }
                ty
            }
            Res::Unresolved => Type::Unknown,
        }
    }

    fn assign(&mut self, target: &mut LValue, op: Option<BinOp>, value: &mut Expr) {
        let (target_ty, target_span, what) = match target {
            LValue::Var(name) => {
                let t = self.assign_target(name);
                (t, name.span, format!(" to '{}'", name.name))
            }
            LValue::Index { array, index, span } => {
                let t = self.index(array, index, *span);
                (t, *span, String::new())
            }
        };
        let vt = self.value(value, Some(&target_ty));
        match op {
            None => {
                if !compat(&target_ty, &vt) {
                    self.error(
                        value.span,
                        format!(
                            "type mismatch in assignment{what}: expected {target_ty}, found {vt}"
                        ),
                    );
                }
            }
            Some(BinOp::Add) => {
                let ok = numbers_or_strings(&target_ty, &vt);
                if !ok {
                    self.error(
                        target_span,
                        format!(
                            "operator '+=' needs two numbers or two strings, found {target_ty} and {vt}"
                        ),
                    );
                }
            }
            Some(op) => {
                let sym = op.symbol();
                if !is_one_of(&target_ty, &[Type::Number]) {
                    self.error(
                        target_span,
                        format!("operator '{sym}=' needs numbers, found {target_ty}"),
                    );
                } else if !is_one_of(&vt, &[Type::Number]) {
                    self.error(
                        value.span,
                        format!("operator '{sym}=' needs numbers, found {vt}"),
                    );
                }
            }
        }
    }

    /// Checks a function's parameters and body (the signature is already recorded).
    pub(super) fn check_fn(&mut self, f: &mut FnDecl) {
        let outer = self.enter_fn(f);
        self.block(&mut f.body);
        self.leave_fn(f, outer);
    }

    /// Starts checking function `f`: its context and its parameters' scope. Returns the
    /// enclosing context, for [`Checker::leave_fn`].
    fn enter_fn(&mut self, f: &FnDecl) -> FnCtx {
        if self.fn_info(f.id).is_none() {
            self.declare_fn(f);
        }
        let (params, ret) = match self.fn_type(f.id) {
            Type::Func(ft) => (ft.params.clone(), ft.ret.clone()),
            _ => (Vec::new(), Type::Unknown),
        };
        let outer = std::mem::replace(
            &mut self.ctx,
            FnCtx {
                id: Some(f.id),
                name: f.name.clone(),
                ret,
                loops: 0,
            },
        );
        self.push_scope();
        for (i, p) in f.params.iter().enumerate() {
            let ty = params.get(i).cloned().unwrap_or(Type::Unknown);
            // `Param::span` covers `name: Type`; identifiers are ASCII.
            let end = (p.span.start + p.name.len() as u32).min(p.span.end);
            let name_span = Span::new(p.span.start, end);
            self.declare_var(p.decl, &p.name, name_span, ty, DeclKind::Param);
        }
        outer
    }

    /// Finishes checking function `f` (its body is checked): the "returns on every path"
    /// rule, then back to the enclosing context.
    fn leave_fn(&mut self, f: &FnDecl, outer: FnCtx) {
        self.pop_scope();
        let ret = &self.ctx.ret;
        if !is_one_of(ret, &[Type::Void]) && !block_returns(&f.body) {
            let msg = if f.name.is_empty() {
                format!("function expression must return a value of type {ret} on every path")
            } else {
                format!(
                    "function '{}' must return a value of type {ret} on every path",
                    f.name
                )
            };
            self.error(f.name_span, msg);
        }
        self.ctx = outer;
    }

    /// Checks the bodies of the functions declared in top-level code (at any depth of
    /// top-level blocks and loops), each with the scopes that enclosed its declaration.
    pub(super) fn check_deferred(&mut self, stmts: &mut [Stmt]) {
        bodies::each_fn(stmts, true, &mut |f| {
            let snapshot = self.deferred.remove(&f.id).unwrap_or_default();
            self.scopes.truncate(1);
            self.scopes.extend(snapshot);
            self.check_fn(f);
            self.scopes.truncate(1);
        });
    }
}
